"""The hub's fan-out (`monitor.feed.fanout`): the frames of a loop turn leave as one write
shared by every subscriber that keeps up; the raw frames each subscriber receives say so.

Real hub on loopback, real websocket subscribers reading raw messages.
"""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import ClientConnection, connect

from monitor.feed.hub import HubConfig, running_hub
from tests.hub_support import DEADLINE, make_calls, wait_for


async def messages_until(ws: ClientConnection, seq: int) -> list[list[int]]:
    """The event seqs of each message received until `seq` has come."""
    out: list[list[int]] = []
    while not out or out[-1][-1] < seq:
        frame = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
        frames = frame["frames"] if frame["frame"] == "batch" else [frame]
        seqs = [f["seq"] for f in frames if f["frame"] == "event"]
        if seqs:
            out.append(seqs)
    return out


async def test_the_events_of_one_loop_turn_reach_every_subscriber_in_one_shared_write() -> None:
    events = make_calls(20)
    async with running_hub(HubConfig(port=0)) as hub:
        subscribers = [await connect(hub.url) for _ in range(20)]
        for ws in subscribers:
            assert json.loads(await ws.recv())["frame"] == "snapshot"
        # Once caught up (their snapshot sent, nothing queued), they leave their queues.
        await wait_for(
            lambda: hub.stats()["fanout"]["queued"] == 0 and hub.subscriber_count == 20,
            "subscribers on the shared write",
        )
        for event in events[:40]:  # one loop turn: no await in between
            hub.publish(event)
        for event in events[40:]:  # then one a turn
            await asyncio.sleep(0)
            hub.publish(event)
        received = [await messages_until(ws, hub.seq) for ws in subscribers]
        stats = hub.stats()["fanout"]
        for ws in subscribers:
            await ws.close()
    for messages in received:
        assert [s for m in messages for s in m] == list(range(1, 101))
        # The first 40 events, published in one turn, arrived as one message.
        assert messages[0] == list(range(1, 41))
    # One write per message for all 20 subscribers, not one per subscriber.
    assert stats["shared_writes"] == len(received[0])


async def test_frames_are_compressed_only_when_the_hub_is_asked_to() -> None:
    # A client offering permessage-deflate (websockets' default) gets it only from a
    # hub started with compression (serve --compress): each connection compresses
    # each frame for itself.
    for compression in (False, True):
        config = HubConfig(port=0, compression=compression)
        async with running_hub(config) as hub, connect(hub.url) as ws:
            assert json.loads(await ws.recv())["frame"] == "snapshot"
            assert ws.response is not None
            extensions = ws.response.headers.get("Sec-WebSocket-Extensions") or ""
            assert ("permessage-deflate" in extensions) is compression
