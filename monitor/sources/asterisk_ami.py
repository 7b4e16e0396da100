"""Asterisk Manager Interface (AMI) events as schema v1 events.

One AMI event is a dict of its headers (``Event``, ``Uniqueid``, ``Queue``...), as
`monitor.sources.ami_wire` splits them from the wire or a recorded session gives
them. `AmiMapper` turns them into schema v1 events with the per-call memory that
needs (which channel is a queued caller, who answered, whether it left the queue);
it does no I/O, so the live client (`monitor.sources.ami_client`) and recorded files
(`AmiAdapter`, format ``asterisk-ami``) share it, and tests feed it real recordings.

A call is the caller's channel, named by its ``Uniqueid``. Events about anything
else (VarSet, Newexten, Newstate... tens per call) are dropped after one dict
look-up and counted by name, never logged one by one. `docs/sources.md` has every
mapping, which ones the real recordings exercise, and which rest on the
documentation alone.

Times: an event's ``Timestamp`` header (``timestampevents = yes`` in manager.conf),
else the moment it was received (`now`, live), else, for recordings made without
timestamps, derived from what the events say: a channel's ``Uniqueid`` is its
creation epoch (a Newchannel's is its very time), AgentConnect's ``HoldTime`` and
AgentComplete's ``TalkTime`` count from the join and the answer. A call's events
never go back in time. Member events (QueueMemberStatus...) carry no Uniqueid: in a
recording they take the latest time learned so far, and before any is learned they
have none. They are not given an invented one (the epoch made them 1970-01-01, which
the hub's plausible window and the agents' day took as ancient): they are held, at
most `HOLD_UNDATED`, until the recording gives a time and dated then; if it never
does, they are counted as skipped, `NO_TIME`, at its end.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from classifier.schema import MAX_CALL_ID, MAX_TEXT, EventError, event_from_dict
from monitor.sources.ami_wire import Block, BlockSplitter
from monitor.sources.asterisk import agent_name
from monitor.sources.log_stream import open_log, read_ahead
from monitor.sources.progress import ReadProgress
from monitor.sources.reader import READ_LIMIT, LineError, LineEvent, skip_rest, too_long
from monitor.sources.tally import SkipTally

FORMAT = "asterisk-ami"

#: Calls (and pre-queue channels) remembered at once; the oldest go first, so a
#: client running for weeks with lost Hangups stays small.
REMEMBER_CALLS = 50_000

#: A recording held as one JSON array is read whole up to this size.
MAX_DOCUMENT = 64 * 1024 * 1024

#: The ``Status`` of QueueMemberStatus / QueueMember (Asterisk's device states).
DEVICE_STATUS = {
    "1": "available",  # AST_DEVICE_NOT_INUSE
    "2": "busy",  # INUSE
    "3": "busy",  # BUSY
    "4": "offline",  # INVALID
    "5": "offline",  # UNAVAILABLE
    "6": "available",  # RINGING: free, a call is being offered
    "7": "busy",  # RINGINUSE
    "8": "busy",  # ONHOLD
}

#: QUEUESTATUS values (set by Queue() when it returns without an answer) that mean
#: the system, not the caller, ended the wait; the cause the call gets.
QUEUE_EXITS = {
    "TIMEOUT": "queue timeout",
    "FULL": "queue full",
    "JOINEMPTY": "queue has no reachable members",
    "LEAVEEMPTY": "queue has no reachable members",
    "JOINUNAVAIL": "queue has no reachable members",
    "LEAVEUNAVAIL": "queue has no reachable members",
}

#: Dialplan applications (Newexten's ``Application``) that say where a caller is.
IVR_APPS = frozenset({"Background", "Read", "WaitExten"})
GREETING_APPS = frozenset({"Playback"})
VOICEMAIL_APPS = frozenset({"VoiceMail"})

#: Why the chatty events (VarSet, Newexten, Newstate...) were set aside.
NOT_QUEUED = "not about a queued call"

#: Member events of a recording held until it gives a time: a QueueStatus answer's
#: members fit; more are counted as skipped (`NO_ROOM`), never held.
HOLD_UNDATED = 1_000

#: Why a held member event was never dated (the recording gave no time at all).
NO_TIME = "no time known: recorded without timestampevents"
NO_ROOM = f"no time known yet and {HOLD_UNDATED:,} undated events held already"

_EPOCH = re.compile(r"(\d{9,11})\.\d+$")


class _Unmapped(Exception):
    """An event about a queued call that cannot be mapped; the message says why."""


@dataclass(slots=True)
class _Call:
    """A queued caller's channel and what its events have said so far."""

    call_id: str
    channel: str
    started: datetime
    last: datetime
    answered: datetime | None = None
    agent: str = ""
    rung: str = ""
    left: bool = False
    exit_cause: str = ""
    voicemail: bool = False
    resynced: bool = False


