"""Figure 3: the wallboard under load, beside a naive DataTable board.

One real hub (`callboard serve`, its own process) is prefilled with the
simulator's warm-up so that `open_calls` calls are in progress, then each
board connects headless (`run_test`) in this process and a feeder process
publishes the simulator's stream at a steady rate. Feed-to-screen latency is
from the hub's receive time of an event to the first frame showing its seq.

The naive board is tried at rising rates until it stops keeping up (see
`LoadRun.kept_up`); its last sustained rate is the baseline. The real board
runs the issue's load (`load_rate` for `load_seconds`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import urllib.request
from dataclasses import asdict
from typing import Any

from bench.board_probe import LoadRun, MeasuredBoard, run_load
from bench.eventlog import generate, warmup_events
from bench.hubproc import HubProcess
from bench.naive_board import NaiveBoard
from bench.publisher import publish, wire_lines
from bench.report import Figure, Measure, ratio
from bench.scale import Scale

KEY = "load"
TITLE = "3. wallboard under load"
GOAL_P99_MS = 250.0
GOAL_FACTOR = 20.0


def _health(hub: HubProcess) -> dict[str, Any]:
    with urllib.request.urlopen(hub.base_url.replace("ws://", "http://") + "/health") as reply:
        data: dict[str, Any] = json.load(reply)
        return data


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """The naive board at rising rates, then the real board at the issue's load."""
    figure = Figure(KEY, TITLE)
    seed = 3
    prefill = warmup_events(scale.open_calls, seed)
    with HubProcess("--queue-limit", "1000000") as hub:
        lines = wire_lines(generate(prefill, scale.open_calls, seed))
        asyncio.run(publish(hub.publish_url, lines))
        published = prefill
        in_progress = _health(hub)["calls_in_progress"]
        naive_runs: list[LoadRun] = []
        for rate in scale.naive_rates:
            seq = _health(hub)["seq"]
            result = asyncio.run(
                run_load(
                    NaiveBoard(hub.events_url),
                    "naive DataTable",
                    hub.publish_url,
                    seq,
                    rate,
                    scale.naive_seconds,
                    scale.open_calls,
                    skip=published,
                    seed=seed,
                )
            )
            published += result.published
            naive_runs.append(result)
            if not result.kept_up:
                break
        seq = _health(hub)["seq"]
        board = asyncio.run(
            run_load(
                MeasuredBoard(hub.events_url),
                "callboard",
                hub.publish_url,
                seq,
                scale.load_rate,
                scale.load_seconds,
                scale.open_calls,
                skip=published,
                seed=seed,
            )
        )
        in_progress_end = _health(hub)["calls_in_progress"]
    sustained = max((r.rate for r in naive_runs if r.kept_up), default=0.0)
    # The real board's sustained rate is at least the load it kept up with.
    board_rate = scale.load_rate if board.kept_up else 0.0
    figure.add(
        Measure(
            "feed-to-screen p99",
            board.latency_p99_ms,
            "ms",
            baseline=_at(naive_runs, sustained).latency_p99_ms if sustained else None,
            baseline_name=f"naive at {sustained:g} ev/s" if sustained else "",
            goal=f"< {GOAL_P99_MS:g} ms",
            met=board.latency_p99_ms is not None and board.latency_p99_ms < GOAL_P99_MS,
        )
    )
    figure.add(Measure("feed-to-screen p50", board.latency_p50_ms, "ms"))
    figure.add(Measure("frames per second", board.fps, "fps"))
    figure.add(Measure("CPU share (app)", board.cpu_share * 100, "% core"))
    figure.add(
        Measure(
            "backlog at end",
            board.backlog_at_end,
            "events",
            goal="none (drained within 1 s)",
            met=board.drain_s is not None and board.drain_s <= 1.0,
        )
    )
    figure.add(
        Measure(
            "sustained event rate",
            board_rate,
            "ev/s",
            baseline=sustained,
            baseline_name="naive DataTable",
            ratio=ratio(board_rate, sustained),
            ratio_name="(at least)",
            goal=f">= {GOAL_FACTOR:g}x naive",
            met=bool(sustained) and board_rate >= GOAL_FACTOR * sustained,
        )
    )
    if not sustained and scale.naive_rates:
        figure.note = (
            f"the naive board kept up with none of the rates tried ({scale.naive_rates[0]} ev/s "
            "and up)"
        )
    figure.details = {
        "open_calls_target": scale.open_calls,
        "calls_in_progress_at_start": in_progress,
        "calls_in_progress_at_end": in_progress_end,
        "prefill_events": prefill,
        "board": asdict(board),
        "naive": [asdict(r) for r in naive_runs],
    }
    return figure


def _at(runs: list[LoadRun], rate: float) -> LoadRun:
    return next(itertools.dropwhile(lambda r: r.rate != rate, runs))
