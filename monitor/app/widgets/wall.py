"""Wall mode: the board's figures as big digits, for a TV read from across the room.

An ops-room TV is read from metres away, so the wall shows few figures, large:
a row of tiles for the day (calls waiting, longest wait, service level,
answered, abandoned, agents available, calls offered today), one row of tiles
per queue, and below, when the screen has room, the calls waiting now, longest
first. The figures are the board's own (`Board.kpis`, `Board.agent_counts`), the same
ones the header shows; the wall only draws them (widgets render the model, never
own it).

Queues that do not fit on one screen are shown a page at a time, the pages
turning every `page_s` seconds of wall time (not feed time: a finished replay's
clock stands still, and its pages should still turn).

A tile past its threshold is drawn warn or alert: a heavy or double border and
`!` or `!!` before its label, so the level reads without colour (`NO_COLOR`, a
monochrome TV) as well as with it. Which tiles have a level, and at what
value, is decided in one place, `tile_level`, from the targets of the config
file (`[queues]`: service level, longest wait, abandon rate) when it has any.
"""

from __future__ import annotations

import math
import time
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Digits, Static
from typing_extensions import override

from classifier.agents import AgentState
from classifier.call import Call
from classifier.kpi import Kpis, is_waiting
from monitor.app.view import WALL_PAGE_S, ViewState
from monitor.board import Board, Level, SortKey
from monitor.targets import Targets
from monitor.text.safe_text import clean

#: Rows of one tile: a border above and below three rows of digits.
TILE_ROWS = 5
#: Columns a day tile needs at least ("12:34" is five 3-column digits, plus a border).
TILE_MIN_COLUMNS = 19
#: The day's tiles, in screen order: (id, label).
DAY_TILES: tuple[tuple[str, str], ...] = (
    ("waiting", "Calls waiting"),
    ("longest", "Longest wait"),
    ("sl", "Service level"),
    ("answered", "Answered"),
    ("abandoned", "Abandoned"),
    ("available", "Agents available"),
    ("offered", "Calls today"),
)
#: A queue row's tiles after its name: (id, label).
QUEUE_TILES: tuple[tuple[str, str], ...] = (
    ("waiting", "Waiting"),
    ("longest", "Longest"),
    ("sl", "SL"),
    ("answered", "Answered"),
    ("abandoned", "Abandoned"),
)
#: The mark before a tile's label at each level (the level without colour); before,
#: so that a label cut short on a narrow screen keeps it.
MARKS = {Level.OK: "", Level.WARN: "! ", Level.ALERT: "!! "}
#: Fewest screen rows worth giving to the waiting calls below the queues.
MIN_WAITING_ROWS = 3


def wall_seconds(value: float) -> str:
    """A wait as the digits show it: M:SS, or H:MM:SS past an hour."""
    whole = int(value)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def wall_percent(value: float | None) -> str:
    """A fraction as a whole percentage; a dash while it has no denominator."""
    return "-" if value is None else f"{round(value * 100)}%"


def tile_level(board: Board, tile: str, figures: Kpis, queue: str | None) -> Level:
    """The level of one tile: the one place that decides which tiles warn, and when.

    The longest wait and the calls waiting take the board's wait level
    (`Board.wait_level`: the config's `wait_warn_s`/`wait_alert_s` when the centre
    set targets, else the service-level thresholds). With a config's targets
    (`monitor.targets.Targets`, the header's judge too) the service level below
    `sl_target_pct` alerts and the abandoned tile warns while the abandon rate is
    over `abandon_warn_pct`; `queue` None is the day's row, judged by `[queues."*"]`.
    """
    if tile in ("longest", "waiting"):
        if not figures.waiting_now:
            return Level.OK
        return board.wait_level(figures.longest_wait_now_s, queue)
    targets = board.targets
    if not isinstance(targets, Targets):
        return Level.OK
    if tile == "sl":
        return targets.service_level(figures.service_level, queue)
    if tile == "abandoned":
        return targets.abandon_rate(figures.abandon_rate, queue)
    return Level.OK


