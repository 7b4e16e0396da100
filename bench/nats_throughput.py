"""Figure 8: events per second end to end through NATS JetStream, against the file journal.

The same events (the simulator's, `bench.eventlog`) go through a real hub twice:
once with `--journal` (store in a file, then apply) and once with `--nats` on a
real `nats-server -js` started here (store in the stream, read back, then apply;
`monitor.feed.nats_link`). Producers are `PRODUCERS` concurrent tasks, each taking
the calls whose id hashes to it, in order, each event answered before the next
(as a `/publish` connection is); a viewer subscribed over the hub's websocket
counts the events it is sent. The figure is events a second from the first publish
to the viewer's receipt of the last, NATS over the journal, with the per-event
latency (submit to acknowledgement) beside it. Producers, hub, viewer and client
share this process (and the machine with nats-server): ratios, not capacities.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from bench.eventlog import events
from bench.hub_start import read_at_start, timed_hub
from bench.nats_server import NatsServer
from bench.report import Figure, Measure
from bench.scale import Scale
from classifier.schema import Event
from monitor.feed.client import FeedClient, Snapshot, SourceStatus
from monitor.feed.hub import HubConfig, running_hub
from monitor.feed.nats_config import CHECKPOINT_KEY, NatsConfig, bucket_for, stream_for

KEY = "nats"
TITLE = "14. events end to end through NATS JetStream"
PRODUCERS = 16


async def _through(config: HubConfig, stream: list[Event]) -> dict[str, Any]:
    """Publish `stream` through a hub with `config`; events/s to a viewer and ack latencies."""
    parts: list[list[Event]] = [[] for _ in range(PRODUCERS)]
    for event in stream:
        parts[zlib.crc32(event.call_id.encode()) % PRODUCERS].append(event)
    latencies: list[float] = []
    async with running_hub(config) as hub:
        received = 0
        done = asyncio.Event()
        expected = 0

        async def view() -> None:
            nonlocal received
            async for item in FeedClient(hub.url):
                if isinstance(item, Snapshot | SourceStatus):
                    continue
                received += 1
                if expected and received >= expected:
                    done.set()

        viewer = asyncio.create_task(view())
        while hub.subscriber_count < 1:
            await asyncio.sleep(0.01)

        async def produce(events_: list[Event]) -> int:
            accepted = 0
            for event in events_:
                sent = time.perf_counter()
                result = await hub.submit(event)
                latencies.append(time.perf_counter() - sent)
                accepted += result.accepted
            return accepted

        start = time.perf_counter()
        counts = await asyncio.gather(*(produce(part) for part in parts))
        expected = sum(counts)
        if received >= expected:
            done.set()
        await asyncio.wait_for(done.wait(), 600)
        elapsed = time.perf_counter() - start
        viewer.cancel()
    latencies.sort()
    return {
        "events": expected,
        "seconds": elapsed,
        "rate": expected / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


async def _stored(url: str, site: str) -> dict[str, Any]:
    """What the site takes in NATS: the stream's bytes and the checkpoint's (saved at stop)."""
    import nats as nats_client

    nc = await nats_client.connect(url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream_for(site))
        kv = await js.key_value(bucket_for(site))
        entry = await kv.get(CHECKPOINT_KEY)
        return {
            "stream_bytes": info.state.bytes,
            "stream_messages": info.state.messages,
            # The key holds the manifest of the checkpoint's parts (monitor.feed.nats_store).
            "checkpoint_bytes": json.loads(entry.value or b"{}")["length"],
        }
    finally:
        await nc.close()


async def _start_s(config: HubConfig) -> tuple[float, int]:
    """Seconds a hub takes to start (connect, checkpoint, read the stream); messages it read."""
    async with timed_hub(config) as (seconds, hub):
        return seconds, read_at_start(hub)


async def _starts(config: HubConfig) -> dict[str, Any]:
    """A hub's start from the checkpoint the run left, then from the stream's start."""
    import nats as nats_client

    with_checkpoint, read_with = await _start_s(config)
    assert config.nats is not None
    nc = await nats_client.connect(config.nats.url)
    try:
        kv = await nc.jetstream().key_value(bucket_for(config.site))
        await kv.delete(CHECKPOINT_KEY)
    finally:
        await nc.close()
    whole, read_whole = await _start_s(config)
    return {
        "start_checkpoint_s": with_checkpoint,
        "start_checkpoint_read": read_with,
        "start_whole_s": whole,
        "start_whole_read": read_whole,
    }


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Events/s publish-to-viewer through NATS and through the file journal."""
    figure = Figure(KEY, TITLE)
    count = 2_000 if scale.smoke else 30_000
    stream = list(itertools.islice(events(50 if scale.smoke else 500, seed=8), count))
    with tempfile.TemporaryDirectory(prefix="callboard-nats-") as tmp:
        root = Path(tmp)
        journal = asyncio.run(
            _through(HubConfig(port=0, journal=root / "hub.journal", max_calls=None), stream)
        )
        server = NatsServer(root)
        try:
            nats_config = NatsConfig(url=server.url)
            nats = asyncio.run(
                _through(HubConfig(port=0, nats=nats_config, site="bench", max_calls=None), stream)
            )
            nats |= asyncio.run(_stored(server.url, "bench"))
            nats |= asyncio.run(_starts(HubConfig(port=0, nats=nats_config, site="bench")))
        finally:
            server.stop()
    figure.add(
        Measure.against(
            "events/s publish to viewer, NATS",
            nats["rate"],
            "ev/s",
            journal["rate"],
            "file journal",
            ratio_name="of the journal's",
        )
    )
    figure.add(
        Measure.against(
            "ack latency p99, NATS",
            nats["p99_ms"],
            "ms",
            journal["p99_ms"],
            "file journal",
        )
    )
    figure.add(
        Measure.against(
            f"hub start reading the whole stream ({nats['start_whole_read']:,} messages)",
            nats["start_whole_s"] * 1000,
            "ms",
            nats["start_checkpoint_s"] * 1000,
            f"from the checkpoint ({nats['start_checkpoint_read']} read)",
        )
    )
    figure.add(
        Measure(
            "stream bytes per event",
            nats["stream_bytes"] / max(1, nats["stream_messages"]),
            "B",
        )
    )
    figure.add(Measure("checkpoint in the bucket, compressed", nats["checkpoint_bytes"], "B"))
    figure.details = {"journal": journal, "nats": nats, "producers": PRODUCERS}
    return figure
