"""Shared by the pilot tests that feed the app through a hub: read the screen, wait."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot

from classifier.verdict import Outcome
from monitor.app.app import CallboardApp
from monitor.board import PANEL_ORDER


def screen_text(app: CallboardApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def until(pilot: Pilot[int], check: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await pilot.pause(0.02)


def counts(app: CallboardApp) -> dict[Outcome, int]:
    return {o: app.board.count_today(o) for o in PANEL_ORDER}
