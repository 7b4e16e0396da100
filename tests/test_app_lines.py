"""The header and the connection bar are drawn line by line (TextLines).

They must look exactly as a Static showing the same text looked (the board's
look did not change when they stopped being Statics), and a repaint must
refresh only the lines whose text changed.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import Static

from classifier.schema import event_from_dict
from monitor.app.widgets.header import KpiHeader
from monitor.app.widgets.lines import TextLines
from monitor.text.safe_text import clean
from tests.app_support import loaded, make_app, record_refreshes

TRUECOLOR = Console(color_system="truecolor", force_terminal=True, width=300)
BOLD_ACCENT = Style(bold=True, color="#ffa62b")
MUTED = Style(color="#a0a0a0", dim=True)


def sample_lines() -> list[Text]:
    """Lines like the header's and the bar's, and some the board must survive."""
    day = Text(no_wrap=True, overflow="ellipsis")
    day.append("Today ", style=BOLD_ACCENT)
    for label, value in (("offered", "233"), ("answered", "215"), ("longest", "!1m05s")):
        day.append(f"  {label} ", style=MUTED)
        day.append(value, style="bold")
    head = Text(no_wrap=True, overflow="ellipsis")
    head.append("queue            offered  answd missed", style=MUTED)
    wide = Text(no_wrap=True, overflow="ellipsis")
    wide.append("名前 キュー ", style=BOLD_ACCENT)
    wide.append("🎧 support " * 12)
    hostile = Text(clean("sales\x1b[2J\x1b]0;owned\x07 \u202eevil\tq" * 6), no_wrap=True)
    whole = Text("a line in one style " * 8, style=BOLD_ACCENT, no_wrap=True)
    return [day, head, wide, hostile, whole, Text("")]


class Shown(TextLines):
    """A TextLines as the board's widgets use it."""


class SideBySide(App[None]):
    """The same lines as a Static and as a TextLines, styled alike."""

    CSS: ClassVar[str] = """
    Static, Shown {
        height: auto;
        padding: 0 1;
        background: $panel;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, lines: list[Text]) -> None:
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        yield Static(Text("\n", no_wrap=True, overflow="ellipsis").join(self.lines))
        yield Shown()

    def on_mount(self) -> None:
        self.query_one(Shown).show(self.lines)


def drawn(widget: Any) -> list[str]:
    """A widget's lines as the terminal gets them (truecolour escape sequences)."""
    size = widget.outer_size
    return [strip.render(TRUECOLOR) for strip in widget.render_lines(Region(0, 0, *size))]


@pytest.mark.parametrize("columns", [200, 80, 41, 12])
async def test_lines_look_exactly_as_a_static_showed_them(columns: int) -> None:
    lines = sample_lines()
    app = SideBySide(lines)
    async with app.run_test(size=(columns, 20)) as pilot:
        await pilot.pause()
        static, shown = app.query_one(Static), app.query_one(Shown)
        assert shown.outer_size == static.outer_size
        assert drawn(shown) == drawn(static)


async def test_a_repaint_refreshes_only_the_header_lines_that_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with make_app().run_test(size=(160, 50)) as pilot:
        app = await loaded(pilot)
        await pilot.pause()
        header = app.query_one(KpiHeader)
        assert len(header.text.splitlines()) > 2, "a big screen shows the queue table"
        refreshed = record_refreshes(monkeypatch, header)
        app.repaint()
        assert refreshed == [], "nothing changed, yet the header was refreshed"

        before = header.text.splitlines()
        # An agent logs off: only the agents line changes.
        status = {
            "type": "agent.status",
            "ts": "2026-11-23T09:29:59Z",
            "agent": "Zed",
            "status": "offline",
        }
        app.feed_event(event_from_dict(status))
        app.repaint()
        after = header.text.splitlines()
        changed = [y for y, (b, a) in enumerate(zip(before, after, strict=True)) if b != a]
        assert len(changed) == 1
        assert len(refreshed) == 1
        regions, kwargs = refreshed[0]
        assert not kwargs.get("layout")
        assert [region.y for region in regions] == changed
        assert all(region.height == 1 for region in regions)
