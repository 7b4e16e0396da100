"""Every site's agents on the board of several sites: `site/agent` rows, counts summed.

Two real hubs on loopback (sites a and b) fed the simulator's days, whose agents
have the same names at both sites; the board of both is the real app headless fed
by `sites_runner` (as `callboard watch URL URL`), and the boards it must agree with
are real boards following one hub each (`tests.day_support.BoardFollower`).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from classifier.agents import MAX_AGENTS, AgentsDay, AgentState, CurrentCall
from classifier.day import DayState
from classifier.schema import AgentStatus, Event, PresenceStatus
from classifier.sites_agents import merge_agents
from monitor.app.app import CallboardApp
from monitor.app.sites_feed import HubAddress, sites_runner
from monitor.board import Board
from monitor.feed.hub import HubConfig, running_hub
from monitor.feed.protocol import SourceStatus, encode_snapshot_parts
from monitor.sim.config import SimConfig
from monitor.sim.model import simulate
from tests.app_support import screen_text, until
from tests.day_support import BoardFollower, agents_shown
from tests.hub_support import free_port, scripted_hub


def agents_of(events: list[Event]) -> AgentsDay:
    day = AgentsDay()
    for event in events:
        day.apply(event)
    return day


def labelled_rows(board: Board, site: str, now: datetime) -> list[tuple[Any, ...]]:
    """A one-hub board's agents rows as the board of sites must show them: each name,
    queue and call id with `site/` before it (written out here, not by the code under test)."""
    rows = []
    for row in agents_shown(board, now)["rows"]:
        name, state, since, reason, call, queues, *figures = row
        if call is not None:
            call = CurrentCall(
                f"{site}/{call.call_id}",
                call.caller,
                None if call.queue is None else f"{site}/{call.queue}",
                call.since,
                call.answered,
            )
        name, queues = f"{site}/{name}", [f"{site}/{q}" for q in queues]
        rows.append((name, state, since, reason, call, queues, *figures))
    return rows


def test_two_sites_agents_of_the_same_names_are_two_rows_each_as_its_site_has_them() -> None:
    a = agents_of(list(simulate(SimConfig(hours=0.5, seed=3))))
    b = agents_of(list(simulate(SimConfig(hours=0.5, seed=4))))
    assert set(a.agents) & set(b.agents)  # the simulator names agents alike at both
    merged = merge_agents({"a": a, "b": b})
    assert set(merged.agents) == {f"a/{n}" for n in a.agents} | {f"b/{n}" for n in b.agents}
    for site, day in (("a", a), ("b", b)):
        for name, agent in day.agents.items():
            shown = merged.agents[f"{site}/{name}"]
            assert (shown.state, shown.since, shown.answered, shown.not_answered) == (
                agent.state,
                agent.since,
                agent.answered,
                agent.not_answered,
            )
            assert (shown.talk_s, shown.pause_s, shown.logged_in_s) == (
                agent.talk_s,
                agent.pause_s,
                agent.logged_in_s,
            )
            assert list(shown.queues) == [f"{site}/{q}" for q in agent.queues]
            assert [(line.call_id, line.queue) for line in shown.story] == [
                (
                    f"{site}/{line.call_id}" if line.call_id else "",
                    line.queue and f"{site}/{line.queue}",
                )
                for line in agent.story
            ]
    # Each agent's newest lines, as a hub's snapshot carries; the older counted, not lost.
    cut = merge_agents({"a": a, "b": b}, story_lines=5)
    for site, day in (("a", a), ("b", b)):
        for name, agent in day.agents.items():
            shown = cut.agents[f"{site}/{name}"]
            assert len(shown.story) == min(5, len(agent.story))
            assert shown.story_dropped + len(shown.story) == agent.story_dropped + len(agent.story)
    # The header's counts by state are the sites' counts added up.
    by_state = Counter(agent.state for agent in merged)
    assert by_state == Counter(x.state for x in a) + Counter(x.state for x in b)
    # The calls in progress the agents are on carry on under their labelled ids.
    assert {call_id for call_id, *_ in merged.held_calls()} == {
        f"{site}/{call_id}"
        for site, day in (("a", a), ("b", b))
        for call_id, *_ in day.held_calls()
    }


@pytest.mark.slow
def test_more_agents_than_a_day_holds_are_counted_refused_not_dropped_unsaid() -> None:
    at = datetime(2026, 3, 2, 9, 0, tzinfo=datetime.now().astimezone().tzinfo)
    half = MAX_AGENTS // 2 + 5
    days = {}
    for site in ("a", "b"):
        days[site] = agents_of(
            [
                AgentStatus(ts=at, agent=f"agent-{i}", status=PresenceStatus.AVAILABLE)
                for i in range(half)
            ]
        )
    merged = merge_agents(days)
    assert len(merged.agents) == MAX_AGENTS
    assert merged.agents_refused == 2 * half - MAX_AGENTS


@pytest.mark.slow
async def test_the_board_of_two_hubs_shows_the_agents_of_a_board_on_each_as_events_arrive() -> None:
    a_events = list(simulate(SimConfig(hours=0.5, seed=3)))
    b_events = list(simulate(SimConfig(hours=0.5, seed=4)))
    now = max(e.ts for e in a_events + b_events) + timedelta(seconds=1)
    b_port = free_port()
    async with running_hub(HubConfig(port=0, site="a")) as hub_a:
        # Site a's morning happened before any board joined: its agents' day comes in
        # the hub's snapshot.
        for event in a_events[: len(a_events) // 3]:
            assert hub_a.publish(event).accepted
        follower_a = BoardFollower(hub_a.url)
        runner = sites_runner([HubAddress(hub_a.url), HubAddress(f"ws://127.0.0.1:{b_port}")])
        app = CallboardApp(runner, clock=lambda: now)
        async with app.run_test(size=(200, 60)) as pilot:
            await until(pilot, lambda: app.connection.sites[0].state == "live")
            # Then site a's events, live: the board applies them as they come ...
            for event in a_events[len(a_events) // 3 : 2 * len(a_events) // 3]:
                assert hub_a.publish(event).accepted
            await follower_a.caught_up(hub_a.seq)
            await until(
                pilot,
                lambda: (
                    agents_shown(app.board, now)["rows"] and _same(app, follower_a.board, None, now)
                ),
            )
            # ... and site b comes up: its snapshot rebuilds the whole board, site a's
            # agents from what the runner kept of them, event by event.
            async with running_hub(HubConfig(port=b_port, site="b")) as hub_b:
                for event in b_events[: len(b_events) // 2]:
                    assert hub_b.publish(event).accepted
                follower_b = BoardFollower(hub_b.url)
                await until(pilot, lambda: [s.state for s in app.connection.sites] == ["live"] * 2)
                for event in a_events[2 * len(a_events) // 3 :]:
                    assert hub_a.publish(event).accepted
                for event in b_events[len(b_events) // 2 :]:
                    assert hub_b.publish(event).accepted
                await follower_a.caught_up(hub_a.seq)
                await follower_b.caught_up(hub_b.seq)
                await until(pilot, lambda: _same(app, follower_a.board, follower_b.board, now))
                by_state = agents_shown(app.board, now)["by_state"]
                assert by_state == (
                    agents_shown(follower_a.board, now)["by_state"]
                    + agents_shown(follower_b.board, now)["by_state"]
                )
                # The header's line says the summed counts.
                await pilot.pause()
                header = screen_text(app)
                assert f"available {by_state[AgentState.AVAILABLE]}" in header
                await follower_b.stop()
        await follower_a.stop()


def _same(app: CallboardApp, a: Board, b: Board | None, now: datetime) -> bool:
    """Whether the board of sites shows every agent row the one-hub boards show, labelled."""
    expected = labelled_rows(a, "a", now) + (labelled_rows(b, "b", now) if b else [])
    return sorted(agents_shown(app.board, now)["rows"], key=repr) == sorted(expected, key=repr)


async def test_a_site_whose_agents_day_cannot_be_read_is_named_and_the_others_shown() -> None:
    # Played by a scripted peer: a real hub never sends an agents' day it cannot read.
    a_events = list(simulate(SimConfig(hours=0.2, seed=3)))
    at = a_events[0].ts
    # `type` given, as a parsed event has it: the wire form leaves out what was not set.
    paused = AgentStatus(
        type="agent.status", ts=at, agent="1001", status=PresenceStatus.PAUSED, reason="lunch"
    )
    presence = [paused]
    day = DayState(mark_start=True).to_dict() | {"agents": {"form": 99}}

    def script(n: int, path: str) -> list[str]:
        return list(
            encode_snapshot_parts("hub-b", 0, [], presence, SourceStatus(), 0.0, day=day, site="b")
        )

    async with (
        running_hub(HubConfig(port=0, site="a")) as hub_a,
        scripted_hub(script) as (b_url, _),
    ):
        for event in a_events:
            assert hub_a.publish(event).accepted
        app = CallboardApp(sites_runner([HubAddress(hub_a.url), HubAddress(b_url)]))
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: [s.state for s in app.connection.sites] == ["live"] * 2)
            problem = (
                "site b: the hub's agents could not be read (agents day: snapshot form 99, "
                "expected 1); counting from here on"
            )
            await until(pilot, lambda: problem in app.board.problems)
            # Site b's agents from its presence; site a's whole agents' day, from its hub.
            agents = app.board.agents.agents
            assert agents["b/1001"].state is AgentState.PAUSED
            assert {n for n in agents if n.startswith("a/")} == {
                f"a/{n}" for n in hub_a.agents.agents
            }
