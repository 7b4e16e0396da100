"""The wallboard's model: calls in progress, finished calls by outcome, KPIs, presence.

This module has no Textual in it. The app feeds it events (and snapshots on
connect) and its widgets ask it what to draw: widgets render the model, they do
not own it. Everything a frame needs is computed on demand from plain data, so
a feed of hundreds of events a second costs one dictionary update per event,
and the cost of drawing depends on the rows on screen, not on the calls held.

`Board.version` grows by one with every change; a widget that remembers the
version it last drew knows whether it has anything new to draw.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from classifier.agents import AgentsDay, AgentState
from classifier.agents_state import from_snapshot as agents_from_snapshot
from classifier.call import Call, Phase
from classifier.call_state import summary
from classifier.day import PANEL_ROWS, Counted, DayClock, DayState, Ended, Window
from classifier.kpi import Kpis, KpiSettings, Waiting, is_waiting
from classifier.schema import AgentStatus, CallEnded, Direction, Event, PresenceStatus
from classifier.sites import day_from_dict
from classifier.tracker import REMEMBER_ENDED, Applied, CallTracker, Result
from classifier.verdict import Outcome, Verdict
from monitor.agent_names import AgentNames
from monitor.story import EventLine, Story, event_line, story_of

#: Problems (rejected events, warnings) kept for display; the count stays exact.
PROBLEM_ROWS = 100
#: Waits past the threshold are a warning; past this many thresholds, an alert.
ALERT_FACTOR = 2.0
#: Finished calls remembered so that a snapshot after a reconnect does not count
#: a call twice: as many as the tracker remembers for its duplicates, so that the
#: board's memory stops growing once that many calls have ended.
REMEMBER_FINISHED = REMEMBER_ENDED

#: The story of a finished call that came in the hub's day, in place of its events.
BEFORE_JOINING = (
    "this call ended before the board joined the hub: its events are not on this board "
    "(`callboard tail --since 0 --events` shows them while the hub holds them)"
)

#: Panel order on screen (and the keys 1..5 that pick a panel).
PANEL_ORDER: tuple[Outcome, ...] = (
    Outcome.COMPLETED,
    Outcome.MISSED,
    Outcome.ABANDONED,
    Outcome.VOICEMAIL,
    Outcome.NOT_CONNECTED,
)

PANEL_TITLES: dict[Outcome, str] = {
    Outcome.COMPLETED: "Completed",
    Outcome.MISSED: "Missed",
    Outcome.ABANDONED: "Abandoned",
    Outcome.VOICEMAIL: "Voicemail",
    Outcome.NOT_CONNECTED: "Not connected",
}


class SortKey(StrEnum):
    """Orders of the active-calls table; the value is what the screen shows."""

    WAITING = "longest waiting"
    TOTAL = "longest call"
    STATE = "longest in state"
    QUEUE = "queue"
    CALLER = "caller"


class Level(StrEnum):
    """How urgent a row looks: a wait past its queue's threshold warns, then alerts."""

    OK = "ok"
    WARN = "warn"
    ALERT = "alert"


@dataclass(frozen=True, slots=True)
class Filter:
    """What the user narrowed the board to; the empty filter shows everything."""

    queue: str | None = None
    outcome: Outcome | None = None
    text: str = ""

    @property
    def active(self) -> bool:
        """Whether it narrows anything: a queue, an outcome or a search text."""
        return self.queue is not None or self.outcome is not None or bool(self.text)

    def describe(self) -> str:
        """Words for the status line."""
        parts = []
        if self.queue is not None:
            parts.append(f"queue {self.queue}")
        if self.outcome is not None:
            parts.append(PANEL_TITLES[self.outcome].lower())
        if self.text:
            parts.append(f"“{self.text}”")
        return ", ".join(parts) or "everything"


def call_matches(call: Call, text: str, names: AgentNames | None = None) -> bool:
    """Free-text match on caller, callee, agents (by id or display name) and call id
    (case-insensitive)."""
    needle = text.casefold()
    haystack = [call.call_id, call.caller, call.callee, call.agent or "", *call.agents_rung]
    if names:
        haystack += [names.show(agent) for agent in (call.agent, *call.agents_rung) if agent]
    return any(needle in value.casefold() for value in haystack)


