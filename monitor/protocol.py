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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError

from classifier.schema import AgentStatus, Event, EventError, event_from_dict

PROTOCOL_VERSION = 1

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

#: Source states carried by `status` frames, snapshots and resume frames.
SOURCE_IDLE = "idle"  # no source: the hub only relays what producers publish
SOURCE_RUNNING = "running"
SOURCE_FINISHED = "finished"
SOURCE_FAILED = "failed"


class FrameError(ValueError):
    """A frame from the hub that this client cannot read; the message says why."""


@dataclass(slots=True)
class SourceStatus:
    """What the hub's own source (replay, simulator, adapter) is doing.

    `final_seq` is the hub seq when the source finished: a subscriber that has
    applied every event up to it has seen everything the source produced.
    """

    kind: str = "none"
    name: str = ""
    state: str = SOURCE_IDLE
    detail: str | None = None
    final_seq: int | None = None
    events: int = 0
    problems: int = 0

    @property
    def finished(self) -> bool:
        """Whether the source is done for good: finished, or failed."""
        return self.state in (SOURCE_FINISHED, SOURCE_FAILED)

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

    @classmethod
    def from_dict(cls, data: Any) -> SourceStatus:
        """Read a frame's `source` object; anything but an object gives the idle default.

        `events` and `problems` (absent or null: 0) and `final_seq` (absent or null:
        None) must be non-negative integers; otherwise `FrameError` names the field, so
        that a subscriber treats the frame as any other bad frame instead of failing on it.
        """
        if not isinstance(data, dict):
            return cls()

        def count(key: str) -> int | None:
            return None if data.get(key) is None else _int(data, key, "source")

        return cls(
            kind=str(data.get("kind", "none")),
            name=str(data.get("name", "")),
            state=str(data.get("state", SOURCE_IDLE)),
            detail=None if data.get("detail") is None else str(data["detail"]),
            final_seq=count("final_seq"),
            events=count("events") or 0,
            problems=count("problems") or 0,
        )


@dataclass(slots=True)
class Snapshot:
    """The hub's state when a subscriber joins (or re-syncs).

    `calls` holds, for every call in progress, the events applied to it so far
    (in order, with their seq); `presence` the latest `agent.status` per agent.
    Applying all of them to a fresh `CallTracker` rebuilds the hub's model.
    `sent_at` is the hub's wall clock (epoch seconds) when it built the frame.

    A snapshot travels as parts (`part` 1, 2, ...; `more` on all but the last): a
    decoded frame is one part, `SnapshotParts` joins them into the whole snapshot.
    A snapshot in one frame (as hubs before parts sent it) is part 1 without `more`.
    """

    hub_id: str
    seq: int
    calls: list[list[Event]] = field(default_factory=list)
    presence: list[AgentStatus] = field(default_factory=list)
    source: SourceStatus = field(default_factory=SourceStatus)
    sent_at: float = 0.0
    part: int = 1
    more: bool = False

    def events(self) -> list[Event]:
        """Every event of the snapshot in an order fit to apply: presence, then each call."""
        out: list[Event] = list(self.presence)
        for call in self.calls:
            out.extend(call)
        return out


@dataclass(slots=True)
class Resume:
    """The hub accepted `?since=`: the missed events follow, then live ones."""

    hub_id: str
    since: int
    seq: int
    source: SourceStatus = field(default_factory=SourceStatus)


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
    text = f'{{"frame":"event","seq":{seq},"received_at":{round(received_at, 6)!r},'
    text += f'"event":{event.to_json()}'
    if pos is not None:
        text += f',"pos":{_dumps(pos)}'
    return text + "}"


def encode_batch(frame_texts: list[str]) -> str:
    """Several already-encoded event/status frames in one message, in order."""
    return '{"frame":"batch","frames":[' + ",".join(frame_texts) + "]}"


def encode_snapshot(
    hub_id: str,
    seq: int,
    calls: list[list[Event]],
    presence: list[AgentStatus],
    source: SourceStatus,
    sent_at: float,
) -> str:
    """The `snapshot` frame text; `calls`: each call's events in order; `sent_at`: epoch seconds."""
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
    # Events go in as pydantic's own JSON: a snapshot of a busy centre holds tens of
    # thousands of them, and the hub builds it while everything else waits.
    calls_json = ",".join("[" + ",".join(e.to_json() for e in events) + "]" for events in calls)
    presence_json = ",".join(e.to_json() for e in presence)
    return f'{head[:-1]},"calls":[{calls_json}],"presence":[{presence_json}]}}'


