"""Many calls at once: routes events to their call, spots duplicates, and closes calls.

The tracker is the one state machine every consumer shares (the `classify`
command, the hub's model of calls in progress, the wallboard), so they cannot
disagree about a call. It holds open calls only; a finished call leaves a small
fingerprint behind so that late duplicates can be told from real late events.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from classifier.call import Call, new_call
from classifier.rules import classify
from classifier.schema import AgentStatus, CallEnded, CallStarted, Event
from classifier.verdict import Verdict

#: How many finished calls we remember for duplicate detection. Bounded so that
#: memory depends on the calls in progress, not on the length of the day.
REMEMBER_ENDED = 20_000


class Result(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(slots=True)
class Applied:
    """What applying one event did."""

    result: Result
    call: Call | None = None
    verdict: Verdict | None = None
    problem: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Seen:
    keys: set[int] = field(default_factory=set)
    seqs: set[int] = field(default_factory=set)

    def has(self, event: Event, key: int) -> bool:
        return key in self.keys or (event.seq is not None and event.seq in self.seqs)

    def add(self, event: Event, key: int) -> None:
        self.keys.add(key)
        if event.seq is not None:
            self.seqs.add(event.seq)


class CallTracker:
    """Applies events to calls and returns a verdict when a call ends."""

    def __init__(self, remember_ended: int = REMEMBER_ENDED) -> None:
        self.calls: dict[str, Call] = {}
        self.presence: dict[str, AgentStatus] = {}
        self._seen: dict[str, _Seen] = {}
        self._ended: OrderedDict[str, _Seen] = OrderedDict()
        self._remember = remember_ended

    def __len__(self) -> int:
        return len(self.calls)

    def __iter__(self) -> Iterator[Call]:
        return iter(self.calls.values())

    def apply(self, event: Event) -> Applied:
        """Apply one event; never raises for any valid event."""
        if isinstance(event, AgentStatus):
            return self._presence(event)
        call_id = event.call_id
        key = hash(event.key())
        ended = self._ended.get(call_id)
        if ended is not None:
            if ended.has(event, key):
                return Applied(Result.DUPLICATE, problem="duplicate event ignored")
            return Applied(
                Result.REJECTED,
                problem=f"{event.type} for call {call_id!r}, which has already ended",
            )
        call = self.calls.get(call_id)
        warnings: list[str] = []
        if call is None:
            call = new_call(event)
            self.calls[call_id] = call
            self._seen[call_id] = _Seen()
            if not isinstance(event, CallStarted):
                call.flags.append(f"no call.started before {event.type}")
                warnings.append(call.flags[-1])
        else:
            seen = self._seen[call_id]
            if seen.has(event, key):
                return Applied(Result.DUPLICATE, call, problem="duplicate event ignored")
            if isinstance(event, CallStarted) and any(
                isinstance(e, CallStarted) for e in call.events
            ):
                return Applied(
                    Result.REJECTED,
                    call,
                    problem=f"second call.started for call {call_id!r}",
                )
        seen = self._seen[call_id]
        seen.add(event, key)
        flags_before = len(call.flags)
        call.apply(event)
        warnings.extend(call.flags[flags_before:])
        if not isinstance(event, CallEnded):
            return Applied(Result.APPLIED, call, warnings=warnings)
        verdict = classify(call)
        del self.calls[call_id]
        del self._seen[call_id]
        self._ended[call_id] = seen
        if len(self._ended) > self._remember:
            self._ended.popitem(last=False)
        return Applied(Result.APPLIED, call, verdict=verdict, warnings=warnings)

    def _presence(self, event: AgentStatus) -> Applied:
        previous = self.presence.get(event.agent)
        if previous is not None and previous.key() == event.key():
            return Applied(Result.DUPLICATE, problem="duplicate event ignored")
        if previous is not None and event.ts < previous.ts:
            # An older presence report must not overwrite a newer one.
            return Applied(
                Result.APPLIED,
                warnings=[f"agent.status for {event.agent!r} is older than the last one"],
            )
        self.presence[event.agent] = event
        return Applied(Result.APPLIED)
