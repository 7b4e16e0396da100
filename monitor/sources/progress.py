"""Saying on stderr how far a long read has got, so that whoever waits sees it is alive.

A log of ordinary size is read in seconds and says nothing: CI logs and scripts see
no progress lines. A read still going after `FIRST_AFTER` seconds (a huge file, a
runaway line being skipped, gigabytes of blank lines in a small .gz) says how far it
got, then again every `EVERY_TTY` seconds when stderr is a terminal, or every
`EVERY_OTHER` seconds when it is not (a supervisor's log file gets a line a minute).
The reader calls `advance` once per buffer it reads (64 KiB), never per line.
`Cadence` is that timing alone, for other long jobs that report the same way (a
hub rebuilding a site from its NATS stream, `monitor.feed.nats_link`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

#: Seconds of reading before the first progress line.
FIRST_AFTER = 10.0
#: Seconds between progress lines after the first: on a terminal, and otherwise.
EVERY_TTY = 10.0
EVERY_OTHER = 60.0


class Cadence:
    """When a long job's next progress line is due: `first_after` seconds after it
    began, then every `every` seconds (by default by `tty`: EVERY_TTY or EVERY_OTHER)."""

    def __init__(
        self,
        tty: bool,
        first_after: float = FIRST_AFTER,
        every: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.every = every if every is not None else EVERY_TTY if tty else EVERY_OTHER
        self.clock = clock
        self.start = clock()
        self._next = self.start + first_after

    def due(self) -> float | None:
        """The time now if a line is due (the next one is then counted from now), else None."""
        now = self.clock()
        if now < self._next:
            return None
        self._next = now + self.every
        return now


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


class ReadProgress:
    """Bytes and lines read from one log, reported on `out` when the read runs long."""

    def __init__(
        self,
        command: str,
        source: str,
        out: TextIO,
        problems: Callable[[], int] = lambda: 0,
        first_after: float = FIRST_AFTER,
        every: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`problems` counts the problems reported so far; `every` defaults by `out`
        being a terminal or not; `clock` is the time in seconds (monotonic)."""
        self.command = command
        self.source = source
        self.bytes = 0
        self.lines = 0
        self._out = out
        self._problems = problems
        self._cadence = Cadence(out.isatty(), first_after, every, clock)
        self._size: int | None = None
        self._position: Callable[[], int] | None = None

    def whole(self, size: int, position: Callable[[], int]) -> None:
        """The file's size on disk and how to ask how far into it the read is (for a %)."""
        self._size = size
        self._position = position

    def advance(self, count: int, newlines: int) -> None:
        """`count` more bytes read, holding `newlines` line ends; report if it is time."""
        self.bytes += count
        self.lines += newlines
        now = self._cadence.due()
        if now is not None:
            self._out.write(self.report(now) + "\n")
            self._out.flush()

    def report(self, now: float) -> str:
        """The progress line: what, for how long, how far, and the problems so far."""
        done = f"{_size(self.bytes)} read ({self.lines:,} lines)"
        if self._size and self._position is not None:
            # Never 100% while reading: a gzip's file is read ahead of its lines.
            share = min(99, self._position() * 100 // self._size)
            done += f", {share}% of the file"
        problems = self._problems()
        return (
            f"{self.command}: still reading {self.source} after {now - self._cadence.start:.0f} s: "
            f"{done}, {problems} problem{'' if problems == 1 else 's'} so far"
        )
