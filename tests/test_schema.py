"""Schema v1: every type parses, and every kind of bad input is named precisely."""

from __future__ import annotations

import json
import re

import pytest

from classifier.schema import (
    EVENT_TYPES,
    AgentStatus,
    CallEnded,
    CallStarted,
    EventError,
    LegStatus,
    event_from_dict,
    json_schema,
    parse_event,
)
from tests.cli_support import ROOT

DOC = ROOT / "docs" / "schema.md"


def doc_examples() -> list[dict[str, object]]:
    """The JSON examples in docs/schema.md (one per ```json block)."""
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(), flags=re.S)
    return [json.loads(block) for block in blocks]


def test_docs_give_one_valid_example_per_event_type() -> None:
    examples = doc_examples()
    types = [e["type"] for e in examples]
    assert sorted(set(types)) == sorted(EVENT_TYPES)
    for example in examples:
        event = parse_event(json.dumps(example))
        assert event.type == example["type"]


def test_epoch_seconds_and_rfc3339_with_offset_are_the_same_instant() -> None:
    a = parse_event('{"type":"call.started","call_id":"a","ts":1795424400}')
    b = parse_event('{"type":"call.started","call_id":"a","ts":"2026-11-23T10:00:00+01:00"}')
    assert a.ts == b.ts


def test_time_without_offset_is_rejected_naming_ts() -> None:
    with pytest.raises(EventError, match=r"field 'ts'.*timezone"):
        parse_event('{"type":"call.started","call_id":"a","ts":"2026-11-23T07:20:00"}')


def test_defaults_of_call_started() -> None:
    event = parse_event('{"type":"call.started","call_id":"a","ts":0}')
    assert isinstance(event, CallStarted)
    assert (event.direction, event.flow, event.after_hours) == ("inbound", "incoming", False)


def test_unknown_fields_are_ignored() -> None:
    event = parse_event('{"type":"voicemail.beep","call_id":"a","ts":0,"colour":"red"}')
    assert "colour" not in event.to_wire()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{", r"^not JSON"),
        ("[1, 2]", r"^not a JSON object$"),
        ('"text"', r"^not a JSON object$"),
        ('{"type":"call.exploded","call_id":"a","ts":0}', r"unknown event type 'call.exploded'"),
        ('{"call_id":"a","ts":0}', r"missing field 'type'"),
        ('{"type":"queue.entered","call_id":"a","ts":0}', r"queue.entered: missing field 'queue'"),
        ('{"type":"queue.entered","ts":0,"queue":"q"}', r"missing field 'call_id'"),
        ('{"type":"queue.entered","call_id":"","ts":0,"queue":"q"}', r"field 'call_id'"),
        ('{"type":"call.ended","call_id":"a","ts":0,"by":"ghost"}', r"field 'by'"),
        (
            '{"type":"call.ended","call_id":"a","ts":0,"by":"caller","leg2_status":"x"}',
            r"field 'leg2_status'",
        ),
        ('{"type":"agent.ringing","call_id":"a","ts":"yesterday","agent":"A"}', r"field 'ts'"),
        ('{"type":"agent.ringing","call_id":"a","ts":0,"agent":7}', r"field 'agent'"),
        ('{"type":"call.started","call_id":"a","ts":0,"seq":-1}', r"field 'seq'"),
        (
            '{"type":"call.started","call_id":"a","ts":0,"after_hours":"maybe"}',
            r"field 'after_hours'",
        ),
    ],
)
def test_bad_input_names_what_is_wrong(line: str, message: str) -> None:
    with pytest.raises(EventError, match=message):
        parse_event(line)


def test_oversized_strings_are_rejected_naming_the_field() -> None:
    with pytest.raises(EventError, match=r"field 'call_id'.*128"):
        parse_event(json.dumps({"type": "voicemail.beep", "call_id": "x" * 129, "ts": 0}))
    with pytest.raises(EventError, match=r"field 'from'.*256"):
        parse_event(
            json.dumps({"type": "call.started", "call_id": "a", "ts": 0, "from": "9" * 300})
        )


def test_agent_status_needs_no_call_id_but_other_types_do() -> None:
    event = parse_event(
        '{"type":"agent.status","ts":0,"agent":"Ana","status":"paused","reason":"lunch"}'
    )
    assert isinstance(event, AgentStatus) and event.call_id == ""
    with pytest.raises(EventError, match="call_id"):
        parse_event('{"type":"agent.answered","ts":0,"agent":"Ana"}')


def test_null_leg_status_is_exotel_empty_and_absent_is_not_exotel() -> None:
    with_null = parse_event(
        '{"type":"call.ended","call_id":"a","ts":0,"by":"caller","leg2_status":null}'
    )
    absent = parse_event('{"type":"call.ended","call_id":"a","ts":0,"by":"caller"}')
    assert isinstance(with_null, CallEnded) and isinstance(absent, CallEnded)
    assert with_null.has_leg_statuses and with_null.leg2_status is None
    assert not absent.has_leg_statuses
    # The difference survives a round trip through the wire form (the hub relies on it).
    assert parse_event(with_null.to_json()).has_leg_statuses  # type: ignore[union-attr]
    assert not parse_event(absent.to_json()).has_leg_statuses  # type: ignore[union-attr]


def test_round_trip_keeps_every_field() -> None:
    original = {
        "type": "call.ended",
        "call_id": "a",
        "ts": "2026-11-23T10:00:00+05:30",
        "seq": 4,
        "by": "system",
        "cause": "timeout",
        "status": "missed-call",
        "leg1_status": "completed",
        "leg2_status": None,
        "truth": "missed/all_agents_busy",
    }
    event = event_from_dict(original)
    again = parse_event(event.to_json())
    assert again == event
    assert isinstance(again, CallEnded) and again.status is LegStatus.MISSED_CALL


def test_json_schema_lists_every_type() -> None:
    text = json.dumps(json_schema())
    for name in EVENT_TYPES:
        assert f'"{name}"' in text
