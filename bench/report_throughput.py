"""Figure 1b: `callboard report` beside `callboard classify`, on the same log, in the same run.

The issue's goal is that the interval report of a day is no slower than classifying
it: both read every event and decide every call by the same rules; classify writes a
record per call (detail line and all), the report counts each call's judgement
(`classifier.rules.judge`: the decision and durations, no words) in its interval and
queue instead. Both run as children with the same
Python on figure 1's log, output to /dev/null, taking turns `RUNS` times, each judged
by its fastest run (on a shared machine the slower runs measure the neighbours).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.classify_throughput import classify_usage, fastest
from bench.eventlog import cached_log
from bench.process import Usage, callboard, measure
from bench.report import Figure, Measure, ratio
from bench.scale import Scale

KEY = "report"
TITLE = "1b. interval report throughput"
#: "At least as fast as classify": the report's time over classify's.
GOAL_RATIO = 1.0

RUNS = 3


def report_usage(path: Path) -> Usage:
    """Run `callboard report --format json` on a log, output to /dev/null; its cost."""
    with tempfile.TemporaryFile() as errors:
        return measure(callboard("report", str(path), "--format", "json"), stderr=errors)


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Measure report and classify on figure 1's log; report's time over classify's."""
    figure = Figure(KEY, TITLE)
    path = cached_log(scale.events, scale.open_calls)
    runs: dict[str, list[Usage]] = {"classify": [], "report": []}
    for _ in range(RUNS):
        runs["classify"].append(classify_usage(path))
        runs["report"].append(report_usage(path))
    classify, report = fastest(runs["classify"]), fastest(runs["report"])
    events = scale.events
    slower = ratio(report.wall_s, classify.wall_s)
    figure.add(
        Measure(
            "events per second",
            events / report.wall_s,
            "ev/s",
            baseline=events / classify.wall_s,
            baseline_name="classify",
            ratio=slower,
            ratio_name="classify's time",
            goal=f"<= {GOAL_RATIO:g}x classify",
            met=slower is not None and slower <= GOAL_RATIO,
        )
    )
    figure.add(
        Measure(
            "CPU per event",
            report.cpu_s / events * 1e6,
            "µs",
            baseline=classify.cpu_s / events * 1e6,
            baseline_name="classify",
            ratio=ratio(report.cpu_s, classify.cpu_s),
        )
    )
    figure.details = {
        "events": events,
        "log": str(path),
        "classify": classify.__dict__,
        "report": report.__dict__,
        "runs": {name: [u.__dict__ for u in usages] for name, usages in runs.items()},
    }
    return figure
