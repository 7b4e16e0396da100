"""The simulator in real time: events paced to the wall clock, for demos and live feeds.

Public API (the hub, the wallboard demo and the benchmarks call exactly this)::

    async def live_events(config: SimConfig, speed: float = 1.0) -> AsyncIterator[Event]

* Events come from `monitor.sim.model.simulate(config)`; each is re-stamped to the
  wall clock (the local time zone) and yielded when it is due, so a board fed by it
  ticks with real time.
* `speed` is simulated seconds per real second: 60 plays an hour in a minute (the
  time stamps then advance at the real rate, so durations look 60 times shorter).
* `config.warmup_s` seconds of simulated time are yielded at once when the iterator
  starts, stamped in the past, so the board opens on a centre already at work.
* With `config.hours=None` (as in `demo_config()` and `heavy_config()`) it never
  ends: the centre keeps working day after day. A finite `hours` ends the iterator
  after the last call of the run has finished.
* Cancel it like any async iterator (break out of the loop, or cancel the task).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from classifier.schema import Event
from monitor.sim.config import SimConfig
from monitor.sim.model import simulate

#: During a burst (the warm-up, or a busy instant) give other tasks a turn this often.
YIELD_EVERY = 256


async def live_events(config: SimConfig, speed: float = 1.0) -> AsyncIterator[Event]:
    """The simulated centre's events, paced in real time and stamped with the wall clock."""
    if not speed > 0:
        raise ValueError("speed must be more than zero")
    loop = asyncio.get_running_loop()
    began = loop.time()
    wall_began = datetime.now().astimezone()
    warmup = timedelta(seconds=config.warmup_s)
    burst = 0
    for event in simulate(config):
        # Seconds of real time from the start of the feed to this event (negative
        # during the warm-up, which is stamped in the past).
        offset = ((event.ts - config.start) - warmup).total_seconds() / speed
        delay = began + offset - loop.time()
        if delay > 0:
            burst = 0
            await asyncio.sleep(delay)
        else:
            burst += 1
            if burst % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        yield event.model_copy(update={"ts": wall_began + timedelta(seconds=offset)})
