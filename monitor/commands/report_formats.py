"""How `callboard report` writes a report: a Rich table, csv or json.

The figures come from `classifier.report`; here they are only laid out. Queue names
are feed text: the table shows them through `monitor.text.safe_text.clean` as text, never
markup, and on a terminal csv and json show their control characters instead of
handing them to it. Undefined rates (no calls to divide by) stay undefined: `–` in
the table, empty in csv, null in json, never 0. With `mask` (`--mask-numbers`) every
queue name goes through `monitor.text.masking` first, in every format: a queue named
by its phone number is printed as the board shows it masked; the figures stay.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from classifier.report import IntervalReport, ReportRow
from monitor.text.masking import masked
from monitor.text.safe_text import clean

#: Columns of the csv output and keys of each json row, in order.
FIELDS: tuple[str, ...] = (
    "interval_start",
    "interval_end",
    "queue",
    "offered",
    "answered",
    "missed",
    "abandoned",
    "short_abandons",
    "voicemail",
    "outbound",
    "not_connected",
    "service_level",
    "abandon_rate",
    "asa_s",
    "average_talk_s",
    "longest_wait_s",
)


def stamp(moment: datetime | None) -> str | None:
    """An interval's edge as csv and json give it: to the minute, with its offset."""
    return None if moment is None else moment.isoformat(timespec="minutes")


