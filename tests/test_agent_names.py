"""callboard.toml's `[agents]` display names on the board, the ids still searchable.

The real board app on the board fixture log, its names read from a real config
file as `run_board` reads them; one name is hostile (markup and an escape), and
must be shown as text, never applied. Then `callboard replay --config` on a pty.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from monitor.agent_names import AgentNames
from monitor.app.app import CallboardApp
from monitor.app.screens import SearchScreen, StoryScreen
from monitor.config.load import ConfigError, parse_config, read_config
from tests.app_support import (
    BOARD_LOG,
    BOARD_NOW,
    loaded,
    make_app,
    screen_strips,
    screen_text,
    until,
)
from tests.cli_support import ROOT
from tests.pty_support import Terminal

NAMES = """\
[agents]
"Ben" = "Benjamin O."
"Cid" = "Charlotte"
"Dee" = "[bold red]Dee\\u001b[2J"
"""


def named_app(tmp_path: Path) -> CallboardApp:
    path = tmp_path / "callboard.toml"
    path.write_text(NAMES)
    app = make_app()
    app.board.agent_names = AgentNames(read_config(path).agents)
    return app


def test_ids_are_replaced_only_where_they_stand_alone() -> None:
    names = AgentNames({"1127": "Priya", "Agent/1127": "Priya K."})
    assert names.text("rang Agent/1127 (no answer), 1127 (rejected)") == (
        "rang Priya K. (no answer), Priya (rejected)"
    )
    # Part of a longer id or number: left alone.
    assert names.text("SIP/1127 and +4411270 and 1127b") == "SIP/1127 and +4411270 and 1127b"
    assert names.show("Agent/9") == "Agent/9" and names.search_text("1127") == ("1127", "Priya")


async def test_the_board_names_agents_by_the_files_names(tmp_path: Path) -> None:
    app = named_app(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await loaded(pilot)
        await until(pilot, lambda: "Charlotte" in screen_text(app))
        text = screen_text(app)
        # Active rows: c13 talks to Ben, c12 rings Dee.
        assert "talking to Benjamin O." in text and not re.search(r"talking to Ben\b", text)
        assert "ringing [bold red]Dee" in text
        # The missed panel's reason, and the agents panel's rows.
        assert "rang Charlotte (rejected)" in text and "rang Cid" not in text
        # The hostile name is text: markup shown, the escape never reaches the screen.
        for strip in screen_strips(app):
            for segment in strip:
                assert all(unicodedata.category(c) != "Cc" for c in segment.text)
        # The call's story says the name too.
        story = app.board.story("c13", BOARD_NOW)
        assert story is not None
        assert any("Benjamin O. answered" in line.text for line in story.lines)


@pytest.mark.parametrize("needle", ["charlotte", "Cid"])
async def test_a_search_finds_an_agent_by_name_or_id(tmp_path: Path, needle: str) -> None:
    app = named_app(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await loaded(pilot)
        await pilot.press("slash")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press(*needle, "enter")
        await until(pilot, lambda: app.view.filter.text == needle)
        missed = app.board.finished(app.view.panel.MISSED, app.view.filter)
        assert [f.verdict.call_id for f in missed] == ["c05"]
        await until(pilot, lambda: "Agents 6" in screen_text(app))
        agents = app.query_one("#agents")
        assert [a.name for a in agents.rows] == ["Cid"]  # type: ignore[attr-defined]


async def test_the_agents_day_is_titled_with_the_name_and_id(tmp_path: Path) -> None:
    app = named_app(tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await loaded(pilot)
        await pilot.press("a", "s", "s")  # by name: the names on screen, '[' first
        await until(pilot, lambda: "sort: name" in screen_text(app))
        await pilot.press("home", "enter")
        await until(pilot, lambda: isinstance(app.screen, StoryScreen))
        await until(pilot, lambda: "the day" in screen_text(app))
        assert "Agent [bold red]Dee (Dee): the day" in screen_text(app)


@pytest.mark.slow
def test_replay_with_a_config_shows_the_names(tmp_path: Path) -> None:
    config = tmp_path / "callboard.toml"
    config.write_text(NAMES)
    log = str(BOARD_LOG.relative_to(ROOT))
    term = Terminal(["replay", log, "--speed", "0", "--config", str(config)], 160, 50)
    try:
        term.wait_for(lambda: "replay finished" in term.text() and "Charlotte" in term.text())
        # The agents panel's rows and the missed panel's reason.
        assert "Benjamin O." in term.text() and "rang Cid" not in term.text()
        term.press(b"q")
        assert term.exit_code() == 0
    finally:
        term.close()


def test_an_empty_name_or_one_that_is_not_text_is_named_with_its_line() -> None:
    text = '[agents]\n"Ben" = "Benjamin"\n"Cid" = ""\n"Dee" = 7\n'
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "c.toml")
    assert [(p.line, p.key) for p in caught.value.problems] == [
        (3, "agents.Cid"),
        (4, "agents.Dee"),
    ]
