"""A row view's scrollable size changes without a screen layout, and the scrollbar still follows.

`RowView.repaint` sets the scrollable size on every frame. While the scrollbar
neither comes nor goes, it keeps the layout out (a layout of the whole screen ten
times a second is what the load and idle figures measure against) and brings the
bar and the scroll position up to date itself, through Textual's public parts.
Here a view that grew or shrank that way must end where a view laid out afresh
with the same rows does: the same bar, the same scroll position.
"""

from __future__ import annotations

from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from monitor.app.widgets.rows import RowView
from monitor.board import Level
from tests.app_support import record_refreshes

SIZE = (40, 14)


class Numbered(RowView):
    """`count` rows, each its number."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    def row_count(self) -> int:
        return self.count

    def row(self, index: int, width: int) -> tuple[list[Text], Level]:
        return [Text(f"row {index}")], Level.OK


class Rows(App[None]):
    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    def compose(self) -> ComposeResult:
        yield Numbered(self.count)

    def on_mount(self) -> None:
        self.query_one(Numbered).repaint()


def scrolled(view: RowView) -> tuple[Any, ...]:
    """What the screen shows of the scrolling: the bar's sizes and position, the view's offset."""
    bar = view.vertical_scrollbar
    return (
        view.show_vertical_scrollbar,
        bar.window_virtual_size,
        bar.window_size,
        bar.position,
        view.scroll_y,
        view.max_scroll_y,
    )


async def laid_out_afresh(count: int, y: float) -> tuple[Any, ...]:
    """`scrolled` of a view laid out with `count` rows from the start, then scrolled to `y`."""
    async with Rows(count).run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = pilot.app.query_one(Numbered)
        view.scroll_to(y=y, animate=False, immediate=True)
        await pilot.pause()
        return scrolled(view)


@pytest.mark.parametrize(
    ("start", "end", "at_end"),
    [(100, 150, False), (150, 100, False), (150, 100, True), (100, 101, True)],
    ids=["grows", "shrinks", "shrinks-scrolled-to-the-end", "one-more-scrolled-to-the-end"],
)
async def test_rows_that_come_and_go_move_the_scrollbar_as_a_layout_would(
    monkeypatch: pytest.MonkeyPatch, start: int, end: int, at_end: bool
) -> None:
    async with Rows(start).run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = pilot.app.query_one(Numbered)
        assert view.show_vertical_scrollbar, "the rows overflow the view"
        if at_end:
            view.scroll_end(animate=False, immediate=True)
            await pilot.pause()
        before = view.scroll_y
        refreshed = record_refreshes(monkeypatch, view)
        view.count = end
        view.repaint()
        await pilot.pause()
        assert view.virtual_size.height == end + 1  # the rows and the column header
        assert not [kwargs for _, kwargs in refreshed if kwargs.get("layout")], (
            "the scrollbar stayed, yet the screen was laid out"
        )
        quietly = scrolled(view)
    # Where the view was scrolled to before: a layout would keep it, or clamp it.
    assert quietly == await laid_out_afresh(end, y=before)
