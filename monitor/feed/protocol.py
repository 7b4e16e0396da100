"""The hub's wire protocol: the frames that travel between hub, producers and subscribers.

Every frame is one websocket text message holding one JSON object whose `frame`
key names its kind (events keep their own `type` key, so the two never clash).
`docs/protocol.md` describes the exchange frame by frame; this module is the
single place where frames are built and read, so hub and client cannot drift.

Hub to subscriber (`/events`): `snapshot`, `resume`, `event`, `batch`, `status`.
Hub to producer (`/publish`): `ack`, `ignored`, `error`.
Producer to hub: a bare schema v1 event (no envelope), one per message.

Event frames are encoded once by the hub and the same text is sent to every
subscriber and written to the journal, which is why `encode_event_frame`
returns a string rather than a dict.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Literal, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictFloat,
    StrictInt,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from classifier.call import Call
from classifier.call_state import FORM, OpenCall
from classifier.schema import AgentStatus, Event, describe_errors
from classifier.tracker import CallTracker

#: The protocol's version, in snapshot and resume frames and asked for by clients
#: (`?protocol=`). 2: a snapshot's calls are their state (`classifier.call_state`),
#: not their events. A client refuses a snapshot of another version, and a hub a
#: client that asks for another (docs/protocol.md, "Versions").
PROTOCOL_VERSION = FORM

#: Close codes the hub uses besides the standard ones (1000 normal, 1001 going
#: away, 1008 policy violation, 1009 message too big).
CLOSE_TOO_SLOW = 4001
CLOSE_RESYNC = 4002

#: Characters of events in one `snapshot` part (a part holds at least one call, so
#: one long call may exceed it). Small enough that building a part keeps the hub's
#: loop busy for about 5 ms (bench/snapshot_join.py; 256 kB parts took about 14 ms)
#: and a peer that stopped reading pins at most one part in memory; large enough
#: that 20,000 calls with 256-character numbers (12.5 MB) make about 200 parts.
SNAPSHOT_PART_CHARS = 64 * 1024
#: Calls written between two steps of `snapshot_part_steps` (about 2 ms of short calls).
SNAPSHOT_STEP_CALLS = 64


class SourceState(StrEnum):
    """Source states carried by `status` frames, snapshots and resume frames.

    A `StrEnum`, so a state is its wire text (`"running"`) in JSON and in messages.
    """

    IDLE = "idle"  # no source: the hub only relays what producers publish
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class FrameError(ValueError):
    """A frame from the hub that this client cannot read; the message says why."""


class ProtocolMismatch(FrameError):
    """The hub speaks another version of the protocol: retrying cannot help."""


def protocol_mismatch(found: object) -> str:
    """The words for a snapshot of protocol `found` read by this client."""
    return (
        f"the hub speaks protocol {str(found)[:20]}, this callboard speaks protocol "
        f"{PROTOCOL_VERSION}: run the same callboard version on the hub and its boards"
    )


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """The `store` object of a hub on NATS: `{"kind": "nats", "state": ..., "buffered": N}`.

    `state` is "connected" when all is well; otherwise the link is away and `buffered`
    events wait for it (docs/scaling.md, "When NATS is away").
    """

    kind: str = ""
    state: str = ""
    buffered: int = 0

    @property
    def well(self) -> bool:
        """Whether the store takes events now."""
        return self.state == "connected"

    def describe(self) -> str:
        """In words, for the connection bar: 'NATS disconnected, 3 events buffered'."""
        name = "NATS" if self.kind == "nats" else (self.kind or "store")
        plural = "" if self.buffered == 1 else "s"
        return f"{name} {self.state or 'unknown'}, {self.buffered} event{plural} buffered"


@dataclass(slots=True)
class SourceStatus:
    """What the hub's own source (replay, simulator, adapter) is doing.

    `final_seq` is the hub seq when the source finished: a subscriber that has
    applied every event up to it has seen everything the source produced.
    """

    kind: str = "none"
    name: str = ""
    #: A state this client does not know (a newer hub's) is kept as its text.
    state: SourceState | str = SourceState.IDLE
    detail: str | None = None
    final_seq: int | None = None
    events: int = 0
    problems: int = 0
    #: The hub's store as the frame's `store` object said (a hub on NATS: its link's
    #: state); None from hubs without one. Not part of the `source` object on the wire:
    #: kept here so that what a client yields for a status frame carries it.
    store: StoreStatus | None = None

    @property
    def finished(self) -> bool:
        """Whether the source is done for good: finished, or failed."""
        return self.state in (SourceState.FINISHED, SourceState.FAILED)

    def to_dict(self) -> dict[str, Any]:
        """The `source` object of status, snapshot and resume frames (and of /health)."""
        return {
            "kind": self.kind,
            "name": self.name,
            "state": self.state,
            "detail": self.detail,
            "final_seq": self.final_seq,
            "events": self.events,
            "problems": self.problems,
        }


@dataclass(slots=True)
class Snapshot:
    """The hub's state when a subscriber joins (or re-syncs).

    `calls` holds every call in progress, rebuilt from the state the hub sent
    (`classifier.call_state.OpenCall`); `presence` the latest `agent.status` per agent.
    `CallTracker.resume` for each call and `apply` for each report rebuild the hub's
    model.
    `sent_at` is the hub's wall clock (epoch seconds) when it built the frame.

    A snapshot travels as parts (`part` 1, 2, ...; `more` on all but the last): a
    decoded frame is one part, `SnapshotParts` joins them into the whole snapshot.
    A snapshot in one frame (as hubs before parts sent it) is part 1 without `more`.
    """

    hub_id: str
    seq: int
    calls: list[Call] = field(default_factory=list)
    presence: list[AgentStatus] = field(default_factory=list)
    source: SourceStatus = field(default_factory=SourceStatus)
    sent_at: float = 0.0
    part: int = 1
    more: bool = False
    #: The hub's day (`classifier.day.DayState.to_dict()`), in part 1 of hubs that keep
    #: one; None from older hubs. Read by the board with `DayState.from_dict`.
    day: dict[str, Any] | None = None
    #: The hub's site (`serve --site`); None from hubs before sites.
    site: str | None = None

    def load_into(self, tracker: CallTracker) -> None:
        """Put the snapshot's calls and presence into a fresh tracker."""
        for call in self.calls:
            tracker.resume(call)
        for report in self.presence:
            tracker.apply(report)


