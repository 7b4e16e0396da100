"""Pilot tests of the wallboard app: every key and screen, fed by a fixture or a real hub."""

from __future__ import annotations

import time

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot

from classifier.schema import event_from_dict
from classifier.verdict import Outcome
from monitor.app.app import CallboardApp, Frame
from monitor.app.feed import fixture_runner
from monitor.app.screens import HelpScreen, SearchScreen, StoryScreen
from monitor.app.widgets.active import ActiveCalls
from monitor.app.widgets.panels import OutcomePanel
from monitor.board import SortKey
from tests.app_support import (
    BOARD_LOG,
    BOARD_NOW,
    loaded,
    log_events,
    make_app,
    screen_strips,
    screen_text,
    until,
)


def active_ids(app: CallboardApp) -> list[str]:
    return [c.call_id for c in app.query_one(ActiveCalls).rows]


async def test_board_shows_calls_panels_and_kpis_at_80x24() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await loaded(pilot)
        text = screen_text(app)
        assert "replay finished: board.jsonl" in text
        assert "Off 12" in text and "Ans 3" in text and "Abn 5" in text
        assert "1 Completed 4" in text and "2 Missed 3" in text
        assert "queued" in text and "3m30s" in text
        assert app.has_class("-narrow")


async def test_big_screen_shows_every_panel_and_queue_kpis() -> None:
    async with make_app().run_test(size=(160, 50)) as pilot:
        app = await loaded(pilot)
        await until(pilot, lambda: "Feed problems" in screen_text(app))
        text = screen_text(app)
        for title in ("Completed 4", "Missed 3", "Abandoned 5", "Voicemail 1", "Not connected 1"):
            assert title in text
        assert "billing" in text and "support" in text
        assert "rang Cid (rejected); hung up in queue support" in text
        assert app.has_class("-wide")


async def test_resize_switches_between_tabs_and_grid() -> None:
    async with make_app().run_test(size=(160, 50)) as pilot:
        app = await loaded(pilot)
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: app.has_class("-narrow"))
        await pilot.resize_terminal(160, 50)
        await until(pilot, lambda: app.has_class("-wide"))


async def test_s_cycles_the_sort_order() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await loaded(pilot)
        assert active_ids(app)[0] == "c17"
        await pilot.press("s")
        await until(pilot, lambda: app.view.sort is SortKey.TOTAL)
        await until(pilot, lambda: active_ids(app)[0] == "c13")
        await until(pilot, lambda: "sort: longest call" in screen_text(app))
        for _ in range(len(SortKey) - 1):
            await pilot.press("s")
        await until(pilot, lambda: app.view.sort is SortKey.WAITING)


async def test_f_filters_by_queue_in_turn() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await loaded(pilot)
        await pilot.press("f")
        await until(pilot, lambda: app.view.filter.queue == "billing")
        await until(pilot, lambda: active_ids(app) == ["c17"])
        await until(pilot, lambda: "filter: queue billing" in screen_text(app))
        await pilot.press("f")
        await until(pilot, lambda: set(active_ids(app)) == {"c11", "c13"})
        await pilot.press("f", "f")
        await until(pilot, lambda: app.view.filter.queue is None)
        assert len(active_ids(app)) == 7


async def test_o_filters_by_outcome_and_shows_that_panel() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await loaded(pilot)
        await pilot.press("o", "o")
        await until(pilot, lambda: app.view.filter.outcome is Outcome.MISSED)
        await until(pilot, lambda: app.view.panel is Outcome.MISSED)
        await until(pilot, lambda: "available-agents greeting" in screen_text(app))
        assert active_ids(app) == []


async def test_slash_searches_and_c_clears() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await loaded(pilot)
        await pilot.press("slash")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press(*"0117", "enter")
        await until(pilot, lambda: active_ids(app) == ["c17"])
        assert app.view.filter.text == "0117"
        await pilot.press("c")
        await until(pilot, lambda: len(active_ids(app)) == 7)
        # Esc in the search box changes nothing.
        await pilot.press("slash")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press("x", "escape")
        await until(pilot, lambda: not isinstance(app.screen, SearchScreen))
        assert app.view.filter.text == ""


async def test_enter_opens_the_story_of_an_active_call() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await loaded(pilot)
        await pilot.press("down", "enter")
        await until(pilot, lambda: isinstance(app.screen, StoryScreen))
        screen = app.screen
        assert isinstance(screen, StoryScreen)
        assert screen.story.call_id == "c11"
        await until(pilot, lambda: "still in progress: queued" in screen_text(app))
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, StoryScreen))


async def test_panel_keys_tab_and_story_of_a_finished_call() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await loaded(pilot)
        await pilot.press("3")
        await until(pilot, lambda: app.view.panel is Outcome.ABANDONED)
        panel = app.query_one("#panel-abandoned", OutcomePanel)
        await until(pilot, lambda: panel.has_focus)
        await until(pilot, lambda: "hung up in queue sales after 1m00s" in screen_text(app))
        await pilot.press("end", "enter")
        await until(pilot, lambda: isinstance(app.screen, StoryScreen))
        text = screen_text(app)
        assert "Call c03: abandoned" in text
        assert "rule 8 (queue_hangup) applies" in text
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, StoryScreen))
        await pilot.press("tab")
        await until(pilot, lambda: not panel.has_focus)
        await pilot.press("shift+tab")
        await until(pilot, lambda: panel.has_focus)


