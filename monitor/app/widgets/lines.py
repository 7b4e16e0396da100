"""Widgets that show a few lines of text, refreshing only the lines that changed.

A Static refreshed with new text makes Textual render and send all of its lines
again, borders and padding included. On a quiet board only a figure or two moves
each second (the longest wait, a queue's waiting count, the feed's lag), so these
widgets keep each line with the strip it was drawn as, and a repaint refreshes
only the lines whose text changed, each up to its last changed cell. Lines are
rendered by Rich, which gives the cells and styles a Static gave for the same
text at a third of the cost (tests hold the two equal).
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget
from typing_extensions import override

from monitor.app.widgets.rows import changed_width, styled_segments


class TextLines(Widget):
    """Lines of text (`show()`), one screen line each, cut with an ellipsis."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        #: The lines shown, and the strip each was drawn as (for the width in
        #: `_strips_width`); a line without a strip is drawn on demand.
        self._texts: list[Text] = []
        self._strips: dict[int, Strip] = {}
        self._strips_width = -1
        self._styles: dict[str, Style] = {}

    def _style(self, name: str) -> Style:
        """A component style by name ("": the widget's own), kept until styles change."""
        # A component style costs a walk of the stylesheet each time it is asked for,
        # and a repaint asks for one per figure: kept until the styles change.
        found = self._styles.get(name)
        if found is not None:
            return found
        try:
            found = self.get_component_rich_style(name) if name else self.rich_style
        except KeyError:
            # Component styles arrive with the first styling pass; a repaint that
            # comes earlier draws plain, and the next one has them.
            return Style.null()
        self._styles[name] = found
        return found

    @override
    def notify_style_update(self) -> None:
        """Forget the cached styles and strips: the lines are drawn again in the new styles."""
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def show(self, lines: list[Text]) -> None:
        """Show `lines`, refreshing only those that changed."""
        old = self._texts
        self._texts = lines
        if len(lines) != len(old):
            # A layout pass only when the widget grows or shrinks.
            self._strips.clear()
            self.refresh(layout=True)
            return
        width = self.size.width
        if not width or width != self._strips_width:
            self._strips.clear()
            self.refresh()
            return
        changed = []
        for y, (before, after) in enumerate(zip(old, lines, strict=True)):
            if after == before:
                continue
            drawn = self._strips.pop(y, None)
            strip = self._strips[y] = self._render_text(after, width)
            if strip != drawn:
                changed.append(Region(0, y, changed_width(drawn, strip, width), 1))
        if changed:
            self.refresh(*changed)

    def _render_text(self, text: Text, width: int) -> Strip:
        text = text.copy()
        text.truncate(width, overflow="ellipsis")
        segments, _ = styled_segments(text, self.app.console, self._style(""))
        return Strip(segments, text.cell_len)

    @override
    def render_line(self, y: int) -> Strip:
        """Screen line `y`: its cached strip, rendered if missing (all dropped on a new width)."""
        width = self.size.width
        if width != self._strips_width:
            self._strips.clear()
            self._strips_width = width
        strip = self._strips.get(y)
        if strip is None:
            if y >= len(self._texts):
                return Strip.blank(width, self._style(""))
            strip = self._strips[y] = self._render_text(self._texts[y], width)
        return strip

    @override
    def render(self) -> Text:
        """Every line, joined by newlines."""
        # What the widget shows as one text (Textual asks for it to select or copy).
        return Text("\n", no_wrap=True, overflow="ellipsis").join(self._texts)

    @override
    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """One screen line per line of text, whatever the width."""
        return len(self._texts)

    @property
    def text(self) -> str:
        """What is shown, as plain text, one line per line."""
        return "\n".join(line.plain for line in self._texts)
