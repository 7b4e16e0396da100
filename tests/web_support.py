"""`callboard web` for the tests: the real server in a subprocess, its board processes, a session.

A session is what a browser's page does: a websocket to /ws with the terminal's size
in the query, the board's output coming back as binary frames. The board processes
are found the way `ps` finds them, in /proc: the server's descendants while it
runs, and by pid after it has gone (an orphan is reparented, so it would no longer
be a descendant; a pid still alive and not a zombie is a process left behind).
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from tests.cli_support import start_callboard
from tests.hub_support import DEADLINE

SERVING = re.compile(r"on (https?://\S+/) ")


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, their children...), from /proc."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


def alive(pid: int) -> bool:
    """Whether `pid` is a running process (a zombie has ended, only not been reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def cmdline(pid: int) -> list[str]:
    """A process's command line ([] once it has gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
    except OSError:
        return []


def wait_until(check: Callable[[], object], what: str, timeout: float = DEADLINE) -> None:
    """Poll `check` until true; fail naming `what` after a generous timeout."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class WebServer:
    """`callboard web --port 0 ARGS` running; its URL read from what it prints."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = start_callboard("web", "--port", "0", *args, stderr=subprocess.PIPE, env=env)
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()
        found = SERVING.search(line)
        assert found, f"no address in {line!r}"
        self.url = found.group(1)
        self.banner = line

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http") + "ws"

    def boards(self) -> list[int]:
        """The board processes this server runs now."""
        return [
            pid
            for pid in descendants(self.proc.pid)
            if cmdline(pid)[1:3] == ["-m", "monitor"] and alive(pid)
        ]

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> tuple[int, str]:
        """Send `sig` and wait: its exit status and the rest of its stderr."""
        self.proc.send_signal(sig)
        _, err = self.proc.communicate(timeout=DEADLINE)
        return self.proc.returncode, err

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=DEADLINE)


@asynccontextmanager
async def session(
    server: WebServer,
    width: int = 200,
    height: int = 60,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """A browser's websocket session on `server`, with a terminal of this size."""
    async with (
        aiohttp.ClientSession(headers=headers) as client,
        client.ws_connect(f"{server.ws_url}?width={width}&height={height}") as ws,
    ):
        yield ws


async def read_until(ws: aiohttp.ClientWebSocketResponse, text: bytes) -> bytes:
    """The board's output until it holds `text` (in one frame or across frames)."""
    got = bytearray()
    deadline = time.monotonic() + DEADLINE
    while text not in got:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{text!r} not seen; last output {bytes(got[-300:])!r}"
        message = await ws.receive(timeout=remaining)
        assert message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT), message
        if message.type is aiohttp.WSMsgType.BINARY:
            got += message.data
    return bytes(got)
