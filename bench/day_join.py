"""Figure 8: a board joining a hub whose day holds 1,000,000 events, and the snapshot's size.

    python -m bench --only join   (alone: python -m bench.day_join [--events N] [--in-progress N])

A simulated centre's day of `scale.events` events is published into an in-process hub
with a journal, then:

1. **join**: a board (`monitor.board.Board`, fed by a real `FeedClient` over
   loopback as `callboard watch` feeds its own) connects; the time from opening
   the connection to the board holding the hub's whole day (its snapshot with the
   day state loaded). Goal: under 1 s;
2. **baseline**: the way to the same day without the hub's day state: a fresh
   board applies every event of the day, read back from the journal
   (`Journal.open`'s records), as a board that watched from the start did;
3. **snapshot size**: `scale.open_calls` more calls are opened (queued), and a raw
   subscriber asking what `FeedClient` asks (`?snapshot=zlib`) reads the snapshot's
   parts: the bytes on the wire (each part a zlib binary message,
   `monitor.feed.snapshot_zlib`) against the parts' text (what a subscriber that does
   not ask gets), and of the text the calls' share (each call as its state,
   `classifier.call_state`), the day's and the agents' day's. Goal: under 1 MB on the
   wire with 5,000 calls in progress. Beside it, from the same parts: the bytes at zlib
   levels 1 and 9 and with one zlib stream across all the parts (flushed at each
   part's end), and the CPU each takes to compress them;
4. **loop stall**: the longest the hub's loop was held up (a task on it wakes every
   millisecond and records the longest gap between its wake-ups, wall and the CPU
   the loop spent in it, as `bench.snapshot_join` does) while a subscriber in another
   process (its parsing is not the hub's) joins asking `?snapshot=zlib` and reads the
   snapshot to its end. Baseline: the longest gap while the hub publishes the queued
   calls' events one a loop turn, no one joining (the loop's own noise: the machine,
   the collector). Issue 13 measured 34 ms at 100,000 calls before protocol 3.

Both boards must show the same day (checked: the figure fails otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from bench.report import Figure, Measure, ratio
from bench.scale import FULL, SMOKE, Scale
from bench.snapshot_join import READER, longest_stall
from classifier.day import WINDOWS
from classifier.schema import Event, event_from_dict
from monitor.board import Board
from monitor.feed.client import FeedClient, Snapshot
from monitor.feed.hub import Hub, HubConfig, running_hub
from monitor.feed.journal import Journal
from monitor.feed.protocol import PROTOCOL_VERSION
from monitor.feed.snapshot_zlib import LEVEL, SNAPSHOT_PARAM, ZLIB, inflate_part
from monitor.sim.config import DEFAULT_QUEUES, SimConfig
from monitor.sim.model import simulate


def day_events(limit: int) -> list[Event]:
    """Up to `limit` events of one simulated day of a big centre (calls whole)."""
    config = SimConfig(hours=12.0, calls_per_hour=20_000, agents=600, seed=15)
    events: list[Event] = []
    for event in simulate(config):
        events.append(event)
        if len(events) >= limit:
            break
    return events


def waiting_calls(n: int, after: Event) -> list[Event]:
    """`n` calls queued in the 10 minutes after the day's last event, each from its own
    caller, in the simulator's queues: as unlike each other as real ones, so that the
    compressed snapshot is not flattered by `n` copies of one call (seeded: every run
    gets the same calls)."""
    draw = random.Random(15)
    starts = sorted(draw.uniform(1.0, 600.0) for _ in range(n))
    out: list[Event] = []
    for i, offset in enumerate(starts):
        cid = f"bench-wait-{i:05d}"
        at = after.ts + timedelta(seconds=round(offset, 3))
        caller = f"+3225{draw.randrange(10**7):07d}"
        queue = draw.choice(DEFAULT_QUEUES)
        out.append(
            event_from_dict(
                {
                    "type": "call.started",
                    "call_id": cid,
                    "ts": at.isoformat(),
                    "from": caller,
                }
            )
        )
        out.append(
            event_from_dict(
                {"type": "queue.entered", "call_id": cid, "ts": at.isoformat(), "queue": queue}
            )
        )
    return out


def shown(board: Board, now: datetime) -> object:
    """What the header, the per-queue table and the panels show at `now` (in every window)."""
    return (
        [board.kpis(now, w) for w in WINDOWS],
        {o: [f.verdict for f in p.rows] for o, p in board.panels.items()},
    )


async def join(url: str) -> tuple[float, Board]:
    """Seconds from connecting to holding the hub's day, and the board."""
    board = Board()
    started = time.perf_counter()
    client = FeedClient(url)
    try:
        async for item in client:
            if isinstance(item, Snapshot):
                board.load_snapshot(item.calls, item.presence, item.seq, item.hub_id, day=item.day)
                return time.perf_counter() - started, board
    finally:
        await client.close()
    raise RuntimeError("the hub sent no snapshot")


