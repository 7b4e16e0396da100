"""Wire schema version 1: one JSON object per call event.

Every source (log files, the websocket feed, vendor adapters) speaks this schema,
so it is the single place where untrusted input becomes typed data. Validation
errors name the offending field, because the people reading them are operators
looking at somebody else's log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from operator import itemgetter
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import ErrorDetails

SCHEMA_VERSION = 1

#: Upper bound for free-text fields. Feed text is untrusted; a bound keeps one
#: hostile line from costing memory in every wallboard that holds it.
MAX_TEXT = 256
MAX_CALL_ID = 128

Text = Annotated[str, Field(max_length=MAX_TEXT)]
CallId = Annotated[str, Field(min_length=1, max_length=MAX_CALL_ID)]


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Flow(StrEnum):
    """How a call was set up; the outbound values are the two Exotel outbound tables."""

    INCOMING = "incoming"
    CONNECT_TWO_NUMBERS = "connect_two_numbers"
    CONNECT_TO_FLOW = "connect_to_flow"


class Greeting(StrEnum):
    WELCOME = "welcome"
    AVAILABLE_AGENTS = "available_agents"


class VoicemailVia(StrEnum):
    DIRECT = "direct"
    QUEUE = "queue"


class EndedBy(StrEnum):
    CALLER = "caller"
    AGENT = "agent"
    SYSTEM = "system"


class LegStatus(StrEnum):
    """Exotel's per-leg and overall call statuses (seed 003, glossary)."""

    COMPLETED = "completed"
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    FAILED = "failed"
    CANCELED = "canceled"
    MISSED_CALL = "missed-call"


