"""A real HTTP receiver on loopback for webhook tests (the standard library's http.server)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from typing_extensions import override


@dataclass
class Receiver:
    """What a receiver got; `statuses` are answered in turn (the last one for ever after)."""

    url: str = ""
    statuses: list[int] = field(default_factory=lambda: [200])
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Every request waits for this before it is read (set: answer at once).
    go: threading.Event = field(default_factory=threading.Event)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The bodies once `count` were received; AssertionError after `timeout`."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if len(self.bodies) >= count:
                    return list(self.bodies)
            time.sleep(0.05)
        raise AssertionError(f"received {len(self.bodies)} of {count} webhooks: {self.bodies}")


@contextmanager
def receiver(statuses: list[int] | None = None, hold: bool = False) -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 in a thread, for the block.

    `hold`: requests hang until the test sets `go` (a receiver that stopped answering).
    """
    got = Receiver(statuses=statuses or [200])
    if not hold:
        got.go.set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            """Record the body and answer with the next status (once `go` is set)."""
            got.go.wait()
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            with got.lock:
                index = min(got.attempts, len(got.statuses) - 1)
                status = got.statuses[index]
                got.attempts += 1
                if 200 <= status < 300:
                    got.bodies.append(json.loads(raw))
                    got.headers.append(dict(self.headers.items()))
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok\n" if status < 300 else b"receiver broke\n")

        @override
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads what was received, not the server's log."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    got.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield got
    finally:
        got.go.set()
        server.shutdown()
        server.server_close()
        thread.join()
