"""The simulator's own account of why a call ended: the `truth` field of `call.ended`.

The simulator knows what it decided (the caller gave up in the queue, the agent let
the phone ring, the IVR timed out); this module turns those decisions into the
"outcome/reason" a supervisor would give, following the seed documents directly:
seed 000 for calls followed event by event, seed 003's tables for Exotel calls.
It deliberately does not use the classifier: `callboard classify` is tested against
this account, so the two must be written from the scenario, not from each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from classifier.schema import LegStatus


class Kind(StrEnum):
    """How the call came about."""

    INBOUND = "inbound"
    EXOTEL_INBOUND = "exotel inbound"
    OUTBOUND = "outbound"
    CONNECT_TWO_NUMBERS = "connect two numbers"
    CONNECT_TO_FLOW = "connect to flow"


class Spot(StrEnum):
    """Where the call was in the flow when it ended."""

    FRONT = "welcome greeting or IVR"
    AVAILABLE_GREETING = "available-agents greeting"
    QUEUE = "queue"
    RINGING = "ringing an agent"
    TRANSFER = "transfer outside the queues"
    VOICEMAIL_GREETING = "voicemail greeting"
    RECORDING = "recording a message"
    TALKING = "talking"
    DIALLING = "dialling"


@dataclass(frozen=True, slots=True)
class Story:
    """The facts of one finished call, as the simulator played it."""

    kind: Kind
    spot: Spot
    by_caller: bool
    after_hours: bool = False
    answered: bool = False
    presented_to_agent: bool = False
    heard_beep: bool = False
    voicemail_from_queue: bool = False
    #: Exotel: the status of the last number the connect applet dialled (None: none).
    last_dial: LegStatus | None = None
    #: Exotel inbound: the connect applet found every agent busy or switched off.
    all_agents_busy: bool = False
    #: Exotel outbound: the first leg's status (None: the first leg never existed).
    leg1: LegStatus | None = LegStatus.COMPLETED


def _event_truth(story: Story) -> str:
    """Seed 000, for a call whose every step the centre reports."""
    if story.answered:
        return "completed/answered"
    if story.kind is Kind.OUTBOUND:
        return "not_connected/outbound_not_connected"
    if story.heard_beep:
        return "voicemail/voicemail_left"
    if story.presented_to_agent:
        # Missed, first bullet: rang at least one agent, nobody answered.
        return "missed/agent_not_answered"
    if not story.by_caller:
        if story.spot is Spot.QUEUE:
            return "missed/no_agent_available"
        return "missed/system_ended"
    if story.spot is Spot.AVAILABLE_GREETING:
        return "missed/available_agents_greeting_hangup"
    if story.spot is Spot.VOICEMAIL_GREETING:
        if story.voicemail_from_queue:
            return "abandoned/voicemail_from_queue_hangup"
        return "missed/voicemail_greeting_hangup"
    if story.spot is Spot.FRONT:
        return "abandoned/after_hours_hangup" if story.after_hours else "abandoned/ivr_hangup"
    if story.spot is Spot.QUEUE:
        return "abandoned/queue_hangup"
    return "abandoned/hangup_before_agent"


#: Seed 003, incoming table: what the last dialled agent's status means. An agent
#: who let it ring out is seed 000's "rang an agent, not answered": the same code.
_INCOMING_LAST_DIAL = {
    LegStatus.NO_ANSWER: "missed/agent_not_answered",
    LegStatus.BUSY: "missed/agent_busy",
    LegStatus.FAILED: "missed/agent_unreachable",
    LegStatus.CANCELED: "abandoned/caller_canceled",
}


def _leg_name(status: LegStatus | None) -> str:
    return "empty" if status is None else status.value.replace("-", "_")


def truth_of(story: Story) -> str:
    """ "outcome/reason" for a finished call, from what the simulator made happen."""
    if story.kind in (Kind.CONNECT_TWO_NUMBERS, Kind.CONNECT_TO_FLOW):
        if story.leg1 is not LegStatus.COMPLETED:
            return f"not_connected/leg1_{_leg_name(story.leg1)}"
        if not story.answered:
            return f"not_connected/leg2_{_leg_name(story.last_dial)}"
        return "completed/answered"
    if story.kind is Kind.EXOTEL_INBOUND:
        if story.answered:
            return "completed/answered"
        if story.last_dial is not None:
            return _INCOMING_LAST_DIAL[story.last_dial]
        if story.all_agents_busy:
            return "missed/all_agents_busy"
        if story.spot in (Spot.VOICEMAIL_GREETING, Spot.RECORDING):
            # Exotel calls this "voicemail"; whether a message was left is seed 000's.
            return _event_truth(story)
        return "abandoned/no_second_leg"
    return _event_truth(story)
