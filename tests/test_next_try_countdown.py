"""The connection bar counts down a hub source's "next try in S s" on the board's clock.

A real hub runs `AmiSource` against the tests' scripted Asterisk (AMI over loopback),
which refuses its login: the source says it tries again in 30 s, once. The board
follows the hub over a real websocket; its clock is the test's, moved by hand, so the
countdown is read at known board times, never timed. The words themselves
(`monitor.text.next_try`) are checked on their own below.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.app.app import CallboardApp
from monitor.app.hub_feed import hub_runner
from monitor.app.widgets.status import ConnectionBar
from monitor.feed.hub import Hub
from monitor.sources.ami_client import AmiConfig, AmiSource
from monitor.text.next_try import TRYING_NOW, find_next_try, next_try
from tests.ami_support import ScriptedPbx, all_queue_events
from tests.app_support import record_refreshes, screen_text, until

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class BoardClock:
    """The board's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def test_the_sources_next_try_counts_down_on_the_boards_clock(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = BoardClock()
    async with ScriptedPbx(all_queue_events()) as pbx:
        config = AmiConfig(
            host="127.0.0.1",
            port=pbx.port,
            user="callboard",
            secret="wrong",  # refused: the source retries in backoff_min seconds
            backoff_min=30.0,
            backoff_max=30.0,
        )
        hub.attach_source(AmiSource(config))
        app = CallboardApp(hub_runner(hub.url), clock=clock)
        async with app.run_test(size=(160, 40)) as pilot:
            bar = app.query_one("#connection", ConnectionBar)
            said = f"reconnecting to AMI 127.0.0.1:{pbx.port}, attempt 1"
            await until(pilot, lambda: "login refused" in screen_text(app))
            assert f"◌ hub live; source {said}, next try in 30 s: login refused" in (
                bar.describe().plain
            )

            def on_screen(words: str) -> bool:
                return f"{said}{words}: login refused" in screen_text(app)

            clock.advance(1.4)
            # On screen at the app's next frame (one a second at least, for the clocks).
            await until(pilot, lambda: on_screen(", next try in 29 s"))  # 28.6 s left

            async def at(seconds: float) -> None:
                """The board `seconds` later, drawn now rather than at its next frame."""
                clock.advance(seconds)
                app.repaint()
                await pilot.pause()

            # Whole seconds left, rounded up: 'in 1 s' until the try is due.
            await at(0.7)  # 27.9 s left
            assert on_screen(", next try in 28 s")
            await at(26.0)  # 1.9 s left
            assert on_screen(", next try in 2 s")
            await at(1.0)  # 0.9 s left
            assert on_screen(", next try in 1 s")
            await at(0.9)  # due
            assert on_screen(TRYING_NOW)
            await at(60)
            assert on_screen(TRYING_NOW)  # never below 0

            # No redraw while the count does not move; one when it does.
            refreshed = record_refreshes(monkeypatch, bar)
            bar.repaint()
            bar.repaint()
            assert refreshed == []
            # Another attempt's words (the hub's status frame) start a new count.
            again = f"{said[:-1]}2{next_try(60)}: login refused"
            app.feed_connection(replace(app.connection, source_detail=again))
            assert refreshed, "the new words were drawn"
            assert ", attempt 2, next try in 60 s: login refused" in bar.describe().plain
            refreshed.clear()
            bar.repaint()
            assert refreshed == []
            clock.advance(1)
            bar.repaint()
            assert len(refreshed) == 1
            assert ", attempt 2, next try in 59 s: login refused" in bar.describe().plain


def test_the_words_sources_write_are_the_words_the_bar_finds() -> None:
    ami = f"reconnecting to AMI pbx:5038, attempt 4{next_try(4)}: login refused: x"
    esl = f"reconnecting to FreeSWITCH fs:8021, attempt 2{next_try(0.5)}: refused"
    found = find_next_try(ami)
    assert found is not None and found.seconds == 4
    assert found.after_s(0) == ami  # as said, until the board's clock moves
    assert found.after_s(0.01) == ami  # 3.99 s left: in 4 s, rounded up
    assert found.after_s(1) == ami.replace("in 4 s", "in 3 s")
    assert found.after_s(3.5) == ami.replace("in 4 s", "in 1 s")
    assert found.after_s(4) == ami.replace(", next try in 4 s", TRYING_NOW)
    assert found.after_s(1e9) == found.after_s(4)
    half = find_next_try(esl)
    assert half is not None and half.after_s(0) == esl
    assert half.after_s(0.2) == esl.replace("in 0.5 s", "in 1 s")
    assert half.after_s(0.5) == esl.replace(", next try in 0.5 s", TRYING_NOW)


@pytest.mark.parametrize(
    "detail",
    [
        "reconnecting to AMI pbx:5038, attempt 4: login refused",  # no next try named
        "next try in 4 s",  # not after an attempt's words
        "attempt 4, next try in soon s",
        "attempt 4, next try in " + "9" * 400 + " s",  # a number no source writes
        "attempt 4, next try in 4 seconds",
    ],
)
def test_a_detail_worded_otherwise_is_shown_as_it_came(detail: str) -> None:
    assert find_next_try(detail) is None
