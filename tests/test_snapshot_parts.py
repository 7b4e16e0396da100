"""A snapshot in parts: `encode_snapshot_parts` splits it, `SnapshotParts` joins it again,
and the one-frame snapshot of older hubs still reads as a whole snapshot.
"""

from __future__ import annotations

import json

import pytest

from classifier.call import Call
from classifier.schema import AgentStatus, Event, event_from_dict
from classifier.tracker import call_from_events
from monitor.feed.protocol import (
    FrameError,
    Snapshot,
    SnapshotParts,
    SourceStatus,
    decode_hub_message,
    encode_snapshot,
    encode_snapshot_parts,
)
from tests.hub_support import open_calls


def _calls(n: int) -> list[Call]:
    calls: dict[str, list[Event]] = {}
    for seq, event in enumerate(open_calls(n, pad=100), start=1):
        calls.setdefault(event.call_id, []).append(event.model_copy(update={"seq": seq}))
    return [call_from_events(events) for events in calls.values()]


PRESENCE = [
    event_from_dict(
        {"type": "agent.status", "call_id": "", "ts": 1, "agent": f"a{i}", "status": "available"}
    )
    for i in range(30)
]


def _decode_one(text: str) -> Snapshot:
    (frame,) = decode_hub_message(text)
    assert isinstance(frame, Snapshot)
    return frame


def test_parts_join_into_the_snapshot_one_frame_gives() -> None:
    calls = _calls(200)
    presence = [p for p in PRESENCE if isinstance(p, AgentStatus)]
    source = SourceStatus(kind="replay", name="day.jsonl", state="running", events=800)
    texts = list(encode_snapshot_parts("hub-1", 800, calls, presence, source, 5.0, 4096))
    assert len(texts) > 10
    parts = [json.loads(text) for text in texts]
    assert [p["part"] for p in parts] == list(range(1, len(parts) + 1))
    assert [p["more"] for p in parts] == [True] * (len(parts) - 1) + [False]
    joiner = SnapshotParts()
    wholes = [joiner.add(_decode_one(text)) for text in texts]
    assert wholes[:-1] == [None] * (len(texts) - 1) and joiner.pending is None
    whole = wholes[-1]
    one = _decode_one(encode_snapshot("hub-1", 800, calls, presence, source, 5.0))
    assert whole is not None and (one.part, one.more) == (1, False)
    assert (whole.calls, whole.presence, whole.seq, whole.source) == (
        one.calls,
        one.presence,
        one.seq,
        one.source,
    )


def test_an_empty_snapshot_is_one_part() -> None:
    (text,) = encode_snapshot_parts("hub-1", 0, [], [], SourceStatus(), 0.0)
    whole = SnapshotParts().add(_decode_one(text))
    assert whole is not None and whole.calls == [] and whole.presence == []


def test_parts_that_do_not_fit_together_are_frame_errors_naming_the_part() -> None:
    calls = _calls(60)
    texts = list(encode_snapshot_parts("hub-1", 240, calls, [], SourceStatus(), 0.0, 2048))
    other = list(encode_snapshot_parts("hub-2", 240, calls, [], SourceStatus(), 0.0, 2048))
    assert len(texts) >= 3
    with pytest.raises(FrameError, match="snapshot part 2 came without part 1"):
        SnapshotParts().add(_decode_one(texts[1]))
    joiner = SnapshotParts()
    joiner.add(_decode_one(texts[0]))
    with pytest.raises(FrameError, match="snapshot part 3 came after part 1"):
        joiner.add(_decode_one(texts[2]))
    joiner = SnapshotParts()
    joiner.add(_decode_one(texts[0]))
    with pytest.raises(FrameError, match="part 2 is of hub-2 seq 240, not hub-1 seq 240"):
        joiner.add(_decode_one(other[1]))


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("more", "yes", "'more' must be true or false"),
        ("part", 0, "'part' counts from 1"),
        ("part", -1, "'part' must be a non-negative integer"),
    ],
)
def test_a_bent_part_field_is_a_frame_error(field: str, value: object, problem: str) -> None:
    data = json.loads(next(encode_snapshot_parts("hub-1", 0, [], [], SourceStatus(), 0.0)))
    data[field] = value
    with pytest.raises(FrameError, match=problem):
        decode_hub_message(json.dumps(data))
