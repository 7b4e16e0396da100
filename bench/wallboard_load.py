"""Figure 3: the wallboard under load, beside a naive DataTable board.

Two parts. The issue's load through a real hub: one `callboard serve` process
is prefilled with the simulator's warm-up so that `open_calls` calls are in
progress, then each board connects headless (`run_test`) in this process and
a feeder process publishes the simulator's stream at `load_rate`; feed-to-screen
latency is from the hub's receive time of an event to the first frame showing
its seq. The naive board runs the same load, for its baseline latency.

Then each board's sustainable rate: fed in-process at rising rates
(`bench.board_capacity`, which says why not through the hub) until it stops
keeping up (`LoadRun.kept_up`). The goal compares the two.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from dataclasses import asdict
from typing import Any

from bench.board_capacity import FrameStock, PacedFeed, capped, ladder, sustained
from bench.board_probe import LoadRun, MeasuredBoard, run_load
from bench.eventlog import generate, warmup_events
from bench.hubproc import HubProcess
from bench.naive_board import NaiveBoard
from bench.publisher import publish, wire_lines
from bench.report import Figure, Measure, ratio
from bench.scale import Scale
from monitor.app.hub_feed import hub_runner

KEY = "load"
TITLE = "3. wallboard under load"
GOAL_P99_MS = 250.0
GOAL_FACTOR = 20.0


def _health(hub: HubProcess) -> dict[str, Any]:
    with urllib.request.urlopen(hub.base_url.replace("ws://", "http://") + "/health") as reply:
        data: dict[str, Any] = json.load(reply)
        return data


def _through_hub(scale: Scale, seed: int) -> tuple[LoadRun, LoadRun, dict[str, Any]]:
    """Both boards at the issue's load through a real hub: (real, naive, hub details)."""
    prefill = warmup_events(scale.open_calls, seed)
    with HubProcess("--queue-limit", "1000000") as hub:
        lines = wire_lines(generate(prefill, scale.open_calls, seed))
        asyncio.run(publish(hub.publish_url, lines))
        published = prefill
        in_progress = _health(hub)["calls_in_progress"]
        runs: list[LoadRun] = []
        boards = (
            (MeasuredBoard(hub_runner(hub.events_url), source=hub.events_url), "callboard"),
            (NaiveBoard(hub_runner(hub.events_url)), "naive DataTable"),
        )
        for board, name in boards:
            seconds = scale.load_seconds if name == "callboard" else scale.naive_seconds
            run = asyncio.run(
                run_load(
                    board,
                    name,
                    hub.publish_url,
                    _health(hub)["seq"],
                    scale.load_rate,
                    seconds,
                    scale.open_calls,
                    skip=published,
                    seed=seed,
                )
            )
            published += run.published
            runs.append(run)
        details = {
            "calls_in_progress_at_start": in_progress,
            "calls_in_progress_at_end": _health(hub)["calls_in_progress"],
            "prefill_events": prefill,
        }
    return runs[0], runs[1], details


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Both boards at the issue's load through a hub, then each one's sustainable rate."""
    figure = Figure(KEY, TITLE)
    seed = 3
    board, naive, hub_details = _through_hub(scale, seed)
    stock = FrameStock(scale.open_calls, seed)
    prefill = hub_details["prefill_events"]

    def real(feed: PacedFeed) -> MeasuredBoard:
        return MeasuredBoard(feed, source="paced feed")

    steps = scale.ladder_seconds, scale.ladder_refine
    real_runs = ladder(real, "callboard", stock, prefill, scale.board_rates, *steps)
    naive_runs = ladder(NaiveBoard, "naive DataTable", stock, prefill, scale.naive_rates, *steps)
    board_rate, naive_rate = sustained(real_runs), sustained(naive_runs)
    figure.add(
        Measure(
            f"feed-to-screen p99 at {scale.load_rate:,} ev/s",
            board.latency_p99_ms,
            "ms",
            baseline=naive.latency_p99_ms,
            baseline_name="naive DataTable, same load",
            goal=f"< {GOAL_P99_MS:g} ms",
            met=board.latency_p99_ms is not None and board.latency_p99_ms < GOAL_P99_MS,
        )
    )
    figure.add(
        Measure(
            "feed-to-screen p50",
            board.latency_p50_ms,
            "ms",
            baseline=naive.latency_p50_ms,
            baseline_name="naive",
        )
    )
    figure.add(Measure("frames per second", board.fps, "fps", baseline=naive.fps))
    figure.add(
        Measure("CPU share (app)", board.cpu_share * 100, "% core", baseline=naive.cpu_share * 100)
    )
    figure.add(
        Measure(
            "backlog at end",
            board.backlog_at_end,
            "events",
            baseline=naive.backlog_at_end,
            baseline_name="naive",
            goal="none (drained within 1 s)",
            met=board.drain_s is not None and board.drain_s <= 1.0,
        )
    )
    figure.add(
        Measure(
            "sustained event rate (in-process ladder)",
            board_rate,
            "ev/s",
            baseline=naive_rate,
            baseline_name="naive DataTable",
            ratio=ratio(board_rate, naive_rate),
            ratio_name="" if capped(real_runs) else "(at least)",
            goal=f">= {GOAL_FACTOR:g}x naive",
            met=bool(naive_rate) and board_rate >= GOAL_FACTOR * naive_rate,
        )
    )
    strict_board, strict_naive = (
        sustained(real_runs, GOAL_P99_MS),
        sustained(naive_runs, GOAL_P99_MS),
    )
    figure.add(
        Measure(
            f"rate held with p99 < {GOAL_P99_MS:g} ms",
            strict_board,
            "ev/s",
            baseline=strict_naive,
            baseline_name="naive DataTable",
            ratio=ratio(strict_board, strict_naive),
        )
    )
    if not naive_rate and scale.naive_rates:
        figure.note = (
            f"the naive board kept up with none of the rates tried ({scale.naive_rates[0]} ev/s "
            "and up)"
        )
    figure.details = {
        "open_calls_target": scale.open_calls,
        **hub_details,
        "board": asdict(board),
        "naive": asdict(naive),
        "ladder_board": [asdict(r) for r in real_runs],
        "ladder_naive": [asdict(r) for r in naive_runs],
    }
    return figure
