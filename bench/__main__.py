"""`python -m bench`: run the figures, print the table, write `bench/results.json`.

Goals are reported, not asserted: a missed goal leaves the exit status at 0.
A figure that crashes makes it 1, so the CI smoke run catches a benchmark
that has rotted. A figure whose subject is not built yet is reported pending.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.report import Figure, Pending, Status, render, write_json
from bench.scale import FULL, SMOKE

#: Figure modules in the issue's order; each has KEY, TITLE and run(scale, shared).
FIGURES: tuple[str, ...] = (
    "bench.classify_throughput",
    "bench.report_throughput",
    "bench.memory",
    "bench.wallboard_load",
    "bench.terminal_bandwidth",
    "bench.hub_fanout",
    "bench.idle",
    "bench.hooks_intake",
    "bench.web_sessions",
    "bench.ami_ingest",
    "bench.esl_ingest",
    "bench.journal_restart",
    "bench.day_join",
    "bench.agents_panel",
    "bench.nats_throughput",
    "bench.hub_publish",
    "bench.nats_join",
    "bench.nats_fanout",
    "bench.sites_rebuild",
)

RESULTS = Path(__file__).with_name("results.json")


def _keys() -> dict[str, str]:
    return {module.rsplit(".", 1)[1]: module for module in FIGURES} | {
        importlib.import_module(module).KEY: module for module in FIGURES
    }


def build_parser() -> argparse.ArgumentParser:
    """The command line of `python -m bench`."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Measure callboard against same-run baselines and write bench/results.json. "
            "Goals are reported, not asserted: the exit status is 1 only if a figure crashed."
        ),
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="scaled-down run of every figure, a few seconds each (what CI runs)",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        help="run only these figures (by key or module name: "
        "classify, report, memory, load, bandwidth, fanout, idle, hooks, web, ami, esl, "
        "restart, join, agents, nats, publish, natsjoin, natsfanout)",
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help=f"results file (default {RESULTS})"
    )
    return parser


def run_figure(module_name: str, shared: dict[str, Any], smoke: bool, console: Console) -> Figure:
    """Run one figure; a missing subject becomes pending, any other exception an error."""
    module = importlib.import_module(module_name)
    scale = SMOKE if smoke else FULL
    console.print(f"[dim]running {module.TITLE} ...[/dim]")
    start = time.perf_counter()
    try:
        figure: Figure = module.run(scale, shared)
        figure.settle()
    except Pending as exc:
        figure = Figure(module.KEY, module.TITLE, status=Status.PENDING, note=str(exc))
    except Exception as exc:
        traceback.print_exc()
        figure = Figure(
            module.KEY, module.TITLE, status=Status.ERROR, note=f"{type(exc).__name__}: {exc}"
        )
    figure.seconds = round(time.perf_counter() - start, 1)
    # The machine is shared: how busy it was says how far to trust the absolute numbers.
    figure.details["loadavg_1min_at_end"] = round(os.getloadavg()[0], 2)
    return figure


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    console = Console(stderr=True)
    keys = _keys()
    selected = list(FIGURES)
    if args.only:
        unknown = [name for name in args.only if name not in keys]
        if unknown:
            console.print(
                f"python -m bench: unknown figure {', '.join(unknown)}; "
                f"choose from {', '.join(sorted(keys))}"
            )
            return 2
        wanted = {keys[name] for name in args.only}
        selected = [module for module in FIGURES if module in wanted]
    started = time.time()
    shared: dict[str, Any] = {}
    figures = []
    for module in selected:
        figures.append(run_figure(module, shared, args.smoke, console))
        # Written after every figure, so a long run interrupted still leaves its results.
        write_json(figures, args.out, args.smoke, started)
    # Piped output (CI logs, files) gets a wide table rather than rich's 80 columns.
    render(figures, Console() if sys.stdout.isatty() else Console(width=160))
    console.print(f"results written to {args.out}")
    return 1 if any(f.status is Status.ERROR for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
