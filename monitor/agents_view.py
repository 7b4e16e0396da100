"""The agents panel's model side: which agents to show, in what order, how urgent, their day.

No Textual here (as in `monitor.board`): the panel widget asks these functions for
its rows and the story screen for an agent's day, and tests ask them directly.
The figures themselves come from `classifier.agents.AgentsDay`, which the board
feeds with every event; this module only orders, filters, grades and words them.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from classifier.agents import Agent, AgentsDay, AgentState, LineKind, OfferResult
from classifier.detail import duration
from monitor.agent_names import AgentNames
from monitor.board import ALERT_FACTOR, Filter, Level
from monitor.story import LineKind as StoryKind
from monitor.story import Story, StoryLine


class AgentSort(StrEnum):
    """Orders of the agents panel; the value is what the screen shows."""

    STATE = "state"
    LONGEST = "longest in state"
    NAME = "name"
    MISSED = "most missed"


#: The order of states in the STATE sort: who needs a look first.
STATE_ORDER: dict[AgentState, int] = {
    AgentState.PAUSED: 0,
    AgentState.WRAP_UP: 1,
    AgentState.RINGING: 2,
    AgentState.ON_CALL: 3,
    AgentState.AVAILABLE: 4,
    AgentState.OFFLINE: 5,
}


@dataclass(frozen=True, slots=True)
class AgentThresholds:
    """Time in state past which a row warns (`!`), and past which it alerts (`!!`).

    An alert level left None is `ALERT_FACTOR` times the warning's (the levels
    before callboard.toml's `[agent_targets]`, whose keys these are).
    """

    pause_s: float = 15 * 60.0
    wrap_up_s: float = 2 * 60.0
    #: Ringing this long means nobody is picking up.
    ringing_s: float = 30.0
    pause_alert_s: float | None = None
    wrap_up_alert_s: float | None = None
    ringing_alert_s: float | None = None

    def limit(self, state: AgentState) -> float | None:
        """The warning threshold of a state; None for states that never warn."""
        return {
            AgentState.PAUSED: self.pause_s,
            AgentState.WRAP_UP: self.wrap_up_s,
            AgentState.RINGING: self.ringing_s,
        }.get(state)

    def alert_limit(self, state: AgentState) -> float | None:
        """The alert threshold of a state; None for states that never warn."""
        warn = self.limit(state)
        if warn is None:
            return None
        alert = {
            AgentState.PAUSED: self.pause_alert_s,
            AgentState.WRAP_UP: self.wrap_up_alert_s,
            AgentState.RINGING: self.ringing_alert_s,
        }[state]
        return warn * ALERT_FACTOR if alert is None else alert


def agent_level(agent: Agent, now: datetime, thresholds: AgentThresholds) -> Level:
    """How urgent an agent's row looks: a pause, wrap-up or ring past its threshold."""
    limit = thresholds.limit(agent.state)
    if limit is None:
        return Level.OK
    spent = agent.in_state_s(now)
    alert = thresholds.alert_limit(agent.state)
    if alert is not None and spent > alert:
        return Level.ALERT
    if spent > limit:
        return Level.WARN
    return Level.OK


def paused_too_long(day: AgentsDay, now: datetime, thresholds: AgentThresholds) -> int:
    """Agents paused past the alert level (the header's count)."""
    alert = thresholds.alert_limit(AgentState.PAUSED)
    assert alert is not None  # a pause always has levels
    # One subtraction, then a comparison an agent (the header asks every frame).
    cutoff = now - timedelta(seconds=alert)
    return sum(1 for a in day if a.state is AgentState.PAUSED and a.since < cutoff)


def state_words(agent: Agent) -> str:
    """The state as the panel writes it: a pause with its reason ("paused: lunch")."""
    if agent.state is AgentState.PAUSED and agent.reason:
        return f"paused: {agent.reason}"
    return agent.state.value


def agent_matches(agent: Agent, flt: Filter, names: AgentNames | None = None) -> bool:
    """Whether the agent passes the filter: serves its queue, and the search text names them.

    The search looks at the agent's id and display name (`names`), the pause reason
    and the current call's caller and id; the outcome filter is for the call panels
    and does not apply.
    """
    if flt.queue is not None and flt.queue not in agent.queues:
        return False
    if not flt.text:
        return True
    needle = flt.text.casefold()
    haystack = [*(names.search_text(agent.name) if names else (agent.name,)), agent.reason]
    if agent.call is not None:
        haystack += [agent.call.caller, agent.call.call_id]
    return any(needle in value.casefold() for value in haystack)


