"""The contact centre as a seeded discrete-event simulation, yielding schema v1 events.

Pure and deterministic: no I/O, no asyncio, no wall clock. The clock is an integer
count of simulated milliseconds from `SimConfig.start`; every decision comes from
one `random.Random(seed)` drawn in a fixed order, and ties in time are broken by
the order actions were scheduled. So the same config gives the same events, and
`simulate(config)` can be written to a file, paced for a live feed, or counted.

Each action runs at the current simulated instant and only emits events stamped
with that instant, so the events come out in time order without sorting.

The model, in short (docs/simulator.md has the whole story):

* inbound calls arrive as a Poisson process (thinned by the daily profile), pass an
  optional welcome greeting and IVR, an optional available-agents greeting, then wait
  in a queue whose agents are rung in turn (longest idle first);
* callers have exponential patience and hang up wherever they are when it runs out;
* out of hours the flow goes to voicemail; in hours the queue can time out (to
  voicemail or a system exit) and a queue with nobody logged in sends callers away;
* agents work shifts, take breaks, wrap up after calls; all of it is `agent.status`;
* some inbound calls and most outbound calls go through Exotel's flows and carry leg
  statuses on `call.ended`;
* every `call.ended` carries `truth`: the simulator's own verdict (see `truth.py`).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum, auto
from typing import Any

from classifier.schema import (
    AgentAnswered,
    AgentNoAnswer,
    AgentRejected,
    AgentRinging,
    AgentStatus,
    CallEnded,
    CallStarted,
    CallTransferred,
    Direction,
    EndedBy,
    Event,
    Flow,
    Greeting,
    GreetingStarted,
    IvrEntered,
    LegStatus,
    PresenceStatus,
    QueueEntered,
    VoicemailBeep,
    VoicemailStarted,
    VoicemailVia,
)
from monitor.sim.config import DAILY_PROFILE, SimConfig
from monitor.sim.people import agent_name, agent_phone, caller_number, centre_number
from monitor.sim.truth import Kind, Spot, Story, truth_of

HOUR = 3_600_000
DAY = 24 * HOUR
RECEPTION = "Reception"


class Phase(Enum):
    FRONT = auto()
    AVAILABLE_GREETING = auto()
    QUEUED = auto()
    RINGING = auto()
    TALKING = auto()
    TRANSFER = auto()
    VOICEMAIL_GREETING = auto()
    RECORDING = auto()
    DIALLING = auto()
    ENDED = auto()


#: Phases in which a caller's patience can run out.
ABANDONABLE = frozenset(
    {
        Phase.FRONT,
        Phase.AVAILABLE_GREETING,
        Phase.QUEUED,
        Phase.RINGING,
        Phase.TRANSFER,
        Phase.VOICEMAIL_GREETING,
    }
)

SPOT = {
    Phase.FRONT: Spot.FRONT,
    Phase.AVAILABLE_GREETING: Spot.AVAILABLE_GREETING,
    Phase.QUEUED: Spot.QUEUE,
    Phase.RINGING: Spot.RINGING,
    Phase.TALKING: Spot.TALKING,
    Phase.TRANSFER: Spot.TRANSFER,
    Phase.VOICEMAIL_GREETING: Spot.VOICEMAIL_GREETING,
    Phase.RECORDING: Spot.RECORDING,
    Phase.DIALLING: Spot.DIALLING,
}

#: Calls whose agents are dialled by Exotel's connect applet (leg2 statuses).
EXOTEL_DIALLED = frozenset({Kind.EXOTEL_INBOUND, Kind.CONNECT_TO_FLOW})


class AgentState(Enum):
    OFFLINE = auto()
    IDLE = auto()
    RINGING = auto()
    TALKING = auto()
    WRAP_UP = auto()
    PAUSED = auto()
    OUTBOUND = auto()


@dataclass(eq=False, slots=True)
class SimAgent:
    """One agent; identity-hashed so dicts of agents keep a deterministic order."""

    index: int
    name: str
    queues: tuple[str, ...]
    state: AgentState = AgentState.OFFLINE
    call: SimCall | None = None
    pending_pause: tuple[str, int] | None = None
    pending_logout: bool = False


@dataclass(eq=False, slots=True)
class SimCall:
    """One call and everything the simulator decided about it so far."""

    id: str
    kind: Kind
    queue: str
    after_hours: bool = False
    phase: Phase = Phase.FRONT
    #: Bumped on every phase change: a scheduled step from an older phase is stale.
    stamp: int = 0
    stint: int = 0
    had_ivr: bool = False
    answered: bool = False
    transferred: bool = False
    presented: bool = False
    heard_beep: bool = False
    voicemail_from_queue: bool = False
    timed_out: bool = False
    dials: int = 0
    all_agents_busy: bool = False
    last_dial: LegStatus | None = None
    leg1: LegStatus | None = LegStatus.COMPLETED
    agent: SimAgent | None = None
    talk_left: int = 0
    declined: dict[SimAgent, int] = field(default_factory=dict)


class Centre:
    """The simulation state and its scheduler. Use `simulate()` rather than this directly."""

    def __init__(self, config: SimConfig) -> None:
        self.cfg = config
        self.b = config.behaviour
        self.rng = random.Random(config.seed)
        self.now = 0
        self.end: int | None = None if config.hours is None else round(config.hours * HOUR)
        self._heap: list[tuple[int, int, Callable[..., None], tuple[Any, ...]]] = []
        self._order = 0
        self._out: list[Event] = []
        self._ts: datetime | None = None
        start = config.start
        self._start_hour = start.hour + start.minute / 60 + start.second / 3600
        self._first_midnight = -round(self._start_hour * HOUR)
        self._profile = self._normalised_profile()
        self._peak = max(self._profile)
        self.calls = 0
        self.open_calls = 0
        self.queues = config.queues
        self._queue_weights = config.weights()
        self.waiting: dict[str, dict[SimCall, None]] = {q: {} for q in self.queues}
        self._waiting_since: dict[SimCall, int] = {}
        self.idle: dict[str, dict[SimAgent, None]] = {q: {} for q in self.queues}
        self.idle_all: dict[SimAgent, None] = {}
        self.logged_in: dict[str, int] = dict.fromkeys(self.queues, 0)
        self.agents = self._make_agents()
        self._caller_n = 0
        self._schedule(0, self._plan_day, 0)
        self._schedule_arrival(inbound=True)
        self._schedule_arrival(inbound=False)

    # --- scheduling ---------------------------------------------------------------

    def _schedule(self, delay: int, fn: Callable[..., None], *args: Any) -> None:
        self._order += 1
        heapq.heappush(self._heap, (self.now + max(0, delay), self._order, fn, args))

    def _later(self, call: SimCall, delay: int, fn: Callable[[SimCall], None]) -> None:
        """Run a step of this call's flow unless the call has moved on meanwhile."""
        self._schedule(delay, self._step, call, call.stamp, fn)

    def _step(self, call: SimCall, stamp: int, fn: Callable[[SimCall], None]) -> None:
        if call.stamp == stamp:
            fn(call)

    def events(self) -> Iterator[Event]:
        """Run the simulation, yielding events in time order as they happen."""
        heap = self._heap
        while heap:
            when, _, fn, args = heapq.heappop(heap)
            if when != self.now:
                self.now = when
                self._ts = None
            fn(*args)
            if self._out:
                yield from self._out
                self._out.clear()

    @property
    def over(self) -> bool:
        """Past the end of the run: no new arrivals, logins, pauses or logouts."""
        return self.end is not None and self.now >= self.end

    # --- random draws ----------------------------------------------------------------

    def _ms(self, seconds: float) -> int:
        return round(seconds * 1000)

    def _uniform(self, bounds: tuple[float, float]) -> int:
        return self._ms(self.rng.uniform(*bounds))

    def _chance(self, p: float) -> bool:
        return self.rng.random() < p

    def _talk_time(self) -> int:
        b = self.b
        return self._ms(max(5.0, self.rng.lognormvariate(math.log(b.talk_median_s), b.talk_sigma)))

    # --- the clock of the centre -------------------------------------------------------

    def _hour_of_day(self, at: int) -> float:
        return (self._start_hour + at / HOUR) % 24

    def is_open(self, at: int) -> bool:
        if self.cfg.open_all_day:
            return True
        hour = self._hour_of_day(at)
        return self.cfg.opens <= hour < self.cfg.closes

    def _normalised_profile(self) -> tuple[float, ...]:
        if self.cfg.profile == "flat":
            return (1.0,) * 24
        open_hours = [h for h in range(24) if self.cfg.opens <= h < self.cfg.closes] or list(
            range(24)
        )
        mean = sum(DAILY_PROFILE[h] for h in open_hours) / len(open_hours)
        return tuple(v / mean for v in DAILY_PROFILE)

    def ts(self) -> datetime:
        if self._ts is None:
            self._ts = self.cfg.start + timedelta(milliseconds=self.now)
        return self._ts

    # --- emitting ----------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        self._out.append(event)

    def _presence(self, agent: SimAgent, status: PresenceStatus, reason: str | None = None) -> None:
        if reason is None:
            event = AgentStatus(type="agent.status", ts=self.ts(), agent=agent.name, status=status)
        else:
            event = AgentStatus(
                type="agent.status", ts=self.ts(), agent=agent.name, status=status, reason=reason
            )
        self._emit(event)

    # --- agents ------------------------------------------------------------------------

    def _make_agents(self) -> list[SimAgent]:
        n, weights = self.cfg.agents, self._queue_weights
        total = sum(weights) or 1.0
        bounds, acc = [], 0.0
        for w in weights:
            acc += w / total
            bounds.append(acc)
        agents = []
        for i in range(n):
            spot = (i + 0.5) / n
            primary = next((k for k, b in enumerate(bounds) if spot < b), len(bounds) - 1)
            skills = [self.queues[primary]]
            if len(self.queues) > 1 and self._chance(0.4):
                skills.append(self.queues[(primary + 1) % len(self.queues)])
            agents.append(SimAgent(index=i, name=agent_name(i), queues=tuple(skills)))
        return agents

    def _plan_day(self, day: int) -> None:
        """Lay out one day of shifts and breaks, then plan the next day at midnight."""
        midnight = self._first_midnight + day * DAY
        b = self.b
        for agent in self.agents:
            if self.cfg.open_all_day:
                if day == 0:
                    self._schedule(0, self._login, agent)
                first, last = midnight, midnight + DAY
            else:
                first, last = self._shift(agent, midnight)
                if last <= self.now:
                    continue
                self._schedule(first - self.now, self._login, agent)
                self._schedule(last - self.now, self._logout_due, agent)
            length = last - first
            if b.planned_breaks:
                for at, minutes, reason in (
                    (0.25, 15, "break"),
                    (0.5, 30, "lunch"),
                    (0.75, 15, "break"),
                ):
                    when = first + round(length * at) + self._uniform((-900, 900))
                    self._plan_pause(agent, when, reason, minutes * 60_000)
            if self._chance(b.p_extra_pause):
                when = first + round(length * self.rng.uniform(0.1, 0.9))
                reason = self.rng.choice(("training", "meeting", "admin"))
                self._plan_pause(agent, when, reason, self._uniform((600, 2700)))
        next_midnight = midnight + DAY
        if self.end is None or next_midnight < self.end:
            self._schedule(next_midnight - self.now, self._plan_day, day + 1)

    def _plan_pause(self, agent: SimAgent, when: int, reason: str, duration: int) -> None:
        # A break planned before the run began is not taken at its first instant.
        if when >= self.now:
            self._schedule(when - self.now, self._pause_due, agent, reason, duration)

    def _shift(self, agent: SimAgent, midnight: int) -> tuple[int, int]:
        """An agent's shift: staggered starts from just before opening, nine hours long."""
        cfg = self.cfg
        span = cfg.closes - cfg.opens
        length = min(9.0, span + 0.5)
        # The golden ratio spreads the starts evenly whatever the number of agents.
        spread = (agent.index * 0.6180339887) % 1.0
        start_h = cfg.opens - 0.25 + spread * max(0.0, span + 0.5 - length)
        first = midnight + round(start_h * HOUR) + self._uniform((-300, 720))
        last = midnight + round((start_h + length) * HOUR) + self._uniform((-600, 300))
        return first, last

    def _login(self, agent: SimAgent) -> None:
        if self.over or agent.state is not AgentState.OFFLINE:
            return
        agent.pending_logout = False
        for q in agent.queues:
            self.logged_in[q] += 1
        self._presence(agent, PresenceStatus.AVAILABLE, "login")
        self._become_idle(agent)

    def _logout_due(self, agent: SimAgent) -> None:
        if self.over or agent.state is AgentState.OFFLINE:
            return
        if agent.state is AgentState.IDLE:
            self._logout(agent)
        else:
            agent.pending_logout = True

    def _logout(self, agent: SimAgent) -> None:
        self._leave_idle(agent)
        agent.state = AgentState.OFFLINE
        agent.pending_logout = False
        agent.pending_pause = None
        self._presence(agent, PresenceStatus.OFFLINE, "logout")
        for q in agent.queues:
            self.logged_in[q] -= 1
            if self.logged_in[q] == 0:
                # Nobody left to answer: the queue sends its waiting callers away.
                for call in [c for c in self.waiting[q] if c.phase is Phase.QUEUED]:
                    self._nobody_logged_in(call)

    def _pause_due(self, agent: SimAgent, reason: str, duration: int) -> None:
        if self.over or agent.state is AgentState.OFFLINE or agent.pending_logout:
            return
        if agent.state is AgentState.IDLE:
            self._pause(agent, reason, duration)
        elif agent.pending_pause is None and agent.state is not AgentState.PAUSED:
            agent.pending_pause = (reason, duration)

    def _pause(self, agent: SimAgent, reason: str, duration: int) -> None:
        self._leave_idle(agent)
        agent.state = AgentState.PAUSED
        agent.pending_pause = None
        self._presence(agent, PresenceStatus.PAUSED, reason)
        self._schedule(duration, self._pause_end, agent)

    def _pause_end(self, agent: SimAgent) -> None:
        if agent.state is not AgentState.PAUSED:
            return
        if agent.pending_logout:
            self._logout(agent)
            return
        self._presence(agent, PresenceStatus.AVAILABLE)
        self._become_idle(agent)

    def _free(self, agent: SimAgent, announce: bool) -> None:
        """The agent is done with a call (or a ring): log out, pause, or take the next."""
        agent.call = None
        if agent.pending_logout:
            agent.state = AgentState.IDLE
            self._logout(agent)
        elif agent.pending_pause is not None:
            agent.state = AgentState.IDLE
            self._pause(agent, *agent.pending_pause)
        else:
            if announce:
                self._presence(agent, PresenceStatus.AVAILABLE)
            self._become_idle(agent)

    def _become_idle(self, agent: SimAgent) -> None:
        agent.state = AgentState.IDLE
        for q in agent.queues:
            self.idle[q][agent] = None
        self.idle_all[agent] = None
        self._offer_agent(agent)

    def _leave_idle(self, agent: SimAgent) -> None:
        for q in agent.queues:
            self.idle[q].pop(agent, None)
        self.idle_all.pop(agent, None)

    def _wrap_up(self, agent: SimAgent) -> None:
        agent.call = None
        agent.state = AgentState.WRAP_UP
        self._presence(agent, PresenceStatus.WRAP_UP)
        self._schedule(self._uniform(self.b.wrap_up_s), self._wrap_end, agent)

    def _wrap_end(self, agent: SimAgent) -> None:
        if agent.state is AgentState.WRAP_UP:
            self._free(agent, announce=True)

    # --- matching calls and agents -----------------------------------------------------

    def _may_ring(self, call: SimCall, agent: SimAgent) -> bool:
        declined = call.declined.get(agent)
        return declined is None or self.now - declined >= self._ms(self.b.decline_cooldown_s)

    def _offer_call(self, call: SimCall) -> None:
        """A call is waiting: ring the longest-idle agent of its queue who may take it."""
        if call.phase is not Phase.QUEUED:
            return
        for agent in self.idle[call.queue]:
            if self._may_ring(call, agent):
                self._ring(call, agent)
                return

    def _offer_agent(self, agent: SimAgent) -> None:
        """An agent is free: ring them with the longest-waiting call they may take."""
        best: SimCall | None = None
        best_at = 0
        for q in agent.queues:
            for call in self.waiting[q]:
                if call.phase is Phase.QUEUED and self._may_ring(call, agent):
                    queued_at = self._waiting_since[call]
                    if best is None or queued_at < best_at:
                        best, best_at = call, queued_at
                    break
        if best is not None:
            self._ring(best, agent)

    # --- call flow: arrival and front ---------------------------------------------------

    def _schedule_arrival(self, inbound: bool) -> None:
        share = self.cfg.outbound_share
        rate = self.cfg.calls_per_hour * ((1 - share) if inbound else share)
        if rate <= 0:
            return
        # Thinning: candidates at the peak rate, kept in proportion to the hour's rate.
        gap = self.rng.expovariate(rate * self._peak / HOUR)
        self._schedule(round(gap), self._arrival, inbound)

    def _arrival(self, inbound: bool) -> None:
        if self.over:
            return
        hour = int(self._hour_of_day(self.now))
        keep = self.rng.random() < self._profile[hour] / self._peak
        if keep:
            if inbound:
                self._inbound()
            elif self.is_open(self.now):
                self._outbound()
        self._schedule_arrival(inbound)

    def _new_call(self, kind: Kind) -> SimCall:
        self.calls += 1
        self.open_calls += 1
        queue = self.rng.choices(self.queues, self._queue_weights)[0]
        return SimCall(id=f"{self.cfg.id_prefix}{self.calls:06d}", kind=kind, queue=queue)

    def _caller(self) -> str:
        return caller_number(self.rng.randrange(1000))

    def _enter(self, call: SimCall, phase: Phase) -> None:
        call.phase = phase
        call.stamp += 1

    def _start_patience(self, call: SimCall) -> None:
        self._schedule(self._ms(self.rng.expovariate(1 / self.b.patience_mean_s)), self._quit, call)

    def _quit(self, call: SimCall) -> None:
        """The caller's patience ran out: hang up wherever the call is, if it is waiting."""
        if call.phase in ABANDONABLE and not call.answered:
            self._end(call, EndedBy.CALLER)

    def _inbound(self) -> None:
        exotel = self._chance(self.cfg.exotel_share)
        call = self._new_call(Kind.EXOTEL_INBOUND if exotel else Kind.INBOUND)
        call.after_hours = not self.is_open(self.now)
        started: dict[str, Any] = {
            "type": "call.started",
            "call_id": call.id,
            "ts": self.ts(),
            "direction": Direction.INBOUND,
            "from_": self._caller(),
            "to": centre_number(self.queues.index(call.queue)),
        }
        if call.after_hours:
            started["after_hours"] = True
        self._emit(CallStarted(**started))
        self._start_patience(call)
        if call.after_hours and self._chance(self.b.p_after_hours_quit):
            self._schedule(self._uniform((1.0, 6.0)), self._quit, call)
        welcome = call.after_hours or self._chance(self.b.p_welcome)
        if welcome:
            self._emit(self._greeting(call, Greeting.WELCOME))
            self._later(call, self._uniform(self.b.welcome_s), self._after_welcome)
        else:
            self._after_welcome(call)

    def _greeting(self, call: SimCall, greeting: Greeting) -> GreetingStarted:
        return GreetingStarted(
            type="greeting.started", call_id=call.id, ts=self.ts(), greeting=greeting
        )

    def _after_welcome(self, call: SimCall) -> None:
        if self._chance(self.b.p_ivr):
            self._enter(call, Phase.FRONT)
            call.had_ivr = True
            menu = "after hours" if call.after_hours else "main"
            self._emit(IvrEntered(type="ivr.entered", call_id=call.id, ts=self.ts(), menu=menu))
            self._later(call, self._uniform(self.b.ivr_s), self._ivr_choice)
        else:
            self._ivr_choice(call)

    def _ivr_choice(self, call: SimCall) -> None:
        b = self.b
        r = self.rng.random()
        if call.had_ivr and r < b.p_ivr_timeout:
            self._end(call, EndedBy.SYSTEM, "IVR timeout: no input")
        elif call.after_hours:
            self._voicemail(call, VoicemailVia.DIRECT)
        elif call.had_ivr and call.kind is Kind.INBOUND and r < b.p_ivr_timeout + b.p_ivr_reception:
            self._reception(call)
        elif call.had_ivr and r < b.p_ivr_timeout + b.p_ivr_reception + b.p_ivr_voicemail:
            self._voicemail(call, VoicemailVia.DIRECT)
        else:
            self._towards_queue(call)

    def _reception(self, call: SimCall) -> None:
        """IVR option 'reception': a transfer to the front desk, which is not a queue."""
        self._enter(call, Phase.TRANSFER)
        self._emit(
            CallTransferred(type="call.transferred", call_id=call.id, ts=self.ts(), to="reception")
        )
        ring = self._uniform(self.b.reception_ring_s)
        if self._chance(self.b.reception_answers):
            self._later(call, ring, self._reception_answers)
        elif self._chance(0.3):
            self._schedule(self._uniform((5.0, 40.0)), self._quit, call)
            self._later(call, 45_000, self._transfer_failed)
        else:
            self._later(call, 45_000, self._transfer_failed)

    def _transfer_failed(self, call: SimCall) -> None:
        self._end(call, EndedBy.SYSTEM, "transfer not answered")

    def _reception_answers(self, call: SimCall) -> None:
        call.answered = True
        self._enter(call, Phase.TALKING)
        self._emit(
            AgentAnswered(type="agent.answered", call_id=call.id, ts=self.ts(), agent=RECEPTION)
        )
        self._later(call, self._talk_time(), self._talk_ends)

    def _towards_queue(self, call: SimCall) -> None:
        if self._chance(self.b.p_available_greeting):
            self._enter(call, Phase.AVAILABLE_GREETING)
            self._emit(self._greeting(call, Greeting.AVAILABLE_AGENTS))
            self._later(call, self._uniform(self.b.available_greeting_s), self._enter_queue)
        else:
            self._enter_queue(call)

    # --- call flow: queue and agents ----------------------------------------------------

    def _enter_queue(self, call: SimCall) -> None:
        self._enter(call, Phase.QUEUED)
        call.stint += 1
        self._emit(
            QueueEntered(type="queue.entered", call_id=call.id, ts=self.ts(), queue=call.queue)
        )
        if self.logged_in[call.queue] == 0:
            self._later(call, self._uniform((1.0, 4.0)), self._nobody_logged_in)
            return
        self.waiting[call.queue][call] = None
        self._waiting_since[call] = self.now
        exotel = call.kind in EXOTEL_DIALLED
        timeout = self.b.exotel_queue_timeout_s if exotel else self.b.queue_timeout_s
        self._schedule(self._ms(timeout), self._queue_timeout, call, call.stint)
        if call.kind is Kind.INBOUND and self._chance(self.b.p_voicemail_choice):
            delay = self._ms(self.rng.expovariate(1 / self.b.voicemail_choice_mean_s))
            self._schedule(delay, self._voicemail_choice, call, call.stint)
        self._offer_call(call)

    def _leave_queue(self, call: SimCall) -> None:
        self.waiting[call.queue].pop(call, None)
        self._waiting_since.pop(call, None)

    def _nobody_logged_in(self, call: SimCall) -> None:
        call.all_agents_busy = call.kind is Kind.EXOTEL_INBOUND and call.last_dial is None
        self._end(call, EndedBy.SYSTEM, "no agent logged in")

    def _queue_timeout(self, call: SimCall, stint: int) -> None:
        if call.stint != stint or call.answered:
            return
        if call.phase is Phase.RINGING:
            call.timed_out = True
        elif call.phase is Phase.QUEUED:
            self._time_out(call)

    def _time_out(self, call: SimCall) -> None:
        if call.kind is Kind.INBOUND and self._chance(self.b.p_timeout_to_voicemail):
            self._voicemail(call, VoicemailVia.QUEUE)
            return
        call.all_agents_busy = call.kind is Kind.EXOTEL_INBOUND and call.last_dial is None
        self._end(call, EndedBy.SYSTEM, "queue timeout")

    def _voicemail_choice(self, call: SimCall, stint: int) -> None:
        if call.stint == stint and call.phase is Phase.QUEUED:
            self._voicemail(call, VoicemailVia.QUEUE)

    def _retry(self, call: SimCall) -> None:
        self._offer_call(call)

    def _ring(self, call: SimCall, agent: SimAgent) -> None:
        b = self.b
        self._leave_idle(agent)
        agent.state = AgentState.RINGING
        agent.call = call
        call.agent = agent
        call.presented = True
        self._enter(call, Phase.RINGING)
        self._emit(
            AgentRinging(type="agent.ringing", call_id=call.id, ts=self.ts(), agent=agent.name)
        )
        r = self.rng.random()
        if call.kind in EXOTEL_DIALLED and r < b.p_phone_failed:
            self._later(call, self._uniform((0.5, 2.0)), self._phone_failed)
        elif r < b.p_phone_failed + b.p_reject:
            self._later(call, self._uniform(b.reject_s), self._rejected)
        elif r < b.p_phone_failed + b.p_reject + b.p_no_answer:
            self._later(call, self._ms(b.ring_timeout_s), self._no_answer)
        else:
            self._later(call, self._uniform(b.answer_s), self._answered)

    def _phone_failed(self, call: SimCall) -> None:
        self._declined(call, LegStatus.FAILED, AgentNoAnswer)

    def _rejected(self, call: SimCall) -> None:
        self._declined(call, LegStatus.BUSY, AgentRejected)

    def _no_answer(self, call: SimCall) -> None:
        self._declined(call, LegStatus.NO_ANSWER, AgentNoAnswer)

    def _declined(
        self, call: SimCall, status: LegStatus, kind: type[AgentRejected] | type[AgentNoAnswer]
    ) -> None:
        agent = call.agent
        assert agent is not None
        if kind is AgentRejected:
            self._emit(
                AgentRejected(
                    type="agent.rejected", call_id=call.id, ts=self.ts(), agent=agent.name
                )
            )
        else:
            self._emit(
                AgentNoAnswer(
                    type="agent.no_answer", call_id=call.id, ts=self.ts(), agent=agent.name
                )
            )
        call.last_dial = status
        call.agent = None
        call.declined[agent] = self.now
        call.dials += 1
        self._enter(call, Phase.QUEUED)
        if call.kind in EXOTEL_DIALLED and call.dials >= self.b.exotel_dial_attempts:
            # Exotel's connect applet has run through its numbers: the flow ends.
            self._end(call, EndedBy.SYSTEM, "no agent answered")
        elif call.timed_out:
            self._time_out(call)
        else:
            self._offer_call(call)
            if call.phase is Phase.QUEUED:
                self._schedule(self._ms(self.b.decline_cooldown_s), self._retry, call)
        # The agent goes on to another call (not this one, for a while).
        self._free(agent, announce=False)

    def _answered(self, call: SimCall) -> None:
        agent = call.agent
        assert agent is not None
        self._leave_queue(call)
        call.answered = True
        call.last_dial = LegStatus.COMPLETED
        self._enter(call, Phase.TALKING)
        self._emit(
            AgentAnswered(type="agent.answered", call_id=call.id, ts=self.ts(), agent=agent.name)
        )
        agent.state = AgentState.TALKING
        self._presence(agent, PresenceStatus.BUSY)
        talk = call.talk_left or self._talk_time()
        call.talk_left = 0
        if (
            not call.transferred
            and call.kind is not Kind.CONNECT_TWO_NUMBERS
            and self._chance(self.b.p_transfer)
        ):
            part = round(talk * self.rng.uniform(0.3, 0.7))
            call.talk_left = talk - part
            self._later(call, part, self._transfer)
        else:
            self._later(call, talk, self._talk_ends)

    def _transfer(self, call: SimCall) -> None:
        """A warm transfer to a free colleague of another queue, if there is one."""
        agent = call.agent
        assert agent is not None
        colleague = next(
            (a for a in self.idle_all if a is not agent and call.queue not in a.queues), None
        )
        if colleague is None:
            self._later(call, call.talk_left, self._talk_ends)
            call.talk_left = 0
            return
        call.transferred = True
        self._emit(
            CallTransferred(
                type="call.transferred", call_id=call.id, ts=self.ts(), to=colleague.name
            )
        )
        self._wrap_up(agent)
        self._leave_idle(colleague)
        colleague.state = AgentState.RINGING
        colleague.call = call
        call.agent = colleague
        self._enter(call, Phase.RINGING)
        self._emit(
            AgentRinging(type="agent.ringing", call_id=call.id, ts=self.ts(), agent=colleague.name)
        )
        self._later(call, self._uniform((2.0, 6.0)), self._answered)

    def _talk_ends(self, call: SimCall) -> None:
        by = EndedBy.AGENT if self._chance(self.b.p_agent_hangs_up) else EndedBy.CALLER
        self._end(call, by)

    # --- voicemail ----------------------------------------------------------------------

    def _voicemail(self, call: SimCall, via: VoicemailVia) -> None:
        self._leave_queue(call)
        call.voicemail_from_queue = via is VoicemailVia.QUEUE
        self._enter(call, Phase.VOICEMAIL_GREETING)
        self._emit(
            VoicemailStarted(type="voicemail.started", call_id=call.id, ts=self.ts(), via=via)
        )
        greeting = self._uniform(self.b.voicemail_greeting_s)
        if self._chance(self.b.p_voicemail_refuse):
            self._schedule(round(greeting * self.rng.uniform(0.1, 0.9)), self._quit, call)
        self._later(call, greeting, self._beep)

    def _beep(self, call: SimCall) -> None:
        call.heard_beep = True
        self._enter(call, Phase.RECORDING)
        self._emit(VoicemailBeep(type="voicemail.beep", call_id=call.id, ts=self.ts()))
        if self._chance(self.b.p_message_limit):
            self._later(call, self._ms(self.b.message_limit_s), self._message_cut)
        else:
            self._later(call, self._uniform(self.b.message_s), self._message_done)

    def _message_cut(self, call: SimCall) -> None:
        self._end(call, EndedBy.SYSTEM, "recording limit")

    def _message_done(self, call: SimCall) -> None:
        self._end(call, EndedBy.CALLER)

    # --- outbound -----------------------------------------------------------------------

    def _outbound(self) -> None:
        b = self.b
        if self._chance(self.cfg.exotel_outbound_share):
            kind = Kind.CONNECT_TWO_NUMBERS if self._chance(0.5) else Kind.CONNECT_TO_FLOW
        else:
            kind = Kind.OUTBOUND
        agent = None
        if kind is not Kind.CONNECT_TO_FLOW:
            agent = next(iter(self.idle_all), None)
            if agent is None:
                return  # nobody free to make the call: the dialler waits for the next slot
        call = self._new_call(kind)
        customer = self._caller()
        started: dict[str, Any] = {
            "type": "call.started",
            "call_id": call.id,
            "ts": self.ts(),
            "direction": Direction.OUTBOUND,
            "to": customer,
        }
        call.phase = Phase.DIALLING
        if agent is not None:
            self._leave_idle(agent)
            agent.state = AgentState.OUTBOUND
            agent.call = call
            call.agent = agent
            self._presence(agent, PresenceStatus.BUSY, "outbound")
        if kind is Kind.OUTBOUND:
            assert agent is not None
            self._emit(CallStarted(**started, from_=agent_phone(agent.index)))
            r = self.rng.random()
            if r < b.p_customer_answers:
                self._later(call, self._uniform(b.customer_answer_s), self._customer_answers)
            elif r < b.p_customer_answers + 0.1:
                self._later(call, self._uniform((2.0, 5.0)), self._dial_ends_busy)
            elif r < b.p_customer_answers + 0.15:
                self._later(call, self._uniform((5.0, 25.0)), self._agent_gives_up)
            else:
                self._later(call, self._ms(b.dial_timeout_s), self._dial_ends_no_answer)
            return
        if kind is Kind.CONNECT_TWO_NUMBERS:
            assert agent is not None
            self._emit(
                CallStarted(
                    **started, from_=agent_phone(agent.index), flow=Flow.CONNECT_TWO_NUMBERS
                )
            )
            # Leg 1 is the agent's own phone.
            self._emit(
                AgentRinging(type="agent.ringing", call_id=call.id, ts=self.ts(), agent=agent.name)
            )
        else:
            number = centre_number(self.queues.index(call.queue))
            self._emit(CallStarted(**started, from_=number, flow=Flow.CONNECT_TO_FLOW))
        self._first_leg(call)

    def _first_leg(self, call: SimCall) -> None:
        r = self.rng.random()
        fails = (
            (0.015, LegStatus.CANCELED, (0.5, 2.0)),
            (0.03, LegStatus.FAILED, (1.0, 4.0)),
            (0.05, LegStatus.BUSY, (1.0, 5.0)),
            (0.08, LegStatus.NO_ANSWER, (self.b.dial_timeout_s, self.b.dial_timeout_s)),
        )
        acc = 0.0
        for p, status, delay in fails:
            acc += p
            if r < acc:
                call.leg1 = status
                self._later(call, self._uniform(delay), self._first_leg_fails)
                return
        if call.kind is Kind.CONNECT_TWO_NUMBERS:
            self._later(call, self._uniform((2.0, 6.0)), self._second_leg)
        else:
            self._later(call, self._uniform(self.b.customer_answer_s), self._customer_in_flow)

    def _first_leg_fails(self, call: SimCall) -> None:
        agent = call.agent
        if call.kind is Kind.CONNECT_TWO_NUMBERS and agent is not None:
            if call.leg1 is LegStatus.BUSY:
                self._emit(
                    AgentRejected(
                        type="agent.rejected", call_id=call.id, ts=self.ts(), agent=agent.name
                    )
                )
            elif call.leg1 is LegStatus.NO_ANSWER:
                self._emit(
                    AgentNoAnswer(
                        type="agent.no_answer", call_id=call.id, ts=self.ts(), agent=agent.name
                    )
                )
        cause = {
            LegStatus.CANCELED: "canceled",
            LegStatus.FAILED: "first leg unreachable",
            LegStatus.BUSY: "first leg busy",
            LegStatus.NO_ANSWER: "first leg no answer",
        }[call.leg1]  # type: ignore[index]
        self._end(call, EndedBy.SYSTEM, cause)

    def _second_leg(self, call: SimCall) -> None:
        """Click-to-call: the agent picked up, now Exotel dials the customer."""
        b = self.b
        if self._chance(0.05):
            # The agent hangs up before Exotel starts dialling: no second leg.
            self._later(call, self._uniform((0.5, 2.0)), self._agent_gives_up)
            return
        call.presented = True
        r = self.rng.random()
        if r < b.p_customer_answers:
            self._later(call, self._uniform(b.customer_answer_s), self._customer_answers)
            return
        rest = (r - b.p_customer_answers) / (1 - b.p_customer_answers)
        if rest < 0.4:
            call.last_dial = LegStatus.NO_ANSWER
            self._later(call, self._ms(b.dial_timeout_s), self._dial_ends_no_answer)
        elif rest < 0.65:
            call.last_dial = LegStatus.BUSY
            self._later(call, self._uniform((2.0, 5.0)), self._dial_ends_busy)
        elif rest < 0.8:
            call.last_dial = LegStatus.FAILED
            self._later(call, self._uniform((1.0, 4.0)), self._dial_fails)
        else:
            call.last_dial = LegStatus.CANCELED
            self._later(call, self._uniform((5.0, 25.0)), self._agent_gives_up)

    def _customer_answers(self, call: SimCall) -> None:
        agent = call.agent
        assert agent is not None
        call.answered = True
        call.last_dial = LegStatus.COMPLETED
        self._enter(call, Phase.TALKING)
        self._emit(
            AgentAnswered(type="agent.answered", call_id=call.id, ts=self.ts(), agent=agent.name)
        )
        agent.state = AgentState.TALKING
        self._later(call, self._talk_time(), self._talk_ends)

    def _dial_ends_busy(self, call: SimCall) -> None:
        self._end(call, EndedBy.SYSTEM, "busy")

    def _dial_ends_no_answer(self, call: SimCall) -> None:
        self._end(call, EndedBy.SYSTEM, "no answer")

    def _dial_fails(self, call: SimCall) -> None:
        self._end(call, EndedBy.SYSTEM, "unreachable")

    def _agent_gives_up(self, call: SimCall) -> None:
        self._end(call, EndedBy.AGENT, "agent hung up")

    def _customer_in_flow(self, call: SimCall) -> None:
        """Connect to flow: the customer picked up and now hears the centre's flow."""
        self._enter(call, Phase.FRONT)
        self._start_patience(call)
        if self._chance(0.8):
            self._emit(self._greeting(call, Greeting.WELCOME))
            self._later(call, self._uniform(self.b.welcome_s), self._towards_queue)
        else:
            self._towards_queue(call)

    # --- the end of a call --------------------------------------------------------------

    def _end(self, call: SimCall, by: EndedBy, cause: str | None = None) -> None:
        previous = call.phase
        agent = call.agent
        if previous is Phase.RINGING and call.kind in EXOTEL_DIALLED:
            # The caller dropped while Exotel was dialling the agent.
            call.last_dial = LegStatus.CANCELED
        story = Story(
            kind=call.kind,
            spot=SPOT[previous],
            by_caller=by is EndedBy.CALLER,
            after_hours=call.after_hours,
            answered=call.answered,
            presented_to_agent=call.presented,
            heard_beep=call.heard_beep,
            voicemail_from_queue=call.voicemail_from_queue,
            last_dial=call.last_dial,
            all_agents_busy=call.all_agents_busy,
            leg1=call.leg1,
        )
        fields: dict[str, Any] = {
            "type": "call.ended",
            "call_id": call.id,
            "ts": self.ts(),
            "by": by,
            "truth": truth_of(story),
        }
        if cause is not None:
            fields["cause"] = cause
        fields.update(self._legs(call))
        self._emit(CallEnded(**fields))
        self._enter(call, Phase.ENDED)
        self._leave_queue(call)
        self.open_calls -= 1
        call.agent = None
        if agent is not None:
            if previous is Phase.TALKING:
                self._wrap_up(agent)
            else:
                # A ring or a dial that came to nothing: straight back to work.
                self._free(agent, announce=agent.state is AgentState.OUTBOUND)

    def _legs(self, call: SimCall) -> dict[str, LegStatus | None]:
        """Exotel's status fields for the end of this call (none for other calls)."""
        kind = call.kind
        if kind is Kind.EXOTEL_INBOUND:
            status = LegStatus.MISSED_CALL if call.all_agents_busy else LegStatus.COMPLETED
            leg2 = None if call.all_agents_busy else call.last_dial
            return {"status": status, "leg1_status": LegStatus.COMPLETED, "leg2_status": leg2}
        if kind not in (Kind.CONNECT_TWO_NUMBERS, Kind.CONNECT_TO_FLOW):
            return {}
        leg1 = call.leg1
        if leg1 is not LegStatus.COMPLETED:
            return {"status": leg1, "leg1_status": leg1, "leg2_status": None}
        leg2 = call.last_dial
        if kind is Kind.CONNECT_TO_FLOW or leg2 is LegStatus.COMPLETED:
            status: LegStatus | None = LegStatus.COMPLETED
        elif leg2 in (LegStatus.NO_ANSWER, LegStatus.BUSY, LegStatus.FAILED):
            status = leg2
        else:
            status = LegStatus.FAILED
        return {"status": status, "leg1_status": leg1, "leg2_status": leg2}


def simulate(config: SimConfig) -> Iterator[Event]:
    """Every event of a simulated run, in time order (endless when `config.hours` is None).

    A finite run stops taking calls at `hours` and then lets the calls in progress
    finish, so every call in the output is closed by a `call.ended`.
    """
    return Centre(config).events()