@dataclass(slots=True)
class _Front:
    """A channel in the IVR or a greeting that has not (yet) joined a queue."""

    first: datetime
    caller: str
    exten: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    menus: set[str] = field(default_factory=set)


class AmiMapper:
    """AMI event dicts in, schema v1 event dicts out (see the module docstring).

    `skipped` counts the events set aside by name and reason; the events not about
    queued calls (the chatty majority) are among them as (name, `NOT_QUEUED`), one
    counter addition each (`dropped(name)` reads one). `resynced` counts calls
    learned from a QueueStatus answer rather than from their join.
    """

    @property
    def mapped(self) -> frozenset[str]:
        """The event names this mapper looks at; every other one is dropped unread."""
        return self._names

    def dropped(self, name: str) -> int:
        """How many `name` events were dropped as not about a queued call."""
        return self.skipped.counts[(name, NOT_QUEUED)]

    def __init__(self) -> None:
        self.skipped = SkipTally()
        # The dropped events go straight into the tally's counter: one addition each.
        self._drop = self.skipped.counts
        self.resynced = 0
        #: Events refused because their call was never seen (nor its queue named).
        self.unseen = 0
        self._calls: OrderedDict[str, _Call] = OrderedDict()
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._front: OrderedDict[str, _Front] = OrderedDict()
        #: The latest time the events have given (None: none yet, in a recording).
        self._clock: datetime | None = None
        #: Member events waiting for a time: (event name, event dict without its ts).
        self._undated: list[tuple[str, dict[str, Any]]] = []
        self._now: datetime | None = None
        self._resync: set[str] | None = None
        self._channels: set[str] | None = None
        self._handlers: dict[str, Callable[[Block], list[dict[str, Any]]]] = {
            "QueueCallerJoin": self._join,
            "Join": self._join,  # Asterisk 11 and older
            "AgentCalled": self._called,
            "AgentRingNoAnswer": self._no_answer,
            "AgentConnect": self._connect,
            "AgentComplete": self._complete,
            "AgentDump": self._dump,
            "QueueCallerAbandon": self._abandon,
            "QueueCallerLeave": self._leave,
            "Leave": self._leave,  # Asterisk 11 and older
            "BlindTransfer": self._blind_transfer,
            "AttendedTransfer": self._attended_transfer,
            "Transfer": self._old_transfer,  # Asterisk 11 and older
            "Hangup": self._hangup,
            "Newexten": self._newexten,
            "VarSet": self._varset,
            "QueueMemberStatus": self._member_status,
            "QueueMember": self._member_status,  # a QueueStatus answer
            "QueueMemberPause": self._member_pause,
            "QueueMemberPaused": self._member_pause,  # Asterisk 11 and older
            "QueueMemberAdded": self._member_status,
            "QueueMemberRemoved": self._member_removed,
            "QueueEntry": self._entry,
            "CoreShowChannel": self._channel,
            "Newchannel": self._new_channel,
        }
        self._names = frozenset(self._handlers)

    # --- the event ----------------------------------------------------------------

    def feed(self, block: Block, now: datetime | None = None) -> list[dict[str, Any]]:
        """The schema v1 event dicts of one AMI message (often none).

        `now`: when it was received (live); None for a recording. Raises
        `ValueError` with a message naming the problem for an event about a queued
        call that cannot be mapped (the caller counts and reports it).
        """
        name = block.get("Event")
        if name is None:
            self._drop[
                ("Response" if "Response" in block else "(no Event header)", NOT_QUEUED)
            ] += 1
            if "Timestamp" in block and now is None:
                # A Ping's answer carries the PBX's time: a recording's clock for the
                # untimed events after it (member states have no Uniqueid to date them).
                self._now = None
                try:
                    self._time(block)
                except _Unmapped as exc:
                    raise ValueError(f"Response: {exc}") from None
                return self._dated()
            return []
        handler = self._handlers.get(name)
        if handler is None:
            self._drop[(name[:64], NOT_QUEUED)] += 1
            return []
        self._now = now
        try:
            out = handler(block)
        except _Unmapped as exc:
            raise ValueError(f"{name}: {exc}") from None
        if self._undated and self._clock is not None:
            return self._dated() + out
        return out

    def finish(self) -> list[dict[str, Any]]:
        """At a recording's end: the held member events, dated if a time came, else
        counted as skipped (`NO_TIME`)."""
        if self._clock is not None:
            return self._dated()
        for name, _event in self._undated:
            self.skipped.add(name, NO_TIME)
        self._undated = []
        return []

    def _dated(self) -> list[dict[str, Any]]:
        """The held member events at the first time learned: they came before it."""
        at, held = self._clock, self._undated
        self._undated = []
        return [event | {"ts": at} for _name, event in held]

    # --- re-sync (QueueStatus, CoreShowChannels) ---------------------------------

    def begin_resync(self) -> None:
        """A QueueStatus answer follows: its QueueEntry events are the callers waiting now."""
        self._resync = set()
        self._channels = set()

    def end_resync(self, now: datetime, channels_known: bool) -> list[dict[str, Any]]:
        """After QueueStatus (and CoreShowChannels, when `channels_known`): end the calls
        that ended while the connection was down, once each.

        A call waiting before is gone when no QueueEntry names it and (if known) its
        channel is gone too; an answered call is gone when its channel is.
        """
        waiting = self._resync or set()
        channels = self._channels if channels_known else None
        self._resync = self._channels = None
        out: list[dict[str, Any]] = []
        for call in list(self._calls.values()):
            if call.call_id in waiting:
                continue
            alive = channels is not None and call.call_id in channels
            if alive or (channels is None and call.answered is not None):
                continue
            if call.answered is None and not call.left and channels is None:
                cause = "gone from the queue while the AMI connection was down"
            else:
                cause = "hung up while the AMI connection was down"
            out.append(self._end(call, now, "caller", cause))
        return out

    def _entry(self, block: Block) -> list[dict[str, Any]]:
        # QueueEntry (QueueStatus answer): Queue, Position, Channel, Uniqueid,
        # CallerIDNum, Wait (seconds in the queue).
        uid = _uid(block)
        if self._resync is not None:
            self._resync.add(uid)
        if uid in self._calls:
            return []
        if uid in self._ended:
            raise _Unmapped(f"call {uid} already ended here, but the PBX lists it as waiting")
        now = self._time(block)
        wait = _seconds(block.get("Wait", ""))
        started = now - timedelta(seconds=wait) if wait else now
        call = self._open(uid, block, started)
        call.resynced = True
        self.resynced += 1
        # Marked (schema: resync_at): what it did before (IVR, agents rung) is unknown.
        caller = self._caller(block, call) | {"resync_at": now}
        return [
            self._event(call, "call.started", started, **caller),
            self._event(call, "queue.entered", started, queue=_queue(block)),
        ]

    def _channel(self, block: Block) -> list[dict[str, Any]]:
        # CoreShowChannel (CoreShowChannels answer): one live channel.
        if self._channels is not None:
            self._channels.add(_uid(block))
        return []

    # --- calls --------------------------------------------------------------------

    def _time(self, block: Block, call: _Call | None = None, after: float = 0.0) -> datetime:
        stamp = block.get("Timestamp")
        if stamp:
            try:
                at = datetime.fromtimestamp(float(stamp), UTC)
            except (ValueError, OverflowError, OSError):
                raise _Unmapped(f"Timestamp {stamp[:40]!r} is not a Unix epoch") from None
        elif self._now is not None:
            at = self._now
        elif call is not None and after:
            at = (call.answered or call.started) + timedelta(seconds=after)
        else:
            match = _EPOCH.search(block.get("Uniqueid", ""))
            if match:
                at = datetime.fromtimestamp(int(match.group(1)), UTC)
            elif self._clock is not None:
                at = self._clock
            else:
                raise _Unmapped(NO_TIME)
        if call is not None:
            at = max(at, call.last)
        self._clock = at if self._clock is None else max(self._clock, at)
        return at

    def _datable(self, block: Block) -> bool:
        """Whether `_time` has a time for `block` (else a recording has given none yet)."""
        return (
            self._clock is not None
            or self._now is not None
            or bool(block.get("Timestamp"))
            or _EPOCH.search(block.get("Uniqueid", "")) is not None
        )

    def _new_channel(self, block: Block) -> list[dict[str, Any]]:
        # Newchannel: not about a queued call (counted so), but its Uniqueid is its own
        # creation time: an untimed recording's clock, for the member events after it.
        self._drop[("Newchannel", NOT_QUEUED)] += 1
        if self._now is None:
            # No time in it (or a bad Timestamp): nothing learned, nothing lost.
            with contextlib.suppress(_Unmapped):
                self._time(block)
        return []

    def _open(self, uid: str, block: Block, started: datetime) -> _Call:
        call = _Call(
            call_id=uid, channel=block.get("Channel", "")[:MAX_TEXT], started=started, last=started
        )
        self._calls[uid] = call
        if len(self._calls) > REMEMBER_CALLS:
            self._calls.popitem(last=False)
        return call

    def _caller(self, block: Block, call: _Call) -> dict[str, Any]:
        fields: dict[str, Any] = {"direction": "inbound", "flow": "incoming"}
        caller = block.get("CallerIDNum", "")
        if caller and caller != "<unknown>":
            fields["from"] = caller[:MAX_TEXT]
        front = self._front.get(call.call_id)
        if front is not None and front.exten:
            fields["to"] = front.exten[:MAX_TEXT]
        return fields

    def _event(self, call: _Call, kind: str, at: datetime, **fields: Any) -> dict[str, Any]:
        at = max(at, call.last)
        call.last = at
        return {"type": kind, "call_id": call.call_id, "ts": at, **fields}

    def _known(self, block: Block) -> _Call:
        uid = _uid(block)
        call = self._calls.get(uid)
        if call is None:
            if uid in self._ended:
                raise _Unmapped(f"call {uid} has already ended")
            self.unseen += 1
            raise _Unmapped(f"call {uid} was never seen joining a queue")
        return call

    def _call_or_open(
        self, block: Block, at_hold: bool = False
    ) -> tuple[_Call, list[dict[str, Any]]]:
        """The call of an event that names its queue; one not seen joining is opened here.

        A recording that starts late, or a recorder that did not subscribe to the
        join (the cacofonisk recordings), still has the call: the event names the
        queue and the caller. Counted as 'joined unseen'.
        """
        uid = _uid(block)
        call = self._calls.get(uid)
        if call is not None:
            return call, []
        if uid in self._ended:
            raise _Unmapped(f"call {uid} has already ended")
        if not block.get("Queue"):
            self.unseen += 1
            raise _Unmapped(f"call {uid} was never seen joining a queue")
        started = self._time(block)
        if at_hold and (block.get("Timestamp") or self._now is not None):
            # Timed by the event: the wait began HoldTime before. Untimed, the time is
            # already the channel's creation (its Uniqueid), which is when it began.
            started -= timedelta(seconds=_seconds(block.get("HoldTime", "")))
        call = self._open(uid, block, started)
        self.skipped.add(block["Event"], "its call's join was not seen: call opened here")
        return call, self._opening(call, block, started)

    def _opening(self, call: _Call, block: Block, at: datetime) -> list[dict[str, Any]]:
        out = [self._event(call, "call.started", at, **self._caller(block, call))]
        front = self._front.pop(call.call_id, None)
        if front is not None:
            for step in front.steps:
                out.append(self._event(call, step.pop("type"), step.pop("ts"), **step))
        out.append(self._event(call, "queue.entered", at, queue=_queue(block)))
        return out

    def _join(self, block: Block) -> list[dict[str, Any]]:
        # QueueCallerJoin: Queue, Position, Count, Channel, Uniqueid, CallerIDNum.
        uid = _uid(block)
        if uid in self._calls:
            raise _Unmapped(f"call {uid} joined a queue it was already in")
        at = self._time(block)
        front = self._front.get(uid)
        started = front.first if front is not None else at
        call = self._open(uid, block, started)
        self._ended.pop(uid, None)
        out = self._opening(call, block, started)
        out[-1]["ts"] = max(at, out[-1]["ts"])
        return out

    def _member(self, block: Block) -> str:
        raw = block.get("MemberName") or block.get("AgentName") or block.get("Interface") or ""
        raw = raw or block.get("AgentCalled") or block.get("Member") or block.get("Name") or ""
        name = agent_name(raw)[:MAX_TEXT]
        if not name:
            raise _Unmapped("no MemberName, Interface or AgentName to name the agent")
        return name

    def _called(self, block: Block) -> list[dict[str, Any]]:
        # AgentCalled: Queue, Uniqueid (the caller), MemberName / AgentName, Interface.
        call, out = self._call_or_open(block)
        agent = self._member(block)
        call.rung = agent
        out.append(self._event(call, "agent.ringing", self._time(block, call), agent=agent))
        return out

    def _no_answer(self, block: Block) -> list[dict[str, Any]]:
        # AgentRingNoAnswer: Queue, Uniqueid, MemberName, RingTime (ms).
        call = self._known(block)
        agent = self._member(block)
        return [self._event(call, "agent.no_answer", self._time(block, call), agent=agent)]

    def _dump(self, block: Block) -> list[dict[str, Any]]:
        # AgentDump: the member hung up during the announcement, before the bridge.
        call = self._known(block)
        agent = self._member(block)
        return [self._event(call, "agent.rejected", self._time(block, call), agent=agent)]

    def _connect(self, block: Block) -> list[dict[str, Any]]:
        # AgentConnect: Queue, Uniqueid, MemberName, HoldTime (s), RingTime (s).
        call, out = self._call_or_open(block, at_hold=True)
        agent = self._member(block)
        at = self._time(block, call, after=_seconds(block.get("HoldTime", "")))
        if call.rung != agent:
            out.append(self._event(call, "agent.ringing", at, agent=agent))
        call.answered, call.agent, call.rung = at, agent, agent
        out.append(self._event(call, "agent.answered", at, agent=agent))
        return out

    def _complete(self, block: Block) -> list[dict[str, Any]]:
        # AgentComplete: Queue, Uniqueid, MemberName, HoldTime, TalkTime, Reason
        # (caller | agent | transfer).
        call = self._known(block)
        at = self._time(block, call, after=_seconds(block.get("TalkTime", "")))
        reason = block.get("Reason", "")
        if reason == "transfer":
            return [
                self._event(call, "call.transferred", at),
                self._end(call, at, "agent", "transferred"),
            ]
        return [self._end(call, at, "agent" if reason == "agent" else "caller", None)]

    def _abandon(self, block: Block) -> list[dict[str, Any]]:
        # QueueCallerAbandon: Queue, Uniqueid, Position, OriginalPosition, HoldTime.
        call, out = self._call_or_open(block, at_hold=True)
        at = self._time(block, call, after=_seconds(block.get("HoldTime", "")))
        out.append(self._end(call, at, "caller", "hung up in the queue"))
        return out

    def _leave(self, block: Block) -> list[dict[str, Any]]:
        # QueueCallerLeave: Queue, Uniqueid, Count, Position. Sent when the caller
        # leaves the queue for any reason (answered too); what ends the call comes
        # after (a QUEUESTATUS, the voicemail, a Hangup).
        call = self._known(block)
        self._time(block, call)
        if call.answered is None:
            call.left = True
        return []

    def _transfer(self, uid: str, block: Block, target: str) -> list[dict[str, Any]]:
        call = self._calls.get(uid)
        if call is None:
            if uid in self._ended:
                raise _Unmapped(f"call {uid} has already ended")
            self._drop[(block["Event"], NOT_QUEUED)] += (
                1  # a transfer of a call that was not queued
            )
            return []
        at = self._time(block, call)
        out = []
        if call.answered is None and call.rung:
            # A transfer needs someone to have the call: the agent last rung took it,
            # though the recorder did not see the AgentConnect.
            call.answered, call.agent = at, call.rung
            out.append(self._event(call, "agent.answered", at, agent=call.rung))
        target = target[:MAX_TEXT]
        out.append(self._event(call, "call.transferred", at, to=target))
        cause = f"transferred to {target}" if target else "transferred"
        out.append(self._end(call, at, "agent", cause))
        return out

    def _blind_transfer(self, block: Block) -> list[dict[str, Any]]:
        # BlindTransfer: TransfereeUniqueid (the caller), Extension, Context, Result.
        if block.get("Result", "Success") != "Success":
            self.skipped.add("BlindTransfer", f"Result {block.get('Result', '')[:40]}")
            return []
        target = "@".join(p for p in (block.get("Extension", ""), block.get("Context", "")) if p)
        return self._transfer(block.get("TransfereeUniqueid", ""), block, target)

    def _attended_transfer(self, block: Block) -> list[dict[str, Any]]:
        # AttendedTransfer: TransfereeUniqueid, TransferTargetCallerIDNum (or
        # SecondTransfererExten), DestType, Result.
        if block.get("Result", "Success") != "Success":
            self.skipped.add("AttendedTransfer", f"Result {block.get('Result', '')[:40]}")
            return []
        target = block.get("TransferTargetCallerIDNum") or block.get("SecondTransfererExten", "")
        return self._transfer(block.get("TransfereeUniqueid", ""), block, target)

    def _old_transfer(self, block: Block) -> list[dict[str, Any]]:
        # Transfer (Asterisk 11): TargetUniqueid (the caller), TransferExten, TransferContext.
        target = "@".join(
            p for p in (block.get("TransferExten", ""), block.get("TransferContext", "")) if p
        )
        return self._transfer(block.get("TargetUniqueid", ""), block, target)

    def _hangup(self, block: Block) -> list[dict[str, Any]]:
        # Hangup: Channel, Uniqueid, Cause, Cause-txt. Only the caller's channel ends a
        # call; every other channel's hangup (agents' legs, Local channels) is dropped.
        uid = block.get("Uniqueid", "")
        self._front.pop(uid, None)
        call = self._calls.get(uid)
        if call is None:
            self._drop[("Hangup", NOT_QUEUED)] += 1
            return []
        at = self._time(block, call)
        cause = block.get("Cause-txt") or None
        if call.exit_cause and not call.voicemail and call.answered is None:
            return [self._end(call, at, "system", call.exit_cause)]
        return [self._end(call, at, "caller", cause)]

    def _end(self, call: _Call, at: datetime, by: str, cause: str | None) -> dict[str, Any]:
        self._calls.pop(call.call_id, None)
        self._ended[call.call_id] = None
        if len(self._ended) > REMEMBER_CALLS:
            self._ended.popitem(last=False)
        fields: dict[str, Any] = {"by": by}
        if cause:
            fields["cause"] = cause[:MAX_TEXT]
        return self._event(call, "call.ended", at, **fields)

    # --- the dialplan: IVR, greetings, voicemail ------------------------------------

    def _newexten(self, block: Block) -> list[dict[str, Any]]:
        # Newexten: Channel, Uniqueid, Context, Extension, Application, AppData.
        app = block.get("Application", "")
        if app not in IVR_APPS and app not in GREETING_APPS and app not in VOICEMAIL_APPS:
            self._drop[("Newexten", NOT_QUEUED)] += 1
            return []
        uid = block.get("Uniqueid", "")
        call = self._calls.get(uid)
        if call is not None:
            if app in VOICEMAIL_APPS and not call.voicemail and call.answered is None:
                call.voicemail = True
                via = "queue" if call.left else "direct"
                return [self._event(call, "voicemail.started", self._time(block, call), via=via)]
            self._drop[("Newexten", NOT_QUEUED)] += 1
            return []
        return self._front_step(uid, app, block)

    def _front_step(self, uid: str, app: str, block: Block) -> list[dict[str, Any]]:
        """A channel not (yet) queued runs an IVR, greeting or voicemail application."""
        if not uid or uid in self._ended:
            self._drop[("Newexten", NOT_QUEUED)] += 1
            return []
        at = self._time(block)
        front = self._front.get(uid)
        if front is None:
            front = _Front(first=at, caller=block.get("CallerIDNum", ""), exten="")
            self._front[uid] = front
            if len(self._front) > REMEMBER_CALLS:
                self._front.popitem(last=False)
        menu = block.get("Context", "")[:MAX_TEXT]
        if app in IVR_APPS and menu not in front.menus:
            front.menus.add(menu)
            front.steps.append({"type": "ivr.entered", "ts": at, "menu": menu or None})
        elif app in GREETING_APPS and not front.steps:
            front.steps.append({"type": "greeting.started", "ts": at, "greeting": "welcome"})
        elif app in VOICEMAIL_APPS and front.steps:
            # Straight to voicemail from the IVR or a greeting, never queued: a call.
            self._front.pop(uid)
            call = self._open(uid, block, front.first)
            out = [self._event(call, "call.started", front.first, **self._caller(block, call))]
            for step in front.steps:
                out.append(self._event(call, step.pop("type"), step.pop("ts"), **step))
            call.voicemail = True
            out.append(self._event(call, "voicemail.started", at, via="direct"))
            return out
        else:
            self._drop[("Newexten", NOT_QUEUED)] += 1
        return []

    def _varset(self, block: Block) -> list[dict[str, Any]]:
        # VarSet: Channel, Uniqueid, Variable, Value. Only QUEUESTATUS says more
        # (why Queue() returned without an answer); VM_... are not needed.
        if block.get("Variable") != "QUEUESTATUS":
            self._drop[("VarSet", NOT_QUEUED)] += 1
            return []
        call = self._calls.get(block.get("Uniqueid", ""))
        cause = QUEUE_EXITS.get(block.get("Value", ""))
        if call is None or cause is None or call.answered is not None:
            self._drop[("VarSet", NOT_QUEUED)] += 1
            return []
        call.left, call.exit_cause = True, cause
        self._time(block, call)
        return []

    # --- agents ---------------------------------------------------------------------

    def _presence(self, block: Block, status: str, reason: str | None) -> list[dict[str, Any]]:
        fields: dict[str, Any] = {
            "type": "agent.status",
            "call_id": "",
            "ts": self._time(block) if self._datable(block) else None,
            "agent": self._member(block),
            "status": status,
        }
        if reason:
            fields["reason"] = reason[:MAX_TEXT]
        if fields["ts"] is not None:
            return [fields]
        # A recording that has given no time yet: held until it does (see the docstring).
        if len(self._undated) >= HOLD_UNDATED:
            self.skipped.add(block["Event"], NO_ROOM)
        else:
            self._undated.append((block["Event"], fields))
        return []

    def _member_status(self, block: Block) -> list[dict[str, Any]]:
        # QueueMemberStatus / QueueMemberAdded / QueueMember: Queue, MemberName (or
        # Name), Interface (or Location), Status (device state), Paused, PausedReason.
        if block.get("Paused") == "1":
            return self._presence(block, "paused", block.get("PausedReason") or None)
        status = DEVICE_STATUS.get(block.get("Status", ""))
        if status is None:
            self.skipped.add(block["Event"], f"device state {block.get('Status', '')[:20]!r}")
            return []
        reason = None
        if block["Event"] == "QueueMemberAdded":
            reason = f"added to queue {block.get('Queue', '')}"
        return self._presence(block, status, reason)

    def _member_pause(self, block: Block) -> list[dict[str, Any]]:
        # QueueMemberPause: Paused (1/0), PausedReason (Reason in older releases).
        if block.get("Paused") == "1":
            reason = block.get("PausedReason") or block.get("Reason") or None
            return self._presence(block, "paused", reason)
        return self._presence(block, "available", None)

    def _member_removed(self, block: Block) -> list[dict[str, Any]]:
        queue = block.get("Queue", "")
        return self._presence(block, "offline", f"removed from queue {queue}" if queue else None)


