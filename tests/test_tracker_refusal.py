"""`CallTracker.refusal` says, without changing anything, what `apply` would refuse.

The hub asks it before storing an event in its journal and applies the event
only once it is stored (so a failed write leaves the tracker as it was): the two
must agree on every event of real logs, resends and forgotten calls included.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from classifier.tracker import CallTracker, Result
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