@dataclass(slots=True)
class Resume:
    """The hub accepted `?since=`: the missed events follow, then live ones."""

    hub_id: str
    since: int
    seq: int
    source: SourceStatus = field(default_factory=SourceStatus)
    #: The hub's site (`serve --site`); None from hubs before sites.
    site: str | None = None


@dataclass(slots=True)
class EventFrame:
    """One event with its hub seq and the hub's receive time (epoch seconds)."""

    seq: int
    received_at: float
    event: Event
    pos: dict[str, Any] | None = None


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def encode_event_frame(
    event: Event, seq: int, received_at: float, pos: dict[str, Any] | None = None
) -> str:
    """The `event` frame text; `event` must already carry `seq` (set by the hub).

    `pos` is where a replayed event came from in its log; it is informative for
    subscribers and lets a journaled hub resume a replay where it stopped.
    """
    # Built by hand around pydantic's own JSON (written in Rust): this runs once per
    # event on the hub's hot path, and a dict through json.dumps costs twice as much.
    # `:.6f` is the number `round(received_at, 6)` is, at a third of the cost.
    text = f'{{"frame":"event","seq":{seq},"received_at":{received_at:.6f},"event":'
    text += event.to_json()
    if pos is not None:
        return f'{text},"pos":{_dumps(pos)}}}'
    return text + "}"


def encode_batch(frame_texts: list[str]) -> str:
    """Several already-encoded event/status frames in one message, in order."""
    return '{"frame":"batch","frames":[' + ",".join(frame_texts) + "]}"


