"""A joining subscriber's snapshot: taken at once, written in steps between the loop's turns.

Why: the hub writes a joining board's snapshot on its event loop, and while it
writes, no other board gets an event and no producer an ack. Issue 13 cut the
calls into 64 kB parts built one at a time (34 ms longest loop stall with 100,000
calls in progress); protocol 3 then added the day, the agents' day and the panels'
rows to the first part, all of it computed in one go before that part: 113-127 ms
at 100,000 calls (comparing every call the agents' day holds with the snapshot's),
and at figure 12's day (6,000 calls, 600 agents, 1,000s of rows) 80 ms to make the
day's forms, 25 ms to write its 0.64 MB of JSON and 25 ms to compress it. Here
every one of those is done in steps (`classifier.steps`), and the hub lets its
loop run between any two.

What the snapshot holds must be the state at one seq while events keep coming in
between the steps. `take` copies it at once, cheaply: the calls in progress and
the count of each one's events (a call's events are only appended to, so its
first `n` are its state at the snapshot's seq: `_calls_then`), the day without
its rows, the rows (frozen `Ended`s, the lists copied), the list of the agents and
the ids of the calls the agents' day holds (`classifier.agents_state.take`: the day
saves an agent's fields, or such a call's facts, just before it first changes it,
until `TakenSnapshot.release`), presence, the source, the head's fields. Ids and
counts rather than a tuple a call: 100,000 new tuples can set off a full collection
of a hub's heap (0.45 s measured in issue 13), and copying 100,000 calls' facts costs
40-100 ms however it is done; copying 20,000 agents' fields, 300 ms.
Everything after reads only what was taken, so the board gets exactly what it got
when it was built in one go (the tests of late boards against boards that watched
all day are unchanged).

`json_steps` writes JSON in steps: the same text as `json.dumps(value,
ensure_ascii=False, separators=(",", ":"))`, the protocol's, since no library
here writes one value's JSON a piece at a time.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from classifier.agents import AgentsDay
from classifier.agents_state import AgentsTaken, CallFacts
from classifier.agents_state import snapshot_steps as agents_steps
from classifier.agents_state import take as take_agents
from classifier.call import Call
from classifier.day import DayState, Ended
from classifier.panel_rows_form import snapshot_steps as rows_steps
from classifier.schema import AgentStatus
from classifier.steps import Steps
from classifier.tracker import CallTracker, call_from_events
from monitor.feed.protocol import SourceStatus, snapshot_part_steps
from monitor.feed.snapshot_zlib import compress_steps

#: Characters of JSON written between two steps of `json_steps` (about 2 ms).
JSON_STEP = 64 * 1024
#: Items of a list written in one piece by `json_steps`.
LIST_PIECE = 64
#: Objects down to this depth are written key by key; deeper ones whole.
_OPEN_DEPTH = 3
#: Items of a written form let go between two steps of `let_go` (about 1.5 ms of
#: agents' forms).
FREE_STEP = 1_000

#: What `message_steps` yields: None where the loop may run, else a part to send.
Step = str | bytes | None


@dataclass(frozen=True, slots=True)
class TakenSnapshot:
    """A hub's state at one seq, copied as a snapshot needs it (see the module docstring)."""

    hub_id: str
    seq: int
    sent_at: float
    source: SourceStatus
    site: str | None
    store: dict[str, Any] | None
    presence: list[AgentStatus]
    calls: list[Call]
    #: How many events each of `calls` had at `seq`.
    counts: list[int]
    #: The day (`DayState.to_dict` without its rows), then the rows by outcome.
    day: dict[str, Any]
    rows: dict[str, list[Ended]]
    agents: AgentsTaken

    def release(self) -> None:
        """The snapshot is written or given up: the agents' day stops keeping its calls."""
        self.agents.release()


def take(
    hub_id: str,
    seq: int,
    tracker: CallTracker,
    day: DayState,
    agents: AgentsDay,
    source: SourceStatus,
    site: str | None,
    store: dict[str, Any] | None,
) -> TakenSnapshot:
    """The hub's state now, for a snapshot at `seq` (no step: all of it at once);
    `release` it when done."""
    calls = list(tracker)
    return TakenSnapshot(
        hub_id=hub_id,
        seq=seq,
        sent_at=time.time(),
        source=dataclasses.replace(source),
        site=site,
        store=store,
        presence=list(tracker.presence.values()),
        calls=calls,
        counts=[len(call.events) for call in calls],
        day=day.to_dict(with_rows=False),
        rows=day.rows_now(),
        agents=take_agents(agents),
    )


