"""Figure 9: what `Hub.publish` costs per event, in-process, beside the tracker alone.

`callboard serve` spends its CPU on the wire (websocket or HTTP), the vendor
mappings and `Hub.publish`; figures 5 and 7 measure the whole process. This one
isolates the hub's share, so that a change to the publish path shows as itself
and not in the noise of a shared machine's sockets: a hub with no subscribers
(never started: publishing needs no server) publishes the same events, and the
CPU time per event is taken over the whole list (`time.process_time`), best of
`RUNS`.

Two loads: the simulator's centre (`bench.eventlog`, calls that queue, ring and
talk, agents changing state) and Exotel Passthru deliveries as the webhook
receiver gets them in figure 7 (each a finished busy call: ``call.started`` and
``call.ended``), mapped by the receiver's own `ExotelAdapter`. The baseline is
`CallTracker.apply` alone on the same events: the state machine the hub cannot
do without, so the ratio is what the hub adds to it (seq, frame, day, agents,
ring, checks).

The garbage collector runs at `callboard serve`'s pace (`monitor.feed.collector`),
as in the process this stands for; beside it, in turns, the same hub at CPython's
default pace, which is how serve ran before it paced the collector.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bench.eventlog import generate
from bench.hooks_flood import passthru_url
from bench.report import Figure, Measure, ratio
from bench.scale import Scale
from classifier.schema import Event, event_from_dict
from classifier.tracker import CallTracker
from monitor.feed.collector import pace_collector
from monitor.feed.hub import Hub, HubConfig
from monitor.hooks.server import EXOTEL_PREFIX
from monitor.sources.exotel import ExotelAdapter

KEY = "publish"
TITLE = "15. hub publish path"
#: Runs of each measurement; each is judged by its fastest (the slower measure the neighbours).
RUNS = 3
#: Calls in progress in the simulated centre: a board's worth, so a call's lookups
#: are in a dict of realistic size.
OPEN_CALLS = 500


def simulated(count: int) -> list[Event]:
    """The simulator's first `count` events."""
    return [event_from_dict(wire) for wire in generate(count, OPEN_CALLS, seed=9)]


def exotel_deliveries(count: int) -> list[Event]:
    """The events of `count` Passthru deliveries of figure 7's flood, as the receiver maps them."""
    adapter = ExotelAdapter(id_prefix=EXOTEL_PREFIX)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    events: list[Event] = []
    for i in range(count):
        query = urlsplit(passthru_url("http://bench", f"bench-{i}", None, now)).query
        events.extend(adapter.delivery(dict(parse_qsl(query))))
    return events


def cpu_per_event(
    events: Sequence[Event],
    make: Callable[[], Callable[[Event], Any]],
    thresholds: Sequence[tuple[int, int, int]] = (),
) -> list[float]:
    """Microseconds of CPU per event, the fastest of `RUNS` runs, each on a fresh `make()`:
    one figure per collector threshold in `thresholds` (runs taking turns), or one at
    the collector's current pace."""
    paces = list(thresholds) or [gc.get_threshold()]
    best = [float("inf")] * len(paces)
    current = gc.get_threshold()
    try:
        for _ in range(RUNS):
            for i, pace in enumerate(paces):
                gc.set_threshold(*pace)
                step = make()
                start = time.process_time()
                for event in events:
                    step(event)
                best[i] = min(best[i], time.process_time() - start)
    finally:
        gc.set_threshold(*current)
    return [seconds / len(events) * 1e6 for seconds in best]


def hub_publish() -> Callable[[Event], Any]:
    """`publish` of a fresh hub, checking that every event is accepted."""
    hub = Hub(HubConfig(port=0))

    def step(event: Event) -> None:
        if not hub.publish(event).accepted:
            raise RuntimeError(f"the hub refused {event.type} for {event.call_id}")

    return step


def tracker_apply() -> Callable[[Event], Any]:
    """`apply` of a tracker set up as the hub's is."""
    return CallTracker(max_calls=HubConfig().max_calls).apply


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Hub.publish and the tracker alone, per event, on both loads."""
    figure = Figure(KEY, TITLE)
    count = 5_000 if scale.smoke else 50_000
    loads = {
        "simulated event": simulated(count),
        "Exotel delivery's event": exotel_deliveries(count // 2),
    }
    details: dict[str, Any] = {"runs": RUNS}
    default = gc.get_threshold()
    pace_collector()
    paced = gc.get_threshold()
    gc.set_threshold(*default)
    for name, events in loads.items():
        publish, unpaced = cpu_per_event(events, hub_publish, (paced, default))
        (apply,) = cpu_per_event(events, tracker_apply, (paced,))
        figure.add(
            Measure(
                f"Hub.publish per {name}",
                round(publish, 2),
                "µs",
                baseline=round(apply, 2),
                baseline_name="CallTracker.apply alone",
                ratio=ratio(publish, apply),
                ratio_name="of the tracker's CPU",
            )
        )
        figure.add(
            Measure(
                f"Hub.publish per {name}, collector at CPython's default pace",
                round(unpaced, 2),
                "µs",
                baseline=round(publish, 2),
                baseline_name="at serve's pace",
                ratio=ratio(unpaced, publish),
                ratio_name="of the paced CPU",
            )
        )
        details[name] = {
            "events": len(events),
            "publish_us": publish,
            "publish_default_collector_us": unpaced,
            "apply_us": apply,
        }
    details["collector threshold"] = list(paced)
    details["default collector threshold"] = list(default)
    figure.details = details
    return figure