def encode_snapshot_parts(
    hub_id: str,
    seq: int,
    calls: Iterable[Sequence[Event]],
    presence: Iterable[AgentStatus],
    source: SourceStatus,
    sent_at: float,
    part_chars: int = SNAPSHOT_PART_CHARS,
) -> Iterator[str]:
    """The `snapshot` frame texts, one part at a time, built as they are asked for.

    Each part holds whole presence reports and whole calls, about `part_chars`
    characters of them (presence first, then the calls, in order), and the same head
    fields; every part but the last has `"more": true`. There is always at least one
    part. Built lazily so that the hub can send a part, let its loop run, and build
    the next: it never holds the whole snapshot's text.
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
    )[:-1]
    part = 1
    size = 0
    calls_json: list[str] = []
    presence_json: list[str] = []

    def text(more: bool) -> str:
        tail = ',"more":true}' if more else ',"more":false}'
        return (
            f'{head},"part":{part},"calls":[{",".join(calls_json)}],'
            f'"presence":[{",".join(presence_json)}]{tail}'
        )

    for report in presence:
        if size >= part_chars:
            yield text(more=True)
            part, size = part + 1, 0
            calls_json.clear()
            presence_json.clear()
        presence_json.append(report.to_json())
        size += len(presence_json[-1])
    for events in calls:
        if size >= part_chars:
            yield text(more=True)
            part, size = part + 1, 0
            calls_json.clear()
            presence_json.clear()
        calls_json.append("[" + ",".join(e.to_json() for e in events) + "]")
        size += len(calls_json[-1])
    yield text(more=False)


def encode_resume(hub_id: str, since: int, seq: int, source: SourceStatus) -> str:
    """The `resume` frame text: events `since + 1` to `seq` follow it, then live ones."""
    return _dumps(
        {
            "frame": "resume",
            "protocol": PROTOCOL_VERSION,
            "hub_id": hub_id,
            "since": since,
            "seq": seq,
            "source": source.to_dict(),
        }
    )


def encode_status(source: SourceStatus, seq: int, sent_at: float) -> str:
    """The `status` frame text: the source's state at hub seq `seq`; `sent_at` in epoch seconds."""
    return _dumps(
        {"frame": "status", "seq": seq, "sent_at": round(sent_at, 6), "source": source.to_dict()}
    )


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


def _event(data: Any, where: str) -> Event:
    try:
        return event_from_dict(data)
    except EventError as exc:
        raise FrameError(f"{where}: {exc}") from None


