"""The active-calls table keeps each call's fixed columns between frames; its clocks move.

The rows must read exactly as the columns written out afresh from the call do:
at any clock (half seconds included, where rounding could tell two ways of
subtracting times apart), masked or not, on a wide or a small screen, and again
after the call changed (rang an agent) or the view did (masking turned on).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.cells import set_cell_size
from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.strip import Strip

from classifier.call import Call
from classifier.detail import duration
from classifier.schema import event_from_dict
from monitor.app.app import CallboardApp
from monitor.app.widgets.active import ActiveCalls
from monitor.app.widgets.rows import RowView
from monitor.board import Level
from monitor.story import display_state
from monitor.text.safe_text import clean
from tests.app_support import BOARD_NOW, loaded, make_app, screen_strips, until

NARROW = ((2, False), (16, False), (3, False), (9, False), (21, False), (6, True), (6, True))
WIDE = ((2, False), (20, False), (3, False), (14, False), (30, False), (8, True), (8, True))
MARKS = {Level.OK: "", Level.WARN: "!", Level.ALERT: "!!"}


def written_out(app: CallboardApp, call: Call, width: int, now: datetime) -> str:
    """A row as its columns say, from the call alone (no caching, datetimes subtracted)."""
    since = call.phase_since or call.started_at
    values = (
        MARKS[app.board.level(call, now)],
        app.view.number(call.caller or "unknown", 40),
        "in" if call.direction.value == "inbound" else "out",
        clean(call.queue or "", 40),
        clean(display_state(call), 60),
        duration((now - since).total_seconds()),
        duration((now - call.started_at).total_seconds()),
    )
    cells = [
        value[:w].rjust(w) if right else set_cell_size(value, w)
        for (w, right), value in zip(WIDE if width >= 120 else NARROW, values, strict=True)
    ]
    return " ".join(cells) + " " + clean(call.call_id, 40)


def rows_now(active: ActiveCalls, now: datetime) -> list[str]:
    active.view.now = now
    width = active._width
    return [active.row(i, width)[0][0].plain for i in range(len(active.rows))]


def expected_now(app: CallboardApp, active: ActiveCalls, now: datetime) -> list[str]:
    return [written_out(app, call, active._width, now) for call in active.rows]


CLOCKS = [
    timedelta(0),
    timedelta(milliseconds=500),
    timedelta(milliseconds=800),
    timedelta(seconds=1, milliseconds=800),
    timedelta(seconds=5, milliseconds=800),
    timedelta(seconds=1, milliseconds=500),
    timedelta(seconds=2, microseconds=499_999),
    timedelta(seconds=2, microseconds=500_001),
    timedelta(minutes=3, seconds=7, milliseconds=700),
    timedelta(hours=1, minutes=2, seconds=30),
]


async def check_rows(pilot: Pilot[int], app: CallboardApp) -> None:
    active = app.query_one(ActiveCalls)
    assert active.rows, "the fixture has calls in progress"
    for offset in CLOCKS:
        now = BOARD_NOW + offset
        assert rows_now(active, now) == expected_now(app, active, now), f"at {now}"


async def test_rows_read_as_their_columns_written_out_at_any_clock() -> None:
    for size in ((160, 50), (80, 24)):
        async with make_app().run_test(size=size) as pilot:
            app = await loaded(pilot)
            await check_rows(pilot, app)


async def test_rows_follow_the_call_and_the_view_when_they_change() -> None:
    async with make_app().run_test(size=(160, 50)) as pilot:
        app = await loaded(pilot)
        active = app.query_one(ActiveCalls)
        await check_rows(pilot, app)  # the fixed columns are now kept for every row
        before = rows_now(active, BOARD_NOW)
        # c17 rings an agent at a fraction of a second: its state and its time in
        # state change, and that time no longer falls on a whole second.
        ringing = {
            "type": "agent.ringing",
            "call_id": "c17",
            "ts": "2026-11-23T09:29:58.300000Z",
            "agent": "Ana",
        }
        app.feed_event(event_from_dict(ringing))
        app.repaint()
        await check_rows(pilot, app)
        assert any("ringing Ana" in row for row in rows_now(active, BOARD_NOW))
        # Ana does not answer and Ben is rung: still ringing, another agent.
        for event in (
            {
                "type": "agent.no_answer",
                "call_id": "c17",
                "ts": "2026-11-23T09:29:59Z",
                "agent": "Ana",
            },
            {
                "type": "agent.ringing",
                "call_id": "c17",
                "ts": "2026-11-23T09:29:59Z",
                "agent": "Ben",
            },
        ):
            app.feed_event(event_from_dict(event))
        app.repaint()
        await check_rows(pilot, app)
        assert any("ringing Ben" in row for row in rows_now(active, BOARD_NOW))
        app.view.mask = True
        app.repaint()
        await check_rows(pilot, app)
        masked = rows_now(active, BOARD_NOW)
        assert masked != before
        assert not any("+14155550117" in row for row in masked)


async def test_the_kept_columns_follow_the_screen_not_the_calls_open() -> None:
    # A big centre has thousands of calls open and a screen shows a few dozen: the
    # columns kept between frames must be bounded by the screen.
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await loaded(pilot)
        active = app.query_one(ActiveCalls)
        for n in range(300):
            started = {
                "type": "call.started",
                "call_id": f"many-{n:03d}",
                "ts": "2026-11-23T09:29:00Z",
                "from": f"+4479460{n:04d}",
            }
            app.feed_event(event_from_dict(started))
        app.repaint()
        rows_now(active, BOARD_NOW)  # every row drawn once, as scrolling through them would
        bound = 4 * active.page_rows + 64
        assert len(active.rows) > bound, "more calls open than the bound, or this proves nothing"
        app.repaint()
        assert len(active._fixed) <= bound
        await check_rows(pilot, app)


class _StyledRows(RowView):
    """One row styled as a whole, one styled as a whole under a span of its own."""

    def row_count(self) -> int:
        return 2

    def row(self, index: int, width: int) -> tuple[list[Text], Level]:
        if index == 0:
            return [Text("whole line bold", style="bold")], Level.OK
        text = Text("italic base, ", style="italic")
        text.append("red span", style="red")
        return [text], Level.OK


class _RowsApp(App[None]):
    # The rows' own styles alone: no border beside them, and no focus (the cursor's row
    # is highlighted, bold, only while the view has the focus).
    CSS = "_StyledRows { border: none; }"
    AUTO_FOCUS = None

    def compose(self) -> ComposeResult:
        yield _StyledRows()


def _line(app: App[None], words: str) -> Strip | None:
    return next((s for s in screen_strips(app) if words in s.text), None)


async def test_a_row_keeps_its_own_whole_line_style() -> None:
    app = _RowsApp()
    async with app.run_test(size=(40, 6)) as pilot:
        await until(pilot, lambda: _line(app, "red span") is not None)
        bold, spanned = _line(app, "whole line bold"), _line(app, "red span")
        assert bold is not None and spanned is not None
        assert all(seg.style and seg.style.bold for seg in bold if seg.text.strip())
        assert all(seg.style and seg.style.italic for seg in spanned if seg.text.strip())
        # The span keeps its own colour over the base (the theme turns red into its red).
        colours = {seg.text: seg.style.color for seg in spanned if seg.style}
        assert colours["red span"] != colours["italic base, "]
