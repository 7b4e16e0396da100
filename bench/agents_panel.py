"""Figure 8: what the agents panel costs under load, the board with it shown beside without.

    python -m bench --only agents
    python -m bench.agents_panel [--agents 2000] [--calls 5000] [--rate 1000] [--seconds 20]

Issue 16's goals, measured in one run: 2,000 agents and 5,000 calls in progress at
1,000 ev/s with the agents panel shown, feed-to-screen p99 under 250 ms and CPU within
1.25x of the same load with the panel hidden; terminal bytes at 80x24 over SSH under
10 kB/s with the panel open.

The floor is the simulator's heavy centre staffed with `agents` (`heavy_config(
in_progress=calls, agents=agents)`): every agent on a call and the rest of the calls
waiting in the queue, held there. Its warm-up is fed at once (the board opens on a
floor at full load), then the stream at `rate` events a second for `seconds`,
in-process (`bench.board_capacity.measure_rate`, as figure 3's ladder: the hub's own
frames, each stamped with the time it was due).

Two boards at 200x60, in alternating turns so that a slow moment of the shared
machine falls on both: the real board with its agents panel on screen, and the same
board with the panel hidden (`display` off: no rows sorted, none drawn) and its room
left blank, so that the other widgets draw as many rows as beside the panel. Each
board goes first in every other turn. Each turn's
board is dropped (and the garbage collected) before the next starts: boards kept
alive made every later turn's collections walk their objects too. The p99 judged is
the pooled events' of all turns (each turn's is kept too). CPU is compared on the turns in
which both boards kept up (`LoadRun.kept_up`): one starved by the shared machine
falls behind, draws fewer frames and spends less, which says nothing of the panel.

Beside them, the panel's own part: putting the floor's agents in order after each
frame's events, kept between frames (`monitor.agents_view.AgentOrder`) against sorted
anew (`agent_rows`, what the panel did before), taking turns on the same day.

Terminal bytes: figure 4's `callboard watch` over SSH on a real 80x24 pty (its
300-call centre, 100 ev/s, bytes counted), once as it opens (an outcome panel, the
baseline) and once with the agents panel opened by `a`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from textual.widgets import Static
from typing_extensions import override

from bench.board_capacity import FrameStock, PacedFeed, measure_rate
from bench.board_probe import LoadRun, MeasuredBoard, feed_to_screen
from bench.eventlog import generate, warmup_events
from bench.hubproc import HubProcess
from bench.pty_board import OVER_SSH, PtyRun, board_commands, run_in_pty
from bench.publisher import publish, wire_lines
from bench.report import Figure, Measure, ratio, render
from bench.scale import FULL, SMOKE, Scale
from bench.stats import percentile
from classifier.agents import AgentsDay
from classifier.schema import event_from_dict
from monitor.agents_view import AgentOrder, AgentSort, agent_rows
from monitor.app.launch import LOCAL_REFRESH_HZ
from monitor.board import Filter
from monitor.feed.protocol import encode_event_frame
from monitor.sim.config import heavy_config
from monitor.sim.model import simulate

KEY = "agents"
TITLE = "13. agents panel under load"
GOAL_P99_MS = 250.0
GOAL_CPU_FACTOR = 1.25
GOAL_BYTES = 10_000.0
#: Figure 4's centre and rate: a demo-sized floor at 100 ev/s.
BANDWIDTH_CALLS = 300
BANDWIDTH_RATE = 100.0


@dataclass(frozen=True)
class Sizes:
    """The floor, the load and how long each part runs."""

    agents: int
    calls: int
    rate: float
    seconds: float
    turns: int
    bandwidth_seconds: float
    #: Seconds a pty board runs before it is measured (and again after a key).
    warmup_seconds: float


def sizes_for(scale: Scale) -> Sizes:
    """The issue's floor for a full run; a small floor for seconds in the smoke run."""
    if scale.smoke:
        return Sizes(40, 100, 200.0, 1.0, 1, scale.bandwidth_seconds, scale.warmup_seconds)
    return Sizes(2000, 5000, 1000.0, 20.0, 3, scale.bandwidth_seconds, scale.warmup_seconds)


