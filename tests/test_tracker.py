"""The tracker: duplicates, late events, out-of-order time stamps, presence."""

from __future__ import annotations

from typing import Any

from classifier.rules import classify
from classifier.schema import event_from_dict
from classifier.tracker import CallTracker, Result


def ev(type_: str, call_id: str, ts: float, **fields: Any) -> Any:
    return event_from_dict({"type": type_, "call_id": call_id, "ts": ts, **fields})


def test_identical_event_repeated_is_a_duplicate() -> None:
    tracker = CallTracker()
    tracker.apply(ev("call.started", "a", 0))
    first = tracker.apply(ev("queue.entered", "a", 1, queue="q"))
    again = tracker.apply(ev("queue.entered", "a", 1, queue="q"))
    assert first.result is Result.APPLIED
    assert again.result is Result.DUPLICATE
    assert len(tracker.calls["a"].events) == 2


def test_same_seq_is_a_duplicate_even_if_the_body_differs() -> None:
    tracker = CallTracker()
    tracker.apply(ev("call.started", "a", 0, seq=1))
    tracker.apply(ev("queue.entered", "a", 1, queue="q", seq=2))
    assert (
        tracker.apply(ev("queue.entered", "a", 2, queue="other", seq=2)).result is Result.DUPLICATE
    )


def test_event_after_the_end_is_rejected_and_a_repeat_of_the_end_is_a_duplicate() -> None:
    tracker = CallTracker()
    tracker.apply(ev("call.started", "a", 0))
    done = tracker.apply(ev("call.ended", "a", 5, by="caller"))
    assert done.verdict is not None and "a" not in tracker.calls
    late = tracker.apply(ev("agent.ringing", "a", 6, agent="Ana"))
    assert late.result is Result.REJECTED and "already ended" in (late.problem or "")
    assert tracker.apply(ev("call.ended", "a", 5, by="caller")).result is Result.DUPLICATE


def test_out_of_order_events_are_applied_in_arrival_order_and_flagged() -> None:
    tracker = CallTracker()
    tracker.apply(ev("call.started", "a", 10))
    tracker.apply(ev("queue.entered", "a", 20, queue="q"))
    late = tracker.apply(ev("ivr.entered", "a", 15))
    assert late.result is Result.APPLIED and late.warnings
    verdict = tracker.apply(ev("call.ended", "a", 30, by="caller")).verdict
    assert verdict is not None
    # Arrival order: the IVR came last, so the caller hung up in the IVR.
    assert verdict.reason == "ivr_hangup"
    assert any("earlier than" in flag for flag in verdict.flags)


def test_call_without_start_is_opened_and_flagged() -> None:
    tracker = CallTracker()
    applied = tracker.apply(ev("queue.entered", "mid", 3, queue="q"))
    assert applied.result is Result.APPLIED
    assert applied.warnings == ("no call.started before queue.entered",)
    verdict = tracker.apply(ev("call.ended", "mid", 9, by="caller")).verdict
    assert verdict is not None and verdict.reason == "queue_hangup"


def test_second_different_start_is_rejected() -> None:
    tracker = CallTracker()
    tracker.apply(ev("call.started", "a", 0))
    again = tracker.apply(ev("call.started", "a", 1, **{"from": "+1"}))
    assert again.result is Result.REJECTED and "second call.started" in (again.problem or "")


def test_presence_keeps_the_newest_report_per_agent() -> None:
    tracker = CallTracker()
    tracker.apply(ev("agent.status", "", 10, agent="Ana", status="available"))
    older = tracker.apply(ev("agent.status", "", 5, agent="Ana", status="offline"))
    assert older.warnings and tracker.presence["Ana"].status == "available"
    tracker.apply(ev("agent.status", "", 20, agent="Ana", status="paused", reason="lunch"))
    assert tracker.presence["Ana"].status == "paused"
    dup = tracker.apply(ev("agent.status", "", 20, agent="Ana", status="paused", reason="lunch"))
    assert dup.result is Result.DUPLICATE


def test_memory_of_finished_calls_is_bounded() -> None:
    tracker = CallTracker(remember_ended=10)
    for n in range(100):
        tracker.apply(ev("call.started", f"c{n}", n))
        tracker.apply(ev("call.ended", f"c{n}", n + 1, by="caller"))
    assert len(tracker) == 0
    assert len(tracker._ended) == 10


