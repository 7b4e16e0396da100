"""The Asterisk queue_log adapter: every event it maps, both layouts, and bad lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from classifier.schema import AgentStatus, CallEnded, CallStarted, CallTransferred
from monitor.sources import iter_source
from monitor.sources.asterisk import QueueLogAdapter, agent_name
from monitor.sources.reader import LineError, LineEvent
from tests.cli_support import ROOT, callboard

FIXTURES = ROOT / "fixtures" / "asterisk"


def classify(path: Path, *extra: str) -> tuple[dict[str, dict[str, object]], str, int]:
    done = callboard("classify", "--include-open", *extra, str(path))
    records = {str(r["call_id"]): r for r in map(json.loads, done.stdout.splitlines())}
    return records, done.stderr, done.returncode


def test_new_layout_every_call_event_reaches_the_verdict_the_seed_gives() -> None:
    got, stderr, status = classify(FIXTURES / "new_layout.queue_log")
    assert status == 0, stderr
    assert "detected format: asterisk-queue-log" in stderr
    verdicts = {cid: (r["outcome"], r["reason"]) for cid, r in got.items()}
    assert verdicts == {
        # RINGNOANSWER from 2001, then CONNECT by 2002: answered, completed.
        "1763900005.1": ("completed", "answered"),
        # ABANDON, nobody rung: hung up in the queue.
        "1763900195.3": ("abandoned", "queue_hangup"),
        # RINGCANCELED (caller hung up while 2001 rang), then ABANDON: rang, missed.
        "1763900299.4": ("missed", "agent_not_answered"),
        # EXITEMPTY: the queue had no reachable member and sent the caller out.
        "1763900399.5": ("missed", "no_agent_available"),
        # EXITWITHTIMEOUT, nobody rung: the queue gave up, not the caller.
        "1763900499.6": ("missed", "no_agent_available"),
        # The same callid enters a second queue: a second call, answered there.
        "1763900499.6#2": ("completed", "answered"),
        # EXITWITHKEY: the caller chose to leave the queue before any agent rang.
        "1763900690.8": ("abandoned", "queue_hangup"),
        # CONNECT then TRANSFER: answered, then handed on.
        "1763900795.9": ("completed", "answered"),
        # AGENTDUMP (2001 declined at the announcement), then ABANDON: missed.
        "1763900999.11": ("missed", "agent_not_answered"),
        # Still ringing out when the log ends.
        "1763901590.12": (None, None),
    }
    first = got["1763900005.1"]
    assert first["agents_rung"] == ["2001", "2002"]
    assert (first["wait_s"], first["talk_s"]) == (21.0, 120.0)
    assert "transferred to 3000@internal" in str(got["1763900795.9"]["detail"])
    assert "queue timeout" in str(got["1763900499.6"]["detail"])
    assert "rejected" in str(got["1763900999.11"]["detail"])


def test_old_layout_with_fewer_fields_is_read_too() -> None:
    got, stderr, status = classify(FIXTURES / "old_layout.queue_log")
    assert status == 0, stderr
    assert {cid: (r["outcome"], r["reason"]) for cid, r in got.items()} == {
        # CONNECT(holdtime) only, COMPLETEAGENT(holdtime|calltime).
        "1134000095.1": ("completed", "answered"),
        "1134000195.2": ("abandoned", "queue_hangup"),
        # TRANSFER(extension|context) without times.
        "1134000295.3": ("completed", "answered"),
        # ENTERQUEUE without the url field; EXITWITHTIMEOUT(position) only.
        "1134000495.4": ("missed", "no_agent_available"),
    }
    assert (got["1134000095.1"]["wait_s"], got["1134000095.1"]["talk_s"]) == (10.0, 60.0)


def test_old_layout_caller_id_and_logoff_reason() -> None:
    events = [
        item.event
        for item in iter_source(FIXTURES / "old_layout.queue_log", "asterisk-queue-log")
        if isinstance(item, LineEvent)
    ]
    starts = {e.call_id: e.from_ for e in events if isinstance(e, CallStarted)}
    assert starts["1134000095.1"] == "5552001"
    assert starts["1134000495.4"] == "5552004"
    logoff = [e for e in events if isinstance(e, AgentStatus)][-1]
    assert (logoff.agent, logoff.status.value, logoff.reason) == ("301", "offline", "Autologoff")


def test_events_carry_the_log_facts() -> None:
    items = list(iter_source(FIXTURES / "new_layout.queue_log", "asterisk-queue-log"))
    assert not [i for i in items if isinstance(i, LineError)]
    call_a = [
        i.event for i in items if isinstance(i, LineEvent) and i.event.call_id == "1763900005.1"
    ]
    assert [e.type for e in call_a] == [
        "call.started",
        "queue.entered",
        "agent.ringing",
        "agent.no_answer",
        "agent.ringing",
        "agent.answered",
        "call.ended",
    ]
    started = call_a[0]
    assert isinstance(started, CallStarted)
    # The DID line gives the number dialled; ENTERQUEUE's data2 the caller.
    assert (started.from_, started.to) == ("5551001", "5550100")
    assert started.ts == datetime.fromtimestamp(1763900010, UTC)
    # CONNECT's ring time (5 s) puts the ring before the answer.
    assert call_a[4].ts == datetime.fromtimestamp(1763900026, UTC)
    assert call_a[5].ts == datetime.fromtimestamp(1763900031, UTC)
    ended = call_a[-1]
    assert isinstance(ended, CallEnded) and ended.by.value == "caller"
    transfer = [
        i.event for i in items if isinstance(i, LineEvent) and isinstance(i.event, CallTransferred)
    ]
    assert [t.to for t in transfer] == ["3000@internal"]


def test_ring_start_never_goes_before_the_calls_previous_event() -> None:
    adapter = QueueLogAdapter()
    lines = [
        b"1000000000|1.1|q|NONE|ENTERQUEUE||555|1",
        # 15 s of ringing reported 10 s after entering: the ring cannot start
        # before the call entered the queue.
        b"1000000010|1.1|q|SIP/7|RINGNOANSWER|15000",
    ]
    items = [i for n, raw in enumerate(lines, 1) for i in adapter.feed("t", n, raw)]
    events = [i.event for i in items if isinstance(i, LineEvent)]
    assert len(events) == len(items) == 4
    ringing = events[2]
    assert ringing.type == "agent.ringing"
    assert ringing.ts == datetime.fromtimestamp(1000000000, UTC)


def test_presence_follows_members_logins_and_pauses() -> None:
    items = list(iter_source(FIXTURES / "new_layout.queue_log", "asterisk-queue-log"))
    presence = [
        (e.agent, e.status.value, e.reason)
        for e in (i.event for i in items if isinstance(i, LineEvent))
        if isinstance(e, AgentStatus)
    ]
    assert presence == [
        ("2001", "available", "added to queue sales"),
        ("2001", "available", "added to queue support"),
        ("2002", "available", "logged in"),
        ("2002", "available", "added to queue sales"),
        ("2001", "paused", "lunch"),
        ("2001", "available", None),
        # Removed from sales but still in support: no change; then from support.
        ("2001", "offline", "removed from queue support"),
        ("2002", "offline", "logged off"),
    ]


def test_agent_names_are_one_per_person() -> None:
    assert agent_name("Agent/1127") == "1127"
    assert agent_name("Local/1127@callback-agent") == "1127"
    assert agent_name("Local/1127@from-queue/n") == "1127"
    assert agent_name("SIP/1127") == "1127"
    assert agent_name("PJSIP/alice") == "alice"
    assert agent_name("Alice Smith") == "Alice Smith"


def test_skipped_lines_are_counted_with_a_reason() -> None:
    items = iter_source(FIXTURES / "new_layout.queue_log", "asterisk-queue-log")
    list(items)
    rows = {what: (why, count) for what, why, count in items.skipped.rows()}
    assert rows["QUEUESTART"] == ("start-up or reload marker, no call in it (first at line 1)", 1)
    assert rows["CONFIGRELOAD"][1] == 1
    assert rows["REMOVEMEMBER"][0].startswith("member still in other queues")


def test_malformed_lines_are_reported_by_line_number_and_the_rest_is_read() -> None:
    got, stderr, status = classify(FIXTURES / "malformed.queue_log")
    assert status == 1, "rejected lines make the exit status 1"
    source = str(FIXTURES / "malformed.queue_log")
    for line, problem in [
        (2, "1 '|'-separated fields, a queue_log line has at least 5"),
        (3, "3 '|'-separated fields"),
        (4, "time 'notatime' is not a Unix epoch"),
        (5, "RINGNOANSWER: ring time 'abc' is not a number"),
        (6, "ABANDON: a call event needs a call id, got 'NONE'"),
        (8, "CONNECT: this event needs an agent, got 'NONE'"),
        (9, "ENTERQUEUE: call.started: field 'call_id'"),
    ]:
        assert f"{source}:{line}: {problem}" in stderr, (line, stderr)
    # The unknown event and the second ABANDON are set aside, not errors.
    assert "skipped FROBNICATE" in stderr
    assert "skipped ABANDON" in stderr
    assert got["1763901999.1"]["outcome"] == "abandoned"
    # A hostile caller id and undecodable bytes are kept as text, not fatal.
    assert got["1763902021.2"]["outcome"] == "abandoned"
    assert got["1763902039.3"]["outcome"] is None
    # An event name with markup and an escape sequence is listed as plain text.
    assert "skipped [bold red]X" in stderr
    assert "\x1b" not in stderr