def encode_snapshot(
    hub_id: str,
    seq: int,
    calls: Iterable[Call],
    presence: list[AgentStatus],
    source: SourceStatus,
    sent_at: float,
) -> str:
    """The `snapshot` frame text in one part; `calls`: the calls in progress; `sent_at`: epoch s."""
    head = _dumps(
        {
            "frame": "snapshot",
            "protocol": PROTOCOL_VERSION,
            "hub_id": hub_id,
            "seq": seq,
            "sent_at": round(sent_at, 6),
            "source": source.to_dict(),
        }
    )
    calls_json = ",".join(OpenCall.of(call).to_json() for call in calls)
    presence_json = ",".join(e.to_json() for e in presence)
    return f'{head[:-1]},"calls":[{calls_json}],"presence":[{presence_json}]}}'


def encode_snapshot_parts(
    hub_id: str,
    seq: int,
    calls: Iterable[Call],
    presence: Iterable[AgentStatus],
    source: SourceStatus,
    sent_at: float,
    part_chars: int = SNAPSHOT_PART_CHARS,
    day: dict[str, Any] | None = None,
    site: str | None = None,
    store: dict[str, Any] | None = None,
) -> Iterator[str]:
    """The `snapshot` frame texts, one part at a time, built as they are asked for.

    Each part holds whole presence reports and whole calls (each as its state,
    `classifier.call_state.OpenCall`), about `part_chars`
    characters of them (presence first, then the calls, in order), and the same head
    fields; every part but the last has `"more": true`. There is always at least one
    part. Built lazily so that the hub can send a part, let its loop run, and build
    the next: it never holds the whole snapshot's text. `day`, the hub's day state, goes
    in part 1 only (its size is bounded: see "The day in the snapshot" in the docs);
    `site`, the hub's site, in every part's head when given; so is `store` (a hub on
    NATS: its link's state, as in status frames).
    """
    steps = snapshot_part_steps(
        hub_id, seq, calls, presence, source, sent_at, part_chars, day, site, store
    )
    return (text for text in steps if text is not None)


def snapshot_part_steps(
    hub_id: str,
    seq: int,
    calls: Iterable[Call],
    presence: Iterable[AgentStatus],
    source: SourceStatus,
    sent_at: float,
    part_chars: int = SNAPSHOT_PART_CHARS,
    day: dict[str, Any] | None = None,
    site: str | None = None,
    store: dict[str, Any] | None = None,
    day_json: str | None = None,
    step: int = SNAPSHOT_STEP_CALLS,
) -> Iterator[str | None]:
    """`encode_snapshot_parts`, with None after every `step` calls written: a point
    where the hub lets its loop run while it builds a part (a 64 kB part of short
    calls is some 400 calls, 13 ms to write: `monitor.feed.snapshot_build`).
    `day_json`: the day's JSON text already written (that module writes it in
    steps), instead of `day`.
    """
    head = _dumps(
        {
            "frame": "snapshot",
            "protocol": PROTOCOL_VERSION,
            "hub_id": hub_id,
            "seq": seq,
            "sent_at": round(sent_at, 6),
            "source": source.to_dict(),
        }
        | ({"site": site} if site is not None else {})
        | ({"store": store} if store is not None else {})
    )[:-1]
    part = 1
    size = 0
    calls_json: list[str] = []
    presence_json: list[str] = []

    if day_json is None and day is not None:
        day_json = _dumps(day)
    day_field = "" if day_json is None else f',"day":{day_json}'

    def text(more: bool) -> str:
        tail = ',"more":true}' if more else ',"more":false}'
        extra = day_field if part == 1 else ""
        return (
            f'{head},"part":{part},"calls":[{",".join(calls_json)}],'
            f'"presence":[{",".join(presence_json)}]{extra}{tail}'
        )

    for report in presence:
        if size >= part_chars:
            yield text(more=True)
            part, size = part + 1, 0
            calls_json.clear()
            presence_json.clear()
        presence_json.append(report.to_json())
        size += len(presence_json[-1])
    for n, call in enumerate(calls, 1):
        if size >= part_chars:
            yield text(more=True)
            part, size = part + 1, 0
            calls_json.clear()
            presence_json.clear()
        calls_json.append(OpenCall.of(call).to_json())
        size += len(calls_json[-1])
        if n % step == 0:
            yield None
    yield text(more=False)


