"""The agents' day: every agent's state now and what their day held, event by event.

A supervisor's first questions are "who is on a break, since when, and who let
calls ring out". This module answers them from schema v1 events alone: the
presence an `agent.status` reports, and the calls the agent events (`agent.ringing`,
`agent.answered`, `agent.no_answer`, `agent.rejected`) put on each agent. It is pure
(no I/O, no clock: every time comes from an event or from the caller's `now`) and
incremental (one dictionary update or two per event), so the board, the hub's day
state and `callboard report --agents` can all hold one and agree.

Choices (docs/wallboard.md, "The agents panel", says them for users):

* An agent is created by the first event that names them, a status or a call.
* A state is the latest word about the agent: a status sets it; a ring, an answer
  and a call's end move it. A call that ended frees the agent who was on it (to
  available), so an agent whose source never reports the end of a call is not "on
  a call" for ever; a ring not taken returns the agent to the state before the ring.
* Logged-in time runs from the first event that shows the agent working (any state
  but offline) to the next offline; occupancy is talk time over logged-in time.
* Talk time counts from the answer to the call's end (or to `now` for a call in
  progress); pause time is summed by the pause's reason ("" for none).
* Every agent's day story keeps its last `STORY_LINES` lines; older ones are
  counted in `story_dropped`, never silently lost. At most `MAX_AGENTS` agents and
  `MAX_OPEN_CALLS` calls are held: past that, new ones are counted and refused.

`AgentsDay.to_dict()` / `AgentsDay.from_dict()` carry the whole day (format
`FORMAT_VERSION`) so a hub can hand it to a board that joins late.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from classifier.schema import (
    AgentAnswered,
    AgentNoAnswer,
    AgentRejected,
    AgentRinging,
    AgentStatus,
    CallEnded,
    CallStarted,
    Event,
    PresenceStatus,
    QueueEntered,
)

#: Version of `AgentsDay.to_dict()`'s layout; `from_dict` refuses any other.
FORMAT_VERSION = 1
#: Agents held; a centre bigger than this is refused agent by agent (counted).
MAX_AGENTS = 20_000
#: Calls in progress remembered for the caller and queue they put on an agent.
MAX_OPEN_CALLS = 100_000
#: Lines of each agent's day story kept (offers, pauses, logins), newest last.
STORY_LINES = 300


class AgentState(StrEnum):
    """What an agent is doing now; the value is what the board shows."""

    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on a call"
    WRAP_UP = "wrap-up"
    PAUSED = "paused"
    OFFLINE = "offline"


#: A reported presence as a state.
_FROM_PRESENCE: dict[PresenceStatus, AgentState] = {
    PresenceStatus.AVAILABLE: AgentState.AVAILABLE,
    PresenceStatus.BUSY: AgentState.ON_CALL,
    PresenceStatus.WRAP_UP: AgentState.WRAP_UP,
    PresenceStatus.PAUSED: AgentState.PAUSED,
    PresenceStatus.OFFLINE: AgentState.OFFLINE,
}

#: States in which an agent serves calls (available) or is taken by one (busy).
BUSY_STATES = frozenset({AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP})


class LineKind(StrEnum):
    """The kinds of line in an agent's day story."""

    OFFER = "offer"
    PAUSE = "pause"
    LOGIN = "login"
    LOGOUT = "logout"


class OfferResult(StrEnum):
    RINGING = "ringing"
    ANSWERED = "answered"
    NO_ANSWER = "no answer"
    REJECTED = "rejected"
    #: The caller hung up (or the queue gave up) while this agent rang: not the agent's miss.
    CALLER_LEFT = "caller left"


@dataclass(slots=True)
class StoryLine:
    """One line of an agent's day: a call offered, a pause, a login or a logout."""

    at: datetime
    kind: LineKind
    call_id: str = ""
    caller: str = ""
    queue: str | None = None
    result: OfferResult | None = None
    #: The pause's reason, or the status's reason for a login or logout.
    reason: str = ""
    #: Seconds the pause lasted, or the call was talked; None while it goes on.
    seconds: float | None = None


