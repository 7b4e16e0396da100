"""A real `callboard serve` in a child process, on a free loopback port."""

from __future__ import annotations

import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from bench.process import callboard

_LISTENING = re.compile(r"listening on (ws://[\d.]+:(\d+))/events")


class HubProcess:
    """`callboard serve --port 0 [args]`, started on enter and stopped (SIGTERM) on exit."""

    def __init__(self, *args: str, startup_timeout: float = 60.0) -> None:
        self.args = args
        self.startup_timeout = startup_timeout
        self._log = tempfile.NamedTemporaryFile(prefix="bench-hub-", suffix=".log", delete=False)  # noqa: SIM115
        self.proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self.port = 0

    @property
    def pid(self) -> int:
        """The hub's process id, once started."""
        assert self.proc is not None
        return self.proc.pid

    @property
    def events_url(self) -> str:
        """Where subscribers connect (`ws://127.0.0.1:PORT/events`), once started."""
        return self.base_url + "/events"

    @property
    def publish_url(self) -> str:
        """Where producers publish (`ws://127.0.0.1:PORT/publish`), once started."""
        return self.base_url + "/publish"

    def log_text(self) -> str:
        """Everything the hub has written to stderr so far."""
        return Path(self._log.name).read_text(errors="replace")

    def __enter__(self) -> HubProcess:
        self.proc = subprocess.Popen(
            callboard("serve", "--port", "0", *self.args),
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            match = _LISTENING.search(self.log_text())
            if match:
                self.base_url, self.port = match.group(1), int(match.group(2))
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"callboard serve exited {self.proc.returncode}:\n{self.log_text()}"
                )
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"callboard serve did not start listening:\n{self.log_text()}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not go within 10 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)
