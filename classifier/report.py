"""The interval report: finished calls per queue and per 15, 30 or 60 minutes, and a total.

`callboard report` builds one of these from a log or a hub, the way a centre reads
its classic interval report (offered, answered, abandoned, SL, ASA, handle time per
queue and half hour). Every rate is `classifier.kpi`'s own formula on a `kpi.Tally`,
the one the board's header uses, so a report and a board never disagree about what
a service level is; only what the board does not show is computed here (average
talk time, longest wait).

Which interval a call counts in: **the one it ended in**, as a call counts on the
day it ended (`docs/kpi.md`). A verdict exists only once the call has ended, each
call lands in exactly one interval of exactly one day, the same day the board
counts it on, and the report's totals are `classify`'s counts. Interval boundaries
are on the wall clock of `tz` (an IANA zone), or of each end time's own offset
without one; an hour that a zone's clock goes through twice (summer time ending)
gives two sets of intervals, told apart by their offsets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

from classifier.kpi import (
    Counted,
    KpiSettings,
    Tally,
    abandon_rate,
    average_speed_of_answer,
    service_level,
)
from classifier.schema import Direction
from classifier.verdict import Judgement, Outcome, Verdict

#: The interval lengths a report offers, by their name on the command line.
INTERVALS: dict[str, int] = {"15m": 15, "30m": 30, "60m": 60}
DEFAULT_INTERVAL = "30m"

_INBOUND = Direction.INBOUND.value


def interval_wall_start(at: datetime, minutes: int, tz: tzinfo | None) -> datetime:
    """The wall-clock start of the `minutes`-long interval `at` falls in.

    On the clock of `tz`, or of `at`'s own offset without one. `replace` keeps
    `fold`, so the second 01:00 of a night when the clocks go back stays the second.
    Both reports (per queue and per agent) cut time with it.
    """
    local = at.astimezone(tz) if tz is not None else at
    return local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)


class Reported(Counted, Protocol):
    """What the report reads of a finished call: what a tally reads, and its talk time."""

    @property
    def talk_s(self) -> float:
        """Talk time, rounded as the record's."""
        ...


@dataclass(slots=True)
class ReportTally:
    """A `kpi.Tally` of finished calls, with the two sums the board does not keep."""

    tally: Tally = field(default_factory=Tally)
    #: Talk time of answered inbound calls, for their average.
    talk_total_s: float = 0.0
    #: The longest wait of any offered call (answered or not).
    longest_wait_s: float = 0.0

    def add(self, verdict: Reported, settings: KpiSettings) -> None:
        """Count one finished call."""
        self.tally.add(verdict, settings)
        if verdict.direction != _INBOUND:
            return
        if verdict.outcome is Outcome.COMPLETED:
            self.talk_total_s += verdict.talk_s
        if verdict.wait_s > self.longest_wait_s:
            self.longest_wait_s = verdict.wait_s


def average_talk_time(tally: ReportTally) -> float | None:
    """Talk time of answered inbound calls / answered calls, in seconds."""
    answered = tally.tally.answered
    return tally.talk_total_s / answered if answered else None


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One line of the report: a queue in an interval, or the totals (no interval)."""

    #: Wall-clock start and end of the interval; both None on the totals row.
    start: datetime | None
    end: datetime | None
    #: The queue; None for calls that never reached one (and on the totals row).
    queue: str | None
    offered: int
    answered: int
    missed: int
    abandoned: int
    short_abandons: int
    voicemail: int
    outbound: int
    not_connected: int
    #: Fractions in 0..1 and seconds, or None while undefined (see docs/kpi.md).
    service_level: float | None
    abandon_rate: float | None
    asa_s: float | None
    average_talk_s: float | None
    longest_wait_s: float

    @property
    def is_total(self) -> bool:
        """Whether this is the totals row."""
        return self.start is None

    @classmethod
    def of(
        cls, tally: ReportTally, start: datetime | None, end: datetime | None, queue: str | None
    ) -> ReportRow:
        """The row for `tally`, every rate by `classifier.kpi`'s formula."""
        counts = tally.tally
        return cls(
            start=start,
            end=end,
            queue=queue,
            offered=counts.offered,
            answered=counts.answered,
            missed=counts.missed,
            abandoned=counts.abandoned,
            short_abandons=counts.short_abandons,
            voicemail=counts.voicemail,
            outbound=counts.outbound,
            not_connected=counts.not_connected,
            service_level=service_level(counts),
            abandon_rate=abandon_rate(counts),
            asa_s=average_speed_of_answer(counts),
            average_talk_s=average_talk_time(tally),
            longest_wait_s=tally.longest_wait_s,
        )