@dataclass(slots=True)
class CurrentCall:
    """The call an agent is ringing for or talking on."""

    call_id: str
    caller: str
    queue: str | None
    #: When it rang the agent, then when the agent answered.
    since: datetime
    answered: bool = False


@dataclass(slots=True)
class Agent:
    """One agent: the state now and the day's figures."""

    name: str
    state: AgentState
    since: datetime
    #: The pause's reason while paused ('' for none); the status's reason otherwise.
    reason: str = ""
    call: CurrentCall | None = None
    #: Queues the agent took or was offered calls from, in the order first seen.
    queues: dict[str, None] = field(default_factory=dict)
    answered: int = 0
    #: Rung and not answered: no answer or rejected.
    not_answered: int = 0
    #: Seconds talked on calls that ended, and how many those were.
    talk_s: float = 0.0
    talks: int = 0
    #: Seconds paused by reason, closed pauses only ('' for a pause with no reason).
    pause_s: dict[str, float] = field(default_factory=dict)
    pauses: int = 0
    #: Seconds logged in over closed spells, and the start of the open spell.
    logged_in_s: float = 0.0
    logged_in_since: datetime | None = None
    story: deque[StoryLine] = field(default_factory=lambda: deque(maxlen=STORY_LINES))
    story_dropped: int = 0
    #: The state and its start before a ring, to return to when the ring is not taken.
    before_ring: tuple[AgentState, datetime, str] | None = None

    def in_state_s(self, now: datetime) -> float:
        """Seconds in the current state at `now`."""
        return max(0.0, (now - self.since).total_seconds())

    def talk_until(self, now: datetime) -> float:
        """Talk time today, the call in progress included up to `now`."""
        extra = 0.0
        if self.call is not None and self.call.answered:
            extra = max(0.0, (now - self.call.since).total_seconds())
        return self.talk_s + extra

    def logged_in_until(self, now: datetime) -> float:
        """Logged-in time today up to `now`."""
        extra = 0.0
        if self.logged_in_since is not None:
            extra = max(0.0, (now - self.logged_in_since).total_seconds())
        return self.logged_in_s + extra

    def occupancy(self, now: datetime) -> float | None:
        """Share of the logged-in time spent talking (0..1); None before any login."""
        logged = self.logged_in_until(now)
        if logged <= 0:
            return None
        return min(1.0, self.talk_until(now) / logged)

    @property
    def average_talk_s(self) -> float | None:
        """Mean talk time of the calls that ended today; None before the first."""
        return self.talk_s / self.talks if self.talks else None

    def pause_until(self, now: datetime) -> dict[str, float]:
        """Pause time by reason, the pause in progress included up to `now`."""
        totals = dict(self.pause_s)
        if self.state is AgentState.PAUSED:
            totals[self.reason] = totals.get(self.reason, 0.0) + self.in_state_s(now)
        return totals

    def _line(self, line: StoryLine) -> StoryLine:
        if len(self.story) == self.story.maxlen:
            self.story_dropped += 1
        self.story.append(line)
        return line


@dataclass(slots=True)
class _OpenCall:
    """What the agents need of a call in progress: its caller, queue and agents."""

    caller: str = ""
    queue: str | None = None
    agents: dict[str, None] = field(default_factory=dict)
    #: Identities of the agent events applied, so a snapshot's replay counts nothing twice.
    seen: set[tuple[str, str, datetime]] = field(default_factory=set)
    #: The story line of each agent's latest offer, to write its result into.
    offers: dict[str, StoryLine] = field(default_factory=dict)


@dataclass(eq=False, slots=True)
class HeldPin:
    """The calls an `AgentsDay` held at one moment (`AgentsDay.pin_held`): their ids,
    and the facts of those the day changed or dropped since, as they were."""

    ids: list[str]
    saved: dict[str, tuple[str, str | None, tuple[str, ...]]] = field(default_factory=dict)


