"""The header: the day's KPIs, agents by state, and (on big screens) KPIs per queue."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from typing_extensions import override

from classifier.agents import AgentState
from classifier.day import Window
from classifier.kpi import Kpis
from monitor.agents_view import AgentThresholds, paused_too_long
from monitor.app.view import ViewState
from monitor.app.widgets.format import percent, seconds
from monitor.app.widgets.lines import TextLines
from monitor.board import Board, Level
from monitor.targets import MARKS, Targets
from monitor.text.safe_text import clean

#: The header's agent counts, in the agents panel's words and order (the state's value).
AGENT_STATES: tuple[AgentState, ...] = tuple(AgentState)

#: Queues listed in the header on big screens; the rest are summed up in words.
MAX_QUEUE_ROWS = 8

#: The window's title on a narrow screen (the day, as before windows, has none).
SHORT_TITLES: dict[Window, str] = {Window.DAY: "", Window.HOUR: "60m", Window.QUARTER: "15m"}


def counts_begin(board: Board) -> str | None:
    """Words for a day whose counts do not begin at its start (a hub that started
    mid-day without a journal), or None when the whole day is counted."""
    since = board.day.counted_from
    if since is None:
        return None
    at = board.day.clock.local(since)
    return f"Today's counts begin at {at:%H:%M:%S}: the feed holds no record of the day before then"


def _mark(level: Level, board: Board) -> str:
    """A wait's mark: `!`/`!!` with a centre's targets; `!` for both without (as before)."""
    return MARKS[level] if isinstance(board.targets, Targets) else "!"


class KpiHeader(TextLines):
    """Day and per-queue figures, and agents by presence."""

    DEFAULT_CSS = """
    KpiHeader {
        & > .kpi--label { color: $text-muted; }
        & > .kpi--value { text-style: bold; }
        & > .kpi--title { text-style: bold; color: $accent; }
        & > .kpi--warn { text-style: bold; color: $warning; }
        & > .kpi--alert { text-style: bold reverse; color: $error; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "kpi--label",
        "kpi--value",
        "kpi--warn",
        "kpi--alert",
        "kpi--title",
    }

    def __init__(
        self, board: Board, view: ViewState, agent_thresholds: AgentThresholds | None = None
    ) -> None:
        super().__init__(id="kpis")
        self.board = board
        self.view = view
        #: The agents' levels (`[agent_targets]`): pauses past alert are counted here.
        self.agent_thresholds = agent_thresholds or AgentThresholds()
        #: Most lines shown so far in each mode (narrow or not, queue filter).
        self._tallest: dict[tuple[bool, str | None], int] = {}
        #: The figures the lines shown were made from: on a quiet board they often
        #: stay the same from one second to the next, and then so do the lines.
        self._drawn_from: tuple[object, ...] | None = None

    @override
    def notify_style_update(self) -> None:
        """Forget the figures drawn as well, so the next repaint draws them in the new styles."""
        super().notify_style_update()
        self._drawn_from = None

    def _pair(self, text: Text, label: str, value: str, style: Style | None = None) -> None:
        # Two spaces read better; one keeps a busy day's figures within 80 columns.
        # The gap goes in the label's span: every change of style costs an escape
        # sequence on the terminal, and the header is resent whenever a count moves.
        gap = "" if not text.plain or text.plain.endswith(" ") else " " * (2 - self.view.narrow)
        text.append(f"{gap}{label} ", style=self._style("kpi--label"))
        text.append(value, style=style or self._style("kpi--value"))

    def _day_line(self, day: Kpis, narrow: bool) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        window = self.view.window
        title = window.value if not narrow else SHORT_TITLES[window]
        text.append(f"{title} " if title else "", style=self._style("kpi--title"))
        labels = (
            ("offered", "answered", "missed", "abandoned", "voicemail", "waiting", "longest")
            if not narrow
            else ("Off", "Ans", "Mis", "Abn", "VM", "Wait", "Max")
        )
        values = (day.offered, day.answered, day.missed, day.abandoned, day.voicemail)
        for label, value in zip(labels[:5], values, strict=True):
            self._pair(text, label, str(value))
        self._pair(text, labels[5], str(day.waiting_now))
        level = self.board.wait_level(day.longest_wait_now_s, None)
        style = None if level is Level.OK else self._style(f"kpi--{level.value}")
        mark = "" if level is Level.OK else _mark(level, self.board)
        self._pair(text, labels[6], mark + seconds(day.longest_wait_now_s), style)
        sl, ar = self._target_levels(day, None)
        self._pair(text, "SL", MARKS[sl] + percent(day.service_level), self._level_style(sl))
        self._pair(
            text,
            "AR" if narrow else "abandon",
            MARKS[ar] + percent(day.abandon_rate),
            self._level_style(ar),
        )
        self._pair(text, "ASA", seconds(day.asa_s))
        return text

    def _target_levels(self, k: Kpis, queue: str | None) -> tuple[Level, Level]:
        """The service level's and abandon rate's levels against the centre's targets."""
        targets = self.board.targets
        if not isinstance(targets, Targets):
            return Level.OK, Level.OK
        return targets.service_level(k.service_level, queue), targets.abandon_rate(
            k.abandon_rate, queue
        )

    def _level_style(self, level: Level) -> Style | None:
        return None if level is Level.OK else self._style(f"kpi--{level.value}")

    def _agents_line(self, too_long: int) -> Text:
        # The agents' day the panel renders, so the counts are the panel's rows by state.
        counts = self.board.agent_counts()
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("Agents ", style=self._style("kpi--title"))
        for state in AGENT_STATES:
            self._pair(text, state.value, str(counts.get(state, 0)))
            if state is AgentState.PAUSED and too_long:
                # Beside the pauses, only while some are too long: a quiet floor's line
                # is as before, and at 80 columns it still fits.
                text.append(f" !!{too_long} too long", style=self._level_style(Level.ALERT))
        return text

    def _queue_lines(self, queues: dict[str, Kpis]) -> list[Text]:
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(
            f"{'queue':16} {'offered':>7} {'answd':>6} {'missed':>6} {'aband':>6} {'vm':>4}"
            f" {'waiting':>7} {'longest':>8} {'SL':>5} {'AR':>5} {'ASA':>6}"
            f" {'agents free':>11} {'busy':>4}",
            style=self._style("kpi--label"),
        )
        lines = [head]
        # Agents serving each queue (issue 16): from the events that name both.
        staffed = self.board.agents.by_queue()
        targets = self.board.targets
        names = [n for n in queues if not isinstance(targets, Targets) or not targets.hidden(n)]
        for name in names[:MAX_QUEUE_ROWS]:
            k = queues[name]
            line = Text(no_wrap=True, overflow="ellipsis")
            shown = targets.label(name) if isinstance(targets, Targets) else name
            line.append(f"{clean(shown, 16):16} ")
            line.append(
                f"{k.offered:>7} {k.answered:>6} {k.missed:>6} {k.abandoned:>6} {k.voicemail:>4}"
                f" {k.waiting_now:>7} "
            )
            level = self.board.wait_level(k.longest_wait_now_s, name)
            style = Style.null() if level is Level.OK else self._style(f"kpi--{level.value}")
            mark = "" if level is Level.OK else _mark(level, self.board)
            line.append(f"{mark + seconds(k.longest_wait_now_s):>8}", style=style)
            sl, ar = self._target_levels(k, name)
            line.append(" ")
            line.append(f"{MARKS[sl] + percent(k.service_level):>5}", self._level_style(sl))
            line.append(" ")
            line.append(f"{MARKS[ar] + percent(k.abandon_rate):>5}", self._level_style(ar))
            line.append(f" {seconds(k.asa_s):>6}")
            agents = staffed.get(name)
            if agents is not None:
                line.append(f" {agents.available:>11} {agents.busy:>4}")
            else:
                line.append(f" {'–':>11} {'–':>4}")
            lines.append(line)
        if len(names) > MAX_QUEUE_ROWS:
            lines.append(
                Text(f"… and {len(names) - MAX_QUEUE_ROWS} more queues (f filters by queue)")
            )
        return lines

    def repaint(self) -> None:
        """Recompute the figures at the view's time and show them."""
        window = self.view.window
        day, queues = self.board.kpis(self.view.now, window)
        narrow = self.view.narrow
        queue = self.view.filter.queue
        begin = counts_begin(self.board) if window is Window.DAY else None
        drawn_from = (
            day,
            queues,
            dict(self.board.agent_counts()),
            narrow,
            queue,
            window,
            begin,
            self.board.agents.version,
            too_long := paused_too_long(self.board.agents, self.view.now, self.agent_thresholds),
        )
        if drawn_from == self._drawn_from:
            return
        self._drawn_from = drawn_from
        lines = [self._day_line(day, narrow)]
        if begin is not None:
            lines.append(
                Text(begin, style=self._style("kpi--warn"), no_wrap=True, overflow="ellipsis")
            )
        lines.append(self._agents_line(too_long))
        if queue is not None and queue in queues:
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(f"Queue {clean(queue, 24)} ", style=self._style("kpi--title"))
            k = queues[queue]
            self._pair(line, "offered", str(k.offered))
            self._pair(line, "waiting", str(k.waiting_now))
            # Without targets this line never coloured its wait; with them it does.
            wait = self.board.wait_level(k.longest_wait_now_s, queue)
            targeted = isinstance(self.board.targets, Targets)
            shown = (MARKS[wait] if targeted else "") + seconds(k.longest_wait_now_s)
            self._pair(line, "longest", shown, self._level_style(wait) if targeted else None)
            sl, ar = self._target_levels(k, queue)
            self._pair(line, "SL", MARKS[sl] + percent(k.service_level), self._level_style(sl))
            self._pair(line, "AR", MARKS[ar] + percent(k.abandon_rate), self._level_style(ar))
            self._pair(line, "ASA", seconds(k.asa_s))
            agents = self.board.agents.by_queue().get(queue)
            if agents is not None:
                self._pair(line, "agents free", str(agents.available))
                self._pair(line, "busy", str(agents.busy))
            lines.append(line)
        elif not narrow and queues:
            lines.extend(self._queue_lines(queues))
        # The header never shrinks while the view stays the same: a queue that drops
        # out of the table for a moment would otherwise move every widget below it,
        # which redraws the whole screen (a wall screen's worth of bytes each time).
        mode = (narrow, queue)
        tallest = self._tallest[mode] = max(len(lines), self._tallest.get(mode, 0))
        lines.extend(Text("") for _ in range(tallest - len(lines)))
        self.show(lines)
