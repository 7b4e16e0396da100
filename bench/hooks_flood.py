"""Webhook deliveries from their own process, for the webhook intake figure.

    python -m bench.hooks_flood BASE_URL RATE COUNT TAG [KEY]

Sends COUNT Exotel Passthru GETs (each a finished call with its own CallSid,
``TAG-N``; with a TAG ending in ``=``, one call delivered COUNT times, as a vendor's
retries are) to BASE_URL/hooks/exotel, at RATE a second (0: as fast as the
receiver answers, 64 at a time), and prints one JSON line: how many were sent,
answered 2xx, refused, the seconds from the first send to the last answer, and
the client's own CPU seconds over them.
Its own process so that the client's work is not charged to the process that
measures subscribers' latency.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import aiohttp

CONCURRENCY = 64


def passthru_url(base: str, sid: str, key: str | None, now: str | None = None) -> str:
    """The Passthru GET of one finished call (busy: a call.started and a call.ended)."""
    now = now or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    params = {
        "CallSid": sid,
        "From": "09999000111",
        "To": "08047112222",
        "Direction": "incoming",
        "StartTime": now,
        "CurrentTime": now,
        "DialCallStatus": "busy",
    }
    if key is not None:
        params["key"] = key
    return f"{base}/hooks/exotel?{urlencode(params)}"


async def flood(base: str, rate: float, count: int, tag: str, key: str | None) -> dict[str, float]:
    """Send the deliveries; what was answered, and how long it took."""
    ok = refused = 0
    limit = asyncio.Semaphore(CONCURRENCY)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(i: int) -> None:
            nonlocal ok, refused
            try:
                sid = tag if tag.endswith("=") else f"{tag}-{i}"
                async with http.get(passthru_url(base, sid, key, now)) as response:
                    await response.read()
                    if 200 <= response.status < 300:
                        ok += 1
                    else:
                        refused += 1
            finally:
                limit.release()

        tasks = []
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        start = time.perf_counter()
        cpu = time.process_time()
        for i in range(count):
            if rate:
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            await limit.acquire()
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
    return {"sent": count, "ok": ok, "refused": refused, "seconds": seconds, "cpu_s": cpu}


if __name__ == "__main__":
    base, rate, count, tag = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    key = sys.argv[5] if len(sys.argv) > 5 else None
    print(json.dumps(asyncio.run(flood(base, rate, count, tag, key))), flush=True)
