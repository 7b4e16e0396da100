"""How fast a board joining a hub shows the whole day, and how big the snapshot is.

    python -m bench.day_join [--events 1000000] [--in-progress 5000]

Not a figure of `python -m bench`: a measurement for issue 15 (the day belongs to
the hub), printed as a few lines. A simulated centre's day of `--events` events is
published into an in-process hub with a journal, then:

1. **join**: a board (`monitor.board.Board`, fed by a real `FeedClient` over
   loopback as `callboard watch` feeds its own) connects; the time from opening
   the connection to the board holding the hub's whole day (its snapshot with the
   day state loaded);
2. **baseline**: the way to the same day without the hub's day state: a fresh
   board applies every event of the day, read back from the journal
   (`Journal.open`'s records), as a board that watched from the start did;
3. **snapshot size**: `--in-progress` more calls are opened (queued), and a raw
   subscriber reads the snapshot's parts: their total size and the day's share.

Both boards must show the same day (checked). The ratio baseline / join is the
figure: the issue asks for a join under 1 s on a 1,000,000-event day.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from websockets.asyncio.client import connect

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


async def snapshot_size(url: str) -> tuple[int, int, int]:
    """Total characters of the snapshot's parts, of its day, and the number of parts."""
    total = day = parts = 0
    async with connect(url, max_size=None) as ws:
        while True:
            text = await ws.recv()
            assert isinstance(text, str)
            total += len(text)
            parts += 1
            frame = json.loads(text)
            if "day" in frame:
                day = len(json.dumps(frame["day"], ensure_ascii=False, separators=(",", ":")))
            if not frame.get("more"):
                return total, day, parts


async def main(events_wanted: int, in_progress: int) -> None:
    """Publish the day, measure the join, the baseline and the snapshot; print them."""
    made = time.perf_counter()
    events = day_events(events_wanted)
    print(f"simulated {len(events):,} events in {time.perf_counter() - made:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        journal = Path(tmp) / "day.journal"
        config = HubConfig(port=0, journal=journal, max_calls=None, call_expiry=None)
        async with running_hub(config) as hub:
            fed = time.perf_counter()
            for i, event in enumerate(events):
                hub.publish(event)
                if i % 5_000 == 0:
                    await asyncio.sleep(0)
            print(
                f"published {hub.seq:,} events in {time.perf_counter() - fed:.1f} s; "
                f"the day: {hub.day.total.offered:,} offered, "
                f"{sum(hub.day.panel_counts.values()):,} finished calls"
            )
            join_s, joined = await join(hub.url)
            baseline_s, replayed = replay(journal)
            # At one time: a joined board's newest event time is its snapshot's newest.
            now = events[-1].ts
            same = shown(joined, now) == shown(replayed, now)
            print(f"join: {join_s * 1000:,.0f} ms to the whole day (snapshot with the day state)")
            print(f"baseline: {baseline_s * 1000:,.0f} ms replaying the day from the journal")
            print(f"ratio baseline / join: {baseline_s / join_s:,.0f}x; same day shown: {same}")
            for event in waiting_calls(in_progress, events[-1]):
                hub.publish(event)
            total, day, parts = await snapshot_size(hub.url)
            print(
                f"snapshot with {len(hub.tracker):,} calls in progress: {total / 1e6:.2f} MB "
                f"in {parts} parts, of which the day state {day / 1e6:.2f} MB"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.day_join")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--in-progress", type=int, default=5_000)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.in_progress))
