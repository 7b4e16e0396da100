"""`callboard serve --simulate`: the simulator live behind a real hub process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.request
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from classifier.schema import CallStarted, parse_event
from monitor.feed.client import FeedClient, Snapshot, SourceStatus
from tests.cli_support import callboard
from tests.hub_support import DEADLINE, ServeProcess, free_port, make_calls, wait_for


async def first_events(url: str, count: int) -> tuple[Snapshot, list[CallStarted]]:
    """The snapshot and the first `count` call.started events a subscriber sees."""
    client = FeedClient(url)
    snapshot: Snapshot | None = None
    started: list[CallStarted] = []
    async for item in client:
        if isinstance(item, Snapshot):
            snapshot = item
        elif isinstance(item, CallStarted):
            started.append(item)
            if len(started) == count:
                await client.close()
    assert snapshot is not None
    return snapshot, started


async def test_serve_simulate_feeds_subscribers_and_restarts_with_fresh_call_ids(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "sim.journal"
    args = ["--simulate", "--preset", "demo", "--speed", "30", "--seed", "7", "--port", "0"]
    args += ["--journal", str(journal)]
    hub = ServeProcess(args)
    try:
        snapshot, started = await first_events(hub.url, 3)
        assert snapshot.source.kind == "simulator"
        assert snapshot.source.name == "demo seed 7"
        assert all(e.call_id.startswith("sim-") for e in started)
        await wait_for(lambda: len(journal.read_text().splitlines()) > 50, "a journal")
    finally:
        hub.kill()
    hub = ServeProcess(args)
    try:
        snapshot, started = await first_events(hub.url, 3)
        # The same seed again, but ids of this run cannot collide with the last one's.
        assert snapshot.seq > 50
        assert all(e.call_id.startswith("sim") and "-" in e.call_id for e in started)
        assert not any(e.call_id.startswith("sim-") for e in started)
        health_url = hub.url.replace("ws://", "http://").replace("/events", "/health")
        body = await asyncio.to_thread(
            lambda: urllib.request.urlopen(health_url, timeout=DEADLINE).read()
        )
        health = json.loads(body)
        assert health["counters"].get("rejected", 0) == 0
    finally:
        assert hub.terminate() == 0


def test_serve_simulate_checks_its_options() -> None:
    for bad, message in (
        (["--agents", "0"], "must be more than zero"),
        (["--speed", "0"], "--speed must be above 0"),
    ):
        done = callboard("serve", "--simulate", "--port", "0", *bad, timeout=DEADLINE)
        assert done.returncode == 2, done.stderr
        assert message in done.stderr


async def test_acknowledged_events_survive_sigkill(tmp_path: Path) -> None:
    journal = tmp_path / "hub.journal"
    port = free_port()
    args = ["--port", str(port), "--journal", str(journal)]
    events = make_calls(400)
    hub = ServeProcess(args)
    acked: dict[int, str] = {}
    try:
        async with connect(hub.url.replace("/events", "/publish")) as producer:

            async def read_acks() -> None:
                async for message in producer:
                    frame = json.loads(message)
                    assert frame["frame"] == "ack", frame
                    acked[frame["seq"]] = events[frame["seq"] - 1].to_json()

            reader = asyncio.create_task(read_acks())
            for event in events:
                await producer.send(event.to_json())
            await wait_for(lambda: len(acked) >= 300, "300 acknowledgements")
            hub.kill()  # in the middle of the stream: some sent events were never acked
            with contextlib.suppress(ConnectionClosed):
                await reader
    finally:
        if hub.proc.poll() is None:
            hub.kill()
    # A crash mid-write leaves half a line; the restarted hub must shrug it off.
    with journal.open("a") as f:
        f.write('{"frame":"event","seq":')
    hub = ServeProcess(args)
    try:
        # "... listening on ... (publish on ..., seq N)": the seq it recovered.
        recovered = int(hub.lines[-1].rsplit("seq ", 1)[1].rstrip(")\n"))
        assert recovered >= max(acked)
        seen: dict[int, str] = {}
        client = FeedClient(hub.url, since=0)
        async for item in client:
            if not isinstance(item, Snapshot | SourceStatus):
                assert item.seq is not None
                seen[item.seq] = item.model_copy(update={"seq": None}).to_json()
                if item.seq == max(acked):
                    await client.close()
        assert client.state.snapshots == 0
    finally:
        assert hub.terminate() == 0
    # Every acknowledged event is there, under the seq the ack gave it.
    for seq, text in acked.items():
        assert parse_event(seen[seq]) == parse_event(text)
    assert "dropped a torn last line" in hub.drain()
