"""The connection bar: feed state, events per second, lag, and the user's choices.

A hub's source that is down and retrying says when it tries next, in words (`◌ hub
live; source reconnecting to AMI pbx:5038, attempt 4, next try in 4 s: ...`), once per
attempt. The bar counts that down on the board's clock (the app's `clock`, which the
tests drive) from the moment the words changed, which a watcher on the `connection`
reactive notes, to `trying now` (`monitor.text.next_try`). No timer of its own: the
app redraws the bar at least once a second for the board's clocks
(`monitor.app.frames`), and a Textual interval would wake every board a second time
each second; a redraw that changes no character refreshes nothing (`TextLines.show`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual.reactive import var

from monitor.app.feed import Connection, ConnectionState
from monitor.app.view import ViewState
from monitor.app.widgets.lines import TextLines
from monitor.board import Board
from monitor.text.next_try import NextTry, find_next_try
from monitor.text.safe_text import clean

_STATE_MARK = {
    ConnectionState.CONNECTING: "…",
    ConnectionState.LIVE: "●",
    ConnectionState.RECONNECTING: "◌",
    ConnectionState.FINISHED: "■",
    ConnectionState.CLOSED: "✕",
}


class ConnectionBar(TextLines):
    """One line saying whether the board is live, and how far behind it is."""

    DEFAULT_CSS = """
    ConnectionBar {
        & > .conn--live { color: $success; text-style: bold; }
        & > .conn--trouble { color: $error; text-style: bold; }
        & > .conn--finished { color: $accent; text-style: bold; }
        & > .conn--paused { color: $warning; text-style: bold reverse; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "conn--live",
        "conn--trouble",
        "conn--finished",
        "conn--paused",
    }

    #: The feed's state as the app last set it; a new source detail restarts the count
    #: of its next try (`watch_connection`).
    connection: var[Connection] = var(Connection(), init=False)

    def __init__(
        self, board: Board, view: ViewState, clock: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__(id="connection")
        self.board = board
        self.view = view
        #: The board's clock: the source's next try counts down on it.
        self.clock = clock or (lambda: datetime.now(UTC))
        #: The source detail's next try and when the detail came (board clock), if it
        #: names one.
        self._next_try: tuple[NextTry, datetime] | None = None
        #: When `connection` was last set (monotonic seconds).
        self.connection_since = time.monotonic()
        self.rate = 0.0
        self.lag_s: float | None = None

    def watch_connection(self, old: Connection, new: Connection) -> None:
        """Start counting the source's next try from now, when its words changed."""
        if new.source_detail == old.source_detail:
            return
        found = find_next_try(new.source_detail) if new.source_detail else None
        self._next_try = None if found is None else (found, self.clock())

    def _source_words(self, detail: str) -> str:
        """The source's detail with its next try counted down to the board's time now."""
        if self._next_try is None:
            return detail
        found, said_at = self._next_try
        return found.after_s((self.clock() - said_at).total_seconds())

    def describe(self) -> Text:
        """The bar's text (also what tests read)."""
        c = self.connection
        text = Text(no_wrap=True, overflow="ellipsis")
        mark = _STATE_MARK[c.state]
        if c.sites:
            self._describe_sites(text)
        elif c.state is ConnectionState.LIVE and (c.source_detail or c.store_detail):
            # The hub is reached but its source or its store is not well (a PBX link
            # retrying, NATS away): the board's figures depend on them, so that takes
            # the place of "live".
            trouble = []
            if c.source_detail:
                trouble.append(f"source {clean(self._source_words(c.source_detail), 120)}")
            if c.store_detail:
                trouble.append(clean(c.store_detail, 80))
            text.append(f"◌ hub live; {'; '.join(trouble)}", style=self._style("conn--trouble"))
        elif c.state is ConnectionState.LIVE:
            text.append(f"{mark} live", style=self._style("conn--live"))
        elif c.state is ConnectionState.FINISHED:
            what = f"replay finished: {clean(c.source, 40)}" if c.source else "feed finished"
            text.append(f"{mark} {what}", style=self._style("conn--finished"))
        elif c.state is ConnectionState.RECONNECTING:
            retry = ""
            if c.next_try_s is not None:
                # Counts down between state changes (the bar is redrawn every second).
                left = max(0.0, c.next_try_s - (time.monotonic() - self.connection_since))
                retry = f", next try in {left:.0f} s"
            error = f": {clean(c.last_error, 60)}" if c.last_error else ""
            text.append(
                f"{mark} reconnecting (attempt {c.attempt}{retry}){error}",
                style=self._style("conn--trouble"),
            )
        elif c.state is ConnectionState.CLOSED:
            error = f": {clean(c.last_error, 60)}" if c.last_error else ""
            text.append(f"{mark} disconnected{error}", style=self._style("conn--trouble"))
        else:
            text.append(f"{mark} connecting {clean(c.url, 60)}")
        if c.state in (ConnectionState.LIVE, ConnectionState.RECONNECTING):
            text.append(f"  {self.rate:.0f} ev/s")
        if self.lag_s is not None:
            text.append(f"  lag {self.lag_s * 1000:.0f} ms")
        text.append(f"  sort: {self.view.sort.value}")
        if self.view.filter.active:
            text.append(f"  filter: {clean(self.view.filter.describe(), 40)}")
        if self.view.mask:
            text.append("  masked")
        if self.board.problem_count:
            text.append(
                f"  problems {self.board.problem_count}", style=self._style("conn--trouble")
            )
        if self.board.unseen_events:
            # Kept in sight for the rest of the day: the day's figures stay short.
            text.append("  counts incomplete", style=self._style("conn--trouble"))
        if self.view.paused:
            text.append("  ⏸ PAUSED (p resumes)", style=self._style("conn--paused"))
        return text

    def _describe_sites(self, text: Text) -> None:
        """A board of several hubs: each site's mark and state, and why one is not live."""
        for n, link in enumerate(self.connection.sites):
            style = {
                ConnectionState.LIVE: "conn--live",
                ConnectionState.FINISHED: "conn--finished",
                ConnectionState.CONNECTING: "",
            }.get(link.state, "conn--trouble")
            words = f"{_STATE_MARK[link.state]} {clean(link.site, 30)} {link.state.value}"
            if link.last_error and link.state is not ConnectionState.LIVE:
                words += f": {clean(link.last_error, 40)}"
            elif link.store_detail and link.state is ConnectionState.LIVE:
                # Its hub is reached, its store is not: its figures stand still.
                words += f"; {clean(link.store_detail, 60)}"
                style = "conn--trouble"
            text.append(("  " if n else "") + words, style=self._style(style) if style else "")

    def repaint(self) -> None:
        """Show the bar as `describe()` has it now (refreshed only if it changed)."""
        self.show([self.describe()])
