"""Figure 2: peak RSS over a long day, for the classifier and for the headless app.

A wallboard that runs all day must hold the calls in progress, not the calls
finished. So each consumer runs twice on logs with the same number of calls in
progress: a quarter of the day and the whole day. The quarter run is the
baseline; if memory grew with finished calls the whole-day run would be ~4x it.
"""

from __future__ import annotations

from typing import Any

from bench.classify_throughput import classify_usage
from bench.eventlog import cached_log
from bench.process import Usage, callboard, measure
from bench.replay import replay_command
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
    replay = replay_command()
    if replay is None:
        figure.note = "app replay pending: `callboard replay` has no headless mode yet"
        return figure
    replay_day = measure(callboard(*replay, str(day_log)))
    replay_quarter = measure(callboard(*replay, str(quarter_log)))
    _pair(
        figure,
        "app replay (headless)",
        replay_day,
        replay_quarter,
        quarter_events,
        bounded=not scale.smoke,
    )
    figure.details |= {"replay_day": replay_day.__dict__, "replay_quarter": replay_quarter.__dict__}
    return figure
