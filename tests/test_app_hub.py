"""The wallboard fed by a real hub over a real loopback websocket (`callboard watch`)."""

from __future__ import annotations

from classifier.kpi import KpiSettings
from classifier.verdict import Outcome
from monitor.app.app import CallboardApp
from monitor.app.hub_feed import hub_runner
from monitor.board import Board
from monitor.feed.hub import Hub, HubConfig, running_hub
from monitor.sources.replay_source import ReplaySource
from tests.app_support import (
    BOARD_EXPECTED,
    BOARD_LOG,
    BOARD_NOW,
    HOSTILE_LOG,
    counts,
    screen_text,
    until,
)
from tests.hub_support import make_calls


async def test_watch_a_hub_replaying_a_log_fills_every_panel(hub: Hub) -> None:
    app = CallboardApp(hub_runner(hub.url, label="board.jsonl"), clock=lambda: BOARD_NOW, rate=0)
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


async def test_watch_follows_a_hub_started_elsewhere_and_shows_it_going_away(hub: Hub) -> None:
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


async def test_watch_live_events_arrive_while_connected(hub: Hub) -> None:
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


async def test_hostile_log_through_the_hub_renders_and_reports_the_bad_line(hub: Hub) -> None:
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


async def test_a_resync_that_skips_events_says_the_day_counts_are_incomplete() -> None:
    events = make_calls(12)
    # A small ring and queue: a burst the board cannot keep up with drops it, and when
    # it comes back the ring no longer holds what it missed: it re-syncs from a snapshot.
    # The board counts service level at 30 s, the hub at 20 s: it cannot take the hub's
    # day and counts for itself (as with a hub that sends no day), so the skip shows.
    async with running_hub(HubConfig(port=0, ring_size=10, queue_limit=20)) as hub:
        app = CallboardApp(
            hub_runner(hub.url),
            board=Board(KpiSettings(service_level_s=30)),
            clock=lambda: BOARD_NOW,
        )
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: app.connection.state == "live")
            for event in events[:5]:
                hub.publish(event)
            await until(pilot, lambda: app.board.count_today(Outcome.COMPLETED) == 1)
            for event in events[5:50]:  # no await between them: the burst drops the board
                hub.publish(event)
            await until(pilot, lambda: app.board.unseen_events > 0)
            received = app.board.count_today(Outcome.COMPLETED)
            skipped = app.board.unseen_events
            # Each call is 5 events; the board counted the ones whose ends it received.
            assert received + skipped // 5 == 10
            assert app.board.problems[0] == (
                f"re-synced from a snapshot: events {51 - skipped}-50 were never received; "
                "calls that ended among them are missing from today's counts and the panels"
            )
            await until(pilot, lambda: "counts incomplete" in screen_text(app))
            # The board carries on from the snapshot, and says so for the rest of the day.
            for event in events[50:]:
                hub.publish(event)
            await until(pilot, lambda: app.board.count_today(Outcome.COMPLETED) == received + 2)
            assert app.board.unseen_events == skipped
            assert "counts incomplete" in screen_text(app)


async def test_a_different_hub_after_a_reconnect_shows_its_day_and_when_it_begins() -> None:
    events = make_calls(4)
    async with running_hub(HubConfig(port=0)) as first:
        port = first.port
        app = CallboardApp(hub_runner(first.url), clock=lambda: BOARD_NOW)
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: app.connection.state == "live")
            for event in events[:5]:
                first.publish(event)
            await until(pilot, lambda: app.board.last_seq == 5)
            await first.stop()
            await until(pilot, lambda: app.connection.state == "reconnecting")
            # A hub without a journal comes back on the same port as a new hub, which
            # numbers its events from 1 again; two calls end there before the board is back.
            async with running_hub(HubConfig(port=port)) as second:
                for event in events[5:15]:
                    second.publish(event)
                await until(pilot, lambda: app.board.hub_id == second.hub_id)
                for event in events[15:]:
                    second.publish(event)
                # The board shows the new hub's day: the three calls it saw end (the first
                # hub's call is in no record the new hub has), and says since when, in words.
                await until(pilot, lambda: app.board.last_seq == 15)
                assert app.board.count_today(Outcome.COMPLETED) == 3
                assert app.board.day.counted_from == events[5].ts
                assert app.board.unseen_events == 0
                await until(
                    pilot,
                    lambda: (
                        "Today's counts begin at 22:13:30: the feed holds no record of the "
                        "day before then" in screen_text(app)
                    ),
                )