@dataclass(eq=False, slots=True)
class AgentsPin:
    """The agents an `AgentsDay` held at one moment (`AgentsDay.pin_agents`), and
    `copy` of each one the day changed since, made just before its first change."""

    agents: list[Agent]
    copy: Callable[[Agent], dict[str, Any]]
    saved: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class QueueAgents:
    """Agents serving one queue: how many are available and how many busy now."""

    available: int = 0
    busy: int = 0


@dataclass(frozen=True, slots=True)
class Staffing:
    """The queues' agents now (`AgentsDay.staffing`): what the header and alerts read."""

    #: Each queue with an agent available or busy now: how many of each.
    by_queue: dict[str, QueueAgents]
    #: Every queue an agent was ever named with, whatever the agent does now.
    served: frozenset[str]
    #: Agents available now, the whole site's.
    available: int


class AgentsDay:
    """Every agent's state and day, fed one schema event at a time."""

    def __init__(self) -> None:
        self.agents: dict[str, Agent] = {}
        self._calls: OrderedDict[str, _OpenCall] = OrderedDict()
        #: Agents and calls refused for the bounds, counted (shown by the board).
        self.agents_refused = 0
        self.calls_forgotten = 0
        #: Changes so far: a view that remembers it knows whether to draw again.
        self.version = 0
        #: Each agent's name with the `version` of their last change to what orders
        #: them (state, its start, the misses), the latest last: a view that keeps its
        #: order reads only the agents changed since it last looked (`changed_since`).
        #: One entry an agent, as `agents` holds them.
        self._changed: OrderedDict[str, int] = OrderedDict()
        #: Snapshots being written from the calls held at one moment (`pin_held`).
        self._pins: list[HeldPin] = []
        #: Snapshots being written from the agents as they were at one moment (`pin_agents`).
        self._agent_pins: list[AgentsPin] = []

    def __len__(self) -> int:
        return len(self.agents)

    def __iter__(self) -> Iterator[Agent]:
        return iter(self.agents.values())

    def changed_since(self, version: int) -> list[str] | None:
        """Names of the agents whose state, its start or their misses changed after
        `version` (newest first); None when that is more than half of them (or
        `version` is from before this day), where looking at them all is as cheap."""
        if version < 0 or version > self.version:
            return None
        names: list[str] = []
        limit = len(self.agents) // 2
        for name, at in reversed(self._changed.items()):
            if at <= version:
                break
            if len(names) >= limit:
                return None
            names.append(name)
        return names

    def _touch(self, agent: Agent) -> None:
        """A change to how `agent` orders: counted in `version` and in the changed log."""
        self.version += 1
        self._changed[agent.name] = self.version
        self._changed.move_to_end(agent.name)

    # --- feeding ---------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Take one event of the feed into account (any type; most change nothing here)."""
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            handler(self, event)

    def _agent(
        self, name: str, at: datetime, state: AgentState = AgentState.AVAILABLE, reason: str = ""
    ) -> Agent | None:
        """The agent called `name`; one not seen before starts in `state` (None past the bound)."""
        agent = self.agents.get(name)
        if agent is None:
            if len(self.agents) >= MAX_AGENTS:
                self.agents_refused += 1
                return None
            working = state is not AgentState.OFFLINE
            agent = Agent(name, state, at, reason, logged_in_since=at if working else None)
            agent._line(
                StoryLine(at, LineKind.LOGIN if working else LineKind.LOGOUT, reason=reason)
            )
            if state is AgentState.PAUSED:
                agent.pauses += 1
                agent._line(StoryLine(at, LineKind.PAUSE, reason=reason))
            self.agents[name] = agent
            self._touch(agent)
        return agent

    def _call(self, call_id: str) -> _OpenCall:
        """The held call `call_id` (made if new), for its caller changes to change it."""
        if self._pins:
            self._keep(call_id)
        call = self._calls.get(call_id)
        if call is None:
            call = self._calls[call_id] = _OpenCall()
            if len(self._calls) > MAX_OPEN_CALLS:
                if self._pins:
                    self._keep(next(iter(self._calls)))
                self._calls.popitem(last=False)
                self.calls_forgotten += 1
        return call

    def _set_state(self, agent: Agent, state: AgentState, at: datetime, reason: str = "") -> None:
        """Move `agent` to `state` at `at`, closing the pause and logged-in spells it ends."""
        if at < agent.since:
            at = agent.since  # a late report never makes a spell negative
        if agent.state is AgentState.PAUSED and (
            state is not AgentState.PAUSED or reason != agent.reason
        ):
            spent = (at - agent.since).total_seconds()
            agent.pause_s[agent.reason] = agent.pause_s.get(agent.reason, 0.0) + spent
            for line in reversed(agent.story):
                if line.kind is LineKind.PAUSE:
                    if line.seconds is None:
                        line.seconds = spent
                    break
        if state is AgentState.OFFLINE and agent.logged_in_since is not None:
            agent.logged_in_s += (at - agent.logged_in_since).total_seconds()
            agent.logged_in_since = None
        elif state is not AgentState.OFFLINE and agent.logged_in_since is None:
            agent.logged_in_since = at
        if state is AgentState.PAUSED and (
            agent.state is not AgentState.PAUSED or reason != agent.reason
        ):
            agent.pauses += 1
            agent._line(StoryLine(at, LineKind.PAUSE, reason=reason))
        agent.state = state
        agent.since = at
        agent.reason = reason
        agent.before_ring = None
        self._touch(agent)

    def _status(self, event: AgentStatus) -> None:
        state = _FROM_PRESENCE[event.status]
        reason = event.reason or ""
        known = event.agent in self.agents
        agent = self._agent(event.agent, event.ts, state, reason)
        if agent is None or not known:
            return
        if event.ts < agent.since:
            return  # an older report than the state it would replace: the newer one stands
        if state is agent.state and reason == agent.reason:
            return  # the same word again: time in state keeps running
        if state is AgentState.ON_CALL and agent.state is AgentState.RINGING:
            return  # "busy" said of a ringing phone: the ring is the more precise word
        if self._agent_pins:
            self._keep_agent(agent)
        if state is AgentState.OFFLINE:
            agent._line(StoryLine(event.ts, LineKind.LOGOUT, reason=reason))
        elif agent.state is AgentState.OFFLINE:
            agent._line(StoryLine(event.ts, LineKind.LOGIN, reason=reason))
        if state is not AgentState.ON_CALL:
            # The source says the agent is no longer talking: the call's talk ends here.
            self._end_talk(agent, event.ts)
            agent.call = None
        self._set_state(agent, state, event.ts, reason)

    def _started(self, event: CallStarted) -> None:
        self._call(event.call_id).caller = event.from_

    def _queued(self, event: QueueEntered) -> None:
        self._call(event.call_id).queue = event.queue

    def _seen(self, call: _OpenCall, event: Event, agent: str) -> bool:
        """Whether this agent event was applied before (a snapshot replays open calls)."""
        key = (event.type, agent, event.ts)
        if key in call.seen:
            return True
        call.seen.add(key)
        return False

    def _parties(
        self, event: AgentRinging | AgentAnswered | AgentNoAnswer | AgentRejected
    ) -> tuple[_OpenCall, Agent] | None:
        """The call and the agent an offer event is about; None for a repeat (a snapshot
        replays open calls) or an agent the day no longer takes (`MAX_AGENTS`)."""
        call = self._call(event.call_id)
        if self._seen(call, event, event.agent):
            return None
        agent = self._agent(event.agent, event.ts)
        if agent is None:
            return None
        if self._agent_pins:
            self._keep_agent(agent)  # every offer handler changes this agent alone
        return call, agent

    def _ringing(self, event: AgentRinging) -> None:
        parties = self._parties(event)
        if parties is None:
            return
        call, agent = parties
        name = event.agent
        call.agents[name] = None
        call.offers[name] = _offer(call, agent, event, OfferResult.RINGING)
        if agent.call is not None and agent.call.answered:
            return  # rung while talking (a second line): the talk is what they do
        before = agent.before_ring or (agent.state, agent.since, agent.reason)
        self._set_state(agent, AgentState.RINGING, event.ts)
        agent.before_ring = before
        agent.call = CurrentCall(event.call_id, call.caller, call.queue, event.ts)

    def _not_taken(self, event: AgentNoAnswer | AgentRejected) -> None:
        result = OfferResult.NO_ANSWER if isinstance(event, AgentNoAnswer) else OfferResult.REJECTED
        parties = self._parties(event)
        if parties is None:
            return
        call, agent = parties
        agent.not_answered += 1
        self._close_offer(call, agent, event, result)
        if (
            agent.call is not None
            and agent.call.call_id == event.call_id
            and not agent.call.answered
        ):
            self._unring(agent, event.ts)
        self._touch(agent)

    def _unring(self, agent: Agent, at: datetime) -> None:
        """Back to where the agent was before the ring (available if that is unknown)."""
        before = agent.before_ring
        agent.call = None
        if before is None:
            self._set_state(agent, AgentState.AVAILABLE, at)
            return
        state, since, reason = before
        agent.state, agent.since, agent.reason = state, since, reason
        agent.before_ring = None
        self._touch(agent)
        if state is AgentState.OFFLINE and agent.logged_in_since is not None:
            # Rung while offline (the source never said they logged in): back offline.
            agent.logged_in_s += max(0.0, (at - agent.logged_in_since).total_seconds())
            agent.logged_in_since = None

    def _close_offer(
        self, call: _OpenCall, agent: Agent, event: Event, result: OfferResult
    ) -> None:
        line = call.offers.pop(agent.name, None)
        if line is None or line.result is not OfferResult.RINGING:
            # No ring was reported before (or it was closed): the offer is a line of its own.
            offer = _offer(call, agent, event, result)
            if result is OfferResult.ANSWERED:
                call.offers[agent.name] = offer
            return
        line.result = result
        if result is OfferResult.ANSWERED:
            call.offers[agent.name] = line

    def _answered(self, event: AgentAnswered) -> None:
        parties = self._parties(event)
        if parties is None:
            return
        call, agent = parties
        call.agents[event.agent] = None
        agent.answered += 1
        self._close_offer(call, agent, event, OfferResult.ANSWERED)
        if agent.call is not None and agent.call.answered and agent.call.call_id != event.call_id:
            self._end_talk(agent, event.ts)
        self._set_state(agent, AgentState.ON_CALL, event.ts)
        agent.call = CurrentCall(event.call_id, call.caller, call.queue, event.ts, answered=True)

    def _end_talk(self, agent: Agent, at: datetime, call: _OpenCall | None = None) -> None:
        current = agent.call
        if current is None or not current.answered:
            return
        spent = max(0.0, (at - current.since).total_seconds())
        agent.talk_s += spent
        agent.talks += 1
        if call is None:
            call = self._calls.get(current.call_id)
        line = call.offers.pop(agent.name, None) if call is not None else None
        if line is not None:
            line.seconds = spent
        agent.call = None

    def _ended(self, event: CallEnded) -> None:
        if self._pins:
            self._keep(event.call_id)
        call = self._calls.pop(event.call_id, None)
        if call is None:
            return
        for name in call.agents:
            agent = self.agents.get(name)
            if agent is None or agent.call is None or agent.call.call_id != event.call_id:
                continue
            if self._agent_pins:
                self._keep_agent(agent)
            if agent.call.answered:
                self._end_talk(agent, event.ts, call)
                # Free: a source that reports wrap-up says so next.
                self._set_state(agent, AgentState.AVAILABLE, event.ts)
            else:
                line = call.offers.get(name)
                if line is not None and line.result is OfferResult.RINGING:
                    # The caller went while this agent rang: not the agent's miss.
                    line.result = OfferResult.CALLER_LEFT
                self._unring(agent, event.ts)
        self.version += 1

    # --- reading ---------------------------------------------------------------

    def by_queue(self) -> dict[str, QueueAgents]:
        """Per queue, the agents serving it available now and busy now."""
        return self.staffing().by_queue

    def staffing(self) -> Staffing:
        """Who serves which queue now, and the site's available agents, in one walk."""
        counts: dict[str, list[int]] = {}
        # Queues of the agents neither available nor busy: the others' are in `counts`
        # (the header reads this each frame: an agent's queues are gone over once).
        idle: dict[str, None] = {}
        site = 0
        for agent in self.agents.values():
            available = agent.state is AgentState.AVAILABLE
            site += available
            busy = agent.state in BUSY_STATES
            if not (available or busy):
                idle.update(agent.queues)
                continue
            for queue in agent.queues:
                pair = counts.setdefault(queue, [0, 0])
                pair[0 if available else 1] += 1
        return Staffing(
            {q: QueueAgents(a, b) for q, (a, b) in counts.items()}, frozenset(counts | idle), site
        )

    def new_day(self) -> None:
        """Zero the day's figures at midnight; states, calls and open spells go on."""
        for agent in self.agents.values():
            if self._agent_pins:
                self._keep_agent(agent)
            agent.answered = agent.not_answered = agent.talks = agent.pauses = 0
            agent.talk_s = agent.logged_in_s = 0.0
            agent.pause_s = {}
            if agent.logged_in_since is not None:
                agent.logged_in_since = max(agent.logged_in_since, agent.since)
            agent.story.clear()
            agent.story_dropped = 0
            self._touch(agent)
        self.version += 1

    # --- carrying --------------------------------------------------------------

    def to_dict(self, story_lines: int = STORY_LINES, seen: bool = True) -> dict[str, Any]:
        """The whole day as JSON-able data (format `FORMAT_VERSION`), for a hub's snapshot.

        `story_lines`: each agent's newest lines kept, the older counted in
        `story_dropped`; `seen`: the open calls' agent events already applied, which
        only a reader that replays those events needs (a board given a snapshot does not:
        the snapshot carries the calls' state, not their events).
        """
        return {
            "version": FORMAT_VERSION,
            "agents_refused": self.agents_refused,
            "calls_forgotten": self.calls_forgotten,
            "agents": [_agent_to_dict(a, story_lines) for a in self.agents.values()],
            "calls": [
                {
                    "call_id": call_id,
                    "caller": call.caller,
                    "queue": call.queue,
                    "agents": list(call.agents),
                    "seen": [[kind, name, _time(at)] for kind, name, at in sorted(call.seen)]
                    if seen
                    else [],
                }
                for call_id, call in self._calls.items()
            ],
        }

    @classmethod
    def from_dict(cls, data: Any) -> AgentsDay:
        """The day `to_dict` wrote; a ValueError names what does not fit."""
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            found = data.get("version") if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"agents day: format version {found!r}, expected {FORMAT_VERSION}")
        day = cls()
        try:
            day.agents_refused = int(data.get("agents_refused", 0))
            day.calls_forgotten = int(data.get("calls_forgotten", 0))
            for record in data["agents"][:MAX_AGENTS]:
                agent = _agent_from_dict(record)
                day.agents[agent.name] = agent
            for record in data["calls"][-MAX_OPEN_CALLS:]:
                call = day.hold_call(
                    str(record["call_id"]),
                    str(record["caller"]),
                    record["queue"],
                    [str(a) for a in record["agents"]],
                )
                call.seen = {(str(k), str(a), _at(t)) for k, a, t in record["seen"]}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"agents day: {type(exc).__name__}: {exc}") from None
        day.link_offers()
        return day

    def held_calls(self) -> Iterator[tuple[str, str, str | None, list[str]]]:
        """Each call in progress held for the agents: its id, caller, queue and agents."""
        for call_id, call in self._calls.items():
            yield call_id, call.caller, call.queue, list(call.agents)

    def pin_held(self) -> HeldPin:
        """The calls held now, for a snapshot taken now and written in steps while
        events go on: their ids are copied at once, and the day saves a call's caller,
        queue and agents in the pin before it first changes or drops it (`held_fact`).
        Copying every call's facts at once cost 40-100 ms at 100,000 calls (memory
        traffic over a big heap); the ids alone are a tenth of it. `unpin` when done."""
        pin = HeldPin(list(self._calls))
        self._pins.append(pin)
        return pin

    def unpin(self, pin: HeldPin | AgentsPin) -> None:
        """Stop keeping `pin` up to date (its snapshot is written, or given up)."""
        pins: list[Any] = self._agent_pins if isinstance(pin, AgentsPin) else self._pins
        if pin in pins:
            pins.remove(pin)

    def pin_agents(self, copy: Callable[[Agent], dict[str, Any]]) -> AgentsPin:
        """The agents now, for a snapshot taken now and written in steps while events
        go on: the list of them is copied at once (no agent's fields), and the day saves
        `copy(agent)` in the pin just before it first changes that agent (`pinned_agent`).
        Copying each agent's fields and newest lines at once cost some 15 µs an agent,
        300 ms at `MAX_AGENTS` in one turn of a hub's loop. `unpin` when done."""
        pin = AgentsPin(list(self.agents.values()), copy)
        self._agent_pins.append(pin)
        return pin

    def pinned_agent(self, pin: AgentsPin, agent: Agent) -> dict[str, Any]:
        """`pin.copy` of one of `pin`'s agents as it was when pinned: saved if the day
        changed it since, else made now (from an agent still as it was)."""
        saved = pin.saved.get(agent.name)
        return saved if saved is not None else pin.copy(agent)

    def _keep_agent(self, agent: Agent) -> None:
        """Save `agent` in every agents' pin that has not yet, before it changes (an
        agent made after a pin is saved too on its first change, and never read: the
        pin's list lacks it; asking would cost a set of every agent's name a pin)."""
        for pin in self._agent_pins:
            if agent.name not in pin.saved:
                pin.saved[agent.name] = pin.copy(agent)

    def held_fact(self, pin: HeldPin, call_id: str) -> tuple[str, str | None, tuple[str, ...]]:
        """The caller, queue and agents of one of `pin`'s calls as they were when pinned."""
        saved = pin.saved.get(call_id)
        if saved is not None:
            return saved
        call = self._calls[call_id]
        return call.caller, call.queue, tuple(call.agents)

    def _keep(self, call_id: str) -> None:
        """Save a held call's facts in every pin that has not yet, before it changes."""
        call = self._calls.get(call_id)
        if call is None:
            return  # opened after every pin (not theirs), or dropped and saved already
        for pin in self._pins:
            if call_id not in pin.saved:
                pin.saved[call_id] = (call.caller, call.queue, tuple(call.agents))

    def hold_call(
        self, call_id: str, caller: str, queue: str | None, agents: Iterable[str] = ()
    ) -> _OpenCall:
        """Hold a call in progress as a carried day gives it (the older past the bound
        let go uncounted: the day that wrote them counted its own); then `link_offers`."""
        if self._pins:
            self._keep(call_id)
        call = self._calls[call_id] = _OpenCall(caller, queue, dict.fromkeys(agents))
        self._calls.move_to_end(call_id)
        while len(self._calls) > MAX_OPEN_CALLS:
            self._calls.popitem(last=False)
        return call

    def link_offers(self) -> None:
        """After a carried day is loaded: each held call's offer lines, found in the
        agents' stories, so that its end writes the talk time into the line."""
        for call_id, call in self._calls.items():
            for name in call.agents:
                member = self.agents.get(name)
                if member is None:
                    continue
                for line in reversed(member.story):
                    if line.kind is LineKind.OFFER and line.call_id == call_id:
                        call.offers[name] = line
                        break