def replay(journal: Path) -> tuple[float, Board]:
    """Seconds to rebuild the day from the journal's records, and the board."""
    started = time.perf_counter()
    opened, recovery = Journal.open(journal)
    board = Board()
    for frame, _text in recovery.records:
        board.apply(frame.event)
    opened.close()
    return time.perf_counter() - started, board


def _chars(data: object) -> int:
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")))


async def snapshot_size(url: str) -> dict[str, Any]:
    """Bytes of the snapshot's parts as `FeedClient` gets them (zlib, `wire`) and as text
    (`total`), of its calls, its day (the agents' day included) and of the agents' day
    alone, in the text; the number of parts; and how other ways to compress the same
    parts compare (`compression`)."""
    sizes: dict[str, Any] = dict.fromkeys(("wire", "total", "calls", "day", "agents", "parts"), 0)
    texts: list[bytes] = []
    query = f"?protocol={PROTOCOL_VERSION}&{SNAPSHOT_PARAM}={ZLIB}"
    async with connect(url + query, max_size=None) as ws:
        while True:
            data = await ws.recv()
            assert isinstance(data, bytes), "a text part to a subscriber that asked for zlib"
            sizes["wire"] += len(data)
            text = inflate_part(data, 64 * 1024 * 1024)
            texts.append(text)
            sizes["total"] += len(text)
            sizes["parts"] += 1
            frame = json.loads(text)
            sizes["calls"] += sum(_chars(call) for call in frame["calls"])
            if "day" in frame:
                sizes["day"] = _chars(frame["day"])
                sizes["agents"] = _chars(frame["day"].get("agents"))
            if not frame.get("more"):
                break
    sizes["compression"] = compression(texts)
    return sizes


def compression(texts: list[bytes]) -> dict[str, dict[str, float]]:
    """Bytes and CPU ms to compress these parts: each alone at levels 1, 6 (the hub's) and
    9, and as one zlib stream across all of them, flushed at each part's end."""
    out: dict[str, dict[str, float]] = {}
    for level in (1, LEVEL, 9):
        started = time.process_time()
        size = sum(len(zlib.compress(text, level)) for text in texts)
        out[f"parts_level_{level}"] = {
            "bytes": size,
            "compress_ms": round((time.process_time() - started) * 1000, 1),
        }
    started = time.process_time()
    stream = zlib.compressobj(LEVEL)
    size = sum(len(stream.compress(text) + stream.flush(zlib.Z_SYNC_FLUSH)) for text in texts)
    out[f"stream_level_{LEVEL}"] = {
        "bytes": size,
        "compress_ms": round((time.process_time() - started) * 1000, 1),
    }
    return out


async def publishing_stall(hub: Hub, events: list[Event]) -> dict[str, float]:
    """The longest loop stall (ms, wall and CPU) while `events` are published one a turn."""
    gaps: list[tuple[float, float]] = []
    stop = asyncio.Event()
    watcher = asyncio.create_task(longest_stall(stop, gaps))
    for event in events:
        hub.publish(event)
        await asyncio.sleep(0)
    stop.set()
    await watcher
    return _longest(gaps)


async def joining_stall(hub: Hub) -> dict[str, float]:
    """The longest loop stall (ms, wall and CPU) while a subscriber in another process
    joins as `FeedClient` does (zlib parts) and reads the whole snapshot."""
    gaps: list[tuple[float, float]] = []
    stop = asyncio.Event()
    url = f"{hub.url}?protocol={PROTOCOL_VERSION}&{SNAPSHOT_PARAM}={ZLIB}"
    reader = await asyncio.create_subprocess_exec(
        sys.executable, "-c", READER, url, stdout=subprocess.PIPE
    )
    # Watched from here: spawning the reader (a fork of a big process) is not the join.
    watcher = asyncio.create_task(longest_stall(stop, gaps))
    await reader.communicate()
    stop.set()
    await watcher
    return _longest(gaps)


def _longest(gaps: list[tuple[float, float]]) -> dict[str, float]:
    return {
        "wall_ms": round(max(g[0] for g in gaps) * 1000, 1),
        "cpu_ms": round(max(g[1] for g in gaps) * 1000, 1),
    }


