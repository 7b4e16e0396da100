"""How long a subscriber's join holds up the hub's loop, and what stalled joiners cost.

    python -m bench.snapshot_join [--calls 100000] [--agents 0] [--stalled 10] [--zlib]

Not a figure of `python -m bench`: a measurement for issue 13 (snapshots of a
hub with many calls in progress), printed as a few lines. An in-process hub gets
`--calls` calls in progress with 256-character `from`/`to` (no limit on calls, so
the hub's own bound does not shrink the test), and `--agents` agents, each logged in
and offered `AGENT_CALLS` calls it answered (calls that ended: a story of a few lines
an agent, as a day gives, and no call in progress), then:

1. a subscriber in another process joins and reads its snapshot to the end,
   while a task on the hub's loop wakes every millisecond and records the
   longest gap between its wake-ups: the longest the loop was blocked;
   With `--zlib` the subscriber asks for the parts compressed (`?snapshot=zlib`, as
   `FeedClient` does): the hub compresses each part between its loop's turns;
2. `--stalled` peers join and never read; after a few seconds the hub's
   resident memory is read from /proc (Linux).

It runs against any version of the hub (one-frame snapshots or parts), so the
same script gives the before and after figures.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import socket
import subprocess
import sys
import time
from pathlib import Path

from classifier.schema import Event, event_from_dict
from monitor.feed.hub import HubConfig, running_hub

#: The subscriber process: read the snapshot (every part), print its size on the wire.
READER = """
import json, sys, zlib
from websockets.sync.client import connect
total = 0
with connect(sys.argv[1], max_size=None) as ws:
    while True:
        text = ws.recv()
        total += len(text)
        if isinstance(text, bytes):
            text = zlib.decompress(text)
        if not json.loads(text).get("more"):
            break
print(total)
"""


def _open_calls(n: int) -> list[Event]:
    events = []
    for i in range(n):
        cid = f"bench-{i:06d}"
        events.append(
            event_from_dict(
                {
                    "type": "call.started",
                    "call_id": cid,
                    "ts": 1_700_000_000 + i // 100,
                    "from": "+1" + "5" * 254,
                    "to": "+2" + "7" * 254,
                }
            )
        )
    return events


#: Calls each of `--agents` agents answered before the join (their story lines).
AGENT_CALLS = 3


def _agents_day(n: int) -> list[Event]:
    """`n` agents logged in, each having answered `AGENT_CALLS` calls that ended."""
    events = []
    for i in range(n):
        agent = f"agent-{i:05d}"
        ts = 1_700_000_000 + i // 100
        events.append(
            event_from_dict(
                {"type": "agent.status", "agent": agent, "status": "available", "ts": ts}
            )
        )
        for k in range(AGENT_CALLS):
            cid = f"agent-call-{i:05d}-{k}"
            for record in (
                {"type": "call.started", "from": f"+1555{i:07d}", "to": "+15550000"},
                {"type": "agent.ringing", "agent": agent},
                {"type": "agent.answered", "agent": agent},
                {"type": "call.ended", "by": "caller"},
            ):
                events.append(event_from_dict(record | {"call_id": cid, "ts": ts + k}))
    return events


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def longest_stall(stop: asyncio.Event, out: list[tuple[float, float]]) -> None:
    """Each gap between wake-ups: (wall seconds, this thread's CPU seconds in it).

    On a shared machine the wall gap includes time the process was not scheduled;
    the CPU time is what the loop itself spent.
    """
    loop = asyncio.get_running_loop()
    last, last_cpu = loop.time(), time.thread_time()
    while not stop.is_set():
        await asyncio.sleep(0.001)
        now, cpu = loop.time(), time.thread_time()
        out.append((now - last, cpu - last_cpu))
        last, last_cpu = now, cpu


def _stalled_peer(port: int) -> socket.socket:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(
        (
            f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    return s


async def main(calls: int, stalled: int, compressed: bool = False, agents: int = 0) -> None:
    """Run both measurements and print them."""
    config = HubConfig(port=0)
    if "max_calls" in {f.name for f in dataclasses.fields(HubConfig)}:
        config = dataclasses.replace(config, max_calls=None)
    async with running_hub(config) as hub:
        for event in _agents_day(agents):
            hub.publish(event)
        for event in _open_calls(calls):
            hub.publish(event)
        print(
            f"{len(hub.tracker)} calls in progress, {len(hub.agents)} agents; "
            f"hub RSS {_rss_mb():.0f} MB"
        )
        gaps: list[tuple[float, float]] = []
        stop = asyncio.Event()
        started = time.perf_counter()
        reader = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            READER,
            hub.url + ("?snapshot=zlib" if compressed else ""),
            stdout=subprocess.PIPE,
        )
        # Watched from here: spawning the reader (a fork of a big process) is not the join.
        watcher = asyncio.create_task(longest_stall(stop, gaps))
        out, _ = await reader.communicate()
        took = time.perf_counter() - started
        stop.set()
        await watcher
        print(
            f"join: {int(out or 0) / 1e6:.1f} MB of snapshot on the wire, read in {took:.2f} s; "
            f"longest loop stall {max(g[0] for g in gaps) * 1000:.0f} ms wall, "
            f"{max(g[1] for g in gaps) * 1000:.0f} ms CPU"
        )
        peers = [_stalled_peer(hub.port) for _ in range(stalled)]
        await asyncio.sleep(5)
        print(f"{stalled} peers that never read: hub RSS {_rss_mb():.0f} MB after 5 s")
        for peer in peers:
            peer.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=0, help="agents with a day (default 0)")
    parser.add_argument("--stalled", type=int, default=10)
    parser.add_argument("--zlib", action="store_true", help="ask for the parts compressed")
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.stalled, args.zlib, args.agents))