def _uid(block: Block) -> str:
    uid = block.get("Uniqueid", "").strip()
    if not uid:
        raise _Unmapped("no Uniqueid to name the call")
    if len(uid) > MAX_CALL_ID:
        raise _Unmapped(f"Uniqueid of {len(uid)} characters")
    return uid


def _queue(block: Block) -> str:
    queue = block.get("Queue", "").strip()[:MAX_TEXT]
    if not queue:
        raise _Unmapped("no Queue")
    return queue


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        return 0.0
    return value if 0 <= value <= 86_400 else 0.0


# --- recorded sessions: the asterisk-ami format ----------------------------------------


class AmiAdapter:
    """A recorded AMI session as a source (`monitor.sources.iter_source`).

    Raw text (CRLF or LF; the banner and lines that are not ``Key: Value`` skipped
    and counted) goes through `feed` a line at a time; a JSON array of header
    objects (the cacofonisk recorder's) through `read_path`. Each event is checked
    against the schema; an event that cannot be mapped is a `LineError` at the line
    its block began on, and reading goes on.
    """

    def __init__(self) -> None:
        self.mapper = AmiMapper()
        self.splitter = BlockSplitter()
        #: The mapper's tally; the lines that are not 'Key: Value' join it at `finish`.
        self.skipped = self.mapper.skipped
        self._block_line = 0

    def feed(self, source: str, number: int, raw: bytes) -> list[LineEvent | LineError]:
        """One line of raw AMI text; the events of the block a blank line ends."""
        if not self.splitter.keys:
            self._block_line = number
        block = self.splitter.feed(raw.decode("utf-8", errors="replace"))
        if block is None:
            return []
        return self.block(source, self._block_line, block)

    def finish(self, source: str) -> list[LineEvent | LineError]:
        """The last block of a session that does not end with a blank line, then the
        member events held for a time (`AmiMapper.finish`)."""
        block = self.splitter.finish()
        if self.splitter.stray:
            sample = ", ".join(repr(s) for s in self.splitter.stray_samples[:2])
            self.skipped.add("text", f"lines that are not 'Key: Value' ({sample})")
            self.skipped.counts[("text", f"lines that are not 'Key: Value' ({sample})")] += (
                self.splitter.stray - 1
            )
            self.splitter.stray = 0
        out = [] if block is None else self.block(source, self._block_line, block)
        for held in self.mapper.finish():
            try:
                out.append(LineEvent(source, self._block_line, event_from_dict(held)))
            except EventError as exc:
                out.append(LineError(source, self._block_line, str(exc)))
        return out

    def block(self, source: str, line: int, block: Block) -> list[LineEvent | LineError]:
        """The events of one message (`line`: where it began), or the errors naming why not."""
        out: list[LineEvent | LineError] = []
        flaws = self.splitter.flaws
        if flaws:
            out.append(LineError(source, line, f"AMI message: {'; '.join(flaws)} (cut)"))
            self.splitter.flaws = []
        try:
            dicts = self.mapper.feed(block)
            out.extend(LineEvent(source, line, event_from_dict(d)) for d in dicts)
        except (ValueError, EventError) as exc:
            out.append(LineError(source, line, str(exc)))
        return out


