"""The garbage collector's pace in a `callboard serve` process.

CPython's cycle collector runs its young generation every 700 allocations of
container objects (the default threshold), and every tenth young run the middle
one. The hub allocates some thirty such objects per event it publishes (the event's
copy with its seq, the tracker's result, a call and its sets, the day's rows, the
receiver's request objects), so at 2,000 deliveries a second it collected a few
hundred times a second, each run walking the young objects of a heap that holds the
calls in progress and their events. Measured in-process (`bench/hub_publish.py`,
figure 9): the collector was a fifth to a quarter of `Hub.publish`'s CPU (24.7 µs
an Exotel delivery's event with it, 19.5 µs without; 30.4 µs and 22.0 µs a
simulated event).

The hub makes almost no cyclic garbage (its objects are freed by their reference
counts when a call ends or a frame leaves the ring), so collecting less often
costs little memory: `YOUNG_THRESHOLD` allocations between young runs brought the
collector's share under 1 µs an event. The older generations keep their
defaults (each runs after ten of the one below), so a full collection still comes,
only less often. The stdlib's own knob (`gc.set_threshold`); the process is
`serve`'s alone (the board and `classify` keep the defaults).
"""

from __future__ import annotations

import gc

#: Allocations of container objects between two collections of the young generation
#: (CPython's default is 700): about 300 published events.
YOUNG_THRESHOLD = 10_000


def pace_collector() -> None:
    """Collect the young generation every `YOUNG_THRESHOLD` allocations (the rest as they are)."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def collector_stats() -> dict[str, list[int]]:
    """What /health shows under ``collector``: the thresholds and each generation's runs."""
    return {
        "threshold": list(gc.get_threshold()),
        "collections": [generation["collections"] for generation in gc.get_stats()],
    }


__all__ = ["YOUNG_THRESHOLD", "collector_stats", "pace_collector"]