def _int(data: dict[str, Any], key: str, where: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FrameError(f"{where}: field {key!r} must be a non-negative integer")
    return value


def read_event_frame(data: dict[str, Any]) -> EventFrame:
    """An `event` frame already decoded from JSON (the journal reads its lines with this)."""
    if data.get("frame") != "event":
        raise FrameError(f"expected an event frame, got {str(data.get('frame'))[:40]!r}")
    return _event_frame(data)


def _event_frame(data: dict[str, Any]) -> EventFrame:
    seq = _int(data, "seq", "event frame")
    event = _event(data.get("event"), f"event frame seq {seq}")
    received = data.get("received_at")
    return EventFrame(
        seq=seq,
        received_at=float(received) if isinstance(received, int | float) else 0.0,
        event=_with_seq(event, seq),
        pos=data["pos"] if isinstance(data.get("pos"), dict) else None,
    )


def _snapshot(data: dict[str, Any]) -> Snapshot:
    calls_raw = data.get("calls")
    presence_raw = data.get("presence")
    if not isinstance(calls_raw, list) or not isinstance(presence_raw, list):
        raise FrameError("snapshot frame: 'calls' and 'presence' must be lists")
    calls: list[list[Event]] = []
    for i, events in enumerate(calls_raw):
        if not isinstance(events, list):
            raise FrameError(f"snapshot frame: calls[{i}] must be a list of events")
        calls.append([_event(e, f"snapshot calls[{i}]") for e in events])
    presence: list[AgentStatus] = []
    for i, raw in enumerate(presence_raw):
        event = _event(raw, f"snapshot presence[{i}]")
        if not isinstance(event, AgentStatus):
            raise FrameError(f"snapshot frame: presence[{i}] is {event.type}, not agent.status")
        presence.append(event)
    sent = data.get("sent_at")
    more = data.get("more", False)
    if not isinstance(more, bool):
        raise FrameError("snapshot frame: 'more' must be true or false")
    part = _int(data, "part", "snapshot frame") if "part" in data else 1
    if part < 1:
        raise FrameError("snapshot frame: 'part' counts from 1")
    return Snapshot(
        hub_id=str(data.get("hub_id", "")),
        seq=_int(data, "seq", "snapshot frame"),
        calls=calls,
        presence=presence,
        source=SourceStatus.from_dict(data.get("source")),
        sent_at=float(sent) if isinstance(sent, int | float) else 0.0,
        part=part,
        more=more,
    )


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


class _WireEventFrame(BaseModel):
    """An `event` frame exactly as the hub writes it, for the one-pass fast path."""

    model_config = ConfigDict(extra="ignore")

    frame: Literal["event"]
    seq: Annotated[StrictInt, Field(ge=0)]
    received_at: StrictFloat
    event: Event
    pos: dict[str, Any] | None = None


class _WireBatch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    frame: Literal["batch"]
    frames: list[_WireEventFrame]


class _WireMessage(BaseModel):
    message: _WireEventFrame | _WireBatch = Field(discriminator="frame")


_VALIDATE_WIRE = _WireMessage.__pydantic_validator__.validate_json


def _fast_event_frames(text: str | bytes) -> list[HubFrame] | None:
    """Event and batch-of-event frames in one pass of pydantic's JSON validator.

    A subscriber decodes one of these per event, so this is its hot path: one pass in
    Rust instead of `json.loads` and then validating the event's dict. Anything it
    does not accept as is (other frames, missing or odd fields, bad events) returns
    None and goes the general way, which gives the same frames or the precise error.
    """
    if isinstance(text, str):
        # The wrapper key is spliced in as text so the message is parsed only once.
        wrapped: str | bytes = '{"message":' + text + "}"
    else:
        wrapped = b'{"message":' + text + b"}"
    try:
        message = _VALIDATE_WIRE(wrapped).message
    except ValidationError:
        return None
    wires = message.frames if isinstance(message, _WireBatch) else [message]
    frames: list[HubFrame] = []
    for wire in wires:
        frames.append(
            EventFrame(wire.seq, wire.received_at, _with_seq(wire.event, wire.seq), wire.pos)
        )
    return frames


def _with_seq(event: Event, seq: int) -> Event:
    """The event carrying its frame's seq: the frame's seq is the one that counts."""
    return event if event.seq == seq else event.model_copy(update={"seq": seq})


def decode_hub_message(text: str | bytes) -> list[HubFrame]:
    """One message from the hub to the frames it holds (a batch holds several)."""
    fast = _fast_event_frames(text)
    if fast is not None:
        return fast
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FrameError(f"hub sent a message that is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise FrameError("hub sent a message that is not a JSON object")
    return _decode(data, nested=False)


def _decode(data: dict[str, Any], nested: bool) -> list[HubFrame]:
    kind = data.get("frame")
    if kind == "event":
        return [_event_frame(data)]
    if kind == "batch" and not nested:
        frames = data.get("frames")
        if not isinstance(frames, list):
            raise FrameError("batch frame: 'frames' must be a list")
        out: list[HubFrame] = []
        for item in frames:
            if not isinstance(item, dict):
                raise FrameError("batch frame: every item must be an object")
            out.extend(_decode(item, nested=True))
        return out
    if kind == "status":
        return [SourceStatus.from_dict(data.get("source"))]
    if kind == "snapshot" and not nested:
        return [_snapshot(data)]
    if kind == "resume" and not nested:
        return [
            Resume(
                hub_id=str(data.get("hub_id", "")),
                since=_int(data, "since", "resume frame"),
                seq=_int(data, "seq", "resume frame"),
                source=SourceStatus.from_dict(data.get("source")),
            )
        ]
    raise FrameError(f"hub sent an unknown frame kind {str(kind)[:40]!r}")
