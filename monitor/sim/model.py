"""The contact centre as a seeded discrete-event simulation, yielding schema v1 events.

Pure and deterministic: no I/O, no asyncio, no wall clock. The clock is an integer
count of simulated milliseconds from `SimConfig.start`; every decision comes from
one `random.Random(seed)` drawn in a fixed order, and ties in time are broken by
the order actions were scheduled. So the same config gives the same events, and
`simulate(config)` can be written to a file, paced for a live feed, or counted.

Each action runs at the current simulated instant and only emits events stamped
with that instant, so the events come out in time order without sorting.

The parts: `scheduler.py` (clock, RNG, output), `state.py` (calls and agents),
`agents.py` (shifts, breaks, presence), `flows.py` (inbound call flow and the end of
every call), `outbound.py` (outbound calls), `truth.py` (the ground truth); this
module adds the arrivals and `simulate()`.

The model, in short (docs/simulator.md has the whole story):

* inbound calls arrive as a Poisson process (thinned by the daily profile), pass an
  optional welcome greeting and IVR, an optional available-agents greeting, then wait
  in a queue whose agents are rung in turn (longest idle first);
* callers have exponential patience and hang up wherever they are when it runs out;
* out of hours the flow goes to voicemail; in hours the queue can time out (to
  voicemail or a system exit) and a queue with nobody logged in sends callers away;
* agents work shifts, take breaks, wrap up after calls; all of it is `agent.status`;
* some inbound calls and most outbound calls go through Exotel's flows and carry leg
  statuses on `call.ended`;
* every `call.ended` carries `truth`: the simulator's own verdict (see `truth.py`).
"""

from __future__ import annotations

from collections.abc import Iterator

from classifier.schema import (
    Event,
)
from monitor.sim.config import SimConfig
from monitor.sim.outbound import Outbound
from monitor.sim.scheduler import HOUR


class Centre(Outbound):
    """The whole centre: arrivals on top of staff, call flow and outbound calls.

    Use `simulate()` rather than this class directly.
    """

    def __init__(self, config: SimConfig) -> None:
        super().__init__(config)
        self._profile = config.hourly_profile()
        self._peak = max(self._profile)
        self._schedule(0, self._plan_day, 0)
        self._schedule_arrival(inbound=True)
        self._schedule_arrival(inbound=False)

    def _schedule_arrival(self, inbound: bool) -> None:
        share = self.cfg.outbound_share
        rate = self.cfg.calls_per_hour * ((1 - share) if inbound else share)
        if rate <= 0:
            return
        # Thinning: candidates at the peak rate, kept in proportion to the hour's rate.
        gap = self.rng.expovariate(rate * self._peak / HOUR)
        self._schedule(round(gap), self._arrival, inbound)

    def _arrival(self, inbound: bool) -> None:
        if self.over:
            return
        hour = int(self._hour_of_day(self.now))
        keep = self.rng.random() < self._profile[hour] / self._peak
        if keep:
            if inbound:
                self._inbound()
            elif self.is_open(self.now):
                self._outbound()
        self._schedule_arrival(inbound)


def simulate(config: SimConfig) -> Iterator[Event]:
    """Every event of a simulated run, in time order (endless when `config.hours` is None).

    A finite run stops taking calls at `hours` and then lets the calls in progress
    finish, so every call in the output is closed by a `call.ended`.
    """
    return Centre(config).events()
