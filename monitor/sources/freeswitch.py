"""FreeSWITCH mod_callcenter events (`CUSTOM callcenter::info`) as schema v1 events.

The pure half of the event socket source: header dicts in, events out, no I/O. The
live client (`monitor.sources.esl_client`) reads the frames and hands each event's
headers here; its re-sync hands the text of `callcenter_config member list` and
`agent list` here too. Every mapping rests on the "Events" section of FreeSWITCH's
mod_callcenter documentation (10 hand-written examples, no captures exist), and
`docs/sources.md`, "FreeSWITCH event socket", lists each one with what the
documentation says about it.

Like the queue_log adapter, the mapper says what the events say and nothing more
(who was offered the call, who answered, why the member left the queue); the
classifier decides what that makes the call. It keeps a bounded memory of the calls
it has seen, so that a repeated event (a re-sync after a reconnect, a duplicate) is
never a second call, and an event for a call it never saw still opens one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from classifier.schema import MAX_CALL_ID, MAX_TEXT, Event, EventError, event_from_dict
from monitor.sources.tally import SkipTally

#: The subclass of mod_callcenter's events (`Event-Subclass`).
SUBCLASS = "callcenter::info"

#: How many calls the mapper remembers (a long-running hub stays small); the same
#: bound as the queue_log adapter's.
REMEMBER_CALLS = 50_000

#: Latest time taken at its word, against a broken timestamp: year 2200.
_MAX_EPOCH = 7_258_118_400.0


#: Every header read from an event, by the mapper, the recording reader
#: (`monitor.sources.esl_text`: Content-Type) and the live client (`esl_client`:
#: Event-Sequence in its messages). Only these are URL-decoded (`decode_read`): an
#: event carries a few dozen headers, and decoding all of them was a quarter of the
#: ingest's time (bench/README.md, figure 10). A header read anywhere must be listed
#: here; tests/test_esl_decode.py holds the events to a decoder that decodes everything.
READ_HEADERS = (
    "Event-Name",
    "Event-Subclass",
    "Event-Date-Timestamp",
    "Event-Sequence",
    "Content-Type",
    "CC-Action",
    "CC-Agent",
    "CC-Agent-State",
    "CC-Agent-Status",
    "CC-Cancel-Reason",
    "CC-Cause",
    "CC-Hangup-Cause",
    "CC-Member-CID-Number",
    "CC-Member-Joined-Time",
    "CC-Member-UUID",
    "CC-Queue",
)


#: `unquote`, remembering its last answers: the values that hold '%' are mostly queue
#: and agent names (`support@default`), the same few thousand all day. Bounded.
_unquote = lru_cache(maxsize=4096)(unquote)


def decode_read(headers: dict[str, str]) -> dict[str, str]:
    """`headers` with the values of `READ_HEADERS` URL-decoded (in place), where they hold '%'.

    The rest keep their wire form: nothing reads them. `unquote` of a value without
    '%' is the value itself, so skipping those changes nothing.
    """
    for name in READ_HEADERS:
        value = headers.get(name)
        if value is not None and "%" in value:
            headers[name] = _unquote(value)
    return headers


class EslEventError(ValueError):
    """An event that breaks the documented layout; the message says which header."""


class _SetAside(Exception):
    """A known event that carries nothing for the board; the message says why."""


@dataclass(slots=True)
class _Member:
    """One queue visit (a `CC-Member-UUID`) as far as the events told it."""

    call_id: str
    last: datetime
    rung: set[str] = field(default_factory=set)
    answered: str | None = None
    #: Left the queue after talking (member-queue-end Terminated): no longer in the
    #: member list, still talking until bridge-agent-end.
    talking: bool = False
    ended: bool = False


#: `CC-Cancel-Reason` of a member that left the queue without talking to an agent
#: (`CC-Cause: Cancel`): who ended the wait, and the cause the verdict's detail shows.
#: The documentation: "NONE (no specific reason), TIMEOUT (caller has been waiting more
#: than the timeout), NO_AGENT_TIMEOUT (caller has been waiting more than the
#: no_agent_timeout), and BREAK_OUT (caller abandoned)"; EXIT_WITH_KEY is the newer
#: releases' reason for a caller who pressed one of the queue's exit keys.
CANCEL_REASONS: dict[str, tuple[str, str]] = {
    "BREAK_OUT": ("caller", "left the queue (BREAK_OUT)"),
    "NONE": ("caller", "left the queue, no reason given (NONE)"),
    "EXIT_WITH_KEY": ("caller", "pressed a key to leave the queue (EXIT_WITH_KEY)"),
    "TIMEOUT": ("system", "queue timeout: waited past max-wait-time (TIMEOUT)"),
    "NO_AGENT_TIMEOUT": (
        "system",
        "no agent available: waited past max-wait-time-with-no-agent (NO_AGENT_TIMEOUT)",
    ),
}

#: `CC-Agent-Status` values (mod_callcenter's agent statuses) as presence.
AGENT_STATUSES: dict[str, str] = {
    "Available": "available",
    "Available (On Demand)": "available",
    "On Break": "paused",
    "Logged Out": "offline",
}

#: `CC-Agent-State` values as presence, with the words shown beside it. "Idle" is the
#: state an agent rests in after a call (wrap-up, reject and busy delay times).
AGENT_STATES: dict[str, tuple[str, str]] = {
    "Waiting": ("available", "waiting for a call"),
    "Receiving": ("busy", "receiving a call"),
    "In a queue call": ("busy", "in a queue call"),
    "Idle": ("wrap_up", "idle after a call"),
    "Reserved": ("busy", "reserved for a call"),
}

#: Hangup causes of a failed agent leg that mean the agent (or the phone) declined.
_DECLINED = frozenset({"CALL_REJECTED", "USER_BUSY"})


def epoch_time(text: str, what: str, unit: float = 1.0) -> datetime:
    """A FreeSWITCH epoch (`unit` 1e-6 for the µs of Event-Date-Timestamp) as UTC time."""
    try:
        value = float(text) * unit
    except ValueError:
        raise EslEventError(f"{what} {text[:40]!r} is not an epoch number") from None
    if not 0 < value < _MAX_EPOCH:
        raise EslEventError(f"{what} {text[:40]!r} is not a plausible epoch")
    return datetime.fromtimestamp(value, UTC)


def event_time(headers: dict[str, str], received: datetime | None) -> datetime:
    """When FreeSWITCH made the event: its Event-Date-Timestamp (µs), else `received`.

    Every event FreeSWITCH sends carries Event-Date-Timestamp; the documentation's
    examples leave it out, so an event without one is taken at the time it arrived.
    """
    stamp = headers.get("Event-Date-Timestamp", "").strip()
    if not stamp:
        if received is None:
            raise EslEventError("missing header Event-Date-Timestamp")
        return received
    return epoch_time(stamp, "Event-Date-Timestamp", 1e-6)


def _need(headers: dict[str, str], name: str, limit: int = MAX_TEXT) -> str:
    value = headers.get(name, "").strip()
    if not value:
        raise EslEventError(f"missing header {name}")
    if len(value) > limit:
        raise EslEventError(f"header {name} of {len(value)} characters, over the {limit} limit")
    return value


def _caller(headers: dict[str, str]) -> str:
    return headers.get("CC-Member-CID-Number", "").strip()[:MAX_TEXT]


class CallcenterMapper:
    """Turns callcenter::info header dicts into events, remembering the calls it saw."""

    def __init__(self) -> None:
        self.skipped = SkipTally()
        #: Calls opened by a re-sync rather than by their member-queue-start.
        self.resynced = 0
        self._members: OrderedDict[str, _Member] = OrderedDict()
        self._agents: dict[str, str] = {}
        self._actions: dict[str, Callable[[dict[str, str], datetime], list[dict[str, Any]]]] = {
            "member-queue-start": self._queue_start,
            "agent-offering": self._offering,
            "bridge-agent-start": self._bridge_start,
            "bridge-agent-fail": self._bridge_fail,
            "bridge-agent-end": self._bridge_end,
            "member-queue-end": self._queue_end,
            "agent-status-change": self._agent_status,
            "agent-state-change": self._agent_state,
        }

    @property
    def open_calls(self) -> int:
        """Calls seen and not yet ended."""
        return sum(1 for m in self._members.values() if not m.ended)

    # --- one event ----------------------------------------------------------------

    def event(self, headers: dict[str, str], received: datetime | None) -> list[Event]:
        """The events one ESL event says (often none); `EslEventError` if it is broken.

        `received` is when it arrived, the time of an event without its own (None: a
        recorded event, which must have its own). Events
        that are not mod_callcenter's, and its actions that say nothing for the board
        (`members-count`), are counted in `skipped`.
        """
        name = headers.get("Event-Name", "").strip()
        subclass = headers.get("Event-Subclass", "").strip()
        if name != "CUSTOM" or subclass != SUBCLASS:
            what = f"{name or '?'} {subclass}".strip()[:64]
            self.skipped.add(what, "not a callcenter::info event")
            return []
        action = headers.get("CC-Action", "").strip()
        handler = self._actions.get(action)
        if handler is None:
            why = (
                "queue counts, no call in it"
                if action == "members-count"
                else "not a callcenter action callboard knows"
            )
            self.skipped.add(f"callcenter {action[:64] or '(no CC-Action)'}", why)
            return []
        try:
            at = event_time(headers, received)
            dicts = handler(headers, at)
            return [event_from_dict(d) for d in dicts]
        except _SetAside as exc:
            self.skipped.add(f"callcenter {action}", str(exc))
            return []
        except EventError as exc:
            raise EslEventError(str(exc)) from None
        except EslEventError as exc:
            raise EslEventError(f"{action}: {exc}") from None

    # --- calls --------------------------------------------------------------------

    def _remember(self, uuid: str, member: _Member) -> None:
        self._members[uuid] = member
        self._members.move_to_end(uuid)
        if len(self._members) > REMEMBER_CALLS:
            self._members.popitem(last=False)

    def _emit(self, member: _Member, kind: str, at: datetime, **fields: Any) -> dict[str, Any]:
        # A call's events never go back in time (clamped to its previous event).
        at = max(at, member.last)
        member.last = at
        return {"type": kind, "call_id": member.call_id, "ts": at, **fields}

    def _open(
        self, headers: dict[str, str], at: datetime, *, joined: datetime | None = None
    ) -> tuple[_Member, list[dict[str, Any]]]:
        """The member's call, and the events that open it if it is new (or had ended).

        A member first seen in an event after member-queue-start (the start was lost
        while the socket was down) still opens the call, at the time it joined the
        queue when the event says so.
        """
        uuid = _need(headers, "CC-Member-UUID", MAX_CALL_ID)
        member = self._members.get(uuid)
        if member is not None:
            if member.ended:
                # mod_callcenter gives each visit its own member UUID: this is late.
                raise _SetAside("an event for a call that had already ended")
            return member, []
        queue = _need(headers, "CC-Queue")
        start = joined or at
        member = _Member(call_id=uuid, last=start)
        self._remember(uuid, member)
        started: dict[str, Any] = {"direction": "inbound", "flow": "incoming"}
        caller = _caller(headers)
        if caller:
            started["from"] = caller
        return member, [
            self._emit(member, "call.started", start, **started),
            self._emit(member, "queue.entered", start, queue=queue),
        ]

    def _known(self, headers: dict[str, str], at: datetime) -> tuple[_Member, list[dict[str, Any]]]:
        joined_text = headers.get("CC-Member-Joined-Time", "").strip()
        joined = epoch_time(joined_text, "CC-Member-Joined-Time") if joined_text else None
        if joined is not None and joined > at:
            joined = at
        return self._open(headers, at, joined=joined)

    def _ring(self, member: _Member, agent: str, at: datetime) -> list[dict[str, Any]]:
        if agent in member.rung:
            return []
        member.rung.add(agent)
        return [self._emit(member, "agent.ringing", at, agent=agent)]

    def _queue_start(self, headers: dict[str, str], at: datetime) -> list[dict[str, Any]]:
        uuid = _need(headers, "CC-Member-UUID", MAX_CALL_ID)
        if uuid in self._members:
            raise _SetAside("a call already seen (repeated, or learned by a re-sync first)")
        return self._open(headers, at)[1]

    def _offering(self, headers: dict[str, str], at: datetime) -> list[dict[str, Any]]:
        # agent-offering: "a caller is presented to an agent (before he answers)".
        agent = _need(headers, "CC-Agent")
        member, out = self._known(headers, at)
        out += self._ring(member, agent, at)
        if not out:
            raise _SetAside("an offer already made to this agent, not answered or failed yet")
        return out

    def _bridge_start(self, headers: dict[str, str], at: datetime) -> list[dict[str, Any]]:
        # bridge-agent-start: "an agent is connected".
        agent = _need(headers, "CC-Agent")
        member, out = self._known(headers, at)
        if member.answered is not None:
            raise _SetAside("the call was already answered")
        out += self._ring(member, agent, at)
        member.answered = agent
        out.append(self._emit(member, "agent.answered", at, agent=agent))
        return out

    def _bridge_fail(self, headers: dict[str, str], at: datetime) -> list[dict[str, Any]]:
        # bridge-agent-fail: "an agent originate fail"; CC-Hangup-Cause says why.
        agent = _need(headers, "CC-Agent")
        member, out = self._known(headers, at)
        out += self._ring(member, agent, at)
        member.rung.discard(agent)  # a later offer to the same agent rings again
        cause = headers.get("CC-Hangup-Cause", "").strip()
        kind = "agent.rejected" if cause in _DECLINED else "agent.no_answer"
        out.append(self._emit(member, kind, at, agent=agent))
        return out

    def _bridge_end(self, headers: dict[str, str], at: datetime) -> list[dict[str, Any]]:
        # bridge-agent-end: "an agent is disconnected": the talk, and the call, ended.
        agent = _need(headers, "CC-Agent")
        member, out = self._known(headers, at)
        if member.answered is None:
            out += self._ring(member, agent, at)
            member.answered = agent
            out.append(self._emit(member, "agent.answered", at, agent=agent))
        member.ended = True
        out.append(self._emit(member, "call.ended", at, by="caller", cause="agent bridge ended"))
        return out

    def _queue_end(self, headers: dict[str, str], at: datetime) -> list[dict[str, Any]]:
        # member-queue-end: CC-Cause 'Terminated' (after talking to an agent) or
        # 'Cancel' (before), with CC-Cancel-Reason.
        cause = _need(headers, "CC-Cause")
        if cause == "Terminated":
            uuid = _need(headers, "CC-Member-UUID", MAX_CALL_ID)
            known = self._members.get(uuid)
            if known is not None and known.ended:
                raise _SetAside("left the queue after talking; bridge-agent-end ended the call")
            # Talked to an agent: the call goes on until bridge-agent-end.
            member, out = self._known(headers, at)
            agent = headers.get("CC-Agent", "").strip()[:MAX_TEXT]
            if member.answered is None and agent:
                out += self._ring(member, agent, at)
                member.answered = agent
                out.append(self._emit(member, "agent.answered", at, agent=agent))
            member.talking = True
            if not out:
                raise _SetAside("left the queue after talking; the call ends at bridge-agent-end")
            return out
        if cause != "Cancel":
            raise EslEventError(f"CC-Cause {cause[:40]!r} is neither 'Terminated' nor 'Cancel'")
        reason = headers.get("CC-Cancel-Reason", "").strip() or "NONE"
        by, words = CANCEL_REASONS.get(reason, ("caller", f"left the queue ({reason[:64]})"))
        member, out = self._known(headers, at)
        member.ended = True
        out.append(self._emit(member, "call.ended", at, by=by, cause=words))
        return out

    # --- agents -------------------------------------------------------------------

    def _presence(self, agent: str, status: str, at: datetime, reason: str) -> dict[str, Any]:
        return {
            "type": "agent.status",
            "agent": agent,
            "status": status,
            "ts": at,
            "reason": reason,
        }

    def _agent_status(self, headers: dict[str, str], at: datetime) -> list[dict[str, Any]]:
        agent = _need(headers, "CC-Agent")
        value = _need(headers, "CC-Agent-Status")
        status = AGENT_STATUSES.get(value)
        if status is None:
            raise EslEventError(f"CC-Agent-Status {value[:40]!r} is not a mod_callcenter status")
        self._agents[agent] = status
        return [self._presence(agent, status, at, value)]

    def _agent_state(self, headers: dict[str, str], at: datetime) -> list[dict[str, Any]]:
        agent = _need(headers, "CC-Agent")
        value = _need(headers, "CC-Agent-State")
        mapped = AGENT_STATES.get(value)
        if mapped is None:
            raise EslEventError(f"CC-Agent-State {value[:40]!r} is not a mod_callcenter state")
        if self._agents.get(agent) in ("paused", "offline"):
            # On a break or logged out, the state changes nothing the board shows.
            raise _SetAside("state of an agent on a break or logged out")
        status, words = mapped
        return [self._presence(agent, status, at, words)]

    # --- re-sync ------------------------------------------------------------------

    def resync_members(self, text: str, now: datetime) -> list[Event]:
        """Calls from `callcenter_config member list`, after a (re)connect.

        A member still in a queue that the mapper does not know opens a call at the
        time it joined (answered ones are answered by their serving agent); a call
        the mapper has open that the list no longer holds ended while the socket was
        down, and is ended here with a cause saying so; one it has open that the list
        says was answered gets its answer. Nothing it already knows is said again, so
        nothing is counted twice. Raises `EslEventError` for a reply that
        is no member list.
        """
        rows = _table(text, ("queue", "uuid", "state"))
        listed: set[str] = set()
        out: list[Event] = []
        for row in rows:
            uuid = row.get("uuid", "")
            state = row.get("state", "")
            if not uuid or state not in ("Waiting", "Trying", "Answered"):
                continue
            listed.add(uuid)
            known = self._members.get(uuid)
            if known is not None and known.ended:
                continue  # its end came before the list was made
            headers = {
                "CC-Member-UUID": uuid,
                "CC-Queue": row.get("queue", ""),
                "CC-Member-CID-Number": row.get("cid_number", ""),
            }
            try:
                joined = _row_time(row, "joined_epoch", now)
                member, dicts = self._open(headers, joined)
                if dicts:
                    self.resynced += 1
                    # Marked (schema: resync_at): its steps before the list are unknown.
                    dicts[0]["resync_at"] = now
                agent = row.get("serving_agent", "").strip()[:MAX_TEXT]
                if state == "Answered" and agent and member.answered is None:
                    # Answered while the socket was down (or before it was up).
                    bridged = _row_time(row, "bridge_epoch", now)
                    dicts += self._ring(member, agent, bridged)
                    member.answered = agent
                    dicts.append(self._emit(member, "agent.answered", bridged, agent=agent))
                out += [event_from_dict(d) for d in dicts]
            except (EslEventError, EventError) as exc:
                self.skipped.add("member list row", f"unreadable: {str(exc)[:120]}")
        for uuid, member in self._members.items():
            if member.ended or member.talking or uuid in listed:
                continue
            member.ended = True
            out.append(
                event_from_dict(
                    self._emit(
                        member,
                        "call.ended",
                        now,
                        by="system",
                        cause="left the queue while the event socket was down (how is unknown)",
                    )
                )
            )
        return out

    def resync_agents(self, text: str, now: datetime) -> list[Event]:
        """Every agent's presence from `callcenter_config agent list`, after a (re)connect."""
        out: list[Event] = []
        for row in _table(text, ("name", "status", "state")):
            agent = row.get("name", "").strip()[:MAX_TEXT]
            status = AGENT_STATUSES.get(row.get("status", ""))
            if not agent or status is None:
                self.skipped.add("agent list row", "no name or an unknown status")
                continue
            self._agents[agent] = status
            reason = row.get("status", "")
            state = AGENT_STATES.get(row.get("state", ""))
            if status == "available" and state is not None:
                status, reason = state
            out.append(event_from_dict(self._presence(agent, status, now, reason)))
        return out


def _row_time(row: dict[str, str], column: str, now: datetime) -> datetime:
    text = row.get(column, "").strip()
    if not text or text == "0":
        return now
    return min(epoch_time(text, column), now)


def _table(text: str, needed: tuple[str, ...]) -> list[dict[str, str]]:
    """The rows of a `callcenter_config ... list` reply: a '|' header line, rows, '+OK'."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or lines[0].startswith("-ERR"):
        raise EslEventError(f"not a list: {(lines[0] if lines else '(empty)')[:120]!r}")
    header = [name.strip() for name in lines[0].split("|")]
    missing = [name for name in needed if name not in header]
    if missing:
        raise EslEventError(f"list header {lines[0][:120]!r} lacks {', '.join(missing)}")
    rows = []
    for line in lines[1:]:
        if line.strip() == "+OK":
            break
        cells = line.split("|")
        rows.append(dict(zip(header, (c.strip() for c in cells), strict=False)))
    return rows
