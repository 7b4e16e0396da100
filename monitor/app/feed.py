"""How a feed reaches the app: a runner drives a `FeedSink`, the app is the sink.

The app does not know whether its events come from a hub over a websocket, or
from a fixture in a test: it starts `runner(sink)` in a worker and reacts to
the calls the runner makes. `Connection` is what the connection bar shows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from classifier.call import Call
from classifier.schema import AgentStatus, Event


class ConnectionState(StrEnum):
    """Where a feed is: a hub client's `FeedStatus`, and `FINISHED` when the source ended."""

    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    #: The source ended (a replay played out): the board is the final one.
    FINISHED = "finished"
    #: The feed gave up.
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class SiteLink:
    """One hub of a board that follows several (`monitor.app.sites_feed`): its site and state."""

    site: str
    state: ConnectionState
    last_error: str | None = None
    #: The hub's store's trouble in words (`Connection.store_detail`); None when well.
    store_detail: str | None = None


@dataclass(frozen=True, slots=True)
class Connection:
    """The feed's state as the connection bar shows it."""

    state: ConnectionState = ConnectionState.CONNECTING
    url: str = ""
    attempt: int = 0
    #: Seconds until the next reconnect attempt, when reconnecting.
    next_try_s: float | None = None
    last_error: str | None = None
    source: str = ""
    #: The hub's running source's word on its own state while it is not well (a PBX
    #: link down and retrying: "reconnecting to AMI HOST:PORT, attempt 3, ..."); None
    #: when it is well. Feed text: the bar cleans it.
    source_detail: str | None = None
    #: The hub's store while it is not well ("NATS disconnected, 3 events buffered": a
    #: hub on NATS riding out an outage, docs/scaling.md); None when well or without one.
    #: Feed text: the bar cleans it.
    store_detail: str | None = None
    #: Each hub's state, on a board following several; empty for one hub.
    sites: tuple[SiteLink, ...] = ()


class FeedSink(Protocol):
    """What a runner calls; all calls happen on the app's event loop."""

    def feed_snapshot(
        self,
        calls: Iterable[Call],
        presence: Iterable[AgentStatus],
        seq: int | None,
        hub_id: str | None = None,
        day: dict[str, Any] | None = None,
    ) -> None:
        """Replace the calls in progress and the presence with a hub's snapshot at feed seq `seq`.

        `calls` holds the calls in progress (their state: the snapshot has no events);
        `hub_id` names the hub whose seqs these are;
        `day` is the hub's day state (`classifier.day.DayState.to_dict()`), if it sent one.
        """
        ...

    def feed_event(self, event: Event, received_at: float | None = None) -> None:
        """One event, in feed order; `received_at`: the hub's receive time (epoch s), if known."""
        ...

    def feed_problem(self, message: str) -> None:
        """Something wrong with the feed, in words, for the board's problems list."""
        ...

    def feed_connection(self, connection: Connection) -> None:
        """The feed's state changed (connecting, live, reconnecting, finished, closed)."""
        ...


#: A feed: runs until the feed ends (or forever), calling the sink.
FeedRunner = Callable[[FeedSink], Awaitable[None]]


def fixture_runner(events: Sequence[Event], source: str = "fixture") -> FeedRunner:
    """A runner that applies fixed events at once and reports the feed finished.

    For tests and snapshots: the same app code path as a hub feed, minus the socket.
    """

    async def run(sink: FeedSink) -> None:
        sink.feed_connection(Connection(ConnectionState.LIVE, url=source, source=source))
        for event in events:
            sink.feed_event(event)
        sink.feed_connection(Connection(ConnectionState.FINISHED, url=source, source=source))

    return run
