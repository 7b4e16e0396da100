"""Many calls at once: routes events to their call, spots duplicates, and closes calls.

The tracker is the one state machine every consumer shares (the `classify`
command, the hub's model of calls in progress, the wallboard), so they cannot
disagree about a call. It holds open calls only; a finished call leaves a small
fingerprint behind so that late duplicates can be told from real late events.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
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


#: Shared by every event that raised no warning: no list allocated per event.
NO_WARNINGS: tuple[str, ...] = ()


@dataclass(slots=True)
class Applied:
    """What applying one event did."""

    result: Result
    call: Call | None = None
    verdict: Verdict | None = None
    problem: str | None = None
    warnings: tuple[str, ...] = NO_WARNINGS


class CallTracker:
    """Applies events to calls and returns a verdict when a call ends."""

    def __init__(self, remember_ended: int = REMEMBER_ENDED) -> None:
        self.calls: dict[str, Call] = {}
        self.presence: dict[str, AgentStatus] = {}
        #: Fingerprints (event keys, seqs) of recently finished calls, oldest first.
        self._ended: OrderedDict[str, tuple[set[int], set[int]]] = OrderedDict()
        self._remember = remember_ended

    def __len__(self) -> int:
        return len(self.calls)

    def __iter__(self) -> Iterator[Call]:
        return iter(self.calls.values())

    def apply(self, event: Event) -> Applied:
        """Apply one event; never raises for any valid event."""
        kind = type(event)
        if kind is AgentStatus:
            return self._presence(event)  # type: ignore[arg-type]
        call_id = event.call_id
        key = hash(event.key())
        seq = event.seq
        call = self.calls.get(call_id)
        warnings = NO_WARNINGS
        if call is None:
            ended = self._ended.get(call_id)
            if ended is not None:
                return self._after_end(event, key, ended)
            call = new_call(event)
            self.calls[call_id] = call
            if kind is not CallStarted:
                call.flags.append(f"no call.started before {event.type}")
                warnings = (call.flags[-1],)
        elif key in call.seen_keys or (seq is not None and seq in call.seen_seqs):
            return Applied(Result.DUPLICATE, call, problem="duplicate event ignored")
        elif kind is CallStarted and call.has_start:
            return Applied(
                Result.REJECTED, call, problem=f"second call.started for call {call_id!r}"
            )
        call.seen_keys.add(key)
        if seq is not None:
            call.seen_seqs.add(seq)
        flag = call.apply(event)
        if flag is not None:
            warnings = (*warnings, flag)
        if kind is not CallEnded:
            return Applied(Result.APPLIED, call, None, None, warnings)
        verdict = classify(call)
        del self.calls[call_id]
        self._ended[call_id] = (call.seen_keys, call.seen_seqs)
        if len(self._ended) > self._remember:
            self._ended.popitem(last=False)
        return Applied(Result.APPLIED, call, verdict, None, warnings)

    @staticmethod
    def _after_end(event: Event, key: int, ended: tuple[set[int], set[int]]) -> Applied:
        keys, seqs = ended
        if key in keys or (event.seq is not None and event.seq in seqs):
            return Applied(Result.DUPLICATE, problem="duplicate event ignored")
        return Applied(
            Result.REJECTED,
            problem=f"{event.type} for call {event.call_id!r}, which has already ended",
        )

    def _presence(self, event: AgentStatus) -> Applied:
        previous = self.presence.get(event.agent)
        if previous is not None and (previous.ts, previous.status, previous.reason) == (
            event.ts,
            event.status,
            event.reason,
        ):
            return Applied(Result.DUPLICATE, problem="duplicate event ignored")
        if previous is not None and event.ts < previous.ts:
            # An older presence report must not overwrite a newer one.
            return Applied(
                Result.APPLIED,
                warnings=(f"agent.status for {event.agent!r} is older than the last one",),
            )
        self.presence[event.agent] = event
        return Applied(Result.APPLIED)
