"""A recorded event socket session (`--from freeswitch-esl`): read by classify, detected by content.

The recordings are written from the documentation's mod_callcenter examples
(../shared/realdata/freeswitch, via tests/esl_support.py) in both shapes a person
would save: the wire frames as the socket sent them, and the bare event blocks.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_support import callboard
from tests.esl_support import callcenter_event, event_frame


def calls() -> list[dict[str, str]]:
    return [
        callcenter_event("member-queue-start", "m1", 0),
        callcenter_event("members-count", "", 0),
        callcenter_event("agent-offering", "m1", 5),
        callcenter_event("bridge-agent-start", "m1", 9),
        callcenter_event("member-queue-end", "m1", 10, cause="Terminated"),
        callcenter_event("bridge-agent-end", "m1", 200),
        callcenter_event("member-queue-start", "m2", 20),
        callcenter_event(
            "member-queue-end", "m2", 80, cause="Cancel", CC_Cancel_Reason="BREAK_OUT"
        ),
    ]


def classify(path: Path, *extra: str) -> tuple[dict[str, tuple[str, str]], str, int]:
    done = callboard("classify", *extra, str(path))
    records = [json.loads(line) for line in done.stdout.splitlines()]
    return (
        {r["call_id"]: (r["outcome"], r["reason"]) for r in records},
        done.stderr,
        done.returncode,
    )


def test_wire_frames_are_detected_and_classified(tmp_path: Path) -> None:
    path = tmp_path / "session.esl"
    path.write_bytes(b"".join(event_frame(e) for e in calls()))
    got, stderr, status = classify(path)
    assert status == 0, stderr
    assert "detected format: freeswitch-esl" in stderr
    assert got == {"m1": ("completed", "answered"), "m2": ("abandoned", "queue_hangup")}
    assert "members-count" in stderr  # set aside, counted in the summary


def test_bare_event_blocks_read_the_same(tmp_path: Path) -> None:
    # As fs_cli prints them, and the file ends right after the last event's last line.
    path = tmp_path / "events.txt"
    blocks = ["".join(f"{k}: {v}\n" for k, v in e.items()) for e in calls()]
    path.write_text("\n".join(blocks))
    got, stderr, status = classify(path, "--from", "freeswitch-esl")
    assert status == 0, stderr
    assert got == {"m1": ("completed", "answered"), "m2": ("abandoned", "queue_hangup")}


def test_broken_blocks_are_reported_with_their_line_and_the_rest_is_read(tmp_path: Path) -> None:
    untimed = callcenter_event("member-queue-start", "m9", 0)
    del untimed["Event-Date-Timestamp"]
    text = (
        "Event-Name: CUSTOM\nthis line has no colon\n\n"
        + "".join(f"{k}: {v}\n" for k, v in untimed.items())
        + "\n"
    )
    path = tmp_path / "broken.esl"
    path.write_bytes(text.encode() + b"".join(event_frame(e) for e in calls()))
    got, stderr, status = classify(path, "--from", "freeswitch-esl")
    assert got == {"m1": ("completed", "answered"), "m2": ("abandoned", "queue_hangup")}
    assert status == 1
    assert f"{path}:2: not a 'Key: Value' line: 'this line has no colon'" in stderr
    assert f"{path}:4: a recorded event needs its Event-Date-Timestamp" in stderr
