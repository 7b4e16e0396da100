"""Figure 4: what the board costs an SSH session, in bytes per second, on a real pty.

`callboard watch` and the naive DataTable board each run on a pseudo-terminal
of 80x24 and of 200x60 while a feeder publishes a steady `bandwidth_rate`
events per second to a real hub; every byte either board writes is counted.

`callboard watch` runs twice per size: in an SSH session's environment (its
default repaint rate there is lower, which is what a user of `ssh -t` gets, and
what the goal is judged on) and locally (10 repaints a second), beside it.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from bench.eventlog import generate, warmup_events
from bench.hubproc import HubProcess
from bench.pty_board import LOCAL, NAIVE, OVER_SSH, PtyRun, board_commands, run_in_pty
from bench.publisher import publish, wire_lines
from bench.report import Figure, Measure, ratio
from bench.scale import Scale
from monitor.app.launch import LOCAL_REFRESH_HZ, SSH_REFRESH_HZ

KEY = "bandwidth"
TITLE = "4. terminal bandwidth"
SIZES = ((80, 24), (200, 60))
GOAL_BYTES = 10_000.0
#: A centre the size of the demo: enough calls to fill a 200x60 screen.
OPEN_CALLS = 300


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Bytes per second of the board and of the naive board, per terminal size."""
    figure = Figure(KEY, TITLE)
    seed = 4
    prefill = warmup_events(OPEN_CALLS, seed)
    runs: list[PtyRun] = []
    with HubProcess("--queue-limit", "1000000") as hub:
        asyncio.run(publish(hub.publish_url, wire_lines(generate(prefill, OPEN_CALLS, seed))))
        published = prefill
        commands = board_commands(hub.events_url)
        # The smoke run measures one size: the other takes the same code path.
        sizes = SIZES[:1] if scale.smoke else SIZES
        for columns, rows in sizes:
            for name, (cmd, ssh) in commands.items():
                result = run_in_pty(
                    name,
                    cmd,
                    hub,
                    columns,
                    rows,
                    scale.bandwidth_rate,
                    scale.bandwidth_seconds,
                    OPEN_CALLS,
                    skip=published,
                    seed=seed,
                    warmup=scale.warmup_seconds,
                    ssh=ssh,
                )
                published += result.published
                runs.append(result)
    for columns, rows in sizes:
        ssh_board, local, naive = (
            next(r for r in runs if r.board == name and (r.columns, r.rows) == (columns, rows))
            for name in (OVER_SSH, LOCAL, NAIVE)
        )
        small = (columns, rows) == SIZES[0]
        labels = (
            (ssh_board, f"over SSH ({SSH_REFRESH_HZ:g} repaints/s)"),
            (local, f"local ({LOCAL_REFRESH_HZ:g} repaints/s)"),
        )
        for board, label in labels:
            # The goal is about an SSH session, so it is judged on the board as ssh gets it.
            judged = small and board is ssh_board
            figure.add(
                Measure(
                    f"{columns}x{rows} at {scale.bandwidth_rate} ev/s, {label}",
                    board.bytes_per_s / 1000,
                    "kB/s",
                    baseline=naive.bytes_per_s / 1000,
                    baseline_name=NAIVE,
                    ratio=ratio(board.bytes_per_s, naive.bytes_per_s),
                    goal=f"< {GOAL_BYTES / 1000:g} kB/s" if judged else "",
                    met=board.bytes_per_s < GOAL_BYTES if judged else None,
                )
            )
    figure.details = {"runs": [asdict(r) for r in runs], "open_calls": OPEN_CALLS}
    return figure
