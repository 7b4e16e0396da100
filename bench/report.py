"""The benchmark's result record, its table on the terminal and `bench/results.json`."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text


class Status(StrEnum):
    MET = "met"
    MISSED = "missed"
    #: Measured, but the issue sets no goal for it (e.g. hub fan-out).
    REPORTED = "reported"
    #: The component measured does not exist yet; `note` says which.
    PENDING = "pending"
    #: The figure crashed; the harness exits non-zero.
    ERROR = "error"


class Pending(Exception):
    """Raised by a figure whose subject is not built yet; the message says what is missing."""


@dataclass
class Measure:
    """One number of a figure, with its baseline where it has one."""

    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    #: value / baseline, or baseline / value where bigger is better; see `ratio_name`.
    ratio: float | None = None
    ratio_name: str = ""
    goal: str = ""
    met: bool | None = None

    @classmethod
    def against(
        cls,
        name: str,
        value: float | None,
        unit: str,
        baseline: float | None,
        baseline_name: str,
        *,
        ratio_name: str = "",
        goal: str = "",
        met: bool | None = None,
    ) -> Measure:
        """A measure beside its baseline, with `ratio` value / baseline (`ratio`): each
        number given once, so the ratio is always of the two shown."""
        return cls(
            name,
            value,
            unit,
            baseline=baseline,
            baseline_name=baseline_name,
            ratio=ratio(value, baseline),
            ratio_name=ratio_name,
            goal=goal,
            met=met,
        )


@dataclass
class Figure:
    """What one benchmark figure measured."""

    key: str
    title: str
    measures: list[Measure] = field(default_factory=list)
    status: Status = Status.REPORTED
    note: str = ""
    #: Raw numbers behind the measures (sizes, durations, counts), for the JSON file.
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, measure: Measure) -> Measure:
        """Append `measure` to the figure (the report lists them in this order) and return it."""
        self.measures.append(measure)
        return measure

    def settle(self) -> None:
        """Status from the measures: missed if any goal is missed, met if all goals are met."""
        if self.status in (Status.PENDING, Status.ERROR):
            return
        verdicts = [m.met for m in self.measures if m.goal]
        if any(v is False for v in verdicts):
            self.status = Status.MISSED
        elif verdicts and all(v is True for v in verdicts):
            self.status = Status.MET
        else:
            self.status = Status.REPORTED


def ratio(value: float | None, baseline: float | None) -> float | None:
    """value / baseline, or None when either is missing or the baseline is zero."""
    if value is None or baseline is None or baseline == 0:
        return None
    return value / baseline


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 0.01:
        return f"{value:.2f}"
    return f"{value:.2g}"


_STYLE = {
    Status.MET: "green",
    Status.MISSED: "red",
    Status.REPORTED: "cyan",
    Status.PENDING: "yellow",
    Status.ERROR: "bold red",
}


def render(figures: list[Figure], console: Console) -> None:
    """The results table: one row per measure, grouped by figure."""
    table = Table(title="callboard bench", show_lines=False)
    for name, justify in (
        ("figure", "left"),
        ("measure", "left"),
        ("value", "right"),
        ("baseline", "right"),
        ("ratio", "right"),
        ("goal", "left"),
        ("", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for figure in figures:
        style = _STYLE[figure.status]
        if not figure.measures:
            table.add_row(
                Text(figure.title),
                Text(figure.note),
                "",
                "",
                "",
                "",
                Text(figure.status.value, style=style),
            )
        for index, m in enumerate(figure.measures):
            mark = "" if m.met is None else ("met" if m.met else "MISSED")
            baseline = "" if m.baseline is None else f"{_number(m.baseline)} {m.unit}"
            table.add_row(
                Text(figure.title if index == 0 else ""),
                Text(m.name),
                Text(f"{_number(m.value)} {m.unit}"),
                Text(baseline + (f" ({m.baseline_name})" if m.baseline_name else "")),
                Text("" if m.ratio is None else f"{_number(m.ratio)}x {m.ratio_name}".rstrip()),
                Text(m.goal),
                Text(mark, style="green" if m.met else "red"),
            )
        table.add_section()
    console.print(table)
    for figure in figures:
        if figure.note and figure.measures:
            console.print(Text(f"{figure.title}: {figure.note}", style=_STYLE[figure.status]))


def machine() -> dict[str, Any]:
    """Where the figures were taken: they mean little without it."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": load,
    }


def write_json(figures: list[Figure], path: Path, smoke: bool, started: float) -> None:
    """`bench/results.json`: every figure with its measures and raw details."""
    payload = {
        "smoke": smoke,
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "machine": machine(),
        "figures": [asdict(f) for f in figures],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