def agent_rows(
    day: AgentsDay,
    sort: AgentSort,
    flt: Filter,
    stamps: dict[str, tuple[datetime, float]] | None = None,
    names: AgentNames | None = None,
) -> list[Agent]:
    """The agents to show, filtered and in the chosen order (ties by name).

    Times are compared as epoch seconds: feed times parsed one by one each carry their
    own zone object, and comparing two such datetimes asks both for their offsets, which
    made sorting 2,000 agents cost 30 ms a frame. `stamps` (name -> the `since` it was
    worked out for, its epoch seconds) keeps them between frames: an agent's `since`
    changes far less often than the panel is drawn (one entry an agent, as the day
    holds them).
    """
    agents = [a for a in day if agent_matches(a, flt, names)]
    shown = names.show if names else str
    cache = stamps if stamps is not None else {}

    def since(agent: Agent) -> float:
        known = cache.get(agent.name)
        if known is not None and known[0] is agent.since:
            return known[1]
        stamp = agent.since.timestamp()
        cache[agent.name] = (agent.since, stamp)
        return stamp

    if sort is AgentSort.NAME:
        agents.sort(key=lambda a: shown(a.name).casefold())  # by the name on screen
    elif sort is AgentSort.LONGEST:
        agents.sort(key=lambda a: (since(a), a.name.casefold()))
    elif sort is AgentSort.MISSED:
        agents.sort(key=lambda a: (-a.not_answered, a.name.casefold()))
    else:
        agents.sort(key=lambda a: (STATE_ORDER[a.state], since(a), a.name.casefold()))
    return agents


def _sort_key(
    sort: AgentSort, agent: Agent, born: int, names: AgentNames | None = None
) -> tuple[float | int | str, ...]:
    """Where `agent` goes in `sort`: `agent_rows`'s key, then the order the day met them
    (`born`, as `agent_rows`'s stable sort keeps it for names that fold alike)."""
    name = agent.name.casefold()
    if sort is AgentSort.NAME:
        # By the name on screen ([agents] in callboard.toml), as `agent_rows` sorts.
        return ((names.show(agent.name) if names else agent.name).casefold(), born)
    if sort is AgentSort.LONGEST:
        return (agent.since.timestamp(), name, born)
    if sort is AgentSort.MISSED:
        return (-agent.not_answered, name, born)
    return (STATE_ORDER[agent.state], agent.since.timestamp(), name, born)


class AgentOrder:
    """The agents panel's rows kept in order between frames, moving only the agents changed.

    `agent_rows` sorts every agent again; at 2,000 agents and 1,000 events a second,
    that is every frame, for the few dozen agents an event moved. This keeps the
    order (each agent's sort key beside it, bisected) and asks the day which agents
    changed since it last looked (`AgentsDay.changed_since`, the day's dirty set):
    each is taken out and put back where its new key goes. A new sort, another day
    object (a hub's snapshot) or more changes than half the floor sorts them all
    again. The filter is applied to the kept order, only while one is set.

    The rows are `agent_rows`'s, agent for agent (tests/test_agents_view.py checks it
    over a simulated day).
    """

    def __init__(self) -> None:
        self._day: AgentsDay | None = None
        self._sort = AgentSort.STATE
        self._version = -1
        #: The sort keys in order, the agents in the same order, each agent's key.
        self._keys: list[tuple[float | int | str, ...]] = []
        self._agents: list[Agent] = []
        self._key_of: dict[str, tuple[float | int | str, ...]] = {}
        #: The order in which the day met each agent (its dict's order).
        self._born: dict[str, int] = {}
        self._filtered: tuple[int, Filter, list[Agent]] | None = None
        self._names: AgentNames | None = None
        #: Full sorts and agents moved so far (what the kept order saves, for tests).
        self.sorts = 0
        self.moves = 0

    def rows(
        self, day: AgentsDay, sort: AgentSort, flt: Filter, names: AgentNames | None = None
    ) -> list[Agent]:
        """The agents to show, filtered and in `sort`'s order, as `agent_rows` gives them
        (`names`: the display names the name sort and the search use).

        The list without a filter is the kept one: read it before the next call.
        """
        if day is not self._day or sort is not self._sort or names is not self._names:
            self._names = names
            self._rebuild(day, sort)
        elif day.version != self._version:
            changed = day.changed_since(self._version)
            if changed is None:
                self._rebuild(day, sort)
            else:
                self._meet(day)
                for name in changed:
                    self._move(day.agents[name])
                self._version = day.version
        if not (flt.queue is not None or flt.text):
            return self._agents
        if self._filtered is None or self._filtered[:2] != (self._version, flt):
            kept = [a for a in self._agents if agent_matches(a, flt, self._names)]
            self._filtered = (self._version, flt, kept)
        return self._filtered[2]

    def _rebuild(self, day: AgentsDay, sort: AgentSort) -> None:
        self._day, self._sort, self._version = day, sort, day.version
        self.sorts += 1
        self._born = {name: born for born, name in enumerate(day.agents)}
        pairs = sorted((_sort_key(sort, a, self._born[a.name], self._names), a) for a in day)
        self._keys = [key for key, _ in pairs]
        self._agents = [agent for _, agent in pairs]
        self._key_of = {agent.name: key for key, agent in pairs}
        self._filtered = None

    def _meet(self, day: AgentsDay) -> None:
        """Number the agents the day met since the last look, in the day's order.

        A day only ever adds agents, at the end of its dict: the new ones are its last.
        """
        new = len(day.agents) - len(self._born)
        if new > 0:
            for name in reversed(list(itertools.islice(reversed(day.agents), new))):
                self._born[name] = len(self._born)

    def _move(self, agent: Agent) -> None:
        """Take `agent` out from under their old key and put them back under the new one."""
        old = self._key_of.get(agent.name)
        if old is not None:
            at = bisect.bisect_left(self._keys, old)
            del self._keys[at]
            del self._agents[at]
        self.moves += 1
        key = self._key_of[agent.name] = _sort_key(
            self._sort, agent, self._born[agent.name], self._names
        )
        at = bisect.bisect_left(self._keys, key)
        self._keys.insert(at, key)
        self._agents.insert(at, agent)