@dataclass(slots=True)
class Finished:
    """A call that has ended: its verdict, and its record for the call's story."""

    verdict: Verdict
    call: Call
    seq: int | None = None
    #: The call's events in words (see `Board`: the board keeps these, not the events).
    timeline: tuple[EventLine, ...] = ()

    @property
    def outcome(self) -> Outcome:
        """The panel the call is shown in: its verdict's outcome (a finished call always
        has one; should one come without, it is shown as missed rather than lost)."""
        return self.verdict.outcome or Outcome.MISSED

    def matches(self, flt: Filter, names: AgentNames | None = None) -> bool:
        """Whether the call passes the filter's queue, outcome and search text."""
        if flt.queue is not None and self.verdict.queue != flt.queue:
            return False
        if flt.outcome is not None and self.outcome is not flt.outcome:
            return False
        return not flt.text or call_matches(self.call, flt.text, names)


@dataclass(slots=True)
class Panel:
    """Finished calls of one outcome, newest first, bounded; `count` is exact."""

    outcome: Outcome
    limit: int = PANEL_ROWS
    rows: deque[Finished] = field(default_factory=deque)
    #: Calls of this outcome since the board started.
    total: int = 0

    def add(self, finished: Finished) -> None:
        """Put a call first; past `limit` the oldest row goes. `total` counts it either way."""
        self.rows.appendleft(finished)
        if len(self.rows) > self.limit:
            self.rows.pop()
        self.total += 1

    @property
    def title(self) -> str:
        """The outcome's name as the screen shows it."""
        return PANEL_TITLES[self.outcome]


class WaitTargets(Protocol):
    """What the board asks a centre's targets (monitor.targets.Targets)."""

    def wait_level(self, wait: float, queue: str | None) -> Level:
        """The level of a wait of `wait` seconds in `queue`."""
        ...


