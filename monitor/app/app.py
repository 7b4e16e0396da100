"""The wallboard app: a feed worker applies events to the board; the board is redrawn.

Data flows one way: the feed runner (a hub over a websocket, or a fixture)
calls `feed_*` on the app, which applies to `monitor.board.Board`; the widgets
are redrawn from the board at most `repaint_hz` times a second when it changed,
and once a second for the clocks. Widgets read the board; they never change it.

The redraws are scheduled, not polled: `monitor.app.frames.FrameScheduler`
decides when the next frame is due, and the app wires it to its event loop.

Frame hook (for benchmarks and tests): append a callable to `frame_listeners`;
after each repaint has reached the screen it is called with a `Frame` naming
the feed seq and board version the frame showed, and when it was drawn.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import termios
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.geometry import Size
from textual.widgets import Footer, Static
from typing_extensions import override

from classifier.call import Call
from classifier.day import WINDOWS
from classifier.kpi import KpiSettings
from classifier.schema import AgentStatus, Event
from classifier.verdict import Outcome
from monitor.agents_view import AgentThresholds, agent_story
from monitor.app.alerts import AlertsPanel, BoardAlerts
from monitor.app.clock import FeedClock
from monitor.app.collector import FREEZE_EVERY_S, RECLAIM_EVERY_S, CollectorPolicy
from monitor.app.feed import Connection, ConnectionState, FeedRunner
from monitor.app.frames import FrameScheduler
from monitor.app.keys import bindings
from monitor.app.palette import BoardCommands
from monitor.app.pipes import pipes_gone
from monitor.app.screens import HelpScreen, SearchScreen, StoryScreen
from monitor.app.view import WALL_PAGE_S, ViewState, next_in
from monitor.app.widgets.active import ActiveCalls
from monitor.app.widgets.agents import AGENTS_KEY, AgentsPanel
from monitor.app.widgets.header import KpiHeader
from monitor.app.widgets.panels import OutcomePanel, ProblemsPanel
from monitor.app.widgets.rows import RowView
from monitor.app.widgets.status import ConnectionBar
from monitor.app.widgets.wall import Wall
from monitor.board import PANEL_ORDER, PANEL_TITLES, Board, Filter, SortKey

#: Panel names in the tab strip of small screens: 80 columns hold all five with
#: four-digit counts and "6 Agents" (whose count is on the panel's own title).
TAB_TITLES = {**PANEL_TITLES, Outcome.VOICEMAIL: "VM", Outcome.NOT_CONNECTED: "Not conn"}

#: Below this size the outcome panels become tabs and the per-queue table hides.
WIDE_COLUMNS = 120
#: How often the app checks that its terminal is still there (seconds).
TERMINAL_CHECK_S = 2.0
WIDE_ROWS = 36


@dataclass(frozen=True, slots=True)
class Frame:
    """One repaint that reached the screen."""

    #: Highest feed seq applied when the frame was drawn (None for a seq-less feed).
    seq: int | None
    version: int
    events_applied: int
    #: Wall time (epoch seconds) when the frame was on screen.
    drawn_at: float


class CallboardApp(App[int]):
    """Header, active calls, outcome panels and problems of one board, fed by `feed_*`."""

    CSS_PATH = "board.tcss"
    TITLE = "callboard"
    COMMANDS = App.COMMANDS | {BoardCommands}
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        *bindings(),
        *(
            Binding(str(n), f"panel({n})", PANEL_TITLES[o], show=False)
            for n, o in enumerate(PANEL_ORDER, start=1)
        ),
    ]

    def __init__(
        self,
        runner: FeedRunner | None = None,
        *,
        board: Board | None = None,
        settings: KpiSettings | None = None,
        clock: Callable[[], datetime] | None = None,
        rate: float = 1.0,
        mask: bool = False,
        repaint_hz: float = 10.0,
        source: str = "",
        live: bool = False,
        alerts: BoardAlerts | None = None,
        wall: bool = False,
        wall_page_s: float = WALL_PAGE_S,
        panels: Sequence[Outcome] | None = None,
        agent_thresholds: AgentThresholds | None = None,
    ) -> None:
        super().__init__()
        #: How long an agent may stay paused, in wrap-up or ringing (`[agent_targets]`).
        self.agent_thresholds = agent_thresholds or AgentThresholds()
        #: The outcome panels shown (callboard.toml `[board] panels`), in key order;
        #: each keeps its key (1..5) and its count in the header either way.
        self.shown_panels = [o for o in PANEL_ORDER if panels is None or o in panels]
        #: callboard.toml's alert rules judged at each repaint (None: no rules, no panel).
        self.alerts = alerts
        self.board = board or Board(settings)
        self.view = ViewState(mask=mask, wall=wall)
        if self.shown_panels and self.view.panel not in self.shown_panels:
            self.view.panel = self.shown_panels[0]
        self._wall_page_s = wall_page_s
        #: `live`: a live feed (watch, the demo), whose times should follow the wall clock.
        self.feed_clock = FeedClock(rate, live=live)
        self._clock = clock or self.feed_clock.now
        self._runner = runner
        #: Repaints per second at most (the board commands' `--refresh-rate`).
        self.repaint_hz = repaint_hz
        self._drawn_version = -1
        #: When frames are due; started when the app is mounted.
        self.scheduler = FrameScheduler(repaint_hz, self._arrange_wake, self._on_wake)
        self._rates: deque[tuple[float, int]] = deque(maxlen=64)
        self._last_received: float | None = None
        self._lag: float | None = None
        self.connection = Connection(source=source)
        self.frame_listeners: list[Callable[[Frame], None]] = []
        self.frames = 0
        self._mounted = False
        self._tabs_shown = ""
        self.collector = CollectorPolicy()
        self._laid_out_for = Size(0, 0)
        #: The signal (SIGTERM, SIGHUP) that ended the app, if one did.
        self.stopped_by: signal.Signals | None = None

    # --- layout ------------------------------------------------------------------------

    @override
    def compose(self) -> ComposeResult:
        """Header, connection bar, active calls; tab strip, outcome panels, problems; footer."""
        # The board's widgets are kept by reference: `query_one` looks at the screen
        # on top, which is a story or help screen while one is open.
        self._header = KpiHeader(self.board, self.view, self.agent_thresholds)
        self._bar = ConnectionBar(self.board, self.view, self._clock)
        self._active = ActiveCalls(self.board, self.view, id="active")
        self._panels = {o: OutcomePanel(self.board, self.view, o) for o in self.shown_panels}
        self._problems = ProblemsPanel(self.board)
        self._agents = AgentsPanel(self.board, self.view, self.agent_thresholds)
        self._tab_strip = Static(id="panel-tabs")
        self._wall = Wall(self.board, self.view, self._wall_page_s, id="wall")
        yield self._header
        yield self._bar
        yield self._wall
        yield self._active
        with Container(id="panels") as panels:
            # The grid holds the panels shown and the problems: 3x2 for all five.
            cells = len(self._panels) + 1
            columns = min(3, cells)
            panels.styles.grid_size_columns = columns
            panels.styles.grid_size_rows = -(-cells // columns)
            yield self._tab_strip
            yield from self._panels.values()
            yield self._problems
        # After the outcome panels: on a small screen the tab strip above stays in place
        # and the agents tab takes the panel's room (board.tcss).
        yield self._agents
        if self.alerts is not None:
            self._alerts_panel = AlertsPanel(self.alerts)
            yield self._alerts_panel
        yield Footer()

    def on_mount(self) -> None:
        """Lay out, focus the active calls, install signal, terminal and GC hooks, start the feed.

        Also draws the first frame and schedules the next.
        """
        self._mounted = True
        self.scheduler.start()
        self._active.border_title = "Active calls"
        self._bar.connection = self.connection
        self._layout()
        self._active.focus()
        self._install_signal_handlers()
        self._watch_terminal()
        self.collector.install()
        self.set_interval(RECLAIM_EVERY_S, self.collector.reclaim)
        self.set_interval(FREEZE_EVERY_S, self.collector.tick)
        if self._runner is not None:
            self.run_worker(self._run_feed(self._runner), name="feed", exit_on_error=False)
        self.repaint()
        self._arrange_next_frame()

    def _install_signal_handlers(self) -> None:
        # SIGTERM (kill) and SIGHUP (the SSH session dropped) end the app the same way
        # q does, so the driver restores the terminal on the way out.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._stop_on_signal, sig)

    def _stop_on_signal(self, sig: signal.Signals) -> None:
        self.stopped_by = sig
        self.exit(128 + int(sig))

    def _watch_terminal(self) -> None:
        """Leave as on SIGHUP once the terminal has gone away without sending one.

        A terminal closed under a process outside its session sends no SIGHUP; the
        input side then reads end-of-file forever and the app would spin at a full
        core, unseen, until someone kills it.
        """
        stream = sys.__stdin__
        if self.is_web and stream is not None and sys.__stdout__ is not None:
            # A browser session (`callboard web`): the pipes to the server, not a tty.
            pipes = (stream.fileno(), sys.__stdout__.fileno())

            def check_pipes() -> None:
                if pipes_gone(*pipes):
                    self._stop_on_signal(signal.SIGHUP)

            self.set_interval(TERMINAL_CHECK_S, check_pipes)
            return
        if self.is_headless or stream is None or not stream.isatty():
            return
        fd = stream.fileno()

        def check() -> None:
            try:
                termios.tcgetattr(fd)
            except (termios.error, OSError):
                self._stop_on_signal(signal.SIGHUP)

        self.set_interval(TERMINAL_CHECK_S, check)

    def on_unmount(self) -> None:
        """Cancel the pending wake-up; remove the GC and signal hooks that `on_mount` installed."""
        self._mounted = False
        self.scheduler.stop()
        self.collector.uninstall()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)

    def on_resize(self) -> None:
        """Lay out for the new size, and look again at the next grid point."""
        self._layout()
        # The app's size may lag its resize event: look again at the next grid point.
        self.scheduler.recheck()

    def _layout(self) -> None:
        self._laid_out_for = self.size
        narrow = self.size.width < WIDE_COLUMNS or self.size.height < WIDE_ROWS
        self.view.narrow = narrow
        self.set_class(narrow, "-narrow")
        self.set_class(not narrow, "-wide")
        self.set_class(self.view.wall, "-wall")
        self._show_tab()
        self.repaint()

    def _show_tab(self) -> None:
        """Mark the current tab: an outcome panel, or the agents (`-agents` on the app)."""
        agents = self.view.agents_tab
        self.set_class(agents, "-agents")
        for panel in self._panels.values():
            panel.set_class(not agents and panel.outcome is self.view.panel, "-current")

    def panel_titles(self) -> list[str]:
        """Panel titles in key order (1..5)."""
        return [PANEL_TITLES[o] for o in PANEL_ORDER]

    # --- feed ------------------------------------------------------------------------

    async def _run_feed(self, runner: FeedRunner) -> None:
        try:
            await runner(self)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the feed's failure is shown, not fatal to the board
            self.feed_connection(
                Connection(
                    state=ConnectionState.CLOSED,
                    url=self.connection.url,
                    last_error=str(exc) or type(exc).__name__,
                    source=self.connection.source,
                )
            )

    def feed_snapshot(
        self,
        calls: Iterable[Call],
        presence: Iterable[AgentStatus],
        seq: int | None,
        hub_id: str | None = None,
        day: dict[str, Any] | None = None,
    ) -> None:
        """A hub's snapshot (on connect and after a re-sync), with the hub's day if it sent one."""
        calls = list(calls)
        self.board.load_snapshot(calls, presence, seq, hub_id, day=day)
        for call in calls:
            # The times its events had: the first and the newest.
            self.feed_clock.seen(call.started_at, call.call_id)
            if call.last_ts is not None:
                self.feed_clock.seen(call.last_ts, call.call_id)
        self.scheduler.changed()

    def feed_event(self, event: Event, received_at: float | None = None) -> None:
        """One event from the feed; `received_at` is the hub's receive time (epoch s)."""
        self.board.apply(event)
        self.feed_clock.seen(event.ts, event.call_id)
        self._last_received = received_at if received_at is not None else time.time()
        self.scheduler.event()

    def feed_problem(self, message: str) -> None:
        """Something wrong with the feed (a bad frame, a rejected event)."""
        self.board.problem(message)
        self.scheduler.changed()

    def feed_connection(self, connection: Connection) -> None:
        """Show the new connection state; one naming no source keeps the source known before."""
        if not connection.source:
            connection = replace(connection, source=self.connection.source)
        self.connection = connection
        if connection.state in (ConnectionState.FINISHED, ConnectionState.CLOSED):
            # The final board is a still picture: time stops with the last event.
            self.feed_clock.set_rate(0.0)
        if not self._mounted:
            return  # on_mount picks it up
        self._bar.connection = connection
        self._bar.connection_since = time.monotonic()
        self._bar.repaint()

    # --- scheduling --------------------------------------------------------------------

    def _arrange_wake(self, due: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        """The scheduler's hook: run `callback` at monotonic time `due` on the event loop."""
        delay = max(0.0, due - time.monotonic())
        return asyncio.get_running_loop().call_later(delay, callback)

    def _on_wake(self) -> None:
        # The scheduler runs while the app is mounted (on_mount to on_unmount). Through
        # the app's message queue, not from the event loop's callback: an exception
        # there is shown and stops the app, as in any Textual handler.
        self.call_next(self._wake_up)

    def _wake_up(self) -> None:
        self._tick()
        self._arrange_next_frame()

    def _arrange_next_frame(self) -> None:
        self.scheduler.after_frame(pending=self.board.version != self._drawn_version)

    # --- repaint -----------------------------------------------------------------------

    def _measure(self) -> None:
        bar = self._bar
        now = time.monotonic()
        self._rates.append((now, self.board.events_applied))
        while len(self._rates) > 2 and now - self._rates[0][0] > 2.0:
            self._rates.popleft()
        first_t, first_n = self._rates[0]
        bar.rate = (self.board.events_applied - first_n) / (now - first_t) if now > first_t else 0
        bar.lag_s = self._lag if self.connection.state is ConnectionState.LIVE else None

    def _tick(self) -> None:
        if self.size != self._laid_out_for:
            # Resize events reach the app before its size is updated; checking here
            # catches every change, at most one repaint interval late.
            self._layout()
        scheduler = self.scheduler
        if not scheduler.frame_due(changed=self.board.version != self._drawn_version):
            return
        if scheduler.measure_due():
            self._measure()
        if self.view.paused:
            scheduler.drawn()
            self._bar.repaint()
            self._notify_frame()
            return
        self.repaint()

    def repaint(self) -> None:
        """Draw every widget from the board at the clock's time."""
        if not self._mounted:
            return
        self.view.now = self._clock()
        self._drawn_version = self.board.version
        self.scheduler.drawn()
        self._bar.repaint()
        if self.view.wall:
            # Only the wall is on screen: the tables are drawn when they come back.
            self._wall.repaint()
            self._notify_frame()
            return
        self._header.repaint()
        self._active.repaint()
        for panel in self._panels.values():
            panel.repaint()
        self._problems.repaint()
        if self.alerts is not None:
            self.alerts.judge(self.board, self.view.now, self)
            self._alerts_panel.repaint()
        self._agents.repaint()
        self._tabs()
        self._notify_frame()

    def _notify_frame(self) -> None:
        frame = Frame(self.board.last_seq, self.board.version, self.board.events_applied, 0.0)
        received, self._last_received = self._last_received, None
        self.call_after_refresh(self._frame_drawn, frame, received)

    def _frame_drawn(self, frame: Frame, received: float | None = None) -> None:
        self.frames += 1
        if received is not None and not self.view.paused:
            # How long the newest event of this frame took from the hub to the screen.
            self._lag = max(0.0, time.time() - received)
        if not self.frame_listeners:
            return
        drawn = Frame(frame.seq, frame.version, frame.events_applied, time.time())
        for listener in list(self.frame_listeners):
            listener(drawn)

    def _tabs(self) -> None:
        parts = []
        for number, outcome in enumerate(PANEL_ORDER, start=1):
            if outcome not in self._panels:
                continue
            mark = "▸" if outcome is self.view.panel and not self.view.agents_tab else ""
            count = self.board.count_today(outcome)
            parts.append(f"{mark}{number} {TAB_TITLES[outcome]} {count}")
        mark = "▸" if self.view.agents_tab else ""
        parts.append(f"{mark}{AGENTS_KEY} Agents")
        text = "│".join(parts)
        if text != self._tabs_shown:
            # Text, not str (no markup), and no layout pass: the strip is one line.
            self._tab_strip.update(Text(text, no_wrap=True, overflow="ellipsis"), layout=False)
            self._tabs_shown = text

    # --- actions -----------------------------------------------------------------------

    @on(RowView.Chosen)
    def _show_story(self, message: RowView.Chosen) -> None:
        story = self.board.story(message.call_id, self.view.now)
        if story is None:
            self.notify("That call is no longer held by the board.", severity="warning")
            return
        self.push_screen(StoryScreen(story, self.view.mask))

    @on(AgentsPanel.AgentChosen)
    def _show_agent(self, message: AgentsPanel.AgentChosen) -> None:
        agent = self.board.agents.agents.get(message.agent)
        if agent is None:
            self.notify("That agent is no longer held by the board.", severity="warning")
            return
        story = agent_story(agent, self.view.now, self.board.agent_names)
        self.push_screen(StoryScreen(story, self.view.mask))

    def action_agents(self) -> None:
        """Show (small screens: the tab 6) and focus the agents panel (6, a)."""
        self.view.agents_tab = True
        self._show_tab()
        self.repaint()
        self._agents.focus()

    def action_help(self) -> None:
        """Show every key."""
        self.push_screen(HelpScreen(self.repaint_hz))

    def action_sort(self) -> None:
        """Next order of the active-calls table."""
        keys = list(SortKey)
        self.view.sort = keys[(keys.index(self.view.sort) + 1) % len(keys)]
        self.repaint()

    def set_queue_filter(self, queue: str | None) -> None:
        """Show only one queue (None: all)."""
        flt = self.view.filter
        self.view.filter = Filter(queue, flt.outcome, flt.text)
        self.repaint()

    def action_queue_filter(self) -> None:
        """Filter by the next queue, then by none."""
        options: list[str | None] = [None, *self.board.queues()]
        self.set_queue_filter(next_in(options, self.view.filter.queue))

    def action_outcome_filter(self) -> None:
        """Filter the panels by the next outcome, then by none."""
        options: list[Outcome | None] = [None, *self.shown_panels]
        current = self.view.filter.outcome
        outcome = options[(options.index(current) + 1) % len(options)]
        flt = self.view.filter
        self.view.filter = Filter(flt.queue, outcome, flt.text)
        if outcome is not None:
            self._select_panel(outcome)
        self.repaint()

    def action_search(self) -> None:
        """Prompt for a search text (caller, callee, agent, call id); Esc keeps the current one."""

        def apply(text: str | None) -> None:
            if text is None:
                return
            flt = self.view.filter
            self.view.filter = Filter(flt.queue, flt.outcome, text)
            self.repaint()

        self.push_screen(SearchScreen(self.view.filter.text), apply)

    def action_clear_filters(self) -> None:
        """Show everything again."""
        self.view.filter = Filter()
        self.repaint()

    def action_pause(self) -> None:
        """Freeze the screen; the feed goes on being applied."""
        self.view.paused = not self.view.paused
        if self.view.paused:
            self._bar.repaint()
        else:
            self.repaint()

    def action_wall(self) -> None:
        """Switch between wall mode (big-digit tiles) and the board."""
        self.view.wall = not self.view.wall
        self.set_class(self.view.wall, "-wall")
        if not self.view.wall:
            self._active.focus()
        self.repaint()

    def action_mask(self) -> None:
        """Mask or unmask phone numbers."""
        self.view.mask = not self.view.mask
        self.repaint()

    def action_window(self) -> None:
        """The header and the per-queue table count the next window: day, 60 min, 15 min."""
        self.view.window = WINDOWS[(WINDOWS.index(self.view.window) + 1) % len(WINDOWS)]
        self.repaint()

    def _select_panel(self, outcome: Outcome) -> None:
        self.view.panel = outcome
        self.view.agents_tab = False
        self._show_tab()

    def action_panel(self, number: int) -> None:
        """Show (narrow screens) and focus one outcome panel."""
        outcome = PANEL_ORDER[number - 1]
        if outcome not in self._panels:
            self.notify(
                f"The {PANEL_TITLES[outcome].lower()} panel is not shown ([board] panels).",
                severity="warning",
            )
            return
        self._select_panel(outcome)
        self.repaint()
        self._panels[outcome].focus()

    @override
    async def action_quit(self) -> None:
        """End the app with result 0 (q, Ctrl+C, the palette's Quit)."""
        self.exit(0)
