"""Many raw `/events` subscribers in one process, for the fan-out figure.

    python -m bench.fanout_subscribers URL COUNT EVENTS OUT.json [--mark N] [--timeout S]

Opens COUNT connections, prints `ready` once every one has its snapshot, then
counts event frames until each has seen EVENTS of them and writes what it saw
to OUT.json: per subscriber the count, and the receive time of every seq, and
the process's CPU time after the mark.
With `--mark N` it also prints `marked` once every subscriber has seen N
events: the figure starts its paced phase only then, so the burst's backlog
is not counted as the paced events' latency.
The subscribers parse frames with `json.loads` only, so what is measured is
the hub's delivery, not a wallboard's work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


async def _subscriber(
    ws: ClientConnection,
    expect: int,
    times: dict[int, float],
    mark: int,
    marked: Callable[[], None],
) -> int:
    count = 0
    while count < expect:
        message = await ws.recv()
        now = time.time()
        frame = json.loads(message)
        frames = frame["frames"] if frame.get("frame") == "batch" else [frame]
        for item in frames:
            if item.get("frame") == "event":
                times[int(item["seq"])] = now
                count += 1
        if count >= mark:
            marked()
            mark = expect + 1
    return count


async def main(
    url: str, count: int, expect: int, out: Path, timeout: float, mark: int | None = None
) -> int:
    """Subscribe `count` times, print `ready`, count event frames, and write what was seen to `out`.

    Waits up to `timeout` seconds for every subscriber to see `expect` event frames;
    prints `marked` once every one has seen `mark` of them.
    Returns the exit status: 0, or 1 when any subscriber timed out. Raises
    RuntimeError when a connection's first frame is not a snapshot.
    """
    connections: list[ClientConnection] = []
    for _ in range(count):
        ws = await connect(url, max_size=2**26, ping_interval=None)
        first = json.loads(await ws.recv())
        if first.get("frame") != "snapshot":
            raise RuntimeError(f"expected a snapshot first, got {first.get('frame')!r}")
        connections.append(ws)
    print("ready", flush=True)
    times: list[dict[int, float]] = [{} for _ in connections]
    waiting = [len(connections)]
    cpu_at_mark = [0.0]

    def marked() -> None:
        waiting[0] -= 1
        if waiting[0] == 0:
            cpu_at_mark[0] = time.process_time()
            print("marked", flush=True)

    tasks = [
        asyncio.create_task(
            _subscriber(ws, expect, seen, expect + 1 if mark is None else mark, marked)
        )
        for ws, seen in zip(connections, times, strict=True)
    ]
    _done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    result: dict[str, Any] = {
        "subscribers": count,
        "expected": expect,
        "timed_out": len(pending),
        "received": [len(seen) for seen in times],
        "times": times,
        # This process's CPU seconds from the mark to the last event: what the events
        # after the mark cost the subscriber side.
        "cpu_after_mark_s": time.process_time() - cpu_at_mark[0],
    }
    out.write_text(json.dumps(result))
    for ws in connections:
        await ws.close()
    return 0 if not pending else 1


def build_parser() -> argparse.ArgumentParser:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m bench.fanout_subscribers")
    parser.add_argument("url")
    parser.add_argument("count", type=int)
    parser.add_argument("events", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--mark", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=600.0)
    return parser


if __name__ == "__main__":
    args = build_parser().parse_args()
    sys.exit(
        asyncio.run(main(args.url, args.count, args.events, args.out, args.timeout, args.mark))
    )
