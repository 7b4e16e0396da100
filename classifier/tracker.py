"""Many calls at once: routes events to their call, spots duplicates, and closes calls.

The tracker is the one state machine every consumer shares (the `classify`
command, the hub's model of calls in progress, the wallboard), so they cannot
disagree about a call. It holds open calls only; a finished call leaves a small
fingerprint behind so that late duplicates can be told from real late events.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeAlias

from classifier.call import Call, new_call
from classifier.rules import EVENT_RULES, Rule, classify
from classifier.schema import (
    AgentStatus,
    CallEnded,
    CallStarted,
    Event,
    event_from_dict,
    fingerprint,
)
from classifier.verdict import Verdict

#: How many finished calls we remember for duplicate detection. Bounded so that
#: memory depends on the calls in progress, not on the length of the day.
REMEMBER_ENDED = 20_000

#: How often (in event time, as a fraction of `expire_after`) `expire_stale` looks
#: for stale calls: a stale call goes at most 1/16 of the expiry late, and a sweep
#: (one pass over the calls in progress) runs rarely however fast events arrive.
SWEEP_FRACTION = 16


class Result(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


# Module constants: an enum member looked up on its class costs several dict lookups.
_APPLIED = Result.APPLIED
_DUPLICATE = Result.DUPLICATE
_REJECTED = Result.REJECTED

#: Shared by every event that raised no warning: no list allocated per event.
NO_WARNINGS: tuple[str, ...] = ()


@dataclass(slots=True)
class Applied:
    """What applying one event did; read it, never change it (results can be shared).

    Not frozen, because a frozen dataclass is slower to make and one is made for most
    events of a log.
    """

    result: Result
    call: Call | None = None
    verdict: Verdict | None = None
    problem: str | None = None
    warnings: tuple[str, ...] = NO_WARNINGS


@dataclass(slots=True)
class Admitted:
    """An event the tracker would apply (`CallTracker.admit`), with what the checks
    looked up, so that `CallTracker.take` applies it without looking again."""

    event: Event
    #: The call in progress it goes on (None: it opens one, or it is a presence report).
    call: Call | None
    #: Its fingerprint (`schema.fingerprint`; 0 for a presence report, never kept).
    key: int
    #: The tracker's count of events applied when it was checked: `take` checks anew
    #: if anything was applied since.
    version: int


#: The result of an event that touched no call and raised nothing (a presence report):
#: one object for all of them, as nobody changes an `Applied` once it is made.
_APPLIED_ALONE = Applied(_APPLIED)

#: What a finished call leaves behind: the fingerprints of its events' keys and of their
#: seqs (None when its events carried none), packed 8 bytes each rather than as sets of
#: int objects (1.4 kB a call): 20,000 of them are kept.
_Fingerprints: TypeAlias = "tuple[array[int], array[int] | None]"


class CallTracker:
    """Applies events to calls and returns a verdict when a call ends.

    `keep_events`: keep each open call's events in `Call.events`. The hub needs them
    (a snapshot replays every open call's events to a new subscriber); `classify` and
    the wallboard do not, and an event object kept until its call ends costs memory
    and cache for every call in progress.

    `verdicts`: classify a call as it ends (`Applied.verdict`). Without them the
    ended call comes back in `Applied.call` with its verdict not yet made, for a
    caller that classifies finished calls in batches (`rules.classify`): `classify`
    does, because the rules' code and the state machine's then take turns in the CPU's
    caches once per batch instead of at every ending.

    `max_calls`: the most calls in progress; an event that would open one more is
    refused (`Result.REJECTED`, the problem names the limit) and counted in
    `over_limit`. `expire_after`: a call with no event for this long in *event time*
    (measured against the newest event time the tracker has seen, so a replay of an
    old log expires nothing a live run would not) is dropped by `expire_stale`, so a
    call whose `call.ended` was lost does not stay in progress for ever. Both default
    to off: `classify` judges whole logs and needs neither; the hub, which runs for
    days on what producers send, sets both.

    `rules`: the event rules verdicts are made by (`rules.event_rules(...)`, from the
    centre's `[rules]` settings); the seed's rules by default.
    """

    def __init__(
        self,
        remember_ended: int = REMEMBER_ENDED,
        *,
        keep_events: bool = True,
        verdicts: bool = True,
        max_calls: int | None = None,
        expire_after: timedelta | None = None,
        rules: tuple[Rule, ...] = EVENT_RULES,
    ) -> None:
        self.calls: dict[str, Call] = {}
        self.presence: dict[str, AgentStatus] = {}
        #: Fingerprints of recently finished calls, oldest first.
        self._ended: OrderedDict[str, _Fingerprints] = OrderedDict()
        self._remember = remember_ended
        self._keep_events = keep_events
        self._verdicts = verdicts
        self._max_calls = max_calls
        self._expire_after = expire_after
        self.rules = rules
        #: The newest event time seen (kept only when calls expire).
        self._newest: datetime | None = None
        #: The newest event time at which `expire_stale` looks at the calls again.
        self._sweep_due: datetime | None = None
        #: Calls refused because `max_calls` were in progress.
        self.over_limit = 0
        #: Calls dropped by `expire_stale`.
        self.expired = 0
        #: Changes made so far (events entered, expiries, resumes, loads): what an
        #: `Admitted` was checked against.
        self._version = 0

    def __len__(self) -> int:
        return len(self.calls)

    def __iter__(self) -> Iterator[Call]:
        return iter(self.calls.values())

    def apply(self, event: Event) -> Applied:
        """Apply one event; never raises for any valid event."""
        if self._expire_after is not None and (self._newest is None or event.ts > self._newest):
            self._newest = event.ts
        # `_check`'s tests, inline: this runs once per event of every log `classify`
        # reads, where an `Admitted` made and read back cost a fifth of the call.
        # They must stay the same tests in the same order (tests/test_tracker_refusal.py).
        kind = type(event)
        if kind is AgentStatus:
            if self._repeated(event):  # type: ignore[arg-type]
                return Applied(_DUPLICATE, problem="duplicate event ignored")
            self._version += 1
            return self._presence(event)  # type: ignore[arg-type]
        call_id = event.call_id
        key = fingerprint(event)
        call = self.calls.get(call_id)
        if call is None:
            ended = self._ended.get(call_id)
            if ended is not None:
                return self._after_end(event, key, ended)
            if self._max_calls is not None and len(self.calls) >= self._max_calls:
                return self._over_limit(event)
        else:
            seq = event.seq
            if key in call.seen_keys or (
                seq is not None and call.seen_seqs is not None and seq in call.seen_seqs
            ):
                return Applied(_DUPLICATE, call, problem="duplicate event ignored")
            if kind is CallStarted and call.has_start:
                return Applied(_REJECTED, call, problem=f"second call.started for call {call_id!r}")
        return self._enter(event, call, key)

    def admit(self, event: Event) -> Applied | Admitted:
        """Whether `apply` would take `event`, changing nothing: a refusal (a duplicate or
        a rejection), or the `Admitted` event that `take` then applies.

        For the hub, which stores an event before the tracker holds it (when storing
        fails, the tracker is as if the event never came): asking `refusal` and then
        `apply` looked the event up and fingerprinted it twice; `take` uses what this
        found. Like `apply`, it counts a refusal for the `max_calls` limit in
        `over_limit`; nothing else changes.
        """
        return self._check(event)

    def take(self, admitted: Admitted) -> Applied:
        """Apply an event `admit` admitted: what `apply` would have done with it.

        Anything applied in between (a `take` or `apply` of another event, an
        expiry) may have changed what `admit` found: the event is then checked anew.
        """
        event = admitted.event
        if self._expire_after is not None and (self._newest is None or event.ts > self._newest):
            self._newest = event.ts
        if admitted.version != self._version:
            return self.apply(event)
        if type(event) is AgentStatus:
            self._version += 1
            return self._presence(event)
        return self._enter(event, admitted.call, admitted.key)

    def refusal(self, event: Event) -> Applied | None:
        """What `apply` would refuse `event` with (a duplicate or a rejection), changing nothing.

        None means `apply` would apply it. Like `apply`, it counts a refusal for the
        `max_calls` limit in `over_limit`; nothing else changes. `admit`'s checks
        (`_check`), which `apply` makes inline (tests/test_tracker_refusal.py checks
        the three agree on whole logs).
        """
        checked = self._check(event)
        return checked if isinstance(checked, Applied) else None

    def _check(self, event: Event) -> Applied | Admitted:
        """`apply`'s checks, in its order: the refusal, or what applying needs."""
        if type(event) is AgentStatus:
            if self._repeated(event):
                return Applied(_DUPLICATE, problem="duplicate event ignored")
            return Admitted(event, None, 0, self._version)
        call_id = event.call_id
        key = fingerprint(event)
        call = self.calls.get(call_id)
        if call is None:
            ended = self._ended.get(call_id)
            if ended is not None:
                return self._after_end(event, key, ended)
            if self._max_calls is not None and len(self.calls) >= self._max_calls:
                return self._over_limit(event)
            return Admitted(event, None, key, self._version)
        seq = event.seq
        if key in call.seen_keys or (
            seq is not None and call.seen_seqs is not None and seq in call.seen_seqs
        ):
            return Applied(_DUPLICATE, call, problem="duplicate event ignored")
        if type(event) is CallStarted and call.has_start:
            return Applied(_REJECTED, call, problem=f"second call.started for call {call_id!r}")
        return Admitted(event, call, key, self._version)

    def _enter(self, event: Event, call: Call | None, key: int) -> Applied:
        """Apply a call's event the checks passed just now (nothing applied in between):
        `call` is the call in progress it goes on, None when it opens one."""
        self._version += 1
        kind = type(event)
        call_id = event.call_id
        warnings = NO_WARNINGS
        if call is None:
            call = new_call(event)
            self.calls[call_id] = call
            if kind is not CallStarted:
                call.flags.append(f"no call.started before {event.type}")
                warnings = (call.flags[-1],)
        call.seen_keys.add(key)
        seq = event.seq
        if seq is not None:
            if call.seen_seqs is None:
                call.seen_seqs = set()
            call.seen_seqs.add(seq)
        if self._keep_events:
            call.events.append(event)
        flag = call.apply(event)
        if flag is not None:
            warnings = (*warnings, flag)
        if kind is not CallEnded:
            return Applied(_APPLIED, call, None, None, warnings)
        verdict = classify(call, self.rules) if self._verdicts else None
        del self.calls[call_id]
        seqs = call.seen_seqs
        self._ended[call_id] = (
            array("q", call.seen_keys),
            None if seqs is None else array("q", seqs),
        )
        if len(self._ended) > self._remember:
            self._ended.popitem(last=False)
        return Applied(_APPLIED, call, verdict, None, warnings)

    def _over_limit(self, event: Event) -> Applied:
        """The refusal of an event that would open one call more than `max_calls`."""
        self.over_limit += 1
        return Applied(
            _REJECTED,
            problem=f"{event.type} for call {event.call_id!r} refused: "
            f"{self._max_calls} calls in progress is the limit (max_calls)",
        )

    def expire_stale(self) -> list[tuple[Call, str]]:
        """Drop the calls with no event for `expire_after`; each with the reason in words.

        Cheap to call after every event: it looks at the calls only when the newest
        event time has moved on by 1/`SWEEP_FRACTION` of `expire_after` since it last
        did. An expired call gives no verdict (its end is unknown); a later event of it
        opens a new call, as any event of an unknown call does.
        """
        limit, newest = self._expire_after, self._newest
        if limit is None or newest is None:
            return []
        # One comparison of times per call (the hub calls this after every event): a
        # difference of aware times and a division of spans cost three times as much.
        if self._sweep_due is not None and newest < self._sweep_due:
            return []
        try:
            self._sweep_due = newest + limit / SWEEP_FRACTION
        except OverflowError:  # an event near year 9999: no later sweep
            self._sweep_due = datetime.max.replace(tzinfo=UTC)
        cutoff = newest - limit
        stale = [call for call in self.calls.values() if (call.last_ts or call.started_at) < cutoff]
        out: list[tuple[Call, str]] = []
        if stale:
            self._version += 1
        for call in stale:
            del self.calls[call.call_id]
            last = call.last_ts or call.started_at
            out.append(
                (
                    call,
                    f"call {call.call_id!r} expired: no event since {last.isoformat()}, "
                    f"over {_hours(limit)} before the newest event ({newest.isoformat()}); "
                    "its call.ended was probably lost",
                )
            )
        self.expired += len(out)
        return out

    @staticmethod
    def _after_end(event: Event, key: int, ended: _Fingerprints) -> Applied:
        keys, seqs = ended
        seq = event.seq
        if key in keys or (seq is not None and seqs is not None and seq in seqs):
            return Applied(_DUPLICATE, problem="duplicate event ignored")
        return Applied(
            _REJECTED,
            problem=f"{event.type} for call {event.call_id!r}, which has already ended",
        )

    def resume(self, call: Call) -> None:
        """Hold `call`, rebuilt from its state (`classifier.call_state.OpenCall`), as in progress.

        For a subscriber taking a hub's snapshot: the call goes on from its state as
        it would have from its events. It replaces a call of the same id; the
        `max_calls` limit is not applied (the hub that held the call applied its own).
        """
        self._version += 1
        self._ended.pop(call.call_id, None)
        self.calls[call.call_id] = call

    def to_dict(self) -> dict[str, Any]:
        """The tracker as JSON-ready data, for the hub's checkpoint (`from_dict` reads it).

        The calls in progress as their events, the agents' presence, the calls that
        ended recently (their ids and seqs: the fingerprints of their events are
        hashes that differ between processes, so a repeat of an ended call's event
        without a seq is refused as after its end rather than as a duplicate).
        """
        return {
            "calls": [[e.to_wire() for e in call.events] for call in self.calls.values()],
            "presence": [e.to_wire() for e in self.presence.values()],
            "ended": [
                [call_id, None if seqs is None else list(seqs)]
                for call_id, (_, seqs) in self._ended.items()
            ],
            "newest": None if self._newest is None else self._newest.isoformat(),
        }

    def load_dict(self, data: dict[str, Any]) -> None:
        """Take the state `to_dict` gave (into a new tracker); `EventError` on a bad event."""
        for wire in data.get("presence", []):
            event = event_from_dict(wire)
            if isinstance(event, AgentStatus):
                self.presence[event.agent] = event
        for events in data.get("calls", []):
            for wire in events:
                self.apply(event_from_dict(wire))
        self._version += 1
        for call_id, seqs in data.get("ended", []):
            self._ended[str(call_id)] = (array("q"), None if seqs is None else array("q", seqs))
        newest = data.get("newest")
        if newest is not None and self._expire_after is not None:
            self._newest = datetime.fromisoformat(newest)

    def _repeated(self, event: AgentStatus) -> bool:
        """Whether this presence report is the agent's last one again."""
        previous = self.presence.get(event.agent)
        if previous is None:
            return False
        # One comparison of the times in the usual case (a newer report): aware
        # datetimes from two parses compare through their zones, which is not cheap.
        ts, before = event.ts, previous.ts
        return ts <= before and ts == before and previous.key() == event.key()

    def _presence(self, event: AgentStatus) -> Applied:
        """Take a presence report `_check` admitted (it is no duplicate)."""
        previous = self.presence.get(event.agent)
        if previous is not None and event.ts < previous.ts:
            # An older presence report must not overwrite a newer one.
            return Applied(
                _APPLIED,
                warnings=(f"agent.status for {event.agent!r} is older than the last one",),
            )
        self.presence[event.agent] = event
        return _APPLIED_ALONE


def call_from_events(events: Sequence[Event]) -> Call:
    """The call that `events` (a call's applied events, in order, as `Call.events` holds
    them) made: the state a tracker had after applying them, for the hub's snapshot.

    The same steps as `CallTracker.apply` takes for events it applies, without the
    checks those events already passed.
    """
    call = new_call(events[0])
    if type(events[0]) is not CallStarted:
        call.flags.append(f"no call.started before {events[0].type}")
    for event in events:
        call.events.append(event)
        call.apply(event)
    return call


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} h"
