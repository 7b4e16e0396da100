"""A joining board's snapshot is written in steps, and the hub's loop runs between them.

The hub takes what the snapshot holds at once and writes it (the agents' day, the
panels' rows, the day's JSON, each part, its compression) in steps
(`monitor.feed.snapshot_build`). Through a real hub on loopback: while a big
snapshot is written, the hub goes on taking events (a producer that publishes one
each time the loop lets it) and relaying them, and a board that joined in the middle
of it shows exactly the day of a board that watched. The pieces: the agents' day
written in steps while events change it is the day as it was when taken; the JSON
and the compression in steps are the same text and bytes as in one go.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect

from classifier.agents import AgentsDay
from classifier.agents_state import snapshot_steps, take, to_snapshot
from classifier.schema import Event, event_from_dict
from classifier.steps import finish
from monitor.feed.hub import Hub, HubConfig, running_hub
from monitor.feed.snapshot_build import json_steps, let_go
from monitor.feed.snapshot_zlib import compress_steps
from tests.day_support import BoardFollower, shown
from tests.hub_support import wait_for

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: Calls in progress when the board joins: enough that the old one-go build of the
#: agents' day and the first part held the loop for one long turn.
CALLS = 10_000
AGENTS = 40


def _event(kind: str, call: int, seconds: float, **fields: Any) -> Event:
    at = (T0 + timedelta(seconds=seconds)).isoformat()
    return event_from_dict({"type": kind, "call_id": f"c{call:05d}", "ts": at, **fields})


def centre(calls: int) -> list[Event]:
    """300 answered calls that ended (rows for the panels, the agents' stories), then
    `calls` calls waiting in queues (each its own caller), the first `AGENTS` of them
    ringing an agent each."""
    out: list[Event] = []
    for i in range(300):
        agent = f"agent-{i % AGENTS}"
        out += [
            _event("call.started", i, i, **{"from": f"+4420{i:07d}"}),
            _event("queue.entered", i, i + 1, queue=f"queue-{i % 7}"),
            _event("agent.ringing", i, i + 2, agent=agent),
            _event("agent.answered", i, i + 4, agent=agent),
            _event("call.ended", i, i + 60, by="caller"),
        ]
    for i in range(300, 300 + calls):
        out += [
            _event("call.started", i, 400, **{"from": f"+4420{i:07d}"}),
            _event("queue.entered", i, 401, queue=f"queue-{i % 7}"),
        ]
        if i < 300 + AGENTS:
            out.append(_event("agent.ringing", i, 402, agent=f"agent-{i % AGENTS}"))
    return out


def ticks(calls: int) -> list[Event]:
    """What the producer publishes while the board joins: the waiting calls rung,
    answered and ended in turn by the agents, so the calls the snapshot holds change
    (and leave) under it."""
    out: list[Event] = []
    for i in range(300, 300 + calls):
        agent = f"agent-{i % AGENTS}"
        at = 410 + (i - 300) // AGENTS * 10
        if i >= 300 + AGENTS:
            out.append(_event("agent.ringing", i, at, agent=agent))
        out += [
            _event("agent.answered", i, at + 2, agent=agent),
            _event("call.ended", i, at + 8, by="caller"),
        ]
    return out


async def producer(hub: Hub, events: list[Event], stop: asyncio.Event) -> int:
    """Publish one event each time the loop gives this task a turn, until `stop`."""
    sent = 0
    for event in events:
        if stop.is_set():
            break
        assert hub.publish(event).accepted, event
        sent += 1
        await asyncio.sleep(0)
    return sent


@pytest.mark.slow
async def test_the_hub_takes_and_relays_events_while_a_big_snapshot_is_written() -> None:
    async with running_hub(HubConfig(port=0, max_calls=None, call_expiry=None)) as hub:
        for event in centre(CALLS):
            assert hub.publish(event).accepted, event
        watcher = BoardFollower(hub.url)
        await watcher.caught_up(hub.seq)
        stop = asyncio.Event()
        feeding = asyncio.create_task(producer(hub, ticks(CALLS), stop))
        await asyncio.sleep(0)
        async with connect(hub.url, max_size=None) as ws:
            first = json.loads(await ws.recv())
            # Each event the hub took since the snapshot's seq is a turn its loop gave the
            # producer: while the day's forms and the first part were written.
            taken_before_part_1 = hub.seq - first["seq"]
            parts = 1
            frame = first
            while frame.get("more"):
                frame = json.loads(await ws.recv())
                parts += 1
        late = BoardFollower(hub.url)  # joins while the producer goes on
        await wait_for(lambda: late.snapshots > 0, "the late board's snapshot")
        stop.set()
        sent = await feeding
        assert sent > 0
        await watcher.caught_up(hub.seq)
        await late.caught_up(hub.seq)
        # Written in one go (before), the first part left at most a few turns (its
        # delivery to the reader: 3 measured); in steps, one a step (about 20 here).
        assert taken_before_part_1 >= 12, (taken_before_part_1, parts)
        # The snapshot was taken at one seq while the calls it holds changed under it.
        assert len(first["day"]["agents"]["agents"]) == AGENTS
        now = watcher.board.last_ts
        assert now is not None
        assert shown(late.board, now) == shown(watcher.board, now)
        assert late.board.unseen_events == 0
        for follower in (watcher, late):
            await follower.stop()


def test_the_agents_day_written_in_steps_is_the_day_when_it_was_taken() -> None:
    day = AgentsDay()
    for event in centre(500):
        day.apply(event)
    facts = [(f"c{i:05d}", f"+4420{i:07d}", f"queue-{i % 7}") for i in range(300, 800)]
    before = to_snapshot(day, facts)
    taken = take(day)
    steps = snapshot_steps(taken, iter(facts))
    next(steps)
    # Between the steps the day goes on: every call answered and ended, a new one rung.
    for event in [*ticks(500), _event("call.started", 9999, 500, **{"from": "+1"})]:
        day.apply(event)
    day.apply(_event("agent.ringing", 9999, 501, agent="agent-1"))
    assert finish(steps) == before
    taken.release()
    assert to_snapshot(day, []) != before  # the day did change


def agents_changed(round_: int, kinds: dict[int, int]) -> list[Event]:
    """Each agent `i` in `kinds` changed by one kind of event: 0 a status (a pause, or a
    logout in odd rounds), 1 a ring not answered, 2 a call answered and ended, 3 a
    ring rejected, 4 the end of the call ringing it (the caller left: first round)."""
    out: list[Event] = []
    at = 1000 + round_ * 100
    for i, kind in kinds.items():
        agent = f"agent-{i}"
        call = 20_000 + round_ * AGENTS + i
        if kind == 0:
            status = "offline" if round_ % 2 else "paused"
            out.append(_event("agent.status", call, at + 1, agent=agent, status=status, reason="x"))
        elif kind == 4:
            out.append(_event("call.ended", 300 + i, at + 1, by="caller"))
        else:
            out += [
                _event("call.started", call, at + 1, **{"from": f"+1{call}"}),
                _event("agent.ringing", call, at + 2, agent=agent),
            ]
            if kind == 2:
                out += [
                    _event("agent.answered", call, at + 3, agent=agent),
                    _event("call.ended", call, at + 9, by="caller"),
                ]
            else:
                answer = "agent.no_answer" if kind == 1 else "agent.rejected"
                out.append(_event(answer, call, at + 5, agent=agent))
    return out


def test_agents_changed_between_the_take_and_their_step_are_written_as_taken() -> None:
    day = AgentsDay()
    for event in centre(100):
        day.apply(event)
    facts = [(f"c{i:05d}", f"+4420{i:07d}", f"queue-{i % 7}") for i in range(300, 400)]
    before = to_snapshot(day, facts)
    taken = take(day)
    # The take copies no agent; the day saves each one just before it first changes it.
    assert taken.agents.saved == {}
    # Each way an agent changes is the first change of some (i % 6: a status, a ring
    # not answered, a call talked, a ring rejected, a caller gone, midnight).
    for event in agents_changed(0, {i: i % 6 for i in range(AGENTS) if i % 6 < 5}):
        day.apply(event)
    day.new_day()
    steps = snapshot_steps(taken, iter(facts))
    round_ = 1
    while True:
        try:
            next(steps)
        except StopIteration as done:
            written = done.value
            break
        # Between any two steps (some agents written, the others not yet), every agent
        # changes again, midnight zeroes their day, and an agent not taken appears.
        for event in agents_changed(round_, {i: (i + round_) % 4 for i in range(AGENTS)}):
            day.apply(event)
        day.new_day()
        day.apply(
            _event("agent.status", 0, 9000 + round_, agent=f"new-{round_}", status="available")
        )
        round_ += 1
    assert round_ > 3  # the agents were written over several steps, changed between each
    assert written == before
    assert len(taken.agents.saved) <= AGENTS + round_  # one copy an agent at most
    taken.release()
    assert to_snapshot(day, facts)["agents"] != before["agents"]  # the agents did change


def test_a_pin_released_is_no_longer_kept() -> None:
    day = AgentsDay()
    for event in centre(10):
        day.apply(event)
    taken = take(day)
    taken.release()
    for event in ticks(10):
        day.apply(event)
    day.new_day()
    assert taken.pin.saved == {}
    assert taken.agents.saved == {}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=100) | st.dictionaries(st.text(), inner, max_size=6),
    max_leaves=150,
)


@settings(max_examples=60, deadline=None)
@given(json_values)
def test_json_in_steps_is_the_protocols_json(value: Any) -> None:
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert finish(json_steps(value, step=64)) == expected


def test_big_json_and_its_compression_take_several_steps_and_give_the_same() -> None:
    value = {"rows": [{"id": f"call-{i}", "t": i / 7, "from": "+44 20 ✓"} for i in range(20_000)]}
    steps = json_steps(value, step=4096)
    pauses = 0
    while True:
        try:
            next(steps)
            pauses += 1
        except StopIteration as done:
            text = done.value
            break
    assert pauses > 50
    assert text == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    compressing = compress_steps(text, step=16 * 1024)
    pauses = 0
    while True:
        try:
            next(compressing)
            pauses += 1
        except StopIteration as done:
            data = done.value
            break
    assert pauses == -(-len(text.encode()) // (16 * 1024))
    assert data == zlib.compress(text.encode(), 6)


def test_a_written_form_is_let_go_a_step_at_a_time() -> None:
    forms = [{"n": f"agent-{i}", "story": [{"t": i}]} for i in range(2_500)]
    kept = forms[:1]
    steps = let_go(forms, step=1_000)
    next(steps)
    assert len(forms) == 1_500  # the rest is still held until the next steps
    assert list(steps) == [None, None]
    assert forms == [] and kept == [{"n": "agent-0", "story": [{"t": 0}]}]
