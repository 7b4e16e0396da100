"""The hub's limits with peers that misbehave on purpose: subscribers that never read,
snapshots too big for one message, and producers that open calls without end.

Every peer is real (raw sockets with a tiny receive buffer, so the hub's sends block
after a few kilobytes; websockets clients; the feed client; `callboard tail`), and
so is the hub, on loopback.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from classifier.call_state import OpenCall
from classifier.schema import Event, event_from_dict
from monitor.feed.client import FeedClient, FeedRefused
from monitor.feed.hub import Hub, HubConfig, running_hub
from monitor.feed.protocol import SNAPSHOT_PART_CHARS
from tests.cli_support import callboard, callboard_command, start_callboard
from tests.hub_support import (
    DEADLINE,
    Follower,
    NamedSource,
    ServeProcess,
    classify_file,
    get_health,
    make_calls,
    open_calls,
    raw_upgrade,
    wait_for,
    write_log,
)

#: A send buffer this small makes the hub's sends block as soon as a peer stops reading.
SMALL_SEND_BUFFER = 16_384


def fast_client(url: str, **kw: object) -> FeedClient:
    return FeedClient(url, backoff_initial=0.05, backoff_max=0.2, **kw)  # type: ignore[arg-type]


@pytest.mark.slow
async def test_joining_subscribers_count_against_the_limit_and_are_cut_at_the_deadline(
    tmp_path: Path,
) -> None:
    config = HubConfig(
        port=0,
        journal=tmp_path / "hub.journal",
        max_subscribers=3,
        catchup_timeout=2.0,
        # The heartbeat and the stall watch are out of the way: the deadline cuts them.
        ping_interval=60,
        ping_timeout=60,
        socket_send_buffer=SMALL_SEND_BUFFER,
    )
    async with running_hub(config) as hub:
        for event in make_calls(2000, pad=200):
            hub.publish(event)
        # `since=0` on a journaled hub: the whole history, and they never read a byte.
        peers = [raw_upgrade(hub.port, "/events?since=0", rcvbuf=4096) for _ in range(3)]
        await wait_for(lambda: hub.stats()["joining"] == 3, "three subscribers joining")
        health = await get_health(hub.base_url)
        assert health["subscribers"] == 3 and health["joining"] == 3
        # Their places are taken: a fourth is refused at the handshake, naming the limit.
        with pytest.raises(InvalidStatus) as refused:
            async with connect(hub.url):
                pass
        assert refused.value.response.status_code == 503
        assert b"too many subscribers (limit 3)" in refused.value.response.body
        # None of them finishes its catch-up within 2 s: each is cut, and counted.
        await wait_for(lambda: hub.counters["join_timeouts"] == 3, "the deadline cutting them")
        await wait_for(lambda: hub.subscriber_count == 0, "their places freed")
        assert hub.counters["stalled"] == 0
        # A subscriber that reads gets in again.
        follower = Follower(fast_client(hub.url))
        await wait_for(lambda: bool(follower.snapshots), "a snapshot for a reading subscriber")
        await follower.stop()
        for peer in peers:
            peer.close()


async def test_a_peer_that_stops_reading_its_snapshot_is_cut_as_stalled() -> None:
    config = HubConfig(
        port=0,
        catchup_timeout=DEADLINE * 2,
        ping_interval=0.2,
        ping_timeout=0.5,
        socket_send_buffer=SMALL_SEND_BUFFER,
    )
    async with running_hub(config) as hub:
        for event in open_calls(2000, pad=200):
            hub.publish(event)
        peer = raw_upgrade(hub.port, rcvbuf=4096)
        await wait_for(lambda: hub.counters["stalled"] == 1, "the stalled peer cut")
        await wait_for(lambda: hub.subscriber_count == 0, "its place freed")
        assert hub.counters["join_timeouts"] == 0
        peer.close()


@pytest.mark.slow
async def test_health_answers_while_a_big_snapshot_waits_on_a_peer_that_does_not_read() -> None:
    config = HubConfig(port=0, ping_timeout=60, socket_send_buffer=SMALL_SEND_BUFFER)
    async with running_hub(config) as hub:
        for event in open_calls(10_000, pad=250):
            hub.publish(event)
        peer = raw_upgrade(hub.port, rcvbuf=4096)
        await wait_for(lambda: hub.stats()["joining"] == 1, "the peer joining")
        health = await get_health(hub.base_url)
        assert health["joining"] == 1 and health["calls_in_progress"] == 10_000
        # And a reading subscriber joins meanwhile, with every call.
        follower = Follower(fast_client(hub.url))
        await wait_for(lambda: bool(follower.snapshots), "a snapshot for a reading subscriber")
        assert len(follower.snapshots[0].calls) == 10_000
        await follower.stop()
        peer.close()


async def test_a_big_snapshot_goes_out_in_parts_that_the_feed_client_joins(hub: Hub) -> None:
    for event in open_calls(3000, pad=200):
        hub.publish(event)
    hub.publish(
        event_from_dict(
            {
                "type": "agent.status",
                "call_id": "",
                "ts": 1_700_000_000,
                "agent": "a",
                "status": "available",
            }
        )
    )
    # Read the parts as they travel.
    parts = []
    async with connect(hub.url, max_size=None) as ws:
        while not parts or parts[-1]["more"]:
            text = await ws.recv()
            part = json.loads(text)
            # The day (part 1 only, with the agents' day) has a bound of its own
            # (docs/protocol.md, "The day in the snapshot"): the rest of a part, its
            # calls and presence, is held to SNAPSHOT_PART_CHARS.
            day = part.get("day")
            day_chars = len(json.dumps(day, separators=(",", ":"))) if day else 0
            assert len(text) - day_chars < SNAPSHOT_PART_CHARS + 10_000
            parts.append(part)
    assert len(parts) > 3
    assert [p["part"] for p in parts] == list(range(1, len(parts) + 1))
    assert {(p["frame"], p["seq"], p["hub_id"]) for p in parts} == {
        ("snapshot", hub.seq, hub.hub_id)
    }
    assert sum(len(p["calls"]) for p in parts) == 3000
    assert sum(len(p["presence"]) for p in parts) == 1
    # The client yields one snapshot, whole: the hub's model rebuilt exactly.
    follower = Follower(fast_client(hub.url))
    await wait_for(lambda: bool(follower.snapshots), "the joined snapshot")
    snapshot = follower.snapshots[0]
    assert snapshot.seq == hub.seq and len(snapshot.calls) == 3000
    assert len(snapshot.presence) == 1
    assert [OpenCall.of(call) for call in snapshot.calls] == [
        OpenCall.of(call) for call in hub.tracker
    ]
    await follower.stop()


async def test_the_client_says_when_it_closed_on_a_message_over_its_own_limit() -> None:
    async with running_hub() as hub:
        for event in open_calls(1000, pad=200):
            hub.publish(event)
        client = FeedClient(hub.url, max_attempts=1, max_message=65_536)
        with pytest.raises(FeedRefused) as refused:
            async for _ in client:
                pass
    message = str(refused.value)
    assert "the hub sent a message larger than this client's limit (65536 bytes)" in message
    assert "hub closed the connection" not in message


async def test_calls_over_max_calls_are_refused_with_the_limit_and_counted() -> None:
    async with running_hub(HubConfig(port=0, max_calls=300)) as hub:
        async with connect(hub.publish_url) as producer:
            for i in range(400):
                await producer.send(
                    json.dumps(
                        {
                            "type": "call.started",
                            "call_id": f"flood-{i}",
                            "ts": 1_700_000_000 + i,
                            "from": "+1" + "9" * 254,
                            "to": "+2" + "8" * 254,
                        }
                    )
                )
            answers = [json.loads(await producer.recv()) for _ in range(400)]
        acks = [a for a in answers if a["frame"] == "ack"]
        refusals = [a for a in answers if a["frame"] == "error"]
        assert len(acks) == 300 and len(refusals) == 100
        assert refusals[0]["code"] == "rejected" and refusals[0]["n"] == 301
        assert "'flood-300' refused: 300 calls in progress is the limit" in refusals[0]["problem"]
        health = await get_health(hub.base_url)
        assert health["calls_in_progress"] == 300
        assert health["counters"]["calls_over_limit"] == 100


async def test_a_call_whose_end_was_lost_expires_and_leaves_later_snapshots() -> None:
    hour = 3600
    async with running_hub(HubConfig(port=0, call_expiry=6 * hour)) as hub:
        start = 1_700_000_000
        for event in open_calls(1, start=start):
            hub.publish(event)
        # Another call (call-00001), 7 h of event time later, from start to end.
        for event in make_calls(2, start=start + 7 * hour)[5:]:
            assert hub.publish(event).accepted
        assert hub.counters["calls_expired"] == 1
        follower = Follower(fast_client(hub.url))
        await wait_for(lambda: bool(follower.snapshots), "a snapshot")
        assert follower.snapshots[0].calls == []
        await follower.stop()


@pytest.mark.slow
async def test_tail_joins_a_snapshot_in_parts_and_prints_what_classify_prints(
    tmp_path: Path,
) -> None:
    events = make_calls(2000, pad=200)
    ends = [e for e in events if e.type == "call.ended"]
    release = asyncio.Event()

    async def the_ends() -> AsyncIterator[Event]:
        await release.wait()
        for event in ends:
            yield event

    async with running_hub() as hub:
        for event in events:
            if event.type != "call.ended":
                hub.publish(event)
        hub.attach_source(NamedSource(the_ends(), kind="test", name="ends"))
        tail = await asyncio.create_subprocess_exec(
            *callboard_command("tail", hub.url, "--until-finished"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        await wait_for(lambda: hub.counters["subscribed"] == 1, "tail joined")
        release.set()
        out, err = await asyncio.wait_for(tail.communicate(), DEADLINE)
    assert tail.returncode == 0, err.decode()
    # The snapshot held every call (several parts); the ends make the verdicts.
    expected = classify_file(write_log(tmp_path / "log.jsonl", events))
    assert [json.loads(line) for line in out.decode().splitlines()] == expected


async def test_serve_takes_the_limits_from_its_options() -> None:
    hub = ServeProcess(["--port", "0", "--max-calls", "2", "--catchup-timeout", "5"])
    try:
        async with connect(hub.url.replace("/events", "/publish")) as producer:
            for i in range(3):
                await producer.send(
                    json.dumps({"type": "call.started", "call_id": f"c{i}", "ts": 1_700_000_000})
                )
            answers = [json.loads(await producer.recv()) for _ in range(3)]
    finally:
        assert hub.terminate() == 0
    assert [a["frame"] for a in answers] == ["ack", "ack", "error"]
    assert "2 calls in progress is the limit (max_calls)" in answers[2]["problem"]


@pytest.mark.slow
def test_serve_refuses_limits_that_make_no_sense() -> None:
    for option, value, problem in (
        ("--max-calls", "0", "argument --max-calls: must be 1 or more"),
        ("--call-expiry", "-1", "argument --call-expiry: must be 0 (never) or more hours"),
        ("--catchup-timeout", "0", "argument --catchup-timeout: must be a number above 0"),
        ("--catchup-timeout", "nan", "argument --catchup-timeout: must be a number above 0"),
    ):
        done = callboard("serve", "--port", "0", option, value)
        assert done.returncode == 2 and problem in done.stderr, (option, value, done.stderr)


def _serve_stderr_with_open_files(soft: int, hard: int) -> str:
    """Start `callboard serve` under an open-file limit, stop it once listening: its stderr."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    proc = start_callboard("serve", "--port", "0", stderr=subprocess.PIPE, preexec_fn=limit)
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "listening on" in line:
            break
    proc.terminate()
    _, rest = proc.communicate(timeout=DEADLINE)
    return "".join(lines) + rest


@pytest.mark.slow
def test_serve_raises_its_open_file_limit_to_cover_its_peers_or_says_it_cannot() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY:
        assert hard >= 1164, "this machine's hard limit is too low for the raised case"
    raised = _serve_stderr_with_open_files(256, hard)
    assert "open-file limit raised from 256 to 1164" in raised
    assert "below the" not in raised
    stuck = _serve_stderr_with_open_files(256, 256)
    assert (
        "open-file limit 256 is below the 1164 the hub may need (max subscribers 1000 + "
        "max producers 100 + 64): lower --max-subscribers or raise ulimit -n"
    ) in stuck
