"""Figure 6: what the board costs showing a quiet centre, one event a second.

`callboard watch` on a real pty (200x60, a wall screen) follows a real hub
while a feeder publishes one event a second; the board's CPU share comes from
/proc over the window. The naive DataTable board under the same trickle is the
baseline. The goal is judged on the local board (its default 10 repaints a
second, the dearer case); the same board in an SSH session is shown beside it.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from bench.eventlog import generate, warmup_events
from bench.hubproc import HubProcess
from bench.pty_board import LOCAL, NAIVE, OVER_SSH, board_commands, run_in_pty
from bench.publisher import publish, wire_lines
from bench.report import Figure, Measure, ratio
from bench.scale import Scale
from monitor.app.launch import SSH_REFRESH_HZ

KEY = "idle"
TITLE = "6. idle cost"
GOAL_SHARE = 0.02
OPEN_CALLS = 30
SIZE = (200, 60)


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """CPU share of each board at one event a second."""
    figure = Figure(KEY, TITLE)
    seed = 6
    prefill = warmup_events(OPEN_CALLS, seed)
    with HubProcess() as hub:
        asyncio.run(publish(hub.publish_url, wire_lines(generate(prefill, OPEN_CALLS, seed))))
        commands = board_commands(hub.events_url)
        published = prefill
        runs = []
        for name in (LOCAL, NAIVE, OVER_SSH):
            cmd, ssh = commands[name]
            result = run_in_pty(
                name,
                cmd,
                hub,
                *SIZE,
                rate=1.0,
                seconds=scale.idle_seconds,
                open_calls=OPEN_CALLS,
                skip=published,
                seed=seed,
                warmup=scale.warmup_seconds,
                ssh=ssh,
            )
            published += result.published
            runs.append(result)
    board, naive, ssh_board = runs
    over_ssh = f", over SSH ({SSH_REFRESH_HZ:g} repaints/s)"
    figure.add(
        _against_naive(
            "CPU share at 1 ev/s",
            board.cpu_share,
            naive.cpu_share,
            CPU,
            goal=f"< {GOAL_SHARE:.0%} of a core",
            met=board.cpu_share < GOAL_SHARE,
        )
    )
    figure.add(
        _against_naive("terminal output at 1 ev/s", board.bytes_per_s, naive.bytes_per_s, RATE)
    )
    figure.add(
        _against_naive(f"CPU share at 1 ev/s{over_ssh}", ssh_board.cpu_share, naive.cpu_share, CPU)
    )
    figure.add(
        _against_naive(
            "terminal output at 1 ev/s, over SSH", ssh_board.bytes_per_s, naive.bytes_per_s, RATE
        )
    )
    figure.add(Measure("RSS", board.rss_mb, "MB", baseline=naive.rss_mb, baseline_name="naive"))
    figure.details = {"runs": [asdict(r) for r in runs], "open_calls": OPEN_CALLS}
    return figure


#: How a CPU share (a fraction of a core) and a byte rate (bytes a second) are shown.
CPU = ("% core", 100.0)
RATE = ("kB/s", 1 / 1000)


def _against_naive(
    name: str, value: float, naive: float, shown: tuple[str, float], **goal: Any
) -> Measure:
    """One measure of the board beside the naive board's, shown in `shown`'s unit."""
    unit, scale = shown
    return Measure(
        name,
        value * scale,
        unit,
        baseline=naive * scale,
        baseline_name="naive DataTable",
        ratio=ratio(value, naive),
        **goal,
    )
