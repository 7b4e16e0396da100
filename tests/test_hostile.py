"""Hostile feed text (markup, escapes, huge, right-to-left, emoji) renders literally and safely."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest

from classifier.schema import AgentRinging, CallEnded, CallStarted, EndedBy, Event, QueueEntered
from monitor.app.app import CallboardApp
from monitor.app.feed import fixture_runner
from monitor.app.screens import StoryScreen
from monitor.app.widgets.active import ActiveCalls
from tests.app_support import BOARD_NOW, HOSTILE_LOG, log_events, screen_strips, screen_text, until

TS = datetime(2026, 11, 23, 9, 10, 0, tzinfo=UTC)
HUGE = "[bold]" + "\x1b[31m" + "٩(◕‿◕)۶" * 1500 + "\u202e" + "9" * 10_240


def hostile_events() -> list[Event]:
    """The hostile log, plus events the schema would refuse (10 kB strings), built directly.

    `model_construct` skips validation: it stands for any future path that lets a
    long string through, so the screen must hold even then.
    """
    events = log_events(HOSTILE_LOG)
    events += [
        CallStarted.model_construct(call_id="h-huge", ts=TS, from_=HUGE, to=HUGE),
        QueueEntered.model_construct(call_id="h-huge", ts=TS, queue=HUGE),
        AgentRinging.model_construct(call_id="h-huge", ts=TS, agent=HUGE),
        CallStarted.model_construct(call_id="h-huge-2", ts=TS, from_=HUGE, to=""),
        CallEnded.model_construct(call_id="h-huge-2", ts=TS, by=EndedBy.CALLER, cause=HUGE),
    ]
    return events


def assert_safe(app: CallboardApp) -> None:
    strips = screen_strips(app)
    for strip in strips:
        for segment in strip:
            for char in segment.text:
                category = unicodedata.category(char)
                assert category != "Cc", f"control character {char!r} on screen"
                assert char not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
            style = segment.style
            assert style is None or not style.link, "feed text became a hyperlink"


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_hostile_strings_render_literally(size: tuple[int, int]) -> None:
    app = CallboardApp(fixture_runner(hostile_events()), clock=lambda: BOARD_NOW)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.connection.state == "finished")
        await until(pilot, lambda: "h-huge" in screen_text(app))
        text = screen_text(app)
        assert "[reverse]" in text  # markup shown as text, not applied
        assert "[blink]agent" in text
        assert "+14155550199" in text  # the escape sequences around it are gone
        assert "مرحبا" in text
        assert_safe(app)
        # Masking must not let anything through either.
        await pilot.press("m")
        await until(pilot, lambda: app.view.mask)
        await pilot.pause()
        assert_safe(app)


@pytest.mark.slow
async def test_every_hostile_call_story_opens_safely() -> None:
    app = CallboardApp(fixture_runner(hostile_events()), clock=lambda: BOARD_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.connection.state == "finished")
        table = app.query_one(ActiveCalls)
        await until(pilot, lambda: len(table.rows) == 6)
        for index in range(len(table.rows)):
            table.cursor = index
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, StoryScreen))
            await pilot.pause()
            assert_safe(app)
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, StoryScreen))
        # The finished hostile calls, from their panels.
        await pilot.press("2")
        await until(pilot, lambda: app.focused is not table)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, StoryScreen))
        await pilot.pause()
        assert_safe(app)
        assert "[bold red]BOOM[/]" in screen_text(app)


async def test_searching_for_hostile_text_is_safe() -> None:
    app = CallboardApp(fixture_runner(hostile_events()), clock=lambda: BOARD_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.connection.state == "finished")
        await pilot.press("slash", *"[bold", "enter")
        await until(pilot, lambda: app.view.filter.text == "[bold")
        await pilot.pause()
        assert_safe(app)
        assert "filter: “[bold”" in screen_text(app)
