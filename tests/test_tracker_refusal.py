"""`CallTracker.refusal` says, without changing anything, what `apply` would refuse.

The hub asks it before storing an event in its journal and applies the event
only once it is stored (so a failed write leaves the tracker as it was): the two
must agree on every event of real logs, resends and forgotten calls included.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from classifier.schema import CallEnded
from classifier.tracker import Admitted, Applied, CallTracker, Result
from monitor.sources.reader import LineEvent, read_events
from tests.cli_support import ROOT


def logs_to_check() -> list[Path]:
    bad = sorted((ROOT / "fixtures" / "bad").glob("*.jsonl*"))
    return [*bad, ROOT / "fixtures" / "board" / "board.jsonl"]


@pytest.mark.parametrize("max_calls", [None, 3], ids=["no-limit", "max_calls=3"])
@pytest.mark.parametrize("log", logs_to_check(), ids=lambda p: p.name)
def test_refusal_agrees_with_apply(log: Path, max_calls: int | None) -> None:
    # The hub asks `refusal` before it stores an event and applies it after: the two
    # must agree on every event, including duplicates, late events and resends.
    events = [item.event for item in read_events(log) if isinstance(item, LineEvent)]
    assert events, log
    resent = events + random.Random(7).sample(events, min(len(events), 200))
    # Small, so forgotten calls and (with a limit) refusals for the limit are exercised.
    tracker = CallTracker(remember_ended=50, max_calls=max_calls)
    results = []
    for seq, event in enumerate(resent, start=1):
        candidate = event.model_copy(update={"seq": seq})
        refused = tracker.refusal(candidate)
        applied = tracker.apply(candidate)
        if refused is None:
            assert applied.result is Result.APPLIED, (seq, event, applied)
        else:
            assert (refused.result, refused.problem) == (applied.result, applied.problem)
        results.append(applied.result)
    assert Result.APPLIED in results and Result.DUPLICATE in results


@pytest.mark.parametrize("max_calls", [None, 3], ids=["no-limit", "max_calls=3"])
@pytest.mark.parametrize("log", logs_to_check(), ids=lambda p: p.name)
def test_admit_then_take_is_apply(log: Path, max_calls: int | None) -> None:
    # The hub checks an event once (`admit`), stores it, then applies what the check
    # found (`take`): on every event, resends and the limit included, the two steps
    # must give what one `apply` gives, and leave the tracker in the same state.
    events = [item.event for item in read_events(log) if isinstance(item, LineEvent)]
    resent = events + random.Random(11).sample(events, min(len(events), 200))
    applying = CallTracker(remember_ended=50, max_calls=max_calls)
    admitting = CallTracker(remember_ended=50, max_calls=max_calls)
    kinds = set()
    for seq, event in enumerate(resent, start=1):
        candidate = event.model_copy(update={"seq": seq})
        expected = applying.apply(candidate)
        admitted = admitting.admit(candidate)
        got = admitted if isinstance(admitted, Applied) else admitting.take(admitted)
        assert (got.result, got.problem, got.warnings, got.verdict) == (
            expected.result,
            expected.problem,
            expected.warnings,
            expected.verdict,
        ), (seq, event)
        kinds.add((got.result, isinstance(admitted, Admitted)))
    assert admitting.to_dict() == applying.to_dict()
    assert admitting.over_limit == applying.over_limit
    assert (Result.APPLIED, True) in kinds and (Result.DUPLICATE, False) in kinds


def test_take_checks_again_after_another_change() -> None:
    # Admitted while its call was in progress, taken after the call ended: the event
    # is refused as `apply` would refuse it then, not added to the finished call.
    events = [
        item.event
        for item in read_events(ROOT / "fixtures" / "board" / "board.jsonl")
        if isinstance(item, LineEvent)
    ]
    ended = next(e for e in events if isinstance(e, CallEnded))
    before = [e for e in events if e.call_id == ended.call_id and e is not ended]
    tracker = CallTracker()
    for event in before[:-1]:
        assert tracker.apply(event).result is Result.APPLIED
    admitted = tracker.admit(before[-1])
    assert isinstance(admitted, Admitted)
    assert tracker.apply(ended).result is Result.APPLIED  # the call ends meanwhile
    taken = tracker.take(admitted)
    assert taken.result is Result.REJECTED
    assert taken.problem is not None and "already ended" in taken.problem
    assert tracker.calls.get(ended.call_id) is None
