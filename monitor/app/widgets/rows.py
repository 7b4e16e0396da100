"""A scrolling list of rows drawn with Textual's line API: only visible rows cost anything.

Textual's DataTable keeps a widget-side copy of every row and removes rows in
time proportional to the table, which cannot follow thousands of calls. Here
the rows live in the model; the widget asks for the row count and renders the
rows on screen, once per repaint.

A repaint refreshes only the screen lines whose text or style changed: a board
watched over SSH pays for every byte, and refreshing the whole widget would make
Textual resend every visible line (borders and scrollbar included) on every
frame. What the compositor was last given is kept per screen line, together with
the geometry it was drawn for; any change of geometry (size, scrollbar, scroll
position, focus) makes the next repaint a whole-widget refresh again.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Offset, Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from typing_extensions import override

from monitor.board import Level


def styled_segments(text: Text, console: Console, base: Style) -> tuple[list[Segment], Style]:
    """A one-line text's segments under `base`, and the style they were put under.

    Text.render leaves a text's own whole-line style out when it has no spans (printing
    a Text adds it), so it goes in here, under the spans: `base` plus the text's style.
    """
    style = base + console.get_style(text.style) if text.style else base
    segments = [s for s in text.render(console) if s.text != "\n"]
    return list(Segment.apply_style(segments, style)), style


def changed_width(before: Strip | None, after: Strip, width: int) -> int:
    """How many cells from the left must be resent to turn `before` into `after`.

    Textual sends a refreshed region from the widget's left edge, but stops at the
    region's right edge: when only a clock in the middle of a row ticked, the rest
    of the line (and the scrollbar and border beyond it) need not go out again.
    """
    if before is None:
        return width
    if len(before) != len(after):  # a Strip's length is its number of segments
        return width  # the styles moved, not only the characters
    old_parts: list[str] = []
    new_parts: list[str] = []
    for old_segment, new_segment in zip(before, after, strict=True):
        old_text, new_text = old_segment.text, new_segment.text
        if len(old_text) != len(new_text) or old_segment.style != new_segment.style:
            return width  # the styles moved, not only the characters
        old_parts.append(old_text)
        new_parts.append(new_text)
    old, new = "".join(old_parts), "".join(new_parts)
    if not (old.isascii() and new.isascii()):
        return width  # wide characters: characters are not cells
    end = len(new)
    while end and old[end - 1] == new[end - 1]:
        end -= 1
    return max(1, min(width, end))


class Geometry(NamedTuple):
    """What a row view's drawn lines depend on besides the model."""

    size: Size
    vertical_scrollbar: bool
    horizontal_scrollbar: bool
    scroll: Offset
    focus: bool
    lines_per_row: int


