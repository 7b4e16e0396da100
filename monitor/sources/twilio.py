"""Twilio's webhooks as schema v1 events: TaskRouter event callbacks and Voice status callbacks.

Pure mappings from a delivery's form parameters to events, testable without HTTP
(the receiver, `monitor.hooks.server`, checks ``X-Twilio-Signature`` first). The
parameters are those of Twilio's "TaskRouter Events reference" (EventCallbackUrl)
and "Voice status callbacks" (StatusCallback); `docs/sources.md` lists each one
and its mapping.

TaskRouter is where a centre's queues and agents are: a task is a call waiting
for an agent, its task queue is our queue, a worker is our agent, and a
reservation is a worker being offered the call. Voice status callbacks say how
the caller's call went through the network (its final CallStatus, its duration).

One phone call, one call id. A voice task made by ``<Enqueue>`` carries the
caller's CallSid in its attributes (``call_sid``: TaskRouter's error 40142 names
it), and every TaskRouter event of a task carries the task's attributes (the
Events reference's "Task" field data), so a task with a ``call_sid`` is the call
``twilio:CallSid``, the very id its Voice callbacks give: the mapping alone links
them, whichever arrives first. `taskrouter_events` and `voice_events` are
stateless; `TwilioCalls`, which the receiver uses, adds what the two webhooks
cannot each know alone, in bounded memory: a call is started by the first
``call.started`` either webhook gives and ended by the first ``call.ended`` (every
later delivery of the call gives those same two events again, which the hub's
tracker ignores as duplicates, so a retried or a lost-then-retried delivery is
harmless), a task delivery without attributes goes to the call its task was
linked to, and a call a task answered takes its agent from TaskRouter, not from
Voice's ``To``. `docs/sources.md` ("Twilio: one call from both webhooks") has
the orders of arrival and what each gives.

Webhooks are not ordered, and a Voice final callback (``completed``...) can
arrive before the task's events: ending the call there made the hub refuse the
task's queue and reservations, and whether the caller reached a queue or an
agent is what tells missed from abandoned. So `TwilioCalls` holds a Voice final's
end (not its start) for `FINAL_GRACE_S` seconds of arrival, unless the call's
task has already ended: the task's events land on the open call meanwhile, the
task's own end releases it at once, and a call with no task (a hang-up in the
IVR) ends when the grace is over (`due`, which the receiver calls every tick).
The same verdict whatever the order, at the cost of a call with no task showing
as in progress for the grace after it ended. Held ends are bounded
(`HOLD_ENDS`; over it the oldest is released early, never dropped).
"""

from __future__ import annotations

import json
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from classifier.schema import (
    MAX_CALL_ID,
    MAX_TEXT,
    AgentAnswered,
    AgentStatus,
    CallEnded,
    CallStarted,
    Event,
    EventError,
    event_from_dict,
)
from monitor.sources.delivery import BadDelivery, NotShown, vendor_time
from monitor.sources.recent import Recent, RecentMap

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

#: How many calls `TwilioCalls` remembers (their first start and end, their tasks):
#: as many as the hub's tracker remembers ended calls, so a late delivery of a call
#: the hub can still recognise is still linked. 2.3 kB a call (tracemalloc): 47 MB full.
REMEMBER_LINKS = 20_000

#: How long (seconds, on the receiver's clock: arrival, not event time) a Voice final
#: callback's end waits for its call's task events. Twilio sends the webhooks of one
#: moment within a second or two of each other, in any order; ten seconds covers
#: that with room, and is the longest a call with no task (a hang-up in the IVR)
#: stays on the board as in progress after it ended. A delivery later than that (a
#: retry after a failed one) is refused by the hub as after the call's end.
FINAL_GRACE_S = 10.0

#: Voice ends held at once; over it the oldest is released before its grace is over.
HOLD_ENDS = 10_000

#: TaskRouter events of a task (their deliveries carry the task's fields).
_TASK_EVENTS = frozenset(
    {"task.created", "task-queue.entered", "task.canceled", "task.completed", *_RESERVATION_EVENTS}
)


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


def _call_id(sid: str) -> str:
    return ID_PREFIX + sid[: MAX_CALL_ID - len(ID_PREFIX)]


def task_call_id(attributes: Mapping[str, Any]) -> str | None:
    """The call id of a task whose attributes carry the caller's ``call_sid``, else None."""
    call_sid = attributes.get("call_sid")
    if isinstance(call_sid, str) and call_sid.strip():
        return _call_id(call_sid.strip())
    return None


def taskrouter_events(
    params: Mapping[str, Any], linked: Callable[[str], str | None] | None = None
) -> list[Event]:
    """The events of one TaskRouter event callback (`BadDelivery`, `NotShown` otherwise).

    A task's call id is ``twilio:`` + the ``call_sid`` of its attributes (the Voice
    call it is), else what `linked` says for its TaskSid (a call id an earlier
    delivery of the task gave), else ``twilio:`` + TaskSid.
    """
    kind = _required(params, "EventType")
    ts = vendor_time(params.get("Timestamp"), "Timestamp")
    if kind == "worker.activity.update":
        return [_presence(params, ts)]
    if kind not in _TASK_EVENTS:
        raise NotShown(f"TaskRouter event {kind[:60]!r} is not shown on the board")
    task = _required(params, "TaskSid")
    attributes = _attributes(params)
    call_id = task_call_id(attributes) or (linked(task) if linked else None) or _call_id(task)
    if kind == "task.created":
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


