"""Snapshot parts compressed with zlib for the subscribers that ask (`?snapshot=zlib`).

Through a real hub on loopback: a raw subscriber that does not ask gets today's text
parts; one that asks gets binary parts whose inflated text is the text form, then text
event frames; a bad value is refused with HTTP 400. The feed client asks, joins the
compressed parts, and still reads the text parts of a hub that ignores the parameter
(a real websocket server playing an older hub). A hostile hub's zip bomb is refused as
a bad frame naming the client's limit, inflating no more than that limit.
"""

from __future__ import annotations

import json
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import InvalidStatus

from classifier.call_state import OpenCall
from classifier.schema import Event, event_from_dict
from classifier.tracker import call_from_events
from monitor.feed.client import FeedClient, FeedRefused
from monitor.feed.hub import Hub
from monitor.feed.protocol import (
    PROTOCOL_VERSION,
    FrameError,
    SourceStatus,
    encode_event_frame,
    encode_snapshot_parts,
)
from monitor.feed.snapshot_zlib import SNAPSHOT_PARAM, ZLIB, compress_part, inflate_part
from tests.hub_support import Follower, make_calls, open_calls, wait_for

ASK = f"?protocol={PROTOCOL_VERSION}&{SNAPSHOT_PARAM}={ZLIB}"


def available(agent: str, ts: int) -> Event:
    """An `agent.status` report: the agent is available."""
    return event_from_dict(
        {"type": "agent.status", "call_id": "", "ts": ts, "agent": agent, "status": "available"}
    )


def fill(hub: Hub) -> None:
    """3,000 calls in progress with long numbers (several parts) and one agent's presence."""
    for event in open_calls(3000, pad=200):
        hub.publish(event)
    hub.publish(available("Ana", 1_700_000_000))


async def read_parts(ws: ClientConnection) -> list[str | bytes]:
    """The snapshot's messages as they came, up to its last part."""
    messages: list[str | bytes] = []
    while True:
        message = await ws.recv()
        messages.append(message)
        text = inflate_part(message, 64 * 1024 * 1024) if isinstance(message, bytes) else message
        if not json.loads(text)["more"]:
            return messages


def without_sent_at(text: str | bytes) -> dict[str, Any]:
    """A part's frame without the hub's wall clock at building it (two joins differ there)."""
    frame: dict[str, Any] = json.loads(text)
    del frame["sent_at"]
    return frame


async def test_a_subscriber_that_asks_gets_binary_parts_whose_text_is_the_text_form(
    hub: Hub,
) -> None:
    fill(hub)
    async with connect(hub.url + f"?protocol={PROTOCOL_VERSION}", max_size=None) as ws:
        plain = await read_parts(ws)
    async with connect(hub.url + ASK, max_size=None) as ws:
        packed = await read_parts(ws)
        # After the snapshot, event frames are text as always.
        hub.publish(available("Bo", 1_700_000_001))
        event = await ws.recv()
    assert len(plain) > 3
    assert all(isinstance(m, str) for m in plain)
    assert all(isinstance(m, bytes) for m in packed) and len(packed) == len(plain)
    inflated = [inflate_part(m, 64 * 1024 * 1024) for m in packed if isinstance(m, bytes)]
    assert [without_sent_at(t) for t in inflated] == [without_sent_at(t) for t in plain]
    assert sum(map(len, packed)) * 3 < sum(len(t.encode()) for t in plain)
    assert isinstance(event, str) and json.loads(event)["seq"] == hub.seq


async def test_the_feed_client_asks_and_joins_the_compressed_parts(hub: Hub) -> None:
    fill(hub)
    follower = Follower(FeedClient(hub.url))
    await wait_for(lambda: bool(follower.snapshots), "the joined snapshot")
    snapshot = follower.snapshots[0]
    await follower.stop()
    assert snapshot.seq == hub.seq and len(snapshot.presence) == 1
    assert [OpenCall.of(c) for c in snapshot.calls] == [OpenCall.of(c) for c in hub.tracker]


async def test_a_snapshot_value_the_hub_does_not_know_is_refused_naming_it(hub: Hub) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(hub.url + f"?{SNAPSHOT_PARAM}=gzip"):
            pass
    assert refused.value.response.status_code == 400
    assert refused.value.response.body.decode().strip() == (
        "snapshot must be 'zlib' or absent, got 'gzip'"
    )


