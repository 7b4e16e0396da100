"""Reading JSON Lines logs (plain, gzip, or stdin) without loading them whole.

Each line is parsed on its own so that one broken line costs one message, not
the file: the reader yields either an event or a `LineError` naming the place.

Memory stays flat whatever the input: a line is read at most `MAX_LINE` (+ its
line end) bytes at a time, and a longer one is skipped in `SKIP_CHUNK` pieces,
counted but never held, so a 4 GiB line costs a message, not 4 GiB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

from typing_extensions import override

from classifier.schema import Event, EventError, parse_event, validate_event_json
from monitor.sources.log_stream import LogStream, open_log
from monitor.sources.progress import ReadProgress

#: Longer lines are refused before parsing: no real event comes near this.
MAX_LINE = 64 * 1024

#: What one read asks for: a line up to the limit with its line end ("\r\n").
#: Anything this long without a newline is over the limit and skipped.
READ_LIMIT = MAX_LINE + 2

#: Bytes read at a time while the rest of an over-long line is skipped.
SKIP_CHUNK = 1024 * 1024

#: Lines of a file parsed together before their events are handed on (`read_events`).
BATCH_LINES = 256


@dataclass(frozen=True, slots=True)
class LineError:
    """A line that could not become an event."""

    source: str
    line: int
    problem: str

    @override
    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.problem}"


@dataclass(slots=True)
class LineEvent:
    source: str
    line: int
    event: Event


def too_long(length: int) -> str:
    """The problem of a line of `length` bytes (line end not counted), over `MAX_LINE`."""
    return f"line is {length} bytes, over the {MAX_LINE // 1024} KiB limit"


def skip_rest(readline: Callable[[int], bytes], start: bytes) -> int:
    """Skip the rest of an over-long line that began with `start`; its whole length.

    The line is read `SKIP_CHUNK` bytes at a time and only counted, so memory stays
    flat however long it is. The length leaves out the line end, as for any line.
    """
    length = len(start)
    chunk = start
    before = b""  # the byte before the last chunk, for a "\r\n" split between two reads
    while not chunk.endswith(b"\n"):
        before = chunk[-1:]
        chunk = readline(SKIP_CHUNK)
        if not chunk:
            return length
        length += len(chunk)
    ending = (before + chunk[-2:])[-2:]
    return length - (2 if ending == b"\r\n" else 1)


def read_lines(
    stream: BinaryIO | LogStream, source: str
) -> Iterator[tuple[int, bytes] | LineError]:
    """Numbered non-blank lines of a stream, line endings stripped; a `LineError` for a
    line over `MAX_LINE`, which is skipped without being held."""
    readline = stream.readline
    for number, line in enumerate(iter(partial(readline, READ_LIMIT), b""), start=1):
        if len(line) >= READ_LIMIT and not line.endswith(b"\n"):
            yield LineError(source, number, too_long(skip_rest(readline, line)))
            continue
        line = line.rstrip(b"\r\n")
        if line.strip():
            yield number, line


def parse_line(source: str, number: int, line: bytes) -> LineEvent | LineError:
    """One line to an event, or an error that names the place and the problem."""
    if len(line) > MAX_LINE:
        return LineError(source, number, too_long(len(line)))
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


def read_events(
    path: str | Path, progress: ReadProgress | None = None
) -> Iterator[LineEvent | LineError]:
    """Every line of a log as an event or an error, in file order.

    A file is parsed `BATCH_LINES` lines at a time (stdin line by line, so that a
    pipe's events are not held back): the validator runs over a batch, then the
    consumer over its events, each warm in the CPU's caches instead of taking turns
    at every line. The items and their order are the same either way. A line over
    `MAX_LINE` is skipped as it is read (see `skip_rest`). `progress` hears how far
    the read got (see `open_log`).
    """
    stdin = str(path) == "-"
    source = "<stdin>" if stdin else str(path)
    stream = open_log(path, progress)
    batch = 1 if stdin else BATCH_LINES
    number = 0
    pending: list[tuple[int, bytes]] = []
    readline = stream.readline
    try:
        for number, line in enumerate(iter(partial(readline, READ_LIMIT), b""), start=1):
            if len(line) >= READ_LIMIT and not line.endswith(b"\n"):
                # Over the limit: what came before it goes first, to keep file order.
                yield from _parse_lines(source, pending)
                pending = []
                yield LineError(source, number, too_long(skip_rest(readline, line)))
                continue
            if line.isspace():
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
        if not stdin:
            stream.close()