def tile_values(figures: Kpis) -> dict[str, str]:
    """The text of each figure tile for one scope (the day, or a queue)."""
    return {
        "waiting": str(figures.waiting_now),
        "longest": wall_seconds(figures.longest_wait_now_s),
        "sl": wall_percent(figures.service_level),
        "answered": str(figures.answered),
        "abandoned": str(figures.abandoned),
        "offered": str(figures.offered),
    }


class Tile(Widget):
    """One figure in big digits, its label in the border."""

    DEFAULT_CSS = """
    Tile {
        height: 5;
        border: round $foreground 40%;
        border-title-color: $text-muted;
        border-title-style: bold;
        padding: 0 1;
        & > Digits { width: 1fr; text-align: center; text-style: bold; }
        &.-warn {
            border: heavy $warning;
            border-title-color: $warning;
            color: $warning;
        }
        &.-alert {
            border: double $error;
            border-title-color: $error;
            border-title-style: bold reverse;
            color: $error;
        }
    }
    """

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.label = label
        self._level = Level.OK
        self._digits = Digits("")

    @override
    def compose(self) -> ComposeResult:
        """The digits; the label is the border's title."""
        yield self._digits

    def on_mount(self) -> None:
        """Show the label, marked with the level a `show` before the mount may have set."""
        self.border_title = MARKS[self._level] + self.label

    def show(self, value: str, level: Level = Level.OK) -> None:
        """Show `value` at `level` (a no-op when neither changed)."""
        if value != self._digits.value:
            self._digits.update(value)
        if level is not self._level:
            self._level = level
            self.set_class(level is Level.WARN, "-warn")
            self.set_class(level is Level.ALERT, "-alert")
            self.border_title = MARKS[level] + self.label

    @property
    def value(self) -> str:
        """The text on the tile."""
        return self._digits.value

    @property
    def level(self) -> Level:
        """The level the tile is drawn at."""
        return self._level


class QueueRow(Horizontal):
    """One queue: its name, then its tiles."""

    DEFAULT_CSS = """
    QueueRow {
        height: 5;
        & > .queue-name {
            width: 1fr;
            height: 5;
            border: round $foreground 40%;
            padding: 1 1;
            text-style: bold;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
        & > Tile { width: 1fr; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.queue = ""
        self._queue_name = Static(classes="queue-name")
        self.tiles = {key: Tile(label) for key, label in QUEUE_TILES}

    @override
    def compose(self) -> ComposeResult:
        """The name, then a tile per figure."""
        yield self._queue_name
        yield from self.tiles.values()

    def show(self, board: Board, queue: str, figures: Kpis) -> None:
        """Show one queue's figures."""
        if queue != self.queue:
            self.queue = queue
            # Feed text: cleaned, and given as Text so that it is never read as markup.
            self._queue_name.update(Text(clean(queue, 32), no_wrap=True, overflow="ellipsis"))
        values = tile_values(figures)
        for key, tile in self.tiles.items():
            tile.show(values[key], tile_level(board, key, figures, queue))


