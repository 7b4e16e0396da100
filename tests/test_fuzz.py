"""Property tests: no input crashes the reader or the state machine, and every finished
call gets exactly one outcome from the known set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifier.rules import ALL_REASONS
from classifier.schema import EventError, event_from_dict
from classifier.tracker import CallTracker, Result
from classifier.verdict import Outcome
from monitor.sources.reader import LineError, LineEvent, parse_line, read_events

CALL_IDS = st.sampled_from(["a", "b", "c"])
TS = st.integers(min_value=0, max_value=3600)
LEG = st.sampled_from(["completed", "no-answer", "busy", "failed", "canceled", "missed-call", None])


def _ended() -> st.SearchStrategy[dict[str, Any]]:
    base = st.fixed_dictionaries(
        {"type": st.just("call.ended"), "by": st.sampled_from(["caller", "agent", "system"])}
    )
    exotel = st.fixed_dictionaries({"status": LEG, "leg1_status": LEG, "leg2_status": LEG})
    return st.one_of(base, st.tuples(base, exotel).map(lambda t: {**t[0], **t[1]}))


EVENT_BODIES = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("call.started"),
            "direction": st.sampled_from(["inbound", "outbound"]),
            "after_hours": st.booleans(),
            "flow": st.sampled_from(["incoming", "connect_two_numbers", "connect_to_flow"]),
        }
    ),
    st.fixed_dictionaries({"type": st.just("ivr.entered")}),
    st.fixed_dictionaries(
        {
            "type": st.just("greeting.started"),
            "greeting": st.sampled_from(["welcome", "available_agents"]),
        }
    ),
    st.fixed_dictionaries(
        {"type": st.just("queue.entered"), "queue": st.sampled_from(["q1", "q2"])}
    ),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                ["agent.ringing", "agent.rejected", "agent.no_answer", "agent.answered"]
            ),
            "agent": st.sampled_from(["Ana", "Ben"]),
        }
    ),
    st.fixed_dictionaries(
        {"type": st.just("voicemail.started"), "via": st.sampled_from(["direct", "queue"])}
    ),
    st.fixed_dictionaries({"type": st.just("voicemail.beep")}),
    st.fixed_dictionaries({"type": st.just("call.transferred"), "to": st.text(max_size=5)}),
    _ended(),
    st.fixed_dictionaries(
        {
            "type": st.just("agent.status"),
            "agent": st.sampled_from(["Ana", "Ben"]),
            "status": st.sampled_from(["available", "busy", "wrap_up", "paused", "offline"]),
        }
    ),
)

EVENTS = st.tuples(EVENT_BODIES, CALL_IDS, TS, st.one_of(st.none(), st.integers(0, 50))).map(
    lambda t: {**t[0], "call_id": t[1], "ts": t[2], **({"seq": t[3]} if t[3] is not None else {})}
)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EVENTS, max_size=40))
def test_any_event_sequence_gives_each_finished_call_exactly_one_known_outcome(
    bodies: list[dict[str, Any]],
) -> None:
    tracker = CallTracker()
    finished: dict[str, int] = {}
    for body in bodies:
        applied = tracker.apply(event_from_dict(body))
        if applied.verdict is not None:
            verdict = applied.verdict
            finished[verdict.call_id] = finished.get(verdict.call_id, 0) + 1
            assert isinstance(verdict.outcome, Outcome)
            assert ALL_REASONS[verdict.reason or ""] is verdict.outcome
            assert verdict.detail
        if applied.result is Result.REJECTED:
            assert applied.problem
    # Each call id ends at most once while remembered, so one verdict per call.
    assert all(count == 1 for count in finished.values())
    # Calls still open are exactly those never ended.
    assert not set(finished) & set(tracker.calls)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_line_parser(data: bytes) -> None:
    result = parse_line("fuzz", 1, data)
    assert isinstance(result, LineEvent | LineError)
    if isinstance(result, LineError):
        assert result.problem and str(result).startswith("fuzz:1: ")


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda kids: (
            st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=4)
        ),
        max_leaves=10,
    )
)
def test_random_json_values_are_accepted_or_named(value: object) -> None:
    try:
        event_from_dict(value)
    except EventError as exc:
        assert str(exc)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=80), EVENTS.map(lambda d: __import__("json").dumps(d).encode())
        ),
        max_size=30,
    )
)
def test_random_files_are_read_to_the_end(tmp_path: Path, lines: list[bytes]) -> None:
    log = tmp_path / "fuzz.jsonl"
    log.write_bytes(b"\n".join(lines))
    items = list(read_events(log))
    tracker = CallTracker()
    for item in items:
        if isinstance(item, LineEvent):
            tracker.apply(item.event)
    assert all(isinstance(i, LineEvent | LineError) for i in items)