class Board:
    """Everything the wallboard shows, fed one event (or snapshot) at a time.

    The day's counts, the panels' newest calls and the windows are a
    `classifier.day.DayState`: the board's own, counted from the events it sees, until
    a hub's snapshot hands it the hub's (see `load_snapshot`). The panels hold the same
    calls as the day state's `recent`, with what only the board keeps (each call's
    record and story).
    """

    def __init__(
        self,
        settings: KpiSettings | None = None,
        panel_rows: int = PANEL_ROWS,
        clock: DayClock | None = None,
    ) -> None:
        self.settings = settings or KpiSettings()
        self.tracker = CallTracker(keep_events=False)
        #: The clock asked for on the command line; None: the hub's, else the default.
        self.clock = clock
        self.panel_rows = panel_rows
        self.day = DayState(self.settings, clock, panel_rows)
        #: Why the hub's day was not taken (None when it was, or none came yet).
        self.day_refused: str | None = None
        self.panels: dict[Outcome, Panel] = {o: Panel(o, panel_rows) for o in PANEL_ORDER}
        self.version = 0
        #: Highest feed `seq` applied (for resuming, and for the frame hook).
        self.last_seq: int | None = None
        #: Newest event time seen: the feed's clock.
        self.last_ts: datetime | None = None
        self.events_applied = 0
        self.duplicates = 0
        self.problem_count = 0
        self.problems: deque[str] = deque(maxlen=PROBLEM_ROWS)
        #: The hub whose seqs `last_seq` counts (from its snapshots).
        self.hub_id: str | None = None
        #: Feed events this board never received because a re-sync skipped them: calls
        #: that ended among them are missing from the day's counts and the panels.
        self.unseen_events = 0
        self._finished_ids: OrderedDict[str, None] = OrderedDict()
        self._by_id: dict[str, Finished] = {}
        #: The story of each call in progress, as lines of text. The board keeps these
        #: instead of the calls' events (its tracker keeps none): an
        #: event object costs about five times its line, and a big centre has
        #: thousands of calls open, each with a dozen events.
        self._timelines: dict[str, list[EventLine]] = {}
        self._sorted_key: tuple[object, ...] | None = None
        self._sorted: list[Call] = []
        #: Sort keys per call, dropped when an event changes the call: a frame sorts
        #: thousands of calls, and few of them changed since the last one.
        self._keys: dict[SortKey, dict[str, Any]] = {key: {} for key in SortKey}
        #: Calls waiting for an agent now (queue, waiting since as epoch seconds), also
        #: by queue: the header's 'waiting now' figures come from these without
        #: scanning every call in progress on every frame.
        self._waiting: dict[str, tuple[str | None, float]] = {}
        self._queue_waiting: dict[str | None, dict[str, float]] = {}
        self._presence_counts: Counter[PresenceStatus] | None = None
        #: `agent_counts` and the (agents' day, version) it was counted at.
        self._agent_counts: tuple[AgentsDay, int, Counter[AgentState]] | None = None
        #: The centre's targets (callboard.toml, monitor.targets.Targets); None: the
        #: service-level threshold and `ALERT_FACTOR` times it judge waits.
        self.targets: WaitTargets | None = None
        #: Every agent's state and day (the agents panel), fed with each applied event.
        self.agents = AgentsDay()
        #: Agents' display names (callboard.toml `[agents]`): what the screen calls them.
        self.agent_names = AgentNames()

    # --- feeding ---------------------------------------------------------------------

    def apply(self, event: Event, where: str = "") -> Applied:
        """Apply one event from the feed; problems are recorded, never raised."""
        if event.seq is not None and (self.last_seq is None or event.seq > self.last_seq):
            self.last_seq = event.seq
        if self.last_ts is None or event.ts > self.last_ts:
            self.last_ts = event.ts
        if isinstance(event, CallEnded) and event.call_id in self._finished_ids:
            # Already counted (seen before a reconnect's snapshot); not a new call.
            self.duplicates += 1
            return Applied(Result.DUPLICATE, problem="call already finished")
        applied = self.tracker.apply(event)
        if isinstance(event, AgentStatus):
            self._presence_counts = None
        prefix = f"{where}: " if where else ""
        if applied.result is Result.DUPLICATE:
            self.duplicates += 1
            return applied
        if applied.result is Result.REJECTED:
            self.problem(f"{prefix}{applied.problem}")
            return applied
        self.events_applied += 1
        if self.day.advance(event.ts):
            self._new_day()
        # After the day turned, as the hub's agents' day (`Hub._count_day`): the event
        # counts on the new day, on this board as on a board that joins later.
        self.agents.apply(event)
        for warning in applied.warnings:
            self.problem(f"{prefix}warning: {warning}")
        call = applied.call
        if call is not None:
            timeline = self._timelines.get(call.call_id)
            if timeline is None:
                timeline = self._timelines[call.call_id] = []
            timeline.append(event_line(event))
            for keys in self._keys.values():
                keys.pop(call.call_id, None)
            self._track_waiting(call)
            if applied.verdict is not None:
                self._finish(applied.verdict, call, event.seq)
        self.version += 1
        return applied

    def problem(self, message: str) -> None:
        """Record something wrong with the feed, for the status line."""
        self.problem_count += 1
        self.problems.appendleft(message)
        self.version += 1

    def load_snapshot(
        self,
        calls: Iterable[Call],
        presence: Iterable[AgentStatus] = (),
        seq: int | None = None,
        hub_id: str | None = None,
        day: object = None,
    ) -> None:
        """Replace the calls in progress and the presence with a hub's snapshot.

        `day` is the hub's day state (`DayState.to_dict()`, in the snapshot of hubs
        that keep one): the board takes it whole, counts, panels and windows, as the
        day up to `seq`, so it shows the day a board that watched from the start
        shows. It is refused, and the board goes on counting for itself as below,
        when the board was asked for another day clock or service-level settings
        than the hub's (the refusal is a problem line), or when it cannot be read.

        Without a day from the hub, finished calls, panels and the day's counts stay: a
        snapshot describes the present, and the past was already counted. A call in the
        snapshot that this board already saw finish is left out.

        `calls` are the calls in progress as their state (the snapshot carries no
        events): each one's story starts with a line saying its earlier steps are
        summarised (`classifier.call_state.summary`); its events from `seq` on follow.

        A snapshot that follows events this board already had (a re-sync after the hub
        forgot what we missed, or a different hub) skips the events in between; calls
        that ended among them can never be counted, so the skip is reported as a
        problem and kept in `unseen_events` rather than leaving the day's counts
        silently short.
        """
        calls = list(calls)
        if not self._load_day(day, calls):
            # Counting for itself from a hub's present: its day begins here.
            self.day.mark_start = True
            self._note_skipped(seq, hub_id)
        elif hub_id is not None:
            self.hub_id = hub_id
        self.tracker = CallTracker(keep_events=False)
        self._timelines.clear()
        self._waiting.clear()
        self._queue_waiting.clear()
        for keys in self._keys.values():
            keys.clear()
        for call in calls:
            if call.call_id in self._finished_ids:
                continue
            self._resume(call)
        for status in presence:
            self.tracker.apply(status)
            self.agents.apply(status)
        self._presence_counts = None
        if seq is not None:
            self.last_seq = seq
        self._sorted_key = None
        self.version += 1

    def _resume(self, call: Call) -> None:
        """Hold a call in progress that came in a snapshot, as its events would have."""
        self.tracker.resume(call)
        last = call.last_ts or call.started_at
        if self.last_ts is None or last > self.last_ts:
            self.last_ts = last
        if self.day.advance(last):
            self._new_day()
        self._timelines[call.call_id] = [(call.started_at, summary(call))]
        self._track_waiting(call)

    def _load_day(self, data: object, calls: list[Call]) -> bool:
        """Take a hub's day state if it fits this board; True when taken."""
        if data is None:
            return False
        refused: str | None
        try:
            day = day_from_dict(data)
        except ValueError as exc:
            refused = f"the hub's day could not be read ({exc}); counting from here on"
        else:
            refused = self._day_mismatch(day)
        if refused is not None:
            if refused != self.day_refused:
                self.problem(refused)
            self.day_refused = refused
            return False
        self.day_refused = None
        self.day = day
        # The hub's agents' day travels beside its day state (`Hub.agents`), in the
        # snapshot's form: the calls in progress it holds come from the snapshot's calls.
        agents = data.get("agents") if isinstance(data, Mapping) else None
        if agents is not None:
            try:
                self.agents = agents_from_snapshot(
                    agents, ((c.call_id, c.caller, c.queue) for c in calls)
                )
            except ValueError as exc:
                self.problem(f"the hub's agents could not be read ({exc}); counting from here on")
        for panel in self.panels.values():
            panel.rows.clear()
            panel.total = day.panel_counts[panel.outcome]
        self._by_id.clear()
        for outcome in PANEL_ORDER:
            panel = self.panels[outcome]
            for row in list(day.recent[outcome])[: panel.limit]:
                call = _ended_call(row)
                timeline = ((call.started_at, BEFORE_JOINING),)
                finished = Finished(row.verdict, call, row.seq, timeline)
                panel.rows.append(finished)
                self._by_id[row.verdict.call_id] = finished
                self._remember_finished(row.verdict.call_id)
        return True

    def _day_mismatch(self, day: DayState) -> str | None:
        """Why the hub's day does not fit this board's options, or None."""
        if self.clock is not None and day.clock != self.clock:
            return (
                f"the hub's day is not this board's: the hub's {day.clock.describe()}, "
                f"this board's {self.clock.describe()}; counting from here on"
            )
        if day.settings != self.settings:
            return (
                "the hub counts service level at "
                f"{_thresholds(day.settings)}, this board at {_thresholds(self.settings)}; "
                "counting from here on"
            )
        return None

    def _new_day(self) -> None:
        """The day moved on: the panels start empty, as the day's counts and the agents'
        day's figures do (the hub's agents' day turns with its day)."""
        for panel in self.panels.values():
            panel.rows.clear()
            panel.total = 0
        self._by_id.clear()
        self.agents.new_day()
        self.version += 1

    def _note_skipped(self, seq: int | None, hub_id: str | None) -> None:
        """Count and report the events a snapshot skips since the last one this board had."""
        last, previous_hub = self.last_seq, self.hub_id
        if hub_id is not None:
            self.hub_id = hub_id
        if seq is None or last is None:
            return  # the first snapshot: the board counts from here on
        if hub_id is not None and previous_hub is not None and hub_id != previous_hub:
            # A new hub numbers its events from 1: all of its events before this
            # snapshot are ones we never saw.
            skipped, where = seq, f"the new hub {hub_id}'s events 1-{seq}"
        else:
            skipped, where = seq - last, f"events {last + 1}-{seq}"
        if skipped <= 0:
            return
        self.unseen_events += skipped
        self.problem(
            f"re-synced from a snapshot: {where} were never received; calls that ended "
            "among them are missing from today's counts and the panels"
        )

    def _track_waiting(self, call: Call) -> None:
        old = self._waiting.pop(call.call_id, None)
        if old is not None:
            self._queue_waiting[old[0]].pop(call.call_id, None)
        if is_waiting(call):
            since = call.wait_from.timestamp()
            self._waiting[call.call_id] = (call.queue, since)
            self._queue_waiting.setdefault(call.queue, {})[call.call_id] = since

    def waiting(self, now: datetime) -> tuple[Waiting, dict[str, Waiting]]:
        """Calls waiting now and the longest wait, overall and per queue.

        The same figures as `classifier.kpi.waiting_now` over every call in progress
        (a test holds them equal), kept up to date event by event.
        """
        at = now.timestamp()
        per_queue: dict[str, Waiting] = {}
        earliest: float | None = None
        for queue, calls in self._queue_waiting.items():
            if not calls:
                continue
            first = min(calls.values())
            earliest = first if earliest is None else min(earliest, first)
            if queue is not None:
                per_queue[queue] = Waiting(len(calls), max(0.0, at - first))
        overall = Waiting(len(self._waiting), 0.0 if earliest is None else max(0.0, at - earliest))
        return overall, per_queue

    def _finish(self, verdict: Verdict, call: Call, seq: int | None) -> None:
        finished = Finished(verdict, call, seq, tuple(self._timelines.pop(call.call_id, ())))
        self._remember_finished(verdict.call_id)
        counted = self.day.add(verdict, call.caller, call.callee, seq)
        if counted is Counted.LATE:
            return  # a day no longer shown: counted in day.late, on no panel
        if counted is Counted.NEW_DAY:
            self._new_day()
        panel = self.panels[finished.outcome]
        if len(panel.rows) == panel.limit:
            self._by_id.pop(panel.rows[-1].verdict.call_id, None)
        panel.add(finished)
        self._by_id[verdict.call_id] = finished

    def _remember_finished(self, call_id: str) -> None:
        self._finished_ids[call_id] = None
        if len(self._finished_ids) > REMEMBER_FINISHED:
            self._finished_ids.popitem(last=False)

    # --- reading ---------------------------------------------------------------------

    @property
    def calls(self) -> dict[str, Call]:
        """Calls in progress by id."""
        return self.tracker.calls

    def count_today(self, outcome: Outcome) -> int:
        """Finished calls of one outcome today (exact, whatever the panel holds)."""
        total = self.day.total
        return {
            Outcome.COMPLETED: total.answered + total.outbound_connected,
            Outcome.MISSED: total.missed,
            Outcome.ABANDONED: total.abandoned,
            Outcome.VOICEMAIL: total.voicemail,
            Outcome.NOT_CONNECTED: total.not_connected,
        }[outcome]

    def queues(self) -> list[str]:
        """Every queue seen today or in progress, sorted."""
        names = set(self.day.queues)
        names.update(c.queue for c in self.tracker.calls.values() if c.queue is not None)
        return sorted(names)

    def active(self, sort: SortKey = SortKey.WAITING, flt: Filter | None = None) -> list[Call]:
        """Calls in progress, filtered and sorted (cached until the next change)."""
        flt = flt or Filter()
        key = (self.version, sort, flt)
        if key == self._sorted_key:
            return self._sorted
        calls: Iterable[Call] = self.tracker.calls.values()
        if flt.queue is not None:
            calls = (c for c in calls if c.queue == flt.queue)
        if flt.text:
            calls = (c for c in calls if call_matches(c, flt.text, self.agent_names))
        rows = list(calls) if flt.outcome is None else []
        cache = self._keys[sort]
        compute = _SORTS[sort]

        def sort_key(call: Call) -> Any:
            found = cache.get(call.call_id)
            if found is None:
                found = cache[call.call_id] = compute(call)
            return found

        rows.sort(key=sort_key)
        self._sorted_key = key
        self._sorted = rows
        return rows

    def finished(self, outcome: Outcome, flt: Filter | None = None) -> list[Finished]:
        """A panel's rows, newest first, filtered."""
        rows = self.panels[outcome].rows
        if flt is None or not flt.active:
            return list(rows)
        if flt.outcome is not None and flt.outcome is not outcome:
            return []
        return [f for f in rows if f.matches(flt, self.agent_names)]

    def level(self, call: Call, now: datetime) -> Level:
        """OK, or warn/alert for a call waiting past its queue's threshold."""
        if not is_waiting(call):
            return Level.OK
        return self.wait_level(call.wait_until(now), call.queue)

    def wait_level(self, wait: float, queue: str | None) -> Level:
        """OK, warn (past the queue's service-level threshold) or alert (past
        `ALERT_FACTOR` times it) for a wait of `wait` seconds in `queue`; with targets,
        theirs (`wait_warn_s`, `wait_alert_s`)."""
        if self.targets is not None:
            return self.targets.wait_level(wait, queue)
        threshold = self.settings.threshold(queue)
        if wait > threshold * ALERT_FACTOR:
            return Level.ALERT
        if wait > threshold:
            return Level.WARN
        return Level.OK

    def kpis(self, now: datetime, window: Window = Window.DAY) -> tuple[Kpis, dict[str, Kpis]]:
        """Header figures for the day (or a window ending `now`) and per queue."""
        overall, per_queue = self.waiting(now)
        return self.day.figures(overall, per_queue, window, now)

    def agent_counts(self) -> Counter[AgentState]:
        """Agents by state, from the agents' day the agents panel renders.

        The header and the wall count with this, not `presence`, so they always agree
        with the panel's rows: an agent the feed only knows from a ring or an answer
        (a queue_log's agents on a call, Exotel's dialled numbers) counts too.
        """
        # Thousands of agents: counted again only after the agents' day changed.
        agents, version = self.agents, self.agents.version
        kept = self._agent_counts
        if kept is None or kept[0] is not agents or kept[1] != version:
            kept = self._agent_counts = (agents, version, Counter(a.state for a in agents))
        return kept[2]

    def presence(self) -> Counter[PresenceStatus]:
        """Agents by presence: available, on a call, wrap-up, paused, offline."""
        # Thousands of agents: counted again only after a presence change.
        if self._presence_counts is None:
            self._presence_counts = Counter(s.status for s in self.tracker.presence.values())
        return self._presence_counts

    def find(self, call_id: str) -> tuple[Call, Verdict | None] | None:
        """A call in progress or a finished call still on a panel."""
        call = self.tracker.calls.get(call_id)
        if call is not None:
            return call, None
        finished = self._by_id.get(call_id)
        if finished is not None:
            return finished.call, finished.verdict
        return None

    def story(self, call_id: str, now: datetime) -> Story | None:
        """The timeline of a call the board still holds."""
        call = self.tracker.calls.get(call_id)
        if call is not None:
            story = story_of(call, None, now, self._timelines.get(call_id, ()), titles=PANEL_TITLES)
            return self.agent_names.story(story)
        finished = self._by_id.get(call_id)
        if finished is not None:
            story = story_of(
                finished.call, finished.verdict, now, finished.timeline, titles=PANEL_TITLES
            )
            return self.agent_names.story(story)
        return None


