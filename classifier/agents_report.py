"""The agents' report: per agent and per 15, 30 or 60 minutes, what their day held.

`callboard report --agents` builds one from a log or a hub: per agent, calls
answered, missed (rung and not answered: no answer or rejected), talk time, pause
time by reason, logged-in time and occupancy. The figures are not computed here:
the report feeds every event to a `classifier.agents.AgentsDay`, the one the board's
agents panel and the hub's day hold, and reads that day's running figures at each
interval boundary. A row is the difference between two readings, so the report,
the panel and a late-joining board can never disagree about what an agent did.

Which interval a figure counts in (docs/kpi.md, "The agents' report"): **the one
it happened in**. An answer or a miss counts where its event is; talk, pause and
logged-in time are cut at the boundaries, so a 40-minute call fills two
half-hours. (The per-queue report counts a call where it ended, because a call's
verdict exists only then; an agent's answer is final when it happens.) The rows
of an agent add up to that agent's totals, and the totals are the `AgentsDay`'s
figures at the last event, which a board that replayed the same events shows.

Rows are listed for the intervals in which an agent was offered a call, talked or
paused; logged-in time with nothing else (an idle agent, or an agent whose log
never says they logged out) is in the totals only, so a log with a long silence
gives no flood of empty rows. Memory is the size of the output plus one reading
per agent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from classifier.agents import Agent, AgentsDay, AgentState
from classifier.report import interval_wall_start
from classifier.schema import Event


@dataclass(frozen=True, slots=True)
class AgentFigures:
    """An agent's running figures read at one moment (all since the report began)."""

    answered: int = 0
    missed: int = 0
    talk_s: float = 0.0
    pause_s: dict[str, float] = field(default_factory=dict)
    logged_in_s: float = 0.0

    @classmethod
    def read(cls, agent: Agent, at: datetime) -> AgentFigures:
        """`agent`'s figures at `at`, the spell in progress included up to it."""
        return cls(
            agent.answered,
            agent.not_answered,
            agent.talk_until(at),
            agent.pause_until(at),
            agent.logged_in_until(at),
        )

    def since(self, before: AgentFigures) -> AgentFigures:
        """What happened between the reading `before` and this one (never negative)."""
        reasons = {
            reason: max(0.0, spent - before.pause_s.get(reason, 0.0))
            for reason, spent in self.pause_s.items()
        }
        return AgentFigures(
            max(0, self.answered - before.answered),
            max(0, self.missed - before.missed),
            max(0.0, self.talk_s - before.talk_s),
            {reason: spent for reason, spent in reasons.items() if spent > 0},
            max(0.0, self.logged_in_s - before.logged_in_s),
        )

    @property
    def active(self) -> bool:
        """Whether the agent was offered a call, talked or paused (a row is worth listing)."""
        return bool(self.answered or self.missed or self.talk_s > 0 or self.pause_s)


@dataclass(frozen=True, slots=True)
class AgentRow:
    """One line of the agents' report: an agent in an interval, an agent's totals, or all."""

    #: Wall-clock start and end of the interval; both None on totals rows.
    start: datetime | None
    end: datetime | None
    #: The agent; None on the all-agents totals row.
    agent: str | None
    answered: int
    #: Rung and not answered: no answer or rejected.
    missed: int
    talk_s: float
    #: Pause time by the pause's reason ("" for a pause with none).
    pause_by_reason: dict[str, float]
    logged_in_s: float

    @property
    def pause_s(self) -> float:
        """Pause time whatever the reason."""
        return sum(self.pause_by_reason.values(), 0.0)

    @property
    def occupancy(self) -> float | None:
        """Talk time over logged-in time (0..1), as the agents panel computes it; None
        when the row has no logged-in time."""
        if self.logged_in_s <= 0:
            return None
        return min(1.0, self.talk_s / self.logged_in_s)

    @classmethod
    def of(
        cls,
        figures: AgentFigures,
        start: datetime | None,
        end: datetime | None,
        agent: str | None,
    ) -> AgentRow:
        """The row of `figures` (what happened in the interval, or in all of them)."""
        return cls(
            start,
            end,
            agent,
            figures.answered,
            figures.missed,
            figures.talk_s,
            dict(sorted(figures.pause_s.items())),
            figures.logged_in_s,
        )


