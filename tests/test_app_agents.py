"""The agents panel through the real app (Textual pilot): tab 6 / key a, rows, sorts,
filters, the agent's day on Enter, urgency marks, masking, the per-queue agents, and
hostile names.

The floor is fixtures/agents/floor.jsonl, worked out by hand in tests/test_agents_day.py's
docstring; the clock stands at 2300 s after 09:00 UTC (09:38:20).
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest

from classifier.schema import AgentStatus, Event, PresenceStatus
from monitor.app.app import CallboardApp
from monitor.app.feed import fixture_runner
from monitor.app.screens import HelpScreen, StoryScreen
from monitor.app.widgets.agents import AgentsPanel
from tests.app_support import log_events, screen_text, until
from tests.cli_support import ROOT

FLOOR = ROOT / "fixtures" / "agents" / "floor.jsonl"
NINE = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def floor_app(
    events: list[Event] | None = None, seconds: float = 2300, mask: bool = False
) -> CallboardApp:
    now = NINE + timedelta(seconds=seconds)
    feed = events if events is not None else log_events(FLOOR)
    return CallboardApp(fixture_runner(feed, source="floor.jsonl"), clock=lambda: now, mask=mask)


def panel_text(app: CallboardApp) -> str:
    """The agents panel's part of the screen, line by line (other panels name agents too)."""
    panel = app.query_one(AgentsPanel)
    region = panel.region
    lines = screen_text(app).splitlines()[region.y : region.bottom]
    return "\n".join(line[region.x : region.right] for line in lines)


def agent_lines(app: CallboardApp) -> list[str]:
    """The agents panel's rows on screen, by agent name, in screen order."""
    names = ("Ana Silva", "Ben Okafor", "Cleo Novak", "Dev Rossi")
    return [line for line in panel_text(app).splitlines() if any(n in line for n in names)]


def order(app: CallboardApp) -> list[str]:
    found = []
    for line in agent_lines(app):
        for name in ("Ana Silva", "Ben Okafor", "Cleo Novak", "Dev Rossi"):
            if name in line:
                found.append(name)
    return found


async def finished(pilot: object, app: CallboardApp) -> None:
    await until(pilot, lambda: app.connection.state == "finished")  # type: ignore[arg-type]
    app.repaint()


async def test_small_screen_tab_6_shows_every_agent_with_state_time_and_figures() -> None:
    app = floor_app(mask=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app)
        assert not app.query_one(AgentsPanel).display  # a tab: hidden until chosen
        assert "6 Agents" in screen_text(app)  # ... and named on the tab strip
        await pilot.press("6")
        await until(pilot, lambda: "Ana Silva" in screen_text(app))
        assert isinstance(app.focused, AgentsPanel)
        text = screen_text(app)
        assert "▸6 Agents" in text and "6 Agents 4" in text
        rows = {line.split()[1]: line for line in agent_lines(app)}
        assert set(rows) == {"Ana", "Ben", "Cleo", "Dev"}
        # Default order: by state (paused, wrap-up, ringing, on a call, available, offline).
        assert order(app) == ["Cleo Novak", "Ana Silva", "Dev Rossi", "Ben Okafor"]
        cleo = rows["Cleo"]
        assert "on a call" in cleo and "3m15s" in cleo and "support" in cleo
        assert "+442079460002" not in text  # masked (and at 80 columns cut after the queue)
        assert "98%" in cleo  # 195 s talked of 200 s logged in
        ana = rows["Ana"]
        assert "available" in ana and "5m00s" in ana and "0%" in ana
        assert ana.split()[5:7] == ["0", "2"]  # answered 0, rung and not answered 2
        ben = rows["Ben"]
        assert "offline" in ben and "1m40s" in ben and "5%" in ben  # avg talk 100 s
        dev = rows["Dev"]
        assert "available" in dev and "2m05s" in dev and "1m00s" in dev and "32%" in dev
        # Back to an outcome panel: the agents tab hides again.
        await pilot.press("1")
        await until(pilot, lambda: not app.query_one(AgentsPanel).display)


async def test_sorts_cycle_with_s_on_the_panel() -> None:
    app = floor_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app)
        await pilot.press("a")
        await until(pilot, lambda: "Ana Silva" in screen_text(app))
        expected = {
            "longest in state": ["Ana Silva", "Cleo Novak", "Dev Rossi", "Ben Okafor"],
            "name": ["Ana Silva", "Ben Okafor", "Cleo Novak", "Dev Rossi"],
            "most missed": ["Ana Silva", "Ben Okafor", "Cleo Novak", "Dev Rossi"],
            "state": ["Cleo Novak", "Ana Silva", "Dev Rossi", "Ben Okafor"],
        }
        for sort, names in expected.items():
            await pilot.press("s")
            await until(pilot, lambda s=sort: f"sort: {s}" in screen_text(app))  # type: ignore[misc]
            assert order(app) == names, sort
        # The active calls' sort is the app's s elsewhere: unchanged by the agents' sorts.
        assert app.view.sort.value == "longest waiting"


