"""Widgets carry their own styles: outside the board's app (no board.tcss) they look the same.

Each widget's component classes (and the row views' borders and scrollbars) are
styled by its DEFAULT_CSS, as Textual's own widgets are; the app's board.tcss
only lays the board out. The snapshot tests hold the board's look itself.
"""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widget import Widget

from monitor.app.screens import StoryBody, StoryScreen
from monitor.app.view import ViewState
from monitor.app.widgets.active import ActiveCalls
from monitor.app.widgets.header import KpiHeader
from monitor.app.widgets.panels import ProblemsPanel
from monitor.app.widgets.rows import RowView
from monitor.app.widgets.status import ConnectionBar
from tests.app_support import BOARD_NOW as NOW
from tests.app_support import board_from, loaded, make_app, until


class Bare(App[None]):
    """A plain app with the board's widgets and none of the board's stylesheet but its
    backgrounds: muted colours are blended over the background, so they can only be
    compared over the same one."""

    CSS = """
    #kpis { background: $panel; }
    #connection { background: $boost; }
    StoryBody { background: $surface; }
    """
    AUTO_FOCUS = None  # the panel is compared unfocused first, then focused

    def __init__(self) -> None:
        super().__init__()
        board = board_from()
        self.board = board
        self.view = ViewState()

    def compose(self) -> ComposeResult:
        yield KpiHeader(self.board, self.view)
        yield ConnectionBar(self.board, self.view)
        yield ProblemsPanel(self.board)
        story = self.board.story("c05", NOW)
        assert story is not None
        yield StoryBody(story, mask=False)


def looks(widget: Widget) -> dict[str, Any]:
    """A widget's component styles, and for a row view its frame."""
    found: dict[str, Any] = {
        name: widget.get_component_rich_style(name) for name in sorted(widget.COMPONENT_CLASSES)
    }
    if isinstance(widget, RowView):
        styles = widget.styles
        found["frame"] = (styles.border, styles.scrollbar_size_vertical, styles.overflow_x)
    return found


async def test_the_widgets_look_the_same_without_the_boards_stylesheet() -> None:
    async with make_app().run_test(size=(160, 50)) as pilot:
        app = await loaded(pilot)
        focused = looks(app.query_one(ActiveCalls))  # the active calls have the focus
        on_board = {
            KpiHeader: looks(app.query_one(KpiHeader)),
            ConnectionBar: looks(app.query_one(ConnectionBar)),
            ProblemsPanel: looks(app.query_one(ProblemsPanel)),
        }
        panel_background = app.query_one(ProblemsPanel).rich_style.bgcolor
        story = app.board.story("c05", NOW)
        assert story is not None
        await app.push_screen(StoryScreen(story, mask=False))
        await until(pilot, lambda: isinstance(app.screen, StoryScreen))
        on_board[StoryBody] = looks(app.screen.query_one(StoryBody))

    bare = Bare()
    async with bare.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        for kind, expected in on_board.items():
            assert looks(bare.query_one(kind)) == expected, kind.__name__
        panel = bare.query_one(ProblemsPanel)
        panel.focus()
        await pilot.pause()
        assert looks(panel)["frame"] == focused["frame"]
    # Not vacuous: the styles compared are the board's colours, not Textual's plain ones.
    assert on_board[KpiHeader]["kpi--alert"].reverse
    assert on_board[ProblemsPanel]["rowview--cursor"].bgcolor != panel_background
    assert on_board[StoryBody]["story--note"].italic
    assert focused["frame"] != on_board[ProblemsPanel]["frame"]
