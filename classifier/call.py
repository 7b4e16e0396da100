"""One call's state machine: the facts the rules need, gathered event by event.

The machine is deliberately permissive: sources are other people's systems and
will send transitions we did not foresee. It records what happened (who was
rung, whether anybody answered, whether the voicemail beep played, where the
call was when it ended) and leaves judgement to `classifier.rules`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from classifier.schema import (
    AgentAnswered,
    AgentNoAnswer,
    AgentRejected,
    AgentRinging,
    CallEnded,
    CallStarted,
    CallTransferred,
    Direction,
    Event,
    Flow,
    Greeting,
    GreetingStarted,
    IvrEntered,
    QueueEntered,
    VoicemailBeep,
    VoicemailStarted,
    VoicemailVia,
)


class Phase(StrEnum):
    """Where a call is now; the value is what a wallboard shows."""

    CONNECTING = "connecting"
    WELCOME = "welcome greeting"
    IVR = "IVR"
    AVAILABLE_AGENTS = "available-agents greeting"
    QUEUED = "queued"
    RINGING = "ringing"
    TALKING = "talking"
    VOICEMAIL_GREETING = "voicemail greeting"
    VOICEMAIL_RECORDING = "recording voicemail"
    TRANSFERRING = "on transfer"
    ENDED = "ended"


class RingResult(StrEnum):
    RINGING = "ringing"
    NO_ANSWER = "no answer"
    REJECTED = "rejected"
    ANSWERED = "answered"


@dataclass(slots=True)
class Attempt:
    """One agent presented with the call."""

    agent: str
    result: RingResult = RingResult.RINGING


@dataclass(slots=True)
class Call:
    """Everything known about one call so far."""

    call_id: str
    started_at: datetime
    direction: Direction = Direction.INBOUND
    flow: Flow = Flow.INCOMING
    caller: str = ""
    callee: str = ""
    after_hours: bool = False
    #: When a live source learned of the call from a re-sync (its earlier history is
    #: unknown); None for a call seen from its start.
    resync_at: datetime | None = None
    phase: Phase = Phase.CONNECTING
    phase_since: datetime | None = None
    #: The phase before an agent was rung, where an unqueued call goes back to when
    #: the agent does not take it (a queued call goes back to the queue).
    before_ringing: Phase = Phase.CONNECTING
    #: Index in `attempts` of the first ring of the current ringing spell.
    ringing_from: int = 0
    #: The phase the call was in before it ended: where the caller hung up.
    last_phase: Phase = Phase.CONNECTING
    queue: str | None = None
    queued_at: datetime | None = None
    menu: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    agent: str | None = None
    answered_at: datetime | None = None
    voicemail_via: VoicemailVia | None = None
    beep_at: datetime | None = None
    transferred_to: str | None = None
    last_ts: datetime | None = None
    ended: CallEnded | None = None
    #: Problems noticed while applying events (out of order, missing start).
    flags: list[str] = field(default_factory=list)
    #: The events applied, oldest first, when the tracker keeps them (`keep_events`).
    events: list[Event] = field(default_factory=list)
    has_start: bool = False
    #: Fingerprints of the events applied, so a repeat can be recognised.
    seen_keys: set[int] = field(default_factory=set)
    #: Their seqs; None until an event carries one (logs have none: no set per call).
    seen_seqs: set[int] | None = None

    @property
    def ended_at(self) -> datetime | None:
        """The time of its `call.ended`; None while the call is open."""
        return self.ended.ts if self.ended is not None else None

    @property
    def answered(self) -> bool:
        """Whether an agent ever answered, even if the call went elsewhere afterwards."""
        return self.answered_at is not None

    @property
    def agents_rung(self) -> list[str]:
        """Each agent presented with the call, once, in the order first rung."""
        # A list, not a generator, for dict.fromkeys: this runs for every finished call.
        return list(dict.fromkeys([a.agent for a in self.attempts]))

    @property
    def rang_an_agent(self) -> bool:
        """Whether any agent was presented with the call (an answer with no ring counts)."""
        return bool(self.attempts)

    @property
    def reached_voicemail(self) -> bool:
        """Whether the call got to voicemail: `voicemail.started`, or a beep without one."""
        return self.voicemail_via is not None

    @property
    def wait_from_resync(self) -> bool:
        """Whether a re-synced call's wait is counted from the re-sync (the PBX did not
        say how long it had waited): the true wait is longer."""
        return self.resync_at is not None and self.wait_from >= self.resync_at

    @property
    def wait_from(self) -> datetime:
        """Waiting starts on entering the queue, or at the start for calls never queued."""
        return self.queued_at or self.started_at

    def wait_until(self, now: datetime) -> float:
        """Seconds waited: to the answer, or to `now` (the end, for a finished call)."""
        end = self.answered_at or now
        return max(0.0, (end - self.wait_from).total_seconds())

    def talk_until(self, now: datetime) -> float:
        """Seconds from the first answer to `now`; 0.0 for a call never answered."""
        if self.answered_at is None:
            return 0.0
        return max(0.0, (now - self.answered_at).total_seconds())

    def _enter(self, phase: Phase, at: datetime) -> None:
        self.phase = phase
        self.phase_since = at

    def _attempt(self, agent: str) -> Attempt:
        # The latest presentation to this agent; a re-ring makes a new attempt.
        for attempt in reversed(self.attempts):
            if attempt.agent == agent:
                return attempt
        attempt = Attempt(agent)
        self.attempts.append(attempt)
        return attempt

    def apply(self, event: Event) -> str | None:
        """Record one event of this call; returns a flag when something looks wrong.

        The caller (the tracker) has already checked that the event belongs here.
        """
        at = event.ts
        flag = None
        if self.last_ts is not None and at < self.last_ts:
            flag = f"{event.type} at {at.isoformat()} is earlier than the event before it"
            self.flags.append(flag)
        else:
            self.last_ts = at
        # One small handler per event type, looked up by the type tag: this runs for
        # every event of the day, and a dict lookup beats a chain of isinstance tests.
        _HANDLERS[event.type](self, event, at)
        return flag

    @property
    def phase_at_end(self) -> Phase:
        """Where the call was when it ended (its current phase while still open)."""
        return self.last_phase if self.ended is not None else self.phase


def new_call(event: Event) -> Call:
    """A call record opened by its first event (normally `call.started`)."""
    return Call(call_id=event.call_id, started_at=event.ts, phase_since=event.ts)


# --- event handlers, one per type ------------------------------------------------


def _started(call: Call, event: CallStarted, at: datetime) -> None:
    # A start that comes after other events of its call (two webhooks racing: a
    # TaskRouter queue entry before Twilio's Voice callback) tells who called and
    # when, but not where the call is: the events before it moved it on already, and
    # going back to `connecting` would make a caller who hangs up in the queue an IVR
    # hang-up. The call began at the earlier of the two times.
    # (A call opened by its start has `started_at` = `at` already: `new_call`.)
    call.has_start = True
    call.started_at = min(at, call.started_at)
    call.direction = event.direction
    call.flow = event.flow
    call.caller = event.from_
    call.callee = event.to
    call.after_hours = event.after_hours
    call.resync_at = event.resync_at
    if call.phase is Phase.CONNECTING:
        call._enter(Phase.CONNECTING, at)


def _greeting(call: Call, event: GreetingStarted, at: datetime) -> None:
    welcome = event.greeting is Greeting.WELCOME
    call._enter(Phase.WELCOME if welcome else Phase.AVAILABLE_AGENTS, at)


def _ivr(call: Call, event: IvrEntered, at: datetime) -> None:
    call.menu = event.menu
    call._enter(Phase.IVR, at)


def _queue(call: Call, event: QueueEntered, at: datetime) -> None:
    call.queue = event.queue
    if call.queued_at is None:
        call.queued_at = at
    call._enter(Phase.QUEUED, at)


def _ringing(call: Call, event: AgentRinging, at: datetime) -> None:
    if call.phase is not Phase.RINGING:
        # A second ring while ringing (two agents at once) keeps the phase it came from.
        call.before_ringing = call.phase
        call.ringing_from = len(call.attempts)
    call.attempts.append(Attempt(event.agent))
    call.agent = event.agent
    call._enter(Phase.RINGING, at)


def _not_taken(
    result: RingResult,
) -> Callable[[Call, AgentNoAnswer | AgentRejected, datetime], None]:
    def handle(call: Call, event: AgentNoAnswer | AgentRejected, at: datetime) -> None:
        call._attempt(event.agent).result = result
        if call.phase is not Phase.RINGING:
            # Not taken after the call moved on (a late report): it stays where it is.
            return
        still = [
            a.agent for a in call.attempts[call.ringing_from :] if a.result is RingResult.RINGING
        ]
        if still:
            # Another agent of this ringing spell is still ringing (ring-all): still ringing.
            call.agent = still[-1]
            return
        call.agent = None
        # Back to waiting: the queue rings the next agent in turn. A call that was
        # never queued goes back to where it was before the ring (docs/classification.md).
        call._enter(Phase.QUEUED if call.queue else call.before_ringing, at)

    return handle


def _answered(call: Call, event: AgentAnswered, at: datetime) -> None:
    call._attempt(event.agent).result = RingResult.ANSWERED
    call.agent = event.agent
    if call.answered_at is None:
        call.answered_at = at
    call._enter(Phase.TALKING, at)


def _voicemail(call: Call, event: VoicemailStarted, at: datetime) -> None:
    call.voicemail_via = event.via
    call._enter(Phase.VOICEMAIL_GREETING, at)


def _beep(call: Call, event: VoicemailBeep, at: datetime) -> None:
    if call.voicemail_via is None:
        # A beep with no voicemail.started before it: the source skipped the greeting.
        call.voicemail_via = VoicemailVia.DIRECT
    call.beep_at = at
    call._enter(Phase.VOICEMAIL_RECORDING, at)


def _transferred(call: Call, event: CallTransferred, at: datetime) -> None:
    call.transferred_to = event.to
    call._enter(Phase.TRANSFERRING, at)


def _ended(call: Call, event: CallEnded, at: datetime) -> None:
    call.ended = event
    call.last_phase = call.phase
    call._enter(Phase.ENDED, at)


def _presence(call: Call, event: Event, at: datetime) -> None:
    """agent.status never reaches a call: the tracker routes it to presence."""


_HANDLERS: dict[str, Callable[[Call, Any, datetime], None]] = {
    "call.started": _started,
    "greeting.started": _greeting,
    "ivr.entered": _ivr,
    "queue.entered": _queue,
    "agent.ringing": _ringing,
    "agent.no_answer": _not_taken(RingResult.NO_ANSWER),
    "agent.rejected": _not_taken(RingResult.REJECTED),
    "agent.answered": _answered,
    "voicemail.started": _voicemail,
    "voicemail.beep": _beep,
    "call.transferred": _transferred,
    "call.ended": _ended,
    "agent.status": _presence,
}
