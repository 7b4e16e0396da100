"""A call in progress carried as its state (`classifier.call_state.OpenCall`) goes on as if
it had never been cut: the snapshot's compact calls classify exactly as the full events did.

Every fixture log and the real Asterisk queue_log are applied to one tracker from start to
end; at several cut points the calls in progress go through a real snapshot frame
(`encode_snapshot` -> `decode_hub_message`, the wire a subscriber reads) into a fresh
tracker, which then gets the events after the cut that the continuous tracker applied
(the events a hub relays). Every call that ends after a cut must get the same verdict
from the resumed tracker as from the continuous one, and the calls still open at the end
the same state.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from classifier.call_state import OpenCall, summary
from classifier.tracker import CallTracker, Result, call_from_events
from classifier.verdict import Verdict
from monitor.feed.protocol import (
    PROTOCOL_VERSION,
    FrameError,
    ProtocolMismatch,
    Snapshot,
    SourceStatus,
    decode_hub_message,
    encode_snapshot,
)
from monitor.sources import choose_format, iter_source
from monitor.sources.reader import LineEvent
from tests.cli_support import REAL_QUEUE_LOG, ROOT
from tests.hub_support import make_calls

FIXTURES = ROOT / "fixtures"
#: Where the logs are cut, as fractions of their events.
CUTS = (0.1, 0.25, 0.5, 0.75, 0.9)


def _logs() -> list[Path]:
    """Every log under fixtures/ that classify reads, and the real queue_log."""
    logs = []
    for path in sorted(FIXTURES.rglob("*")):
        name = path.name
        if ".expected." in name or path.parent.name == "call_details_dir":
            continue
        if name.endswith((".jsonl", ".jsonl.gz", ".queue_log", "_array.json")) or (
            path.is_dir() and name == "call_details_dir"
        ):
            logs.append(path)
    return [*logs, REAL_QUEUE_LOG]


def _params() -> list[object]:
    # The simulated day (thousands of calls in progress at each cut) takes seconds.
    return [
        pytest.param(log, marks=pytest.mark.slow) if log.name == "day.jsonl.gz" else log
        for log in _logs()
    ]


def _through_the_wire(tracker: CallTracker, seq: int) -> Snapshot:
    """The tracker's calls in progress as a subscriber reads them from a snapshot frame."""
    text = encode_snapshot("hub-1", seq, list(tracker), [], SourceStatus(), 0.0)
    (frame,) = decode_hub_message(text)
    assert isinstance(frame, Snapshot)
    return frame


@pytest.mark.parametrize("log", _params(), ids=lambda p: str(p.name))
def test_a_call_resumed_from_its_state_classifies_as_it_would_have(log: Path) -> None:
    fmt, _ = choose_format(log, None)
    events = [item.event for item in iter_source(log, fmt) if isinstance(item, LineEvent)]
    assert events, log
    cuts = sorted({int(len(events) * f) for f in CUTS})
    continuous = CallTracker()
    verdicts: dict[str, Verdict] = {}
    resumed: list[tuple[CallTracker, dict[str, Verdict]]] = []
    carried = 0
    for i, event in enumerate(events):
        if i in cuts:
            for call in continuous:
                # The hub rebuilds a call's state from its first events when it has moved on.
                assert OpenCall.of(call_from_events(call.events)) == OpenCall.of(call)
            snapshot = _through_the_wire(continuous, i)
            assert [OpenCall.of(c) for c in snapshot.calls] == [OpenCall.of(c) for c in continuous]
            tracker = CallTracker()
            snapshot.load_into(tracker)
            carried += len(snapshot.calls)
            resumed.append((tracker, {}))
        applied = continuous.apply(event)
        if applied.result is not Result.APPLIED:
            continue  # a hub relays only what it applied
        if applied.verdict is not None:
            verdicts[event.call_id] = applied.verdict
        for tracker, got in resumed:
            again = tracker.apply(event)
            assert again.result is Result.APPLIED, (log, i, again.problem)
            if again.verdict is not None:
                got[event.call_id] = again.verdict
    for tracker, got in resumed:
        for call_id, verdict in got.items():
            assert verdict == verdicts[call_id], (log, call_id)
        # Still open at the end: the same state.
        assert [OpenCall.of(c) for c in tracker] == [OpenCall.of(c) for c in continuous]
    if len(events) > 50:
        assert carried > 0, f"{log}: no call was in progress at any cut"


def test_the_snapshot_says_its_protocol_and_another_one_is_refused_by_name() -> None:
    tracker = CallTracker()
    for event in make_calls(3)[:7]:
        tracker.apply(event)
    text = encode_snapshot("hub-1", 7, list(tracker), [], SourceStatus(), 0.0)
    assert f'"protocol":{PROTOCOL_VERSION}' in text
    old = text.replace(f'"protocol":{PROTOCOL_VERSION}', '"protocol":1')
    with pytest.raises(ProtocolMismatch, match="the hub speaks protocol 1, this callboard speaks"):
        decode_hub_message(old)


def test_the_story_of_a_resumed_call_says_its_steps_were_summarised() -> None:
    tracker = CallTracker()
    for event in make_calls(1)[:4]:
        tracker.apply(event)
    (call,) = tracker
    text = summary(call)
    assert text.startswith("in progress when this board joined the hub: its earlier steps")
    assert "queued in sales 1s after the start" in text
    assert "rang ann (answered)" in text and "first answered 3s after the start" in text


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"t": "2025-03-03T09:14:02"}, "calls[0] is not a call in progress (t: Input should have"),
        ({"t": "9999-12-31T23:00:00+00:00", "since": 1e8}, "since: 1e+08 s after the start"),
        ({"rung": [["ann", "maybe"]]}, "calls[0] is not a call in progress (rung.0.1: Input"),
        ({"id": ""}, "calls[0] is not a call in progress (id: String should have"),
    ],
)
def test_a_bad_call_in_a_snapshot_is_a_frame_error_naming_it(
    change: dict[str, object], problem: str
) -> None:
    call = {"id": "c-1", "t": "2025-03-03T09:14:02+01:00", "phase": "queued", "queue": "s"}
    frame = {"frame": "snapshot", "protocol": PROTOCOL_VERSION, "seq": 3, "presence": []}
    with pytest.raises(FrameError, match=re.escape(problem)):
        decode_hub_message(json.dumps(frame | {"calls": [call | change]}))
