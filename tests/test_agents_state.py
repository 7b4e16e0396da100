"""The agents' day in a snapshot's compact form (classifier/agents_state.py).

Cut at every point of the hand-worked floor (fixtures/agents/floor.jsonl) and of the
real Asterisk queue_log, written in the snapshot's form beside the calls a tracker
holds at that point, read back and fed the rest: every figure equals the day that saw
it all, and each story is the newest lines of the whole one with the rest counted.
"""

from __future__ import annotations

import json
from datetime import timedelta, timezone
from typing import Any

import pytest

from classifier.agents import AgentsDay, AgentState
from classifier.agents_state import FORM, SNAPSHOT_STORY_LINES, from_snapshot, to_snapshot
from classifier.schema import Event, parse_event
from classifier.tracker import CallTracker
from monitor.sources import iter_source
from monitor.sources.reader import LineEvent
from tests.cli_support import REAL_QUEUE_LOG, ROOT

FLOOR = ROOT / "fixtures" / "agents" / "floor.jsonl"
PLUS_ONE = timezone(timedelta(hours=1))


def floor_events() -> list[Event]:
    return [parse_event(line) for line in FLOOR.read_text().splitlines()]


def real_events() -> list[Event]:
    assert REAL_QUEUE_LOG.is_file(), f"the real queue_log is expected at {REAL_QUEUE_LOG}"
    return [
        i.event
        for i in iter_source(REAL_QUEUE_LOG, "asterisk-queue-log")
        if isinstance(i, LineEvent)
    ]


def carried(events: list[Event], cut: int) -> tuple[AgentsDay, dict[str, Any]]:
    """The day after `events[:cut]` through the snapshot form (as JSON text), then the rest."""
    day, tracker = AgentsDay(), CallTracker()
    for event in events[:cut]:
        day.apply(event)
        tracker.apply(event)
    calls = [(c.call_id, c.caller, c.queue) for c in tracker]
    form = json.loads(json.dumps(to_snapshot(day, calls)))
    back = from_snapshot(form, calls)
    for event in events[cut:]:
        back.apply(event)
    return back, form


def without_stories(day: AgentsDay) -> dict[str, Any]:
    """`to_dict` with each story as its length (lines kept plus dropped) and no `seen`."""
    whole = day.to_dict(seen=False)
    for agent in whole["agents"]:
        agent["story_dropped"] += len(agent.pop("story"))
    return whole


def same_but_stories(back: AgentsDay, whole: AgentsDay, where: str) -> None:
    assert without_stories(back) == without_stories(whole), where
    for name, agent in whole.agents.items():
        kept = list(back.agents[name].story)
        assert kept == list(agent.story)[len(agent.story) - len(kept) :], f"{where}: {name}"


