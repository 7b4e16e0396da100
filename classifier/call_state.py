"""A call in progress as its state, not its events: the compact form a snapshot carries.

A hub's snapshot used to hand every subscriber each open call's events, which a
subscriber replayed into its own tracker. With 5,000 calls in progress those events
were 1.7 MB of a 2.2 MB snapshot, when what the subscriber needs is the state the
events left: the facts `classifier.call.Call` gathers and the rules read. This
module writes a `Call` as that state and reads it back into a `Call` that the
tracker (`CallTracker.resume`) continues exactly as it would have continued the
original: tests/test_call_state.py cuts every fixture and the real Asterisk
queue_log at several points and gets the same verdicts as a continuous run.

What the form leaves out, and why that is safe for a subscriber:

* The events themselves. The board's story of such a call starts with one line
  saying the steps before the board joined are summarised (`summary`).
* The fingerprints and seqs of the events applied (`Call.seen_keys`,
  `Call.seen_seqs`), which the tracker uses to spot repeats. Fingerprints are
  hashes that differ between processes; and a subscriber only ever receives events
  the hub applied, each once, numbered after the snapshot's seq, so it has no
  repeats of the snapshot's events to spot.

Times: `t` is the call's start as ISO 8601 with its own offset; every other time
is seconds after it (a float exact to the microsecond for any call shorter than
years), which is what makes the form short. A rebuilt time carries the start's
offset: the same instant, compared and subtracted as before.

Pure (pydantic only, as `classifier.schema`): the hub writes it, `monitor.feed.protocol`
validates it as part of the snapshot frame, every subscriber reads it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from classifier.call import Attempt, Call, Phase, RingResult
from classifier.detail import duration
from classifier.schema import Direction, Flow, VoicemailVia

#: The version of this form, carried by the snapshot as its protocol number
#: (`monitor.feed.protocol.PROTOCOL_VERSION`): a change of shape changes both. 3: the
#: snapshot's agents' day and panels' rows in compact forms (`classifier.agents_state`,
#: `classifier.panel_rows_form`).
FORM = 3

#: Seconds after the call's start; at most about 30 years either way.
Offset = Annotated[float, Field(ge=-1e9, le=1e9, allow_inf_nan=False)]


class OpenCall(BaseModel):
    """One call in progress as the snapshot carries it; absent fields take their defaults.

    Field names are short because a snapshot holds thousands of these; docs/protocol.md
    ("Calls in progress in the snapshot") names each one.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1)
    #: The start, ISO 8601 with an offset (a time without one is refused: it could not
    #: be compared with the events' times).
    t: AwareDatetime
    dir: Direction = Direction.INBOUND
    flow: Flow = Flow.INCOMING
    from_: str = Field("", alias="from")
    to: str = ""
    after_hours: bool = False
    #: False when the call was opened by an event other than call.started.
    start: bool = True
    phase: Phase = Phase.CONNECTING
    #: When the phase began; absent: at the start.
    since: Offset = 0.0
    #: The phase before the current ringing spell, and the index of its first ring.
    before: Phase = Phase.CONNECTING
    ring_from: int = Field(0, ge=0)
    queue: str | None = None
    queued: Offset | None = None
    menu: str | None = None
    #: Each agent presented with the call and how it went, in order: [agent, result].
    rung: list[tuple[str, RingResult]] = Field(default_factory=list)
    agent: str | None = None
    answered: Offset | None = None
    voicemail: VoicemailVia | None = None
    beep: Offset | None = None
    transferred_to: str | None = None
    #: The time of the newest event; absent: when the phase began.
    last: Offset | None = None
    flags: list[str] = Field(default_factory=list)
    #: When the call was learned from a PBX re-sync (its earlier history unknown).
    resync: Offset | None = None

    @classmethod
    def of(cls, call: Call) -> OpenCall:
        """The compact form of an open call."""
        start = call.started_at
        since = call.phase_since or start
        return cls.model_validate(
            {
                "id": call.call_id,
                "t": start,
                "dir": call.direction,
                "flow": call.flow,
                "from": call.caller,
                "to": call.callee,
                "after_hours": call.after_hours,
                "start": call.has_start,
                "phase": call.phase,
                "since": _offset(since, start),
                "before": call.before_ringing,
                "ring_from": call.ringing_from,
                "queue": call.queue,
                "queued": _offset(call.queued_at, start),
                "menu": call.menu,
                "rung": [(a.agent, a.result) for a in call.attempts],
                "agent": call.agent,
                "answered": _offset(call.answered_at, start),
                "voicemail": call.voicemail_via,
                "beep": _offset(call.beep_at, start),
                "transferred_to": call.transferred_to,
                "last": None if call.last_ts == since else _offset(call.last_ts, start),
                "flags": call.flags,
                "resync": _offset(call.resync_at, start),
            }
        )

    @model_validator(mode="after")
    def _times_in_range(self) -> OpenCall:
        """Every time the offsets give must be a date (years 1 to 9999)."""
        for name in ("since", "queued", "answered", "beep", "last", "resync"):
            offset = getattr(self, name)
            if offset is not None:
                try:
                    _at(self.t, offset)
                except OverflowError:
                    raise ValueError(
                        f"{name}: {offset:g} s after the start is not a date"
                    ) from None
        return self

    def to_json(self) -> str:
        """The wire text: only the fields that differ from their defaults."""
        return self.model_dump_json(by_alias=True, exclude_defaults=True)

    def call(self) -> Call:
        """The call this state describes, ready for `CallTracker.resume`."""
        start = self.t
        since = _at(start, self.since)
        return Call(
            call_id=self.id,
            started_at=start,
            direction=self.dir,
            flow=self.flow,
            caller=self.from_,
            callee=self.to,
            after_hours=self.after_hours,
            phase=self.phase,
            phase_since=since,
            before_ringing=self.before,
            ringing_from=self.ring_from,
            queue=self.queue,
            queued_at=_maybe_at(start, self.queued),
            menu=self.menu,
            attempts=[Attempt(agent, result) for agent, result in self.rung],
            agent=self.agent,
            answered_at=_maybe_at(start, self.answered),
            voicemail_via=self.voicemail,
            beep_at=_maybe_at(start, self.beep),
            transferred_to=self.transferred_to,
            last_ts=since if self.last is None else _at(start, self.last),
            flags=list(self.flags),
            has_start=self.start,
            resync_at=_maybe_at(start, self.resync),
        )


