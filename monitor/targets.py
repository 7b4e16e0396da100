"""A centre's targets per queue (callboard.toml `[queues]`), judged for the screen.

The board colours a figure that misses its target and marks it so that it reads
without colour too (`NO_COLOR`, monochrome terminals): `!` for a warning (amber),
`!!` for an alert (red), the marks the active-calls rows already use. Judged here:

* the longest wait: over `wait_warn_s` warns, over `wait_alert_s` alerts;
* the service level: below `sl_target_pct` alerts;
* the abandon rate: over `abandon_warn_pct` warns.

Labels and hidden queues come from the same tables.
"""

from __future__ import annotations

from functools import cache

from monitor.board import Level
from monitor.config.models import Config, QueueTargets

#: The mark beside a figure at each level (empty when it meets its target).
MARKS: dict[Level, str] = {Level.OK: "", Level.WARN: "!", Level.ALERT: "!!"}


class Targets:
    """Every queue's targets out of a config; a queue without a table has the `"*"` ones."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._for = cache(lambda queue: config.queue(queue if queue is not None else "*"))

    def of(self, queue: str | None) -> QueueTargets:
        """A queue's targets (None: the whole day's, the `"*"` table)."""
        targets: QueueTargets = self._for(queue)
        return targets

    def wait_level(self, wait: float, queue: str | None) -> Level:
        """OK, WARN past `wait_warn_s`, ALERT past `wait_alert_s`."""
        targets = self.of(queue)
        if wait > targets.wait_alert_s:
            return Level.ALERT
        if wait > targets.wait_warn_s:
            return Level.WARN
        return Level.OK

    def service_level(self, fraction: float | None, queue: str | None) -> Level:
        """ALERT when the service level (0..1) is below the queue's target; OK with none yet."""
        if fraction is None or fraction * 100 >= self.of(queue).sl_target_pct:
            return Level.OK
        return Level.ALERT

    def abandon_rate(self, fraction: float | None, queue: str | None) -> Level:
        """WARN when the abandon rate (0..1) is over the queue's warn level."""
        if fraction is None or fraction * 100 <= self.of(queue).abandon_warn_pct:
            return Level.OK
        return Level.WARN

    def label(self, queue: str) -> str:
        """The name the board shows for a queue."""
        return self.of(queue).label or queue

    def hidden(self, queue: str) -> bool:
        """Whether the board leaves the queue out."""
        return self.of(queue).hidden
