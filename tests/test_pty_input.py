"""The board reads keys without polling (monitor.app.input_driver), on a real terminal.

The reader waits for input for as long as the key parser has nothing to time
out. A lone Esc is the case that needs the timeout: it looks like the start of
an escape sequence until nothing follows it, so it reaches the board only if
the reader wakes when the parser's wait is over.
"""

from __future__ import annotations

from textual._xterm_parser import XTermParser

from monitor.app.input_driver import QuietLinuxDriver
from tests.test_pty_replay import assert_restored, start_board


def test_the_reader_waits_for_keys_unless_the_parser_has_something_to_time_out() -> None:
    parser = XTermParser()
    assert QuietLinuxDriver._wait_s(QuietLinuxDriver.__new__(QuietLinuxDriver), parser) is None
    list(parser.feed("\x1b"))  # a lone Esc, or the start of a sequence?
    wait = QuietLinuxDriver._wait_s(QuietLinuxDriver.__new__(QuietLinuxDriver), parser)
    assert wait is not None and 0 <= wait <= 1


def test_keys_and_a_lone_escape_reach_the_board_then_q_leaves() -> None:
    term = start_board()
    try:
        term.press(b"/")
        term.wait_for(lambda: "Search caller" in term.text())
        term.press(b"\x1b")  # Esc alone: cancels the search
        term.wait_for(lambda: "Search caller" not in term.text())
        term.press(b"/")
        term.wait_for(lambda: "Search caller" in term.text())
        term.press(b"0117\r")
        term.wait_for(lambda: "filter:" in term.text())  # the bar is cut at 80 columns
        term.press(b"q")
        assert term.exit_code() == 0
        assert_restored(term)
    finally:
        term.close()