def test_an_event_repeated_with_a_seq_is_still_a_duplicate() -> None:
    """A producer's event seen once without a seq and again with the hub's seq."""
    tracker = CallTracker()
    tracker.apply(ev("call.started", "a", 0))
    tracker.apply(ev("queue.entered", "a", 1, queue="q"))
    assert tracker.apply(ev("queue.entered", "a", 1, queue="q", seq=7)).result is Result.DUPLICATE


def test_after_the_end_a_repeated_seq_is_a_duplicate_and_a_new_seq_is_rejected() -> None:
    tracker = CallTracker()
    tracker.apply(ev("call.started", "a", 0, seq=1))
    tracker.apply(ev("queue.entered", "a", 1, queue="q", seq=2))
    tracker.apply(ev("call.ended", "a", 5, by="caller", seq=3))
    # Same seq, different body: the hub's numbering says it is the same event.
    assert tracker.apply(ev("queue.entered", "a", 2, queue="x", seq=2)).result is Result.DUPLICATE
    # A repeat of a body seen without its seq, now carrying one.
    assert tracker.apply(ev("call.ended", "a", 5, by="caller", seq=9)).result is Result.DUPLICATE
    late = tracker.apply(ev("agent.ringing", "a", 6, agent="Ana", seq=4))
    assert late.result is Result.REJECTED


def test_after_the_end_of_a_call_without_seqs_a_seq_alone_matches_nothing() -> None:
    tracker = CallTracker()
    tracker.apply(ev("call.started", "a", 0))
    tracker.apply(ev("call.ended", "a", 5, by="caller"))
    assert tracker.apply(ev("ivr.entered", "a", 1, seq=1)).result is Result.REJECTED


def test_presence_at_the_same_time_with_another_status_replaces_the_last() -> None:
    tracker = CallTracker()
    tracker.apply(ev("agent.status", "", 10, agent="Ana", status="available"))
    same_time = tracker.apply(ev("agent.status", "", 10, agent="Ana", status="busy"))
    assert same_time.result is Result.APPLIED and not same_time.warnings
    assert tracker.presence["Ana"].status == "busy"
    other_reason = tracker.apply(
        ev("agent.status", "", 10, agent="Ana", status="busy", reason="call")
    )
    assert other_reason.result is Result.APPLIED and tracker.presence["Ana"].reason == "call"
    assert (
        tracker.apply(ev("agent.status", "", 10, agent="Ana", status="busy", reason="call")).result
        is Result.DUPLICATE
    )


def test_presence_at_the_same_time_for_another_call_is_not_a_duplicate() -> None:
    tracker = CallTracker()
    tracker.apply(ev("agent.status", "c1", 10, agent="Ana", status="busy", reason="call"))
    other_call = tracker.apply(
        ev("agent.status", "c2", 10, agent="Ana", status="busy", reason="call")
    )
    assert other_call.result is Result.APPLIED
    assert tracker.presence["Ana"].call_id == "c2"


def test_a_tracker_told_not_to_keep_events_keeps_none_and_judges_the_same() -> None:
    story = [
        ev("call.started", "a", 0),
        ev("queue.entered", "a", 1, queue="q"),
        ev("queue.entered", "a", 1, queue="q"),
        ev("call.ended", "a", 9, by="caller"),
    ]
    keeping, lean = CallTracker(), CallTracker(keep_events=False)
    results = []
    for event in story[:3]:
        results.append((keeping.apply(event).result, lean.apply(event).result))
    assert [len(keeping.calls["a"].events), len(lean.calls["a"].events)] == [2, 0]
    # The duplicate is still told apart without the events.
    assert results[2] == (Result.DUPLICATE, Result.DUPLICATE)
    assert keeping.apply(story[3]).verdict == lean.apply(story[3]).verdict


def test_a_tracker_without_verdicts_hands_back_the_ended_call_for_the_rules() -> None:
    story = [
        ev("call.started", "a", 0),
        ev("queue.entered", "a", 1, queue="q"),
        ev("agent.ringing", "a", 2, agent="Ana"),
        ev("call.ended", "a", 9, by="caller"),
    ]
    judging, deferring = CallTracker(), CallTracker(verdicts=False)
    for event in story:
        judged, deferred = judging.apply(event), deferring.apply(event)
    assert deferred.result is Result.APPLIED and deferred.verdict is None
    assert deferred.call is not None and deferred.call.ended is not None
    assert "a" not in deferring.calls
    assert judged.verdict is not None and judged.verdict.reason == "agent_not_answered"
    assert classify(deferred.call) == judged.verdict
    # The ended call still leaves its fingerprints: a repeat of its end is a duplicate.
    assert deferring.apply(story[3]).result is Result.DUPLICATE
