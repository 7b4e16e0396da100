"""The agents panel's order and urgency (monitor/agents_view.py), without the app."""

from __future__ import annotations

from datetime import datetime

import pytest

from classifier.agents import AgentsDay
from classifier.schema import parse_event
from monitor.agents_view import AgentOrder, AgentSort, AgentThresholds, agent_level, agent_rows
from monitor.board import Filter, Level
from monitor.sim.config import SimConfig
from monitor.sim.model import simulate


def status(day: AgentsDay, agent: str, ts: str, state: str, reason: str = "") -> None:
    # Each time parsed on its own, with its own zone object, as the feed gives them.
    text = f'"reason":"{reason}",' if reason else ""
    day.apply(
        parse_event(
            f'{{"type":"agent.status","ts":"{ts}",{text}"agent":"{agent}","status":"{state}"}}'
        )
    )


def test_longest_in_state_follows_changes_with_the_kept_stamps() -> None:
    day = AgentsDay()
    status(day, "Ana", "2025-03-03T09:00:00+01:00", "available")
    status(day, "Ben", "2025-03-03T08:30:00Z", "available")  # 09:30 in Ana's zone
    status(day, "Cy", "2025-03-03T10:10:00+02:00", "available")  # 09:10 there
    stamps: dict[str, tuple[datetime, float]] = {}
    names = [a.name for a in agent_rows(day, AgentSort.LONGEST, Filter(), stamps)]
    assert names == ["Ana", "Cy", "Ben"]
    status(day, "Ana", "2025-03-03T08:40:00Z", "paused", "lunch")  # Ana now the newest
    names = [a.name for a in agent_rows(day, AgentSort.LONGEST, Filter(), stamps)]
    assert names == ["Cy", "Ben", "Ana"]
    names = [a.name for a in agent_rows(day, AgentSort.STATE, Filter(), stamps)]
    assert names == ["Ana", "Cy", "Ben"]  # paused first


def test_levels_by_state_and_time() -> None:
    day = AgentsDay()
    status(day, "Ana", "2025-03-03T09:00:00Z", "wrap_up")
    ana = day.agents["Ana"]
    limits = AgentThresholds()
    at = datetime.fromisoformat
    assert agent_level(ana, at("2025-03-03T09:01:59Z"), limits) is Level.OK
    assert agent_level(ana, at("2025-03-03T09:02:01Z"), limits) is Level.WARN
    assert agent_level(ana, at("2025-03-03T09:04:01Z"), limits) is Level.ALERT
    status(day, "Ana", "2025-03-03T09:05:00Z", "available")
    assert agent_level(ana, at("2025-03-03T12:00:00Z"), limits) is Level.OK


@pytest.mark.slow
def test_the_kept_order_is_the_full_sort_at_every_frame_of_a_simulated_day() -> None:
    # Breaks with reasons, rings not taken, logins: every way an agent moves, at a
    # floor of 60, looked at every 40 events (a frame at a brisk rate).
    config = SimConfig(agents=60, calls_per_hour=1200, hours=1.5, seed=11, opens=0, closes=24)
    day = AgentsDay()
    filters = (Filter(), Filter(queue="sales"), Filter(text="a"))
    orders = {(sort, flt): AgentOrder() for sort in AgentSort for flt in filters}
    frames = 0
    for count, event in enumerate(simulate(config), 1):
        day.apply(event)
        if count % 40:
            continue
        frames += 1
        if count % 3000 == 0:
            day = AgentsDay.from_dict(day.to_dict())  # a hub's snapshot: another day object
        if count % 7000 == 0:
            day.new_day()
        for (sort, flt), order in orders.items():
            assert order.rows(day, sort, flt) == agent_rows(day, sort, flt), (count, sort, flt)
    assert len(day) > 60 and frames > 300
    for order in orders.values():
        # Most frames moved the few agents changed rather than sorting them all again.
        assert order.sorts < frames / 4 and order.moves > frames