def _rounded(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def row_record(row: ReportRow, mask: bool = False) -> dict[str, Any]:
    """One row as json and csv give it: rates as fractions (4 places), seconds to 0.1 s;
    `mask`: the queue's numbers masked."""
    return {
        "interval_start": stamp(row.start),
        "interval_end": stamp(row.end),
        "queue": masked(row.queue, mask),
        "offered": row.offered,
        "answered": row.answered,
        "missed": row.missed,
        "abandoned": row.abandoned,
        "short_abandons": row.short_abandons,
        "voicemail": row.voicemail,
        "outbound": row.outbound,
        "not_connected": row.not_connected,
        "service_level": _rounded(row.service_level, 4),
        "abandon_rate": _rounded(row.abandon_rate, 4),
        "asa_s": _rounded(row.asa_s, 1),
        "average_talk_s": _rounded(row.average_talk_s, 1),
        "longest_wait_s": round(row.longest_wait_s, 1),
    }


def report_json(
    report: IntervalReport,
    tz_name: str | None,
    gaps: list[str],
    ascii_only: bool = False,
    mask: bool = False,
) -> str:
    """The whole report as one JSON object: settings, what it misses, rows, totals.

    `ascii_only` for a terminal: every character outside ASCII as a `\\u` escape, so
    that C1 controls and bidi overrides in a queue name are shown, not obeyed (JSON
    escapes the C0 controls anyway). The same data either way.
    """
    return json.dumps(
        {
            "interval_minutes": report.minutes,
            "timezone": tz_name,
            "service_level_s": report.settings.service_level_s,
            "incomplete": gaps,
            "rows": [row_record(row, mask) for row in report.rows()],
            "totals": row_record(report.totals(), mask),
        },
        ensure_ascii=ascii_only,
        indent=2,
    )


def report_csv(report: IntervalReport, for_terminal: bool = False, mask: bool = False) -> str:
    """A header, a line per row, and the totals line (empty interval and queue, `scope` total).

    `for_terminal`: queue names cleaned (`monitor.text.safe_text.clean`) as the table shows
    them; in a file or a pipe they are the feed's own.
    """
    scoped = [("interval", r) for r in report.rows()] + [("total", report.totals())]
    return csv_text(
        FIELDS, [(scope, _csv_record(row, for_terminal, mask)) for scope, row in scoped]
    )


def _csv_record(row: ReportRow, for_terminal: bool, mask: bool) -> dict[str, Any]:
    record = row_record(row, mask)
    if for_terminal and record["queue"] is not None:
        record["queue"] = clean(record["queue"], None)
    return record


def csv_text(fields: tuple[str, ...], records: Iterable[tuple[str, dict[str, Any]]]) -> str:
    """A header (`scope`, then `fields`) and a line per (scope, record), None as an empty
    cell (undefined, never 0): the csv of every report."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("scope", *fields))
    for scope, record in records:
        writer.writerow((scope, *("" if record[name] is None else record[name] for name in fields)))
    return out.getvalue()


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    whole = round(value)
    return f"{whole // 60}:{whole % 60:02d}"


def report_table(report: IntervalReport, title: str, gaps: list[str], mask: bool = False) -> Table:
    """The report as a Rich table; queue names are feed text, shown as text, never markup.

    What the report misses (`gaps`) is its caption, beside the figures it qualifies.
    """
    caption = Text("incomplete: " + "; ".join(gaps), style="bold") if gaps else None
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    table.add_column("interval")
    table.add_column("queue")
    for name in (
        "offered",
        "answered",
        "missed",
        "abandoned",
        "short ab.",
        "voicemail",
        "outbound",
    ):
        table.add_column(name, justify="right")
    for name in ("SL", "ASA", "avg talk", "longest wait", "abandon rate"):
        table.add_column(name, justify="right")
    day = None
    for row in [*report.rows(), report.totals()]:
        if row.is_total:
            table.add_section()
            label = "total"
            queue = Text("")
        else:
            assert row.start is not None and row.end is not None
            # The date once per day, then only the times.
            date = row.start.date()
            clock = f"{row.start:%H:%M}–{row.end:%H:%M}"
            label = f"{date} {clock}" if date != day else f"{'':10} {clock}"
            day = date
            shown = masked(row.queue, mask)
            queue = Text(clean(shown)) if shown is not None else Text("(no queue)")
        table.add_row(
            label,
            queue,
            str(row.offered),
            str(row.answered),
            str(row.missed),
            str(row.abandoned),
            str(row.short_abandons),
            str(row.voicemail),
            str(row.outbound),
            _percent(row.service_level),
            _seconds(row.asa_s),
            _seconds(row.average_talk_s),
            _seconds(row.longest_wait_s),
            _percent(row.abandon_rate),
        )
    return table


def write_report(
    report: IntervalReport,
    fmt: str,
    tz_name: str | None,
    source: str,
    out: TextIO,
    gaps: list[str] | None = None,
    mask: bool = False,
) -> None:
    """The report on `out` in `fmt` (table, csv or json); `gaps`: what it misses, if anything;
    `mask`: queue names' numbers masked (`--mask-numbers`).

    csv has no place for them: they are on stderr, as notes, in every format.
    """
    zone = tz_name or "each call's own UTC offset"
    title = f"callboard report: {clean(source, None)}, {report.minutes}-minute intervals ({zone})"
    write_formatted(
        fmt,
        out,
        gaps,
        as_json=partial(report_json, report, tz_name, mask=mask),
        as_csv=partial(report_csv, report, mask=mask),
        as_table=partial(report_table, report, title, mask=mask),
    )


def write_formatted(
    fmt: str,
    out: TextIO,
    gaps: list[str] | None,
    *,
    as_json: Callable[[list[str], bool], str],
    as_csv: Callable[[bool], str],
    as_table: Callable[[list[str]], Table],
) -> None:
    """A report on `out` in `fmt` (table, csv or json), laid out by the renderer for it.

    Every report (per queue here, per agent in `report_agents`) is written this way:
    `gaps` cleaned once for all three; on a terminal json's renderer is asked for
    ASCII only (`True`) and csv's for cleaned feed text (`True`), in a file or a pipe
    for the feed's own; the table on a pipe is printed whole, not squeezed to 80
    columns.
    """
    gaps = [clean(gap, None) for gap in gaps or []]
    terminal = out.isatty()
    if fmt == "json":
        out.write(as_json(gaps, terminal) + "\n")
    elif fmt == "csv":
        out.write(as_csv(terminal))
    else:
        console = Console(file=out, width=None if terminal else 200)
        console.print(as_table(gaps))
    out.flush()
