"""End to end in a real pseudo-terminal: `callboard replay`, read the screen, quit, check the tty.

The child gets a real pty of 80x24; pyte plays the terminal, so the test reads
the same screen a person would see. After quitting, the raw output must leave
the alternate screen, show the cursor and switch mouse reporting off, and the
tty must be back in the mode it started in (canonical, echoing).
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
import pytest

ROOT = Path(__file__).parent.parent
BOARD_LOG = ROOT / "fixtures" / "board" / "board.jsonl"


def callboard_command() -> list[str]:
    exe = shutil.which("callboard", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "monitor"]


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
            [*(program or callboard_command()), *args],
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

    def wait_for(self, check: Callable[[], bool], timeout: float = 60.0) -> None:
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

    def exit_code(self, timeout: float = 30.0) -> int:
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


def start_board() -> Terminal:
    term = Terminal(["replay", str(BOARD_LOG.relative_to(ROOT)), "--speed", "0"])

    def final_board_drawn() -> bool:
        text = term.text()
        # The counts, the status line and the panel's rows can reach the pty in
        # different writes: wait for all three rather than for the first.
        return (
            "Abandoned 5" in text
            and "replay finished" in text
            and ("hung up" in text or "answered by" in text)
        )

    term.wait_for(final_board_drawn)
    return term


def test_replay_in_a_real_terminal_then_q() -> None:
    term = start_board()
    try:
        text = term.text()
        assert "Active calls" in text
        assert "hung up" in text or "answered by" in text  # reasons in the panel
        assert "Off 12" in text
        term.press(b"q")
        assert term.exit_code() == 0
        assert_restored(term)
    finally:
        term.close()


@pytest.mark.parametrize(
    ("how", "code"),
    [("ctrl+c", 0), ("SIGTERM", 128 + signal.SIGTERM), ("SIGHUP", 128 + signal.SIGHUP)],
)
def test_ctrl_c_and_signals_exit_cleanly(how: str, code: int) -> None:
    term = start_board()
    try:
        if how == "ctrl+c":
            term.press(b"\x03")
        else:
            term.proc.send_signal(getattr(signal, how))
        assert term.exit_code() == code
        assert_restored(term)
    finally:
        term.close()


def test_a_terminal_that_vanishes_without_a_hangup_signal_ends_the_board() -> None:
    """Both ends of the pty closed and no SIGHUP sent (the board runs in a session of
    its own): the board must notice and leave, not spin on end-of-file forever."""
    term = start_board()
    try:
        os.close(term.master)
        os.close(term.slave)
        assert term.proc.wait(timeout=60) == 128 + signal.SIGHUP
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
            term.proc.wait()


def test_the_demo_with_masked_numbers_in_a_real_terminal() -> None:
    """`callboard --mask-numbers`: the live demo, callers masked, q leaves cleanly."""
    term = Terminal(["--mask-numbers"])
    try:
        term.wait_for(lambda: "● live" in term.text() and "•••" in term.text())
        assert "+44207946" not in term.text().replace(" ", "")
        term.press(b"q")
        assert term.exit_code() == 0
        assert_restored(term)
    finally:
        term.close()