async def measure(events_wanted: int, in_progress: int) -> dict[str, Any]:
    """Publish the day, measure the join, the baseline and the snapshot."""
    made = time.perf_counter()
    events = day_events(events_wanted)
    out: dict[str, Any] = {"simulate_s": round(time.perf_counter() - made, 1)}
    with tempfile.TemporaryDirectory() as tmp:
        journal = Path(tmp) / "day.journal"
        config = HubConfig(port=0, journal=journal, max_calls=None, call_expiry=None)
        async with running_hub(config) as hub:
            for i, event in enumerate(events):
                hub.publish(event)
                if i % 5_000 == 0:
                    await asyncio.sleep(0)
            out |= {
                "events": hub.seq,
                "offered": hub.day.total.offered,
                "finished_calls": sum(hub.day.panel_counts.values()),
                "agents": len(hub.agents.agents),
            }
            join_s, joined = await join(hub.url)
            baseline_s, replayed = replay(journal)
            # At one time: a joined board's newest event time is its snapshot's newest.
            now = events[-1].ts
            out |= {"join_s": join_s, "baseline_s": baseline_s}
            out["same_day"] = shown(joined, now) == shown(replayed, now)
            out["stall_publishing"] = await publishing_stall(
                hub, waiting_calls(in_progress, events[-1])
            )
            out["in_progress"] = len(hub.tracker)
            out["stall_joining"] = await joining_stall(hub)
            out["snapshot"] = await snapshot_size(hub.url)
    return out


KEY = "join"
TITLE = "12. a board joins the hub's day"
#: Seconds from connecting to showing the whole day; megabytes of the snapshot on the wire.
GOAL_JOIN_S = 1.0
GOAL_SNAPSHOT_MB = 1.0


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """The join against replaying the journal, and the snapshot's size and shares."""
    figure = Figure(KEY, TITLE)
    got = asyncio.run(measure(scale.events, scale.open_calls))
    if not got["same_day"]:
        raise AssertionError("the joined board and the replayed one show different days")
    join_s, baseline_s = got["join_s"], got["baseline_s"]
    figure.add(
        Measure(
            f"join a {got['events']:,}-event day",
            join_s * 1000,
            "ms",
            baseline=baseline_s * 1000,
            baseline_name="replay the journal",
            ratio=ratio(baseline_s, join_s),
            ratio_name="faster than the replay",
            goal=f"< {GOAL_JOIN_S:g} s",
            met=join_s < GOAL_JOIN_S,
        )
    )
    sizes = got["snapshot"]
    wire_mb, text_mb = sizes["wire"] / 1e6, sizes["total"] / 1e6
    figure.add(
        Measure(
            f"snapshot on the wire (zlib parts, FeedClient), {got['in_progress']:,} calls in "
            f"progress, {sizes['parts']} parts",
            wire_mb,
            "MB",
            baseline=text_mb,
            baseline_name="the same parts as text",
            ratio=ratio(text_mb, wire_mb),
            ratio_name="smaller than the text",
            goal=f"< {GOAL_SNAPSHOT_MB:g} MB",
            met=wire_mb < GOAL_SNAPSHOT_MB,
        )
    )
    figure.add(Measure("snapshot as text, the calls in progress", sizes["calls"] / 1e6, "MB"))
    figure.add(Measure("snapshot, the day (agents' day included)", sizes["day"] / 1e6, "MB"))
    figure.add(Measure("snapshot, the agents' day", sizes["agents"] / 1e6, "MB"))
    joining, publishing = got["stall_joining"], got["stall_publishing"]
    figure.add(
        Measure(
            f"longest hub loop stall while a board joins (zlib parts, {got['in_progress']:,} "
            f"calls in progress; CPU {joining['cpu_ms']:g} ms)",
            joining["wall_ms"],
            "ms",
            baseline=publishing["wall_ms"],
            baseline_name=f"publishing, no one joining (CPU {publishing['cpu_ms']:g} ms)",
            ratio=ratio(joining["wall_ms"], publishing["wall_ms"]),
            ratio_name="of the baseline's",
        )
    )
    figure.details = got | {"loadavg_1min": round(os.getloadavg()[0], 2)}
    return figure


def main(events_wanted: int, in_progress: int) -> None:
    """Run the figure at these sizes and print its numbers."""
    base = FULL if events_wanted >= FULL.events else SMOKE
    figure = run(dataclasses.replace(base, events=events_wanted, open_calls=in_progress), {})
    for m in figure.measures:
        against = f" (baseline {m.baseline:,.2f} {m.unit}: {m.baseline_name})" if m.baseline else ""
        print(f"{m.name}: {m.value:,.2f} {m.unit}{against} {m.goal}")
    print(json.dumps(figure.details, indent=1, default=str))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.day_join")
    parser.add_argument("--events", type=int, default=FULL.events)
    parser.add_argument("--in-progress", type=int, default=FULL.open_calls)
    args = parser.parse_args()
    main(args.events, args.in_progress)