class HiddenAgentsBoard(MeasuredBoard):
    """The measured board with its agents panel hidden and its room left blank: the baseline.

    Hidden alone, the panel's room would go to the active calls and the outcome
    panels, which would then draw more rows than the board with the panel shown.
    """

    @override
    def on_mount(self) -> None:
        """Mount as the real board does, then hide the agents panel and keep its room."""
        super().on_mount()
        agents = self.query_one("#agents")
        agents.display = False
        room = Static("", id="agents-room")
        room.styles.height = agents.styles.height
        self.mount(room, after=agents)


class FloorStock(FrameStock):
    """The staffed heavy centre's stream as hub event frames, and how many make its warm-up."""

    def __init__(self, agents: int, calls: int, seed: int) -> None:
        config = heavy_config(seed=seed, in_progress=calls, agents=agents)
        settled = config.start + timedelta(seconds=config.warmup_s)
        events = simulate(config)
        self._source = (event.to_wire() for event in events)
        self._frames = []
        #: Events before the centre settles: the prefill each board opens on.
        self.warmup = 0
        for event in events:
            self.warmup += 1
            seq = self.warmup
            self._frames.append(
                encode_event_frame(event_from_dict(dict(event.to_wire(), seq=seq)), seq, 0.0)
            )
            if event.ts >= settled:
                break


@dataclass
class Turns:
    """Every run of the two boards, and the floor the last one ended on."""

    shown: list[LoadRun]
    hidden: list[LoadRun]
    #: Every streamed event's feed-to-screen milliseconds, all turns of each board pooled.
    latencies: dict[str, list[float]] = field(default_factory=dict)
    agents: int = 0
    in_progress: int = 0


def turns(sizes: Sizes, seed: int = 3) -> Turns:
    """The two boards in alternating turns, each fresh, at the floor's load."""
    stock = FloorStock(sizes.agents, sizes.calls, seed)
    print(f"  agents panel: warm-up of {stock.warmup:,} events", file=sys.stderr)
    result = Turns([], [])
    for turn in range(sizes.turns):
        # Each board goes first in every other turn: neither always follows the other.
        for hidden in (False, True) if turn % 2 == 0 else (True, False):
            floor: list[MeasuredBoard] = []

            def make(
                feed: PacedFeed, hidden: bool = hidden, floor: list[MeasuredBoard] = floor
            ) -> MeasuredBoard:
                kind = HiddenAgentsBoard if hidden else MeasuredBoard
                floor.append(kind(feed, source="paced feed"))
                return floor[0]

            name = "hidden" if hidden else "shown"
            run = asyncio.run(
                measure_rate(make, f"agents {name}", stock, stock.warmup, sizes.rate, sizes.seconds)
            )
            (result.hidden if hidden else result.shown).append(run)
            latencies, _ = feed_to_screen(floor[0], stock.warmup + 1)
            result.latencies.setdefault(name, []).extend(latencies)
            result.agents = len(floor[0].board.agents)
            result.in_progress = len(floor[0].board.calls)
            floor.clear()
            gc.collect()
    return result