async def test_cursor_keys_move_in_the_table() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await loaded(pilot)
        table = app.query_one(ActiveCalls)
        await pilot.press("down", "down")
        await until(pilot, lambda: table.cursor == 2)
        await pilot.press("end")
        await until(pilot, lambda: table.cursor == 6)
        await pilot.press("home")
        await until(pilot, lambda: table.cursor == 0)
        await pilot.press("pagedown")
        await until(pilot, lambda: table.cursor > 0)
        await pilot.press("pageup", "up")
        await until(pilot, lambda: table.cursor == 0)
        await pilot.press("j", "j", "k")
        await until(pilot, lambda: table.cursor == 1)


async def test_p_pauses_the_screen_while_the_feed_goes_on() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await loaded(pilot)
        await pilot.press("p")
        await until(pilot, lambda: "PAUSED" in screen_text(app))
        new = event_from_dict(
            {"type": "call.started", "call_id": "late-1", "ts": "2026-11-23T09:29:59Z"}
        )
        app.feed_event(new)
        assert "late-1" in app.board.calls
        frames = app.frames
        await until(pilot, lambda: app.frames > frames)  # the bar still redraws
        assert "late-1" not in screen_text(app)
        await pilot.press("space")
        await until(pilot, lambda: "late-1" in screen_text(app))
        assert "PAUSED" not in screen_text(app)


async def test_m_masks_numbers() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await loaded(pilot)
        assert "+14155550117" in screen_text(app)
        await pilot.press("m")
        await until(pilot, lambda: "+1 415 ••• ••17" in screen_text(app))
        assert "+14155550117" not in screen_text(app)


async def test_help_screen_lists_every_key() -> None:
    async with make_app().run_test(size=(100, 40)) as pilot:
        app = await loaded(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        for words in ("next sort", "filter by the next queue", "pause the screen", "mask phone"):
            assert words in text
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def palette(pilot: Pilot[int], query: str, shows: str) -> None:
    """Open the command palette, type `query`, and wait for the command `shows`."""
    app = pilot.app
    assert isinstance(app, CallboardApp)
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*query)
    await until(pilot, lambda: shows in screen_text(app))


def underlined(app: CallboardApp, line: str) -> str:
    """The underlined characters of the screen line that shows `line`."""
    for strip in screen_strips(app):
        if line in strip.text:
            return "".join(seg.text for seg in strip if seg.style and seg.style.underline)
    raise AssertionError(f"{line!r} is not on the screen")


async def test_command_palette_offers_the_board_actions_with_the_match_underlined() -> None:
    async with make_app().run_test(size=(100, 40)) as pilot:
        app = await loaded(pilot)
        await palette(pilot, "unmask", "Mask / unmask numbers")
        assert underlined(app, "Mask / unmask numbers") == "unmask"
        await pilot.press("enter")
        await until(pilot, lambda: app.view.mask)


async def test_command_palette_shows_a_markup_queue_name_as_written() -> None:
    hostile = "[reverse]vip[/reverse]"
    started = {"type": "call.started", "call_id": "h1", "ts": "2026-11-23T09:29:00Z"}
    queued = {"type": "queue.entered", "call_id": "h1", "ts": "2026-11-23T09:29:05Z"}
    feed = [event_from_dict(started), event_from_dict({**queued, "queue": hostile})]
    app = CallboardApp(fixture_runner(feed), clock=lambda: BOARD_NOW)
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: app.connection.state == "finished")
        await palette(pilot, "vip", f"Filter: queue {hostile}")
        assert underlined(app, f"Filter: queue {hostile}") == "vip"


async def test_q_quits_with_status_0() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("q")
    assert app.return_code == 0


async def test_ctrl_c_quits_too() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+c")
    assert app.return_code == 0


async def test_frame_hook_reports_the_seq_on_screen() -> None:
    stamped = [
        e.model_copy(update={"seq": n}) for n, e in enumerate(log_events(BOARD_LOG), start=1)
    ]
    app = CallboardApp(fixture_runner(stamped), clock=lambda: BOARD_NOW)
    frames: list[Frame] = []
    app.frame_listeners.append(frames.append)
    started = time.time()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: any(f.seq == len(stamped) for f in frames))
        seen = time.time()
        # drawn_at is the wall time the frame reached the screen (bench compares it with
        # the hub's receive times): inside this run, and the frames in the order drawn.
        assert started <= frames[-1].drawn_at <= seen
        assert [f.drawn_at for f in frames] == sorted(f.drawn_at for f in frames)
        assert frames[-1].events_applied == len(stamped)


async def test_no_color_keeps_the_meaning_of_colours_in_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        lines = screen_text(app).splitlines()
        # Without colour, warn and alert still read as "!" and "!!" at the row start.
        assert any(line.startswith("│!! ") and "c17" in line for line in lines)
        assert any(line.startswith("│!  ") and "c12" in line for line in lines)
        assert "Max !3m30s" in screen_text(app)