def encode_resume(
    hub_id: str,
    since: int,
    seq: int,
    source: SourceStatus,
    site: str | None = None,
    store: dict[str, Any] | None = None,
) -> str:
    """The `resume` frame text: events `since + 1` to `seq` follow it, then live ones.

    `store`: a hub on NATS adds its link's state, as in status frames.
    """
    return _dumps(
        {
            "frame": "resume",
            "protocol": PROTOCOL_VERSION,
            "hub_id": hub_id,
            "since": since,
            "seq": seq,
            "source": source.to_dict(),
        }
        | ({"site": site} if site is not None else {})
        | ({"store": store} if store is not None else {})
    )


def encode_status(
    source: SourceStatus, seq: int, sent_at: float, store: dict[str, Any] | None = None
) -> str:
    """The `status` frame text: the source's state at hub seq `seq`; `sent_at` in epoch seconds.

    `store`: a hub on NATS adds its link's state (`monitor.feed.nats_link.NatsLink.status`).
    """
    frame = {
        "frame": "status",
        "seq": seq,
        "sent_at": round(sent_at, 6),
        "source": source.to_dict(),
    }
    if store is not None:
        frame["store"] = store
    return _dumps(frame)


def encode_ack(seq: int) -> str:
    """The `ack` frame text: the producer's event was accepted as hub seq `seq`."""
    return _dumps({"frame": "ack", "seq": seq})


def encode_ignored(code: str, problem: str, n: int) -> str:
    """The `ignored` frame text: the producer's message `n` (from 1) was not applied, no error."""
    return _dumps({"frame": "ignored", "code": code, "problem": problem, "n": n})


def encode_error(code: str, problem: str, n: int | None = None) -> str:
    """The `error` frame text; `n`: the producer's message it answers (from 1), if any."""
    frame: dict[str, Any] = {"frame": "error", "code": code, "problem": problem}
    if n is not None:
        frame["n"] = n
    return _dumps(frame)


def read_event_frame(data: dict[str, Any]) -> EventFrame:
    """An `event` frame already decoded from JSON (the journal reads its lines with this)."""
    if data.get("frame") != "event":
        raise FrameError(f"expected an event frame, got {str(data.get('frame'))[:40]!r}")
    (frame,) = _decode(data)
    if not isinstance(frame, EventFrame):  # the frame key said event: the model is one
        raise FrameError("expected an event frame")
    return frame


class SnapshotParts:
    """Joins the parts of a snapshot (see `encode_snapshot_parts`) into the whole one.

    `add` each decoded `Snapshot` part: it returns None while parts are missing and
    the whole snapshot with the last one. Parts out of order, or of another hub or
    seq, are a `FrameError` naming what did not fit, as any other bad frame.
    """

    def __init__(self) -> None:
        self._whole: Snapshot | None = None

    @property
    def pending(self) -> int | None:
        """The last part received of an unfinished snapshot, or None."""
        return self._whole.part if self._whole is not None else None

    def add(self, part: Snapshot) -> Snapshot | None:
        """Take one part; the whole snapshot when this was its last part, else None."""
        whole = self._whole
        if whole is None:
            if part.part != 1:
                raise FrameError(f"snapshot part {part.part} came without part 1")
            whole = part
        else:
            if part.part != whole.part + 1:
                raise FrameError(f"snapshot part {part.part} came after part {whole.part}")
            if (part.hub_id, part.seq) != (whole.hub_id, whole.seq):
                raise FrameError(
                    f"snapshot part {part.part} is of {part.hub_id} seq {part.seq}, "
                    f"not {whole.hub_id} seq {whole.seq} like part 1"
                )
            whole.calls.extend(part.calls)
            whole.presence.extend(part.presence)
            whole.part = part.part
        if part.more:
            self._whole = whole
            return None
        self._whole = None
        whole.more = False
        return whole


#: What a subscriber can receive, once batches are unpacked.
HubFrame = Snapshot | Resume | EventFrame | SourceStatus


