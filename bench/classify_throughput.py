"""Figure 1: `callboard classify` throughput beside the json.loads floor.

Both run as children of this process with the same Python on the same file:
the classifier with its output sent to /dev/null (writing it is part of its
work), the floor reading every line and calling `json.loads` on it and nothing
else, which is as fast as any Python reader of this log can go.
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


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Measure classify and the floor on the same log; the ratio is the figure."""
    figure = Figure(KEY, TITLE)
    path = cached_log(scale.events, scale.open_calls)
    floor = floor_usage(path)
    usage = classify_usage(path)
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
    figure.details = {
        "events": events,
        "log": str(path),
        "log_bytes": path.stat().st_size,
        "classify": usage.__dict__,
        "floor": floor.__dict__,
    }
    return figure
