"""How long a hub takes to start: from the call to listening, the hub then in hand.

Figures 11 (a restart on a week of journal), 14 (a start on NATS, from the
checkpoint and from the stream's start) and 16 (a rebuild from a NATS stream before
a board joins) time the same thing: `running_hub` from its call until it listens,
which covers reading the journal or the stream. One clock for all three, so their
numbers mean the same; each then reads what it reports off the hub.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

from monitor.feed.hub import Hub, HubConfig, running_hub


@contextlib.asynccontextmanager
async def timed_hub(config: HubConfig) -> AsyncIterator[tuple[float, Hub]]:
    """A hub started on `config` for the block, with its seconds from the call to listening."""
    start = time.perf_counter()
    async with running_hub(config) as hub:
        yield time.perf_counter() - start, hub


def read_at_start(hub: Hub) -> int:
    """The stream messages a NATS hub read on starting (those after its checkpoint)."""
    assert hub.nats is not None, "a hub on NATS"
    return int(hub.nats.stats()["read_at_start"])
