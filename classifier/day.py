"""The centre's day, held once and handed on: its counts, its newest calls, its windows.

The hub keeps one `DayState` for the whole centre, fed by every verdict its tracker
gives, and sends `to_dict()` in its snapshot; a board that joins loads it with
`from_dict()` and carries on adding its own verdicts to it, so a board started at
14:00 shows the day a board started at 08:00 shows. The same class counts for a
board fed from a file (replay, the demo), so there is one implementation of "the
day" (see "The centre's day" in `docs/kpi.md`).

What it holds is what a board's header, per-queue table and panels need, and no
more: the day's `Tally` overall and per queue, the newest finished calls of each
outcome (`PANEL_ROWS` each, the rows a board's panel keeps), and per-minute tallies
of the last hour for the windows (`WINDOWS`). A window's figures add up at most 60
minute buckets, so a repaint never rescans the day.

The day starts at `DayClock.starts` (wall-clock time, default midnight) in
`DayClock.tz` (default: each time's own UTC offset, as before). A call counts on the
day it ended; a call that ended on a day before the current one is *late* and only
counted in `late`. The day moves on when any event's time passes the boundary
(`advance`), not only when a call ends, so that a board shows the new day's zeros
from the boundary on.

`to_dict()` is plain JSON-safe data with a `version`; `from_dict()` refuses what it
cannot read with a `ValueError` naming the field. The journal's checkpoint saves
and restores the hub's day through them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from classifier.kpi import Kpis, KpiSettings, Tally, Waiting, kpis
from classifier.panel_rows_form import from_snapshot as rows_from_snapshot
from classifier.panel_rows_form import is_snapshot_form
from classifier.verdict import Outcome, Verdict

#: The version of `DayState.to_dict()`'s shape.
DAY_STATE_VERSION = 1
#: Finished calls kept per outcome: the rows a board's outcome panel keeps.
PANEL_ROWS = 200
#: Minutes of per-minute tallies kept for the windows: the longest window.
WINDOW_KEEP_MINUTES = 60
#: More than any shift of a time zone's offset (summer time moves it 1 h, a few
#: zones have moved 2 h or a day at once; the last is covered by recomputing).
SAFE_MARGIN = timedelta(hours=3)


class Window(StrEnum):
    """What the header and the per-queue table count; the value is the header's title."""

    DAY = "Today"
    HOUR = "Last 60 min"
    QUARTER = "Last 15 min"

    @property
    def minutes(self) -> int | None:
        """The window's length in minutes; None for the whole day."""
        return {Window.DAY: None, Window.HOUR: 60, Window.QUARTER: 15}[self]


#: The order the `w` key cycles through.
WINDOWS: tuple[Window, ...] = (Window.DAY, Window.HOUR, Window.QUARTER)


class Counted(StrEnum):
    """What `DayState.add` did with a finished call."""

    COUNTED = "counted"
    #: Counted, on a new day that this call began (the old day's counts are gone).
    NEW_DAY = "new day"
    #: Ended on a day before the current one: only `late` counts it.
    LATE = "late"


def parse_day_starts(text: str) -> time:
    """`HH:MM` (00:00 to 23:59) as a time; ValueError naming the text otherwise."""
    hours, sep, minutes = text.partition(":")
    if (
        sep
        and hours.isascii()
        and minutes.isascii()
        and hours.isdigit()
        and len(minutes) == 2
        and minutes.isdigit()
        and len(hours) <= 2
        and int(hours) < 24
        and int(minutes) < 60
    ):
        return time(int(hours), int(minutes))
    raise ValueError(f"a day start is HH:MM from 00:00 to 23:59, got {text!r}")


