"""Recorded AMI sessions (format asterisk-ami): real recordings, raw text, bad input.

The recordings are real (cacofonisk, panoramisk: see ../shared/realdata/LIVE.md).
Each scenario's verdict below was worked out by hand from its file name and its
events before looking at callboard's output:

* ast11 queue_simple: AgentCalled ID690150, AgentConnect HoldTime 9, AgentComplete
  TalkTime 5 Reason caller: answered after 9 s, talked 5 s;
* ast11 queue_group: two members rung (ringall), ID690152 connects after 4 s;
* ast11 queue_attn_xfer: ID690151 answers after 2 s, AgentComplete Reason transfer;
* ast11 queue_blind_xfer: ID690151 rung, then Transfer of the caller to
  203@osvpi_account_transfer (the recorder saw no AgentConnect: the transfer says
  someone had the call);
* ast13 queue_a_cancel: QueueCallerAbandon after HoldTime 11, nobody rung: the
  caller abandoned in the queue.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.sources import detect_format, iter_source
from monitor.sources.ami_wire import BlockSplitter, encode
from monitor.sources.asterisk_ami import AmiMapper
from monitor.sources.reader import LineError
from tests.ami_support import AMI, BANNER, recording, text_recording, wire_text
from tests.cli_support import callboard

#: recording -> (outcome, reason, agents rung, wait s, talk s, words in the detail)
BY_HAND = {
    "cacofonisk-ast11-release-0.4/queue_simple.json": (
        "completed",
        "answered",
        ["ID690150"],
        9.0,
        5.0,
        "answered by ID690150",
    ),
    "cacofonisk-ast11-release-0.4/queue_group.json": (
        "completed",
        "answered",
        ["ID690152", "ID690150"],
        4.0,
        14.0,
        "answered by ID690152",
    ),
    "cacofonisk-ast11-release-0.4/queue_attn_xfer.json": (
        "completed",
        "answered",
        ["ID690151"],
        2.0,
        16.0,
        "answered by ID690151",
    ),
    "cacofonisk-ast11-release-0.4/queue_blind_xfer.json": (
        "completed",
        "answered",
        ["ID690151"],
        2.0,
        0.0,
        "transferred to 203@osvpi_account_transfer",
    ),
    "cacofonisk-ast13/queue/queue_a_cancel.json": (
        "abandoned",
        "queue_hangup",
        [],
        11.0,
        0.0,
        "hung up in queue 670100-540100 after 11s",
    ),
}


def _verdicts(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_classify_reads_the_real_recordings_as_their_scenarios_say() -> None:
    for name, (outcome, reason, rung, wait, talk, words) in BY_HAND.items():
        done = callboard("classify", str(AMI / name))
        assert done.returncode == 0, done.stderr
        assert "detected format: asterisk-ami" in done.stderr
        [verdict] = _verdicts(done.stdout)
        assert (verdict["outcome"], verdict["reason"]) == (outcome, reason), name
        assert verdict["agents_rung"] == rung, name
        assert (verdict["wait_s"], verdict["talk_s"]) == (wait, talk), name
        assert words in str(verdict["detail"]), (name, verdict["detail"])


@pytest.mark.slow
def test_raw_text_gives_the_same_verdicts_as_the_json_recording(tmp_path: Path) -> None:
    # The same sessions as the wire carries them (CRLF), and as LF with a CLI's
    # 'manager set debug on' lines in between: same verdicts, the strays counted.
    for name in BY_HAND:
        blocks = recording(name)
        crlf = tmp_path / "crlf.txt"
        crlf.write_bytes(wire_text(blocks))
        lf = tmp_path / "lf.txt"
        debug = b"<--- Examining AMI action: -->\n"
        lf.write_bytes(BANNER + debug.join(encode(b).replace(b"\r\n", b"\n") for b in blocks))
        want = _verdicts(callboard("classify", str(AMI / name)).stdout)
        for path in (crlf, lf):
            done = callboard("classify", str(path))
            assert "detected format: asterisk-ami" in done.stderr
            assert _verdicts(done.stdout) == want, (name, path.name)
        done = callboard("classify", "--from", "asterisk-ami", str(lf))
        assert "lines that are not 'Key: Value'" in done.stderr


def test_the_chatty_events_are_counted_not_reported() -> None:
    items = iter_source(AMI / "panoramisk" / "originate_with_events.yaml", "asterisk-ami")
    errors = [i for i in items if isinstance(i, LineError)]
    assert errors == []
    counts = {what: n for what, _why, n in items.skipped.rows()}
    assert counts["VarSet"] == 269 and counts["Newexten"] == 136 and counts["AGIExec"] == 260


def test_a_queue_status_answer_gives_every_member_state() -> None:
    # panoramisk's recorded QueueStatus answer: six members, Agent/999 paused. Fed as
    # the live client feeds it (dated on arrival): the file alone gives no time, so
    # read from the file its members are counted, not dated (test_source_ami_times).
    mapper = AmiMapper()
    now = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)
    dicts = [d for b in text_recording("panoramisk/queue_status.yaml") for d in mapper.feed(b, now)]
    states = {d["agent"]: d["status"] for d in dicts}
    assert states == {
        "220": "available",
        "213": "available",
        "859": "available",
        "214": "available",
        "333": "available",
        "999": "paused",
    }


def test_detection_tells_ami_from_the_other_formats(tmp_path: Path) -> None:
    assert detect_format(AMI / "cacofonisk-ast13" / "queue" / "queue_simple.json") == "asterisk-ami"
    assert detect_format(AMI / "panoramisk" / "agent_not_in_pause.yaml") == "asterisk-ami"
    text = tmp_path / "session.txt"
    text.write_bytes(wire_text(recording("cacofonisk-ast11-release-0.4/queue_simple.json")))
    assert detect_format(text) == "asterisk-ami"


def test_bad_input_is_counted_and_named_and_the_rest_is_read(tmp_path: Path) -> None:
    good = recording("cacofonisk-ast11-release-0.4/queue_simple.json")
    bad = (
        b"Event: AgentConnect\r\nUniqueid: never-seen.1\r\nMemberName: SIP/9\r\n\r\n"
        b"Event: AgentComplete\r\nUniqueid: never-seen.2\r\nReason: caller\r\n\r\n"
        b"Event: SomethingNew\r\nUniqueid: x\r\n\r\n"
        b"Event: QueueCallerJoin\r\nthis line is broken\r\nQueue: sales\r\n\r\n"
        b"Event: VarSet\r\nValue: " + b"x" * 1_000_000 + b"\r\nUniqueid: y\r\n\r\n"
    )
    path = tmp_path / "session.txt"
    path.write_bytes(wire_text(good[:20]) + bad + b"".join(encode(b) for b in good[20:]))
    done = callboard("classify", "--from", "asterisk-ami", str(path))
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if "session.txt:" in line]
    assert any(
        "AgentConnect: call never-seen.1 was never seen joining a queue" in e for e in errors
    )
    assert any(
        "AgentComplete: call never-seen.2 was never seen joining a queue" in e for e in errors
    )
    assert any("QueueCallerJoin: no Uniqueid" in e for e in errors)
    assert any("line is 1000007 bytes, over the 64 KiB limit" in e for e in errors)
    assert "SomethingNew" in done.stderr  # counted in the skipped table
    # The call around the bad blocks is still read whole.
    [verdict] = _verdicts(done.stdout)
    assert verdict["outcome"] == "completed" and verdict["talk_s"] == 5.0


def test_the_splitter_bounds_what_one_message_costs() -> None:
    splitter = BlockSplitter()
    assert splitter.feed("Event: VarSet\r\n") is None
    assert splitter.feed("Value: " + "v" * 100_000 + "\r\n") is None
    for n in range(1000):
        splitter.feed(f"K{n}: v\r\n")
    block = splitter.feed("\r\n")
    assert block is not None and len(block) == 256 and len(block["Value"]) == 4096
    assert splitter.flaws == ["value of Value is 100000 bytes", "more than 256 keys"]


def test_dialplan_ivr_queue_timeout_and_voicemail_as_the_docs_describe() -> None:
    # Not in any recording: event shapes from the Asterisk 18 reference pages
    # (Newexten, QueueCallerJoin, VarSet, QueueCallerLeave, Hangup).
    mapper = AmiMapper()
    uid = "1700000000.10"
    base = {"Uniqueid": uid, "Channel": "PJSIP/trunk-0001", "CallerIDNum": "5550100"}
    events = [
        {
            **base,
            "Event": "Newexten",
            "Application": "Playback",
            "Context": "welcome",
            "Timestamp": "1700000001",
        },
        {
            **base,
            "Event": "Newexten",
            "Application": "Background",
            "Context": "menu",
            "Timestamp": "1700000005",
        },
        {
            **base,
            "Event": "Newexten",
            "Application": "Background",
            "Context": "menu",
            "Timestamp": "1700000006",
        },
        {**base, "Event": "QueueCallerJoin", "Queue": "sales", "Timestamp": "1700000010"},
        {**base, "Event": "QueueCallerLeave", "Queue": "sales", "Timestamp": "1700000070"},
        {
            **base,
            "Event": "VarSet",
            "Variable": "QUEUESTATUS",
            "Value": "TIMEOUT",
            "Timestamp": "1700000070",
        },
        {
            **base,
            "Event": "Newexten",
            "Application": "VoiceMail",
            "Context": "vm",
            "Timestamp": "1700000071",
        },
        {
            **base,
            "Event": "Hangup",
            "Cause": "16",
            "Cause-txt": "Normal Clearing",
            "Timestamp": "1700000090",
        },
    ]
    out = [d for e in events for d in mapper.feed(e)]
    assert [d["type"] for d in out] == [
        "call.started",
        "greeting.started",
        "ivr.entered",
        "queue.entered",
        "voicemail.started",
        "call.ended",
    ]
    assert out[0]["ts"].timestamp() == 1700000001 and out[2]["menu"] == "menu"
    assert out[4]["via"] == "queue"
    assert out[5]["by"] == "caller" and out[5]["cause"] == "Normal Clearing"