def order_cost(sizes: Sizes, seed: int = 3, frames: int = 200) -> tuple[float, float]:
    """Milliseconds a frame the panel's order takes on the floor, kept between frames
    (`AgentOrder`) and sorted anew (`agent_rows`, what the panel did before), taking
    turns on the same day after each frame's events (a frame at 10 Hz of `rate`)."""
    config = heavy_config(seed=seed, in_progress=sizes.calls, agents=sizes.agents)
    settled = config.start + timedelta(seconds=config.warmup_s)
    day = AgentsDay()
    events = simulate(config)
    for event in events:
        day.apply(event)
        if event.ts >= settled:
            break
    per_frame = max(1, round(sizes.rate / LOCAL_REFRESH_HZ))
    order, unfiltered = AgentOrder(), Filter()
    stamps: dict[str, tuple[datetime, float]] = {}
    order.rows(day, AgentSort.STATE, unfiltered)
    agent_rows(day, AgentSort.STATE, unfiltered, stamps)
    kept = anew = 0.0
    for _ in range(frames):
        for event in itertools.islice(events, per_frame):
            day.apply(event)
        start = time.perf_counter()
        order.rows(day, AgentSort.STATE, unfiltered)
        middle = time.perf_counter()
        agent_rows(day, AgentSort.STATE, unfiltered, stamps)
        kept, anew = kept + middle - start, anew + time.perf_counter() - middle
    return kept / frames * 1000, anew / frames * 1000