def read_path(
    adapter: AmiAdapter, path: str | Path, progress: ReadProgress | None = None
) -> Iterator[LineEvent | LineError]:
    """Every event of a recorded session: raw AMI text, or a JSON array of event objects."""
    source = "<stdin>" if str(path) == "-" else str(path)
    try:
        stream = open_log(path, progress)
    except (OSError, EOFError) as exc:
        yield LineError(source, 0, f"read error: {exc}")
        return
    try:
        head, stream = read_ahead(stream, READ_LIMIT)
        if head.lstrip()[:1] == b"[":
            data = stream.read(MAX_DOCUMENT + 1)
            yield from _json_array(adapter, source, data)
            yield from adapter.finish(source)
            return
        # Not `read_lines`: the blank lines that end AMI messages matter here.
        readline = stream.readline
        mapped = adapter.mapper.mapped
        drop = adapter.mapper.skipped.counts
        feed = adapter.feed
        skipping = False
        for number, raw in enumerate(iter(partial(readline, READ_LIMIT), b""), start=1):
            if len(raw) >= READ_LIMIT and not raw.endswith(b"\n"):
                yield LineError(source, number, too_long(skip_rest(readline, raw)))
                continue
            if skipping:
                # The rest of a message no handler wants: only its end matters.
                skipping = not (raw == b"\r\n" or raw == b"\n" or not raw.strip())
                continue
            if raw.startswith(b"Event: ") and not adapter.splitter.keys:
                # The chatty majority is dropped on its first line, never split.
                name = raw[7:].strip().decode("utf-8", errors="replace")
                if name not in mapped:
                    drop[(name[:64], NOT_QUEUED)] += 1
                    skipping = True
                    continue
            events = feed(source, number, raw)
            if events:
                yield from events
        yield from adapter.finish(source)
    except (OSError, EOFError) as exc:
        yield LineError(source, 0, f"read error: {exc}")
    finally:
        if source != "<stdin>":
            stream.close()


def _json_array(adapter: AmiAdapter, source: str, data: bytes) -> Iterator[LineEvent | LineError]:
    if len(data) > MAX_DOCUMENT:
        yield LineError(source, 0, f"a JSON recording over {MAX_DOCUMENT // 2**20} MB")
        return
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:
        yield LineError(source, 0, f"not a JSON array of AMI events: {str(exc)[:120]}")
        return
    if not isinstance(value, list):
        yield LineError(source, 0, "not a JSON array of AMI events")
        return
    for index, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            yield LineError(source, index, f"item {index} is not an object of AMI headers")
            continue
        block = {str(k): v if isinstance(v, str) else str(v) for k, v in item.items()}
        yield from adapter.block(source, index, block)
