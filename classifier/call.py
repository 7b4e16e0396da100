"""One call's state machine: the facts the rules need, gathered event by event.

The machine is deliberately permissive: sources are other people's systems and
will send transitions we did not foresee. It records what happened (who was
rung, whether anybody answered, whether the voicemail beep played, where the
call was when it ended) and leaves judgement to `classifier.rules`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

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
    phase: Phase = Phase.CONNECTING
    phase_since: datetime | None = None
    #: The phase the call was in before it ended: where the caller hung up.
    last_phase: Phase = Phase.CONNECTING
    queue: str | None = None
    queued_at: datetime | None = None
    menu: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    agent: str | None = None
    answered_at: datetime | None = None
    voicemail_via: VoicemailVia | None = None
    voicemail_at: datetime | None = None
    beep_at: datetime | None = None
    transferred_to: str | None = None
    last_ts: datetime | None = None
    ended: CallEnded | None = None
    #: Problems noticed while applying events (out of order, missing start).
    flags: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def ended_at(self) -> datetime | None:
        return self.ended.ts if self.ended is not None else None

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def agents_rung(self) -> list[str]:
        return list(dict.fromkeys(a.agent for a in self.attempts))

    @property
    def rang_an_agent(self) -> bool:
        return bool(self.attempts)

    @property
    def reached_voicemail(self) -> bool:
        return self.voicemail_via is not None

    @property
    def wait_from(self) -> datetime:
        """Waiting starts on entering the queue, or at the start for calls never queued."""
        return self.queued_at or self.started_at

    def wait_until(self, now: datetime) -> float:
        """Seconds waited: to the answer, or to `now` (the end, for a finished call)."""
        end = self.answered_at or now
        return max(0.0, (end - self.wait_from).total_seconds())

    def talk_until(self, now: datetime) -> float:
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

    def apply(self, event: Event) -> None:
        """Record one event of this call. The caller has already checked it belongs here."""
        at = event.ts
        if self.last_ts is not None and at < self.last_ts:
            self.flags.append(
                f"{event.type} at {at.isoformat()} is earlier than the event before it"
            )
        else:
            self.last_ts = at
        self.events.append(event)
        match event:
            case CallStarted():
                self.started_at = at
                self.direction = event.direction
                self.flow = event.flow
                self.caller = event.from_
                self.callee = event.to
                self.after_hours = event.after_hours
                self._enter(Phase.CONNECTING, at)
            case GreetingStarted():
                phase = (
                    Phase.WELCOME if event.greeting is Greeting.WELCOME else Phase.AVAILABLE_AGENTS
                )
                self._enter(phase, at)
            case IvrEntered():
                self.menu = event.menu
                self._enter(Phase.IVR, at)
            case QueueEntered():
                self.queue = event.queue
                if self.queued_at is None:
                    self.queued_at = at
                self._enter(Phase.QUEUED, at)
            case AgentRinging():
                self.attempts.append(Attempt(event.agent))
                self.agent = event.agent
                self._enter(Phase.RINGING, at)
            case AgentNoAnswer() | AgentRejected():
                attempt = self._attempt(event.agent)
                attempt.result = (
                    RingResult.REJECTED
                    if isinstance(event, AgentRejected)
                    else RingResult.NO_ANSWER
                )
                self.agent = None
                # Back to waiting: the queue rings the next agent in turn.
                self._enter(Phase.QUEUED if self.queue else self.phase, at)
            case AgentAnswered():
                self._attempt(event.agent).result = RingResult.ANSWERED
                self.agent = event.agent
                if self.answered_at is None:
                    self.answered_at = at
                self._enter(Phase.TALKING, at)
            case VoicemailStarted():
                self.voicemail_via = event.via
                self.voicemail_at = at
                self._enter(Phase.VOICEMAIL_GREETING, at)
            case VoicemailBeep():
                if self.voicemail_via is None:
                    self.voicemail_via = VoicemailVia.DIRECT
                    self.voicemail_at = at
                self.beep_at = at
                self._enter(Phase.VOICEMAIL_RECORDING, at)
            case CallTransferred():
                self.transferred_to = event.to
                self._enter(Phase.TRANSFERRING, at)
            case CallEnded():
                self.ended = event
                self.last_phase = self.phase
                self._enter(Phase.ENDED, at)
            case _:
                # agent.status never reaches a call; the tracker routes it.
                pass

    @property
    def phase_at_end(self) -> Phase:
        """Where the call was when it ended (its current phase while still open)."""
        return self.last_phase if self.ended is not None else self.phase


def new_call(event: Event) -> Call:
    """A call record opened by its first event (normally `call.started`)."""
    return Call(call_id=event.call_id, started_at=event.ts, phase_since=event.ts)