class PresenceStatus(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"
    OFFLINE = "offline"


class _Event(BaseModel):
    """Fields every event carries."""

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        populate_by_name=True,
        use_enum_values=False,
    )

    call_id: CallId
    ts: AwareDatetime = Field(description="RFC 3339 time with an offset, or epoch seconds (UTC).")
    seq: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Position in the hub's stream, assigned by the hub."
    )

    def key(self) -> tuple[Any, ...]:
        """Identity of the event apart from `seq`: two equal keys are one event repeated."""
        # One C call picks the values out of __dict__: this runs once per event on the
        # classify hot path, where building the tuple field by field cost a tenth of it.
        values = _KEY_VALUES.get(type(self))
        if values is None:  # a class outside the Event union (a subclass, say)
            fields = dict(self.__dict__)
            del fields["seq"]
            return (type(self), *fields.values())
        return (type(self), *values(self.__dict__))

    def to_json(self) -> str:
        """Serialise back to the wire form, keeping absent optional fields absent."""
        return self.model_dump_json(by_alias=True, exclude_unset=True)

    def to_wire(self) -> dict[str, Any]:
        """The wire form as a dict (aliases, absent fields left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class CallStarted(_Event):
    type: Literal["call.started"] = "call.started"
    direction: Direction = Direction.INBOUND
    from_: Text = Field(default="", alias="from")
    to: Text = ""
    after_hours: bool = False
    flow: Flow = Flow.INCOMING
    resync_at: AwareDatetime | None = Field(
        default=None,
        description=(
            "Set when the source learned of the call from a re-sync of a live link (AMI's"
            " QueueStatus, FreeSWITCH's member list) at this time: the call was already"
            " in progress, its earlier history is unknown. `ts` is when the PBX says it"
            " began waiting; equal to resync_at when the PBX did not say."
        ),
    )


class IvrEntered(_Event):
    type: Literal["ivr.entered"] = "ivr.entered"
    menu: Text | None = None


class GreetingStarted(_Event):
    type: Literal["greeting.started"] = "greeting.started"
    greeting: Greeting


class QueueEntered(_Event):
    type: Literal["queue.entered"] = "queue.entered"
    queue: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


class _AgentEvent(_Event):
    agent: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


class AgentRinging(_AgentEvent):
    type: Literal["agent.ringing"] = "agent.ringing"


class AgentRejected(_AgentEvent):
    type: Literal["agent.rejected"] = "agent.rejected"


class AgentNoAnswer(_AgentEvent):
    type: Literal["agent.no_answer"] = "agent.no_answer"


class AgentAnswered(_AgentEvent):
    type: Literal["agent.answered"] = "agent.answered"


class VoicemailStarted(_Event):
    type: Literal["voicemail.started"] = "voicemail.started"
    via: VoicemailVia


class VoicemailBeep(_Event):
    type: Literal["voicemail.beep"] = "voicemail.beep"


class CallTransferred(_Event):
    type: Literal["call.transferred"] = "call.transferred"
    to: Text = ""


_LEG_STATUS_FIELDS = frozenset(("status", "leg1_status", "leg2_status"))


class CallEnded(_Event):
    type: Literal["call.ended"] = "call.ended"
    by: EndedBy
    cause: Text | None = None
    status: LegStatus | None = None
    leg1_status: LegStatus | None = None
    leg2_status: LegStatus | None = None
    truth: Text | None = Field(
        default=None,
        description="Ground truth written by the simulator; never read by the classifier.",
    )

    @property
    def has_leg_statuses(self) -> bool:
        """True when the source reported Exotel statuses (a null counts: it is Exotel's n/a)."""
        return not _LEG_STATUS_FIELDS.isdisjoint(self.model_fields_set)


class AgentStatus(_Event):
    """Agent presence; not tied to a call, so `call_id` may be empty or absent."""

    type: Literal["agent.status"] = "agent.status"
    call_id: Annotated[str, Field(max_length=MAX_CALL_ID)] = ""
    agent: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    status: PresenceStatus
    reason: Text | None = None


Event = Annotated[
    CallStarted
    | IvrEntered
    | GreetingStarted
    | QueueEntered
    | AgentRinging
    | AgentRejected
    | AgentNoAnswer
    | AgentAnswered
    | VoicemailStarted
    | VoicemailBeep
    | CallTransferred
    | CallEnded
    | AgentStatus,
    Field(discriminator="type"),
]

EVENT_TYPES: tuple[str, ...] = (
    "call.started",
    "ivr.entered",
    "greeting.started",
    "queue.entered",
    "agent.ringing",
    "agent.rejected",
    "agent.no_answer",
    "agent.answered",
    "voicemail.started",
    "voicemail.beep",
    "call.transferred",
    "call.ended",
    "agent.status",
)

#: Per event class, the getter of every field value but `seq`, in field order (`key()`).
_KEY_VALUES: dict[type[_Event], itemgetter[Any]] = {
    cls: itemgetter(*(name for name in cls.model_fields if name != "seq"))
    for cls in get_args(get_args(Event)[0])
}


def fingerprint(event: _Event) -> int:
    """`hash(event.key())`, for the tracker's duplicate check: once per event of a log."""
    values = _KEY_VALUES.get(type(event))
    if values is None:
        return hash(event.key())
    return hash((type(event), *values(event.__dict__)))


_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
#: The compiled validator itself: parse_event runs once per line of every log.
_VALIDATE_JSON = _ADAPTER.validator.validate_json

#: `parse_event` without the message: raises a `ValueError` (pydantic's) on bad input.
#: For readers that call it once per line and go back to `parse_event` for the message
#: of the rare bad line; a frame less per event.
validate_event_json: Callable[[str | bytes], Event] = _VALIDATE_JSON


class EventError(ValueError):
    """An input that is not a valid schema v1 event; the message names the field."""


def describe_errors(errors: Iterable[ErrorDetails]) -> str:
    """pydantic's errors for one event, as `EventError` words them (each once).

    Locations start at the union tag, as validating an event alone gives them; a
    frame holding events (monitor/feed/protocol.py) strips its own part of the location
    first, so an event inside a frame is described in the same words.
    """
    parts = []
    for err in errors:
        kind = err["type"]
        # The first location item is the union tag: it names the event type, not a field.
        loc = err["loc"]
        field = ".".join(str(p) for p in loc[1:])
        if kind == "union_tag_invalid":
            tag = str(err.get("ctx", {}).get("tag", "?"))[:64]
            parts.append(f"unknown event type {tag!r}")
        elif kind == "union_tag_not_found":
            parts.append("missing field 'type'")
        elif not loc:
            parts.append("not a JSON object")
        elif kind == "missing":
            parts.append(f"{loc[0]}: missing field '{field}'")
        else:
            parts.append(f"{loc[0]}: field '{field}': {err['msg']}")
    return "; ".join(dict.fromkeys(parts))


def _describe(exc: ValidationError) -> str:
    return describe_errors(exc.errors(include_url=False)) or str(exc)


def parse_event(data: str | bytes) -> Event:
    """Parse one JSON text into an event, or raise `EventError` naming what is wrong."""
    try:
        return _VALIDATE_JSON(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            detail = exc.errors(include_url=False)[0]["msg"]
            raise EventError(f"not JSON: {detail}") from None
        raise EventError(_describe(exc)) from None


def event_from_dict(data: Any) -> Event:
    """Validate an already-decoded object (adapters and tests build these)."""
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise EventError(_describe(exc)) from None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of one wire event (what `callboard schema` prints)."""
    schema = _ADAPTER.json_schema(by_alias=True)
    schema["title"] = f"callboard event (schema v{SCHEMA_VERSION})"
    return schema
