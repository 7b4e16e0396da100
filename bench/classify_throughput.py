"""Figure 1: `callboard classify` throughput beside the json.loads floor.

Both run as children of this process with the same Python on the same file:
the classifier with its output sent to /dev/null (writing it is part of its
work), the floor reading every line and calling `json.loads` on it and nothing
else, which is as fast as any Python reader of this log can go. They take turns,
`RUNS` times each, and each is judged by its fastest run: on a shared machine the
slower runs measure the neighbours.

A third child, callboard's own reader alone (every line read and validated into an
event, nothing applied), shows how much of classify's time is reading the log and how
much is the state machine, the rules and the output.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.eventlog import cached_log
from bench.process import PYTHON, Usage, callboard, measure
from bench.report import Figure, Measure, ratio
from bench.scale import Scale

KEY = "classify"
TITLE = "1. classifier throughput"
GOAL_RATIO = 2.0

#: Runs of each child, taking turns.
RUNS = 3

READER = """
import sys
from monitor.sources.reader import read_events
count = 0
for item in read_events(sys.argv[1]):
    count += 1
print(count)
"""

FLOOR = """
import json, sys
loads = json.loads
count = 0
with open(sys.argv[1], "rb") as log:
    for line in log:
        if line.strip():
            loads(line)
            count += 1
print(count)
"""


def classify_usage(path: Path) -> Usage:
    """Run `callboard classify` on a log, output to /dev/null, and return its cost."""
    with tempfile.TemporaryFile() as errors:
        usage = measure(callboard("classify", str(path)), stderr=errors)
    return usage


def floor_usage(path: Path) -> Usage:
    """Run the json.loads floor on a log and return its cost."""
    return measure([PYTHON, "-c", FLOOR, str(path)])


def reader_usage(path: Path) -> Usage:
    """Run callboard's reader alone over a log (parse and validate, nothing applied)."""
    return measure([PYTHON, "-c", READER, str(path)])


def fastest(runs: list[Usage]) -> Usage:
    """The run with the least wall time."""
    return min(runs, key=lambda usage: usage.wall_s)


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Measure classify and the floor on the same log; the ratio is the figure."""
    figure = Figure(KEY, TITLE)
    path = cached_log(scale.events, scale.open_calls)
    runs: dict[str, list[Usage]] = {"floor": [], "reader": [], "classify": []}
    for _ in range(RUNS):
        runs["floor"].append(floor_usage(path))
        runs["reader"].append(reader_usage(path))
        runs["classify"].append(classify_usage(path))
    floor, reader, usage = (fastest(runs[name]) for name in ("floor", "reader", "classify"))
    shared["classify_usage"] = usage
    shared["classify_log"] = path
    events = scale.events
    rate = events / usage.wall_s
    floor_rate = events / floor.wall_s
    slower = ratio(usage.wall_s, floor.wall_s)
    figure.add(
        Measure(
            "events per second",
            rate,
            "ev/s",
            baseline=floor_rate,
            baseline_name="read + json.loads",
            ratio=slower,
            ratio_name="the floor's time",
            goal=f"<= {GOAL_RATIO:g}x the floor",
            met=slower is not None and slower <= GOAL_RATIO,
        )
    )
    figure.add(
        Measure(
            "CPU per event",
            usage.cpu_s / events * 1e6,
            "µs",
            baseline=floor.cpu_s / events * 1e6,
            baseline_name="floor",
            ratio=ratio(usage.cpu_s, floor.cpu_s),
        )
    )
    figure.add(
        Measure(
            "of which reading the log (callboard's reader alone)",
            events / reader.wall_s,
            "ev/s",
            baseline=floor_rate,
            baseline_name="read + json.loads",
            ratio=ratio(reader.wall_s, floor.wall_s),
            ratio_name="the floor's time",
        )
    )
    figure.details = {
        "events": events,
        "log": str(path),
        "log_bytes": path.stat().st_size,
        "classify": usage.__dict__,
        "floor": floor.__dict__,
        "reader": reader.__dict__,
        "runs": {name: [u.__dict__ for u in usages] for name, usages in runs.items()},
    }
    return figure
