"""The tracker: duplicates, late events, out-of-order time stamps, presence."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from classifier.call import Phase
from classifier.rules import classify
from classifier.schema import event_from_dict
from classifier.tracker import CallTracker, Result
from classifier.verdict import Outcome

RULES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"


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


def test_a_start_after_the_queue_entry_keeps_the_call_in_the_queue() -> None:
    # Two webhooks racing (a TaskRouter queue entry before Twilio's Voice callback):
    # the late start says who called and when, not where the call is.
    tracker = CallTracker()
    tracker.apply(ev("queue.entered", "race", 3, queue="q"))
    late = tracker.apply(ev("call.started", "race", 1, **{"from": "+15550100"}))
    assert late.result is Result.APPLIED
    call = late.call
    assert call is not None and call.phase is Phase.QUEUED and call.caller == "+15550100"
    assert call.started_at == ev("call.started", "race", 1).ts
    verdict = tracker.apply(ev("call.ended", "race", 9, by="caller")).verdict
    assert verdict is not None and (verdict.outcome, verdict.reason) == (
        Outcome.ABANDONED,
        "queue_hangup",
    )


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


def test_a_call_over_max_calls_is_refused_naming_the_limit_and_counted() -> None:
    tracker = CallTracker(max_calls=2)
    assert tracker.apply(ev("call.started", "a", 0)).result is Result.APPLIED
    assert tracker.apply(ev("call.started", "b", 0)).result is Result.APPLIED
    refused = tracker.apply(ev("call.started", "c", 0, **{"from": "+1"}))
    assert refused.result is Result.REJECTED
    assert "2 calls in progress is the limit (max_calls)" in (refused.problem or "")
    assert "'c'" in (refused.problem or "")
    assert tracker.over_limit == 1 and len(tracker) == 2
    # Calls already open still take their events, and an ended call frees a place.
    assert tracker.apply(ev("queue.entered", "a", 1, queue="q")).result is Result.APPLIED
    assert tracker.apply(ev("call.ended", "a", 2, by="caller")).verdict is not None
    assert tracker.apply(ev("call.started", "c", 3)).result is Result.APPLIED


def test_a_call_silent_for_longer_than_expire_after_is_expired_with_a_reason() -> None:
    tracker = CallTracker(expire_after=timedelta(hours=6))
    tracker.apply(ev("call.started", "lost-end", 0))
    tracker.apply(ev("call.started", "long", 0))
    tracker.apply(ev("queue.entered", "long", 5 * 3600, queue="q"))
    tracker.apply(ev("call.started", "new", 6 * 3600))
    assert tracker.expire_stale() == []  # exactly 6 h is not over 6 h
    # The next look comes once event time moved on by 1/16 of the expiry (22.5 min).
    tracker.apply(ev("call.started", "soon", 6 * 3600 + 60))
    assert tracker.expire_stale() == []
    tracker.apply(ev("call.started", "later", 6 * 3600 + 1800))
    expired = tracker.expire_stale()
    assert [call.call_id for call, _ in expired] == ["lost-end"]
    reason = expired[0][1]
    assert "'lost-end' expired: no event since 1970-01-01T00:00:00+00:00" in reason
    assert "over 6 h before the newest event" in reason
    assert sorted(tracker.calls) == ["later", "long", "new", "soon"]
    assert tracker.expired == 1


def test_without_limits_the_tracker_keeps_every_call_however_old() -> None:
    tracker = CallTracker()
    tracker.apply(ev("call.started", "a", 0))
    tracker.apply(ev("call.started", "b", 10 * 24 * 3600))
    assert tracker.expire_stale() == [] and len(tracker) == 2


def test_expiry_leaves_the_verdicts_of_the_rule_fixtures_unchanged() -> None:
    paths = sorted(p for p in RULES.glob("*.jsonl") if not p.name.endswith(".expected.jsonl"))
    assert paths
    for path in paths:
        plain, expiring = (
            CallTracker(),
            CallTracker(expire_after=timedelta(hours=6), max_calls=20_000),
        )
        got: list[list[Any]] = [[], []]
        for line in path.read_text().splitlines():
            event = event_from_dict(json.loads(line))
            for i, tracker in enumerate((plain, expiring)):
                verdict = tracker.apply(event).verdict
                if verdict is not None:
                    got[i].append(verdict.record())
            assert expiring.expire_stale() == []
        assert got[0] == got[1] and got[0], path


def test_expiry_looks_again_at_the_end_of_time_without_overflowing() -> None:
    # The next look is due 1/16 of the expiry after the newest time; past year 9999
    # there is no such time: no later look, no OverflowError.
    tracker = CallTracker(expire_after=timedelta(hours=6))
    tracker.apply(ev("call.started", "old", 0))
    tracker.apply(ev("call.started", "last", "9999-12-31T23:59:00+00:00"))
    assert [call.call_id for call, _ in tracker.expire_stale()] == ["old"]
    tracker.apply(ev("call.ended", "last", "9999-12-31T23:59:59+00:00", by="caller"))
    assert tracker.expire_stale() == []