@pytest.mark.parametrize("source", ["floor", "real queue_log"])
def test_the_day_carried_in_a_snapshot_at_every_point_goes_on_the_same(source: str) -> None:
    events = floor_events() if source == "floor" else real_events()
    whole = AgentsDay()
    for event in events:
        whole.apply(event)
    step = max(1, len(events) // 40)
    for cut in [*range(0, len(events), step), len(events)]:
        back, _ = carried(events, cut)
        same_but_stories(back, whole, f"{source}, carried after event {cut}")


def test_a_story_is_cut_to_its_newest_lines_and_says_how_many_it_lacks() -> None:
    events = real_events()
    whole = AgentsDay()
    for event in events:
        whole.apply(event)
    back, form = carried(events, len(events))
    longest = max(whole.agents.values(), key=lambda a: len(a.story))
    assert len(longest.story) > SNAPSHOT_STORY_LINES
    cut = back.agents[longest.name]
    assert list(cut.story) == list(longest.story)[-SNAPSHOT_STORY_LINES:]
    assert cut.story_dropped == len(longest.story) - SNAPSHOT_STORY_LINES
    # Times are seconds after t0, keys short, defaults left out.
    record = next(a for a in form["agents"] if a["n"] == longest.name)
    assert isinstance(record["t"], float) and "call_id" not in json.dumps(form)
    assert all("k" not in line for line in record["story"] if "id" in line)


def test_a_time_in_another_offset_than_t0_keeps_its_offset() -> None:
    # The floor's second half in +01:00 (as a day across the end of summer time):
    # the story screen shows each time in its own offset, so the form keeps it.
    events = floor_events()
    half = len(events) // 2
    events = events[:half] + [
        e.model_copy(update={"ts": e.ts.astimezone(PLUS_ONE)}) for e in events[half:]
    ]
    whole = AgentsDay()
    for event in events:
        whole.apply(event)
    back, form = carried(events, len(events))
    same_but_stories(back, whole, "two offsets")
    for name, agent in whole.agents.items():
        kept = list(back.agents[name].story)
        offsets = [line.at.utcoffset() for line in kept]
        assert offsets == [line.at.utcoffset() for line in list(agent.story)[-len(kept) :]]
        assert back.agents[name].since.utcoffset() == agent.since.utcoffset()
    assert PLUS_ONE.utcoffset(None) in {line.at.utcoffset() for a in back for line in a.story}
    assert any(isinstance(line["t"], str) for a in form["agents"] for line in a.get("story", []))


def test_calls_the_snapshot_lacks_or_tells_otherwise_are_written_whole() -> None:
    events = floor_events()
    day = AgentsDay()
    for event in events:
        day.apply(event)
    held = list(day.held_calls())
    assert held, "the floor ends with calls in progress"
    # A snapshot whose calls are none of these, and one it holds that the agents do not.
    form = to_snapshot(day, [("elsewhere", "+1", "sales")])
    assert [c["id"] for c in form["calls"]] == [call_id for call_id, *_ in held]
    assert form["skip"] == ["elsewhere"] and "ag" not in form
    back = from_snapshot(json.loads(json.dumps(form)), [("elsewhere", "+1", "sales")])
    assert list(back.held_calls()) == held
    # The same calls given by the snapshot: only who is on them travels.
    given = [(call_id, caller, queue) for call_id, caller, queue, _ in held]
    form = to_snapshot(day, given)
    assert "calls" not in form and "skip" not in form
    assert form["ag"] == {call_id: names for call_id, _, _, names in held if names}
    assert list(from_snapshot(form, given).held_calls()) == held


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"form": 99}, "agents day: snapshot form 99, expected 1"),
        ([], "agents day: snapshot form 'list', expected 1"),
        (
            {"form": FORM, "t0": "2025-03-03T09:00:00+00:00", "agents": [{"n": "ann"}]},
            "agents.0.t: Field required",
        ),
        (
            {
                "form": FORM,
                "t0": "2025-03-03T09:00:00+00:00",
                "agents": [{"n": "ann", "t": 1, "st": "asleep"}],
            },
            "agents.0.st: Input should be",
        ),
        ({"form": FORM, "agents": [{"n": "ann", "t": 5.0}]}, "a time in seconds, but no t0"),
        (
            {"form": FORM, "t0": "9999-12-01T00:00:00+00:00", "agents": [{"n": "ann", "t": 1e9}]},
            "1e+09 s after t0 is not a date",
        ),
        ({"form": FORM, "ag": {"c9": ["ann"]}}, "ag: call 'c9' is not among the snapshot's calls"),
        ({"form": FORM, "t0": "2025-03-03T09:00:00"}, "t0: Input should have timezone info"),
    ],
)
def test_a_form_that_does_not_fit_is_refused_naming_what_is_wrong(data: object, words: str) -> None:
    with pytest.raises(ValueError, match="agents day: ") as refused:
        from_snapshot(data, [])
    assert words in str(refused.value)


def test_an_agent_ringing_from_a_pause_goes_back_to_it_after_the_snapshot() -> None:
    # before_ring travels: a late board puts the agent back where the hub does.
    events = floor_events()
    day = AgentsDay()
    rang = None
    for i, event in enumerate(events):
        day.apply(event)
        if any(a.before_ring is not None for a in day):
            rang = i + 1
            break
    assert rang is not None, "no agent rang in the floor"
    whole = AgentsDay()
    for event in events:
        whole.apply(event)
    back, form = carried(events, rang)
    assert any("before" in a for a in form["agents"])
    same_but_stories(back, whole, "after a ring")
    assert {a.state for a in back} <= set(AgentState)
