"""The agents panel's model side: which agents to show, in what order, how urgent, their day.

No Textual here (as in `monitor.board`): the panel widget asks these functions for
its rows and the story screen for an agent's day, and tests ask them directly.
The figures themselves come from `classifier.agents.AgentsDay`, which the board
feeds with every event; this module only orders, filters, grades and words them.
"""

from __future__ import annotations

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
