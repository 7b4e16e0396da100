"""Figure 7: what a hub restart costs with a week of journal, and what appending costs.

The load is the simulator's, from its first local midnight on (so every day is a
whole one, and the 1-day and 7-day journals end on a day of the same size). Four
journals are built in a temporary directory:

* kept by days (`monitor.feed.journal_days`, what the hub writes now): 1 day and 7 days;
  the 7-day one has six closed days, a checkpoint and the current day;
* one file, as the hub wrote before (`monitor.feed.journal.Journal` alone): 1 day and
  7 days; a restart on it re-applies every record, the baseline.

Each restart is a real hub started in-process on the journal (`running_hub`),
timed from the call to listening, the median of `REPEATS`; the figure is the
7-day restart over the 1-day one (goal: the same, within noise). Beside it, the
append rate of the file journal and of a sqlite3 WAL prototype (one row a record,
each committed before the hub could acknowledge it, `synchronous=NORMAL`: in the
kernel, as the file's single write(2)), and how fast each reads a day back: the
measurement behind keeping the file format (docs/protocol.md, "The journal by days").
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.eventlog import events
from bench.hub_start import timed_hub
from bench.report import Figure, Measure, ratio
from bench.scale import Scale
from classifier.schema import Event
from monitor.feed.hub import HubConfig, running_hub
from monitor.feed.journal import Journal
from monitor.feed.protocol import encode_event_frame, read_event_frame

KEY = "restart"
TITLE = "11. hub restart, 7 days of journal"
DAYS = 7
REPEATS = 5
#: Restart with 7 days over restart with 1: "the same, within noise".
GOAL_RATIO = 1.25


def whole_days(open_calls: int, days: int, seed: int = 7) -> list[Event]:
    """The simulator's events from its first local midnight, for `days` whole days."""
    stream = events(open_calls, seed)
    first = next(stream)
    start = first.ts.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    end = start + timedelta(days=days)
    out = list(itertools.takewhile(lambda e: e.ts < end, (e for e in stream if e.ts >= start)))
    return out


async def _journal_by_days(path: Path, stream: list[Event]) -> int:
    async with running_hub(HubConfig(port=0, journal=path, max_calls=None)) as hub:
        for event in stream:
            hub.publish(event)
        return hub.seq


def _frames(stream: list[Event]) -> list[str]:
    now = time.time()
    return [
        encode_event_frame(event.model_copy(update={"seq": seq}), seq, now)
        for seq, event in enumerate(stream, 1)
    ]


def _journal_one_file(path: Path, frames: list[str]) -> float:
    """Write the records as the hub did before (one file); records a second."""
    journal, _ = Journal.open(path)
    start = time.perf_counter()
    for seq, text in enumerate(frames, 1):
        journal.append(seq, text)
    elapsed = time.perf_counter() - start
    journal.close()
    return len(frames) / elapsed


def _sqlite_append(path: Path, frames: list[str]) -> float:
    """The sqlite3 WAL prototype: one committed row a record; records a second."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE records (seq INTEGER PRIMARY KEY, frame TEXT NOT NULL)")
    start = time.perf_counter()
    for seq, text in enumerate(frames, 1):
        db.execute("INSERT INTO records VALUES (?, ?)", (seq, text))
    elapsed = time.perf_counter() - start
    db.close()
    return len(frames) / elapsed


def _read_file(path: Path) -> float:
    """Seconds to read and verify every record of a file journal."""
    start = time.perf_counter()
    journal, recovery = Journal.open(path)
    for _ in recovery.records:
        pass
    journal.close()
    return time.perf_counter() - start


def _read_sqlite(path: Path) -> float:
    """Seconds to read every row of the prototype and decode it as the journal does."""
    start = time.perf_counter()
    db = sqlite3.connect(path)
    for (text,) in db.execute("SELECT frame FROM records WHERE seq > ? ORDER BY seq", (0,)):
        read_event_frame(json.loads(text))
    db.close()
    return time.perf_counter() - start


async def _restart(path: Path) -> tuple[float, int]:
    """Seconds from starting a hub on `path` to listening, and the records it re-applied."""
    async with timed_hub(HubConfig(port=0, journal=path, max_calls=None)) as (seconds, hub):
        return seconds, hub.recovered_records


def _median_restart(path: Path) -> tuple[float, int]:
    runs = [asyncio.run(_restart(path)) for _ in range(REPEATS)]
    return statistics.median(s for s, _ in runs), runs[0][1]


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Restart times at 1 and 7 days, kept by days and as one file; append rates."""
    figure = Figure(KEY, TITLE)
    open_calls = 10 if scale.smoke else 200
    week = whole_days(open_calls, DAYS)
    first_day = week[0].ts.date()
    one_day = [e for e in week if e.ts.date() == first_day]
    with tempfile.TemporaryDirectory(prefix="callboard-restart-") as tmp:
        root = Path(tmp)
        for name, stream in (("day", one_day), ("week", week)):
            (root / name).mkdir()
            asyncio.run(_journal_by_days(root / name / "hub.journal", stream))
        rates = {
            "file_1": _journal_one_file(root / "one-day.journal", _frames(one_day)),
            "file_7": _journal_one_file(root / "one-week.journal", _frames(week)),
            "sqlite_1": _sqlite_append(root / "one-day.sqlite", _frames(one_day)),
        }
        day, day_records = _median_restart(root / "day" / "hub.journal")
        week_s, week_records = _median_restart(root / "week" / "hub.journal")
        old_day, _ = _median_restart(root / "one-day.journal")
        old_week, old_week_records = _median_restart(root / "one-week.journal")
        # Each read three times, alternating, so neither gets the warmer caches.
        reads = [
            (_read_sqlite(root / "one-day.sqlite"), _read_file(root / "one-day.journal"))
            for _ in range(REPEATS)
        ]
        read_sqlite = statistics.median(r[0] for r in reads)
        read_file = statistics.median(r[1] for r in reads)
    week_ratio = ratio(week_s, day)
    figure.add(
        Measure(
            "restart, 7 days kept by days",
            week_s * 1000,
            "ms",
            baseline=day * 1000,
            baseline_name="1 day",
            ratio=week_ratio,
            goal=f"<= {GOAL_RATIO}x (the same within noise)",
            met=week_ratio is not None and week_ratio <= GOAL_RATIO,
        )
    )
    figure.add(
        Measure.against(
            "restart, 7 days in one file (before)",
            old_week * 1000,
            "ms",
            old_day * 1000,
            "1 day",
        )
    )
    figure.add(
        Measure.against(
            "append rate, file journal",
            rates["file_1"],
            "rec/s",
            rates["sqlite_1"],
            "sqlite3 WAL",
            ratio_name="faster",
        )
    )
    figure.add(
        Measure.against(
            "read a day back, file journal",
            read_file * 1000,
            "ms",
            read_sqlite * 1000,
            "sqlite3 WAL",
        )
    )
    figure.details = {
        "open_calls": open_calls,
        "events_one_day": len(one_day),
        "events_seven_days": len(week),
        "restart_s": {
            "day": day,
            "week": week_s,
            "one_file_day": old_day,
            "one_file_week": old_week,
        },
        "records_reapplied": {
            "day": day_records,
            "week": week_records,
            "one_file_week": old_week_records,
        },
        "append_rate": rates,
        "read_day_s": {"file": read_file, "sqlite": read_sqlite},
        "repeats": REPEATS,
    }
    return figure
