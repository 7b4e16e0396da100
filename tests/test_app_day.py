"""The wallboard's header shows the hub's day whenever the board joins, in every window.

Real hub on loopback, the real app headless, fed by `hub_runner` as `callboard watch`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from textual.pilot import Pilot

from classifier.day import Window
from classifier.schema import Event
from monitor.app.app import CallboardApp
from monitor.app.hub_feed import hub_runner
from monitor.app.widgets.header import KpiHeader
from monitor.feed.hub import Hub, HubConfig, running_hub
from monitor.sim.config import SimConfig
from monitor.sim.model import simulate
from tests.app_support import loaded, make_app, screen_text, until


async def headers(pilot: Pilot[int], app: CallboardApp, now: datetime) -> dict[Window, str]:
    """The header's text in each window, cycling through them with the `w` key."""
    out: dict[Window, str] = {}
    for window in (Window.DAY, Window.HOUR, Window.QUARTER):
        assert app.view.window is window
        title = f"{window.value} offered {app.board.kpis(now, window)[0].offered} "
        await until(pilot, lambda t=title: app.query_one(KpiHeader).text.startswith(t))
        out[window] = app.query_one(KpiHeader).text
        await pilot.press("w")
    assert app.view.window is Window.DAY  # w cycles back to the day
    return out


async def watch(hub: Hub, events: list[Event], now: datetime) -> dict[Window, str]:
    """Start a board on `hub`, publish `events` (if any) while it watches, read its header."""
    app = CallboardApp(hub_runner(hub.url), clock=lambda: now)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: app.connection.state == "live")
        for event in events:
            assert hub.publish(event).accepted
        await until(pilot, lambda: app.board.last_seq == hub.seq)
        return await headers(pilot, app, now)


@pytest.mark.slow
async def test_a_board_started_late_shows_the_header_of_one_that_watched_all_day() -> None:
    events = list(simulate(SimConfig(hours=1.0, seed=11)))
    now = max(e.ts for e in events) + timedelta(seconds=1)
    async with running_hub(HubConfig(port=0)) as hub:
        watched = await watch(hub, events, now)
        late = await watch(hub, [], now)
    assert late == watched
    day, hour, quarter = watched.values()
    assert day.startswith("Today offered ") and hour.startswith("Last 60 min offered ")
    # The hub saw the day from its first event: both boards say when that was.
    first = min(e.ts for e in events)
    assert f"Today's counts begin at {first:%H:%M:%S}" in day
    assert "counts begin" not in hour
    assert quarter.startswith("Last 15 min offered ")
    assert day != quarter  # the windows count other calls than the day


async def test_the_help_lists_the_window_key_and_narrow_headers_name_the_window() -> None:
    app = make_app()
    async with app.run_test(size=(110, 34)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: "the header and queue table count: today" in screen_text(app))
        await pilot.press("escape")
        # On a narrow screen the day has no title (as before); a window has a short one.
        assert not app.query_one(KpiHeader).text.startswith(("15m", "60m"))
        await pilot.press("w")
        await until(pilot, lambda: app.query_one(KpiHeader).text.startswith("60m Off "))
        await pilot.press("w")
        await until(pilot, lambda: app.query_one(KpiHeader).text.startswith("15m Off "))
