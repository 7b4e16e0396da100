"""The agents' day as a snapshot carries it: short keys, times as offsets, the newest lines.

A hub hands every board that joins its agents' day (`classifier.agents.AgentsDay`)
so that the agents panel of a late board shows what a board that watched all day
shows. `AgentsDay.to_dict()`'s form, which the journal's checkpoint keeps whole,
was 2.85 MB of a 4.20 MB snapshot for 600 agents (bench figure 8): long keys
repeated on every line, every time as a 32-character ISO string, 20 story lines an
agent (nine tenths of it), and every call in progress written a second time with
its caller and queue. This module writes the same day the way
`classifier.call_state` writes a call in progress, and reads it back into an
`AgentsDay` that goes on exactly as the hub's does for every figure the board
shows:

* Short keys, and fields at their default left out (`exclude_defaults`);
  docs/protocol.md ("The agents' day in the snapshot") names each one.
* Times as seconds after one base time `t0` (ISO 8601 with its offset), exact to the
  microsecond. A time whose UTC offset differs from `t0`'s (a day across a change of
  summer time) is written as ISO 8601 instead, so that every time is rebuilt with
  the offset it had: the story screen shows times in their own offset.
* Each agent's story cut to its newest `SNAPSHOT_STORY_LINES` lines, the rest counted
  in `drop`: the agent's-day screen says "N earlier lines not kept on this board".
  The figures (answered, missed, talk, pause and logged-in time, occupancy) are
  fields of their own, not sums of the story, so the agents panel is unchanged.
* The calls in progress the agents' day holds (for the caller and queue a later ring
  puts on an agent) are not written again when the snapshot's calls give them: only
  the agents on each (`ag`), the calls whose caller or queue differ from the
  snapshot's or that the snapshot lacks (`calls`), and the snapshot's calls the
  agents' day does not hold (`skip`). The reader rebuilds them from the snapshot's
  calls, those first, in the snapshot's order: the order only decides which call is
  forgotten first past `classifier.agents.MAX_OPEN_CALLS`.

What it leaves out, and why a board does not need it: the agent events already
applied to each call in progress (`seen`, which only a reader that replays those
events needs; a board gets no events from before the snapshot), and the story
lines past the newest few. The journal's checkpoint keeps `AgentsDay.to_dict()`,
which restores a hub exactly.

Pure (pydantic only, as `classifier.call_state`): the hub writes it, every board
reads it.

In steps (`classifier.steps`): `take` copies at once only what costs nothing an
agent or a call: the list of the agents and the held calls' ids, the day saving an
agent's fields and newest lines (`AgentsDay.pin_agents`) or a held call's facts
(`AgentsDay.pin_held`) just before it first changes one; `snapshot_steps` reads each
agent (its saved copy if it changed) and validates and writes it a few agents or
thousands of calls at a time. A hub joined by a board while 100,000 calls were in
progress spent 100 ms in one go comparing them, and copying 20,000 agents' fields at
once held its loop 300 ms (bench/README.md, "The hub's loop while a board joins");
`to_snapshot` is the same steps run through.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from classifier.agents import (
    MAX_AGENTS,
    STORY_LINES,
    Agent,
    AgentsDay,
    AgentsPin,
    AgentState,
    CurrentCall,
    HeldPin,
    LineKind,
    OfferResult,
    StoryLine,
)
from classifier.steps import Steps, finish

#: The version of this form; `from_snapshot` refuses any other. The snapshot's
#: protocol number (`classifier.call_state.FORM`) changes with it.
FORM = 1
#: Each agent's newest story lines a snapshot carries (the agent's-day screen).
SNAPSHOT_STORY_LINES = 5
#: Agents validated and written between two of `snapshot_steps`' steps (about 2 ms).
AGENTS_STEP = 16
#: Calls compared between two of `snapshot_steps`' steps (about 2 ms).
CALLS_STEP = 4_000

#: Seconds after the form's `t0`; at most about 30 years either way.
Offset = Annotated[float, Field(ge=-1e9, le=1e9, allow_inf_nan=False)]
#: A time: seconds after `t0`, or ISO 8601 with an offset when its offset is not `t0`'s.
Time = Offset | AwareDatetime
#: Seconds of a spell (talk, pause, logged in).
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0)]


class _Form(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class LineForm(_Form):
    """One story line; `r` is the offer's result (an offer's line always has one)."""

    t: Time
    k: LineKind = LineKind.OFFER
    id: str = ""
    from_: str = Field("", alias="from")
    q: str | None = None
    r: OfferResult = OfferResult.ANSWERED
    why: str = ""
    s: Seconds | None = None


class CallNowForm(_Form):
    """The call an agent is ringing for (`ans` false) or talking on."""

    id: str
    from_: str = Field("", alias="from")
    q: str | None = None
    t: Time
    ans: bool = False


class AgentForm(_Form):
    """One agent: the state now, the day's figures and the newest story lines."""

    n: str = Field(min_length=1)
    st: AgentState = AgentState.AVAILABLE
    t: Time
    why: str = ""
    call: CallNowForm | None = None
    qs: list[str] = Field(default_factory=list)
    ans: Count = 0
    miss: Count = 0
    talk: Seconds = 0.0
    talks: Count = 0
    paused: dict[str, Seconds] = Field(default_factory=dict)
    pauses: Count = 0
    login: Seconds = 0.0
    on: Time | None = None
    before: tuple[AgentState, Time, str] | None = None
    drop: Count = 0
    story: list[LineForm] = Field(default_factory=list)