def message_steps(taken: TakenSnapshot, compressed: bool) -> Generator[Step, None, None]:
    """The snapshot's messages (each part's text, or its zlib bytes when `compressed`),
    with None between the steps of writing them, and first: taking the snapshot is a
    turn of its own (15 ms at figure 12's 601 agents), not the first step's too."""
    yield None
    day_json = yield from _day_json_steps(taken)
    parts = snapshot_part_steps(
        taken.hub_id,
        taken.seq,
        _calls_then(taken.calls, taken.counts),
        taken.presence,
        taken.source,
        taken.sent_at,
        site=taken.site,
        store=taken.store,
        day_json=day_json,
    )
    for text in parts:
        if text is None:
            yield None
        elif compressed:
            yield (yield from compress_steps(text))
        else:
            yield text


def _day_json_steps(taken: TakenSnapshot) -> Steps[str]:
    """The day's JSON text as the snapshot carries it: its rows in the panels' form
    (`classifier.panel_rows_form`), its agents' day in theirs (`classifier.agents_state`)."""
    day = dict(taken.day)
    day["recent"] = yield from rows_steps(taken.rows, Ended.to_dict)
    facts = _facts(_calls_then(taken.calls, taken.counts))
    agents = day["agents"] = yield from agents_steps(taken.agents, facts)
    text = yield from json_steps(day)
    # Written: the forms are let go in steps too (freeing 20,000 agents' at once was
    # 26 ms of one turn; bench/README.md, "The hub's loop while a board joins").
    yield from let_go(agents.get("agents", []))
    for rows in day["recent"]["rows"].values():
        yield from let_go(rows)
    return text


def let_go(items: list[Any], step: int = FREE_STEP) -> Steps[None]:
    """Empty `items`, `step` items between two steps, so that freeing what they alone
    hold is not one long turn."""
    while items:
        del items[-step:]
        yield


def _calls_then(calls: Sequence[Call], counts: Sequence[int]) -> Iterator[Call]:
    """Each call as it was at the snapshot's seq: the live one if no event came since,
    else made again from the events it had then."""
    for call, n in zip(calls, counts, strict=True):
        yield call if len(call.events) == n else call_from_events(call.events[:n])


def _facts(calls: Iterator[Call]) -> Iterator[CallFacts]:
    for call in calls:
        yield call.call_id, call.caller, call.queue


def json_steps(value: Any, step: int = JSON_STEP) -> Steps[str]:
    """`value`'s JSON text (the protocol's: compact, not ASCII-escaped), in steps of
    about `step` characters."""
    pieces: list[str] = []
    written = [0]
    yield from _write(value, pieces, written, step, 0)
    return "".join(pieces)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _write(value: Any, pieces: list[str], written: list[int], step: int, depth: int) -> Steps[None]:
    if (
        depth < _OPEN_DEPTH
        and isinstance(value, dict)
        and all(isinstance(key, str) for key in value)
    ):
        pieces.append("{")
        for n, (key, item) in enumerate(value.items()):
            pieces.append(f"{',' if n else ''}{_dumps(key)}:")
            yield from _write(item, pieces, written, step, depth + 1)
        pieces.append("}")
        return
    if isinstance(value, list) and len(value) > LIST_PIECE:
        pieces.append("[")
        for start in range(0, len(value), LIST_PIECE):
            text = _dumps(value[start : start + LIST_PIECE])[1:-1]
            pieces.append(f",{text}" if start else text)
            yield from _count(len(text), written, step)
        pieces.append("]")
        return
    text = _dumps(value)
    pieces.append(text)
    yield from _count(len(text), written, step)


def _count(chars: int, written: list[int], step: int) -> Steps[None]:
    written[0] += chars
    if written[0] >= step:
        written[0] = 0
        yield


__all__ = [
    "FREE_STEP",
    "JSON_STEP",
    "Step",
    "TakenSnapshot",
    "json_steps",
    "let_go",
    "message_steps",
    "take",
]
