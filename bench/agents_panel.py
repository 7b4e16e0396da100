"""What the agents panel costs under load: the board with it shown beside the same board without.

    python -m bench.agents_panel [--agents 2000] [--calls 5000] [--rate 1000] [--seconds 20]

Not a figure of `python -m bench`: the measurement of issue 16's performance goal,
printed as a few lines. The simulator's heavy centre (`heavy_config`) sized for
`--calls` calls in progress, staffed with `--agents` agents; the warm-up is fed at
once (the board opens on a floor at full load), then the stream at `--rate` events
a second for `--seconds`, in-process (`bench.board_capacity.measure_rate`, as figure
3's ladder: the hub's own frames, each stamped with the time it was due). With
fewer agents than the calls need, callers give up (patience about 20 minutes), so
fewer calls are in progress than `--calls`: the last line says how many there were.

Two boards at 200x60, in alternating turns so that a slow moment of the shared
machine falls on both: the real board with its agents panel on screen, and the same
board with the panel hidden (`display` off: no rows sorted, none drawn). The goals
(issue 16): feed-to-screen p99 under 250 ms with the panel shown, and CPU within
1.25x of the hidden board's, both from the same run.

`--bandwidth` measures the third goal instead: figure 4's `callboard watch` over SSH
on a real 80x24 pty (a hub fed 100 ev/s, bytes counted), once as it opens and once
with the agents panel opened by `a`; under 10 kB/s either way.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from datetime import timedelta
from typing import Any

from typing_extensions import override

from bench.board_capacity import FrameStock, PacedFeed, measure_rate
from bench.board_probe import LoadRun, MeasuredBoard
from bench.eventlog import generate, warmup_events
from bench.hubproc import HubProcess
from bench.pty_board import OVER_SSH, board_commands, run_in_pty
from bench.publisher import publish, wire_lines
from bench.stats import percentile
from classifier.schema import event_from_dict
from monitor.feed.protocol import encode_event_frame
from monitor.sim.config import heavy_config
from monitor.sim.model import simulate

GOAL_P99_MS = 250.0
GOAL_CPU_FACTOR = 1.25
GOAL_BYTES = 10_000.0
#: Figure 4's centre and rate: a demo-sized floor at 100 ev/s.
BANDWIDTH_CALLS = 300
BANDWIDTH_RATE = 100.0


class HiddenAgentsBoard(MeasuredBoard):
    """The measured board with its agents panel hidden: the baseline."""

    @override
    def on_mount(self) -> None:
        """Mount as the real board does, then hide the agents panel."""
        super().on_mount()
        self.query_one("#agents").display = False


class FloorStock(FrameStock):
    """The heavy centre's stream as hub event frames, and how many make its warm-up."""

    def __init__(self, agents: int, calls: int, seed: int) -> None:
        config = dataclasses.replace(heavy_config(seed=seed, in_progress=calls), agents=agents)
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


def bandwidth(seconds: float) -> None:
    """Figure 4's SSH measurement at 80x24 (`callboard watch` over SSH on a real pty, a hub
    fed 100 ev/s), with the screen as it opens and with the agents panel opened by `a`."""
    seed = 4
    prefill = warmup_events(BANDWIDTH_CALLS, seed)
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
                seconds,
                BANDWIDTH_CALLS,
                skip=published,
                seed=seed,
                ssh=ssh,
                keys=keys,
            )
            published += run.published
            verdict = "met" if run.bytes_per_s < GOAL_BYTES else "MISSED"
            print(
                f"80x24 over SSH, {name}: {run.bytes_per_s:,.0f} B/s "
                f"(goal < {GOAL_BYTES:,.0f} B/s {verdict}), CPU {run.cpu_share:.1%}"
            )


def main(argv: list[str] | None = None) -> int:
    """Run the turns and print each run and the comparison."""
    parser = argparse.ArgumentParser(prog="python -m bench.agents_panel")
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=5000, help="calls in progress")
    parser.add_argument("--rate", type=float, default=1000.0, help="events a second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--turns", type=int, default=2)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--bandwidth",
        action="store_true",
        help="instead: terminal bytes at 80x24 over SSH, agents panel open or not",
    )
    args = parser.parse_args(argv)
    if args.bandwidth:
        bandwidth(args.seconds)
        return 0
    stock = FloorStock(args.agents, args.calls, args.seed)
    print(f"warm-up: {stock.warmup:,} events", file=sys.stderr)

    def shown(feed: PacedFeed) -> MeasuredBoard:
        return MeasuredBoard(feed, source="paced feed")

    def hidden(feed: PacedFeed) -> MeasuredBoard:
        return HiddenAgentsBoard(feed, source="paced feed")

    runs: dict[str, list[LoadRun]] = {"shown": [], "hidden": []}
    boards: dict[str, list[MeasuredBoard]] = {"shown": [], "hidden": []}
    for _ in range(args.turns):
        for name, make in (("shown", shown), ("hidden", hidden)):

            def keep(feed: PacedFeed, name: str = name, make: Any = make) -> MeasuredBoard:
                board: MeasuredBoard = make(feed)
                boards[name].append(board)
                return board

            run = asyncio.run(
                measure_rate(keep, f"agents {name}", stock, stock.warmup, args.rate, args.seconds)
            )
            runs[name].append(run)
    floor = boards["shown"][-1].board
    in_progress = len(floor.calls)
    print(
        f"floor: {len(floor.agents):,} agents, {in_progress:,} calls in progress at the end",
    )
    cpu = {name: sum(r.cpu_share for r in rs) / len(rs) for name, rs in runs.items()}
    p99 = {name: max((r.latency_p99_ms or float("inf")) for r in rs) for name, rs in runs.items()}
    p50 = {name: percentile([r.latency_p50_ms or 0.0 for r in rs], 50) for name, rs in runs.items()}
    fps = {name: sum(r.fps for r in rs) / len(rs) for name, rs in runs.items()}
    for name in runs:
        turns = ", ".join(f"{r.latency_p99_ms or 0:.0f}" for r in runs[name])
        print(
            f"panel {name:6}: p99 {p99[name]:.0f} ms (worst turn; turns {turns}), "
            f"p50 {p50[name]:.0f} ms, "
            f"{fps[name]:.1f} fps, CPU {cpu[name]:.0%} of a core (mean of {args.turns} turns)"
        )
    factor = cpu["shown"] / cpu["hidden"] if cpu["hidden"] else float("inf")
    print(
        f"p99 with the panel shown {p99['shown']:.0f} ms: goal < {GOAL_P99_MS:g} ms "
        f"{'met' if p99['shown'] < GOAL_P99_MS else 'MISSED'}"
    )
    print(
        f"CPU shown / hidden {factor:.2f}x: goal <= {GOAL_CPU_FACTOR:g}x "
        f"{'met' if factor <= GOAL_CPU_FACTOR else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
