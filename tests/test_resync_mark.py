"""A call learned from a re-sync (schema `resync_at`): its state, verdict and wire form.

Pure domain: the events go through the real `CallTracker`; the AMI and ESL sources
that set the field are tested against scripted PBXes in tests/test_ami_board.py and
tests/test_source_freeswitch.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from classifier.schema import CallStarted, event_from_dict, parse_event
from classifier.tracker import CallTracker
from classifier.verdict import Verdict

RESYNC = datetime(2026, 11, 23, 10, 0, 3, tzinfo=UTC)


def _verdict(started: datetime) -> Verdict:
    tracker = CallTracker()
    events = [
        {"type": "call.started", "call_id": "c1", "ts": started, "resync_at": RESYNC},
        {"type": "queue.entered", "call_id": "c1", "ts": started, "queue": "sales"},
        {
            "type": "call.ended",
            "call_id": "c1",
            "ts": RESYNC + timedelta(seconds=20),
            "by": "caller",
        },
    ]
    verdict = None
    for data in events:
        verdict = tracker.apply(event_from_dict(data)).verdict
    assert verdict is not None
    return verdict


def test_a_wait_the_pbx_told_is_counted_from_the_join() -> None:
    verdict = _verdict(RESYNC - timedelta(seconds=42))
    assert verdict.wait_s == 62
    assert verdict.flags == ("joined from a re-sync at 10:00:03: earlier steps unknown",)
    assert verdict.detail.endswith("; joined from a re-sync at 10:00:03: earlier steps unknown")
    assert verdict.record()["flags"] == list(verdict.flags)


def test_a_wait_the_pbx_did_not_tell_is_said_to_count_from_the_resync() -> None:
    verdict = _verdict(RESYNC)
    assert verdict.wait_s == 20
    assert verdict.detail.endswith(
        "joined from a re-sync at 10:00:03: earlier steps unknown; wait counted from the re-sync"
    )


def test_the_field_is_optional_and_absent_stays_absent_on_the_wire() -> None:
    line = '{"type": "call.started", "call_id": "c1", "ts": "2026-11-23T10:00:00+00:00"}'
    event = parse_event(line)
    assert isinstance(event, CallStarted) and event.resync_at is None
    assert "resync_at" not in event.to_json()
    marked = parse_event(line[:-1] + ', "resync_at": "2026-11-23T10:00:03Z"}')
    assert isinstance(marked, CallStarted) and marked.resync_at == RESYNC
    assert parse_event(marked.to_json()) == marked
