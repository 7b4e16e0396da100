"""The baseline wallboard: every call in progress is one row of a stock `DataTable`.

This is what a first attempt looks like: follow the hub with the same feed
code as the real board, add a row when a call starts, update its cells as it moves,
remove the row when it ends, and let Textual redraw when it likes. It exists
only to be measured beside the real board (figures 3, 4 and 6).

    python -m bench.naive_board ws://127.0.0.1:8765/events      # run it in a terminal

Like the real board it offers a frame hook: `drawn` gets `(seq, drawn_at)`
once a refresh that shows feed seq `seq` has reached the screen, and
`arrivals` gets `(seq, hub_received_at, applied_at)` for every event.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from typing_extensions import override

from classifier.call import Call
from classifier.schema import (
    AgentAnswered,
    AgentRinging,
    AgentStatus,
    CallEnded,
    CallStarted,
    Event,
    QueueEntered,
)
from monitor.app.feed import Connection, FeedRunner
from monitor.app.hub_feed import hub_runner

COLUMNS = ("call", "state", "queue", "agent", "from", "since")


class NaiveBoard(App[None]):
    """A DataTable with one row per call in progress, updated event by event.

    It is a `FeedSink`, like the real board: `runner` is the same feed code the
    real board gets (`hub_runner(url)` for a hub, or the benchmark's in-process
    paced feed), so the two differ only in how they show the calls.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Quit")]

    def __init__(self, runner: FeedRunner) -> None:
        super().__init__()
        self._runner = runner
        self.applied_seq: int | None = None
        self.drawn: list[tuple[int | None, float]] = []
        self.arrivals: list[tuple[int | None, float | None, float]] = []
        self._frame_pending = False
        self._table: DataTable[Any] | None = None

    @override
    def compose(self) -> ComposeResult:
        """The one DataTable of calls in progress."""
        yield DataTable(id="calls")

    def on_mount(self) -> None:
        """Add the columns, then start the feed worker."""
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        self._table = table
        self.run_worker(self._runner(self), name="feed", exit_on_error=False)

    def feed_snapshot(
        self,
        calls: Iterable[Call],
        presence: Iterable[AgentStatus],
        seq: int | None,
        hub_id: str | None = None,
        day: object = None,
    ) -> None:
        """A fresh start from the hub: a row for every call in progress (no day)."""
        assert self._table is not None
        self._table.clear()
        for call in calls:
            self._table.add_row(
                Text(call.call_id),
                Text(call.phase.value),
                Text(call.queue or ""),
                Text(call.agent or ""),
                Text(call.caller),
                Text((call.phase_since or call.started_at).strftime("%H:%M:%S")),
                key=call.call_id,
            )
        self.applied_seq = seq
        self._want_frame()

    def feed_event(self, event: Event, received_at: float | None = None) -> None:
        """One event: add, update or remove its call's row."""
        assert self._table is not None
        self._apply(self._table, event)
        self.applied_seq = event.seq
        self.arrivals.append((event.seq, received_at, time.time()))
        self._want_frame()

    def feed_problem(self, message: str) -> None:
        """The baseline shows no problems list; it only has to keep up."""

    def feed_connection(self, connection: Connection) -> None:
        """The baseline has no connection bar."""

    def _apply(self, table: DataTable[Any], event: Event) -> None:
        key = event.call_id
        if not key:
            return
        if isinstance(event, CallEnded):
            if key in table.rows:
                table.remove_row(key)
            return
        if key not in table.rows:
            caller = event.from_ if isinstance(event, CallStarted) else ""
            table.add_row(
                Text(key), Text(event.type), Text(""), Text(""), Text(caller), Text(""), key=key
            )
        table.update_cell(key, "state", Text(event.type))
        table.update_cell(key, "since", Text(event.ts.strftime("%H:%M:%S")))
        if isinstance(event, QueueEntered):
            table.update_cell(key, "queue", Text(event.queue))
        elif isinstance(event, AgentRinging | AgentAnswered):
            table.update_cell(key, "agent", Text(event.agent))

    def _want_frame(self) -> None:
        if not self._frame_pending:
            self._frame_pending = True
            self.call_after_refresh(self._frame_drawn)

    def _frame_drawn(self) -> None:
        self._frame_pending = False
        self.drawn.append((self.applied_seq, time.time()))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m bench.naive_board ws://HOST:PORT/events")
    NaiveBoard(hub_runner(sys.argv[1])).run()
