"""`callboard tail` on a real pseudo-terminal: hostile feed text never reaches it raw."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import subprocess
import time

from classifier.schema import event_from_dict
from monitor.feed.hub import Hub
from tests.cli_support import start_callboard
from tests.hub_support import DEADLINE, wait_for

HOSTILE = "Eve\x9b2J\u202e\x1b[31mred\x07"


def read_until(fd: int, needle: bytes) -> bytes:
    out = b""
    end = time.monotonic() + DEADLINE
    while needle not in out:
        assert time.monotonic() < end, f"no {needle!r} in {out!r}"
        try:
            out += os.read(fd, 4096)
        except BlockingIOError:
            time.sleep(0.02)
    return out


async def test_tail_on_a_terminal_escapes_what_the_terminal_would_obey(hub: Hub) -> None:
    events = [
        {"type": "call.started", "call_id": "h1", "ts": 1, "from": HOSTILE},
        {"type": "agent.ringing", "call_id": "h1", "ts": 2, "agent": HOSTILE},
        {"type": "call.ended", "call_id": "h1", "ts": 3, "by": "caller"},
    ]
    for data in events:
        assert hub.publish(event_from_dict(data)).accepted
    for args in ([], ["--events"]):
        primary, secondary = pty.openpty()
        os.set_blocking(primary, False)
        tail = start_callboard(
            "tail",
            hub.url,
            "--since",
            "0",
            "-q",
            *args,
            stdout=secondary,
            stderr=subprocess.DEVNULL,
        )
        os.close(secondary)
        try:
            await wait_for(lambda: hub.subscriber_count == 1, "tail subscribed")
            needle = b"call.ended" if args else b"agents_rung"
            out = await asyncio.to_thread(read_until, primary, needle)
        finally:
            tail.terminate()
            tail.wait(timeout=DEADLINE)
            os.close(primary)
        for raw in ("\x1b", "\x07", "\u202e", "\x9b"):
            assert raw.encode() not in out
        record = json.loads(out.decode().strip().splitlines()[-1])
        # Escaped for the terminal, the JSON still says exactly what the feed said.
        if args:
            assert record["type"] == "call.ended"
        else:
            assert record["agents_rung"] == [HOSTILE]
