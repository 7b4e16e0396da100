"""The baseline wallboard: every call in progress is one row of a stock `DataTable`.

This is what a first attempt looks like: follow the hub with the same
`FeedClient`, add a row when a call starts, update its cells as it moves,
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
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from classifier.schema import (
    AgentAnswered,
    AgentRinging,
    CallEnded,
    CallStarted,
    Event,
    QueueEntered,
)
from monitor.feed import FeedClient, Snapshot, SourceStatus

COLUMNS = ("call", "state", "queue", "agent", "from", "since")


class NaiveBoard(App[None]):
    """A DataTable with one row per call in progress, updated event by event."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Quit")]

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.applied_seq: int | None = None
        self.drawn: list[tuple[int | None, float]] = []
        self.arrivals: list[tuple[int | None, float | None, float]] = []
        self._frame_pending = False
        self._client: FeedClient | None = None

    def compose(self) -> ComposeResult:
        yield DataTable(id="calls")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        self.run_worker(self._follow(), name="feed", exit_on_error=False)

    async def _follow(self) -> None:
        table = self.query_one(DataTable)
        self._client = FeedClient(self.url)
        async for item in self._client:
            if isinstance(item, Snapshot):
                table.clear()
                for events in item.calls:
                    for event in events:
                        self._apply(table, event)
                self.applied_seq = item.seq
            elif isinstance(item, SourceStatus):
                continue
            else:
                self._apply(table, item)
                self.applied_seq = item.seq
                self.arrivals.append((item.seq, self._client.state.last_received_at, time.time()))
            self._want_frame()

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

    async def on_unmount(self) -> None:
        if self._client is not None:
            await self._client.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m bench.naive_board ws://HOST:PORT/events")
    NaiveBoard(sys.argv[1]).run()