async def test_enter_opens_the_agents_day() -> None:
    app = floor_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await finished(pilot, app)
        await pilot.press("a", "s", "s")  # by name: Ana first
        await until(pilot, lambda: "sort: name" in screen_text(app))
        await pilot.press("home", "enter")
        await until(pilot, lambda: isinstance(app.screen, StoryScreen))
        text = screen_text(app)
        assert "Agent Ana Silva: the day" in text
        assert "09:00:00  logged in" in text
        assert "09:00:12  call c1 from +442079460001 in queue sales: no answer" in text
        assert "09:03:20  paused (lunch): 30m00s" in text
        assert "09:37:32  call c4 from +442079460004 in queue sales: rejected" in text
        assert "answered 0, rung and not answered 2" in text
        assert "paused lunch 30m00s" in text
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, StoryScreen))


@pytest.mark.parametrize(("minutes", "mark"), [(10, "  "), (20, "! "), (40, "!!")])
async def test_a_long_pause_warns_then_alerts_with_marks(minutes: int, mark: str) -> None:
    events = log_events(FLOOR)[:12]  # Ana paused for lunch at 200 s
    app = floor_app(events, seconds=200 + minutes * 60)
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app)
        await pilot.press("a")
        await until(pilot, lambda: "Ana Silva" in screen_text(app))
        (ana,) = [line for line in agent_lines(app) if "Ana Silva" in line]
        assert ana[1:3] == mark, ana  # after the border
        assert "paused: lunch" in ana and f"{minutes}m00s" in ana


async def test_queue_filter_and_search_narrow_the_agents() -> None:
    app = floor_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app)
        await pilot.press("a")
        await until(pilot, lambda: "Ana Silva" in screen_text(app))
        await pilot.press("f")  # the first queue: sales
        await until(pilot, lambda: "3 shown" in screen_text(app))
        assert sorted(order(app)) == ["Ana Silva", "Ben Okafor", "Dev Rossi"]
        await pilot.press("f")  # support
        await until(pilot, lambda: "1 shown" in screen_text(app))
        assert order(app) == ["Cleo Novak"]
        await pilot.press("c", "slash")
        await pilot.press(*"okafor", "enter")
        await until(pilot, lambda: "1 shown" in screen_text(app))
        assert order(app) == ["Ben Okafor"]
        await pilot.press("c", "slash")
        await pilot.press(*"lunch", "enter")  # a pause reason: Ana paused for lunch before
        await until(pilot, lambda: "no agent matches" in screen_text(app))


async def test_big_screen_shows_the_panel_and_agents_per_queue() -> None:
    app = floor_app(mask=True)
    async with app.run_test(size=(200, 60)) as pilot:
        await finished(pilot, app)
        await until(pilot, lambda: "Ana Silva" in screen_text(app))
        text = screen_text(app)
        assert "6 Agents 4" in text and "avg talk" in text and "occup" in text
        (cleo,) = [line for line in agent_lines(app) if "Cleo Novak" in line]
        assert "3m15s support +44 207 ••• ••02" in cleo
        assert "+442079460002" not in text
        lines = text.splitlines()
        (head,) = [line for line in lines if "agents free" in line]
        assert head.split()[-3:] == ["agents", "free", "busy"]
        # The queue table lists queues with calls today (sales); support's only call is
        # still open. Serving sales: Ana and Dev available, Ben offline (not counted).
        sales = next(line for line in lines if line.lstrip().startswith("sales "))
        assert sales.split()[-2:] == ["2", "0"]
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_text = screen_text(app)
        assert "jump to the agents panel" in help_text and "a or 6" in help_text
        assert "Agents marked ! have been paused over 15 min" in help_text


HOSTILE = "[bold red]Eve[/] \x1b[31mred\x1b[0m \u202eevil\x07" + "x" * 200
HUGE = "[blink]" + "\x1b]8;;http://x\x07" + "٩(◕‿◕)۶" * 700  # about 5 kB


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_hostile_agent_names_are_shown_safely_and_cut(size: tuple[int, int]) -> None:
    at = NINE + timedelta(seconds=5)
    events: list[Event] = [
        AgentStatus(agent=HOSTILE, status=PresenceStatus.PAUSED, reason="[i]x[/i]\x1b[2J", ts=at),
        # 5 kB is over the schema's limit: built unvalidated, it stands for any path
        # that lets one through, and the screen must hold even then.
        AgentStatus.model_construct(
            type="agent.status", call_id="", agent=HUGE, status=PresenceStatus.AVAILABLE, ts=at
        ),
    ]
    app = floor_app(events, seconds=60)
    async with app.run_test(size=size) as pilot:
        await finished(pilot, app)
        await pilot.press("a")
        await until(pilot, lambda: "[bold red]Eve" in screen_text(app))
        text = panel_text(app)
        assert "[blink]" in text and "paused: [i]x" in text  # markup shown, not applied
        for strip in app.screen._compositor.render_strips():
            assert strip.cell_length == size[0]  # cut to the screen, nothing spills
            for segment in strip:
                assert segment.style is None or not segment.style.link
                for char in segment.text:
                    assert unicodedata.category(char) != "Cc", repr(char)
                    assert char != "\u202e"
