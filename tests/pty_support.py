"""A real pseudo-terminal for end-to-end tests: `callboard` on a pty, pyte as the screen.

Shared by the tests that need a terminal to be real (the board's bytes, its resizing,
the tty modes it leaves behind); pyte plays the terminal, so a test reads the same
screen a person would see.
"""

from __future__ import annotations

import fcntl
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pyte

from tests.cli_support import ROOT, callboard_command
from tests.hub_support import DEADLINE


def entry_point() -> list[str]:
    """The installed `callboard` script beside this interpreter (what a user runs), if any."""
    exe = shutil.which("callboard", path=str(Path(sys.executable).parent))
    return [exe] if exe else callboard_command()


class Terminal:
    """A child process on a pty, with pyte keeping the screen."""

    def __init__(
        self,
        args: list[str],
        columns: int = 80,
        lines: int = 24,
        env: dict[str, str] | None = None,
        program: list[str] | None = None,
    ) -> None:
        """Run `program` (default: callboard) with `args` on a new pty of this size."""
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.tty_before = termios.tcgetattr(self.slave)
        self.screen = pyte.Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        extra_env = env or {}
        env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(columns), LINES=str(lines))
        env.pop("NO_COLOR", None)
        env.update(extra_env)
        self.proc = subprocess.Popen(
            [*(program or entry_point()), *args],
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave,
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )

    def read(self, timeout: float = 0.1) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return
        self.raw += data
        self.stream.feed(data)

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, check: Callable[[], bool], timeout: float = DEADLINE) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, f"timed out; screen:\n{self.text()}"
            self.read()

    def press(self, data: bytes) -> None:
        os.write(self.master, data)

    def resize(self, columns: int, lines: int) -> None:
        """Resize the terminal, as a window manager would, and tell the child."""
        self.read(0.05)  # what was drawn for the old size lands on the old screen
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.screen.resize(lines, columns)
        self.proc.send_signal(signal.SIGWINCH)

    def exit_code(self, timeout: float = DEADLINE) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            assert time.monotonic() < deadline, "the board did not exit"
            self.read()
        for _ in range(20):  # drain what the child wrote on its way out
            before = len(self.raw)
            self.read(0.05)
            if len(self.raw) == before:
                break
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        os.close(self.slave)


def last(raw: bytes, sequence: bytes) -> int:
    return raw.rfind(sequence)


def assert_restored(term: Terminal) -> None:
    """The board left the terminal as it found it: screen, cursor, mouse modes, tty flags."""
    raw = bytes(term.raw)
    assert last(raw, b"\x1b[?1049h") >= 0, "the board never used the alternate screen"
    assert last(raw, b"\x1b[?1049l") > last(raw, b"\x1b[?1049h"), "alternate screen not left"
    assert last(raw, b"\x1b[?25h") > last(raw, b"\x1b[?25l"), "cursor left hidden"
    for mode in (b"1000", b"1003", b"1006"):
        on = last(raw, b"\x1b[?" + mode + b"h")
        if on >= 0:
            assert last(raw, b"\x1b[?" + mode + b"l") > on, f"mouse mode {mode!r} left on"
    after = termios.tcgetattr(term.slave)
    lflag = 3
    for flag in (termios.ICANON, termios.ECHO, termios.ISIG):
        assert after[lflag] & flag == term.tty_before[lflag] & flag, "tty mode not restored"