class IntervalReport:
    """Finished calls counted per (interval, queue) and in total, one verdict at a time.

    Memory is one small tally per queue and interval that saw a call, whatever the
    number of calls.
    """

    def __init__(
        self, minutes: int = 30, settings: KpiSettings | None = None, tz: tzinfo | None = None
    ) -> None:
        if minutes <= 0 or 60 % minutes:
            raise ValueError(f"an interval must divide the hour, got {minutes} minutes")
        self.minutes = minutes
        self.settings = settings or KpiSettings()
        self.tz = tz
        self.total = ReportTally()
        #: (interval start in UTC, queue) -> tally; the UTC instant tells apart the two
        #: 01:00s of a night when the clocks go back.
        self._cells: dict[tuple[datetime, str | None], ReportTally] = {}
        #: Interval start in UTC -> its start on the wall clock the report is in.
        self._starts: dict[datetime, datetime] = {}

    def interval_of(self, ended_at: str) -> datetime:
        """The UTC start of the interval a call that ended at `ended_at` (ISO text) counts in."""
        return self.interval_at(datetime.fromisoformat(ended_at))

    def interval_at(self, ended: datetime) -> datetime:
        """The UTC start of the interval a call that ended at `ended` counts in.

        Worked out afresh for each call: a cache by end time, which this had, almost
        never hit (95,597 distinct ends in 95,657 calls of figure 1's log) and cost
        more than the working out (2.2 against 1.6 µs a call).
        """
        wall = interval_wall_start(ended, self.minutes, self.tz)
        start = wall.astimezone(UTC)
        self._starts.setdefault(start, wall)
        return start

    def add(self, verdict: Verdict) -> None:
        """Count a finished call in its queue, in the interval it ended in, and in the total."""
        assert verdict.ended_at is not None, "only finished calls are reported"
        self._count(self.interval_of(verdict.ended_at), verdict)

    def add_judgement(self, judgement: Judgement) -> None:
        """`add` for a `classifier.rules.judge` of the call, which is all a report reads."""
        self._count(self.interval_at(judgement.ended), judgement)

    def _count(self, start: datetime, call: Reported) -> None:
        key = (start, call.queue)
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells[key] = ReportTally()
        cell.add(call, self.settings)
        self.total.add(call, self.settings)

    def add_all(self, verdicts: Iterable[Verdict]) -> None:
        """Count every verdict."""
        for verdict in verdicts:
            self.add(verdict)

    def add_judgements(self, judgements: Iterable[Judgement]) -> None:
        """Count every judgement."""
        for judgement in judgements:
            self.add_judgement(judgement)

    def rows(self) -> list[ReportRow]:
        """A row per interval and queue that saw a call: by time, then queue (no queue last)."""
        step = timedelta(minutes=self.minutes)
        rows = []
        for start, queue in sorted(self._cells, key=lambda key: (key[0], key[1] is None, key[1])):
            wall = self._starts[start]
            # The end is the next boundary on the same clock, computed in UTC so that an
            # interval across a change of offset still lasts `minutes`.
            end = (start + step).astimezone(wall.tzinfo)
            rows.append(ReportRow.of(self._cells[(start, queue)], wall, end, queue))
        return rows

    def totals(self) -> ReportRow:
        """The totals row: every finished call of the report."""
        return ReportRow.of(self.total, None, None, None)
