"""A feed from a hub: `callboard watch` follows one over a websocket with `FeedClient`.

A board on the same machine as its hub behaves exactly like one on the other side
of the world (minus the latency). `replay` and the demo need no hub: they run
their source in the board's process (`monitor.app.local_feed`).
"""

from __future__ import annotations

from monitor.app.feed import Connection, ConnectionState, FeedRunner, FeedSink
from monitor.feed.client import (
    FeedClient,
    FeedState,
    FeedStatus,
    Snapshot,
    SourceState,
    SourceStatus,
)


def connection_of(
    state: FeedState, finished: bool, label: str, source: SourceStatus | None = None
) -> Connection:
    """What the connection bar shows of a hub client's state (`finished`: its source ended)."""
    status = ConnectionState(state.status.value)
    if finished and state.status is FeedStatus.LIVE:
        status = ConnectionState.FINISHED
    # A running source's detail is its trouble (an AMI link retrying); null when well.
    running = source is not None and source.state == SourceState.RUNNING
    store = source.store if source is not None else None
    return Connection(
        source_detail=source.detail if running and source is not None else None,
        store_detail=store.describe() if store is not None and not store.well else None,
        state=status,
        url=state.url,
        attempt=state.attempt,
        next_try_s=state.retry_in,
        last_error=state.last_error,
        source=label or state.source.name,
    )


def hub_runner(
    url: str,
    token: str | None = None,
    label: str = "",
    source_problems: bool = True,
) -> FeedRunner:
    """Follow the hub at `url` until the app ends, reconnecting as needed.

    `source_problems`: report the count of input the hub's source skipped (off when
    the caller already reports each skipped line itself).
    """

    async def run(sink: FeedSink) -> None:
        finished = False
        source: SourceStatus | None = None
        reported: set[tuple[str, str, int]] = set()

        def report(source: SourceStatus) -> None:
            key = (source.name, source.state, source.problems)
            if key not in reported:
                reported.add(key)
                report_source(sink, source, source_problems)

        def on_state(state: FeedState) -> None:
            sink.feed_connection(connection_of(state, finished, label, source))

        client = FeedClient(url, token=token, on_state=on_state)
        try:
            async for item in client:
                if isinstance(item, Snapshot):
                    sink.feed_snapshot(
                        item.calls, item.presence, item.seq, item.hub_id, day=item.day
                    )
                    finished = item.source.finished
                    source = item.source
                    report(item.source)
                    on_state(client.state)
                elif isinstance(item, SourceStatus):
                    finished = item.finished
                    source = item
                    report(item)
                    on_state(client.state)
                else:
                    sink.feed_event(item, client.state.last_received_at)
        finally:
            await client.close()

    return run


def report_source(sink: FeedSink, source: SourceStatus, problems: bool, where: str = "") -> None:
    """Tell the board that the hub's source failed, or finished having skipped input.

    `where` goes first (`site a: ` on a board of several sites).
    """
    if source.state == SourceState.FAILED:
        sink.feed_problem(
            f"{where}the hub's source {source.name} failed: {source.detail or 'no detail'}"
        )
    elif problems and source.finished and source.problems:
        sink.feed_problem(
            f"{where}the hub's source {source.name} skipped {source.problems} bad input lines"
        )