def bandwidth(sizes: Sizes) -> tuple[PtyRun, PtyRun]:
    """Figure 4's SSH measurement at 80x24 (`callboard watch` over SSH on a real pty, a hub
    fed 100 ev/s): (as it opens, with the agents panel opened by `a`)."""
    seed = 4
    prefill = warmup_events(BANDWIDTH_CALLS, seed)
    runs = []
    with HubProcess("--queue-limit", "1000000") as hub:
        lines = wire_lines(generate(prefill, BANDWIDTH_CALLS, seed))
        asyncio.run(publish(hub.publish_url, lines))
        published = prefill
        cmd, ssh = board_commands(hub.events_url)[OVER_SSH]
        for name, keys in (("outcome panel", b""), ("agents panel", b"a")):
            run = run_in_pty(
                name,
                cmd,
                hub,
                80,
                24,
                BANDWIDTH_RATE,
                sizes.bandwidth_seconds,
                BANDWIDTH_CALLS,
                skip=published,
                seed=seed,
                warmup=sizes.warmup_seconds,
                ssh=ssh,
                keys=keys,
            )
            published += run.published
            runs.append(run)
    return runs[0], runs[1]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def measure(sizes: Sizes) -> Figure:
    """Both boards at the floor's load, then the bytes over SSH: the figure."""
    figure = Figure(KEY, TITLE)
    kept_ms, anew_ms = order_cost(sizes)
    done = turns(sizes)
    opened, agents_open = bandwidth(sizes)
    p99 = {name: percentile(done.latencies.get(name, []), 99) for name in ("shown", "hidden")}
    p50 = {name: percentile(done.latencies.get(name, []), 50) for name in ("shown", "hidden")}
    worst = {
        name: max((r.latency_p99_ms or float("inf")) for r in runs)
        for name, runs in (("shown", done.shown), ("hidden", done.hidden))
    }
    # The same load means both boards kept up: a board starved by the shared machine
    # falls behind, draws fewer frames and spends less, which says nothing of the panel.
    pairs = [
        (a, b) for a, b in zip(done.shown, done.hidden, strict=True) if a.kept_up and b.kept_up
    ]
    judged = pairs or list(zip(done.shown, done.hidden, strict=True))
    cpu_shown = _mean([a.cpu_share for a, _ in judged])
    cpu_hidden = _mean([b.cpu_share for _, b in judged])
    factor = ratio(cpu_shown, cpu_hidden)
    load = f"{done.agents:,} agents, {done.in_progress:,} calls, {sizes.rate:,.0f} ev/s"
    figure.add(
        Measure(
            f"feed-to-screen p99, agents panel shown ({load}; {sizes.turns} turns pooled)",
            p99["shown"],
            "ms",
            baseline=p99["hidden"],
            baseline_name="panel hidden, same run",
            ratio=ratio(p99["shown"], p99["hidden"]),
            goal=f"< {GOAL_P99_MS:g} ms",
            met=p99["shown"] is not None and p99["shown"] < GOAL_P99_MS,
        )
    )
    figure.add(
        Measure(
            "feed-to-screen p99 of the worst turn",
            worst["shown"],
            "ms",
            baseline=worst["hidden"],
            baseline_name="hidden",
        )
    )
    figure.add(
        Measure(
            "feed-to-screen p50 (turns pooled)",
            p50["shown"],
            "ms",
            baseline=p50["hidden"],
            baseline_name="hidden",
        )
    )
    figure.add(
        Measure(
            f"CPU share, panel shown (mean of the {len(pairs)} of {sizes.turns} turns "
            "both boards kept up)"
            if pairs
            else "CPU share, panel shown (mean of turns; in none did both keep up)",
            cpu_shown * 100,
            "% core",
            baseline=cpu_hidden * 100,
            baseline_name="panel hidden",
            ratio=factor,
            goal=f"<= {GOAL_CPU_FACTOR:g}x hidden",
            met=factor is not None and factor <= GOAL_CPU_FACTOR,
        )
    )
    figure.add(
        Measure(
            f"agents in order, a frame of {sizes.rate / LOCAL_REFRESH_HZ:,.0f} events (state sort)",
            kept_ms,
            "ms",
            baseline=anew_ms,
            baseline_name="sorted anew each frame, as before",
            ratio=ratio(kept_ms, anew_ms),
        )
    )
    figure.add(
        Measure(
            f"80x24 over SSH at {BANDWIDTH_RATE:g} ev/s, agents panel open",
            agents_open.bytes_per_s / 1000,
            "kB/s",
            baseline=opened.bytes_per_s / 1000,
            baseline_name="as it opens (outcome panel)",
            ratio=ratio(agents_open.bytes_per_s, opened.bytes_per_s),
            goal=f"< {GOAL_BYTES / 1000:g} kB/s",
            met=agents_open.bytes_per_s < GOAL_BYTES,
        )
    )
    if done.in_progress < 0.9 * sizes.calls or done.agents < sizes.agents:
        figure.note = (
            f"the floor ended at {done.agents:,} agents and {done.in_progress:,} calls in "
            f"progress, short of {sizes.agents:,} and {sizes.calls:,}"
        )
    figure.details = {
        "sizes": asdict(sizes),
        "agents": done.agents,
        "calls_in_progress_at_end": done.in_progress,
        "shown": [asdict(r) for r in done.shown],
        "hidden": [asdict(r) for r in done.hidden],
        "bandwidth": [asdict(opened), asdict(agents_open)],
        "bandwidth_calls": BANDWIDTH_CALLS,
        "order_ms_per_frame": {"kept": kept_ms, "sorted_anew": anew_ms},
    }
    return figure


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """The figure at the issue's floor (or the smoke run's small one)."""
    return measure(sizes_for(scale))


def main(argv: list[str] | None = None) -> int:
    """Run the figure with sizes from the command line and print its table."""
    full = sizes_for(FULL)
    parser = argparse.ArgumentParser(prog="python -m bench.agents_panel")
    parser.add_argument("--agents", type=int, default=full.agents)
    parser.add_argument("--calls", type=int, default=full.calls, help="calls in progress")
    parser.add_argument("--rate", type=float, default=full.rate, help="events a second")
    parser.add_argument("--seconds", type=float, default=full.seconds)
    parser.add_argument("--turns", type=int, default=full.turns)
    parser.add_argument("--bandwidth-seconds", type=float, default=full.bandwidth_seconds)
    parser.add_argument("--smoke", action="store_true", help="the smoke run's sizes")
    args = parser.parse_args(argv)
    if args.smoke:
        sizes = sizes_for(SMOKE)
    else:
        sizes = Sizes(
            args.agents,
            args.calls,
            args.rate,
            args.seconds,
            args.turns,
            args.bandwidth_seconds,
            full.warmup_seconds,
        )
    figure = measure(sizes)
    figure.settle()
    render([figure], Console(width=160))
    return 0


if __name__ == "__main__":
    sys.exit(main())
