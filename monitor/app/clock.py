"""The board's clock: feed time, running on between events.

A replay shows yesterday's calls, so 'time in state' must be measured on the
feed's clock, not the wall clock. The clock is anchored at the newest event
time and runs at `rate` times wall time from there: 1 for a live feed, the
replay speed for a replay, 0 once a replay has finished (the final board is a
still picture) or for `--speed 0`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class FeedClock:
    """`now()` in feed time; never runs backwards."""

    def __init__(self, rate: float = 1.0, wall: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._wall = wall
        self._anchor: datetime | None = None
        self._anchor_wall = 0.0
        #: The anchor as epoch seconds: `seen` runs once per event, and comparing
        #: floats is far cheaper than building and comparing aware datetimes.
        self._anchor_epoch = 0.0

    def seen(self, ts: datetime) -> None:
        """An event with time `ts` was applied."""
        epoch = ts.timestamp()
        if self._anchor is None:
            self._set_anchor(ts, epoch)
            return
        wall = self._wall()
        if epoch > self._anchor_epoch + (wall - self._anchor_wall) * self.rate:
            self._set_anchor(ts, epoch, wall)

    def _set_anchor(self, ts: datetime, epoch: float, wall: float | None = None) -> None:
        self._anchor = ts
        self._anchor_epoch = epoch
        self._anchor_wall = self._wall() if wall is None else wall

    def set_rate(self, rate: float) -> None:
        """Change speed from now on (0 freezes the clock where it is)."""
        if self._anchor is not None:
            now = self.now()
            self._set_anchor(now, now.timestamp())
        self.rate = rate

    def now(self) -> datetime:
        """The feed's time now: the wall clock until the first event."""
        if self._anchor is None:
            return datetime.now(UTC)
        elapsed = (self._wall() - self._anchor_wall) * self.rate
        return self._anchor + timedelta(seconds=elapsed)
