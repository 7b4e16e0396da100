"""Outcome panels: finished calls, newest first, each with its reason in words."""

from __future__ import annotations

from rich.cells import set_cell_size
from rich.text import Text
from typing_extensions import override

from classifier.verdict import Outcome
from monitor.app.view import ViewState
from monitor.app.widgets.format import RESYNC_MARK, clock_time
from monitor.app.widgets.rows import RowView
from monitor.board import PANEL_ORDER, Board, Finished, Level
from monitor.text.safe_text import clean

#: Panels at least this wide show a call on one line, queue column included.
WIDE_ROW = 100


class OutcomePanel(RowView):
    """One outcome's finished calls; the border title carries the day's count."""

    def __init__(self, board: Board, view: ViewState, outcome: Outcome) -> None:
        super().__init__(id=f"panel-{outcome.value}", classes="panel")
        self.board = board
        self.view = view
        self.outcome = outcome
        self.rows: list[Finished] = []
        self._drawn: tuple[object, ...] | None = None

    @override
    def repaint(self) -> None:
        """Take rows and titles from the board and draw, if the panel, view or size changed."""
        panel = self.board.panels[self.outcome]
        # Finished calls do not tick: redraw only when the panel or the view changed.
        signature = (
            panel.total,
            self.board.count_today(self.outcome),
            self.view.filter,
            self.view.mask,
            self.view.narrow,
            self.size,
        )
        if signature == self._drawn and self.settled():
            return
        self._drawn = signature
        self.rows = self.board.finished(self.outcome, self.view.filter)
        number = PANEL_ORDER.index(self.outcome) + 1
        title = f"{number} {panel.title}"
        if not self.view.narrow:
            # A new title redraws the whole panel, borders and all. Side by side, the
            # title is the only place the day's count is shown; on a small screen the
            # tab strip shows it already, so the title stays put as calls finish.
            title += f" {self.board.count_today(self.outcome)}"
        shown = len(self.rows)
        subtitle = f"{shown} shown" if self.view.filter.active or shown < panel.total else ""
        self.set_titles(title, subtitle)
        super().repaint()

    @override
    def row_count(self) -> int:
        """The panel's finished calls that pass the filter (the panel keeps the newest only)."""
        return len(self.rows)

    @override
    def empty_text(self) -> str:
        """Shown with no row: no call of this outcome yet, or none that matches the filter."""
        if self.view.filter.active:
            return f"none matching {self.view.filter.describe()}"
        return f"no {self.board.panels[self.outcome].title.lower()} calls yet"

    @override
    def lines_per_row(self, width: int) -> int:
        """One line a call, or two (the reason below) for a panel side by side under 100 columns."""
        # Side by side on a big screen, a panel is too narrow for the reason on the
        # same line, and the reason is what the panel is for: it gets its own line.
        return 1 if width >= WIDE_ROW or self.view.narrow else 2

    @override
    def header(self, width: int) -> Text:
        """The column titles for the row layout at this width."""
        if width >= WIDE_ROW:
            return Text(f"{'ended':8} {'caller':16} {'queue':12} reason")
        if self.view.narrow:
            return Text(f"{'ended':8} {'caller':16} reason")
        return Text(f"{'ended':8} {'caller':16} queue / reason")

    @override
    def row(self, index: int, width: int) -> tuple[list[Text], Level]:
        """One finished call: end time, caller (callee if outbound), queue (not narrow), reason."""
        finished = self.rows[index]
        verdict = finished.verdict
        call = finished.call
        who = call.caller if call.direction.value == "inbound" else call.callee
        when = clock_time(verdict.ended_at)
        caller = set_cell_size(self.view.number(who or "unknown", 40), 16)
        queue = clean(verdict.queue or "", 40)
        # The detail names agents ('answered by ...'): their display names, and
        # Exotel's are phone numbers, masked with the callers.
        reason = self.view.number(self.board.agent_names.text(verdict.detail), 300)
        if verdict.resync_at is not None:
            # Learned from a re-sync, as its row in the active calls was: the reason
            # may be cut before the words that say so.
            reason = RESYNC_MARK + reason
        if width >= WIDE_ROW:
            return [Text(f"{when} {caller} {set_cell_size(queue, 12)} {reason}")], Level.OK
        if self.view.narrow:
            return [Text(f"{when} {caller} {reason}")], Level.OK
        return [Text(f"{when} {caller} {queue}"), Text(f"  {reason}")], Level.OK

    @override
    def row_id(self, index: int) -> str | None:
        """The call id of row `index`; None past the last row."""
        return self.rows[index].verdict.call_id if index < len(self.rows) else None


class ProblemsPanel(RowView):
    """Feed problems: rejected events and warnings, newest first."""

    def __init__(self, board: Board) -> None:
        super().__init__(id="panel-problems", classes="panel")
        self.board = board
        self.rows: list[str] = []
        self._drawn: tuple[int, object] | None = None

    @override
    def repaint(self) -> None:
        """Take the problems from the board and draw, if there is a new one or the size changed."""
        # Problems do not tick: redraw only when there is a new one or the size changed.
        signature = (self.board.problem_count, self.size)
        if signature == self._drawn and self.settled():
            return
        self._drawn = signature
        self.rows = list(self.board.problems)
        title = f"Feed problems {self.board.problem_count}"
        if title != self.border_title:
            # Each assignment redraws the whole panel, borders and all.
            self.border_title = title
        super().repaint()

    @override
    def row_count(self) -> int:
        """The problems the board still holds, newest first (the title has the full count)."""
        return len(self.rows)

    @override
    def empty_text(self) -> str:
        """Shown while the feed has had no problem."""
        return "no problems with the feed"

    @override
    def header(self, width: int) -> Text:
        """A header line that says the order: newest first."""
        return Text("newest first")

    @override
    def row(self, index: int, width: int) -> tuple[list[Text], Level]:
        """Problem `index`, cleaned for the terminal and cut to 300 characters."""
        return [Text(clean(self.rows[index], 300))], Level.OK
