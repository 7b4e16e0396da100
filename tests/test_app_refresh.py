"""What the board costs its terminal: only changed lines are refreshed; the repaint rate.

The real-terminal side (the screen stays right) is in test_pty_refresh.py.
"""

from __future__ import annotations

import argparse
import time

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from classifier.schema import event_from_dict
from monitor.app.app import CallboardApp, Frame
from monitor.app.launch import (
    LOCAL_REFRESH_HZ,
    SSH_REFRESH_HZ,
    add_board_options,
    over_ssh,
    refresh_rate_from,
)
from monitor.app.widgets.active import ActiveCalls
from monitor.app.widgets.rows import changed_width
from monitor.cli import main
from tests.app_support import BOARD_LOG, loaded, make_app, record_refreshes, screen_text, until

PLAIN = Style()
BOLD = Style(bold=True)


#: A call of BOARD_LOG rings an agent: a change on one row of the table.
RINGING = {"type": "agent.ringing", "call_id": "c17", "ts": "2026-11-23T09:29:58Z", "agent": "Ana"}


def strip(text: str, style: Style = PLAIN) -> Strip:
    return Strip([Segment(text, style)], len(text))


# --- which cells a changed line resends ----------------------------------------------


def test_a_line_never_drawn_is_sent_whole() -> None:
    assert changed_width(None, strip("abc   "), 6) == 6


def test_only_up_to_the_last_changed_cell_is_sent() -> None:
    before = strip("caller  queued   0s  12s c01")
    after = strip("caller  queued   1s  13s c01")
    assert changed_width(before, after, 28) == len("caller  queued   1s  13")


def test_a_change_in_the_last_cell_sends_the_whole_line() -> None:
    assert changed_width(strip("abc"), strip("abd"), 3) == 3


def test_a_change_of_style_sends_the_whole_line() -> None:
    assert changed_width(strip("abc  "), strip("abc  ", BOLD), 5) == 5
    split = Strip([Segment("ab", PLAIN), Segment("c  ", BOLD)], 5)
    assert changed_width(strip("abc  "), split, 5) == 5


def test_wide_characters_send_the_whole_line() -> None:
    # Characters are not cells once a character takes two: no arithmetic on them.
    assert changed_width(strip("名前 a"), strip("名前 b"), 6) == 6


# --- the repaint rate ----------------------------------------------------------------


def options(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_board_options(parser)
    return parser.parse_args(list(argv))


def test_the_default_rate_is_fast_locally_and_slower_over_ssh() -> None:
    assert refresh_rate_from(options(), {}) == LOCAL_REFRESH_HZ
    ssh = {"SSH_CONNECTION": "10.0.0.2 50022 10.0.0.1 22"}
    assert refresh_rate_from(options(), ssh) == SSH_REFRESH_HZ
    assert refresh_rate_from(options(), {"SSH_TTY": "/dev/pts/3"}) == SSH_REFRESH_HZ
    assert SSH_REFRESH_HZ < LOCAL_REFRESH_HZ
    assert not over_ssh({"SSH_CONNECTION": ""})


def test_an_explicit_rate_wins_over_the_ssh_default() -> None:
    ssh = {"SSH_CONNECTION": "10.0.0.2 50022 10.0.0.1 22"}
    assert refresh_rate_from(options("--refresh-rate", "10"), ssh) == 10
    assert refresh_rate_from(options("--refresh-rate", "0.5"), {}) == 0.5


@pytest.mark.parametrize("bad", ["0", "-2", "1000", "nan"])
def test_a_rate_out_of_range_is_named(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(BOARD_LOG), "--refresh-rate", bad]) == 2
    assert "--refresh-rate must be between 0.2 and 60" in capsys.readouterr().err


def test_the_board_commands_document_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["watch", "--help"])
    assert "--refresh-rate HZ" in capsys.readouterr().out


# --- only changed lines are refreshed ------------------------------------------------


async def test_a_repaint_refreshes_only_the_lines_that_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await loaded(pilot)
        await pilot.pause()
        active = app.query_one(ActiveCalls)
        calls = record_refreshes(monkeypatch, active)
        app.repaint()
        assert calls == [], "nothing changed, yet the table was refreshed"

        app.feed_event(event_from_dict(RINGING))
        app.repaint()
        refreshed = [regions for regions, _ in calls]
        lines = [region for regions in refreshed for region in regions]
        assert refreshed and all(regions for regions in refreshed), "a whole-widget refresh"
        assert all(region.height == 1 for region in lines)
        assert len(lines) < len(active.rows)
        await pilot.pause()
        assert "ringing Ana" in screen_text(app)


# --- the board wakes when a frame is due, not on a timer ---------------------------------


@pytest.mark.slow
async def test_a_quiet_board_wakes_once_per_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    """A finished replay changes nothing: it draws its clocks' frame once a second, and a
    board polling at its repaint rate (10 a second) would wake ten times per frame.
    (The scheduler's own tests are in test_frames.py; this one checks the app's wiring.)"""
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await loaded(pilot)
        assert app.repaint_hz == 10
        wakes = 0
        frame_due = app.scheduler.frame_due

        def counting(changed: bool) -> bool:
            # Every wake-up of the app asks whether a frame is due, whatever woke it.
            nonlocal wakes
            wakes += 1
            return frame_due(changed)

        monkeypatch.setattr(app.scheduler, "frame_due", counting)
        frames = app.frames
        await until(pilot, lambda: app.frames > frames)
        wakes, frames = 0, app.frames
        await until(pilot, lambda: app.frames >= frames + 3)
        assert wakes <= app.frames - frames + 1


async def test_a_failing_frame_stops_the_board_with_its_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A frame is drawn outside Textual's own timers; its failure must still end the app
    with the error shown, not vanish into the event loop and leave a frozen board."""

    def broken(app: CallboardApp) -> None:
        raise RuntimeError("the frame broke")

    monkeypatch.setattr(CallboardApp, "_tick", broken)
    app = make_app()
    with pytest.raises(RuntimeError, match="the frame broke"):
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: not app.is_running)
    assert app.return_code == 1


async def test_a_change_is_drawn_at_the_next_repaint_not_the_next_second() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await loaded(pilot)
        scheduler = app.scheduler
        await until(pilot, lambda: scheduler.wake_due - scheduler.drawn_at > 0.5)  # the clocks'
        drawn: list[Frame] = []
        app.frame_listeners.append(drawn.append)
        app.feed_event(event_from_dict(RINGING))
        # Due at the next point of the repaint grid: within one repaint interval.
        assert scheduler.wake_due - time.monotonic() <= 1 / app.repaint_hz
        await until(pilot, lambda: any(f.version == app.board.version for f in drawn))
        await until(pilot, lambda: "ringing Ana" in screen_text(app))