def _offer(call: _OpenCall, agent: Agent, event: Event, result: OfferResult) -> StoryLine:
    """An offer of `call` in the agent's story (ringing, or closed when no ring came
    first), the call's queue now among those the agent serves; the line, to close later."""
    if call.queue:
        agent.queues.setdefault(call.queue, None)
    return agent._line(
        StoryLine(
            event.ts,
            LineKind.OFFER,
            call_id=event.call_id,
            caller=call.caller,
            queue=call.queue,
            result=result,
        )
    )


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    at = datetime.fromisoformat(str(value))
    if at.tzinfo is None:
        raise ValueError(f"time {value!r} has no offset")
    return at


def _at(value: Any) -> datetime:
    at = _parse_time(value)
    if at is None:
        raise ValueError("a time is missing")
    return at


def _agent_to_dict(agent: Agent, story_lines: int = STORY_LINES) -> dict[str, Any]:
    current = agent.call
    return {
        "name": agent.name,
        "state": agent.state.value,
        "since": _time(agent.since),
        "reason": agent.reason,
        "call": None
        if current is None
        else {
            "call_id": current.call_id,
            "caller": current.caller,
            "queue": current.queue,
            "since": _time(current.since),
            "answered": current.answered,
        },
        "queues": list(agent.queues),
        "answered": agent.answered,
        "not_answered": agent.not_answered,
        "talk_s": agent.talk_s,
        "talks": agent.talks,
        "pause_s": dict(agent.pause_s),
        "pauses": agent.pauses,
        "logged_in_s": agent.logged_in_s,
        "logged_in_since": _time(agent.logged_in_since),
        "before_ring": None
        if agent.before_ring is None
        else [agent.before_ring[0].value, _time(agent.before_ring[1]), agent.before_ring[2]],
        "story_dropped": agent.story_dropped + max(0, len(agent.story) - story_lines),
        "story": [
            {
                "at": _time(line.at),
                "kind": line.kind.value,
                "call_id": line.call_id,
                "caller": line.caller,
                "queue": line.queue,
                "result": line.result.value if line.result is not None else None,
                "reason": line.reason,
                "seconds": line.seconds,
            }
            for line in list(agent.story)[-story_lines:]
        ],
    }


