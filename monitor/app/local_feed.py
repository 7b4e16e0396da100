"""A feed from a source in the board's own process: `callboard replay` and the demo.

A replay or the demo serves one board on one screen, so it needs no hub: the
source's events go straight to the board, with no second copy of the calls in
progress (a hub keeps its own tracker), no ring of encoded frames, and no
encoding and decoding on a loopback websocket. The board applies each event
with the same shared state machine a hub would, so it accepts, flags and
rejects exactly what `callboard serve` would; what a hub would have refused
shows on the board's problem list instead of only in a hub's log. That includes
event times outside the hub's plausibility window (`classifier.plausible`; the
board has no call starts to compare with, so the window is the clock's: a
replay's 7 days, the demo's 5 minutes).

`callboard watch` follows a real hub (`monitor.app.hub_feed`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, Callable

from classifier.plausible import TimeWindow
from classifier.schema import Event
from monitor.app.feed import Connection, ConnectionState, FeedRunner, FeedSink
from monitor.sources.source import SOURCE_TURN

#: How a runner builds its source: `make_source(report)`, where `report(message)`
#: puts a problem with the input (a bad line of a log) on the board's problem list.
SourceFactory = Callable[[Callable[[str], None]], AsyncIterable[Event]]


def local_runner(make_source: SourceFactory, label: str) -> FeedRunner:
    """Run a source in-process and apply what it yields to the board.

    The connection bar shows the feed live while the source runs and finished when it
    ends (a replay's final board stays up until the user quits). A source that fails
    puts the reason on the problem list and leaves the board on what it had.
    """

    async def run(sink: FeedSink) -> None:
        source = make_source(sink.feed_problem)
        name = str(getattr(source, "name", "") or label)
        sink.feed_connection(Connection(ConnectionState.LIVE, url=name, source=label))
        iterator = aiter(source)
        times = TimeWindow()
        count = 0
        try:
            async for event in iterator:
                # A source with a replay position replays a log, as for a hub.
                replayed = isinstance(getattr(source, "position", None), dict)
                problem = times.problem(event, time.time(), replayed)
                if problem is None:
                    sink.feed_event(event)
                else:
                    sink.feed_problem(f"{name}: {problem}")
                count += 1
                if count % SOURCE_TURN == 0:
                    await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the source's failure is shown, not fatal to the board
            detail = (str(exc) or type(exc).__name__)[:200]
            sink.feed_problem(f"the source {name} failed: {detail}")
        finally:
            close = getattr(iterator, "aclose", None)
            if close is not None:
                await close()
        sink.feed_connection(Connection(ConnectionState.FINISHED, url=name, source=label))

    return run
