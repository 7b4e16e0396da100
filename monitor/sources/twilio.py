"""Twilio's webhooks as schema v1 events: TaskRouter event callbacks and Voice status callbacks.

Pure mappings from a delivery's form parameters to events, testable without HTTP
(the receiver, `monitor.hooks.server`, checks ``X-Twilio-Signature`` first). The
parameters are those of Twilio's "TaskRouter Events reference" (EventCallbackUrl)
and "Voice status callbacks" (StatusCallback); `docs/sources.md` lists each one
and its mapping.

TaskRouter is where a centre's queues and agents are: a task is a call waiting
for an agent, its task queue is our queue, a worker is our agent, and a
reservation is a worker being offered the call. Every TaskRouter mapping is
stateless, so a retried delivery gives the very same events, which the hub's
tracker ignores as duplicates. Voice status callbacks say only how a call went
through the network; they keep one bounded set (calls already started) because
a call's first callback can be any of queued, initiated, ringing or in-progress.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from classifier.schema import MAX_TEXT, Event, EventError, event_from_dict
from monitor.sources.delivery import BadDelivery, NotShown, vendor_time
from monitor.sources.recent import Recent

#: Prefix of every Twilio call id, so that a TaskSid or CallSid cannot collide
#: with another vendor's id on the same hub.
ID_PREFIX = "twilio:"

#: TaskRouter event types mapped to the agent event of the worker in the delivery.
_RESERVATION_EVENTS = {
    "reservation.created": "agent.ringing",
    "reservation.accepted": "agent.answered",
    "reservation.rejected": "agent.rejected",
    # The reservation timed out: the worker was offered the call and did not answer.
    "reservation.timeout": "agent.no_answer",
}

#: Activity names (lower case) that are a presence state of ours; any other
#: activity is a pause, with the activity's name as the reason.
_ACTIVITIES = {
    "available": "available",
    "idle": "available",
    "ready": "available",
    "offline": "offline",
    "busy": "busy",
    "on a call": "busy",
    "wrap up": "wrap_up",
    "wrapup": "wrap_up",
    "wrap-up": "wrap_up",
    "wrapping": "wrap_up",
}

#: Voice CallStatus values of a call still going, and of a call that ended.
VOICE_LIVE = frozenset({"queued", "initiated", "ringing", "in-progress"})
VOICE_ENDED = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


def _text(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    return "" if value is None else str(value).strip()[:MAX_TEXT]


def _required(params: Mapping[str, Any], name: str) -> str:
    value = _text(params, name)
    if not value:
        raise BadDelivery(f"missing field {name!r}")
    return value


def _event(data: dict[str, Any]) -> Event:
    try:
        return event_from_dict(data)
    except EventError as exc:
        raise BadDelivery(str(exc)) from None


def _attributes(params: Mapping[str, Any]) -> dict[str, Any]:
    """TaskAttributes, a JSON object in a string; anything else gives no attributes."""
    raw = params.get("TaskAttributes")
    if not raw:
        return {}
    try:
        value = json.loads(str(raw))
    except (json.JSONDecodeError, RecursionError):
        raise BadDelivery("field 'TaskAttributes': not JSON") from None
    return value if isinstance(value, dict) else {}


def taskrouter_events(params: Mapping[str, Any]) -> list[Event]:
    """The events of one TaskRouter event callback (`BadDelivery`, `NotShown` otherwise)."""
    kind = _required(params, "EventType")
    ts = vendor_time(params.get("Timestamp"), "Timestamp")
    if kind == "worker.activity.update":
        return [_presence(params, ts)]
    if kind not in _RESERVATION_EVENTS and kind not in (
        "task.created",
        "task-queue.entered",
        "task.canceled",
        "task.completed",
    ):
        raise NotShown(f"TaskRouter event {kind[:60]!r} is not shown on the board")
    call_id = ID_PREFIX + _required(params, "TaskSid")
    if kind == "task.created":
        attributes = _attributes(params)
        started: dict[str, Any] = {
            "type": "call.started",
            "call_id": call_id,
            # The creation time, when given, is the same in every delivery of this task.
            "ts": vendor_time(params["TaskDateCreated"], "TaskDateCreated")
            if params.get("TaskDateCreated")
            else ts,
            "direction": "outbound"
            if str(attributes.get("direction", "")).lower().startswith("outbound")
            else "inbound",
        }
        for ours, theirs in (("from", ("from", "caller")), ("to", ("to", "called"))):
            value = next((attributes[k] for k in theirs if attributes.get(k)), None)
            if isinstance(value, str):
                started[ours] = value[:MAX_TEXT]
        return [_event(started)]
    if kind == "task-queue.entered":
        queue = _text(params, "TaskQueueName") or _required(params, "TaskQueueSid")
        return [_event({"type": "queue.entered", "call_id": call_id, "ts": ts, "queue": queue})]
    if kind in _RESERVATION_EVENTS:
        agent = _text(params, "WorkerName") or _required(params, "WorkerSid")
        kind = _RESERVATION_EVENTS[kind]
        return [_event({"type": kind, "call_id": call_id, "ts": ts, "agent": agent})]
    # task.canceled: the task went before any reservation was accepted, which for a
    # voice task is the caller hanging up while waiting; the rules call it abandoned
    # because no agent answered. task.completed: the agent finished the call.
    canceled = kind == "task.canceled"
    reason = _text(params, "TaskCanceledReason" if canceled else "TaskCompletedReason")
    ended: dict[str, Any] = {
        "type": "call.ended",
        "call_id": call_id,
        "ts": ts,
        "by": "caller" if canceled else "agent",
    }
    if reason:
        ended["cause"] = reason
    return [_event(ended)]


def _presence(params: Mapping[str, Any], ts: Any) -> Event:
    agent = _text(params, "WorkerName") or _required(params, "WorkerSid")
    activity = _required(params, "WorkerActivityName")
    status = _ACTIVITIES.get(activity.lower())
    data: dict[str, Any] = {
        "type": "agent.status",
        "agent": agent,
        "ts": ts,
        "status": status or "paused",
    }
    if status is None:
        data["reason"] = activity
    return _event(data)


class VoiceCalls:
    """Voice status callbacks to events; remembers (boundedly) the calls already started."""

    def __init__(self) -> None:
        self._started = Recent()

    def events(self, params: Mapping[str, Any]) -> list[Event]:
        """The events of one Voice status callback (`BadDelivery`, `NotShown` otherwise).

        The first callback of a call starts it (at its Timestamp); a final status
        ends it. An outbound call that completed was answered by the number it
        called, CallDuration seconds before it ended. A child leg (ParentCallSid)
        is part of its parent's call, which has callbacks of its own.
        """
        sid = _required(params, "CallSid")
        status = _required(params, "CallStatus").lower()
        if _text(params, "ParentCallSid"):
            raise NotShown("a child leg (ParentCallSid): its parent call counts")
        if status not in VOICE_LIVE and status not in VOICE_ENDED:
            raise BadDelivery(f"field 'CallStatus': {status[:40]!r} is not a Twilio call status")
        ts = vendor_time(params.get("Timestamp"), "Timestamp")
        call_id = ID_PREFIX + sid
        outbound = _text(params, "Direction").lower().startswith("outbound")
        duration = _seconds(params.get("CallDuration"))
        answered_at = ts - timedelta(seconds=duration)
        out: list[Event] = []
        if sid not in self._started:
            started: dict[str, Any] = {
                "type": "call.started",
                "call_id": call_id,
                "ts": ts if status in VOICE_LIVE else answered_at,
                "direction": "outbound" if outbound else "inbound",
            }
            for ours, theirs in (("from", "From"), ("to", "To")):
                if _text(params, theirs):
                    started[ours] = _text(params, theirs)
            out.append(_event(started))
        if status in VOICE_LIVE:
            self._started.add(sid)
            return out
        if outbound and status == "completed" and duration > 0:
            agent = _text(params, "To") or "callee"
            answered = {"type": "agent.answered", "call_id": call_id, "agent": agent}
            out.append(_event({**answered, "ts": answered_at}))
        out.append(
            _event(
                {
                    "type": "call.ended",
                    "call_id": call_id,
                    "ts": ts,
                    "by": "caller" if status in ("completed", "canceled") else "system",
                    "cause": status,
                }
            )
        )
        self._started.add(sid)
        return out


def _seconds(value: Any) -> float:
    if value is None or value == "":
        return 0.0
    try:
        seconds = float(str(value))
    except ValueError:
        raise BadDelivery(f"field 'CallDuration': {str(value)[:40]!r} is not a number") from None
    if not 0 <= seconds < 86_400:
        raise BadDelivery(f"field 'CallDuration': {seconds:g} is not a call's seconds")
    return seconds
