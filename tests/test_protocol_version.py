"""Hub and client of different protocol versions refuse each other, saying so, and never
misread a snapshot: a real hub refusing `?protocol=1`, and a real websocket server
playing a hub from before version 2 (its snapshot's calls are lists of events).
"""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import InvalidStatus

from monitor.feed.client import FeedClient, FeedRefused, FeedStatus
from monitor.feed.hub import running_hub
from monitor.feed.protocol import PROTOCOL_VERSION
from tests.hub_support import DEADLINE, make_calls


async def test_a_hub_refuses_a_client_of_another_protocol_naming_both() -> None:
    async with running_hub() as hub:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(hub.url + "?protocol=1"):
                pass
        response = refused.value.response
        assert response.status_code == 400
        assert (
            f"this hub speaks protocol {PROTOCOL_VERSION}, the client asked for protocol '1'"
            in response.body.decode()
        )
        # The client of this version is served.
        async with connect(hub.url + f"?protocol={PROTOCOL_VERSION}") as ws:
            first = json.loads(await ws.recv())
        assert first["frame"] == "snapshot" and first["protocol"] == PROTOCOL_VERSION


async def test_a_client_refuses_the_snapshot_of_an_older_hub_and_does_not_retry() -> None:
    started = make_calls(1)[0].model_copy(update={"seq": 1})
    old_snapshot = json.dumps(
        {
            "frame": "snapshot",
            "protocol": 1,
            "hub_id": "old-hub",
            "seq": 1,
            "calls": [[json.loads(started.to_json())]],
            "presence": [],
        }
    )
    connections = 0

    async def old_hub(ws: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        await ws.send(old_snapshot)
        await ws.wait_closed()

    async with serve(old_hub, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        client = FeedClient(f"ws://127.0.0.1:{port}/events", backoff_initial=0.01)

        async def read_all() -> None:
            async for _ in client:
                raise AssertionError("nothing may come of another protocol's snapshot")

        with pytest.raises(FeedRefused) as refused:
            await asyncio.wait_for(read_all(), DEADLINE)
    said = f"the hub speaks protocol 1, this callboard speaks protocol {PROTOCOL_VERSION}"
    assert said in str(refused.value)
    assert client.state.status is FeedStatus.CLOSED and connections == 1
