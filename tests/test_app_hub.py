"""The wallboard fed by a real hub over a real loopback websocket (`callboard watch`)."""

from __future__ import annotations

from monitor.app.app import CallboardApp
from monitor.app.hub_feed import hub_runner
from monitor.hub import HubConfig, running_hub
from monitor.replay_source import ReplaySource
from tests.app_support import (
    BOARD_EXPECTED,
    BOARD_LOG,
    BOARD_NOW,
    HOSTILE_LOG,
    counts,
    screen_text,
    until,
)


async def test_watch_a_hub_replaying_a_log_fills_every_panel() -> None:
    async with running_hub(HubConfig(port=0)) as hub:
        app = CallboardApp(
            hub_runner(hub.url, label="board.jsonl"), clock=lambda: BOARD_NOW, rate=0
        )
        async with app.run_test(size=(160, 50)) as pilot:
            # The replay starts once the board has its (empty) snapshot, so every event
            # reaches the board as a live frame.
            await until(pilot, lambda: app.connection.state == "live")
            hub.attach_source(ReplaySource(BOARD_LOG, speed=0))
            await until(pilot, lambda: app.connection.state == "finished")
            assert counts(app) == BOARD_EXPECTED
            assert set(app.board.calls) == {"c11", "c12", "c13", "c17", "c19", "c20", "c21"}
            assert app.board.last_seq == hub.seq
            await until(pilot, lambda: "replay finished: board.jsonl" in screen_text(app))
            await until(pilot, lambda: "Abandoned 5" in screen_text(app))


async def test_watch_follows_a_hub_started_elsewhere_and_shows_it_going_away() -> None:
    async with running_hub(HubConfig(port=0)) as hub:
        hub.attach_source(ReplaySource(BOARD_LOG, speed=0))
        await hub.wait_source_finished()
        app = CallboardApp(hub_runner(hub.url), clock=lambda: BOARD_NOW)
        async with app.run_test(size=(80, 24)) as pilot:
            # Joining after the replay ended: everything arrives in the snapshot.
            await until(pilot, lambda: app.connection.state == "finished")
            assert len(app.board.calls) == 7
            await hub.stop()
            await until(pilot, lambda: app.connection.state == "reconnecting")
            await until(pilot, lambda: "reconnecting (attempt" in screen_text(app))
            assert app.connection.last_error


async def test_watch_live_events_arrive_while_connected() -> None:
    async with running_hub(HubConfig(port=0)) as hub:
        app = CallboardApp(hub_runner(hub.url), clock=lambda: BOARD_NOW)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.connection.state == "live")
            await until(pilot, lambda: "● live" in screen_text(app))
            hub.attach_source(ReplaySource(BOARD_LOG, speed=0))
            await until(pilot, lambda: counts(app) == BOARD_EXPECTED)
            # The hub's source ended: the board says so.
            await until(pilot, lambda: "■ replay finished" in screen_text(app))


async def test_a_wrong_token_is_shown_not_retried_forever() -> None:
    async with running_hub(HubConfig(port=0, token="right")) as hub:
        app = CallboardApp(hub_runner(hub.url, token="wrong"), clock=lambda: BOARD_NOW)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.connection.state == "closed")
            await until(pilot, lambda: "disconnected" in screen_text(app))
            assert "401" in (app.connection.last_error or "")


async def test_hostile_log_through_the_hub_renders_and_reports_the_bad_line() -> None:
    async with running_hub(HubConfig(port=0)) as hub:
        app = CallboardApp(hub_runner(hub.url, label="hostile"), clock=lambda: BOARD_NOW, rate=0)
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: app.connection.state == "live")
            hub.attach_source(ReplaySource(HOSTILE_LOG, speed=0))
            await until(pilot, lambda: app.connection.state == "finished")
            await until(pilot, lambda: app.board.problem_count >= 1)
            # Through a hub the board learns how many lines its source skipped; the
            # line itself is in the hub's log (replay names it on the board).
            assert app.board.problems[0] == (
                f"the hub's source {HOSTILE_LOG} skipped 1 bad input lines"
            )
            await until(pilot, lambda: "Feed problems 1" in screen_text(app))
            text = screen_text(app)
            assert "\x1b" not in text
            assert "[bold red]BOOM" in text