# The wire: one pydantic model per frame kind and one TypeAdapter over all of them,
# as classifier/schema.py does for events. A frame's events are validated by the
# schema's own event union in the same pass, so a subscriber's message is read
# once, in pydantic's Rust, whatever it holds. The models are the wire only: what
# callers get are the dataclasses above (`HubFrame`).
#
# The loose fields below read exactly as clients always have: a hub's text and
# times are informative, so an odd value gives a default instead of a refused frame;
# seqs and counts are what a subscriber acts on, so they must be what they claim.


def _count_or_zero(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _object_or_none(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _object_or_empty(value: Any) -> Any:
    return value if isinstance(value, dict) else {}


def _counts_from_one(part: int) -> int:
    if part < 1:
        raise PydanticCustomError("part_from_one", "'part' counts from 1")
    return part


def _agent_status(event: Event) -> Event:
    if not isinstance(event, AgentStatus):
        raise PydanticCustomError(
            "not_agent_status", "{type}, not agent.status", {"type": event.type}
        )
    return event


LooseText = Annotated[str, PlainValidator(str)]
#: A float (an event frame's received_at is one) is taken in pydantic's Rust; only an
#: odd value costs the Python call.
Seconds = Annotated[
    StrictFloat | Annotated[float, PlainValidator(_seconds)], Field(union_mode="left_to_right")
]
#: A seq or a count: a JSON integer, not a bool, a float or a string of digits.
Count = Annotated[StrictInt, Field(ge=0)]


class _Wire(BaseModel):
    """Fields a frame does not define are ignored: a newer hub may add some."""

    model_config = ConfigDict(extra="ignore")


class _SourceWire(_Wire):
    """A frame's `source` object; anything but an object reads as the idle default."""

    kind: LooseText = "none"
    name: LooseText = ""
    state: Annotated[SourceState | LooseText, Field(union_mode="left_to_right")] = SourceState.IDLE
    detail: Annotated[str | None, PlainValidator(_text_or_none)] = None
    final_seq: Count | None = None
    events: Count | None = None  # null reads as 0, as absent does
    problems: Count | None = None

    def status(self) -> SourceStatus:
        return SourceStatus(
            kind=self.kind,
            name=self.name,
            state=self.state,
            detail=self.detail,
            final_seq=self.final_seq,
            events=self.events or 0,
            problems=self.problems or 0,
        )


Source = Annotated[_SourceWire, BeforeValidator(_object_or_empty)]


class _StoreWire(_Wire):
    """A frame's `store` object (informative: odd values read as defaults)."""

    kind: LooseText = ""
    state: LooseText = ""
    buffered: Annotated[int, PlainValidator(_count_or_zero)] = 0

    def status(self) -> StoreStatus:
        return StoreStatus(self.kind, self.state, self.buffered)


#: Anything but an object reads as no store.
Store = Annotated[_StoreWire | None, BeforeValidator(_object_or_none)]


def _with_store(source: SourceStatus, store: _StoreWire | None) -> SourceStatus:
    if store is not None:
        source.store = store.status()
    return source


class _EventWire(_Wire):
    frame: Literal["event"]
    seq: Count
    event: Event
    received_at: Seconds = 0.0
    pos: Annotated[dict[str, Any] | None, PlainValidator(_object_or_none)] = None


class _StatusWire(_Wire):
    """A `status` frame; the client reads its `source` (its seq and sent_at inform only)."""

    frame: Literal["status"]
    source: Source = Field(default_factory=_SourceWire)
    store: Store = None


class _BatchWire(_Wire):
    frame: Literal["batch"]
    frames: list[Annotated[_EventWire | _StatusWire, Field(discriminator="frame")]]


# Field order is the order problems are named in: the first one a frame has is its error.
def _snapshot_protocol(data: Any) -> Any:
    """A snapshot of another protocol version is refused before its fields are read."""
    if isinstance(data, dict) and data.get("protocol") != PROTOCOL_VERSION:
        raise PydanticCustomError(
            "snapshot_protocol", "{message}", {"message": protocol_mismatch(data.get("protocol"))}
        )
    return data


class _SnapshotWire(_Wire):
    frame: Literal["snapshot"]
    calls: list[OpenCall]

    _protocol = model_validator(mode="before")(_snapshot_protocol)
    presence: list[Annotated[Event, AfterValidator(_agent_status)]]
    more: StrictBool = False
    part: Annotated[Count, AfterValidator(_counts_from_one)] = 1
    hub_id: LooseText = ""
    seq: Count
    source: Source = Field(default_factory=_SourceWire)
    sent_at: Seconds = 0.0
    # Read loosely here (anything but an object is absent); the board reads its
    # content with `DayState.from_dict` and says what it could not read.
    day: Annotated[dict[str, Any] | None, PlainValidator(_object_or_none)] = None
    # Optional: hubs before sites send none (a board then names the hub by its address).
    site: LooseText | None = None
    store: Store = None


class _ResumeWire(_Wire):
    frame: Literal["resume"]
    hub_id: LooseText = ""
    since: Count
    seq: Count
    source: Source = Field(default_factory=_SourceWire)
    site: LooseText | None = None
    store: Store = None


class _AckWire(_Wire):
    frame: Literal["ack"]
    seq: Count


class _IgnoredWire(_Wire):
    frame: Literal["ignored"]
    code: str
    problem: str
    n: Count


class _ErrorWire(_Wire):
    frame: Literal["error"]
    code: str
    problem: str
    n: Count | None = None


#: Every frame of the protocol, told apart by its `frame` key.
WireFrame = Annotated[
    _SnapshotWire
    | _ResumeWire
    | _EventWire
    | _BatchWire
    | _StatusWire
    | _AckWire
    | _IgnoredWire
    | _ErrorWire,
    Field(discriminator="frame"),
]

_FRAMES: TypeAdapter[WireFrame] = TypeAdapter(WireFrame)
#: The compiled validator itself: a subscriber runs it once per message.
_VALIDATE_JSON = _FRAMES.validator.validate_json


def _with_seq(event: Event, seq: int) -> Event:
    """The event carrying its frame's seq: the frame's seq is the one that counts."""
    return event if event.seq == seq else event.model_copy(update={"seq": seq})


def _frames(wire: WireFrame) -> list[HubFrame]:
    """A subscriber's frames from a validated message; producer replies are not for it."""
    if isinstance(wire, _EventWire):
        return [EventFrame(wire.seq, wire.received_at, _with_seq(wire.event, wire.seq), wire.pos)]
    if isinstance(wire, _BatchWire):
        return [
            EventFrame(item.seq, item.received_at, _with_seq(item.event, item.seq), item.pos)
            if isinstance(item, _EventWire)
            else _with_store(item.source.status(), item.store)
            for item in wire.frames
        ]
    if isinstance(wire, _StatusWire):
        return [_with_store(wire.source.status(), wire.store)]
    if isinstance(wire, _SnapshotWire):
        return [
            Snapshot(
                hub_id=wire.hub_id,
                seq=wire.seq,
                calls=[call.call() for call in wire.calls],
                # Each one passed _agent_status.
                presence=cast(list[AgentStatus], wire.presence),
                source=_with_store(wire.source.status(), wire.store),
                sent_at=wire.sent_at,
                part=wire.part,
                more=wire.more,
                day=wire.day,
                site=wire.site,
            )
        ]
    if isinstance(wire, _ResumeWire):
        source = _with_store(wire.source.status(), wire.store)
        return [Resume(wire.hub_id, wire.since, wire.seq, source, wire.site)]
    raise FrameError(_unknown_kind(wire.frame))


def decode_hub_message(text: str | bytes) -> list[HubFrame]:
    """One message from the hub to the frames it holds (a batch holds several)."""
    try:
        wire = _VALIDATE_JSON(text)
    except ValidationError:
        # The rare bad message is read again as Python objects, which tells "not JSON"
        # and "not an object" apart in json's own words and names the first problem.
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise FrameError(f"hub sent a message that is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise FrameError("hub sent a message that is not a JSON object") from None
        return _decode(data)
    return _frames(wire)


def _decode(data: dict[str, Any]) -> list[HubFrame]:
    """The frames of a message already decoded from JSON, or a `FrameError` naming its problem."""
    try:
        wire = _FRAMES.validate_python(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        for err in errors:
            if err["type"] == "snapshot_protocol":
                raise ProtocolMismatch(err["msg"]) from None
        raise FrameError(_problem(errors, data)) from None
    return _frames(wire)


# Naming a bad frame's problem from pydantic's error locations: (frame kind, field,
# index, ...). Only the first problem is named, as a reader checking field by field
# would find it; for an event, all of that event's, as `parse_event` names them.


def _unknown_kind(kind: Any) -> str:
    return f"hub sent an unknown frame kind {str(kind)[:40]!r}"


def _under(errors: list[ErrorDetails], *prefix: str | int) -> list[ErrorDetails]:
    """The errors located under `prefix`, with their location relative to it."""
    out = []
    for err in errors:
        if err["loc"][: len(prefix)] == prefix:
            inner = err.copy()
            inner["loc"] = err["loc"][len(prefix) :]
            out.append(inner)
    return out


def _problem(errors: list[ErrorDetails], data: dict[str, Any]) -> str:
    """The first problem of a frame (`data`), from its validation errors."""
    loc = errors[0]["loc"]
    if not loc:  # no or no known `frame` key: the tag itself
        return _unknown_kind(data.get("frame"))
    kind = str(loc[0])
    inner = _under(errors, kind)
    if kind == "event":
        return _event_frame_problem(inner, data)
    if kind == "batch":
        return _batch_problem(inner, data)
    if kind == "status":
        return _source_problem(inner)
    if kind == "snapshot":
        return _snapshot_problem(inner)
    if kind == "resume":
        return _counts_problem(inner, "resume frame")
    return _unknown_kind(kind)  # a producer's reply is no frame for a subscriber


def _must_count(where: str, field: str | int) -> str:
    return f"{where}: field {field!r} must be a non-negative integer"


def _event_frame_problem(errors: list[ErrorDetails], data: dict[str, Any]) -> str:
    if errors[0]["loc"][0] == "seq":
        return _must_count("event frame", "seq")
    return f"event frame seq {data['seq']}: {describe_errors(_under(errors, 'event'))}"


def _batch_problem(errors: list[ErrorDetails], data: dict[str, Any]) -> str:
    loc = errors[0]["loc"]
    if len(loc) == 1:
        return "batch frame: 'frames' must be a list"
    index = loc[1]
    item = data["frames"][index]
    if not isinstance(item, dict):
        return "batch frame: every item must be an object"
    # Inside a batch only event and status frames are known kinds.
    item_errors = _under(errors, "frames", index)
    if not item_errors[0]["loc"]:
        return _unknown_kind(item.get("frame"))
    kind = str(item_errors[0]["loc"][0])
    if kind == "event":
        return _event_frame_problem(_under(item_errors, kind), item)
    return _source_problem(_under(item_errors, kind))


def _source_problem(errors: list[ErrorDetails]) -> str:
    # Only the counts of a source can be wrong: (source, field).
    return _must_count("source", errors[0]["loc"][1])


def _counts_problem(errors: list[ErrorDetails], where: str) -> str:
    field = errors[0]["loc"][0]
    if field == "source":
        return _source_problem(errors)
    return _must_count(where, field)


def _snapshot_problem(errors: list[ErrorDetails]) -> str:
    if any(err["loc"] in (("calls",), ("presence",)) for err in errors):
        return "snapshot frame: 'calls' and 'presence' must be lists"
    first = errors[0]
    loc = first["loc"]
    if loc[0] == "calls":
        fields = ", ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'the call'}: {err['msg']}"
            for err in _under(errors, "calls", loc[1])
        )
        return f"snapshot frame: calls[{loc[1]}] is not a call in progress ({fields})"
    if loc[0] == "presence":
        if first["type"] == "not_agent_status":
            return f"snapshot frame: presence[{loc[1]}] is {first['msg']}"
        return f"snapshot presence[{loc[1]}]: {describe_errors(_under(errors, *loc[:2]))}"
    if loc[0] == "more":
        return "snapshot frame: 'more' must be true or false"
    if first["type"] == "part_from_one":
        return "snapshot frame: 'part' counts from 1"
    return _counts_problem(errors, "snapshot frame")
