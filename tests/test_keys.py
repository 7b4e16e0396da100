"""The board's keys come from one table (monitor.app.keys): the app's bindings, the
help screen and the palette's actions are built from it and agree with each other."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot

from classifier.verdict import Outcome
from monitor.app.app import CallboardApp
from monitor.app.keys import KEYS, commands
from monitor.app.screens import HelpScreen
from tests.app_support import loaded, make_app, screen_text, until


def test_every_binding_of_the_app_is_a_line_of_the_key_table() -> None:
    rows = {binding.key: key for key in KEYS for binding in key.bindings}
    for binding in CallboardApp.BINDINGS:
        assert not isinstance(binding, tuple)
        if binding.action.startswith("panel("):
            continue  # the panel keys are built from the panel order: the row "1 … 5"
        assert binding.key in rows, binding
    # Every command of the palette runs the action of a key on the help screen.
    assert [key.command for key in commands()] == [
        "Agents panel",
        "Sort: next order",
        "Filter: next queue",
        "Filter: next outcome",
        "Search calls",
        "Clear filters",
        "Pause / resume the screen",
        "Mask / unmask numbers",
        "Window: today / last 60 / last 15 minutes",
        "Wall mode / board",
        "Help: keys",
        "Quit",
    ]
    assert all(key.action for key in commands())


async def test_the_help_screen_lists_every_row_of_the_key_table() -> None:
    async with make_app().run_test(size=(200, 50)) as pilot:
        app = await loaded(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        lines = screen_text(app).splitlines()
        for key in KEYS:
            assert any(key.keys in line and key.help in line for line in lines), key


async def palette_run(pilot: Pilot[int], name: str) -> None:
    """Open the command palette, type `name`, and run the command it shows."""
    app = pilot.app
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*name)
    await until(pilot, lambda: name in screen_text(app))
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(app.screen, CommandPalette))


@pytest.mark.slow
async def test_the_palette_runs_the_actions_of_the_keys() -> None:
    async with make_app().run_test(size=(100, 40)) as pilot:
        app = await loaded(pilot)
        await palette_run(pilot, "Pause / resume the screen")
        await until(pilot, lambda: app.view.paused)
        await palette_run(pilot, "Show panel: Missed")
        await until(pilot, lambda: app.view.panel is Outcome.MISSED)
