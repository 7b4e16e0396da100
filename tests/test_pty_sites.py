"""Two sites, one board, as a user runs them: two `callboard serve --simulate --site`
processes and `callboard watch URL URL` on a real pty (pyte as the screen).

The board shows each site's row above its queues and the header's total; when one hub
is stopped, the connection bar says which and the other keeps the board live.
"""

from __future__ import annotations

import re
import signal
import subprocess

import pytest

from tests.cli_support import start_callboard
from tests.hub_support import free_port
from tests.pty_support import Terminal, assert_restored


def offered(text: str, row: str) -> int | None:
    """The 'offered' figure of a per-queue row (`north/*`), or None when it is not shown."""
    match = re.search(rf"^ {re.escape(row)}\s+(\d+)\s", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def sites_add_up(text: str) -> bool:
    """Both sites have calls, and the header's offered is the sum of the sites' rows."""
    total = re.search(r"Today offered (\d+)", text)
    north, south = offered(text, "north/*"), offered(text, "south/*")
    if total is None or not north or not south:
        return False
    return int(total.group(1)) == north + south


@pytest.mark.slow
def test_two_simulated_sites_on_one_board_and_one_hub_stopped() -> None:
    ports = {"north": free_port(), "south": free_port()}
    hubs = [
        start_callboard(
            "serve",
            "--simulate",
            "--preset",
            "demo",
            "--seed",
            str(n + 1),
            "--site",
            site,
            "--port",
            str(port),
            stderr=subprocess.DEVNULL,
        )
        for n, (site, port) in enumerate(ports.items())
    ]
    term = Terminal(
        ["watch", *(f"ws://127.0.0.1:{port}" for port in ports.values())],
        columns=160,
        lines=50,
    )
    try:
        term.wait_for(lambda: "● north live" in term.text() and "● south live" in term.text())
        # The header is the total of the sites' rows (read from one screen; waited for,
        # as a frame may arrive in pieces).
        term.wait_for(lambda: sites_add_up(term.text()))
        assert re.search(r"^ north/sales\s", term.text(), re.MULTILINE)
        # Calls in progress carry their site in their id (the demo always has some).
        term.wait_for(lambda: re.search(r"(north|south)/sim-\d+", term.text()) is not None)

        hubs[1].send_signal(signal.SIGTERM)
        hubs[1].wait(30)
        term.wait_for(lambda: "◌ south reconnecting" in term.text())
        assert "● north live" in term.text()
        term.press(b"q")
        assert term.exit_code() == 0
        assert_restored(term)
    finally:
        term.close()
        for hub in hubs:
            if hub.poll() is None:
                hub.send_signal(signal.SIGTERM)
                hub.wait(30)
