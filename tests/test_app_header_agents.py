"""The header's agent counts are the agents panel's rows by state (issue 16).

Through the real app (Textual pilot): after a replay of the real Asterisk queue_log
(whose agents the feed knows from ADDMEMBER, rings and answers, few from a status)
and after part of a simulated day (agents ringing, talking, paused and in wrap-up
where it stops), the header's "Agents available N ringing N ..." line, read off the
screen, counts exactly the panel's rows in each state, and the wall's "agents
available" tile says the same.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

from classifier.agents import AgentState
from classifier.schema import Event
from monitor.app.app import CallboardApp
from monitor.app.feed import fixture_runner
from monitor.app.widgets.agents import AgentsPanel
from monitor.commands.replay import replay_runner
from monitor.sim.config import SimConfig
from monitor.sim.model import simulate
from tests.app_support import screen_text, until
from tests.cli_support import REAL_QUEUE_LOG

#: The header's agents line, every state in the panel's words.
AGENTS_LINE = re.compile(
    r"Agents\s+" + r"\s+".join(rf"{re.escape(state.value)}\s+(\d+)" for state in AgentState)
)


def header_counts(app: CallboardApp) -> dict[AgentState, int]:
    """The counts the header shows, read off the screen."""
    found = AGENTS_LINE.search(screen_text(app))
    assert found is not None, screen_text(app)
    return {state: int(n) for state, n in zip(AgentState, found.groups(), strict=True)}


def panel_counts(app: CallboardApp) -> dict[AgentState, int]:
    """The agents panel's rows (no filter: every agent) by state."""
    rows = app.query_one(AgentsPanel).rows
    counted = Counter(agent.state for agent in rows)
    return {state: counted.get(state, 0) for state in AgentState}


async def _agree(app: CallboardApp, size: tuple[int, int]) -> dict[AgentState, int]:
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.connection.state == "finished")
        await pilot.press("a")  # the agents panel, drawn
        await until(pilot, lambda: app.query_one(AgentsPanel).rows)
        app.repaint()
        await pilot.pause()
        shown = header_counts(app)
        assert shown == panel_counts(app)
        assert sum(shown.values()) == len(app.board.agents)
        return shown


async def test_after_the_real_queue_log_the_header_counts_the_panels_rows() -> None:
    now = datetime(2018, 12, 4, 18, 0, 0, tzinfo=UTC)
    runner = replay_runner(REAL_QUEUE_LOG, speed=0, fmt="asterisk-queue-log")
    app = CallboardApp(runner, clock=lambda: now, rate=0)
    shown = await _agree(app, (200, 60))
    # Its agents are known from membership and calls, two of them on calls still open
    # where the log ends (tests/test_pty_agents.py's END_STATES); the old count, from
    # status reports only, had them available.
    assert shown == {
        AgentState.AVAILABLE: 2,  # 1141, 1126
        AgentState.RINGING: 0,
        AgentState.ON_CALL: 2,  # 1127, 1109
        AgentState.WRAP_UP: 0,
        AgentState.PAUSED: 0,
        AgentState.OFFLINE: 2,  # 1128, 1144
    }


async def test_after_a_simulated_stream_the_header_counts_the_panels_rows() -> None:
    events: list[Event] = list(simulate(SimConfig(hours=1.0, seed=11)))
    # Stopped mid-day: agents in every state, calls ringing and talking.
    cut = events[: len(events) * 2 // 3]
    now = cut[-1].ts
    app = CallboardApp(fixture_runner(cut, source="sim"), clock=lambda: now, rate=0)
    shown = await _agree(app, (80, 24))
    assert sum(shown.values()) >= 15  # the first hour's shifts (40 agents in all)
    busy = shown[AgentState.ON_CALL] + shown[AgentState.RINGING] + shown[AgentState.WRAP_UP]
    assert busy > 0 and shown[AgentState.AVAILABLE] > 0
