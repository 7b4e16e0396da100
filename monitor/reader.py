"""Reading JSON Lines logs (plain, gzip, or stdin) without loading them whole.

Each line is parsed on its own so that one broken line costs one message, not
the file: the reader yields either an event or a `LineError` naming the place.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from classifier.schema import Event, EventError, parse_event, validate_event_json

#: Longer lines are refused before parsing: no real event comes near this.
MAX_LINE = 64 * 1024

#: Lines of a file parsed together before their events are handed on (`read_events`).
BATCH_LINES = 256


@dataclass(frozen=True, slots=True)
class LineError:
    """A line that could not become an event."""

    source: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.problem}"


@dataclass(slots=True)
class LineEvent:
    source: str
    line: int
    event: Event


def open_log(path: str | Path) -> BinaryIO:
    """Open a log for binary reading: '-' is stdin, '.gz' (or gzip magic) is decompressed."""
    if str(path) == "-":
        return sys.stdin.buffer
    raw = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    if raw.peek(2)[:2] == b"\x1f\x8b":
        raw.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return raw


def read_lines(stream: BinaryIO, source: str) -> Iterator[tuple[int, bytes]]:
    """Numbered non-blank lines of a stream, line endings stripped."""
    for number, line in enumerate(stream, start=1):
        line = line.rstrip(b"\r\n")
        if line.strip():
            yield number, line


def parse_line(source: str, number: int, line: bytes) -> LineEvent | LineError:
    """One line to an event, or an error that names the place and the problem."""
    if len(line) > MAX_LINE:
        return LineError(source, number, f"line is {len(line)} bytes, over the {MAX_LINE} limit")
    try:
        return LineEvent(source, number, parse_event(line))
    except EventError as exc:
        return LineError(source, number, str(exc))


def _parse_lines(source: str, lines: list[tuple[int, bytes]]) -> list[LineEvent | LineError]:
    """Numbered raw lines (endings kept) to events or errors, in order."""
    items: list[LineEvent | LineError] = []
    append = items.append
    for number, line in lines:
        if len(line) <= MAX_LINE:
            try:
                event = validate_event_json(line)
            except ValueError:
                pass
            else:
                append(LineEvent(source, number, event))
                continue
        # The rare path (too long, or not an event) goes through parse_line, on the
        # line without its ending, so the message speaks of the line the user sees.
        append(parse_line(source, number, line.rstrip(b"\r\n")))
    return items


def read_events(path: str | Path) -> Iterator[LineEvent | LineError]:
    """Every line of a log as an event or an error, in file order.

    A file is parsed `BATCH_LINES` lines at a time (stdin line by line, so that a
    pipe's events are not held back): the validator runs over a batch, then the
    consumer over its events, each warm in the CPU's caches instead of taking turns
    at every line. The items and their order are the same either way.
    """
    source = "<stdin>" if str(path) == "-" else str(path)
    stream = open_log(path)
    batch = 1 if stream is sys.stdin.buffer else BATCH_LINES
    number = 0
    pending: list[tuple[int, bytes]] = []
    try:
        for number, line in enumerate(stream, start=1):
            if line.isspace() or not line:
                continue
            pending.append((number, line))
            if len(pending) >= batch:
                yield from _parse_lines(source, pending)
                pending = []
    except (OSError, EOFError) as exc:
        # A truncated gzip member or a read error ends the file, not the program; the
        # lines read before it still count.
        yield from _parse_lines(source, pending)
        yield LineError(source, number + 1, f"read error: {exc}")
    else:
        yield from _parse_lines(source, pending)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