class Wall(Vertical):
    """The wall: the day's tiles, a row per queue (in pages), and the calls waiting."""

    DEFAULT_CSS = """
    Wall {
        height: 1fr;
        & > #wall-day {
            layout: grid;
            grid-size: 7;
            grid-gutter: 0 1;
            height: auto;
        }
        & > #wall-day > Tile { width: 1fr; }
        & > #wall-pages {
            height: 1;
            padding: 0 1;
            color: $text-muted;
        }
        & > #wall-queues { height: auto; }
        & > #wall-waiting {
            height: 1fr;
            padding: 0 1;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
    }
    """

    def __init__(
        self, board: Board, view: ViewState, page_s: float = WALL_PAGE_S, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.board = board
        self.view = view
        self.page_s = page_s
        self.day_tiles = {key: Tile(label, id=f"wall-{key}") for key, label in DAY_TILES}
        self._day = Vertical(*self.day_tiles.values(), id="wall-day")
        self._pages = Static(id="wall-pages")
        self._queues = Vertical(id="wall-queues")
        self._waiting = Static(id="wall-waiting")
        self.rows: list[QueueRow] = []
        #: The page of queues on screen (0-based) and how many there are.
        self.page = 0
        self.pages = 1
        self._started = time.monotonic()
        self._shown_waiting: Text | None = None

    @override
    def compose(self) -> ComposeResult:
        """Day tiles, the page line, the queue rows, the waiting calls."""
        yield self._day
        yield self._pages
        yield self._queues
        yield self._waiting

    def on_resize(self) -> None:
        """Fit the tiles and the queue rows to the new size."""
        self.repaint()

    def _day_columns(self) -> int:
        """Day tiles per grid row: all seven when they fit, else as many as do."""
        width = self.size.width or self.app.size.width
        return max(1, min(len(DAY_TILES), (width + 1) // (TILE_MIN_COLUMNS + 1)))

    def queue_rows_fitting(self) -> int:
        """How many queue rows fit under the day's tiles and the page line."""
        height = self.size.height or self.app.size.height
        day_rows = math.ceil(len(DAY_TILES) / self._day_columns()) * TILE_ROWS
        return max(1, (height - day_rows - 1) // TILE_ROWS)

    def repaint(self) -> None:
        """Draw the board's figures at the view's time."""
        if not self.is_mounted:
            return
        board, now = self.board, self.view.now
        day, queues = board.kpis(now)
        columns = self._day_columns()
        if self._day.styles.grid_size_columns != columns:
            self._day.styles.grid_size_columns = columns
        values = tile_values(day)
        values["available"] = str(board.agent_counts().get(AgentState.AVAILABLE, 0))
        for key, tile in self.day_tiles.items():
            tile.show(values[key], tile_level(board, key, day, None))
        self._repaint_queues(queues)
        self._repaint_waiting(now, len(queues))

    def _repaint_queues(self, queues: dict[str, Kpis]) -> None:
        fitting = self.queue_rows_fitting()
        names = sorted(queues)
        self.pages = max(1, math.ceil(len(names) / fitting))
        elapsed = time.monotonic() - self._started
        self.page = int(elapsed // self.page_s) % self.pages if self.page_s > 0 else 0
        shown = names[self.page * fitting : (self.page + 1) * fitting]
        while len(self.rows) < len(shown):
            row = QueueRow()
            self.rows.append(row)
            self._queues.mount(row)
        for row, name in zip(self.rows, shown, strict=False):
            row.display = True
            if row.is_mounted:
                row.show(self.board, name, queues[name])
            else:
                # A row mounted this frame composes its tiles later; it is drawn then.
                self.call_after_refresh(row.show, self.board, name, queues[name])
        for row in self.rows[len(shown) :]:
            row.display = False
        pages = f"queues page {self.page + 1} of {self.pages}" if self.pages > 1 else ""
        self._pages.update(pages)

    def waiting_calls(self) -> list[Call]:
        """The calls waiting for an agent now, longest first."""
        return [c for c in self.board.active(SortKey.WAITING) if is_waiting(c)]

    def _repaint_waiting(self, now: datetime, queue_count: int) -> None:
        height = self.size.height or self.app.size.height
        day_rows = math.ceil(len(DAY_TILES) / self._day_columns()) * TILE_ROWS
        rows_used = day_rows + 1 + min(queue_count, self.queue_rows_fitting()) * TILE_ROWS
        room = height - rows_used
        self._waiting.display = room >= MIN_WAITING_ROWS
        if room < MIN_WAITING_ROWS:
            return
        calls = self.waiting_calls()
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"Waiting now: {len(calls)}", style="bold")
        for call in calls[: room - 1]:
            level = self.board.level(call, now)
            mark = MARKS[level].strip()
            text.append("\n")
            text.append(
                f"{mark:>2} {wall_seconds(call.wait_until(now)):>7}  "
                f"{clean(call.queue or '-', 20):20}  {self.view.number(call.caller)}",
                style="bold" if level is not Level.OK else "",
            )
        if text != self._shown_waiting:
            self._shown_waiting = text
            self._waiting.update(text)
