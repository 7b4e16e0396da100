"""Hostile and broken peers: bad frames, wrong tokens, oversized frames, dead and mute clients.

Every case checks the peer gets a clear answer and the hub keeps serving others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from monitor.feed.client import FeedClient, FeedRefused
from monitor.feed.hub import Hub, HubConfig, running_hub
from tests.hub_support import Follower, make_calls, raw_upgrade, wait_for


async def assert_hub_still_serves(hub: Hub, token: str | None = None) -> None:
    """A fresh subscriber still gets its snapshot and a new event."""
    follower = Follower(FeedClient(hub.url, token=token, backoff_initial=0.05))
    await wait_for(lambda: bool(follower.snapshots), "a snapshot from the hub")
    seq = hub.seq
    hub.publish(
        make_calls(1, start=1_750_000_000 + seq)[0].model_copy(update={"call_id": f"probe-{seq}"})
    )
    await wait_for(lambda: follower.seqs[-1:] == [seq + 1], "the probe event")
    await follower.stop()


async def test_producer_gets_an_answer_for_every_frame() -> None:
    events = make_calls(1)
    async with running_hub() as hub:
        follower = Follower(FeedClient(hub.url))
        await wait_for(lambda: bool(follower.snapshots), "snapshot")
        async with connect(hub.publish_url) as producer:
            sent: list[str | bytes] = [
                events[0].to_json(),
                "not json at all",
                '{"type": "call.exploded", "call_id": "x", "ts": 1}',
                '{"type": "queue.entered", "call_id": "x", "ts": 1}',
                b"\x00\x01binary",
                events[0].to_json(),  # the same event again
                *[e.to_json() for e in events[1:]],
                events[1].model_copy(update={"ts": events[4].ts}).to_json(),  # after the end
            ]
            replies = []
            for message in sent:
                await producer.send(message)
                replies.append(json.loads(await producer.recv()))
        await wait_for(lambda: len(follower.seqs) == 5, "the five good events")
        await follower.stop()
        assert hub.counters["invalid"] == 4
        assert hub.counters["duplicates"] == 1
        assert hub.counters["rejected"] == 1
    kinds = [(r["frame"], r.get("code")) for r in replies]
    assert kinds == [
        ("ack", None),
        ("error", "invalid"),
        ("error", "invalid"),
        ("error", "invalid"),
        ("error", "invalid"),
        ("ignored", "duplicate"),
        ("ack", None),
        ("ack", None),
        ("ack", None),
        ("ack", None),
        ("error", "rejected"),
    ]
    assert [r["seq"] for r in replies if r["frame"] == "ack"] == [1, 2, 3, 4, 5]
    assert replies[1]["problem"].startswith("not JSON")
    assert replies[1]["n"] == 2
    assert "unknown event type 'call.exploded'" in replies[2]["problem"]
    assert "missing field 'queue'" in replies[3]["problem"]
    assert "binary" in replies[4]["problem"]
    assert "already ended" in replies[10]["problem"]
    # Subscribers saw exactly the five accepted events, nothing refused.
    assert follower.seqs == [1, 2, 3, 4, 5]


async def test_tokens_are_required_and_checked() -> None:
    config = HubConfig(port=0, token="s3cret-token")
    async with running_hub(config) as hub:
        with pytest.raises(InvalidStatus) as missing:
            async with connect(hub.url):
                pass
        assert missing.value.response.status_code == 401
        assert b"missing 'Authorization: Bearer" in missing.value.response.body
        with pytest.raises(InvalidStatus) as wrong:
            async with connect(hub.publish_url, additional_headers={"Authorization": "Bearer no"}):
                pass
        assert wrong.value.response.status_code == 401
        assert b"wrong token" in wrong.value.response.body
        with pytest.raises(FeedRefused, match="HTTP 401 wrong token"):
            async for _ in FeedClient(hub.url, token="guess"):
                pass
        assert hub.counters["auth_failures"] == 3
        await assert_hub_still_serves(hub, token="s3cret-token")
        # The health endpoint is behind the token too.
        request = urllib.request.Request(hub.base_url.replace("ws", "http") + "/health")
        with pytest.raises(urllib.error.HTTPError) as health:
            await asyncio.to_thread(urllib.request.urlopen, request, timeout=30)
        assert health.value.code == 401
        health.value.close()
        request.add_header("Authorization", "Bearer s3cret-token")
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(request, timeout=30).read())
        assert json.loads(body)["hub_id"] == hub.hub_id


async def test_oversized_frames_close_the_connection_and_nothing_else() -> None:
    async with running_hub(HubConfig(port=0, max_frame=4096)) as hub:
        async with connect(hub.publish_url) as producer:
            await producer.send(json.dumps({"type": "call.started", "call_id": "x" * 10_000}))
            with pytest.raises(ConnectionClosed) as closed:
                await producer.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009
        assert "4096" in closed.value.rcvd.reason
        await wait_for(lambda: hub.counters["oversized"] == 1, "the refusal counted")
        await assert_hub_still_serves(hub)


async def test_events_is_read_only(hub: Hub) -> None:
    async with connect(hub.url) as ws:
        await ws.recv()  # snapshot
        await ws.send(make_calls(1)[0].to_json())
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008
    assert "read-only" in closed.value.rcvd.reason
    assert hub.seq == 0
    await assert_hub_still_serves(hub)


async def test_unknown_paths_and_bad_queries_are_refused(hub: Hub) -> None:
    with pytest.raises(InvalidStatus) as missing:
        async with connect(hub.base_url + "/admin"):
            pass
    assert missing.value.response.status_code == 404
    with pytest.raises(InvalidStatus) as bad:
        async with connect(hub.url + "?since=-3"):
            pass
    assert bad.value.response.status_code == 400
    assert b"since must be a non-negative integer" in bad.value.response.body
    with pytest.raises(FeedRefused, match="HTTP 404"):
        async for _ in FeedClient(hub.base_url + "/nowhere"):
            pass
    await assert_hub_still_serves(hub)


async def test_dead_peers_are_noticed_by_heartbeat() -> None:
    # A peer that completed the handshake and then went silent: it never answers pings.
    config = HubConfig(port=0, ping_interval=0.2, ping_timeout=0.5, close_timeout=0.5)
    async with running_hub(config) as hub:
        dead = raw_upgrade(hub.port)
        await wait_for(lambda: hub.subscriber_count == 1, "the silent peer subscribed")
        await wait_for(lambda: hub.subscriber_count == 0, "the silent peer dropped", timeout=30)
        dead.close()
        await assert_hub_still_serves(hub)


async def test_clients_that_never_read_do_not_stop_the_hub() -> None:
    config = HubConfig(port=0, queue_limit=50, close_timeout=0.5, socket_send_buffer=8192)
    async with running_hub(config) as hub:
        mute = [raw_upgrade(hub.port, rcvbuf=4096) for _ in range(3)]
        await wait_for(lambda: hub.subscriber_count == 3, "three mute subscribers")
        for event in make_calls(1000):
            hub.publish(event)
            if hub.counters["dropped_slow"] == 3:
                break
            await asyncio.sleep(0)
        assert hub.counters["dropped_slow"] == 3
        await wait_for(lambda: hub.subscriber_count == 0, "mute subscribers gone")
        for s in mute:
            s.close()
        await assert_hub_still_serves(hub)


async def test_stopping_the_hub_sends_every_peer_a_close_frame() -> None:
    async with running_hub() as hub:
        follower = Follower(FeedClient(hub.url, backoff_initial=5))
        await wait_for(lambda: bool(follower.snapshots), "snapshot")
        producer = await connect(hub.publish_url)
    with contextlib.suppress(ConnectionClosed):
        await producer.recv()
    assert producer.close_code == 1001
    await wait_for(lambda: follower.client.state.status == "reconnecting", "client noticing")
    assert "1001" in (follower.client.state.last_error or "")
    await follower.stop()


async def test_wss_with_a_self_signed_certificate(self_signed_cert: tuple[Path, Path]) -> None:
    cert, key = self_signed_cert
    async with running_hub(HubConfig(port=0, tls_cert=cert, tls_key=key)) as hub:
        assert hub.url.startswith("wss://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(cert))
        follower = Follower(FeedClient(hub.url, ssl=context))
        await wait_for(lambda: bool(follower.snapshots), "snapshot over TLS")
        hub.publish(make_calls(1)[0])
        await wait_for(lambda: follower.seqs == [1], "an event over TLS")
        await follower.stop()
        # Without trusting the certificate the client cannot connect, and keeps saying why.
        untrusting = FeedClient(hub.url, max_attempts=1)
        with pytest.raises(FeedRefused, match="CERTIFICATE_VERIFY_FAILED"):
            async for _ in untrusting:
                pass
