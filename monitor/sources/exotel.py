"""Exotel call records (Call Details API, status callbacks) as schema v1 events.

Exotel tells us how a call ended through the statuses of its two legs, and the
classifier already holds seed 003's three tables of those statuses. So this
adapter only moves fields: each finished record becomes a `call.started` and a
`call.ended` carrying `status`, `leg1_status` and `leg2_status`, and the
classifier's table for the call's flow decides the verdict.

Accepted records (keys are matched without regard to case):

* Call Details API: ``{"Call": {...}}``, with the leg statuses in
  ``Call.Details.Leg1Status`` / ``Leg2Status`` (ask the API with ``details=true``);
  the bulk answer ``{"Calls": [...]}``; or a bare call object with ``Sid``;
* status callbacks: ``CallSid``, ``Status``, ``Direction``, times, and the leg
  statuses as ``Legs[i].Status`` (the ``terminal`` event), ``Leg1Status`` /
  ``Leg2Status``, or ``DialCallStatus`` (the Passthru applet's name for leg 2).

`docs/sources.md` explains how each ``Direction`` maps to a table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

from classifier.schema import MAX_TEXT, Event, EventError, LegStatus, event_from_dict
from monitor.sources.delivery import BadDelivery
from monitor.sources.log_stream import open_log, read_ahead
from monitor.sources.progress import ReadProgress
from monitor.sources.reader import (
    MAX_LINE,
    READ_LIMIT,
    LineError,
    LineEvent,
    read_lines,
    too_long,
)
from monitor.sources.recent import Recent as _Recent
from monitor.sources.tally import SkipTally

FORMAT = "exotel"

#: Exotel writes its times without an offset, in India Standard Time.
EXOTEL_TZ = timezone(timedelta(hours=5, minutes=30), "IST")

#: Overall statuses of a call that has not finished yet (Call Details API).
IN_PROGRESS = frozenset({"queued", "ringing", "in-progress"})

#: Spellings seen for each status, folded to the schema's values.
_STATUS_SPELLINGS: dict[str, LegStatus | None] = {
    "completed": LegStatus.COMPLETED,
    "no-answer": LegStatus.NO_ANSWER,
    "noanswer": LegStatus.NO_ANSWER,
    "busy": LegStatus.BUSY,
    "failed": LegStatus.FAILED,
    "canceled": LegStatus.CANCELED,
    "cancelled": LegStatus.CANCELED,
    "missed-call": LegStatus.MISSED_CALL,
    "missedcall": LegStatus.MISSED_CALL,
    # Exotel's "n/a (empty)": the leg was never dialled.
    "": None,
    "n/a": None,
    "na": None,
    "null": None,
    "none": None,
    "empty": None,
}

#: Keys whose presence names an app (call flow) the call was connected to.
_FLOW_KEYS = ("url", "appid", "app_id", "flowid", "flow_id")
_FLOW_URL = "/exoml/start_voice/"

_FORM_LEG = re.compile(r"legs\[(\d+)\]\[status\]")
_SPACE = re.compile(r"\s*")
_VALUE_START = re.compile(r"[ \t\r]*[\[{\]]")


#: Largest JSON document (one object or array, pretty-printed or not) read whole; a
#: Call Details page holds at most 100 calls (~200 KiB). JSON Lines have no limit.
MAX_DOCUMENT = 16 * 1024 * 1024


class _Bad(Exception):
    """A record that cannot become events; the message names the field."""


class _SetAside(Exception):
    """A record with nothing for the board; the message says why."""


def leg_status(value: Any, field: str) -> LegStatus | None:
    """One Exotel status in the schema's spelling; None is Exotel's n/a (empty)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Bad(f"{field} {value!r} is not a status string")
    key = value.strip().lower().replace("_", "-").replace(" ", "-")
    if key not in _STATUS_SPELLINGS:
        raise _Bad(f"{field} {value[:40]!r} is not an Exotel status")
    return _STATUS_SPELLINGS[key]


