"""The active-calls table: every call in progress, ticking, longest waiting first."""

from __future__ import annotations

from rich.cells import set_cell_size
from rich.text import Text

from classifier.call import Call
from classifier.detail import duration
from monitor.app.view import ViewState
from monitor.app.widgets.rows import RowView
from monitor.board import Board, Level, display_state
from monitor.safe_text import clean

#: (title, width) of the fixed columns; the call id takes what is left.
_NARROW = (
    ("", 2),
    ("caller", 16),
    ("dir", 3),
    ("queue", 9),
    ("state", 21),
    ("in st", 6),
    ("total", 6),
)
_WIDE = (
    ("", 2),
    ("caller", 20),
    ("dir", 3),
    ("queue", 14),
    ("state", 30),
    ("in state", 8),
    ("total", 8),
)

_MARK = {Level.OK: "  ", Level.WARN: "! ", Level.ALERT: "!!"}


def _cell(text: str, width: int, right: bool = False) -> str:
    """Exactly `width` terminal cells, whatever the characters (emoji take two)."""
    if right:
        return text[:width].rjust(width)
    return set_cell_size(text, width)


class ActiveCalls(RowView):
    """Calls in progress from the board, sorted and filtered as the view says."""

    def __init__(self, board: Board, view: ViewState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.board = board
        self.view = view
        self.rows: list[Call] = []

    def _columns(self, width: int) -> tuple[tuple[str, int], ...]:
        return _WIDE if width >= 120 else _NARROW

    def repaint(self) -> None:
        self.rows = self.board.active(self.view.sort, self.view.filter)
        super().repaint()

    def row_count(self) -> int:
        return len(self.rows)

    def empty_text(self) -> str:
        if self.view.filter.active:
            return f"no call in progress matches {self.view.filter.describe()}"
        return "no calls in progress"

    def header(self, width: int) -> Text:
        cols = self._columns(width)
        parts = [
            _cell(title, w, right=title in ("in st", "in state", "total")) for title, w in cols
        ]
        return Text(" ".join(parts) + " call id")

    def row(self, index: int, width: int) -> tuple[list[Text], str]:
        call = self.rows[index]
        now = self.view.now
        level = self.board.level(call, now)
        cols = self._columns(width)
        since = call.phase_since or call.started_at
        values = (
            _MARK[level],
            self.view.number(call.caller or "unknown", 40),
            "in" if call.direction.value == "inbound" else "out",
            clean(call.queue or "", 40),
            clean(display_state(call), 60),
            duration((now - since).total_seconds()),
            duration((now - call.started_at).total_seconds()),
        )
        parts = [
            _cell(value, w, right=title in ("in st", "in state", "total"))
            for (title, w), value in zip(cols, values, strict=True)
        ]
        text = Text(" ".join(parts) + " " + clean(call.call_id, 40))
        return [text], "" if level is Level.OK else level.value

    def row_id(self, index: int) -> str | None:
        return self.rows[index].call_id if index < len(self.rows) else None