def parse_timezone(name: str) -> ZoneInfo:
    """An IANA time zone (`Europe/London`); ValueError naming the text otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError: a key zoneinfo refuses outright (an absolute path, '..').
        raise ValueError(f"unknown time zone {name!r} (an IANA name, e.g. Europe/London)") from None


@dataclass(frozen=True, slots=True)
class DayClock:
    """Where one day ends and the next begins: `starts` wall-clock time in `tz`.

    `tz` None keeps each time's own UTC offset (the behaviour before time zones).
    The day of a time is the date of the time `starts` earlier on the local wall
    clock, so a 06:00 start stays at 06:00 on the days summer time begins and ends.
    """

    tz: ZoneInfo | None = None
    starts: time = time(0, 0)

    def local(self, at: datetime) -> datetime:
        """`at` on the centre's wall clock (in `tz`, or at its own offset)."""
        return at.astimezone(self.tz) if self.tz is not None else at

    def day_of(self, at: datetime) -> date:
        """The day `at` belongs to; later times never belong to earlier days."""
        local = self.local(at)
        # Arithmetic on an aware datetime is on its wall clock: what a day start means.
        guess = (local - timedelta(hours=self.starts.hour, minutes=self.starts.minute)).date()
        if self.tz is None:
            return guess  # a fixed offset: the wall clock never jumps
        # In a zone the wall clock jumps: a start inside the repeated hour would begin
        # the day twice, one inside the skipped hour never. The day begins at the first
        # moment the clock shows `starts` (or would have: see `start_of`), in real time.
        at_utc = at.astimezone(UTC)
        if at_utc < self.start_of(guess).astimezone(UTC):
            return guess - timedelta(days=1)
        following = guess + timedelta(days=1)
        if at_utc >= self.start_of(following).astimezone(UTC):
            return following
        return guess

    def start_of(self, day: date, like: tzinfo | None = None) -> datetime:
        """When `day` begins (in `tz`, or in `like` when the clock keeps each time's offset).

        A start the clock shows twice (the hour repeated when summer time ends) is the
        first of them; one it skips (the hour summer time skips) is read with the offset
        before the change, the moment the clock would have shown it (`fold=0`).
        """
        return datetime.combine(day, self.starts, tzinfo=self.tz or like)

    def describe(self) -> str:
        """In words, for help texts and the board: 'days start at 06:00 Europe/London'."""
        where = self.tz.key if self.tz is not None else "each event's own UTC offset"
        return f"days start at {self.starts:%H:%M} in {where}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: `{"timezone": NAME or None, "day_starts": "HH:MM"}`."""
        return {
            "timezone": self.tz.key if self.tz is not None else None,
            "day_starts": f"{self.starts:%H:%M}",
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DayClock:
        """The clock `to_dict` gave; ValueError naming a field that is not one."""
        zone = data.get("timezone")
        starts = data.get("day_starts", "00:00")
        if zone is not None and not isinstance(zone, str):
            raise ValueError(f"day clock: timezone is {zone!r}, not a name")
        if not isinstance(starts, str):
            raise ValueError(f"day clock: day_starts is {starts!r}, not HH:MM")
        return cls(parse_timezone(zone) if zone is not None else None, parse_day_starts(starts))


@dataclass(frozen=True, slots=True)
class Ended:
    """A finished call as an outcome panel shows it: its verdict, who called whom, its seq."""

    verdict: Verdict
    caller: str = ""
    callee: str = ""
    seq: int | None = None

    @property
    def outcome(self) -> Outcome:
        """Its panel (a verdict without an outcome is shown as missed rather than lost)."""
        return self.verdict.outcome or Outcome.MISSED

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: the verdict's `classify` record plus its rule, caller, callee, seq
        and `resync_at` (null unless the call was learned from a re-sync)."""
        return {
            **self.verdict.record(),
            "rule": self.verdict.rule,
            "caller": self.caller,
            "callee": self.callee,
            "seq": self.seq,
            "resync_at": self.verdict.resync_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Ended:
        """The row `to_dict` gave; ValueError naming what is missing or wrong."""
        try:
            outcome = data["outcome"]
            verdict = Verdict(
                call_id=_text(data["call_id"]),
                outcome=Outcome(outcome) if outcome is not None else None,
                reason=None if data["reason"] is None else _text(data["reason"]),
                detail=_text(data["detail"]),
                direction=_text(data["direction"]),
                queue=None if data["queue"] is None else _text(data["queue"]),
                agents_rung=tuple(_text(a) for a in data["agents_rung"]),
                wait_s=_number(data["wait_s"]),
                talk_s=_number(data["talk_s"]),
                started_at=_text(data["started_at"]),
                ended_at=_text(data["ended_at"]),
                rule=_text(data.get("rule", "")),
                flags=tuple(_text(f) for f in data.get("flags", ())),
                # Absent from rows written before it was kept (a journal's checkpoint).
                resync_at=_time_or_none(data.get("resync_at")),
            )
            seq = data.get("seq")
            if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool)):
                raise ValueError(f"seq is {seq!r}")
            datetime.fromisoformat(verdict.ended_at or "")
            return cls(verdict, _text(data.get("caller", "")), _text(data.get("callee", "")), seq)
        except KeyError as missing:
            raise ValueError(f"a finished call has no {missing}") from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"finished call {data.get('call_id')!r}: {exc}") from None


def combined(tallies: Iterable[Tally]) -> Tally:
    """The sum of several tallies (minute buckets into a window)."""
    out = Tally()
    for tally in tallies:
        for f in _TALLY_FIELDS:
            setattr(out, f, getattr(out, f) + getattr(tally, f))
    return out


_TALLY_FIELDS = tuple(f.name for f in fields(Tally))


def tally_to_dict(tally: Tally) -> dict[str, int | float]:
    """JSON-safe counts of a tally."""
    return {f: getattr(tally, f) for f in _TALLY_FIELDS}


def tally_from_dict(data: Any) -> Tally:
    """A tally from `tally_to_dict`; ValueError naming a count that is not one."""
    if not isinstance(data, Mapping):
        raise ValueError(f"a tally is an object, got {type(data).__name__}")
    tally = Tally()
    for name in _TALLY_FIELDS:
        value = data.get(name, 0)
        kind = type(getattr(tally, name))
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (kind is int and not isinstance(value, int))
            or not math.isfinite(value)
            or value < 0
        ):
            raise ValueError(f"tally {name} is {value!r}, not a count")
        setattr(tally, name, kind(value))
    return tally


@dataclass(slots=True)
class _Minute:
    """The calls that ended in one minute, overall and per queue."""

    total: Tally = field(default_factory=Tally)
    queues: dict[str, Tally] = field(default_factory=dict)


class Windows:
    """Per-minute tallies of the last `WINDOW_KEEP_MINUTES` minutes, by end time.

    A window over the last N minutes at `now` sums the buckets of the minutes that
    end after `now - N minutes`: at most 60 buckets, whatever the day holds. Windows
    run across the day's boundary (the last 15 minutes at 06:05 include 05:50).
    """

    def __init__(self) -> None:
        self._minutes: dict[int, _Minute] = {}
        self._newest: int | None = None

    def add(self, verdict: Verdict, ended: datetime, settings: KpiSettings) -> None:
        """Count a finished call in the minute it ended (unless that is over an hour old)."""
        bucket = self._bucket(ended)
        if bucket is None:
            return
        bucket.total.add(verdict, settings)
        if verdict.queue is not None:
            bucket.queues.setdefault(verdict.queue, Tally()).add(verdict, settings)

    def add_to(self, row: str, verdict: Verdict, ended: datetime, settings: KpiSettings) -> None:
        """Count a finished call in one more row of its minute, not in the total: a
        site's row on a board of several sites (`classifier.sites.SitesDay`)."""
        bucket = self._bucket(ended)
        if bucket is not None:
            bucket.queues.setdefault(row, Tally()).add(verdict, settings)

    def _bucket(self, ended: datetime) -> _Minute | None:
        """The minute `ended` falls in (None when it is over an hour old); older ones go."""
        minute = int(ended.timestamp() // 60)
        if self._newest is not None and minute <= self._newest - WINDOW_KEEP_MINUTES:
            return None
        bucket = self._minutes.get(minute)
        if bucket is None:
            bucket = self._minutes[minute] = _Minute()
        if self._newest is None or minute > self._newest:
            self._newest = minute
            oldest = minute - WINDOW_KEEP_MINUTES
            for old in [m for m in self._minutes if m <= oldest]:
                del self._minutes[old]
        return bucket

    def tallies(self, minutes: int, now: datetime) -> tuple[Tally, dict[str, Tally]]:
        """Calls that ended in the last `minutes` minutes up to `now`, overall and per queue."""
        last = int(now.timestamp() // 60)
        chosen = [b for m, b in self._minutes.items() if last - minutes < m <= last]
        queues: dict[str, list[Tally]] = {}
        for bucket in chosen:
            for queue, tally in bucket.queues.items():
                queues.setdefault(queue, []).append(tally)
        return combined(b.total for b in chosen), {q: combined(t) for q, t in queues.items()}

    def to_dict(self) -> list[dict[str, Any]]:
        """JSON-safe: one object per minute (epoch minute, tallies), oldest first."""
        return [
            {
                "minute": minute,
                "total": tally_to_dict(bucket.total),
                "queues": {q: tally_to_dict(t) for q, t in bucket.queues.items()},
            }
            for minute, bucket in sorted(self._minutes.items())
        ]

    @classmethod
    def from_dict(cls, data: Any) -> Windows:
        """The windows `to_dict` gave; ValueError naming what is wrong."""
        if not isinstance(data, list):
            raise ValueError("windows must be a list of minutes")
        windows = cls()
        for item in data:
            if not isinstance(item, Mapping):
                raise ValueError("a window minute is an object")
            minute = item.get("minute")
            queues = item.get("queues", {})
            if not isinstance(minute, int) or isinstance(minute, bool):
                raise ValueError(f"window minute is {minute!r}, not a whole number")
            if not isinstance(queues, Mapping):
                raise ValueError(f"window minute {minute}: queues must be an object")
            windows._minutes[minute] = _Minute(
                tally_from_dict(item.get("total")),
                {str(q): tally_from_dict(t) for q, t in queues.items()},
            )
            windows._newest = minute if windows._newest is None else max(windows._newest, minute)
        return windows


class DayState:
    """The current day's counts, newest finished calls and windows (see the module docstring)."""

    def __init__(
        self,
        settings: KpiSettings | None = None,
        clock: DayClock | None = None,
        panel_rows: int = PANEL_ROWS,
        *,
        mark_start: bool = False,
    ) -> None:
        self.settings = settings or KpiSettings()
        #: Whether the first event this state sees may be after the day began (a hub, a
        #: board joining a hub that sends no day), so that `counted_from` is kept; a
        #: board fed a file from its start leaves it False.
        self.mark_start = mark_start
        self.clock = clock or DayClock()
        self.panel_rows = panel_rows
        self.day: date | None = None
        self.total = Tally()
        self.queues: dict[str, Tally] = {}
        #: Finished calls of each outcome counted today (exact, however many `recent` keeps).
        self.panel_counts: dict[Outcome, int] = dict.fromkeys(Outcome, 0)
        #: The newest finished calls of each outcome, newest first.
        self.recent: dict[Outcome, deque[Ended]] = {o: deque(maxlen=panel_rows) for o in Outcome}
        self.windows = Windows()
        #: Calls that ended on a day before the current one (not counted).
        self.late = 0
        #: Times before this are on the current day (see `advance`); None: unknown.
        self._surely_today: datetime | None = None
        #: When the counts of the current day begin, if not at the day's start: with
        #: `mark_start`, the time of the first event this state saw (a hub that started
        #: mid-day without a journal). None once a whole day is counted, from a boundary on.
        self.counted_from: datetime | None = None

    def advance(self, at: datetime) -> bool:
        """Move on to the day `at` falls on, if it is later; True when a new day began.

        Called for every event: with a time zone, a time well before the next day's
        start answers without converting it (4.7 µs to 1.2 µs measured).
        """
        if self._surely_today is not None and at < self._surely_today:
            return False
        return self._move_to(self.clock.day_of(at), at)

    def _move_to(self, day: date, at: datetime) -> bool:
        """`advance` once the day of `at` is known."""
        if self.day is None:
            self._set_day(day)
            self.counted_from = at if self.mark_start else None
            return False
        if day <= self.day:
            return False
        self._set_day(day)
        self.counted_from = None
        self.total = Tally()
        self.queues = {}
        self.panel_counts = dict.fromkeys(Outcome, 0)
        for rows in self.recent.values():
            rows.clear()
        return True

    def _set_day(self, day: date) -> None:
        self.day = day
        self._surely_today = None
        if self.clock.tz is not None:
            # Before the next day's start less a margin wider than any change of a
            # zone's offset, a time is on this day whatever the zone does around it.
            following = self.clock.start_of(day + timedelta(days=1))
            self._surely_today = (following - SAFE_MARGIN).astimezone(UTC)

    def add(
        self, verdict: Verdict, caller: str = "", callee: str = "", seq: int | None = None
    ) -> Counted:
        """Count one finished call on the day it ended."""
        assert verdict.ended_at is not None, "only finished calls are counted"
        ended = datetime.fromisoformat(verdict.ended_at)
        # Its day once, for both questions: a day's start is a conversion or two.
        day = self.clock.day_of(ended)
        new_day = self._move_to(day, ended)
        if day < (self.day or date.min):
            self.late += 1
            return Counted.LATE
        self.windows.add(verdict, ended, self.settings)
        self.total.add(verdict, self.settings)
        if verdict.queue is not None:
            self.queues.setdefault(verdict.queue, Tally()).add(verdict, self.settings)
        row = Ended(verdict, caller, callee, seq)
        self.recent[row.outcome].appendleft(row)
        self.panel_counts[row.outcome] += 1
        return Counted.NEW_DAY if new_day else Counted.COUNTED

    def tallies(self, window: Window, now: datetime) -> tuple[Tally, dict[str, Tally]]:
        """The finished calls one window counts, overall and per queue."""
        minutes = window.minutes
        if minutes is None:
            return self.total, self.queues
        return self.windows.tallies(minutes, now)

    def figures(
        self,
        overall: Waiting,
        per_queue: Mapping[str, Waiting],
        window: Window = Window.DAY,
        now: datetime | None = None,
    ) -> tuple[Kpis, dict[str, Kpis]]:
        """KPIs of a window, overall and per queue, with the 'now' figures already counted.

        The per-queue table lists every queue of the day (or waiting now) in every
        window, so that switching windows does not move its rows.
        """
        if window is not Window.DAY and now is None:
            raise ValueError("a window needs the time it ends at")
        total, queues = self.tallies(window, now or datetime.min)
        names = sorted(set(self.queues) | set(queues) | set(per_queue))
        return kpis(total, overall), {
            q: kpis(queues.get(q, Tally()), per_queue.get(q)) for q in names
        }

    def describe(self) -> str:
        """The day in one line of words (`callboard tail` says it when it joins a hub)."""
        if self.day is None:
            return f"no call yet today ({self.clock.describe()})"
        t = self.total
        since = ""
        if self.counted_from is not None:
            since = f"; counts begin at {self.clock.local(self.counted_from):%H:%M:%S}"
        return (
            f"day {self.day} ({self.clock.describe()}): {t.offered} offered, {t.answered} "
            f"answered, {t.missed} missed, {t.abandoned} abandoned, {t.voicemail} voicemail, "
            f"{t.outbound} outbound{since}"
        )

    def rows_now(self) -> dict[str, list[Ended]]:
        """The panels' rows now, newest first, by outcome: a copy that the calls counted
        later do not change (each row is frozen). With `to_dict(with_rows=False)`, a
        hub takes the day at once and writes its rows in steps (`snapshot_steps`
        of `classifier.panel_rows_form`)."""
        return {o.value: list(rows) for o, rows in self.recent.items()}

    def to_dict(self, with_rows: bool = True) -> dict[str, Any]:
        """Plain JSON-safe data with `version` (see the module docstring); without
        `with_rows`, `recent` is empty (its key in its place) for the caller to fill."""
        return {
            "version": DAY_STATE_VERSION,
            "clock": self.clock.to_dict(),
            "settings": {
                "service_level_s": self.settings.service_level_s,
                "short_abandon_s": self.settings.short_abandon_s,
                "queue_service_level_s": dict(self.settings.queue_service_level_s),
            },
            "day": self.day.isoformat() if self.day is not None else None,
            "counted_from": self.counted_from.isoformat() if self.counted_from else None,
            "mark_start": self.mark_start,
            "late": self.late,
            "total": tally_to_dict(self.total),
            "queues": {q: tally_to_dict(t) for q, t in self.queues.items()},
            "panel_counts": {o.value: n for o, n in self.panel_counts.items()},
            "panel_rows": self.panel_rows,
            # Newest first, as the panels show them.
            "recent": {o.value: [row.to_dict() for row in rows] for o, rows in self.recent.items()}
            if with_rows
            else {},
            "windows": self.windows.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Any) -> DayState:
        """The state `to_dict` gave; ValueError naming the first thing it cannot read."""
        if not isinstance(data, Mapping):
            raise ValueError("a day state is an object")
        version = data.get("version")
        if version != DAY_STATE_VERSION:
            raise ValueError(f"day state version {version!r} (this reads {DAY_STATE_VERSION})")
        try:
            raw = data["settings"]
            settings = KpiSettings(
                service_level_s=_number(raw["service_level_s"]),
                short_abandon_s=_number(raw["short_abandon_s"]),
                queue_service_level_s={
                    str(q): _number(s) for q, s in raw["queue_service_level_s"].items()
                },
            )
            rows = data.get("panel_rows", PANEL_ROWS)
            if not isinstance(rows, int) or isinstance(rows, bool) or rows < 1:
                raise ValueError(f"panel_rows is {rows!r}")
            state = cls(settings, DayClock.from_dict(data["clock"]), rows)
            day, since = data["day"], data.get("counted_from")
            if day is not None:
                state._set_day(date.fromisoformat(day))
            state.counted_from = datetime.fromisoformat(since) if since is not None else None
            state.mark_start = data.get("mark_start") is True
            late = data.get("late", 0)
            if not isinstance(late, int) or isinstance(late, bool) or late < 0:
                raise ValueError(f"late is {late!r}")
            state.late = late
            state.total = tally_from_dict(data["total"])
            state.queues = {str(q): tally_from_dict(t) for q, t in data["queues"].items()}
            for outcome, count in data["panel_counts"].items():
                if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                    raise ValueError(f"panel count of {outcome} is {count!r}")
                state.panel_counts[Outcome(outcome)] = count
            recent = data["recent"]
            if is_snapshot_form(recent):  # a snapshot's day (`classifier.panel_rows_form`)
                recent = rows_from_snapshot(recent)
            for outcome, items in recent.items():
                state.recent[Outcome(outcome)].extend(Ended.from_dict(i) for i in items)
            state.windows = Windows.from_dict(data.get("windows", []))
        except KeyError as missing:
            raise ValueError(f"a day state has no {missing}") from None
        except (AttributeError, TypeError) as exc:
            raise ValueError(f"day state: {exc}") from None
        except ValueError as exc:
            raise ValueError(f"day state: {exc}") from None
        return state


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not text")
    return value


def _time_or_none(value: Any) -> str | None:
    """An ISO 8601 time's text as it was, or None; ValueError for anything else."""
    if value is None:
        return None
    text = _text(value)
    datetime.fromisoformat(text)
    return text


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{value!r} is not a number")
    return float(value)
