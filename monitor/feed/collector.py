"""The garbage collector's pace in a `callboard serve` process.

CPython's cycle collector runs its young generation every 700 allocations of
container objects (net of those freed: the default threshold), every tenth young
run the middle generation, and every tenth of those the whole heap when it has
grown by a quarter. A hub allocates many short-lived objects per event (the
event's copy with its seq, the tracker's result, the day's rows, the receiver's
request objects) and keeps some (a call's events, the finished calls it remembers):
about 2.3 more container objects an event until its bounds are reached.

Measured in-process on a fresh hub publishing 50,000 events (`bench/hub_publish.py`,
figure 9): at the default pace the collector took a fifth to a quarter of the
publish path's CPU (Exotel deliveries' events 24.6 µs with it, 20.3 µs without;
simulated events 31.1 and 20.4), at `YOUNG_THRESHOLD` 20.2 and 25.0. Collecting the
young generation less often leaves more short-lived objects freed by their
reference counts before any run walks them, and the older generations (each still
run after ten of the one below) come fourteen times less often. In serve, under
figure 7's burst of webhook deliveries, the pacing alone lowered the CPU per
delivery by about 5% (six pairs of runs in turns, bench/README.md). The hub makes
almost no cyclic garbage (a call's objects go with their references when it ends,
a frame's text when it leaves the ring), so little memory waits for a run. The
stdlib's own knob (`gc.set_threshold`), in serve's process alone: the board and
`classify` keep the default.
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
