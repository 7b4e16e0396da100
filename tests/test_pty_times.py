"""`callboard watch` in a real pseudo-terminal against a real `callboard serve`: hostile times.

The issue: one event dated near 9999 published to a hub killed every watching
board about a second later (the board's clock overflowed), and the board exited
with status 0, so nothing watching the process noticed. Now the hub refuses the
event with a reason and the board draws on; and a board that does crash, for any
reason, exits non-zero.
"""

from __future__ import annotations

import json
import re
import sys
import time

import pytest
from websockets.sync.client import connect

from tests.hub_support import StartServe, free_port, make_calls
from tests.pty_support import Terminal, assert_restored

pytestmark = pytest.mark.slow

Y9999 = '{"type":"call.started","call_id":"y9999","ts":"9999-12-31T23:59:59+14:00"}'


def total_of(term: Terminal, call_id: str) -> str | None:
    """The 'total' cell of a call's row on the screen, if the row is there."""
    for line in term.screen.display:
        found = re.search(r"(\S+) +" + re.escape(call_id), line)
        if found:
            return found.group(1)
    return None


def test_watch_draws_on_when_a_9999_event_is_published_to_its_hub(serve: StartServe) -> None:
    hub = serve(["--port", str(free_port())])
    base = hub.url.removesuffix("/events")
    term = Terminal(["watch", base + "/events"], columns=120, lines=30)
    try:
        term.wait_for(lambda: "● live" in term.text())
        events = make_calls(1, start=int(time.time()) - 600)
        with connect(base + "/publish") as producer:
            for event in events[:2]:
                producer.send(event.to_json())
                assert json.loads(producer.recv(timeout=30))["frame"] == "ack"
            producer.send(Y9999)
            refused = json.loads(producer.recv(timeout=30))
        assert refused["code"] == "implausible_time", refused
        assert "9999-12-31T23:59:59+14:00" in refused["problem"]
        term.wait_for(lambda: total_of(term, "call-00000") is not None)
        first = total_of(term, "call-00000")
        # The clocks tick every second: a board that is still drawing shows a new total.
        term.wait_for(lambda: total_of(term, "call-00000") not in (None, first), timeout=30)
        assert "y9999" not in term.text()
        assert "Traceback" not in term.text()
        term.press(b"q")
        assert term.exit_code() == 0
        assert_restored(term)
    finally:
        term.close()
        hub.terminate()
    assert "implausible time: call.started at 9999-12-31T23:59:59+14:00" in hub.drain()


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
