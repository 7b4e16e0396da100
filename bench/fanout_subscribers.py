"""Many raw `/events` subscribers in one process, for the fan-out figure.

    python -m bench.fanout_subscribers URL COUNT EVENTS OUT.json

Opens COUNT connections, prints `ready` once every one has its snapshot, then
counts event frames until each has seen EVENTS of them and writes what it saw
to OUT.json: per subscriber the count, and the receive time of every seq.
The subscribers parse frames with `json.loads` only, so what is measured is
the hub's delivery, not a wallboard's work.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


async def _subscriber(ws: ClientConnection, expect: int, times: dict[int, float]) -> int:
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
    return count


async def main(url: str, count: int, expect: int, out: Path, timeout: float) -> int:
    """Subscribe `count` times, print `ready`, count event frames, and write what was seen to `out`.

    Waits up to `timeout` seconds for every subscriber to see `expect` event frames.
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
    tasks = [
        asyncio.create_task(_subscriber(ws, expect, seen))
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
    }
    out.write_text(json.dumps(result))
    for ws in connections:
        await ws.close()
    return 0 if not pending else 1


if __name__ == "__main__":
    url, count, expect, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 600.0
    sys.exit(asyncio.run(main(url, count, expect, out, timeout)))
