"""The board's clock: feed time, running on between events.

A replay shows yesterday's calls, so 'time in state' must be measured on the
feed's clock, not the wall clock. The clock is anchored at the newest event
time and runs at `rate` times wall time from there: 1 for a live feed, the
replay speed for a replay, 0 once a replay has finished (the final board is a
still picture) or for `--speed 0`.

One event must not be able to wreck it. The schema accepts any time from year 1
to 9999, and the clock never runs backwards: an event dated 2100 that moved it
would leave every real call on the board 'waiting' for 75 years, for good. So an
event more than `window_s` ahead of the clock's reading does not move it on its
own: it is held until an event of *another* call agrees that time has
moved on (is not more than the window behind it). A real jump (a replay skipping
a quiet night, a hub replaying faster than real time) is followed at once by more
events near the new time; a wrong clock's event is followed by events near the
old one. For a live feed the window is the hub's (`classifier.plausible.FUTURE_S`,
and the reading before the first event is the wall clock); for a replay it is
the hub's replay window, a quiet stretch a real log can have.

Every reading is clamped to what `datetime` can hold, so no event time the
schema accepts can make `now()` raise.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from classifier.plausible import FUTURE_S, REPLAY_AHEAD_S

#: The latest and earliest readings the clock gives: datetime's own range, in UTC.
LATEST = datetime.max.replace(tzinfo=UTC)
EARLIEST = datetime.min.replace(tzinfo=UTC)

#: The largest jump ahead one event may make, by kind of feed.
LIVE_WINDOW_S = FUTURE_S
REPLAY_WINDOW_S = REPLAY_AHEAD_S


class FeedClock:
    """`now()` in feed time; never runs backwards; cannot be thrown years ahead by one event.

    `live`: the feed is live (its times should be near the wall clock `epoch_now`);
    `window_s`: the largest jump ahead one event makes on its own (default by `live`).
    """

    def __init__(
        self,
        rate: float = 1.0,
        wall: Callable[[], float] = time.monotonic,
        *,
        live: bool = False,
        window_s: float | None = None,
        epoch_now: Callable[[], float] = time.time,
    ) -> None:
        self.rate = rate
        self.live = live
        self.window_s = (
            window_s if window_s is not None else (LIVE_WINDOW_S if live else REPLAY_WINDOW_S)
        )
        self._wall = wall
        self._epoch_now = epoch_now
        self._anchor: datetime | None = None
        self._anchor_wall = 0.0
        #: The anchor as epoch seconds: `seen` runs once per event, and comparing
        #: floats is far cheaper than building and comparing aware datetimes.
        self._anchor_epoch = 0.0
        #: An event time too far ahead to believe alone: (epoch, time, who).
        self._held: tuple[float, datetime, str] | None = None

    def seen(self, ts: datetime, who: str = "") -> None:
        """An event with time `ts` was applied; `who`: its call id ("" for presence).

        `who` tells two calls apart: only an event of another call can confirm a
        jump ahead, so a call with every event dated 2100 cannot move the clock.
        """
        epoch = ts.timestamp()  # exact for any aware datetime, years 1 to 9999
        wall = self._wall()
        if self._anchor is None:
            reading = self._epoch_now()
            if not self.live or epoch <= reading + self.window_s:
                # The first event sets the feed's time (a replay's, or a live feed's
                # when its time is not ahead of the wall clock by more than the window).
                self._held = None
                self._set_anchor(ts, epoch, wall)
                return
        else:
            reading = self._anchor_epoch + (wall - self._anchor_wall) * self.rate
            if epoch <= reading:
                return
            if epoch - reading <= self.window_s:
                self._held = None
                self._set_anchor(ts, epoch, wall)
                return
        held = self._held
        if held is None or (held[2] != who and epoch < held[0] - self.window_s):
            # Nothing held, or this one is far nearer the clock than what was held
            # (which is then the likelier wrong clock): hold this one.
            self._held = (epoch, ts, who)
            return
        if held[2] == who:
            if epoch < held[0]:
                self._held = (epoch, ts, who)
            return
        # Another call agrees that time moved on: go to the earlier of the two, then
        # take the later one as any event (at once if near, else held in turn).
        self._held = None
        first, second = sorted(((held[0], held[1], held[2]), (epoch, ts, who)))
        self._set_anchor(first[1], first[0], wall)
        self.seen(second[1], second[2])

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
        """The feed's time now: the wall clock until the first event.

        Clamped to datetime's range: a clock anchored near year 9999 stops there.
        """
        if self._anchor is None:
            return datetime.now(UTC)
        elapsed = (self._wall() - self._anchor_wall) * self.rate
        try:
            # May overflow on the anchor's own offset even when UTC would not
            # (9999-12-31T23:59:59+14:00 plus one second).
            return self._anchor + timedelta(seconds=elapsed)
        except OverflowError:
            return LATEST if elapsed > 0 else EARLIEST
