"""Formatting figures for the header and the tables."""

from __future__ import annotations

from classifier.detail import duration

#: Before the state of a call in progress, and the reason of a finished one, learned
#: from a re-sync of a live link (its earlier steps unknown; docs/wallboard.md).
RESYNC_MARK = "↻ "


def seconds(value: float | None) -> str:
    """A duration, or an en dash when there is none."""
    return "–" if value is None else duration(value)


def percent(value: float | None) -> str:
    """A fraction as a whole percentage, or an en dash when undefined."""
    return "–" if value is None else f"{round(value * 100)}%"


def clock_time(value: str | None) -> str:
    """HH:MM:SS out of an ISO time stamp."""
    if not value:
        return "--:--:--"
    return value[11:19]
