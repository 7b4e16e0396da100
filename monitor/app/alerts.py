"""Alerts on the board: the rules of callboard.toml judged at the board's clock, told to people.

Each raised alert is a toast, a line in the Alerts panel (when it was raised and,
later, cleared), the terminal bell with `[alerts] bell = true`, and a desktop
notification with `desktop = true` through the terminal's own escape: OSC 777
(`notify`, rxvt/foot/WezTerm/Ghostty) and OSC 9 (iTerm2, Windows Terminal, kitty),
both sent, as each terminal ignores the one it does not know. Textual has no
public way to send an arbitrary escape, so it is written to the terminal the
driver draws on (the process's original stderr), in one write, only when that is a
terminal. The board judges with the same pure watch as the hub
(classifier/alerts.py); the hub, not the board, sends webhooks.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from rich.text import Text
from textual.notifications import SeverityLevel

from classifier.alerts import (
    AlertChange,
    AlertRule,
    AlertState,
    AlertWatch,
    available_by_queue,
    figures_of,
)
from monitor.app.widgets.lines import TextLines
from monitor.board import Board
from monitor.text.safe_text import clean

#: Alert lines the panel keeps (raised and cleared pairs), newest first.
PANEL_LINES = 50
#: Lines of the panel on screen.
PANEL_HEIGHT = 4


class Teller(Protocol):
    """What the board's alerts need of the app: a toast and the bell (Textual's App)."""

    def notify(
        self,
        message: str,
        *,
        title: str = ...,
        severity: SeverityLevel = ...,
        timeout: float | None = ...,
        markup: bool = ...,
    ) -> None:
        """A toast."""
        ...

    def bell(self) -> None:
        """The terminal bell."""
        ...


@dataclass(slots=True)
class AlertLine:
    """One alert in the panel: raised, and cleared once it is."""

    change: AlertChange
    cleared_at: datetime | None = None


def desktop_escape(title: str, body: str) -> str:
    """OSC 777 and OSC 9 notifications for `body`, made safe: no control characters."""
    safe_title = clean(title, limit=80).replace(";", ",")
    safe_body = clean(body, limit=200)
    return f"\x1b]777;notify;{safe_title};{safe_body.replace(';', ',')}\x07\x1b]9;{safe_body}\x07"


class BoardAlerts:
    """The rules' watch at the board's clock and the lines of the Alerts panel."""

    def __init__(
        self, rules: tuple[AlertRule, ...], *, bell: bool = False, desktop: bool = False
    ) -> None:
        self.watch = AlertWatch(rules)
        self.bell = bell
        self.desktop = desktop
        self.lines: deque[AlertLine] = deque(maxlen=PANEL_LINES)
        self._judged_at: datetime | None = None
        #: Desktop notifications written (for the status of the board and tests).
        self.desktop_sent = 0

    def judge(self, board: Board, now: datetime, teller: Teller) -> list[AlertChange]:
        """Judge the rules on the board's figures at `now` (at most once a second)."""
        if self._judged_at is not None and abs((now - self._judged_at).total_seconds()) < 1.0:
            return []
        self._judged_at = now
        _day, queues = board.kpis(now)
        # From the agents' day the panel shows, each queue its own agents.
        available = available_by_queue(board.agents, queues)
        figures = {queue: figures_of(kpis, available[queue]) for queue, kpis in queues.items()}
        changes = self.watch.observe(now, figures)
        for change in changes:
            self._tell(change, teller)
        return changes

    def _tell(self, change: AlertChange, teller: Teller) -> None:
        text = clean(change.text, limit=200)
        if change.state is AlertState.RAISED:
            self.lines.appendleft(AlertLine(change))
            teller.notify(text, title="Alert", severity="error", markup=False)
            if self.bell:
                teller.bell()
            if self.desktop:
                self._desktop("callboard alert", text)
            return
        for line in self.lines:
            if (
                line.cleared_at is None
                and line.change.rule == change.rule
                and line.change.queue == change.queue
            ):
                line.cleared_at = change.at
                break
        teller.notify(text, title="Cleared", severity="information", markup=False)

    def _desktop(self, title: str, body: str) -> None:
        stream = sys.__stderr__
        if stream is None or not stream.isatty():
            return
        try:
            os.write(stream.fileno(), desktop_escape(title, body).encode())
        except OSError:
            return
        self.desktop_sent += 1

    def panel_lines(self) -> list[Text]:
        """The panel's lines: `HH:MM:SS raised TEXT` and `cleared HH:MM:SS` when it has."""
        if not self.lines:
            return [Text("no alerts", style="dim")]
        out = []
        for line in self.lines:
            raised = line.change.at.strftime("%H:%M:%S")
            cleared = (
                f"  cleared {line.cleared_at.strftime('%H:%M:%S')}"
                if line.cleared_at is not None
                else "  !! holding"
            )
            out.append(
                Text(
                    f"{raised} raised  {clean(line.change.text, limit=120)}{cleared}", no_wrap=True
                )
            )
        return out


class AlertsPanel(TextLines):
    """The Alerts panel: raised alerts, newest first, with when each cleared."""

    DEFAULT_CSS = f"""
    AlertsPanel {{
        height: {PANEL_HEIGHT + 1};
        border-top: solid $warning;
        border-title-color: $warning;
    }}
    """

    def __init__(self, alerts: BoardAlerts) -> None:
        super().__init__(id="alerts")
        self.alerts = alerts
        self.border_title = "Alerts"

    def repaint(self) -> None:
        """Show the alert lines."""
        self.show(self.alerts.panel_lines()[:PANEL_HEIGHT])
