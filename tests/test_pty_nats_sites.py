"""Sites on NATS, one board, as a user runs them (the issue's "Done when"): a real
nats-server, `callboard serve --simulate --nats ... --site` processes (north has a
second hub), and on real ptys (pyte as the screen) both boards a user can run:
`callboard watch nats://... --sites north,south` and
`callboard watch ws://N2,ws://N1#north ws://S#south`.

North's second hub is killed: the hubs' board goes on from north's first hub, the
NATS board never depended on it. nats-server is killed: both bars say so per site.
"""

from __future__ import annotations

import re
from functools import partial

import pytest

from tests.hub_support import StartServe
from tests.nats_support import NatsServer
from tests.pty_support import Terminal, assert_restored


def offered(text: str, row: str) -> int | None:
    """The 'offered' figure of a per-queue row (`north/*`), or None when it is not shown."""
    match = re.search(rf"^ {re.escape(row)}\s+(\d+)\s", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def both_sites_counted(text: str, at_least: int = 1) -> bool:
    """Both sites have `at_least` calls offered, and the header's total is their sum."""
    total = re.search(r"Today offered (\d+)", text)
    north, south = offered(text, "north/*"), offered(text, "south/*")
    if total is None or north is None or south is None or min(north, south) < at_least:
        return False
    return int(total.group(1)) == north + south


def counted(term: Terminal) -> bool:
    return both_sites_counted(term.text())


def wait_for_text(term: Terminal, text: str) -> None:
    term.wait_for(lambda: text in term.text())


@pytest.mark.slow
def test_two_sites_on_nats_on_two_boards_with_a_hub_and_then_nats_killed(
    nats_server: NatsServer, serve: StartServe
) -> None:
    nats = ["--nats", nats_server.url, "--port", "0"]
    demo = ["--simulate", "--preset", "demo"]
    north_1 = serve([*demo, "--seed", "1", "--site", "north", *nats])
    north_2 = serve(["--site", "north", *nats])
    south = serve([*demo, "--seed", "2", "--site", "south", *nats])
    on_nats = Terminal(["watch", nats_server.url, "--sites", "north,south"], columns=160, lines=50)
    on_hubs = Terminal(
        ["watch", f"{north_2.url},{north_1.url}#north", f"{south.url}#south"],
        columns=160,
        lines=50,
    )
    try:
        for term in (on_nats, on_hubs):
            wait_for_text(term, "● north live  ● south live")
            term.wait_for(partial(counted, term))
            assert re.search(r"^ north/\w+\s", term.text(), re.MULTILINE)

        # The hubs' board follows north's second hub; killed, it goes on from the first.
        north_2.kill()
        before = offered(on_hubs.text(), "north/*") or 0
        on_hubs.wait_for(lambda: (offered(on_hubs.text(), "north/*") or 0) > before + 1)
        assert "● north live" in on_hubs.text()
        assert "● north live  ● south live" in on_nats.text()

        nats_server.kill()
        for term in (on_nats, on_hubs):
            wait_for_text(term, "● north live; NATS disconnected")
            wait_for_text(term, "● south live; NATS disconnected")
        for term in (on_nats, on_hubs):
            term.press(b"q")
            assert term.exit_code() == 0
            assert_restored(term)
    finally:
        on_nats.close()
        on_hubs.close()