def voice_events(params: Mapping[str, Any]) -> list[Event]:
    """The events one Voice status callback attests (`BadDelivery`, `NotShown` otherwise).

    Every callback gives the call's ``call.started`` (at its Timestamp while the
    call is going; when it has ended, CallDuration seconds before); a final status
    also ends it. An outbound call that completed was answered by the number it
    called, CallDuration seconds before it ended. A child leg (ParentCallSid) is
    part of its parent's call, which has callbacks of its own. Stateless: which of
    a call's starts counts is `TwilioCalls`' business.
    """
    sid = _required(params, "CallSid")
    status = _required(params, "CallStatus").lower()
    if _text(params, "ParentCallSid"):
        raise NotShown("a child leg (ParentCallSid): its parent call counts")
    if status not in VOICE_LIVE and status not in VOICE_ENDED:
        raise BadDelivery(f"field 'CallStatus': {status[:40]!r} is not a Twilio call status")
    ts = vendor_time(params.get("Timestamp"), "Timestamp")
    call_id = _call_id(sid)
    outbound = _text(params, "Direction").lower().startswith("outbound")
    duration = _seconds(params.get("CallDuration"))
    answered_at = ts - timedelta(seconds=duration)
    started: dict[str, Any] = {
        "type": "call.started",
        "call_id": call_id,
        "ts": ts if status in VOICE_LIVE else answered_at,
        "direction": "outbound" if outbound else "inbound",
    }
    for ours, theirs in (("from", "From"), ("to", "To")):
        if _text(params, theirs):
            started[ours] = _text(params, theirs)
    out = [_event(started)]
    if status in VOICE_LIVE:
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
    return out


class TwilioCalls:
    """Twilio's two webhooks as one call per phone call (the receiver holds one).

    The mappings link a task to its Voice call by the ``call_sid`` in the task's
    attributes; this keeps what neither webhook knows alone, for `REMEMBER_LINKS`
    calls: each call's first ``call.started`` and first ``call.ended``, given
    again in place of any other start or end of the call (two webhooks, two views
    of when the call began and who ended it: the first to arrive counts, and the
    hub sees one start and one end, repeated as duplicates); the call a task was
    linked to, for a delivery of the task without attributes; the calls a task
    answered, whose agent is the TaskRouter worker, not Voice's ``To`` number.
    """

    def __init__(
        self, limit: int = REMEMBER_LINKS, grace: float = FINAL_GRACE_S, hold: int = HOLD_ENDS
    ) -> None:
        self._call_of_task: RecentMap[str] = RecentMap(limit)
        self._tasked = Recent(limit)
        self._starts: RecentMap[Event] = RecentMap(limit)
        self._ends: RecentMap[Event] = RecentMap(limit)
        #: Calls whose task has ended (canceled or completed): nothing more to wait for.
        self._task_ended = Recent(limit)
        #: call id -> (release time, the Voice final's events after its start).
        self._held: OrderedDict[str, tuple[float, list[Event]]] = OrderedDict()
        self._grace = grace
        self._hold = hold
        #: Voice ends held (``twilio_ends_held``) and those applied without their task's
        #: end (``twilio_ends_without_task``: the grace over, or the hold full): /health.
        self.counts: Counter[str] = Counter()

    @property
    def held(self) -> int:
        """Voice ends waiting for their task now."""
        return len(self._held)

    def taskrouter(self, params: Mapping[str, Any]) -> list[Event]:
        """The events of one TaskRouter event callback, linked to its Voice call.

        A task's end also releases its call's held Voice end (it is the end it gives,
        the first to have arrived).
        """
        events = taskrouter_events(params, self._call_of_task.get)
        task = _text(params, "TaskSid")
        if task and events and not isinstance(events[0], AgentStatus):
            call_id = events[0].call_id
            if call_id != _call_id(task):
                self._call_of_task.setdefault(task, call_id)
                self._tasked.add(call_id)
            if type(events[-1]) is CallEnded:
                self._task_ended.add(call_id)
                # Its held events are the first end, which `_settled` gives here, and
                # Voice's agent, which a task's worker replaces.
                self._held.pop(call_id, None)
        return self._settled(events)

    def voice(self, params: Mapping[str, Any], now: float) -> list[Event]:
        """The events of one Voice status callback, as the call's first start and end.

        A final callback's end is held until the call's task ends or `now` + the
        grace (see the module docstring); its start is given at once.
        """
        events = voice_events(params)
        call_id = events[0].call_id
        if call_id in self._tasked:
            events = [e for e in events if type(e) is not AgentAnswered]
        events = self._settled(events)
        start, final = events[:1], events[1:]
        if not final or call_id in self._task_ended:
            return events
        if call_id in self._held:
            return start  # a retry: its end is held already
        self._held[call_id] = (now + self._grace, final)
        self.counts["twilio_ends_held"] += 1
        if len(self._held) > self._hold:
            _, (_, oldest) = self._held.popitem(last=False)
            self.counts["twilio_ends_without_task"] += 1
            return start + self._release(oldest)
        return start

    def due(self, now: float) -> list[Event]:
        """The held Voice ends whose grace is over at `now` (all of them at `math.inf`)."""
        out: list[Event] = []
        while self._held:
            call_id, (until, final) = next(iter(self._held.items()))
            if until > now:
                break  # held in arrival order, all with the same grace
            del self._held[call_id]
            self.counts["twilio_ends_without_task"] += 1
            out.extend(self._release(final))
        return out

    def _release(self, final: list[Event]) -> list[Event]:
        if final and final[0].call_id in self._tasked:
            # A task came meanwhile: its worker is the agent, not Voice's To.
            return [e for e in final if type(e) is not AgentAnswered]
        return final

    def _settled(self, events: list[Event]) -> list[Event]:
        out = []
        for event in events:
            kind = type(event)
            if kind is CallStarted:
                event = self._starts.setdefault(event.call_id, event)
            elif kind is CallEnded:
                event = self._ends.setdefault(event.call_id, event)
            out.append(event)
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