class OwnCallForm(_Form):
    """A call in progress whose caller and queue the snapshot's calls do not give."""

    id: str
    from_: str = Field("", alias="from")
    q: str | None = None
    ag: list[str] = Field(default_factory=list)


class AgentsForm(_Form):
    """The whole agents' day of a snapshot (the `agents` key of its `day`)."""

    form: int
    t0: AwareDatetime | None = None
    refused: Count = 0
    forgotten: Count = 0
    agents: list[AgentForm] = Field(default_factory=list)
    ag: dict[str, list[str]] = Field(default_factory=dict)
    calls: list[OwnCallForm] = Field(default_factory=list)
    skip: list[str] = Field(default_factory=list)


#: What a board knows of a snapshot's call: its id, caller and queue.
CallFacts = tuple[str, str, str | None]


@dataclass(frozen=True, slots=True)
class AgentsTaken:
    """An agents' day as `take` took it: plain values later events do not change, and
    the agents and held calls pinned (the day keeps them as they were until `release`)."""

    t0: datetime | None
    refused: int
    forgotten: int
    #: The day, its agents (each copied as `AgentForm` reads it, its times still whole:
    #: `_agent_record`, `_offsets`) and its held calls as they were, until `release`.
    day: AgentsDay
    agents: AgentsPin
    pin: HeldPin

    def release(self) -> None:
        """Let the day stop keeping the pinned agents and calls (the steps are done or
        given up)."""
        self.day.unpin(self.agents)
        self.day.unpin(self.pin)


def take(day: AgentsDay, story_lines: int = SNAPSHOT_STORY_LINES) -> AgentsTaken:
    """What the snapshot form of `day` needs, taken now (for `snapshot_steps`)."""
    agents = day.pin_agents(partial(_agent_record, story_lines=story_lines))
    return AgentsTaken(
        t0=agents.agents[0].since if agents.agents else None,
        refused=day.agents_refused,
        forgotten=day.calls_forgotten,
        day=day,
        agents=agents,
        pin=day.pin_held(),
    )


def to_snapshot(
    day: AgentsDay, calls: Iterable[CallFacts], story_lines: int = SNAPSHOT_STORY_LINES
) -> dict[str, Any]:
    """The agents' day in its snapshot form, beside a snapshot whose calls are `calls`."""
    taken = take(day, story_lines)
    try:
        return finish(snapshot_steps(taken, calls))
    finally:
        taken.release()


