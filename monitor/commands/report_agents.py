"""How `callboard report --agents` writes the agents' report: a Rich table, csv or json.

The figures come from `classifier.agents_report` (an `AgentsDay`, the board's own);
here they are only laid out, with the per-queue report's conventions
(`report_formats`): rows by interval, then totals; fractions to 4 places and
seconds to 0.1 s in csv and json; undefined figures null (csv: empty, table: `–`),
never 0. Agent names and pause reasons are feed text: the table shows them as text
through `monitor.text.safe_text.clean`, and on a terminal csv and json show their
control characters instead of handing them to it.

Pause time by reason is a mapping of its own size, which a csv row cannot spread
into columns known before the data: csv carries it as one JSON object per cell
(`{"Lunch": 1800.0}`), json as an object, the table as words.

With `mask` (`--mask-numbers`) every agent name goes through `monitor.text.masking`
first, in every format: Exotel's agents are the phone numbers it dialled, and the
report prints them as the board's agents panel shows them masked.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any, TextIO

from rich.table import Table
from rich.text import Text

from classifier.agents_report import AgentRow, AgentsReport
from monitor.commands.report_formats import csv_text, stamp, write_formatted
from monitor.text.masking import masked
from monitor.text.safe_text import clean

#: Columns of the csv output and keys of each json row, in order.
FIELDS: tuple[str, ...] = (
    "interval_start",
    "interval_end",
    "agent",
    "answered",
    "missed",
    "talk_s",
    "pause_s",
    "pause_by_reason",
    "logged_in_s",
    "occupancy",
)

#: How the table names a pause without a reason.
NO_REASON = "(no reason)"


def row_record(row: AgentRow, mask: bool = False) -> dict[str, Any]:
    """One row as json and csv give it; `mask`: the agent's numbers masked."""
    return {
        "interval_start": stamp(row.start),
        "interval_end": stamp(row.end),
        "agent": masked(row.agent, mask),
        "answered": row.answered,
        "missed": row.missed,
        "talk_s": round(row.talk_s, 1),
        "pause_s": round(row.pause_s, 1),
        "pause_by_reason": {reason: round(s, 1) for reason, s in row.pause_by_reason.items()},
        "logged_in_s": round(row.logged_in_s, 1),
        "occupancy": None if row.occupancy is None else round(row.occupancy, 4),
    }


def agents_json(
    report: AgentsReport,
    tz_name: str | None,
    gaps: list[str],
    ascii_only: bool = False,
    mask: bool = False,
) -> str:
    """The whole report as one JSON object: settings, what it misses, rows, agents, totals.

    `ascii_only` for a terminal, as `report_formats.report_json`.
    """
    return json.dumps(
        {
            "interval_minutes": report.minutes,
            "timezone": tz_name,
            "incomplete": gaps,
            "rows": [row_record(row, mask) for row in report.rows()],
            "agents": [row_record(row, mask) for row in report.agent_totals()],
            "totals": row_record(report.totals(), mask),
        },
        ensure_ascii=ascii_only,
        indent=2,
    )


def agents_csv(report: AgentsReport, for_terminal: bool = False, mask: bool = False) -> str:
    """A header, a line per row (`scope` interval), per agent (`agent`) and the total (`total`)."""
    scoped = (
        [("interval", r) for r in report.rows()]
        + [("agent", r) for r in report.agent_totals()]
        + [("total", report.totals())]
    )
    return csv_text(
        FIELDS, [(scope, _csv_record(row, for_terminal, mask)) for scope, row in scoped]
    )


def _csv_record(row: AgentRow, for_terminal: bool, mask: bool) -> dict[str, Any]:
    record = row_record(row, mask)
    record["pause_by_reason"] = json.dumps(record["pause_by_reason"], ensure_ascii=for_terminal)
    if for_terminal and record["agent"] is not None:
        record["agent"] = clean(record["agent"], None)
    return record


def duration(value: float) -> str:
    """Seconds as M:SS, or H:MM:SS from an hour (an agent's day runs to hours)."""
    whole = round(value)
    hours, rest = divmod(whole, 3600)
    if hours:
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{rest // 60}:{rest % 60:02d}"


def _reasons(row: AgentRow) -> Text:
    words = [
        f"{clean(reason, 24) if reason else NO_REASON} {duration(spent)}"
        for reason, spent in row.pause_by_reason.items()
    ]
    return Text(", ".join(words))


def agents_table(report: AgentsReport, title: str, gaps: list[str], mask: bool = False) -> Table:
    """The report as a Rich table: intervals, then each agent's totals, then all agents."""
    caption = Text("incomplete: " + "; ".join(gaps), style="bold") if gaps else None
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    table.add_column("interval")
    table.add_column("agent")
    for name in ("answered", "missed", "talk", "pause"):
        table.add_column(name, justify="right")
    table.add_column("pause by reason")
    table.add_column("logged in", justify="right")
    table.add_column("occupancy", justify="right")
    day = None
    sections = [report.rows(), report.agent_totals(), [report.totals()]]
    for number, rows in enumerate(sections):
        if number:
            table.add_section()
        for row in rows:
            if row.start is not None and row.end is not None:
                # The date once per day, then only the times.
                date = row.start.date()
                clock = f"{row.start:%H:%M}–{row.end:%H:%M}"
                label = f"{date} {clock}" if date != day else f"{'':10} {clock}"
                day = date
            else:
                label = "total"
            shown = masked(row.agent, mask)
            agent = Text(clean(shown)) if shown is not None else Text("(all agents)")
            occupancy = "–" if row.occupancy is None else f"{row.occupancy:.0%}"
            table.add_row(
                label,
                agent,
                str(row.answered),
                str(row.missed),
                duration(row.talk_s),
                duration(row.pause_s),
                _reasons(row),
                duration(row.logged_in_s) if row.logged_in_s else "–",
                occupancy,
            )
    return table


def write_agents(
    report: AgentsReport,
    fmt: str,
    tz_name: str | None,
    source: str,
    out: TextIO,
    gaps: list[str] | None = None,
    mask: bool = False,
) -> None:
    """The agents' report on `out` in `fmt` (table, csv or json), as `write_report` does;
    `mask`: agents' numbers masked (`--mask-numbers`)."""
    zone = tz_name or "each event's own UTC offset"
    title = (
        f"callboard report --agents: {clean(source, None)}, "
        f"{report.minutes}-minute intervals ({zone})"
    )
    write_formatted(
        fmt,
        out,
        gaps,
        as_json=partial(agents_json, report, tz_name, mask=mask),
        as_csv=partial(agents_csv, report, mask=mask),
        as_table=partial(agents_table, report, title, mask=mask),
    )
