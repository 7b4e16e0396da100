"""One log line per interval for connection floods, instead of a traceback per connection.

When a hub runs out of file descriptors (an idle-TCP flood, a thousand wallboards
at a low `ulimit -n`), asyncio's accept loop logs `socket.accept() out of system
resource` with a traceback for every attempt, and websockets logs `opening
handshake failed` with a traceback for every connection it could not set up:
measured, 26,764 tracebacks (10.8 MB of log) in 12 s from 200 idle sockets against
a hub limited to 64 descriptors. The log then hides everything else and fills the
disk.

(asyncio retries accepting a second after each failure, so one waiting connection
can fail many times: the counts are of attempts, not of distinct peers.)

`ConnectionFailures` is a `logging.Filter` put on the `asyncio` and
`websockets.server` loggers (their public names; no private API). It lets every
other record through, and turns these into counts by reason: the first failure
of a quiet spell is logged at once as one line, the rest are summed and
`report()` (called by the hub every interval, and when it stops) logs

    refused or failed 5217 connection attempts in the last 10 s: [Errno 24] Too many open files

Each failure also counts in the hub's `connection_errors` counter (`/health`).
"""

from __future__ import annotations

import logging
import time
from collections import Counter

from typing_extensions import override

#: The loggers whose per-connection records are collapsed.
WATCHED_LOGGERS = ("asyncio", "websockets.server")

#: How asyncio's accept loop begins its messages when accepting fails.
_ASYNCIO_MESSAGES = (
    "socket.accept() out of system resource",
    "Error on transport creation for incoming connection",
)

#: asyncio retries a failed accept() a second later, once per failure; those retries
#: that come due after the hub closed its socket fail in turn, each with a traceback.
_ACCEPT_RETRY = "_start_serving"
_ACCEPT_RETRY_REASON = "accept() retried after the listening socket closed"

#: What websockets logs, with a traceback, when it cannot set up one connection.
_WEBSOCKETS_MESSAGES = (
    "opening handshake failed",
    "process_request failed",
    "process_response failed",
)


def failure_reason(record: logging.LogRecord) -> str | None:
    """Why a connection failed, if `record` is one of the per-connection failures; else None."""
    if record.name == "asyncio":
        message = str(record.msg)
        if message.startswith("Exception in callback") and _ACCEPT_RETRY in message:
            return _ACCEPT_RETRY_REASON
        if not message.startswith(_ASYNCIO_MESSAGES):
            return None
    elif record.name.startswith("websockets"):
        if record.msg not in _WEBSOCKETS_MESSAGES:
            return None
    else:
        return None
    exc = record.exc_info[1] if record.exc_info else None
    if exc is None:
        return str(record.msg).splitlines()[0]
    return str(exc) or type(exc).__name__


class ConnectionFailures(logging.Filter):
    """Counts per-connection failure records by reason and reports them once per interval."""

    def __init__(self, log: logging.Logger, interval: float, counters: Counter[str]) -> None:
        super().__init__()
        self.log = log
        self.interval = interval
        self.counters = counters
        self.pending: Counter[str] = Counter()
        self.total = 0
        self._since = time.monotonic()
        self._quiet = True

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        """False (drop the record) for a connection failure, which is counted instead."""
        reason = failure_reason(record)
        if reason is None:
            return True
        self.total += 1
        self.counters["connection_errors"] += 1
        if self._quiet:
            # The first of a spell is news: say it now, in one line.
            self._quiet = False
            self._since = time.monotonic()
            self.log.warning(
                "a connection failed: %s (further failures are counted and reported every %g s)",
                reason,
                self.interval,
            )
        else:
            self.pending[reason] += 1
        return False

    def report(self) -> None:
        """Log what was counted since the last report; a report with nothing ends the spell."""
        now = time.monotonic()
        if not self.pending:
            self._quiet = True
            self._since = now
            return
        count = sum(self.pending.values())
        reasons = "; ".join(f"{reason} ({n})" for reason, n in self.pending.most_common(3))
        if len(self.pending) == 1:
            reasons = next(iter(self.pending))
        self.log.warning(
            "refused or failed %d connection attempts in the last %.0f s: %s",
            count,
            now - self._since,
            reasons,
        )
        self.pending.clear()
        self._since = now

    def install(self) -> None:
        """Start filtering the watched loggers."""
        for name in WATCHED_LOGGERS:
            logging.getLogger(name).addFilter(self)

    def remove(self) -> None:
        """Stop filtering (reporting anything still counted first)."""
        self.report()
        for name in WATCHED_LOGGERS:
            logging.getLogger(name).removeFilter(self)