def snapshot_steps(taken: AgentsTaken, calls: Iterable[CallFacts]) -> Steps[dict[str, Any]]:
    """`to_snapshot` of the day `taken` holds, in steps; `calls` is read in the steps
    (a generator of the snapshot's calls as they were when `taken` was). The caller
    releases `taken` when done (or when it gives up)."""
    # Two dicts of strings, not one of tuples: no object a call for the collector.
    callers: dict[str, str] = {}
    queues: dict[str, str | None] = {}
    for n, (call_id, caller, queue) in enumerate(calls, 1):
        callers[call_id] = caller
        queues[call_id] = queue
        if n % CALLS_STEP == 0:
            yield
    ag: dict[str, list[str]] = {}
    own: list[dict[str, Any]] = []
    for n, call_id in enumerate(taken.pin.ids):
        caller, queue, on = taken.day.held_fact(taken.pin, call_id)
        names = list(on)
        if call_id in callers and callers[call_id] == caller and queues[call_id] == queue:
            if names:
                ag[call_id] = names
        else:
            own.append({"id": call_id, "from": caller, "q": queue, "ag": names})
        if n % CALLS_STEP == CALLS_STEP - 1:
            yield
    held = set(taken.pin.ids)
    yield
    skip = [call_id for call_id in callers if call_id not in held]
    yield
    out = AgentsForm(
        form=FORM, t0=taken.t0, refused=taken.refused, forgotten=taken.forgotten
    ).model_dump(mode="json", by_alias=True, exclude_defaults=True)
    # The lists in `AgentsForm`'s order, each left out when empty (its default), as
    # `model_dump(exclude_defaults=True)` of the whole form writes them.
    agents: list[dict[str, Any]] = []
    clock = _Clock(taken.t0)
    pinned = taken.agents
    for n, agent in enumerate(pinned.agents, 1):
        record = taken.day.pinned_agent(pinned, agent)
        agents.append(_dump(AgentForm.model_validate(_offsets(record, clock))))
        if n % AGENTS_STEP == 0:
            yield
    own_forms: list[dict[str, Any]] = []
    for n, item in enumerate(own, 1):
        own_forms.append(_dump(OwnCallForm.model_validate(item)))
        if n % CALLS_STEP == 0:
            yield
    for key, value in (("agents", agents), ("ag", ag), ("calls", own_forms), ("skip", skip)):
        if value:
            out[key] = value
    return out


def _dump(form: _Form) -> dict[str, Any]:
    return form.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def from_snapshot(data: Any, calls: Iterable[CallFacts]) -> AgentsDay:
    """The agents' day `to_snapshot` wrote, beside a snapshot whose calls are `calls`.

    A ValueError names what does not fit: the form's version, or the first field
    that is not what it should be (pydantic's location, e.g. `agents.3.t`).
    """
    if not isinstance(data, Mapping) or data.get("form") != FORM:
        found = data.get("form") if isinstance(data, Mapping) else type(data).__name__
        raise ValueError(f"agents day: snapshot form {found!r}, expected {FORM}")
    try:
        form = AgentsForm.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"agents day: {where}: {first['msg']}") from None
    clock = _Clock(form.t0)
    day = AgentsDay()
    day.agents_refused = form.refused
    day.calls_forgotten = form.forgotten
    for record in form.agents[:MAX_AGENTS]:
        agent = _agent(record, clock)
        day.agents[agent.name] = agent
    skip = set(form.skip)
    agents_on = form.ag
    given = [fact for fact in calls if fact[0] not in skip]
    missing = set(agents_on).difference(call_id for call_id, _, _ in given)
    if missing:
        raise ValueError(f"agents day: ag: call {min(missing)!r} is not among the snapshot's calls")
    for call_id, caller, queue in given:
        day.hold_call(call_id, caller, queue, agents_on.get(call_id, ()))
    for own in form.calls:
        day.hold_call(own.id, own.from_, own.q, own.ag)
    day.link_offers()
    return day


