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
   subscriber reads the snapshot's parts: their total size, the calls' share (each
   call as its state, `classifier.call_state`), the day's and the agents' day's.
   Goal: under 1 MB with 5,000 calls in progress.

Both boards must show the same day (checked: the figure fails otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from bench.report import Figure, Measure, ratio
from bench.scale import FULL, SMOKE, Scale
from classifier.day import WINDOWS
from classifier.schema import Event, event_from_dict
from monitor.board import Board
from monitor.feed.client import FeedClient, Snapshot
from monitor.feed.hub import HubConfig, running_hub
from monitor.feed.journal import Journal
from monitor.sim.config import SimConfig
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
    """`n` calls queued now, a second after the day's last event."""
    at = after.ts + timedelta(seconds=1)
    out: list[Event] = []
    for i in range(n):
        cid = f"bench-wait-{i:05d}"
        out.append(
            event_from_dict(
                {
                    "type": "call.started",
                    "call_id": cid,
                    "ts": at.isoformat(),
                    "from": "+3225550101",
                }
            )
        )
        out.append(
            event_from_dict(
                {"type": "queue.entered", "call_id": cid, "ts": at.isoformat(), "queue": "sales"}
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


async def snapshot_size(url: str) -> dict[str, int]:
    """Characters of the snapshot's parts (total), of its calls, its day (the agents' day
    included) and of the agents' day alone, and the number of parts."""
    sizes = dict.fromkeys(("total", "calls", "day", "agents", "parts"), 0)
    async with connect(url, max_size=None) as ws:
        while True:
            text = await ws.recv()
            assert isinstance(text, str)
            sizes["total"] += len(text)
            sizes["parts"] += 1
            frame = json.loads(text)
            sizes["calls"] += sum(_chars(call) for call in frame["calls"])
            if "day" in frame:
                sizes["day"] = _chars(frame["day"])
                sizes["agents"] = _chars(frame["day"].get("agents"))
            if not frame.get("more"):
                return sizes


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
            for event in waiting_calls(in_progress, events[-1]):
                hub.publish(event)
            out["in_progress"] = len(hub.tracker)
            out["snapshot"] = await snapshot_size(hub.url)
    return out


KEY = "join"
TITLE = "12. a board joins the hub's day"
#: Seconds from connecting to showing the whole day; megabytes (of characters) of the snapshot.
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
    for name, chars in (("whole", sizes["total"]), ("calls in progress", sizes["calls"])):
        mb = chars / 1e6
        figure.add(
            Measure(
                f"snapshot, {name}, {got['in_progress']:,} calls in progress",
                mb,
                "MB",
                goal=f"< {GOAL_SNAPSHOT_MB:g} MB",
                met=mb < GOAL_SNAPSHOT_MB,
            )
        )
    figure.add(Measure("snapshot, the day (agents' day included)", sizes["day"] / 1e6, "MB"))
    figure.add(Measure("snapshot, the agents' day", sizes["agents"] / 1e6, "MB"))
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