class RowView(ScrollView, can_focus=True):
    """Rows with a header line and a cursor; subclasses say what the rows are."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
        Binding("enter", "choose", "Call story"),
    ]

    DEFAULT_CSS = """
    RowView {
        border: round $primary-darken-2;
        scrollbar-size-vertical: 1;
        /* Rows are cut to the width with an ellipsis; a horizontal scrollbar would only
           appear for a moment when the vertical one narrows the rows, and eat a line. */
        overflow-x: hidden;

        &:focus { border: round $accent; }

        & > .rowview--header { text-style: bold; color: $text-muted; }
        & > .rowview--empty { text-style: italic; color: $text-muted; }
        & > .rowview--cursor { background: $accent 40%; text-style: bold; }
        & > .rowview--warn { color: $warning; text-style: bold; }
        & > .rowview--alert { background: $error 60%; color: $text; text-style: bold; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "rowview--header",
        "rowview--empty",
        "rowview--cursor",
        "rowview--warn",
        "rowview--alert",
    }

    class Chosen(Message):
        """Enter was pressed on a row that names a call."""

        def __init__(self, call_id: str) -> None:
            self.call_id = call_id
            super().__init__()

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.cursor = 0
        #: This repaint's strips by virtual line (a two-line row renders both at once).
        self._lines: dict[int, Strip] = {}
        #: What the compositor was last given for each screen line, and the geometry
        #: (`_geometry()`) those lines were drawn for.
        self._shown: dict[int, Strip] = {}
        self._shown_for: Geometry | None = None
        #: Content width the lines are cut to (the content region is dear to ask for).
        self._width = 1
        self._count = 0
        self._height = 1
        self._styles: dict[str, Style] | None = None
        #: The geometry while Textual renders a crop of the widget (see render_lines).
        self._pass_geometry: Geometry | None = None
        self._region_for: tuple[tuple[Size, bool, bool], Region] | None = None
        #: The border's title and subtitle as last set (see `set_titles`).
        self._titles = ("", "")

    # --- for subclasses ------------------------------------------------------------

    def set_titles(self, title: str, subtitle: str) -> None:
        """Set the border's title and subtitle, only when they change: each assignment
        redraws the whole border, and a repaint runs up to ten times a second."""
        if (title, subtitle) != self._titles:
            self._titles = (title, subtitle)
            self.border_title = title
            self.border_subtitle = subtitle

    def row_count(self) -> int:
        """Rows to draw now; `row` is asked for each index below it (none here)."""
        return 0

    def header(self, width: int) -> Text:
        """The line above the rows at this width (blank here)."""
        return Text("")

    def row(self, index: int, width: int) -> tuple[list[Text], Level]:
        """Row `index` as `lines_per_row(width)` lines of text, and its level.

        A row at `Level.WARN` or `Level.ALERT` is drawn in that level's style.
        """
        return [Text("")], Level.OK

    def lines_per_row(self, width: int) -> int:
        """Screen lines each row takes at this width."""
        return 1

    def row_id(self, index: int) -> str | None:
        """The call id of a row (for Enter)."""
        return None

    def empty_text(self) -> str:
        """Shown in place of the rows when there are none."""
        return "nothing here"

    # --- repaint ---------------------------------------------------------------------

    def repaint(self) -> None:
        """Draw again from the model; refresh only the screen lines that changed."""
        self._count = self.row_count()
        self.cursor = max(0, min(self.cursor, self._count - 1))
        region = self.scrollable_content_region
        width = self._width = max(region.width, 1)
        self._height = self.lines_per_row(width)
        relaid = self._set_virtual_size(Size(width, self._count * self._height + 1))
        self._lines.clear()
        if relaid or not self._shown or self._shown_for != self._geometry():
            # Nothing drawn yet, drawn for another size or scroll position, or a
            # scrollbar about to come or go (the width changes after this repaint):
            # the compositor redraws every line, borders too, and records them afresh.
            self._redraw()
            return
        shown = self._shown
        changed = []
        top = self.scroll_offset.y
        for y in range(region.height):
            before = shown.get(y)
            strip = self._screen_line(y, top)
            if strip != before:
                changed.append(Region(0, y, changed_width(before, strip, width), 1))
        if changed:
            # One refresh for them all: each call costs Textual a message and some
            # bookkeeping, and a quiet board's clocks change every visible row at once.
            self.refresh(*changed)

    def _redraw(self) -> None:
        """Refresh the whole widget and forget what each line showed."""
        self._lines.clear()
        self._shown.clear()
        self._shown_for = None
        self.refresh()

    def _geometry(self) -> Geometry:
        """What the drawn lines depend on besides the model.

        Cheap to ask (the compositor asks once per crop drawn): the widget's size and
        whether it shows a scrollbar stand for the content region, which is not.
        """
        return Geometry(
            self.size,
            self.show_vertical_scrollbar,
            self.show_horizontal_scrollbar,
            self.scroll_offset,
            self.has_focus,
            self._height,
        )

    def _set_virtual_size(self, size: Size) -> bool:
        """Change the scrollable size, without a screen layout when nothing moves.

        `virtual_size` is a layout-triggering reactive: assigning it on every frame
        would lay the whole screen out ten times a second. A layout is only needed
        when the scrollbar appears or disappears; otherwise the scrollbar is
        updated in place. True when a layout was asked for.
        """
        old = self.virtual_size
        if size == old:
            return False
        fits = self.container_size.height
        if (old.height > fits) != (size.height > fits) or old.width != size.width:
            self.virtual_size = size
            return True
        self.set_reactive(RowView.virtual_size, size)
        self._update_scrollbar(size)
        return False

    def _update_scrollbar(self, size: Size) -> None:
        """Bring the vertical scrollbar and the scroll position to a new scrollable size.

        What a layout would do for a size that keeps the scrollbars as they are, through
        public parts only: the bar's sizes are reactives (the bar repaints itself when
        they change), and assigning `scroll_y` validates it into the new range (fewer
        rows can leave the view scrolled past the end).
        """
        if self.show_vertical_scrollbar and self.scrollbar_size_vertical:
            bar = self.vertical_scrollbar
            bar.window_virtual_size = size.height
            bar.window_size = self.container_size.height - self.scrollbar_size_horizontal
        self.scroll_y = self.scroll_y

    def settled(self) -> bool:
        """Whether every line on screen was drawn for the present geometry.

        A subclass that skips a repaint because its rows did not change must not
        skip it while this is false: after a scrollbar came or went, the compositor
        redraws only the lines it was told about, and the rest are the old ones.
        """
        if not self.display or not self.size.area:
            return True  # nothing on screen; showing it again lays it out and redraws
        geometry = self._geometry()
        if self._shown_for != geometry:
            return False
        region = self._content_region(geometry)
        return len(self._shown) >= region.height and self.virtual_size.width == max(region.width, 1)

    def _content_region(self, geometry: Geometry) -> Region:
        """The scrollable content region, worked out again only when the geometry moved.

        Panels ask on every frame whether they are settled, and the region is dear to
        ask Textual for; it follows from the size, the scrollbars and the styles.
        """
        key = (geometry.size, geometry.vertical_scrollbar, geometry.horizontal_scrollbar)
        if self._region_for is None or self._region_for[0] != key:
            self._region_for = (key, self.scrollable_content_region)
        return self._region_for[1]

    def _style(self, name: str) -> Style:
        # Widget styles cost a walk up the DOM each time they are asked for; a frame
        # asks hundreds of times, so they are kept until the styles change.
        if self._styles is None:
            self._styles = {"": self.rich_style}
        found = self._styles.get(name)
        if found is None:
            found = self._styles[name] = self.get_component_rich_style(name)
        return found

    @property
    def page_rows(self) -> int:
        """Whole rows that fit under the header."""
        return max(1, (self.scrollable_content_region.height - 1) // self._height)

    @override
    def render_lines(self, crop: Region) -> list[Strip]:
        """Render a crop of the widget, the geometry worked out once for all of its lines."""
        # The geometry cannot change while Textual renders one crop of the widget:
        # ask for it once, not once per line (it reads half a dozen reactives).
        self._pass_geometry = self._geometry()
        try:
            return super().render_lines(crop)
        finally:
            self._pass_geometry = None

    @override
    def render_line(self, y: int) -> Strip:
        """Screen line `y` as the model has it, recorded as shown (forgotten on a new geometry)."""
        geometry = self._pass_geometry or self._geometry()
        if geometry != self._shown_for:
            self._shown.clear()
            self._shown_for = geometry
            self._width = self.scrollable_content_region.width
        strip = self._shown[y] = self._screen_line(y, geometry.scroll.y)
        return strip

    def _screen_line(self, y: int, top: int) -> Strip:
        """Screen line `y` (0 is the column header) scrolled to `top`, as the model has it."""
        width = self._width
        base = self._style("")
        if y == 0:
            return self._strip(self.header(width), width, base + self._style("rowview--header"))
        line = top + y - 1
        index = line // self._height
        if self._count == 0:
            if y == 1:
                text = Text(self.empty_text())
                return self._strip(text, width, base + self._style("rowview--empty"))
            return Strip.blank(width, base)
        if index >= self._count:
            return Strip.blank(width, base)
        cached = self._lines.get(line)
        if cached is not None:
            return cached
        texts, level = self.row(index, width)
        style = base
        if level is not Level.OK:
            style = style + self._style(f"rowview--{level.value}")
        if index == self.cursor and self.has_focus:
            style = style + self._style("rowview--cursor")
        for number, text in enumerate(texts[: self._height]):
            self._lines[index * self._height + number] = self._strip(text, width, style)
        return self._lines.get(line) or Strip.blank(width, style)

    def _strip(self, text: Text, width: int, style: Style) -> Strip:
        if not text.spans and not text.style:
            # The common case, a plain row in one style: one segment, no Rich render.
            plain = text.plain
            if cell_len(plain) > width:
                plain = set_cell_size(plain, max(0, width - 1)) + "…"
            return Strip([Segment(set_cell_size(plain, width), style)], width)
        text.truncate(width, overflow="ellipsis", pad=True)
        segments, style = styled_segments(text, self.app.console, style)
        return Strip(segments, width).crop_extend(0, width, style)

    # --- cursor ----------------------------------------------------------------------

    def _move_to(self, index: int) -> None:
        if self._count == 0:
            return
        self.cursor = max(0, min(index, self._count - 1))
        top = self.scroll_offset.y // self._height
        if self.cursor < top:
            self.scroll_to(y=self.cursor * self._height, animate=False)
        elif self.cursor >= top + self.page_rows:
            self.scroll_to(y=(self.cursor - self.page_rows + 1) * self._height, animate=False)
        self._redraw()

    def action_cursor(self, step: int) -> None:
        """Move the cursor `step` rows (up/down, k/j), scrolling to keep it in view."""
        self._move_to(self.cursor + step)

    def action_page(self, step: int) -> None:
        """Move the cursor `step` pages of whole rows (PgUp/PgDn)."""
        self._move_to(self.cursor + step * self.page_rows)

    def action_edge(self, end: int) -> None:
        """Move the cursor to the first row (`end` 0: Home) or the last (End)."""
        self._move_to(self._count - 1 if end else 0)

    def action_choose(self) -> None:
        """Post `Chosen` for the call on the cursor's row (Enter); nothing for a row without one."""
        if self._count == 0:
            return
        call_id = self.row_id(self.cursor)
        if call_id is not None:
            self.post_message(self.Chosen(call_id))

    def on_resize(self) -> None:
        """Repaint for the new size, every line drawn again."""
        # Lines were cut to the old width, and the rows per screen line and the
        # scrollable size were worked out for it (the first repaint comes before the
        # first layout, at no size at all): work them out again, and draw it all.
        self.repaint()

    @override
    def notify_style_update(self) -> None:
        """Forget the cached styles, content region and lines: the next frame draws them all."""
        super().notify_style_update()
        self._styles = None
        self._region_for = None
        self._lines.clear()
        self._shown.clear()
        self._shown_for = None

    def on_focus(self) -> None:
        """Draw everything again: the cursor row is highlighted only while the view has focus."""
        self._redraw()

    def on_blur(self) -> None:
        """Draw everything again: the cursor row loses its highlight."""
        self._redraw()
