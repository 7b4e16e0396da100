"""Event times at the edges of what the schema accepts (years 1 to 9999, any offset).

The plausibility rule the hub applies (`classifier.plausible`), the board's clock
that one far-future event must not throw, and the real board model driven with the
most extreme times: nothing may raise, and the clock must stay where the real
calls are.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifier.plausible import CALL_SPAN_S, FUTURE_S, REPLAY_AHEAD_S, TimeWindow, time_problem
from classifier.schema import Event, event_from_dict
from monitor.app.clock import FeedClock
from monitor.board import PANEL_TITLES, Board, SortKey, story_of

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


# ----- the board's clock -----------------------------------------------------------


def test_the_clock_reads_to_the_end_of_time_without_raising() -> None:
    wall = Wall()
    clock = FeedClock(rate=1.0, wall=wall)
    clock.seen(datetime.fromisoformat(Y9999))
    wall.now += 3600
    assert clock.now().year == 9999
    clock.set_rate(60.0)
    wall.now += 10**9
    assert clock.now().year == 9999


def test_one_far_future_event_does_not_move_a_live_clock() -> None:
    wall = Wall()
    clock = FeedClock(rate=1.0, wall=wall, live=True, epoch_now=NOW.timestamp)
    clock.seen(NOW, "a")
    clock.seen(datetime(2100, 1, 1, tzinfo=UTC), "y2100")
    clock.seen(datetime(2100, 1, 1, 0, 1, tzinfo=UTC), "y2100")  # its own call cannot confirm
    wall.now += 5
    clock.seen(NOW + timedelta(seconds=5), "b")
    wall.now += 2
    assert clock.now() == NOW + timedelta(seconds=7)


def test_a_live_clock_ignores_a_far_future_first_event() -> None:
    """A snapshot whose first call is the one with the wrong clock (an old hub's)."""
    wall = Wall()
    clock = FeedClock(rate=1.0, wall=wall, live=True, epoch_now=NOW.timestamp)
    clock.seen(datetime.fromisoformat(Y9999), "y9999")
    clock.seen(NOW - timedelta(minutes=3), "a")
    assert clock.now() == NOW - timedelta(minutes=3)


def test_a_real_jump_is_followed_when_another_call_confirms_it() -> None:
    """A replay skipping a quiet night: the morning's first calls move the clock."""
    wall = Wall()
    clock = FeedClock(rate=0.0, wall=wall, window_s=300)
    clock.seen(NOW, "night")
    morning = NOW + timedelta(hours=9)
    clock.seen(morning, "m1")
    assert clock.now() == NOW  # one call alone is not believed
    clock.seen(morning + timedelta(seconds=40), "m2")
    assert clock.now() == morning + timedelta(seconds=40)


def test_a_replay_clock_is_not_moved_by_a_lone_2100_event() -> None:
    wall = Wall()
    clock = FeedClock(rate=60.0, wall=wall)
    clock.seen(NOW, "a")
    clock.seen(datetime(2100, 1, 1, tzinfo=UTC), "y2100")
    wall.now += 1
    clock.seen(NOW + timedelta(seconds=90), "b")  # the clock read NOW + 60 s
    wall.now += 1
    assert clock.now() == NOW + timedelta(seconds=150)


# ----- the real board model over every time the schema accepts ----------------------

OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
EXTREMES = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00-14:00",
        "9999-12-31T23:59:59.999999+14:00",
        "9999-12-31T23:59:59.999999-14:00",
        "1970-01-01T00:00:00Z",
        "2100-01-01T00:00:00Z",
    ]
)
ANY_TIME = st.one_of(
    EXTREMES,
    st.builds(
        lambda naive, tz: naive.replace(tzinfo=tz).isoformat(),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
        OFFSETS,
    ),
    st.just(NOW.isoformat()),
)
STEPS = st.sampled_from(
    [
        ("call.started", {}),
        ("queue.entered", {"queue": "q"}),
        ("agent.ringing", {"agent": "ann"}),
        ("agent.answered", {"agent": "ann"}),
        ("call.ended", {"by": "caller"}),
        ("agent.status", {"agent": "ann", "status": "available"}),
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), STEPS, ANY_TIME), max_size=14),
    st.booleans(),
    st.sampled_from([0.0, 1.0, 60.0]),
)
def test_no_event_time_makes_the_board_or_its_clock_raise(
    steps: list[tuple[str, tuple[str, dict[str, str]], str]], live: bool, rate: float
) -> None:
    board = Board()
    wall = Wall()
    clock = FeedClock(rate=rate, wall=wall, live=live, epoch_now=NOW.timestamp)
    for call_id, (kind, fields), ts in steps:
        ev = event(kind, "" if kind == "agent.status" else call_id, ts, **fields)
        board.apply(ev)
        clock.seen(ev.ts, ev.call_id)
        wall.now += 10**7
    readings = [clock.now(), datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)]
    for now in readings:
        board.kpis(now)
        for sort in SortKey:
            for call in board.active(sort):
                board.level(call, now)
                story = board.story(call.call_id, now)
                assert story is not None
                for line in story.lines:
                    if line.at is not None:
                        line.at.strftime("%H:%M:%S")
        for panel in board.panels.values():
            for finished in panel.rows:
                story_of(
                    finished.call, finished.verdict, now, finished.timeline, titles=PANEL_TITLES
                )
