"""The simulated centre's moving parts: calls, agents, and the phases they go through."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, auto

from classifier.schema import (
    LegStatus,
)
from monitor.sim.truth import Kind, Spot


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