def _offset(at: datetime | None, start: datetime) -> float | None:
    return None if at is None else round((at - start).total_seconds(), 6)


def _at(start: datetime, offset: float) -> datetime:
    return start + timedelta(seconds=offset)


def _maybe_at(start: datetime, offset: float | None) -> datetime | None:
    return None if offset is None else _at(start, offset)


def summary(call: Call) -> str:
    """The steps of a call before a board joined, in words, from its state alone.

    The first line of the story of a call that came in a snapshot: the board never
    had its events, so it says so and tells what the state knows.
    """
    start = call.started_at
    steps = []
    if call.menu is not None:
        steps.append(f"IVR menu {call.menu}")
    if call.queue is not None and call.queued_at is not None:
        steps.append(f"queued in {call.queue} {_after(call.queued_at, start)}")
    for attempt in call.attempts:
        steps.append(f"rang {attempt.agent} ({attempt.result.value})")
    if call.answered_at is not None:
        steps.append(f"first answered {_after(call.answered_at, start)}")
    if call.voicemail_via is not None:
        steps.append("reached voicemail")
    if call.transferred_to is not None:
        steps.append(f"transferred to {call.transferred_to}")
    said = "; ".join(steps) if steps else "no step past its start"
    return (
        "in progress when this board joined the hub: its earlier steps are summarised, "
        f"not listed ({said})"
    )


def _after(at: datetime, start: datetime) -> str:
    return f"{duration(max(0.0, (at - start).total_seconds()))} after the start"