def _agent_from_dict(record: dict[str, Any]) -> Agent:
    since = _at(record["since"])
    agent = Agent(str(record["name"]), AgentState(record["state"]), since, str(record["reason"]))
    current = record["call"]
    if current is not None:
        call_since = _at(current["since"])
        agent.call = CurrentCall(
            str(current["call_id"]),
            str(current["caller"]),
            current["queue"],
            call_since,
            bool(current["answered"]),
        )
    agent.queues = dict.fromkeys(str(q) for q in record["queues"])
    agent.answered = int(record["answered"])
    agent.not_answered = int(record["not_answered"])
    agent.talk_s = float(record["talk_s"])
    agent.talks = int(record["talks"])
    agent.pause_s = {str(k): float(v) for k, v in record["pause_s"].items()}
    agent.pauses = int(record["pauses"])
    agent.logged_in_s = float(record["logged_in_s"])
    agent.logged_in_since = _parse_time(record["logged_in_since"])
    before = record["before_ring"]
    if before is not None:
        before_since = _at(before[1])
        agent.before_ring = (AgentState(before[0]), before_since, str(before[2]))
    agent.story_dropped = int(record["story_dropped"])
    for line in record["story"][-STORY_LINES:]:
        at = _at(line["at"])
        agent.story.append(
            StoryLine(
                at,
                LineKind(line["kind"]),
                str(line["call_id"]),
                str(line["caller"]),
                line["queue"],
                OfferResult(line["result"]) if line["result"] is not None else None,
                str(line["reason"]),
                None if line["seconds"] is None else float(line["seconds"]),
            )
        )
    return agent


_HANDLERS: dict[str, Callable[[AgentsDay, Any], None]] = {
    "agent.status": AgentsDay._status,
    "call.started": AgentsDay._started,
    "queue.entered": AgentsDay._queued,
    "agent.ringing": AgentsDay._ringing,
    "agent.no_answer": AgentsDay._not_taken,
    "agent.rejected": AgentsDay._not_taken,
    "agent.answered": AgentsDay._answered,
    "call.ended": AgentsDay._ended,
}
