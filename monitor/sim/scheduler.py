"""The simulation's clock and scheduler: simulated milliseconds, one seeded RNG, an event buffer.

Actions are (time, order, function, arguments) on a heap; ties in time run in the
order they were scheduled. An action emits events stamped with its own instant only,
so the run's events come out in time order without sorting.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from classifier.schema import (
    Event,
)
from monitor.sim.config import SimConfig
from monitor.sim.state import Phase, SimCall

HOUR = 3_600_000
DAY = 24 * HOUR


class Scheduler:
    """Clock, random draws and event output shared by every part of the simulation."""

    def __init__(self, config: SimConfig) -> None:
        self.cfg = config
        self.b = config.behaviour
        self.rng = random.Random(config.seed)
        self.now = 0
        self.end: int | None = None if config.hours is None else round(config.hours * HOUR)
        self._heap: list[tuple[int, int, Callable[..., None], tuple[Any, ...]]] = []
        self._order = 0
        self._out: list[Event] = []
        self._ts: datetime | None = None
        start = config.start
        self._start_hour = start.hour + start.minute / 60 + start.second / 3600
        self._first_midnight = -round(self._start_hour * HOUR)

    # --- scheduling ---------------------------------------------------------------

    def _schedule(self, delay: int, fn: Callable[..., None], *args: Any) -> None:
        self._order += 1
        heapq.heappush(self._heap, (self.now + max(0, delay), self._order, fn, args))

    def _later(self, call: SimCall, delay: int, fn: Callable[[SimCall], None]) -> None:
        """Run a step of this call's flow unless the call has moved on meanwhile."""
        self._schedule(delay, self._step, call, call.stamp, fn)

    def _step(self, call: SimCall, stamp: int, fn: Callable[[SimCall], None]) -> None:
        if call.stamp == stamp:
            fn(call)

    def events(self) -> Iterator[Event]:
        """Run the simulation, yielding events in time order as they happen."""
        heap = self._heap
        while heap:
            when, _, fn, args = heapq.heappop(heap)
            if when != self.now:
                self.now = when
                self._ts = None
            fn(*args)
            if self._out:
                yield from self._out
                self._out.clear()

    @property
    def over(self) -> bool:
        """Past the end of the run: no new arrivals, logins, pauses or logouts."""
        return self.end is not None and self.now >= self.end

    # --- random draws ----------------------------------------------------------------

    def _ms(self, seconds: float) -> int:
        return round(seconds * 1000)

    def _uniform(self, bounds: tuple[float, float]) -> int:
        return self._ms(self.rng.uniform(*bounds))

    def _chance(self, p: float) -> bool:
        return self.rng.random() < p

    def _talk_time(self) -> int:
        b = self.b
        return self._ms(max(5.0, self.rng.lognormvariate(math.log(b.talk_median_s), b.talk_sigma)))

    # --- the clock of the centre -------------------------------------------------------

    def _hour_of_day(self, at: int) -> float:
        return (self._start_hour + at / HOUR) % 24

    def is_open(self, at: int) -> bool:
        """Whether the centre is open at `at` (milliseconds since the start of the run)."""
        if self.cfg.open_all_day:
            return True
        hour = self._hour_of_day(at)
        return self.cfg.opens <= hour < self.cfg.closes

    def ts(self) -> datetime:
        """The simulated time now (`start` plus `now` milliseconds), kept until the clock moves."""
        if self._ts is None:
            self._ts = self.cfg.start + timedelta(milliseconds=self.now)
        return self._ts

    def _emit(self, event: Event) -> None:
        self._out.append(event)

    def _enter(self, call: SimCall, phase: Phase) -> None:
        call.phase = phase
        call.stamp += 1
