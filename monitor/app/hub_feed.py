"""Feeds from a hub: follow one over a websocket, or start one in-process first.

Both the demo, `watch` and `replay` go through `FeedClient` over a real
websocket, so a board on the same machine as its hub behaves exactly like one
on the other side of the world (minus the latency).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from classifier.schema import Event
from monitor.app.feed import Connection, FeedRunner, FeedSink
from monitor.feed import FeedClient, FeedState, FeedStatus, Snapshot, SourceStatus
from monitor.hub import HubConfig, running_hub


def _connection(state: FeedState, finished: bool, label: str) -> Connection:
    status = state.status.value
    if finished and state.status is FeedStatus.LIVE:
        status = "finished"
    return Connection(
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
    on_first_snapshot: Callable[[], None] | None = None,
) -> FeedRunner:
    """Follow the hub at `url` until the app ends, reconnecting as needed.

    `source_problems`: report the count of input the hub's source skipped (off when
    the caller already reports each skipped line itself). `on_first_snapshot` runs
    once, after the first snapshot has been applied.
    """

    async def run(sink: FeedSink) -> None:
        finished = False
        hook = on_first_snapshot
        reported: set[tuple[str, str, int]] = set()

        def report(source: SourceStatus) -> None:
            key = (source.name, source.state, source.problems)
            if key not in reported:
                reported.add(key)
                _report_source(sink, source, source_problems)

        def on_state(state: FeedState) -> None:
            sink.feed_connection(_connection(state, finished, label))

        client = FeedClient(url, token=token, on_state=on_state)
        try:
            async for item in client:
                if isinstance(item, Snapshot):
                    sink.feed_snapshot(item.calls, item.presence, item.seq)
                    finished = item.source.finished
                    report(item.source)
                    on_state(client.state)
                    if hook is not None:
                        hook()
                        hook = None
                elif isinstance(item, SourceStatus):
                    finished = item.finished
                    report(item)
                    on_state(client.state)
                else:
                    sink.feed_event(item, client.state.last_received_at)
        finally:
            await client.close()

    return run


def _report_source(sink: FeedSink, source: SourceStatus, problems: bool) -> None:
    if source.state == "failed":
        sink.feed_problem(f"the hub's source {source.name} failed: {source.detail or 'no detail'}")
    elif problems and source.finished and source.problems:
        sink.feed_problem(
            f"the hub's source {source.name} skipped {source.problems} bad input lines"
        )


#: Events the embedded hub keeps for a reconnecting board (the hub's default is 50,000).
EMBEDDED_RING = 5_000


def embedded_runner(
    make_source: Callable[[Callable[[str], None]], AsyncIterator[Event] | Any],
    label: str,
    token: str | None = None,
) -> FeedRunner:
    """Start a hub on a free loopback port running a source, then follow it.

    `make_source(report)` builds the source; `report(message)` puts a problem with
    the input (a bad line of a log) on the board's problem list.
    """

    async def run(sink: FeedSink) -> None:
        # One local subscriber, which resumes from the ring only after a hiccup: a
        # small ring keeps a long replay's memory near what the board itself needs.
        config = HubConfig(host="127.0.0.1", port=0, token=token, ring_size=EMBEDDED_RING)
        async with running_hub(config) as hub:

            def start_source() -> None:
                hub.attach_source(make_source(sink.feed_problem))

            # The source starts only once the board is subscribed: a fast replay started
            # earlier could finish before the client joins, leaving its finished calls
            # out of the snapshot the board would get.
            follow = hub_runner(
                hub.url,
                token=token,
                label=label,
                source_problems=False,
                on_first_snapshot=start_source,
            )
            await follow(sink)

    return run