def _sum(figures: list[AgentFigures]) -> AgentFigures:
    pauses: dict[str, float] = {}
    for one in figures:
        for reason, spent in one.pause_s.items():
            pauses[reason] = pauses.get(reason, 0.0) + spent
    return AgentFigures(
        sum(f.answered for f in figures),
        sum(f.missed for f in figures),
        sum(f.talk_s for f in figures),
        pauses,
        sum(f.logged_in_s for f in figures),
    )


class AgentsReport:
    """An `AgentsDay` fed event by event, read at every interval boundary it passes."""

    def __init__(self, minutes: int = 30, tz: tzinfo | None = None) -> None:
        if minutes <= 0 or 60 % minutes:
            raise ValueError(f"an interval must divide the hour, got {minutes} minutes")
        self.minutes = minutes
        self.tz = tz
        self.step = timedelta(minutes=minutes)
        #: The agents' day itself: the same class, fed the same events, as the board's.
        self.day = AgentsDay()
        #: The interval being filled: its wall-clock start and its end as an instant.
        self._start: datetime | None = None
        self._end: datetime | None = None
        #: Each agent's figures at the start of the interval being filled.
        self._marks: dict[str, AgentFigures] = {}
        self._rows: list[AgentRow] = []
        #: The latest event time: where the totals are read.
        self.last: datetime | None = None

    def apply(self, event: Event) -> None:
        """Take one applied event of the feed (the board's agents' day takes the same)."""
        at = event.ts
        if self._end is None or at >= self._end:
            self._advance(at)
        # An event older than the interval being filled (a late one) counts in it.
        self.day.apply(event)
        if self.last is None or at > self.last:
            self.last = at

    def _advance(self, at: datetime) -> None:
        """Close the interval being filled (and any quiet ones) and start the one of `at`."""
        wall = interval_wall_start(at, self.minutes, self.tz)
        start = wall.astimezone(UTC)
        if self._start is not None and self._end is not None:
            self._close(self._start, self._end, self.day)
            # Quiet intervals between: only an agent who was talking or paused through
            # them has a row there.
            gap = self._end
            spells = [a for a in self.day if _in_spell(a)]
            while spells and gap + self.step <= start:
                self._close(gap.astimezone(self._start.tzinfo), gap + self.step, spells)
                gap += self.step
            if spells and gap < start:
                self._close(gap.astimezone(self._start.tzinfo), start, spells)
            for agent in self.day:
                self._marks[agent.name] = AgentFigures.read(agent, start)
        self._start = wall
        self._end = start + self.step

    def _close(self, wall: datetime, end: datetime, agents: Iterable[Agent]) -> None:
        """A row per agent active between `wall` and `end`; their readings move to `end`."""
        shown_end = end.astimezone(wall.tzinfo)
        for agent in agents:
            now = AgentFigures.read(agent, end)
            done = now.since(self._marks.get(agent.name, AgentFigures()))
            self._marks[agent.name] = now
            if done.active:
                self._rows.append(AgentRow.of(done, wall, shown_end, agent.name))

    def rows(self) -> list[AgentRow]:
        """A row per interval and agent that had a call or a pause, by time, then agent.

        The interval being filled is read up to the last event.
        """
        rows = list(self._rows)
        if self._start is not None and self.last is not None:
            end = self.last if self._end is None else min(self.last, self._end)
            shown_end = self._end.astimezone(self._start.tzinfo) if self._end else None
            for agent in self.day:
                done = AgentFigures.read(agent, end).since(
                    self._marks.get(agent.name, AgentFigures())
                )
                if done.active:
                    rows.append(AgentRow.of(done, self._start, shown_end, agent.name))
        rows.sort(key=_row_order)
        return rows

    def agent_totals(self) -> list[AgentRow]:
        """Each agent's whole report (every figure at the last event), by name."""
        if self.last is None:
            return []
        last = self.last
        return [
            AgentRow.of(AgentFigures.read(agent, last), None, None, agent.name)
            for agent in sorted(self.day, key=lambda a: a.name)
        ]

    def totals(self) -> AgentRow:
        """All agents together."""
        last = self.last
        figures = [] if last is None else [AgentFigures.read(a, last) for a in self.day]
        return AgentRow.of(_sum(figures), None, None, None)


def _row_order(row: AgentRow) -> tuple[datetime, str]:
    assert row.start is not None and row.agent is not None, "interval rows only"
    return row.start.astimezone(UTC), row.agent


def _in_spell(agent: Agent) -> bool:
    """Whether time passing alone adds to the agent's talk or pause time."""
    talking = agent.call is not None and agent.call.answered
    return talking or agent.state is AgentState.PAUSED
