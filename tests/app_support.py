"""Shared by the pilot tests of the wallboard app: the board fixture, read the screen, wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget

from classifier.schema import Event
from classifier.verdict import Outcome
from monitor.app.app import CallboardApp
from monitor.app.feed import fixture_runner
from monitor.board import PANEL_ORDER, Board
from monitor.sources.reader import LineEvent, read_events
from tests.cli_support import ROOT
from tests.hub_support import DEADLINE

BOARD_FIXTURES = ROOT / "fixtures" / "board"
#: The board fixture log, and its hostile twin (every text field an attack).
BOARD_LOG = BOARD_FIXTURES / "board.jsonl"
HOSTILE_LOG = BOARD_FIXTURES / "hostile.jsonl"
#: The clock the board tests show BOARD_LOG at.
BOARD_NOW = datetime(2026, 11, 23, 9, 30, 0, tzinfo=UTC)
#: What BOARD_LOG's finished calls come to, panel by panel.
BOARD_EXPECTED = {
    Outcome.COMPLETED: 4,
    Outcome.MISSED: 3,
    Outcome.ABANDONED: 5,
    Outcome.VOICEMAIL: 1,
    Outcome.NOT_CONNECTED: 1,
}


def log_events(path: Path) -> list[Event]:
    """The events of a log, its bad lines left out (as the board leaves them out)."""
    return [item.event for item in read_events(path) if isinstance(item, LineEvent)]


def clean_events(path: Path = BOARD_LOG) -> list[Event]:
    """The events of a log that has no bad lines (it fails the test if one has)."""
    out = []
    for item in read_events(path):
        assert isinstance(item, LineEvent), item
        out.append(item.event)
    return out


def board_from(path: Path = BOARD_LOG, **kwargs: object) -> Board:
    """A board (no app) that has applied every event of a clean log."""
    board = Board(**kwargs)  # type: ignore[arg-type]
    for event in clean_events(path):
        board.apply(event)
    return board


def make_app(path: Path = BOARD_LOG) -> CallboardApp:
    """The board replaying a fixture log at once, its clock stopped at BOARD_NOW."""
    return CallboardApp(fixture_runner(log_events(path), source=path.name), clock=lambda: BOARD_NOW)


def screen_strips(app: App[Any]) -> list[Strip]:
    """The screen's lines as the terminal gets them (text and styles), one strip a line.

    The one use of a private Textual name in the tests: Textual has no public way to
    read what its compositor drew (`export_screenshot` gives SVG), so it is read
    here and only here; if a Textual upgrade renames it, every screen test fails at
    this line, loudly.
    """
    return list(app.screen._compositor.render_strips())


def screen_text(app: App[Any]) -> str:
    """The screen as a person reads it: one line of text per terminal line."""
    return "\n".join(strip.text for strip in screen_strips(app))


async def until(pilot: Pilot[Any], check: Callable[[], object], timeout: float = DEADLINE) -> None:
    """Poll until `check()` is true; fail after a generous timeout (the CI box is shared)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await pilot.pause(0.02)


async def loaded(pilot: Pilot[int]) -> CallboardApp:
    """Wait until make_app()'s board has BOARD_LOG applied and on screen."""
    app = pilot.app
    assert isinstance(app, CallboardApp)
    await until(pilot, lambda: app.connection.state == "finished")
    await until(pilot, lambda: "c17" in screen_text(app))
    return app


def counts(app: CallboardApp) -> dict[Outcome, int]:
    return {o: app.board.count_today(o) for o in PANEL_ORDER}


def record_refreshes(
    monkeypatch: pytest.MonkeyPatch, widget: Widget
) -> list[tuple[tuple[Region, ...], dict[str, Any]]]:
    """Each `refresh` the widget gets from now on, as (regions, keyword arguments)."""
    refreshed: list[tuple[tuple[Region, ...], dict[str, Any]]] = []
    real_refresh = widget.refresh

    def recording(*regions: Region, **kwargs: Any) -> Any:
        refreshed.append((regions, kwargs))
        return real_refresh(*regions, **kwargs)

    monkeypatch.setattr(widget, "refresh", recording)
    return refreshed
