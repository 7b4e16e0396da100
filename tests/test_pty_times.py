"""The board in a real pseudo-terminal when something goes wrong: a crash exits non-zero.

The issue: one event dated near 9999 killed every watching board, and the board
exited with status 0, so nothing watching the process noticed.
"""

from __future__ import annotations

import sys

import pytest

from tests.test_pty_replay import Terminal, assert_restored

pytestmark = pytest.mark.slow


#: The real board (`run_board`, as every board command runs it) with a feed that makes
#: the app raise inside its own event loop a moment after it starts.
CRASHING_BOARD = """
import argparse, asyncio, sys
from monitor.app.launch import add_board_options, run_board

async def runner(sink):
    def crash():
        raise RuntimeError("the board crashed on purpose")
    sink.set_timer(0.5, crash)
    await asyncio.Event().wait()

parser = argparse.ArgumentParser()
add_board_options(parser)
sys.exit(run_board(runner, parser.parse_args([])))
"""


def test_a_board_that_crashes_exits_non_zero_and_restores_the_terminal() -> None:
    term = Terminal([], program=[sys.executable, "-c", CRASHING_BOARD])
    try:
        assert term.exit_code() == 1
        assert b"the board crashed on purpose" in bytes(term.raw)
        assert_restored(term)
    finally:
        term.close()
