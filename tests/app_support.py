"""Shared by the pilot tests that feed the app through a hub: read the screen, wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget

from classifier.verdict import Outcome
from monitor.app.app import CallboardApp
from monitor.board import PANEL_ORDER

BOARD_FIXTURES = Path(__file__).parent.parent / "fixtures" / "board"
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


def screen_text(app: CallboardApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def until(pilot: Pilot[int], check: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await pilot.pause(0.02)


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