@asynccontextmanager
async def scripted_hub(
    messages: Callable[[], list[str | bytes]],
) -> AsyncIterator[tuple[str, list[str]]]:
    """A real websocket server that sends `messages()` to each connection, whatever it
    asked: a hub that ignores `snapshot=zlib`, or a hostile one."""
    paths: list[str] = []

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        paths.append(ws.request.path)
        for message in messages():
            await ws.send(message)
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, max_size=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/events", paths


def calls_in(parts: list[str]) -> int:
    return sum(len(json.loads(part)["calls"]) for part in parts)


def text_parts() -> list[str]:
    """A snapshot of calls in progress in parts of about 256 characters, as text."""
    starts = make_calls(40, pad=100)[::5]
    calls = [call_from_events([e.model_copy(update={"seq": i})]) for i, e in enumerate(starts, 1)]
    return list(encode_snapshot_parts("hub-old", 8, calls, [], SourceStatus(), 0.0, 256))


async def test_the_feed_client_reads_the_text_parts_of_a_hub_that_ignores_the_parameter() -> None:
    parts = text_parts()
    assert len(parts) > 2
    event = available("Ana", 1_700_000_000).model_copy(update={"seq": 9})
    async with scripted_hub(lambda: [*parts, encode_event_frame(event, 9, 1.0)]) as (url, paths):
        follower = Follower(FeedClient(url))
        await wait_for(lambda: follower.seqs == [9], "the event after the snapshot")
        await follower.stop()
    assert paths == [f"/events{ASK}"]
    assert [s.seq for s in follower.snapshots] == [8]
    assert len(follower.snapshots[0].calls) == calls_in(parts)


async def test_the_feed_client_reads_binary_parts_from_a_hub_too() -> None:
    parts = text_parts()
    # Text and binary parts mixed: each message is read for what it is.
    mixed: list[str | bytes] = [compress_part(p) if i % 2 else p for i, p in enumerate(parts)]
    async with scripted_hub(lambda: mixed) as (url, _):
        follower = Follower(FeedClient(url))
        await wait_for(lambda: bool(follower.snapshots), "the joined snapshot")
        await follower.stop()
    assert len(follower.snapshots[0].calls) == calls_in(parts)


LIMIT = 1_000_000
#: 50 MB of one byte: about 50 kB compressed, 50 times the client's limit inflated.
BOMB = zlib.compress(b" " * 50_000_000, 9)


async def test_a_zip_bomb_is_refused_as_a_bad_frame_naming_the_limit() -> None:
    assert len(BOMB) < LIMIT
    async with scripted_hub(lambda: [BOMB]) as (url, paths):
        client = FeedClient(url, max_attempts=1, max_message=LIMIT)
        with pytest.raises(FeedRefused) as refused:
            async for _ in client:
                pass
    assert str(refused.value) == (
        "gave up after 1 attempts: bad frame from hub: the hub sent a message larger than "
        f"this client's limit ({LIMIT} bytes) once decompressed (a zlib snapshot part); "
        "refused by this client"
    )
    assert len(paths) == 1


def test_inflating_a_zip_bomb_holds_no_more_than_the_limit() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(FrameError, match=f"limit \\({LIMIT} bytes\\) once decompressed"):
            inflate_part(BOMB, LIMIT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The bomb is 50 MB inflated; the client held the limit's worth (twice for a moment,
    # as zlib joins its output's blocks into one bytes object).
    assert peak < 3 * LIMIT


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"{not zlib}", "hub sent a binary message that is not zlib data (Error -3"),
        (compress_part('{"frame":"snapshot"}')[:-6], "stops before its end"),
        (compress_part('{"frame":"snapshot"}') + b"xx", "with 2 bytes after its end"),
    ],
)
def test_a_binary_message_that_is_no_whole_zlib_part_is_a_bad_frame(
    data: bytes, problem: str
) -> None:
    with pytest.raises(FrameError) as bad:
        inflate_part(data, LIMIT)
    assert problem in str(bad.value)


async def test_a_binary_message_that_is_not_zlib_is_a_bad_frame_and_re_synced() -> None:
    parts = text_parts()
    sent: list[int] = []

    def messages() -> list[str | bytes]:
        sent.append(1)
        return [b"{not zlib}"] if len(sent) == 1 else list(parts)

    async with scripted_hub(messages) as (url, _):
        follower = Follower(FeedClient(url, backoff_initial=0.01))
        await wait_for(lambda: bool(follower.snapshots), "the snapshot after the bad frame")
        error = follower.client.state.last_error
        await follower.stop()
    assert error is not None
    assert error.startswith("bad frame from hub: hub sent a binary message that is not zlib data")