_RESULT_WORDS = {
    OfferResult.RINGING: "ringing",
    OfferResult.ANSWERED: "answered",
    OfferResult.NO_ANSWER: "no answer",
    OfferResult.REJECTED: "rejected",
    OfferResult.CALLER_LEFT: "caller hung up while it rang",
}


def agent_story(agent: Agent, now: datetime, names: AgentNames | None = None) -> Story:
    """An agent's day in lines: every call offered, each pause and login, then the totals.

    With a display name (`names`) the title gives it, then the id.

    The text is the feed's own (names, callers, reasons): the story screen cleans and
    masks it as it does a call's story.
    """
    lines: list[StoryLine] = []
    if agent.story_dropped:
        lines.append(
            StoryLine(
                None, f"{agent.story_dropped} earlier lines not kept on this board", StoryKind.NOTE
            )
        )
    for line in agent.story:
        if line.kind is LineKind.OFFER:
            result = _RESULT_WORDS[line.result or OfferResult.RINGING]
            caller = line.caller or "unknown caller"
            where = f" in queue {line.queue}" if line.queue else ""
            text = f"call {line.call_id} from {caller}{where}: {result}"
            if line.result is OfferResult.ANSWERED:
                text += (
                    f", talked {duration(line.seconds)}"
                    if line.seconds is not None
                    else ", talking"
                )
            lines.append(StoryLine(line.at, text))
        elif line.kind is LineKind.PAUSE:
            reason = line.reason or "no reason given"
            length = duration(line.seconds) if line.seconds is not None else "still paused"
            lines.append(StoryLine(line.at, f"paused ({reason}): {length}"))
        else:
            what = "logged in" if line.kind is LineKind.LOGIN else "logged out"
            # A reason that only says it again ("login", "logged off") is left out.
            plain = line.reason.casefold() in ("", "login", "logout", "logged in", "logged off")
            said = "" if plain else f" ({line.reason})"
            lines.append(StoryLine(line.at, f"{what}{said}"))
    pauses = agent.pause_until(now)
    paused = ", ".join(f"{reason or 'no reason'} {duration(s)}" for reason, s in pauses.items())
    occupancy = agent.occupancy(now)
    average = agent.average_talk_s
    lines.append(
        StoryLine(
            None,
            f"now {state_words(agent)} for {duration(agent.in_state_s(now))}; "
            f"answered {agent.answered}, rung and not answered {agent.not_answered}, "
            f"talk {duration(agent.talk_until(now))}"
            f" (average {duration(average) if average is not None else '–'}), "
            f"paused {paused or 'never'}, "
            f"occupancy {'–' if occupancy is None else f'{round(occupancy * 100)}%'}",
            StoryKind.NOTE,
        )
    )
    shown = names.show(agent.name) if names else agent.name
    who = agent.name if shown == agent.name else f"{shown} ({agent.name})"
    return Story(agent.name, f"Agent {who}: the day", tuple(lines))
