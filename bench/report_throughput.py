"""Figure 1b: `callboard report` beside `callboard classify`, on the same log, in the same run.

The issue's goal is that the interval report of a day is no slower than classifying
it: both read every event and decide every call by the same rules; classify writes a
record per call (detail line and all), the report counts each call's judgement
(`classifier.rules.judge`: the decision and durations, no words) in its interval and
queue instead. Both run as children with the same Python on figure 1's log, output
to /dev/null.

Judged by pairs, not by each side's fastest run. The two differ by under a tenth, and
this shared machine's speed drifts by more than that between runs a minute apart
(the same classify took 9.3 to 11.9 s in five runs at a load average under 1), so
the fastest classify and the fastest report can come from different moments and
compare the machine, not the commands. Each round runs the two back to back, in
alternating order (a drift within a round then favours neither side), and the
figure is the median of the rounds' ratios.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.classify_throughput import classify_usage
from bench.eventlog import cached_log
from bench.process import Usage, callboard, measure
from bench.report import Figure, Measure
from bench.scale import Scale

KEY = "report"
TITLE = "1b. interval report throughput"
#: "At least as fast as classify": the report's time over classify's.
GOAL_RATIO = 1.0

#: Rounds of the pair; odd, so that the median is one round's ratio.
RUNS = 5


def report_usage(path: Path) -> Usage:
    """Run `callboard report --format json` on a log, output to /dev/null; its cost."""
    with tempfile.TemporaryFile() as errors:
        return measure(callboard("report", str(path), "--format", "json"), stderr=errors)


def paired_rounds(path: Path, rounds: int = RUNS) -> list[tuple[Usage, Usage]]:
    """(classify, report) of each round, run back to back, classify first in even rounds."""
    pairs = []
    for number in range(rounds):
        if number % 2 == 0:
            classify = classify_usage(path)
            report = report_usage(path)
        else:
            report = report_usage(path)
            classify = classify_usage(path)
        pairs.append((classify, report))
    return pairs


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Measure report and classify on figure 1's log in pairs; the median ratio."""
    figure = Figure(KEY, TITLE)
    path = cached_log(scale.events, scale.open_calls)
    pairs = paired_rounds(path)
    wall = [report.wall_s / classify.wall_s for classify, report in pairs]
    cpu = [report.cpu_s / classify.cpu_s for classify, report in pairs]
    slower = statistics.median(wall)
    # The round whose ratio is the median gives the rates shown beside it.
    classify, report = pairs[wall.index(slower)]
    events = scale.events
    figure.add(
        Measure(
            "events per second",
            events / report.wall_s,
            "ev/s",
            baseline=events / classify.wall_s,
            baseline_name="classify",
            ratio=slower,
            ratio_name="classify's time (median of rounds)",
            goal=f"<= {GOAL_RATIO:g}x classify",
            met=slower <= GOAL_RATIO,
        )
    )
    figure.add(
        Measure(
            "CPU per event",
            report.cpu_s / events * 1e6,
            "µs",
            baseline=classify.cpu_s / events * 1e6,
            baseline_name="classify",
            ratio=statistics.median(cpu),
            ratio_name="classify's (median of rounds)",
        )
    )
    figure.details = {
        "events": events,
        "log": str(path),
        "rounds": [
            {"classify": classify.__dict__, "report": report.__dict__} for classify, report in pairs
        ],
        "wall_ratios": wall,
        "cpu_ratios": cpu,
    }
    return figure
