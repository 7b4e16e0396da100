"""The agents panel: one row per agent, state and time in it, current call, the day's figures.

Rows come from the board's `AgentsDay` through `monitor.agents_view` (filter,
order, urgency); this widget only lays them out in columns. Names, reasons and
callers are feed text: every one goes through `clean` (or the view's masking) and
is cut to its column, as callers are in the active-calls table.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import set_cell_size
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from typing_extensions import override

from classifier.agents import Agent
from classifier.detail import duration
from monitor.agents_view import (
    AgentOrder,
    AgentSort,
    AgentThresholds,
    agent_level,
    state_words,
)
from monitor.app.view import ViewState
from monitor.app.widgets.active import WIDE_TABLE
from monitor.app.widgets.rows import RowView
from monitor.board import Board, Level
from monitor.text.safe_text import clean

#: (title, width) of the columns before the current call, which takes what is left.
_NARROW = (
    ("", 2),
    ("agent", 14),
    ("state", 14),
    ("in st", 6),
    ("ans", 4),
    ("miss", 4),
    ("avg", 6),
    ("occ", 4),
)
_WIDE = (
    ("", 2),
    ("agent", 24),
    ("state", 24),
    ("in state", 8),
    ("answered", 8),
    ("missed", 6),
    ("avg talk", 8),
    ("occup", 5),
)
_RIGHT = frozenset({"in st", "in state", "ans", "answered", "miss", "missed", "avg", "avg talk"})
_RIGHT_ALL = _RIGHT | {"occ", "occup"}

_MARK = {Level.OK: "  ", Level.WARN: "! ", Level.ALERT: "!!"}

#: Panel number on the tab strip and its key.
AGENTS_KEY = 6


def _cell(text: str, width: int, right: bool = False) -> str:
    """Exactly `width` terminal cells, whatever the characters."""
    if right:
        return text[:width].rjust(width)
    return set_cell_size(text, width)


class AgentsPanel(RowView):
    """Every agent the board knows, sorted and filtered as the view says."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Agent's day"),
        Binding("s", "agent_sort", "Sort agents"),
    ]

    class AgentChosen(Message):
        """Enter was pressed on an agent's row."""

        def __init__(self, agent: str) -> None:
            self.agent = agent
            super().__init__()

    def __init__(
        self,
        board: Board,
        view: ViewState,
        thresholds: AgentThresholds | None = None,
        *,
        id: str | None = "agents",
    ) -> None:
        super().__init__(id=id, classes="agents")
        self.board = board
        self.view = view
        self.thresholds = thresholds or AgentThresholds()
        self.rows: list[Agent] = []
        #: The rows kept in order between frames: only the agents changed move.
        self._order = AgentOrder()

    @property
    def shown(self) -> bool:
        """Whether it is on screen: always when wide, as the current tab when small."""
        # `display` too: a board that hides the panel (a bench, a layout) pays nothing for it.
        return self.display and (not self.view.narrow or self.view.agents_tab)

    def _columns(self, width: int) -> tuple[tuple[str, int], ...]:
        return _WIDE if width >= WIDE_TABLE else _NARROW

    @override
    def repaint(self) -> None:
        """Take the agents from the board (the changed ones moved in the kept order) and draw."""
        if not self.shown:
            return  # hidden tab: no sorting, no drawing
        day = self.board.agents
        self.rows = self._order.rows(
            day, self.view.agent_sort, self.view.filter, self.board.agent_names
        )
        title = f"{AGENTS_KEY} Agents {len(day)}"
        subtitle = f"sort: {self.view.agent_sort.value}"
        if self.view.filter.queue is not None or self.view.filter.text:
            subtitle = f"{len(self.rows)} shown · {subtitle}"
        self.set_titles(title, subtitle)
        super().repaint()

    @override
    def row_count(self) -> int:
        """Agents that pass the filter."""
        return len(self.rows)

    @override
    def empty_text(self) -> str:
        """Shown with no row: no agent yet, or none that matches the filter."""
        if self.board.agents.agents and (self.view.filter.queue or self.view.filter.text):
            return f"no agent matches {self.view.filter.describe()}"
        return "no agents yet: they appear with their first status or call"

    @override
    def header(self, width: int) -> Text:
        """The column titles at this width, the current call last."""
        cols = self._columns(width)
        parts = [_cell(title, w, right=title in _RIGHT_ALL) for title, w in cols]
        return Text(" ".join(parts) + " call (talk queue caller)")

    def _call(self, agent: Agent) -> str:
        current = agent.call
        if current is None:
            return ""
        caller = self.view.number(current.caller or "unknown", 40)
        queue = clean(current.queue or "", 24)
        if current.answered:
            talk = duration((self.view.now - current.since).total_seconds())
        else:
            talk = "ringing"
        # Talking time first: at 80 columns the caller is what gets cut.
        return " ".join(p for p in (talk, queue, caller) if p)

    @override
    def row(self, index: int, width: int) -> tuple[list[Text], Level]:
        """One agent at the view's time: urgency mark, name, state, time in it, figures, call."""
        agent = self.rows[index]
        now = self.view.now
        level = agent_level(agent, now, self.thresholds)
        occupancy = agent.occupancy(now)
        average = agent.average_talk_s
        values = (
            _MARK[level],
            # The display name from [agents]; Exotel's agents are their phone numbers,
            # masked with the callers.
            self.view.number(self.board.agent_names.show(agent.name), 60),
            clean(state_words(agent), 60),
            duration(agent.in_state_s(now)),
            str(agent.answered),
            str(agent.not_answered),
            "–" if average is None else duration(average),
            "–" if occupancy is None else f"{round(occupancy * 100)}%",
        )
        cols = self._columns(width)
        cells = [
            _cell(value, w, right=title in _RIGHT_ALL)
            for (title, w), value in zip(cols, values, strict=True)
        ]
        return [Text(" ".join(cells) + " " + self._call(agent))], level

    @override
    def row_id(self, index: int) -> str | None:
        """The agent's name on row `index`; None past the last row."""
        return self.rows[index].name if index < len(self.rows) else None

    @override
    def action_choose(self) -> None:
        """Post `AgentChosen` for the agent on the cursor's row (Enter)."""
        name = self.row_id(self.cursor) if self.rows else None
        if name is not None:
            self.post_message(self.AgentChosen(name))

    def action_agent_sort(self) -> None:
        """Next order of the agents panel (s while it has focus)."""
        orders = list(AgentSort)
        self.view.agent_sort = orders[(orders.index(self.view.agent_sort) + 1) % len(orders)]
        self.repaint()
