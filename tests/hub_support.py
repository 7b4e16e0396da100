"""Shared helpers for the hub, feed, journal and tail tests: real processes, real sockets.

Nothing here imitates a component: helpers start real hubs (in-process or as
`callboard serve` subprocesses), connect real clients, and wait for conditions
with a generous deadline instead of sleeping a fixed time.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import resource
import socket
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from classifier.schema import Event, event_from_dict
from classifier.tracker import CallTracker
from monitor.commands.classify import RecordWriter, classify_items
from monitor.feed.client import FeedClient, Snapshot, SourceStatus
from monitor.sources.reader import read_events
from tests.cli_support import callboard, start_callboard
from tests.rules_support import RULES_DIR

#: How long any wait may take before the test fails: generous, the CI box is shared.
DEADLINE = 60.0


async def wait_for(
    predicate: Callable[[], bool | Awaitable[bool]], what: str, timeout: float = DEADLINE
) -> None:
    """Poll `predicate` until it holds; fail naming `what` if it does not in `timeout` s."""
    end = time.monotonic() + timeout
    while True:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def wait_for_sync(predicate: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def rule_fixture_log(tmp_path: Path) -> Path:
    """Every per-rule fixture log of the lead's, concatenated into one real file."""
    files = sorted(p for p in RULES_DIR.glob("*.jsonl") if not p.name.endswith(".expected.jsonl"))
    assert files, f"no rule fixtures in {RULES_DIR}"
    out = tmp_path / "rules.jsonl"
    with out.open("w") as f:
        for path in files:
            text = path.read_text()
            f.write(text if text.endswith("\n") else text + "\n")
    return out


def classify_file(path: Path) -> list[dict[str, Any]]:
    """What `callboard classify` prints for a file, computed by its own function."""
    out = io.StringIO()
    classify_items(read_events(path), RecordWriter(out, "json"), io.StringIO())
    return [json.loads(line) for line in out.getvalue().splitlines()]


def classify_cli(path: Path) -> str:
    """The stdout of the real `callboard classify` command."""
    done = callboard("classify", str(path), timeout=DEADLINE)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def make_calls(
    n_calls: int, start: int = 1_700_000_000, pad: int = 0, step: int = 10
) -> list[Event]:
    """A plausible stream of `n_calls` answered calls (5 events each), one every `step` s."""
    events: list[Event] = []
    filler = "x" * pad
    for i in range(n_calls):
        t = start + i * step
        cid = f"call-{i:05d}"
        events += [
            event_from_dict(
                {"type": "call.started", "call_id": cid, "ts": t, "from": "+1" + filler}
            ),
            event_from_dict(
                {"type": "queue.entered", "call_id": cid, "ts": t + 1, "queue": "sales" + filler}
            ),
            event_from_dict(
                {"type": "agent.ringing", "call_id": cid, "ts": t + 2, "agent": "ann" + filler}
            ),
            event_from_dict(
                {"type": "agent.answered", "call_id": cid, "ts": t + 3, "agent": "ann" + filler}
            ),
            event_from_dict({"type": "call.ended", "call_id": cid, "ts": t + 9, "by": "caller"}),
        ]
    return events


def write_log(path: Path, events: list[Event]) -> Path:
    path.write_text("".join(e.to_json() + "\n" for e in events))
    return path


class NamedSource:
    """Events a test writes as an async generator, as a hub source (`monitor.sources.source.Source`)
    with the kind and name subscribers see; it skips nothing and names no position."""

    def __init__(self, events: AsyncIterable[Event], kind: str, name: str) -> None:
        self.events = events
        self.kind = kind
        self.name = name
        self.problems = 0
        self.position: dict[str, Any] | None = None

    def __aiter__(self) -> AsyncIterator[Event]:
        return aiter(self.events)


