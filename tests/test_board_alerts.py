"""Alerts on the board: a toast and an Alerts panel line when raised, the time it cleared.

The real app on the board fixture log, its clock moved by the test, with the
rules of a real config file; the desktop notification's escape is checked for what
a hostile rule or queue name could slip into the terminal.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from classifier.schema import parse_event
from monitor.app.alerts import BoardAlerts, desktop_escape
from monitor.app.app import CallboardApp
from monitor.app.feed import fixture_runner
from monitor.config.load import read_config
from tests.app_support import BOARD_LOG, BOARD_NOW, log_events, screen_text, until

CONFIG = """\
[alerts]
bell = true

[[alerts.rules]]
name = "billing wait"
metric = "longest_wait_s"
above = 120
queue = "billing"
"""


async def test_a_rule_raises_a_toast_and_a_panel_line_and_clears(tmp_path: Path) -> None:
    path = tmp_path / "callboard.toml"
    path.write_text(CONFIG)
    config = read_config(path)
    alerts = BoardAlerts(config.alerts.alert_rules(), bell=config.alerts.bell)
    # c17 waits in billing from 09:26:30: 90 s at 09:28:00, 210 s at 09:30:00.
    clock = [BOARD_NOW - timedelta(minutes=2)]
    app = CallboardApp(
        fixture_runner(log_events(BOARD_LOG), source="board.jsonl"),
        clock=lambda: clock[0],
        alerts=alerts,
    )
    # Textual's test harness shows no toasts unless asked to.
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await until(pilot, lambda: "c17" in screen_text(app))
        assert "no alerts" in screen_text(app)
        assert not alerts.lines
        clock[0] = BOARD_NOW
        app.repaint()
        await until(pilot, lambda: "raised" in screen_text(app))
        text = screen_text(app)
        line = "09:30:00 raised  billing wait: queue billing longest wait 210 s is above 120 s"
        assert line + "  !! holding" in text
        # The toast says it too (Textual draws notifications on the screen).
        # The toast (drawn at the right, its edge a ▌), titled Alert.
        await until(
            pilot, lambda: "▌ billing wait: queue billing longest wait 210 s" in screen_text(app)
        )
        assert "▌ Alert" in screen_text(app)
        # No repeat while it holds.
        clock[0] = BOARD_NOW + timedelta(seconds=5)
        app.repaint()
        await pilot.pause()
        assert len(alerts.lines) == 1
        # Answered: billing has nobody waiting, the alert clears once.
        app.feed_event(
            parse_event(
                '{"type": "agent.answered", "call_id": "c17", '
                '"ts": "2026-11-23T09:30:06Z", "agent": "Ana"}'
            )
        )
        clock[0] = BOARD_NOW + timedelta(seconds=7)
        app.repaint()
        await until(pilot, lambda: "cleared 09:30:07" in screen_text(app))
        await until(pilot, lambda: "▌ cleared billing wait: queue billing" in screen_text(app))
        assert line + "  cleared 09:30:07" in screen_text(app)
        assert len(alerts.lines) == 1


def test_the_desktop_escape_carries_no_control_characters_of_the_feed() -> None:
    sent = desktop_escape("callboard alert", "queue \x1b]52;c;evil\x07 waits;long\n")
    # Exactly two OSC sequences (777 and 9), each ended by its own BEL.
    assert sent.count("\x1b") == 2 and sent.count("\x07") == 2
    assert sent.startswith("\x1b]777;notify;callboard alert;")
    assert "\n" not in sent
    # In OSC 777 a ';' would start a new field: the body's are commas there.
    assert sent.split("\x07")[0].count(";") == 3
