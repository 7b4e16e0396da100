"""Decoding hub messages: pydantic's JSON pass gives exactly what the Python-object pass gives.

A subscriber decodes every message through `decode_hub_message`, one pass of the
frame adapter's JSON validator; a message it refuses is read again with
`json.loads` and validated as Python objects (`_decode`, also the journal's way),
which names the problem. These tests hold the two to the same frames and the same
errors on real simulator frames and on frames bent in every way we could think of.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.board_capacity import FrameStock
from monitor.feed.protocol import (
    EventFrame,
    FrameError,
    Resume,
    SourceState,
    SourceStatus,
    _decode,
    decode_hub_message,
    encode_ack,
    encode_batch,
    encode_error,
    encode_ignored,
    encode_resume,
    encode_status,
)
from tests.cli_support import ROOT

FRAMES = FrameStock(open_calls=40, seed=11).take(400)


def _json_lines(*names: str) -> list[str]:
    """The lines of the bad-input fixtures that are JSON at all (events bent in content)."""
    lines = []
    for name in names:
        text = (ROOT / "fixtures" / "bad" / f"{name}.jsonl").read_text(errors="replace")
        for line in text.splitlines():
            try:
                json.loads(line)
            except ValueError:
                continue
            lines.append(line)
    return lines


BAD_EVENTS = _json_lines("hostile", "unknown_types", "broken_json", "out_of_order")


def general(text: str) -> Any:
    """The general path alone: frames, or the error it names."""
    try:
        data = json.loads(text)
    except ValueError:
        return "not json"
    if not isinstance(data, dict):
        return "not an object"
    try:
        return _decode(data)
    except FrameError as exc:
        return f"error: {exc}"


def decoded(text: str) -> Any:
    try:
        return decode_hub_message(text)
    except FrameError as exc:
        message = str(exc)
        if message.startswith("hub sent a message that is not JSON"):
            return "not json"
        if message == "hub sent a message that is not a JSON object":
            return "not an object"
        return f"error: {message}"


def test_simulator_frames_and_a_batch_decode_alike() -> None:
    for text in FRAMES:
        assert decoded(text) == general(text)
    batch = encode_batch(FRAMES[:50])
    assert decoded(batch) == general(batch)
    assert len(decoded(batch)) == 50


ODD_VALUES: list[Any] = [
    True, False, None, -1, 0, 7, 2**70, 1.5, 2.0, "5", "", [], {}, [1], {"a": 1}, "x" * 300,
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    base=st.sampled_from(FRAMES),
    key=st.sampled_from(["frame", "seq", "received_at", "event", "pos", "extra", "type"]),
    value=st.sampled_from(ODD_VALUES) | st.sampled_from(BAD_EVENTS).map(json.loads),
    drop=st.booleans(),
)
def test_bent_frames_decode_alike(base: str, key: str, value: Any, drop: bool) -> None:
    data = json.loads(base)
    if drop:
        data.pop(key, None)
    elif key == "type":
        data["event"]["type"] = value
    else:
        data[key] = value
    text = json.dumps(data)
    assert decoded(text) == general(text)


@settings(max_examples=100, deadline=None)
@given(
    good=st.lists(st.sampled_from(FRAMES), min_size=0, max_size=5),
    bad=st.sampled_from(BAD_EVENTS),
    where=st.integers(min_value=0, max_value=5),
)
def test_a_batch_with_one_bad_item_decodes_alike(good: list[str], bad: str, where: int) -> None:
    items = list(good)
    items.insert(
        min(where, len(items)), '{"frame":"event","seq":9,"received_at":1.0,"event":' + bad + "}"
    )
    text = encode_batch(items)
    assert decoded(text) == general(text)


def test_other_frames_and_junk_take_the_general_way() -> None:
    for text in (
        '{"frame":"status","source":{"name":"x","state":"running"}}',
        '{"frame":"snapshot"}',
        '{"frame":"event"',
        "[1, 2]",
        '"event"',
        '{"frame":"batch","frames":[{"frame":"batch","frames":[]}]}',
        '{"frame":"event","seq":1,"received_at":NaN,"event":{}}',
    ):
        assert decoded(text) == general(text), text


SOURCE = SourceStatus(
    kind="replay", name="day.jsonl", state="finished", detail=None, final_seq=9, events=9
)


def test_resume_and_status_frames_read_back_as_written() -> None:
    assert decode_hub_message(encode_resume("hub-1", 4, 9, SOURCE)) == [
        Resume("hub-1", 4, 9, SOURCE)
    ]
    batch = encode_batch([FRAMES[0], encode_status(SOURCE, 1, 2.0)])
    first, status = decode_hub_message(batch)
    assert isinstance(first, EventFrame) and first.seq == 1
    assert status == SOURCE
    assert decoded(batch) == general(batch)


def test_producer_replies_are_bad_frames_for_a_subscriber() -> None:
    for text in (encode_ack(3), encode_ignored("duplicate", "seen", 2), encode_error("x", "y")):
        kind = json.loads(text)["frame"]
        with pytest.raises(FrameError, match=f"^hub sent an unknown frame kind '{kind}'$"):
            decode_hub_message(text)
        assert decoded(text) == general(text)


def test_source_states_are_an_enum_with_the_same_wire_text() -> None:
    for state in SourceState:
        text = encode_status(SourceStatus(state=state), 1, 0.0)
        assert f'"state":"{state.value}"' in text
        (status,) = decode_hub_message(text)
        assert isinstance(status, SourceStatus) and status.state is state
    # A state this client does not know (a newer hub's) is kept as its text.
    (status,) = decode_hub_message('{"frame":"status","source":{"state":"paused"}}')
    assert isinstance(status, SourceStatus) and status.state == "paused"
    assert not isinstance(status.state, SourceState) and not status.finished
