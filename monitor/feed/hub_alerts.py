"""The hub judges the alert rules once for the whole site and sends the webhooks.

One alert leaves once per site however many boards watch, so the hub, not a board,
sends it: after each event it applies, the hub hands the result here. The day's
figures are counted from verdicts as calls end (`DayState`, as the board counts
them) and the 'now' figures from the calls in progress; `classifier.alerts` judges
them. The clock is the events' time, so a replay judges as a live run would; the
rules are judged at most once per second of event time, as a judgement costs a pass
over the calls in progress (a busy hub ends many calls a second).
"""

from __future__ import annotations

import logging
from datetime import datetime

from classifier.alerts import AlertChange, AlertRule, AlertWatch, Metric, figures_of
from classifier.day import DayState
from classifier.kpi import KpiSettings, waiting_now
from classifier.schema import PresenceStatus
from classifier.tracker import Applied, CallTracker
from monitor.feed.webhook import WebhookSender

log = logging.getLogger("callboard.alerts")

#: Seconds of event time between two judgements when no call ended in between.
JUDGE_EVERY_S = 1.0


class HubAlerts:
    """The rules' watch, the day's tally and the webhook (None: alerts only logged)."""

    def __init__(
        self,
        rules: tuple[AlertRule, ...],
        settings: KpiSettings | None = None,
        webhook: WebhookSender | None = None,
    ) -> None:
        self.watch = AlertWatch(rules)
        self.day = DayState(settings)
        self.webhook = webhook
        self._judged_at: datetime | None = None
        self.raised = 0
        self.cleared = 0

    def after(self, applied: Applied, tracker: CallTracker, at: datetime) -> list[AlertChange]:
        """Judge the rules after one applied event at event time `at`; the changes sent."""
        if applied.verdict is not None:
            self.day.add(applied.verdict)
        last = self._judged_at
        if last is not None and (at - last).total_seconds() < JUDGE_EVERY_S:
            return []
        if last is not None and at < last:
            at = last  # an event out of order does not move the judging clock back
        self._judged_at = at
        _day, queues = self.day.figures(*waiting_now(tracker, at))
        available = sum(
            1 for status in tracker.presence.values() if status.status is PresenceStatus.AVAILABLE
        )
        figures = {queue: figures_of(kpis, available) for queue, kpis in queues.items()}
        changes = self.watch.observe(at, figures)
        for change in changes:
            self._send(change)
        return changes

    def _send(self, change: AlertChange) -> None:
        if change.state.value == "raised":
            self.raised += 1
        else:
            self.cleared += 1
        log.warning("alert %s", change.text)
        if self.webhook is not None:
            self.webhook.offer(change.record())

    def stats(self) -> dict[str, object]:
        """What /health shows under `alerts`."""
        return {
            "rules": len(self.watch.rules),
            "raised": self.raised,
            "cleared": self.cleared,
            "holding": len(self.watch.raised()),
            "webhook": None if self.webhook is None else self.webhook.stats(),
        }


__all__ = ["HubAlerts", "Metric"]
