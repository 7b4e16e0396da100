"""A board as a user runs it: its own process on a real pseudo-terminal, bytes counted.

The terminal side (the pty master) is drained by a thread that counts every
byte the board writes, which is what an SSH session would carry. CPU share
comes from /proc/<pid>/stat of the board process over the measured window.

The board picks its repaint rate from its environment (`--refresh-rate`'s
default is lower in an SSH session), so the environment is set explicitly:
the SSH variables removed for a local board, and set as sshd sets them for
"callboard over SSH", which is how a user running `ssh -t host callboard watch`
gets the board.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.feeder import feeder_command
from bench.hubproc import HubProcess
from bench.process import PYTHON, callboard, cpu_share, sample
from monitor.app.launch import SSH_VARIABLES


@dataclass
class PtyRun:
    """One board, one terminal size, one steady rate."""

    board: str
    columns: int
    rows: int
    rate: float
    seconds: float
    bytes_per_s: float
    cpu_share: float
    rss_mb: float
    published: int


class PtyBoard:
    """Run `cmd` on a new pty of `columns` x `rows`, counting what it writes."""

    def __init__(self, cmd: Sequence[str], columns: int, rows: int, ssh: bool = False) -> None:
        self.cmd = list(cmd)
        self.ssh = ssh
        self.columns, self.rows = columns, rows
        self.written = 0
        self._master = -1
        self._thread: threading.Thread | None = None
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PtyBoard:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.columns, 0, 0))
        # The board must take its size from the pty, not from the benchmark's terminal.
        hidden = ("COLUMNS", "LINES", *SSH_VARIABLES)
        env = {k: v for k, v in os.environ.items() if k not in hidden}
        env["TERM"] = "xterm-256color"
        if self.ssh:
            env["SSH_CONNECTION"] = "127.0.0.1 50022 127.0.0.1 22"
            env["SSH_CLIENT"] = "127.0.0.1 50022 22"
            env["SSH_TTY"] = os.ttyname(slave)
        self.proc = subprocess.Popen(
            self.cmd,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self._master = master
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()
        return self

    def press(self, keys: bytes) -> None:
        """Type `keys` on the board's terminal."""
        os.write(self._master, keys)

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:  # EIO: the board closed the terminal
                return
            if not data:
                return
            self.written += len(data)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._thread is not None:
            self._thread.join(5)
        os.close(self._master)


def _subscribers(hub: HubProcess) -> int:
    with urllib.request.urlopen(hub.base_url.replace("ws://", "http://") + "/health") as reply:
        data: dict[str, Any] = json.load(reply)
    return int(data["subscribers"])


def _settle(board: PtyBoard, hub: HubProcess, warmup: float, timeout: float = 60.0) -> None:
    """Wait until the board has subscribed, then `warmup` seconds for its first full paint."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _subscribers(hub) < 1:
        assert board.proc is not None
        if board.proc.poll() is not None:
            raise RuntimeError(f"{board.cmd} exited {board.proc.returncode} before subscribing")
        time.sleep(0.1)
    if _subscribers(hub) < 1:
        raise RuntimeError(f"{board.cmd} never subscribed to the hub")
    # The snapshot and the first full-screen paint are not the steady state; the board
    # redraws its clocks every second, so there is no quiet moment to wait for instead.
    time.sleep(warmup)


#: The board run locally (its default 10 repaints a second) and in an SSH session.
LOCAL = "callboard"
OVER_SSH = "callboard over SSH"
NAIVE = "naive DataTable"


def board_commands(url: str) -> dict[str, tuple[list[str], bool]]:
    """The real board (`callboard watch`), locally and over SSH, and the naive baseline.

    Each as (command, whether it runs in an SSH session's environment).
    """
    return {
        LOCAL: (callboard("watch", url), False),
        OVER_SSH: (callboard("watch", url), True),
        NAIVE: ([PYTHON, "-m", "bench.naive_board", url], False),
    }


def run_in_pty(
    name: str,
    cmd: Sequence[str],
    hub: HubProcess,
    columns: int,
    rows: int,
    rate: float,
    seconds: float,
    open_calls: int,
    skip: int,
    seed: int,
    warmup: float = 3.0,
    ssh: bool = False,
    keys: bytes = b"",
) -> PtyRun:
    """Bytes per second and CPU share of one board at a steady rate on a real pty.

    `keys` are typed once the board has settled (`a` opens the agents panel), followed
    by another `warmup` for the screen they bring.
    """
    with PtyBoard(cmd, columns, rows, ssh) as board:
        _settle(board, hub, warmup)
        if keys:
            board.press(keys)
            time.sleep(warmup)
        assert board.proc is not None
        feeder = subprocess.Popen(
            feeder_command(PYTHON, hub.publish_url, rate, seconds, open_calls, seed, skip),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert feeder.stdout is not None
        if feeder.stdout.readline().strip() != "ready":
            raise RuntimeError("feeder did not start")
        before, bytes_before = sample(board.proc.pid), board.written
        summary = json.loads(feeder.stdout.readline())
        feeder.wait()
        after, bytes_after = sample(board.proc.pid), board.written
        if before is None or after is None:
            raise RuntimeError(f"{name} exited during the measurement")
        elapsed = after.at - before.at
    result = PtyRun(
        name,
        columns,
        rows,
        rate,
        seconds,
        bytes_per_s=(bytes_after - bytes_before) / elapsed,
        cpu_share=cpu_share(before, after),
        rss_mb=after.rss_mb,
        published=int(summary["acked"]),
    )
    print(
        f"  {name} {columns}x{rows} at {rate:g} ev/s: {result.bytes_per_s:,.0f} B/s, "
        f"cpu {result.cpu_share:.1%}",
        file=sys.stderr,
    )
    return result
