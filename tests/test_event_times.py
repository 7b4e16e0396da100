"""Event times at the edges of what the schema accepts (years 1 to 9999, any offset).

The plausibility rule the hub applies (`classifier.plausible`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from classifier.plausible import CALL_SPAN_S, FUTURE_S, REPLAY_AHEAD_S, TimeWindow, time_problem
from classifier.schema import Event, event_from_dict

NOW = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)
Y9999 = "9999-12-31T23:59:59+14:00"


def event(kind: str, call_id: str, ts: datetime | str, **fields: Any) -> Event:
    stamp = ts if isinstance(ts, str) else ts.isoformat()
    return event_from_dict({"type": kind, "call_id": call_id, "ts": stamp, **fields})


class Wall:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# ----- the rule --------------------------------------------------------------------


def test_a_live_event_more_than_the_window_ahead_of_the_hub_clock_is_refused_with_why() -> None:
    y9999 = event("call.started", "y9999", Y9999)
    problem = time_problem(y9999, NOW.timestamp())
    assert problem is not None
    assert "9999-12-31T23:59:59+14:00" in problem
    assert "ahead of the hub's clock" in problem
    assert "at most 5 min ahead" in problem
    # Within the window (a PBX clock a few minutes fast), and any time in the past: fine.
    soon = event("call.started", "a", NOW + timedelta(seconds=FUTURE_S - 1))
    assert time_problem(soon, NOW.timestamp()) is None
    year_one = event("call.started", "b", "0001-01-01T00:00:00+14:00")
    assert time_problem(year_one, NOW.timestamp()) is None


def test_an_event_a_day_away_from_its_call_start_is_refused_either_way() -> None:
    start = NOW - timedelta(hours=30)
    later = event("call.ended", "c", start + timedelta(seconds=CALL_SPAN_S + 1), by="caller")
    problem = time_problem(later, NOW.timestamp(), call_start=start)
    assert problem is not None and "after the start of call 'c'" in problem
    earlier = event("queue.entered", "c", start - timedelta(hours=25), queue="q")
    problem = time_problem(earlier, NOW.timestamp(), call_start=start)
    assert problem is not None and "before the start of call 'c'" in problem
    near = event("queue.entered", "c", start + timedelta(hours=23), queue="q")
    assert time_problem(near, NOW.timestamp(), call_start=start) is None


def test_a_replay_is_held_to_its_own_newest_time_when_it_runs_ahead_of_the_hub() -> None:
    window = TimeWindow()
    now = NOW.timestamp()
    # Yesterday's log, a week's closure and all: never refused for being old.
    for ts in (NOW - timedelta(days=30), NOW - timedelta(days=20), NOW - timedelta(days=1)):
        assert window.problem(event("call.started", "x", ts), now, replayed=True) is None
    # A looped replay's later passes run ahead of the hub's clock, a day at a time.
    for day in range(1, 20):
        ahead = event("call.started", f"p{day}", NOW + timedelta(days=day))
        assert window.problem(ahead, now, replayed=True) is None
    # A lone event years ahead is refused, and names the replay's newest time.
    far = event("call.started", "far", datetime(2100, 1, 1, tzinfo=UTC))
    problem = window.problem(far, now, replayed=True)
    assert problem is not None and "ahead of the replay's newest time" in problem
    assert f"at most {REPLAY_AHEAD_S / 86400:.0f} days ahead" in problem
    # The same event live: refused against the hub's clock.
    problem = window.problem(far, now, replayed=False)
    assert problem is not None and "ahead of the hub's clock" in problem
