"""The board's feed clock and the garbage-collector policy (no Textual needed)."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta

from monitor.app.clock import FeedClock
from monitor.app.collector import CollectorPolicy

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Wall:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_clock_runs_on_from_the_newest_event_at_its_rate() -> None:
    wall = Wall()
    clock = FeedClock(rate=1.0, wall=wall)
    clock.seen(T0)
    wall.now += 2.5
    assert clock.now() == T0 + timedelta(seconds=2.5)
    # An older event does not move the clock back.
    clock.seen(T0 - timedelta(seconds=30))
    assert clock.now() == T0 + timedelta(seconds=2.5)
    # A newer one re-anchors it.
    clock.seen(T0 + timedelta(seconds=10))
    assert clock.now() == T0 + timedelta(seconds=10)


def test_replay_speed_and_stopping() -> None:
    wall = Wall()
    clock = FeedClock(rate=60.0, wall=wall)
    clock.seen(T0)
    wall.now += 1
    assert clock.now() == T0 + timedelta(minutes=1)
    clock.set_rate(0.0)  # the replay finished: a still picture
    wall.now += 100
    assert clock.now() == T0 + timedelta(minutes=1)


def test_clock_before_any_event_is_the_wall_clock() -> None:
    before = datetime.now(UTC)
    assert FeedClock().now() >= before


def test_collector_policy_installs_and_leaves_the_process_as_found() -> None:
    policy = CollectorPolicy()
    policy.install()
    try:
        assert policy._after_collection in gc.callbacks
        assert gc.get_freeze_count() > 0
        gc.collect()  # a full collection: survivors frozen again, nothing breaks
        policy.tick()
        policy.reclaim()
        assert gc.get_freeze_count() > 0
    finally:
        policy.uninstall()
    assert policy._after_collection not in gc.callbacks
    assert gc.get_freeze_count() == 0