def _ended_call(row: Ended) -> Call:
    """The record of a call the board did not see end (it came in the hub's day state):
    what the panel row and the call's story show, from its verdict."""
    verdict = row.verdict
    started = datetime.fromisoformat(verdict.started_at)
    return Call(
        call_id=verdict.call_id,
        started_at=started,
        direction=Direction(verdict.direction),
        caller=row.caller,
        callee=row.callee,
        phase=Phase.ENDED,
        queue=verdict.queue,
        flags=list(verdict.flags),
    )


def _thresholds(settings: KpiSettings) -> str:
    queues = "".join(f", {q} {s:g} s" for q, s in sorted(settings.queue_service_level_s.items()))
    return f"{settings.service_level_s:g} s{queues}"


def _waiting_key(call: Call) -> tuple[int, float]:
    # Epoch floats, not datetimes: they compare several times faster in a big sort.
    if call.answered_at is None and call.phase in (Phase.QUEUED, Phase.RINGING):
        return (0, call.wait_from.timestamp())
    if call.answered_at is None:
        return (1, call.started_at.timestamp())
    return (2, call.started_at.timestamp())


_SORTS: dict[SortKey, Callable[[Call], Any]] = {
    SortKey.WAITING: _waiting_key,
    SortKey.TOTAL: lambda c: c.started_at.timestamp(),
    SortKey.STATE: lambda c: (c.phase_since or c.started_at).timestamp(),
    SortKey.QUEUE: lambda c: (c.queue is None, c.queue or "", c.wait_from.timestamp()),
    SortKey.CALLER: lambda c: (c.caller.casefold(), c.started_at.timestamp()),
}
