"""The active-calls table: every call in progress, ticking, longest waiting first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rich.cells import set_cell_size
from rich.text import Text
from typing_extensions import override

from classifier.call import Call
from classifier.detail import duration
from monitor.app.view import ViewState
from monitor.app.widgets.format import RESYNC_MARK
from monitor.app.widgets.rows import RowView
from monitor.board import Board, Level
from monitor.story import display_state
from monitor.text.safe_text import clean

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
#: From this table width on, the wide columns: the narrow set plus the call id fit 80.
WIDE_TABLE = 120
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

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _microseconds(at: datetime) -> int:
    """Microseconds since the epoch: exact, and cheap to subtract once known."""
    return (at - _EPOCH) // _MICROSECOND


@dataclass(slots=True)
class _Fixed:
    """What a call's row shows that does not move with the clock, kept between frames.

    Every visible row is drawn again each second for its clocks; the rest of the row
    (cleaned, masked, cut to its columns) only changes when the call does, which
    `key` stands for.
    """

    key: tuple[object, ...]
    middle: str
    call_id: str
    since: datetime
    since_us: int
    started_us: int


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
        self._fixed: dict[str, _Fixed] = {}
        #: The view's time in microseconds, worked out once per repaint.
        self._now: tuple[datetime, int] | None = None

    def _columns(self, width: int) -> tuple[tuple[str, int], ...]:
        return _WIDE if width >= WIDE_TABLE else _NARROW

    @override
    def repaint(self) -> None:
        """Take the board's sorted, filtered calls and draw them.

        The cache of fixed columns is dropped once it far outnumbers the rows on screen.
        """
        self.rows = self.board.active(self.view.sort, self.view.filter)
        if len(self._fixed) > 4 * self.page_rows + 64:
            # Only rows drawn need their columns kept: start afresh once the calls that
            # scrolled by or ended outnumber them (the next frame makes the visible ones
            # again), so the cache follows the screen, not the thousands of calls open.
            self._fixed.clear()
        super().repaint()

    @override
    def row_count(self) -> int:
        """Calls in progress that pass the filter."""
        return len(self.rows)

    @override
    def empty_text(self) -> str:
        """Shown with no row: no calls at all, or none that match the filter."""
        if self.view.filter.active:
            return f"no call in progress matches {self.view.filter.describe()}"
        return "no calls in progress"

    @override
    def header(self, width: int) -> Text:
        """The column titles at this width (the wide set from 120 columns), the call id last."""
        cols = self._columns(width)
        parts = [
            _cell(title, w, right=title in ("in st", "in state", "total")) for title, w in cols
        ]
        return Text(" ".join(parts) + " call id")

    def _fixed_part(self, call: Call, cols: tuple[tuple[str, int], ...]) -> _Fixed:
        since = call.phase_since or call.started_at
        # Everything the fixed columns are made of, and how they are shown.
        key = (
            call.caller,
            call.direction,
            call.queue,
            call.phase,
            call.agent,
            call.transferred_to,
            call.started_at,
            call.resync_at,
            self.view.mask,
            cols,
        )
        fixed = self._fixed.get(call.call_id)
        if fixed is None or fixed.key != key:
            values = (
                self.view.number(call.caller or "unknown", 40),
                "in" if call.direction.value == "inbound" else "out",
                clean(call.queue or "", 40),
                # 'talking to AGENT': the agent's display name; an Exotel agent is a
                # phone number, masked if asked.
                (RESYNC_MARK if call.resync_at is not None else "")
                + self.view.number(display_state(call, self.board.agent_names.show), 60),
            )
            middle = " ".join(
                _cell(value, w) for (_, w), value in zip(cols[1:5], values, strict=True)
            )
            fixed = self._fixed[call.call_id] = _Fixed(
                key,
                middle,
                clean(call.call_id, 40),
                since,
                _microseconds(since),
                _microseconds(call.started_at),
            )
        elif fixed.since is not since:
            fixed.since = since
            fixed.since_us = _microseconds(since)
        return fixed

    @override
    def row(self, index: int, width: int) -> tuple[list[Text], Level]:
        """One call at the view's time: wait mark, fixed columns, time in state, total, call id."""
        call = self.rows[index]
        now = self.view.now
        if self._now is None or self._now[0] is not now:
            self._now = (now, _microseconds(now))
        now_us = self._now[1]
        level = self.board.level(call, now)
        cols = self._columns(width)
        fixed = self._fixed_part(call, cols)
        # Whole microseconds, divided as timedelta.total_seconds() divides them: the
        # same seconds as subtracting the datetimes, at a fraction of the cost.
        in_state = duration((now_us - fixed.since_us) / 1_000_000)
        total = duration((now_us - fixed.started_us) / 1_000_000)
        text = Text(
            f"{_MARK[level]} {fixed.middle} {_cell(in_state, cols[5][1], right=True)}"
            f" {_cell(total, cols[6][1], right=True)} {fixed.call_id}"
        )
        return [text], level

    @override
    def row_id(self, index: int) -> str | None:
        """The call id of row `index`; None past the last row."""
        return self.rows[index].call_id if index < len(self.rows) else None
