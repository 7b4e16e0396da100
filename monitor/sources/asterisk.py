"""Asterisk queue_log lines as schema v1 events.

Each line of `/var/log/asterisk/queue_log` reads
``epoch|callid|queue|agent|EVENT|data1|data2|...``; the data fields of every
event are listed on Asterisk's "Queue Logs" documentation page, and the
comment on each handler below names the layout it expects (older releases
log fewer trailing fields; every trailing field is optional here).

The adapter says what the line says and nothing more: which agent was rung
and for how long, who answered, who hung up, when the queue gave up. The
classifier decides what that makes the call. `docs/sources.md` has the full
mapping and what a queue_log cannot see.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from classifier.schema import MAX_TEXT, EventError, event_from_dict
from monitor.sources.reader import MAX_LINE, LineError, LineEvent, too_long
from monitor.sources.tally import SkipTally

FORMAT = "asterisk-queue-log"

#: Call ids the queue_log uses for lines that belong to no call.
NO_CALL = frozenset({"", "NONE", "MANAGER", "REALTIME"})

#: How many calls the adapter remembers, to tell a caller's second visit to a
#: queue from a late line. Bounded so a follower running for weeks stays small.
REMEMBER_CALLS = 50_000


class _Malformed(Exception):
    """The line breaks the layout of its event; the message says how."""


class _SetAside(Exception):
    """A known line that carries nothing the board needs; the message says why."""


@dataclass(slots=True)
class _Visit:
    """The queue visit a callid currently stands for."""

    call_id: str
    last: datetime
    visit: int = 1
    ended: bool = False


@dataclass(frozen=True, slots=True)
class _Line:
    ts: datetime
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]

    def field(self, index: int) -> str:
        """Data field `index` (1-based, as the documentation counts), '' when absent."""
        return self.data[index - 1].strip() if len(self.data) >= index else ""


def agent_name(raw: str) -> str:
    """One name per person, whichever way the log spells the member.

    The same agent appears as ``Agent/1127`` (agent and call lines),
    ``Local/1127@callback-agent`` (queue membership) or ``SIP/1127``; presence
    needs them to be one agent, so the technology prefix and the dial context
    go and ``1127`` stays. A member name without a slash (``log_membername_as_agent``)
    is kept as it is.
    """
    name = raw.strip()
    if "/" in name:
        name = name.split("/", 1)[1]
    name = name.split("@", 1)[0].split("/", 1)[0]
    return name or raw.strip()


#: Longest ring or hold time taken at its word, in seconds: a day. Anything
#: longer is a broken field, not a patient caller.
MAX_DURATION_S = 86_400.0


def _number(text: str, what: str, unit: float = 1.0) -> float | None:
    """A duration field in seconds (`unit` converts: 0.001 for ms), None when empty."""
    if not text:
        return None
    try:
        value = float(text) * unit
    except ValueError:
        raise _Malformed(f"{what} {text[:40]!r} is not a number") from None
    if not 0 <= value <= MAX_DURATION_S:
        raise _Malformed(f"{what} {text[:40]!r} is not between 0 and a day")
    return value


class QueueLogAdapter:
    """Turns queue_log lines into events, one line at a time (for files and followers)."""

    def __init__(self) -> None:
        self.skipped = SkipTally()
        self._visits: OrderedDict[str, _Visit] = OrderedDict()
        self._members: dict[str, set[str]] = {}
        self._dids: dict[str, str] = {}
        self._handlers: dict[str, Callable[[_Line], list[dict[str, Any]]]] = {
            "ENTERQUEUE": self._enter,
            "DID": self._did,
            "RINGNOANSWER": self._ring_no_answer,
            "RINGCANCELED": self._ring_canceled,
            "AGENTDUMP": self._agent_dump,
            "CONNECT": self._connect,
            "COMPLETECALLER": self._complete,
            "COMPLETEAGENT": self._complete,
            "ABANDON": self._abandon,
            "EXITWITHTIMEOUT": self._system_exit,
            "EXITEMPTY": self._system_exit,
            "EXITWITHKEY": self._exit_with_key,
            "TRANSFER": self._transfer,
            "BLINDTRANSFER": self._transfer,
            "ATTENDEDTRANSFER": self._transfer,
            "ADDMEMBER": self._add_member,
            "REMOVEMEMBER": self._remove_member,
            "PAUSE": self._pause,
            "PAUSEALL": self._pause,
            "UNPAUSE": self._unpause,
            "UNPAUSEALL": self._unpause,
            "AGENTLOGIN": self._login,
            "AGENTCALLBACKLOGIN": self._login,
            "AGENTLOGOFF": self._logoff,
            "AGENTCALLBACKLOGOFF": self._logoff,
        }

    # --- the line ---------------------------------------------------------------

    def feed(self, source: str, number: int, raw: bytes) -> list[LineEvent | LineError]:
        """The events of one line (possibly none), or an error naming what is wrong."""
        if len(raw) > MAX_LINE:
            return [LineError(source, number, too_long(len(raw.rstrip(b"\r\n"))))]
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not text.strip():
            return []
        try:
            line = self._split(text)
        except _Malformed as exc:
            return [LineError(source, number, str(exc))]
        handler = self._handlers.get(line.event)
        if handler is None:
            self._skip_other(line, number)
            return []
        try:
            events = [event_from_dict(d) for d in handler(line)]
        except _SetAside as exc:
            self.skipped.add(line.event, str(exc), number)
            return []
        except (_Malformed, EventError) as exc:
            return [LineError(source, number, f"{line.event}: {exc}")]
        except (OverflowError, ValueError) as exc:
            # A time pushed out of range by its data (an epoch near the end of time).
            return [LineError(source, number, f"{line.event}: time out of range ({exc})")]
        return [LineEvent(source, number, e) for e in events]

    @staticmethod
    def _split(text: str) -> _Line:
        fields = text.split("|")
        if len(fields) < 5:
            raise _Malformed(
                f"{len(fields)} '|'-separated fields, a queue_log line has at least 5 "
                "(epoch|callid|queue|agent|EVENT)"
            )
        epoch_text = fields[0].strip()
        try:
            epoch = float(epoch_text)
            ts = datetime.fromtimestamp(epoch, UTC)
        except (ValueError, OverflowError, OSError):
            raise _Malformed(f"time {epoch_text[:40]!r} is not a Unix epoch") from None
        event = fields[4].strip()
        if not event:
            raise _Malformed("the event name (5th field) is empty")
        if len(event) > 64:
            raise _Malformed(f"event name of {len(event)} characters is not a queue_log event")
        return _Line(
            ts=ts,
            callid=fields[1].strip(),
            queue=fields[2].strip(),
            agent=fields[3].strip(),
            event=event,
            data=tuple(fields[5:]),
        )

    def _skip_other(self, line: _Line, number: int) -> None:
        if line.event.startswith("OUT"):
            why = "an outbound-dialling add-on's line, not a queue event"
        elif line.event in ("QUEUESTART", "CONFIGRELOAD"):
            why = "start-up or reload marker, no call in it"
        elif line.event == "SYSCOMPAT":
            why = "channels could not be bridged; the next line tells the rest"
        elif line.event == "INFO":
            why = "informational line, no call event in it"
        else:
            why = "not a queue_log event callboard knows"
        self.skipped.add(line.event[:64], why, number)

    # --- calls ------------------------------------------------------------------

    def _visit(self, line: _Line) -> _Visit:
        """The call a call line belongs to (a line for an unseen callid opens one)."""
        if line.callid in NO_CALL:
            raise _Malformed(f"a call event needs a call id, got {line.callid!r}")
        visit = self._visits.get(line.callid)
        if visit is None:
            visit = _Visit(call_id=line.callid, last=line.ts)
            self._remember(line.callid, visit)
        return visit

    def _remember(self, callid: str, visit: _Visit) -> None:
        self._visits[callid] = visit
        self._visits.move_to_end(callid)
        if len(self._visits) > REMEMBER_CALLS:
            oldest, _ = self._visits.popitem(last=False)
            self._dids.pop(oldest, None)

    def _event(self, visit: _Visit, kind: str, at: datetime, **fields: Any) -> dict[str, Any]:
        # A call's events never go back in time: ring starts computed from a ring
        # time are clamped to the call's previous event (the log has 1 s resolution).
        at = max(at, visit.last)
        visit.last = at
        return {"type": kind, "call_id": visit.call_id, "ts": at, **fields}

    def _queue(self, line: _Line) -> str:
        if line.queue in ("", "NONE"):
            raise _Malformed("a call event needs a queue name, got 'NONE'")
        return line.queue[:MAX_TEXT]

    def _agent(self, line: _Line) -> str:
        if line.agent in ("", "NONE"):
            raise _Malformed("this event needs an agent, got 'NONE'")
        return agent_name(line.agent)[:MAX_TEXT]

    def _did(self, line: _Line) -> list[dict[str, Any]]:
        # DID(number), logged before ENTERQUEUE by Asterisk 1.8 and later: the
        # number the caller dialled, kept for the call's `to`.
        if line.callid not in NO_CALL and line.field(1):
            self._dids[line.callid] = line.field(1)[:MAX_TEXT]
            if len(self._dids) > REMEMBER_CALLS:
                # A DID whose call never queued: forget the oldest.
                self._dids.pop(next(iter(self._dids)))
        return []

    def _enter(self, line: _Line) -> list[dict[str, Any]]:
        # ENTERQUEUE(url|callerid|origposition[|calleridname]); releases before
        # 1.4 log only url|callerid. A log that dropped the url field has the
        # caller id first: a URL is told apart by its scheme.
        queue = self._queue(line)
        caller = line.field(2)
        if not caller and "://" not in line.field(1):
            caller = line.field(1)
        if line.callid in NO_CALL:
            raise _Malformed(f"a call event needs a call id, got {line.callid!r}")
        visit = self._visits.get(line.callid)
        out: list[dict[str, Any]] = []
        if visit is None or visit.ended:
            # A callid seen before and already ended is the caller's next queue
            # visit (sent on by the dialplan): a call of its own, with its own id.
            number = 1 if visit is None else visit.visit + 1
            call_id = line.callid if number == 1 else f"{line.callid}#{number}"
            visit = _Visit(call_id=call_id, last=line.ts, visit=number)
            self._remember(line.callid, visit)
            started: dict[str, Any] = {"direction": "inbound", "flow": "incoming"}
            if caller:
                started["from"] = caller[:MAX_TEXT]
            did = self._dids.pop(line.callid, None)
            if did:
                started["to"] = did
            out.append(self._event(visit, "call.started", line.ts, **started))
        out.append(self._event(visit, "queue.entered", line.ts, queue=queue))
        return out

    def _ring_no_answer(self, line: _Line) -> list[dict[str, Any]]:
        # RINGNOANSWER(ringtime): the member rang for ringtime ms and did not pick up.
        visit = self._visit(line)
        agent = self._agent(line)
        ring_s = _number(line.field(1), "ring time", unit=0.001)
        rang_at = line.ts if ring_s is None else _minus(line.ts, ring_s)
        return [
            self._event(visit, "agent.ringing", rang_at, agent=agent),
            self._event(visit, "agent.no_answer", line.ts, agent=agent),
        ]

    def _ring_canceled(self, line: _Line) -> list[dict[str, Any]]:
        # RINGCANCELED(ringtime): the caller hung up while this member was ringing.
        # Only the ringing is said here; the ABANDON line that follows ends the call.
        visit = self._visit(line)
        agent = self._agent(line)
        ring_s = _number(line.field(1), "ring time", unit=0.001)
        rang_at = line.ts if ring_s is None else _minus(line.ts, ring_s)
        return [self._event(visit, "agent.ringing", rang_at, agent=agent)]

    def _agent_dump(self, line: _Line) -> list[dict[str, Any]]:
        # AGENTDUMP: the member hung up on the caller during the member announcement,
        # before being bridged: the agent was presented the call and declined it.
        visit = self._visit(line)
        agent = self._agent(line)
        return [
            self._event(visit, "agent.ringing", line.ts, agent=agent),
            self._event(visit, "agent.rejected", line.ts, agent=agent),
        ]

    def _connect(self, line: _Line) -> list[dict[str, Any]]:
        # CONNECT(holdtime|bridgedchanneluniqueid|ringtime); ringtime in seconds,
        # absent before 1.6 and bridged uniqueid absent before 1.4.
        visit = self._visit(line)
        agent = self._agent(line)
        _number(line.field(1), "hold time")
        ring_s = _number(line.field(3), "ring time")
        rang_at = line.ts if ring_s is None else _minus(line.ts, ring_s)
        return [
            self._event(visit, "agent.ringing", rang_at, agent=agent),
            self._event(visit, "agent.answered", line.ts, agent=agent),
        ]

    def _end(self, visit: _Visit, line: _Line, by: str, cause: str | None) -> dict[str, Any]:
        visit.ended = True
        fields: dict[str, Any] = {"by": by}
        if cause:
            fields["cause"] = cause[:MAX_TEXT]
        return self._event(visit, "call.ended", line.ts, **fields)

    def _open_visit(self, line: _Line) -> _Visit:
        """The call of an ending line; a second end of one call is set aside."""
        visit = self._visit(line)
        if visit.ended:
            raise _SetAside("a second end for a call that had already ended")
        return visit

    def _complete(self, line: _Line) -> list[dict[str, Any]]:
        # COMPLETECALLER / COMPLETEAGENT(holdtime|calltime[|origposition]).
        visit = self._open_visit(line)
        by = "caller" if line.event == "COMPLETECALLER" else "agent"
        return [self._end(visit, line, by, None)]

    def _abandon(self, line: _Line) -> list[dict[str, Any]]:
        # ABANDON(position|origposition|waittime): the caller hung up while queued.
        visit = self._open_visit(line)
        return [self._end(visit, line, "caller", None)]

    def _system_exit(self, line: _Line) -> list[dict[str, Any]]:
        # EXITWITHTIMEOUT / EXITEMPTY(position|origposition|waittime): the queue,
        # not the caller, ended the wait.
        visit = self._open_visit(line)
        if line.event == "EXITWITHTIMEOUT":
            cause = "queue timeout"
        else:
            cause = "queue has no reachable members"
        return [self._end(visit, line, "system", cause)]

    def _exit_with_key(self, line: _Line) -> list[dict[str, Any]]:
        # EXITWITHKEY(key|position[|origposition|waittime]): the caller pressed a
        # key to leave the queue (to voicemail or another menu): the caller gave
        # up waiting, which is the caller ending the queue call. What the dialplan
        # did next is outside the queue_log.
        visit = self._open_visit(line)
        key = line.field(1)[:8]
        cause = f"pressed {key} to leave the queue" if key else "pressed a key to leave the queue"
        return [self._end(visit, line, "caller", cause)]

    def _transfer(self, line: _Line) -> list[dict[str, Any]]:
        # TRANSFER / BLINDTRANSFER(extension|context|holdtime|calltime|origposition),
        # ATTENDEDTRANSFER(method|method-data|holdtime|calltime|origposition).
        # The agent handed the caller on: the queue call ends here (the log writes
        # no COMPLETE line after a transfer), ended by the agent.
        visit = self._open_visit(line)
        if line.event == "ATTENDEDTRANSFER":
            target = ":".join(p for p in (line.field(1), line.field(2)) if p)
        else:
            target = "@".join(p for p in (line.field(1), line.field(2)) if p)
        target = target[:MAX_TEXT]
        transferred = self._event(visit, "call.transferred", line.ts, to=target)
        cause = f"transferred to {target}" if target else "transferred"
        return [transferred, self._end(visit, line, "agent", cause)]

    # --- agents -----------------------------------------------------------------

    def _status(self, line: _Line, status: str, reason: str | None) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "type": "agent.status",
            "call_id": "",
            "ts": line.ts,
            "agent": self._agent(line),
            "status": status,
        }
        if reason:
            fields["reason"] = reason[:MAX_TEXT]
        return fields

    def _add_member(self, line: _Line) -> list[dict[str, Any]]:
        queue = line.queue if line.queue not in ("", "NONE") else ""
        self._members.setdefault(self._agent(line), set()).add(queue)
        return [self._status(line, "available", f"added to queue {queue}" if queue else None)]

    def _remove_member(self, line: _Line) -> list[dict[str, Any]]:
        agent = self._agent(line)
        queue = line.queue if line.queue not in ("", "NONE") else ""
        queues = self._members.get(agent, set())
        queues.discard(queue)
        if queues:
            raise _SetAside("member still in other queues, presence unchanged")
        self._members.pop(agent, None)
        return [self._status(line, "offline", f"removed from queue {queue}" if queue else None)]

    def _pause(self, line: _Line) -> list[dict[str, Any]]:
        # PAUSE / PAUSEALL([reason]); the reason field came with Asterisk 1.8.
        return [self._status(line, "paused", line.field(1) or None)]

    def _unpause(self, line: _Line) -> list[dict[str, Any]]:
        return [self._status(line, "available", None)]

    def _login(self, line: _Line) -> list[dict[str, Any]]:
        # AGENTLOGIN(channel) / AGENTCALLBACKLOGIN(exten@context).
        return [self._status(line, "available", "logged in")]

    def _logoff(self, line: _Line) -> list[dict[str, Any]]:
        # AGENTLOGOFF(channel|logintime) /
        # AGENTCALLBACKLOGOFF(exten@context|logintime|reason): a reason only when
        # the logoff was not a normal one (Autologoff, Chanunavail).
        reason = line.field(3) if line.event == "AGENTCALLBACKLOGOFF" else ""
        return [self._status(line, "offline", reason or "logged off")]


def _minus(at: datetime, seconds: float) -> datetime:
    return at - timedelta(seconds=seconds)
