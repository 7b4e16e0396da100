"""The agents' day (classifier/agents.py) on a hand-worked floor and on a real queue_log.

fixtures/agents/floor.jsonl is a short morning worked out by hand (times in seconds
after 09:00 UTC): Ana lets c1 ring out, pauses for lunch 200-2000 and rejects c4;
Ben answers c1 (30-130), wraps up, logs out at 2200; Cleo, never reported by a
status, answers c2 at 2105 and is still on it; Dev answers c3 (2115-2175), then c4
rings him until its caller hangs up. The board's clock stands at 2300.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from classifier.agents import (
    FORMAT_VERSION,
    MAX_AGENTS,
    AgentsDay,
    AgentState,
    LineKind,
    OfferResult,
    QueueAgents,
)
from classifier.schema import Event, event_from_dict, parse_event
from monitor.sources import iter_source
from monitor.sources.reader import LineEvent
from tests.cli_support import REAL_QUEUE_LOG, ROOT

FLOOR = ROOT / "fixtures" / "agents" / "floor.jsonl"
NINE = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
NOW = NINE + timedelta(seconds=2300)


def at(seconds: float) -> datetime:
    return NINE + timedelta(seconds=seconds)


def floor_events() -> list[Event]:
    return [parse_event(line) for line in FLOOR.read_text().splitlines()]


def floor(events: list[Event] | None = None) -> AgentsDay:
    day = AgentsDay()
    for event in events if events is not None else floor_events():
        day.apply(event)
    return day


def test_each_agent_state_and_day_as_worked_by_hand() -> None:
    day = floor()
    assert [a.name for a in day] == ["Ana Silva", "Ben Okafor", "Cleo Novak", "Dev Rossi"]
    ana, ben, cleo, dev = day.agents.values()

    assert (ana.state, ana.since) == (AgentState.AVAILABLE, at(2000))
    assert ana.in_state_s(NOW) == 300
    assert (ana.answered, ana.not_answered) == (0, 2)
    assert ana.pause_s == {"lunch": 1800.0} and ana.pauses == 1
    assert ana.occupancy(NOW) == 0.0 and ana.average_talk_s is None
    assert [(line.kind, line.result, line.reason, line.seconds) for line in ana.story] == [
        (LineKind.LOGIN, None, "login", None),
        (LineKind.OFFER, OfferResult.NO_ANSWER, "", None),
        (LineKind.PAUSE, None, "lunch", 1800.0),
        (LineKind.OFFER, OfferResult.REJECTED, "", None),
    ]

    assert (ben.state, ben.since, ben.reason) == (AgentState.OFFLINE, at(2200), "logout")
    assert (ben.answered, ben.not_answered, ben.talk_s, ben.average_talk_s) == (1, 0, 100, 100)
    assert ben.logged_in_until(NOW) == 2200
    assert ben.occupancy(NOW) == pytest.approx(100 / 2200)
    assert [line.kind for line in ben.story] == [LineKind.LOGIN, LineKind.OFFER, LineKind.LOGOUT]
    offer = ben.story[1]
    assert (offer.call_id, offer.caller, offer.queue) == ("c1", "+442079460001", "sales")
    assert (offer.result, offer.seconds) == (OfferResult.ANSWERED, 100.0)

    assert (cleo.state, cleo.since) == (AgentState.ON_CALL, at(2105))
    assert cleo.call is not None
    assert (cleo.call.call_id, cleo.call.caller, cleo.call.queue) == (
        "c2",
        "+442079460002",
        "support",
    )
    assert cleo.talk_until(NOW) == 195 and cleo.logged_in_until(NOW) == 200
    assert cleo.occupancy(NOW) == pytest.approx(195 / 200)

    # Nobody said Dev finished: the end of c3 freed him; c4's caller left while he rang.
    assert (dev.state, dev.since, dev.call) == (AgentState.AVAILABLE, at(2175), None)
    assert (dev.answered, dev.not_answered, dev.talk_s) == (1, 0, 60)
    assert dev.story[-1].result is OfferResult.CALLER_LEFT
    assert dev.occupancy(NOW) == pytest.approx(60 / 188)

    assert day.by_queue() == {"sales": QueueAgents(2, 0), "support": QueueAgents(0, 1)}


def test_ringing_and_back_to_the_state_before_it() -> None:
    events = floor_events()
    ringing = next(i for i, e in enumerate(events) if e.type == "agent.ringing")
    day = floor(events[: ringing + 1])
    ana = day.agents["Ana Silva"]
    assert ana.state is AgentState.RINGING and ana.call is not None
    assert ana.call.queue == "sales" and ana.call.caller == "+442079460001"
    day.apply(events[ringing + 1])
    ana = day.agents["Ana Silva"]
    assert (ana.state, ana.since, ana.call) == (AgentState.AVAILABLE, at(0), None)


def test_the_day_carried_as_json_at_every_point_goes_on_the_same() -> None:
    events = floor_events()
    whole = floor(events).to_dict()
    assert whole["version"] == FORMAT_VERSION
    for cut in range(len(events) + 1):
        first = floor(events[:cut])
        carried = AgentsDay.from_dict(json.loads(json.dumps(first.to_dict())))
        for event in events[cut:]:
            carried.apply(event)
        assert carried.to_dict() == whole, f"carried after event {cut}"


def test_a_snapshot_replaying_open_calls_counts_nothing_twice() -> None:
    events = floor_events()
    day = floor(events)
    before = day.to_dict()
    for event in events:
        if event.call_id == "c2":
            day.apply(event)
    assert day.to_dict() == before


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"version": 99, "agents": [], "calls": []}, "format version 99, expected 1"),
        ([], "format version 'list'"),
        ({"version": 1, "agents": [{"name": "x"}], "calls": []}, "KeyError"),
        ({"version": 1, "agents": [], "calls": [{"call_id": 3}]}, "KeyError"),
    ],
)
def test_a_day_that_does_not_fit_is_refused_with_what_is_wrong(data: object, words: str) -> None:
    with pytest.raises(ValueError, match="agents day") as caught:
        AgentsDay.from_dict(data)
    assert words in str(caught.value)


def test_status_for_unknown_agents_creates_them_and_the_floor_is_bounded() -> None:
    day = AgentsDay()
    for n in range(MAX_AGENTS + 3):
        day.apply(
            event_from_dict(
                {
                    "type": "agent.status",
                    "ts": 1740992400 + n,
                    "agent": f"agent {n}",
                    "status": "paused",
                    "reason": "break",
                }
            )
        )
    assert len(day) == MAX_AGENTS and day.agents_refused == 3
    first = day.agents["agent 0"]
    assert (first.state, first.reason, first.pauses) == (AgentState.PAUSED, "break", 1)


def test_a_pause_in_progress_counts_up_to_now_by_its_reason() -> None:
    day = floor(floor_events()[:12])  # Ana paused for lunch at 200
    ana = day.agents["Ana Silva"]
    assert ana.pause_until(at(500)) == {"lunch": 300.0}
    assert ana.pause_s == {}


def real_log_day() -> tuple[AgentsDay, datetime]:
    assert REAL_QUEUE_LOG.is_file(), f"the real queue_log is expected at {REAL_QUEUE_LOG}"
    day = AgentsDay()
    last = None
    for item in iter_source(REAL_QUEUE_LOG, "asterisk-queue-log"):
        if isinstance(item, LineEvent):
            day.apply(item.event)
            last = item.event.ts
    assert last is not None
    return day, last


def test_the_real_queue_log_shows_its_agents_in_the_states_where_it_ends() -> None:
    # Worked out from the raw lines (shared/realdata/asterisk/voipreports1-queue_log):
    # 1127 answered 1543942189.2194 (CONNECT at line 968) and 1109 answered
    # 1543942358.2226 (line 971): neither call has an ending line, so both are still
    # talking. 1141 finished its call with COMPLETECALLER (line 990) and let three
    # more ring out after it: available. 1126 was logged in (ADDMEMBER, line 758) and
    # ends letting 1543942788.2389 ring out: available. 1128 logged off (line 966),
    # 1144 too (line 892): offline.
    day, end = real_log_day()
    states = {a.name: a.state for a in day}
    assert states == {
        "1127": AgentState.ON_CALL,
        "1109": AgentState.ON_CALL,
        "1141": AgentState.AVAILABLE,
        "1126": AgentState.AVAILABLE,
        "1128": AgentState.OFFLINE,
        "1144": AgentState.OFFLINE,
    }
    calls = {a.name: a.call for a in day if a.call is not None}
    assert {n: (c.call_id, c.caller, c.queue) for n, c in calls.items()} == {
        "1127": ("1543942189.2194", "14155500022", "IT"),
        "1109": ("1543942358.2226", "13055500089", "IT"),
    }
    assert day.agents["1127"].since == datetime.fromtimestamp(1543942206, UTC)
    assert day.agents["1141"].since == datetime.fromtimestamp(1543942782, UTC)
    assert day.agents["1128"].since == datetime.fromtimestamp(1543941762, UTC)
    assert day.agents["1128"].reason == "logged off"
    # Every CONNECT is an answer (93 lines); every RINGNOANSWER a ring not taken (360).
    assert sum(a.answered for a in day) == 93
    assert sum(a.not_answered for a in day) == 360
    assert day.by_queue() == {"IT": QueueAgents(available=2, busy=2)}
    assert all(0 < (a.occupancy(end) or 0) < 1 for a in day)


def test_the_real_queue_log_answers_per_agent_match_its_connect_lines() -> None:
    lines = [line.split("|") for line in Path(REAL_QUEUE_LOG).read_text().splitlines()]
    connects: dict[str, int] = {}
    for fields in lines:
        if fields[4] == "CONNECT":
            name = fields[3].split("/", 1)[1]
            connects[name] = connects.get(name, 0) + 1
    day, _ = real_log_day()
    assert {a.name: a.answered for a in day} == connects


def test_busy_said_of_a_ringing_agent_keeps_them_ringing() -> None:
    # fixtures/board/board.jsonl lines 82-83: Dee rung for c12, then 'busy' at the same time.
    day = AgentsDay()
    for line in (
        '{"type":"call.started","call_id":"c12","ts":0,"from":"+1"}',
        '{"type":"agent.ringing","call_id":"c12","ts":5,"agent":"Dee"}',
        '{"type":"agent.status","ts":5,"agent":"Dee","status":"busy"}',
    ):
        day.apply(parse_event(line))
    dee = day.agents["Dee"]
    assert dee.state is AgentState.RINGING and dee.call is not None and not dee.call.answered
    day.apply(parse_event('{"type":"agent.answered","call_id":"c12","ts":9,"agent":"Dee"}'))
    assert dee.state is AgentState.ON_CALL and dee.answered == 1