def _time(value: Any, field: str, tz: tzinfo) -> datetime:
    if isinstance(value, bool):
        raise _Bad(f"{field} {value!r} is not a time")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise _Bad(f"{field} {value!r} is not a time") from None
    if not isinstance(value, str):
        raise _Bad(f"{field} {value!r} is not a time")
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _Bad(f"{field} {value[:40]!r} is not a time (YYYY-MM-DD HH:MM:SS)") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=tz)


class _Record:
    """Case-insensitive view of one call record and its Details block."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.keys = {str(k).lower(): v for k, v in raw.items()}
        details = self.keys.get("details")
        if isinstance(details, dict):
            for key, value in details.items():
                self.keys.setdefault(str(key).lower(), value)

    def get(self, *names: str) -> Any:
        for name in names:
            value = self.keys.get(name)
            if value is not None and value != "":
                return value
        return None

    def has(self, name: str) -> bool:
        return name in self.keys

    def text(self, *names: str) -> str:
        value = self.get(*names)
        return "" if value is None else str(value)[:MAX_TEXT]

    def legs(self) -> tuple[bool, LegStatus | None, LegStatus | None]:
        """(found, leg1, leg2): the leg statuses, wherever this shape keeps them."""
        if self.has("leg1status") or self.has("leg2status"):
            return (
                True,
                leg_status(self.keys.get("leg1status"), "Leg1Status"),
                leg_status(self.keys.get("leg2status"), "Leg2Status"),
            )
        if self.has("dialcallstatus"):
            # The Passthru applet: DialCallStatus is leg 2; leg 1 was picked up by
            # Exotel, which is what an incoming call's leg 1 always says.
            leg2 = leg_status(self.keys.get("dialcallstatus"), "DialCallStatus")
            return True, LegStatus.COMPLETED, leg2
        legs = self.keys.get("legs")
        if isinstance(legs, list):
            statuses = [
                leg_status(leg.get("Status", leg.get("status")), f"Legs[{i}].Status")
                for i, leg in enumerate(legs)
                if isinstance(leg, dict) and ("Status" in leg or "status" in leg)
            ]
            if statuses:
                return True, statuses[0], statuses[1] if len(statuses) > 1 else None
        form = {int(m.group(1)): v for k, v in self.keys.items() if (m := _FORM_LEG.fullmatch(k))}
        if form:
            leg1 = leg_status(form.get(0), "Legs[0][Status]")
            return True, leg1, leg_status(form.get(1), "Legs[1][Status]")
        return False, None, None

    def names_a_flow(self) -> bool:
        if any(self.get(key) for key in _FLOW_KEYS):
            return True
        return any(isinstance(v, str) and _FLOW_URL in v for v in self.keys.values())


class ExotelAdapter:
    """Turns Exotel records into events; remembers calls so a second record is no second call."""

    def __init__(self, tz: tzinfo = EXOTEL_TZ, id_prefix: str = "") -> None:
        """`id_prefix` goes before every call id (the webhook receiver's ``exotel:``)."""
        self.skipped = SkipTally()
        self.tz = tz
        self.id_prefix = id_prefix
        self._started = _Recent()
        self._ended = _Recent()

    # --- reading ----------------------------------------------------------------

    def feed(self, source: str, number: int, raw: bytes) -> list[LineEvent | LineError]:
        """One line of JSON Lines (for followers)."""
        if len(raw) > MAX_LINE:
            return [LineError(source, number, too_long(len(raw.rstrip(b"\r\n"))))]
        text = raw.decode("utf-8", errors="replace").strip()
        if not text:
            return []
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            return [LineError(source, number, f"not JSON: {exc.msg}")]
        except RecursionError:
            return [LineError(source, number, "not JSON we read: nested too deep")]
        return self.value(source, number, value)

    def read_text(self, source: str, text: str) -> Iterator[LineEvent | LineError]:
        """Every record of a text holding one JSON value, an array, or JSON Lines."""
        if _is_json_lines(text):
            # Line by line, so that a broken line is one message and never swallows
            # the lines after it into a half-parsed value.
            for number, raw in enumerate(text.split("\n"), start=1):
                yield from self.feed(source, number, raw.encode())
            return
        for line, value, problem in json_values(text):
            if problem is not None:
                yield LineError(source, line, problem)
            else:
                yield from self.value(source, line, value)

    def value(
        self, source: str, line: int, value: Any, depth: int = 0
    ) -> list[LineEvent | LineError]:
        """The events of one decoded JSON value (a record, a Call Details answer, a list).

        Lists and bulk answers (``{"Calls": [...]}``) are opened, at most two
        levels deep (an array of bulk answers); anything deeper is not a record.
        """
        calls = value.get("Calls", value.get("calls")) if isinstance(value, dict) else None
        if isinstance(calls, list):
            value = calls
        if isinstance(value, list) and depth < 2:
            return [item for v in value for item in self.value(source, line, v, depth + 1)]
        if not isinstance(value, dict):
            return [LineError(source, line, f"expected a JSON object, got {type(value).__name__}")]
        call = value.get("Call", value.get("call"))
        record = call if isinstance(call, dict) else value
        try:
            dicts = self._record(_Record(record), line)
            return [LineEvent(source, line, event_from_dict(d)) for d in dicts]
        except _SetAside as exc:
            self.skipped.add("record", str(exc), line)
            return []
        except (_Bad, EventError) as exc:
            return [LineError(source, line, str(exc))]

    def delivery(self, params: Mapping[str, Any]) -> list[Event]:
        """The events of one webhook delivery (Passthru or status callback), decoded.

        `params` is the query string or form (flat ``Legs[0][Status]`` keys) or the
        JSON object of a status callback (``Legs`` a list). The same rules as a file's
        records, with one addition: a Passthru request with neither ``Status`` nor a
        leg status comes before any Connect applet ran, so the call is in progress.
        An empty list is a delivery already applied (a retry) or one with nothing new;
        `BadDelivery` names the field that is wrong. A receiver runs for weeks and
        prints no summary, so what a delivery sets aside is not tallied (`skipped`
        would grow with every new word in ``Status``); the receiver counts deliveries.
        """
        self.skipped = SkipTally()
        record = _Record(dict(params))
        try:
            if not record.text("status", "callstatus") and not record.legs()[0]:
                record.keys["status"] = "in-progress"
            dicts = self._record(record, 0)
            return [event_from_dict(d) for d in dicts]
        except _SetAside:
            return []
        except (_Bad, EventError) as exc:
            raise BadDelivery(str(exc)) from None

    # --- one record -------------------------------------------------------------

    def _record(self, rec: _Record, line: int) -> list[dict[str, Any]]:
        sid = rec.text("sid", "callsid")
        if not sid:
            raise _Bad("not an Exotel call record: no Sid or CallSid (nor a Call object)")
        if rec.text("parentcallsid"):
            raise _SetAside("leg of another call (ParentCallSid); its parent counts")
        if sid in self._ended:
            raise _SetAside("second record of a call already ended")
        if not rec.text("direction") and not rec.legs()[0]:
            raise _Bad(
                "no Direction and no leg statuses: a status callback needs the 'terminal' "
                "event (StatusCallbackEvents) to carry them"
            )
        direction, flow = self._direction(rec)
        status_text = rec.text("status", "callstatus").strip().lower()
        start_raw = rec.get("starttime", "datecreated", "created")
        end_raw = rec.get("endtime", "dateupdated", "currenttime")
        if start_raw is None and end_raw is None:
            raise _Bad("no time: none of StartTime, DateCreated, EndTime, DateUpdated")
        start = _time(start_raw if start_raw is not None else end_raw, "StartTime", self.tz)
        out: list[dict[str, Any]] = []
        call_id = self.id_prefix + sid
        if sid not in self._started:
            started: dict[str, Any] = {
                "type": "call.started",
                "call_id": call_id,
                "ts": start,
                "direction": "inbound" if direction == "inbound" else "outbound",
                "flow": flow,
            }
            caller, callee = rec.text("from", "callfrom"), rec.text("to", "callto")
            if caller:
                started["from"] = caller
            if callee:
                started["to"] = callee
            out.append(started)
        if status_text in IN_PROGRESS:
            self._started.add(sid)
            if not out:
                raise _SetAside("a call still in progress, already started")
            return out
        found, leg1, leg2 = rec.legs()
        if not found:
            raise _Bad(
                "no leg statuses: Call Details answers carry them with details=true, "
                "status callbacks with the 'terminal' event (Legs)"
            )
        if flow == "connect_two_numbers" and direction == "outbound-api":
            flow = self._outbound_api_flow(rec, leg1, leg2, status_text)
            if out:
                out[0]["flow"] = flow
        end = self._end_time(rec, start)
        out.extend(_agent_events(rec, call_id, flow, start, end, leg1, leg2))
        ended: dict[str, Any] = {
            "type": "call.ended",
            "call_id": call_id,
            "ts": end,
            "by": _ended_by(direction, leg1, leg2),
            "leg1_status": leg1,
            "leg2_status": leg2,
        }
        try:
            ended["status"] = leg_status(status_text or None, "Status")
        except _Bad:
            # Dashboard-only words ("call-attempt", "voicemail") are no leg status;
            # the leg statuses decide, as seed 003 says they do.
            self.skipped.add(f"Status {status_text[:40]!r}", "not a leg status; legs decide", line)
        self._started.add(sid)
        self._ended.add(sid)
        out.append(ended)
        return out

    def _end_time(self, rec: _Record, start: datetime) -> datetime:
        """The first of EndTime, DateUpdated, CurrentTime that is not before the start.

        The Passthru applet sends EndTime as a constant ``1970-01-01 05:30:00``
        (Exotel's Passthru document: "ask the Call Details API for the real one"),
        so an end before the start is no end: the next field says when it was.
        """
        for key, name in (
            ("endtime", "EndTime"),
            ("dateupdated", "DateUpdated"),
            ("currenttime", "CurrentTime"),
        ):
            value = rec.get(key)
            if value is not None:
                at = _time(value, name, self.tz)
                if at >= start:
                    return at
        return start

    @staticmethod
    def _direction(rec: _Record) -> tuple[str, str]:
        raw = rec.text("direction").strip().lower()
        if raw == "inbound" or raw == "incoming":
            return "inbound", "incoming"
        if raw == "outbound-api":
            # Refined once the leg statuses are known (see _outbound_api_flow).
            return "outbound-api", "connect_two_numbers"
        if raw == "outbound-dial":
            return "outbound-dial", "connect_two_numbers"
        if not raw:
            raise _Bad("no Direction (inbound, outbound-api or outbound-dial)")
        raise _Bad(f"Direction {raw[:40]!r} is none of inbound, outbound-api, outbound-dial")

    @staticmethod
    def _outbound_api_flow(
        rec: _Record, leg1: LegStatus | None, leg2: LegStatus | None, status: str
    ) -> str:
        """Which outbound API made the call: two numbers, or a number to a call flow.

        A record that names an app (a flow URL or app id) was connected to a flow.
        Otherwise the overall status tells, where the two tables differ: when leg 1
        answered and leg 2 did not, connecting two numbers reports leg 2's failure
        as the call's status, connecting to a flow still reports 'completed'.
        Everywhere else both tables agree, so the verdict does not depend on it.
        """
        if rec.names_a_flow():
            return "connect_to_flow"
        leg2_failed = leg1 is LegStatus.COMPLETED and leg2 is not LegStatus.COMPLETED
        if leg2_failed and status == "completed":
            return "connect_to_flow"
        return "connect_two_numbers"


def _answer_moment(
    rec: _Record, start: datetime, end: datetime, leg2: LegStatus | None
) -> datetime | None:
    """The moment leg 2 answered, from ConversationDuration, when the record has it.

    The leg statuses decide the verdict; this only gives the call its real wait
    and talk times (without it the whole call would count as waiting).
    """
    if leg2 is not LegStatus.COMPLETED:
        return None
    talk = rec.get("conversationduration")
    try:
        seconds = float(talk) if talk is not None else 0.0
    except (TypeError, ValueError):
        raise _Bad(f"ConversationDuration {str(talk)[:40]!r} is not a number") from None
    if not seconds > 0:
        return None
    return max(start, end - timedelta(seconds=min(seconds, (end - start).total_seconds())))


#: What the agent's leg status says of the offer: the event after the ring (None: the
#: ring ends with the call, the caller having gone while it rang). Statuses not here
#: (failed: the carrier never reached the phone; n/a: never dialled) offer nothing.
_AFTER_RING: dict[LegStatus, str | None] = {
    LegStatus.COMPLETED: "agent.answered",
    LegStatus.NO_ANSWER: "agent.no_answer",
    LegStatus.BUSY: "agent.rejected",
    LegStatus.CANCELED: None,
}


def _agent_events(
    rec: _Record,
    sid: str,
    flow: str,
    start: datetime,
    end: datetime,
    leg1: LegStatus | None,
    leg2: LegStatus | None,
) -> list[dict[str, Any]]:
    """The agent events of a record: the agent number Exotel dialled, and what its leg did.

    Which number is the agent's (docs/sources.md, "Agents"): connecting two numbers
    (outbound-api, outbound-dial) dials ``From`` first, "the agent's phone", so the
    agent is ``From`` on leg 1; an incoming call or a call flow dials the agent from
    its Connect applet, named ``DialWhomNumber`` (the number dialled last), on leg 2.
    The ring starts at the dial (``StartTime`` for leg 1, ``DialCallDuration``
    before the end for leg 2, else the answer or the end) and the leg's status says
    what came of it (`_AFTER_RING`). An outbound call whose agent answered but whose
    customer did not offers the agent nothing (their phone did its part).

    The answer is at *end − ConversationDuration*; without that, at the end (no
    talk), which leaves the call's wait and talk as they were. A record that names
    no agent still gets the answer that times the call, by "leg 2".
    """
    answered_at = _answer_moment(rec, start, end, leg2)
    two_numbers = flow == "connect_two_numbers"
    agent = rec.text("from", "callfrom") if two_numbers else rec.text("dialwhomnumber")
    if not agent:
        if answered_at is None:
            return []
        return [{"type": "agent.answered", "call_id": sid, "ts": answered_at, "agent": "leg 2"}]
    status = leg1 if two_numbers else leg2
    if status is None or status not in _AFTER_RING:
        return []
    if two_numbers and status is LegStatus.COMPLETED and leg2 is not LegStatus.COMPLETED:
        return []  # the agent answered, the customer did not
    ring_at = start if two_numbers else _dial_moment(rec, start, end) or answered_at or end
    after = _AFTER_RING[status]
    at = end
    if after == "agent.answered":
        at = answered_at or end
        ring_at = min(ring_at, at)
    events = [{"type": "agent.ringing", "call_id": sid, "ts": ring_at, "agent": agent}]
    if after is not None:
        events.append({"type": after, "call_id": sid, "ts": at, "agent": agent})
    return events


def _dial_moment(rec: _Record, start: datetime, end: datetime) -> datetime | None:
    """When leg 2 was dialled: DialCallDuration (Passthru: dial to hang-up) before the end."""
    value = rec.get("dialcallduration")
    try:
        seconds = float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        raise _Bad(f"DialCallDuration {str(value)[:40]!r} is not a number") from None
    if not seconds > 0 or seconds != seconds:
        return None
    return max(start, end - timedelta(seconds=min(seconds, (end - start).total_seconds())))


def _ended_by(direction: str, leg1: LegStatus | None, leg2: LegStatus | None) -> str:
    """Who ended the call, as far as statuses tell; the verdict never depends on it.

    Exotel does not record who hung up. A canceled or never-dialled leg 2 means
    the caller went away; a completed call was ended by one of the parties; a
    leg that rang out, was busy or failed was ended by the network.
    """
    last = leg2 if direction == "inbound" or leg1 is LegStatus.COMPLETED else leg1
    if last in (LegStatus.CANCELED, None, LegStatus.COMPLETED):
        return "caller"
    return "system"


def _is_json_lines(text: str) -> bool:
    """True when the first non-blank line is a whole value (or broken, but one line).

    A pretty-printed object or array opens on a line of its own ('{' or '['),
    which never parses alone; a JSON Lines file's first line is a whole object.
    """
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("{") and line.endswith("}"):
            return True
        try:
            json.loads(line)
        except json.JSONDecodeError:
            return False
        return True
    return False


def json_values(text: str) -> Iterator[tuple[int, Any, str | None]]:
    """(line, value, None) for each JSON value of `text`, or (line, None, problem).

    Takes one value (pretty-printed or not), a top-level array of values, or
    values one after another (JSON Lines). After a syntax error it resumes at
    the next line that opens a value, so one bad record costs one message.
    """
    decoder = json.JSONDecoder()
    pos, line, counted = 0, 1, 0
    in_array = False
    end = len(text)
    while True:
        pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= end:
            if in_array:
                line += text.count("\n", counted, pos)
                yield line, None, "the JSON array is not closed with ']'"
            return
        line += text.count("\n", counted, pos)
        counted = pos
        char = text[pos]
        if in_array and char == ",":
            pos += 1
            continue
        if in_array and char == "]":
            in_array = False
            pos += 1
            continue
        if not in_array and char == "[":
            in_array = True
            pos += 1
            continue
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            line += text.count("\n", counted, exc.pos)
            counted = exc.pos
            yield line, None, f"not JSON: {exc.msg}"
            pos = _resume(text, exc.pos)
            continue
        except RecursionError:
            yield line, None, "not JSON we read: nested too deep"
            pos = _resume(text, pos)
            continue
        yield line, value, None


def _resume(text: str, pos: int) -> int:
    """The start of the next line that opens a JSON value (or the end of the text)."""
    while True:
        newline = text.find("\n", pos)
        if newline < 0:
            return len(text)
        pos = newline + 1
        if _VALUE_START.match(text, pos):
            return pos


def read_path(
    adapter: ExotelAdapter, path: str | Path, progress: ReadProgress | None = None
) -> Iterator[LineEvent | LineError]:
    """Every record of a file, or of each file of a directory (in name order)."""
    target = Path(path)
    if str(path) != "-" and target.is_dir():
        files = sorted(p for p in target.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            yield LineError(str(target), 0, "directory holds no files")
        for file in files:
            yield from _read_file(adapter, file, progress)
        return
    yield from _read_file(adapter, path, progress)


def _read_file(
    adapter: ExotelAdapter, path: str | Path, progress: ReadProgress | None
) -> Iterator[LineEvent | LineError]:
    """JSON Lines a line at a time (any size); one JSON document whole, up to `MAX_DOCUMENT`.

    The first line tells which: a JSON Lines file's first line is a whole value.
    """
    source = "<stdin>" if str(path) == "-" else str(path)
    try:
        stream = open_log(path, progress)
    except (OSError, EOFError) as exc:
        yield LineError(source, 0, f"read error: {exc}")
        return
    try:
        head, stream = read_ahead(stream, READ_LIMIT)
        if _is_json_lines(head.decode("utf-8", errors="replace")):
            for line in read_lines(stream, source):
                if isinstance(line, LineError):
                    yield line
                else:
                    yield from adapter.feed(source, *line)
            return
        data = stream.read(MAX_DOCUMENT + 1)
    except (OSError, EOFError) as exc:
        yield LineError(source, 0, f"read error: {exc}")
        return
    finally:
        if source != "<stdin>":
            stream.close()
    if len(data) > MAX_DOCUMENT:
        yield LineError(
            source,
            1,
            f"one JSON document over the {MAX_DOCUMENT >> 20} MiB limit, not read; "
            "give the records as JSON Lines (one per line, any number of lines)",
        )
        return
    yield from adapter.read_text(source, data.decode("utf-8", errors="replace"))
