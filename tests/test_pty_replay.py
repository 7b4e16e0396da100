"""End to end in a real pseudo-terminal: `callboard replay`, read the screen, quit, check the tty.

The child gets a real pty of 80x24; pyte plays the terminal, so the test reads
the same screen a person would see. After quitting, the raw output must leave
the alternate screen, show the cursor and switch mouse reporting off, and the
tty must be back in the mode it started in (canonical, echoing).
"""

from __future__ import annotations

import os
import signal

import pytest

from tests.app_support import BOARD_LOG
from tests.cli_support import ROOT
from tests.pty_support import Terminal, assert_restored


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


@pytest.mark.slow
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
