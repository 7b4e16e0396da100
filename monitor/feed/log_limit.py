"""A log line that cannot flood the log: at most one per interval, the rest counted.

A producer stuck sending the same bad event hundreds of times a second must not
fill the hub's disk or drown every other line of its log. The first occurrence is
logged at once; later ones within the interval are only counted, and the next line
logged says how many were left out. `flush` logs the count of a burst that no later
line reported (the hub calls it every interval and when it stops), so no refusal goes
unmentioned in the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class LimitedLog:
    """Warnings of one kind, at most one every `every_s` seconds."""

    def __init__(
        self,
        logger: logging.Logger,
        every_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.every_s = every_s
        self._clock = clock
        self._last = -float("inf")
        #: Messages left out since the last one logged.
        self.suppressed = 0

    def warning(self, message: str) -> bool:
        """Log `message` unless one was logged less than `every_s` ago; True if logged."""
        now = self._clock()
        if now - self._last < self.every_s:
            self.suppressed += 1
            return False
        self._last = now
        if self.suppressed:
            message = f"{message} ({self.suppressed} more like it not logged)"
            self.suppressed = 0
        self.logger.warning("%s", message)
        return True

    def flush(self, what: str) -> bool:
        """Log how many `what` were left out since the last line, if any; True if logged."""
        if not self.suppressed:
            return False
        self.logger.warning("%d more %s not logged since the last such line", self.suppressed, what)
        self.suppressed = 0
        self._last = self._clock()
        return True