class Follower:
    """A FeedClient consumer run as a task: applies items like a wallboard or `tail` does."""

    def __init__(self, client: FeedClient) -> None:
        self.client = client
        self.tracker = CallTracker()
        self.verdicts: list[dict[str, Any]] = []
        self.seqs: list[int] = []
        self.snapshots: list[Snapshot] = []
        self.statuses: list[SourceStatus] = []
        self.task: asyncio.Task[None] = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for item in self.client:
            if isinstance(item, Snapshot):
                self.snapshots.append(item)
                self.tracker = CallTracker()
                item.load_into(self.tracker)
            elif isinstance(item, SourceStatus):
                self.statuses.append(item)
            else:
                assert item.seq is not None
                self.seqs.append(item.seq)
                applied = self.tracker.apply(item)
                if applied.verdict is not None:
                    self.verdicts.append(applied.verdict.record())

    async def stop(self) -> None:
        await self.client.close()
        await asyncio.wait_for(self.task, DEADLINE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServeProcess:
    """`callboard serve` in a subprocess; its stderr is collected in a thread-free way."""

    def __init__(
        self,
        args: list[str],
        env: dict[str, str] | None = None,
        preexec_fn: Callable[[], None] | None = None,
        nofile: int | None = None,
    ) -> None:
        """`preexec_fn` runs in the child before the command (e.g. to set a resource limit);
        `nofile`: the hub's limit of open files (RLIMIT_NOFILE), to reach it on purpose."""
        self.args = args

        def limits() -> None:
            if nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
            if preexec_fn is not None:
                preexec_fn()

        self.proc = start_callboard(
            "serve",
            *args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
            preexec_fn=limits if nofile is not None or preexec_fn is not None else None,
        )
        self.lines: list[str] = []
        self.url = self._wait_listening()

    def _wait_listening(self) -> str:
        assert self.proc.stderr is not None
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            line = self.proc.stderr.readline()
            if not line:
                raise AssertionError("callboard serve exited early:\n" + "".join(self.lines))
            self.lines.append(line)
            if "listening on" in line and line.startswith("callboard serve:"):
                url = line.split("listening on ", 1)[1].split()[0]
                # Keep draining stderr so the hub never blocks on a full pipe.
                os.set_blocking(self.proc.stderr.fileno(), False)
                return url
        raise AssertionError("callboard serve did not start:\n" + "".join(self.lines))

    def drain(self) -> str:
        assert self.proc.stderr is not None
        try:
            chunk = self.proc.stderr.read()
        except (BlockingIOError, TypeError):
            chunk = None
        if chunk:
            self.lines.append(chunk)
        return "".join(self.lines)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=DEADLINE)

    def terminate(self) -> int:
        self.proc.terminate()
        return self.proc.wait(timeout=DEADLINE)


#: The `serve` fixture (tests/conftest.py): `serve(args, ...)` takes ServeProcess's
#: arguments and returns it; whatever it started is killed when the test ends.
StartServe = Callable[..., ServeProcess]


def replayed_journal(log: Path, journal: Path) -> Path:
    """`journal` as a real `callboard serve` wrote it replaying `log` to its end, then
    stopped: a hub restarted on it has the day and no source of its own."""
    hub = ServeProcess([str(log), "--port", "0", "--speed", "0", "--journal", str(journal)])
    try:
        wait_for_sync(lambda: "finished at seq" in hub.drain(), "the end of the replay")
    finally:
        assert hub.terminate() == 0
    return journal


def raw_upgrade(
    port: int, path: str = "/events", headers: str = "", rcvbuf: int | None = None
) -> socket.socket:
    """A websocket handshake by hand on a plain socket, for peers that misbehave on purpose.

    The returned socket never reads (a stalled subscriber) and never answers pings
    (a dead peer) unless the test does so itself.
    """
    s = socket.socket()
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\n{headers}\r\n"
        ).encode()
    )
    return s


def run_tail(
    url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `callboard tail` to the end and keep its output."""
    return callboard("tail", url, *args, timeout=DEADLINE, env={**os.environ, **(env or {})})


def read_response(sock: socket.socket) -> tuple[int, list[tuple[str, str]], bytes]:
    """Read a refused handshake's HTTP response to its end: status, headers in order, body.

    Blocking: from an async test with an in-process hub, call it via `asyncio.to_thread`.
    """
    sock.settimeout(DEADLINE)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("iso-8859-1").split("\r\n")
    headers = [
        (name.strip(), value.strip()) for name, _, value in (x.partition(":") for x in lines)
    ]
    return int(status_line.split()[1]), headers, body


def raw_request(port: int, request: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send `request` as it is on a plain socket and read the hub's whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
        s.sendall(request)
        return read_response(s)


def open_calls(n_calls: int, start: int = 1_700_000_000, pad: int = 0) -> list[Event]:
    """`make_calls` without the `call.ended` events: `n_calls` calls left in progress,
    all started within the same second (so that none is old enough to expire)."""
    return [e for e in make_calls(n_calls, start, pad, step=0) if e.type != "call.ended"]


async def get_health(base_url: str) -> dict[str, Any]:
    """GET /health of a hub (`ws://HOST:PORT`) from a thread, so the hub's loop keeps running."""
    url = base_url.replace("ws://", "http://", 1) + "/health"

    def get() -> bytes:
        with urllib.request.urlopen(url, timeout=DEADLINE) as response:
            body: bytes = response.read()
            return body

    health: dict[str, Any] = json.loads(await asyncio.to_thread(get))
    return health


@asynccontextmanager
async def scripted_hub(
    script: Callable[[int, str], list[str]],
) -> AsyncIterator[tuple[str, list[str]]]:
    """A real websocket server that sends the frames `script(connection_no, path)` returns."""
    paths: list[str] = []

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        paths.append(ws.request.path)
        for text in script(len(paths), ws.request.path):
            await ws.send(text)
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/events", paths
