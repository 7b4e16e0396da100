"""Snapshots of the board at 80x24 and 160x50, from a fixed fixture with a frozen clock.

Update after an intended change with `pytest tests/test_snapshots.py --snapshot-update`
and look at the report before committing the new SVGs.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from monitor.app.app import CallboardApp
from monitor.app.feed import fixture_runner
from monitor.reader import LineEvent, read_events

BOARD_LOG = Path(__file__).parent.parent / "fixtures" / "board" / "board.jsonl"
NOW = datetime(2026, 11, 23, 9, 30, 0, tzinfo=UTC)


def make_app() -> CallboardApp:
    events = [i.event for i in read_events(BOARD_LOG) if isinstance(i, LineEvent)]
    return CallboardApp(fixture_runner(events, source="board.jsonl"), clock=lambda: NOW)


async def settled(pilot: Pilot[Any]) -> None:
    """Wait until the fixture is applied and drawn (a condition, not a fixed pause)."""
    app = pilot.app
    assert isinstance(app, CallboardApp)
    deadline = time.monotonic() + 20
    while app.connection.state != "finished" or app.frames < 2:
        assert time.monotonic() < deadline, "the board did not settle"
        await pilot.pause(0.02)
    frames = app.frames
    app.repaint()
    while app.frames == frames:
        assert time.monotonic() < deadline, "no frame after the last repaint"
        await pilot.pause(0.02)


def test_board_80x24(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=settled)


def test_board_160x50(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=(160, 50), run_before=settled)


def test_story_80x24(snap_compare: Any) -> None:
    async def open_story(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        await pilot.press("2", "end", "enter")
        deadline = time.monotonic() + 20
        while type(pilot.app.screen).__name__ != "StoryScreen":
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=open_story)
