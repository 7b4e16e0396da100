"""`callboard serve --simulate`: the simulator live behind a real hub process."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from classifier.schema import CallStarted
from monitor.feed import FeedClient, Snapshot
from tests.hub_support import DEADLINE, ServeProcess, wait_for


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
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "serve", "--simulate", "--port", "0", *bad],
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        assert message in done.stderr
