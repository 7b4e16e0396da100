"""The hub judges the alert rules once for the whole site and sends the webhooks.

One alert leaves once per site however many boards watch, so the hub, not a board,
sends it: after each event it applies, the hub hands the result here. The clock is
the events' time, so a replay judges as a live run would; the rules are judged at
most once per second of event time, as a judgement costs a pass over the calls in
progress (a busy hub ends many calls a second). The 'now' figures come from the
calls in progress (the hub's tracker), the day's from a `DayState`:

* **The hub's own day** (`Hub.day`) when it counts as the rules need: its
  service-level settings are the rules' (`KpiSettings` out of the config's
  `[queues]`). `serve --config` gives the hub's day the file's thresholds
  (`HubConfig.settings`), so there they always agree: one count, the same day
  boundary (`[day]`, `--timezone`), the same figures the boards show.
* **A day of its own** otherwise (a hub built with other settings than its rules',
  or a day restored from a checkpoint written under other thresholds), fed the
  same verdicts on the hub's clock: a rule asking for a 10 s service level must not
  be judged on a 20 s one.

**A restart.** Events the hub re-applies from its journal at start are judged too
(`after(..., send=False)`), in order, on their own times, as they were live: the
day's figures count them (shared or own day alike) and the watch ends where it
was before the restart, so an alert raised before it is known as raised, **not
sent again**, and its clear is sent when the condition stops. Nothing is sent
while recovering: the receiver got (or was being sent) those changes by the hub
that judged them live. Which is the price: a body still queued when the old hub
died (a receiver down, a crash within the send) is not sent by the new one; a
raise is never sent twice and a clear never lost once judged live. A checkpoint
(written as a new day begins) holds the watch and the own day beside the hub's,
so a restart that starts from one judges on from the same state.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from classifier.agents import AgentsDay
from classifier.alerts import (
    AlertChange,
    AlertRule,
    AlertState,
    AlertWatch,
    Metric,
    available_by_queue,
    figures_of,
)
from classifier.day import DayState
from classifier.kpi import KpiSettings, waiting_now
from classifier.tracker import Applied, CallTracker
from monitor.feed.webhook import WebhookSender

log = logging.getLogger("callboard.alerts")

#: Seconds of event time between two judgements when no call ended in between.
JUDGE_EVERY_S = 1.0


class HubAlerts:
    """The rules' watch, the day it judges (the hub's, or its own) and the webhook
    (None: alerts only logged)."""

    def __init__(
        self,
        rules: tuple[AlertRule, ...],
        settings: KpiSettings | None = None,
        webhook: WebhookSender | None = None,
    ) -> None:
        self.watch = AlertWatch(rules)
        self.settings = settings or KpiSettings()
        #: The day counted here when the hub's counts with other settings (see above).
        self.own_day: DayState | None = None
        self.webhook = webhook
        self._judged_at: datetime | None = None
        self.raised = 0
        self.cleared = 0
        #: Changes judged while the hub re-applied its journal (not sent).
        self.recovered = 0

    def day_of(self, hub_day: DayState) -> DayState:
        """The day the rules are judged on: the hub's when its settings are the rules'."""
        if hub_day.settings == self.settings:
            return hub_day
        if self.own_day is None or self.own_day.clock != hub_day.clock:
            self.own_day = DayState(self.settings, hub_day.clock)
        return self.own_day

    def after(
        self,
        applied: Applied,
        tracker: CallTracker,
        at: datetime,
        hub_day: DayState,
        agents: AgentsDay,
        *,
        send: bool = True,
    ) -> list[AlertChange]:
        """Judge the rules after one applied event at event time `at`; the changes.

        `hub_day` has counted the event already. `send` False: an event re-applied
        from the journal at start, judged to restore the watch, nothing sent.
        """
        day = self.day_of(hub_day)
        if day is not hub_day and applied.verdict is not None:
            day.add(applied.verdict)
        last = self._judged_at
        if last is not None and (at - last).total_seconds() < JUDGE_EVERY_S:
            return []
        if last is not None and at < last:
            at = last  # an event out of order does not move the judging clock back
        self._judged_at = at
        _day, queues = day.figures(*waiting_now(tracker, at))
        # The hub's agents' day (what the boards' agents panels show), each queue its own.
        available = available_by_queue(agents, queues)
        figures = {queue: figures_of(kpis, available[queue]) for queue, kpis in queues.items()}
        changes = self.watch.observe(at, figures)
        for change in changes:
            if send:
                self._send(change)
            else:
                self.recovered += 1
                log.info("alert state recovered from the journal: %s", change.text)
        return changes

    def _send(self, change: AlertChange) -> None:
        if change.state is AlertState.RAISED:
            self.raised += 1
        else:
            self.cleared += 1
        log.warning("alert %s", change.text)
        if self.webhook is not None:
            self.webhook.offer(change.record())

    def to_dict(self) -> dict[str, Any]:
        """The watch, the judging clock and the own day, for the hub's checkpoint."""
        return {
            "watch": self.watch.to_dict(),
            "judged_at": None if self._judged_at is None else self._judged_at.isoformat(),
            "own_day": None if self.own_day is None else self.own_day.to_dict(),
        }

    def load_dict(self, data: Any) -> None:
        """Take what `to_dict` gave (a checkpoint's); ValueError when it is not that."""
        if not isinstance(data, dict):
            raise ValueError("the alerts' state is not an object")
        self.watch.load(data.get("watch", []))
        judged = data.get("judged_at")
        self._judged_at = None if judged is None else datetime.fromisoformat(str(judged))
        own = data.get("own_day")
        self.own_day = None if own is None else DayState.from_dict(own)

    def stats(self) -> dict[str, object]:
        """What /health shows under `alerts`."""
        return {
            "rules": len(self.watch.rules),
            "raised": self.raised,
            "cleared": self.cleared,
            "holding": len(self.watch.raised()),
            "recovered": self.recovered,
            "webhook": None if self.webhook is None else self.webhook.stats(),
        }


__all__ = ["HubAlerts", "Metric"]
