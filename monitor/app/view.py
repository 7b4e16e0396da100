"""What the user has chosen to see: sort, filter, masking, pause; shared by the widgets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from classifier.day import Window
from classifier.verdict import Outcome
from monitor.agents_view import AgentSort
from monitor.board import Filter, SortKey
from monitor.text.masking import mask_number
from monitor.text.safe_text import clean

#: Seconds each page of queues stays on the wall, by default (`--wall-page-s`).
WALL_PAGE_S = 10.0


@dataclass(slots=True)
class ViewState:
    """The user's choices, and the time the current frame is drawn at."""

    sort: SortKey = SortKey.WAITING
    filter: Filter = field(default_factory=Filter)
    mask: bool = False
    paused: bool = False
    #: The panel shown when panels are tabs (narrow screens).
    panel: Outcome = Outcome.COMPLETED
    #: Whether the agents tab is the one shown (narrow screens); `panel` is kept for 1..5.
    agents_tab: bool = False
    #: The agents panel's order.
    agent_sort: AgentSort = AgentSort.STATE
    #: Frozen per frame so that every widget of one frame agrees on the time.
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    narrow: bool = False
    #: What the header and the per-queue table count: the day or a recent window.
    window: Window = Window.DAY
    #: Wall mode: big-digit tiles instead of the tables (`W`, `--wall`).
    wall: bool = False

    def number(self, value: str, limit: int = 32) -> str:
        """A caller or callee for display: cleaned, and masked when asked."""
        text = clean(value, limit)
        return mask_number(text) if self.mask else text


def next_in(options: list[str | None], current: str | None) -> str | None:
    """The option after `current`, wrapping round."""
    try:
        return options[(options.index(current) + 1) % len(options)]
    except ValueError:
        return options[0]


Clock = Callable[[], datetime]
