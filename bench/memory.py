"""Figure 2: peak RSS over a long day, for the classifier and for the headless app.

A wallboard that runs all day must hold the calls in progress, not the calls
finished. So each consumer runs twice on logs with the same number of calls in
progress: a quarter of the day and the whole day. The quarter run is the
baseline; if memory grew with finished calls the whole-day run would be ~4x it.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from bench.classify_throughput import classify_usage
from bench.eventlog import cached_log
from bench.process import PYTHON, Usage, measure
from bench.report import Figure, Measure, ratio
from bench.scale import Scale

KEY = "memory"
TITLE = "2. memory over a long day"
GOAL_MB = 150.0
#: Whole day over quarter day; above this, memory is following finished calls.
GROWTH_LIMIT = 1.15


def _pair(
    figure: Figure, name: str, day: Usage, quarter: Usage, quarter_events: int, bounded: bool
) -> None:
    growth = ratio(day.max_rss_mb, quarter.max_rss_mb)
    figure.add(
        Measure(
            f"{name}: peak RSS",
            day.max_rss_mb,
            "MB",
            baseline=quarter.max_rss_mb,
            baseline_name=f"{quarter_events:,} events",
            ratio=growth,
            ratio_name="the quarter day",
            goal=f"< {GOAL_MB:g} MB" + (f", growth <= {GROWTH_LIMIT}x" if bounded else ""),
            met=day.max_rss_mb < GOAL_MB
            and (not bounded or (growth is not None and growth <= GROWTH_LIMIT)),
        )
    )


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Peak RSS of classify and of the headless replay, whole day beside a quarter day."""
    figure = Figure(KEY, TITLE)
    quarter_events = scale.events // 4
    day_log = shared.get("classify_log") or cached_log(scale.events, scale.open_calls)
    quarter_log = cached_log(quarter_events, scale.open_calls)
    day = shared.get("classify_usage") or classify_usage(day_log)
    quarter = classify_usage(quarter_log)
    # The smoke day is too short to fill the tracker's bounded memory of ended
    # calls, so growth is only judged at full size.
    _pair(figure, "classify", day, quarter, quarter_events, bounded=not scale.smoke)
    figure.details = {"classify_day": day.__dict__, "classify_quarter": quarter.__dict__}
    usage, samples = replay_usage(day_log, scale.replay_seconds)
    final = samples[-1]
    applied = int(final["events_applied"])
    # The RSS when a quarter of what was applied had been applied: the baseline.
    quarter_sample = next(
        (x for x in samples if x["events_applied"] >= applied / 4 and x["rss_mb"]), final
    )
    growth = ratio(final["rss_mb"], quarter_sample["rss_mb"])
    judged = not scale.smoke
    figure.add(
        Measure(
            f"app replay (headless): peak RSS, {applied:,} events",
            usage.max_rss_mb,
            "MB",
            baseline=quarter_sample["rss_mb"],
            baseline_name=f"RSS at {quarter_sample['events_applied']:,} events",
            ratio=ratio(usage.max_rss_mb, quarter_sample["rss_mb"]),
            goal=f"< {GOAL_MB:g} MB" + (f", growth <= {GROWTH_LIMIT}x" if judged else ""),
            met=usage.max_rss_mb < GOAL_MB
            and (not judged or (growth is not None and growth <= GROWTH_LIMIT)),
        )
    )
    rate = applied / final["t"] if final["t"] else 0.0
    figure.add(Measure("app replay rate (speed 0)", rate, "ev/s"))
    figure.details |= {
        "replay": usage.__dict__ | {"events_applied": applied, "finished": final.get("finished")},
        "replay_samples": [*samples[:: max(1, len(samples) // 50)], final],
    }
    if not final.get("finished") and applied < scale.events:
        figure.note = (
            f"the headless replay applied {applied:,} of {scale.events:,} events in the "
            f"{scale.replay_seconds:g} s allowed ({rate:,.0f} ev/s); memory is judged on those"
        )
    return figure


def replay_usage(path: Path, seconds: float) -> tuple[Usage, list[dict[str, Any]]]:
    """Peak RSS of the board replaying `path` headless, and its progress samples."""
    with tempfile.TemporaryFile() as out:
        usage = measure(
            [PYTHON, "-m", "bench.replay_headless", str(path), "--seconds", str(seconds)],
            stdout=out,
        )
        out.seek(0)
        samples = [json.loads(line) for line in out.read().decode().splitlines() if line]
    if not samples:
        raise RuntimeError("the headless replay reported nothing")
    return usage, samples
