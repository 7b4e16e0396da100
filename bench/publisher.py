"""Publishing the benchmark's events to a hub's `/publish`, paced or as fast as acks allow."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect


@dataclass
class Published:
    """What a publisher sent: wall-clock send time of each accepted seq."""

    sent_at: dict[int, float] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    #: Sends that went out later than their slot (the publisher could not keep the pace).
    late: int = 0


def wire_lines(events: Iterable[dict[str, Any]]) -> list[str]:
    """Events as the text a producer sends: no `seq`, which the hub assigns."""
    lines = []
    for event in events:
        event = dict(event)
        event.pop("seq", None)
        lines.append(json.dumps(event, separators=(",", ":")))
    return lines


async def publish(
    url: str, lines: list[str], rate: float | None = None, window: int = 1000
) -> Published:
    """Send `lines` to `url` (a hub's /publish) at `rate` per second, or as fast as possible.

    Sends are not held back waiting for each ack (at most `window` in flight):
    a real producer streams. A single connection is acknowledged in order, so
    the k-th ack names the seq of the k-th line.
    """
    result = Published()
    send_times: list[float] = []
    in_flight = asyncio.Semaphore(window)
    async with connect(url, max_size=2**24) as ws:

        async def read_acks() -> None:
            index = 0
            while index < len(lines):
                frame = json.loads(await ws.recv())
                at = send_times[index]
                index += 1
                in_flight.release()
                if frame.get("frame") == "ack":
                    result.sent_at[int(frame["seq"])] = at
                else:
                    result.refused.append(str(frame.get("problem", frame)))

        reader = asyncio.create_task(read_acks())
        result.started = time.time()
        start = time.perf_counter()
        for index, line in enumerate(lines):
            if rate:
                due = start + index / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif delay < -0.05:
                    result.late += 1
            await in_flight.acquire()
            send_times.append(time.time())
            await ws.send(line)
        await reader
        result.finished = time.time()
    return result
