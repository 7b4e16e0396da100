"""Snapshots of the board at 80x24 and 160x50, from a fixed fixture with a frozen clock.

Update after an intended change with `pytest tests/test_snapshots.py --snapshot-update`
and look at the report before committing the new SVGs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from monitor.app.app import CallboardApp
from monitor.app.screens import StoryScreen
from monitor.config.load import read_config
from monitor.targets import Targets
from tests.app_support import make_app, until


async def settled(pilot: Pilot[Any]) -> None:
    """Wait until the fixture is applied and drawn (a condition, not a fixed pause)."""
    app = pilot.app
    assert isinstance(app, CallboardApp)
    await until(pilot, lambda: app.connection.state == "finished" and app.frames >= 2)
    frames = app.frames
    app.repaint()
    await until(pilot, lambda: app.frames != frames)  # a frame after the last repaint


def test_board_80x24(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=settled)


def test_board_160x50(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=(160, 50), run_before=settled)


def test_story_80x24(snap_compare: Any) -> None:
    async def open_story(pilot: Pilot[Any]) -> None:
        await settled(pilot)
        await pilot.press("2", "end", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, StoryScreen))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=open_story)


def test_wall_240x64(snap_compare: Any) -> None:
    """Wall mode at 1920x1080 with a 14 px font: every tile, every queue, the waiting calls."""
    app = make_app()
    app.view.wall = True
    assert snap_compare(app, terminal_size=(240, 64), run_before=settled)


def test_wall_120x36(snap_compare: Any) -> None:
    """Wall mode on a smaller screen: the day's tiles in two rows, queues in pages."""
    app = make_app()
    app.view.wall = True
    assert snap_compare(app, terminal_size=(120, 36), run_before=settled)


#: A config whose targets the board fixture misses (the day's SL 18% under 30%, its
#: abandon rate 36% over 20%, the longest wait 3:30 past 45 s).
MISSED_TARGETS = """\
[queues."*"]
wait_warn_s = 45
wait_alert_s = 300
sl_target_pct = 30
abandon_warn_pct = 20
"""


def test_wall_targets_missed_120x36(snap_compare: Any, tmp_path: Path) -> None:
    """Wall mode with a config's targets missed: SL `!!`, abandoned and longest `!`."""
    path = tmp_path / "callboard.toml"
    path.write_text(MISSED_TARGETS)
    app = make_app()
    app.board.targets = Targets(read_config(path))
    app.view.wall = True
    assert snap_compare(app, terminal_size=(120, 36), run_before=settled)