class _Clock:
    """Times as seconds after a base, or whole when their UTC offset is not the base's."""

    def __init__(self, base: datetime | None) -> None:
        self.base = base

    def out(self, at: datetime) -> float | datetime:
        base = self.base
        if base is None or at.utcoffset() != base.utcoffset():
            return at
        return round((at - base).total_seconds(), 6)

    def back(self, value: float | datetime) -> datetime:
        if isinstance(value, datetime):
            return value
        if self.base is None:
            raise ValueError("agents day: a time in seconds, but no t0 to count them from")
        try:
            return self.base + timedelta(seconds=value)
        except OverflowError:
            raise ValueError(f"agents day: {value:g} s after t0 is not a date") from None


def _agent_record(agent: Agent, story_lines: int) -> dict[str, Any]:
    """The agent as `AgentForm` reads it once `_offsets` has made its times offsets:
    plain values, copied (the lists are new; times are immutable): what an agent
    pinned by `take` was, made in a step or just before the day changes it. The
    times are left whole here because the day saves a copy in the turn of the event
    that changes the agent; `snapshot_steps` converts them a few agents at a time."""
    current = agent.call
    story = agent.story
    kept = [story[i] for i in range(max(0, len(story) - story_lines), len(story))]
    if story_lines <= 0:
        kept = []
    return {
        "n": agent.name,
        "st": agent.state,
        "t": agent.since,
        "why": agent.reason,
        "call": None
        if current is None
        else {
            "id": current.call_id,
            "from": current.caller,
            "q": current.queue,
            "t": current.since,
            "ans": current.answered,
        },
        "qs": list(agent.queues),
        "ans": agent.answered,
        "miss": agent.not_answered,
        "talk": agent.talk_s,
        "talks": agent.talks,
        "paused": dict(agent.pause_s),
        "pauses": agent.pauses,
        "login": agent.logged_in_s,
        "on": agent.logged_in_since,
        "before": agent.before_ring,
        "drop": agent.story_dropped + len(story) - len(kept),
        "story": [
            {
                "t": line.at,
                "k": line.kind,
                "id": line.call_id,
                "from": line.caller,
                "q": line.queue,
                "r": line.result or OfferResult.ANSWERED,
                "why": line.reason,
                "s": line.seconds,
            }
            for line in kept
        ],
    }


def _offsets(record: dict[str, Any], clock: _Clock) -> dict[str, Any]:
    """A copy of `record` with its times as `clock` writes them (seconds after `t0`,
    or whole); `record` itself is left as `take` made it."""
    out = dict(record)
    out["t"] = clock.out(record["t"])
    if record["call"] is not None:
        out["call"] = record["call"] | {"t": clock.out(record["call"]["t"])}
    if record["on"] is not None:
        out["on"] = clock.out(record["on"])
    before = record["before"]
    if before is not None:
        out["before"] = (before[0], clock.out(before[1]), before[2])
    out["story"] = [line | {"t": clock.out(line["t"])} for line in record["story"]]
    return out


def _agent(record: AgentForm, clock: _Clock) -> Agent:
    agent = Agent(record.n, record.st, clock.back(record.t), record.why)
    if record.call is not None:
        now = record.call
        agent.call = CurrentCall(now.id, now.from_, now.q, clock.back(now.t), now.ans)
    agent.queues = dict.fromkeys(record.qs)
    agent.answered = record.ans
    agent.not_answered = record.miss
    agent.talk_s = record.talk
    agent.talks = record.talks
    agent.pause_s = dict(record.paused)
    agent.pauses = record.pauses
    agent.logged_in_s = record.login
    agent.logged_in_since = None if record.on is None else clock.back(record.on)
    if record.before is not None:
        state, since, reason = record.before
        agent.before_ring = (state, clock.back(since), reason)
    agent.story_dropped = record.drop
    for line in record.story[-STORY_LINES:]:
        agent.story.append(
            StoryLine(
                clock.back(line.t),
                line.k,
                line.id,
                line.from_,
                line.q,
                line.r if line.k is LineKind.OFFER else None,
                line.why,
                line.s,
            )
        )
    return agent
