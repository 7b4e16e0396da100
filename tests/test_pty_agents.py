"""The agents panel in a real terminal, on the real Asterisk queue_log.

`callboard replay` of shared/realdata/asterisk/voipreports1-queue_log on an 80x24 pty
with NO_COLOR (the marks and words must carry the meaning alone) and masked numbers:
`a` shows tab 6 with the log's agents in the states where it ends (worked out from
the raw lines in tests/test_agents_day.py), Enter opens an agent's day, q quits and
leaves the terminal as it was.
"""

from __future__ import annotations

import pytest

from tests.cli_support import REAL_QUEUE_LOG, ROOT
from tests.pty_support import Terminal, assert_restored

#: Where the log ends: agent -> state.
END_STATES = {
    "1127": "on a call",
    "1109": "on a call",
    "1141": "available",
    "1126": "available",
    "1128": "offline",
    "1144": "offline",
}


def agent_rows(text: str) -> dict[str, str]:
    rows = {}
    for line in text.splitlines():
        cells = line.strip("│ ").split()
        if cells and cells[0] in END_STATES:
            rows[cells[0]] = line
    return rows


@pytest.mark.slow
def test_real_queue_log_agents_in_a_real_terminal() -> None:
    log = (
        str(REAL_QUEUE_LOG.relative_to(ROOT))
        if REAL_QUEUE_LOG.is_relative_to(ROOT)
        else str(REAL_QUEUE_LOG)
    )
    term = Terminal(
        ["replay", "--from", "asterisk-queue-log", "--speed", "0", "--mask-numbers", log],
        env={"NO_COLOR": "1"},
    )
    try:
        term.wait_for(lambda: "replay finished" in term.text())
        term.press(b"a")
        term.wait_for(lambda: len(agent_rows(term.text())) == len(END_STATES))
        rows = agent_rows(term.text())
        for agent, state in END_STATES.items():
            assert state in rows[agent], rows[agent]
        text = term.text()
        assert "▸6 Agents" in text and "6 Agents 6" in text
        assert "14155500022" not in text  # 1127's caller, masked
        # Enter on the first row (by state: the two on a call come first) opens the day.
        term.press(b"\r")
        # Its calls offered, each with the queue. Waited for, not read at once: the
        # screen arrives in pieces, and the day's first lines (since the day turned at
        # midnight) are a logout and a login.
        term.wait_for(lambda: ": the day" in term.text() and "in queue IT:" in term.text())
        term.press(b"\x1b")
        term.wait_for(lambda: ": the day" not in term.text())
        term.press(b"q")
        assert term.exit_code() == 0
        assert_restored(term)
    finally:
        term.close()
