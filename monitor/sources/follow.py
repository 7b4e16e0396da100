"""Following a growing log the way `tail -F` does, translating each new line.

A queue_log on a live Asterisk box is appended to line by line, rotated by
logrotate (renamed away and recreated: a new inode at the same path) or
truncated in place (``copytruncate``). The follower notices each by polling
`os.stat`: polling works on every file system and costs one system call per
interval, where inotify would need a dependency and still miss NFS.

A line is only translated once its newline has been written, so a writer
caught halfway through a line is never misread.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import timedelta, tzinfo
from pathlib import Path
from typing import BinaryIO

from classifier.schema import AgentStatus, CallEnded, Event
from monitor.reader import MAX_LINE, LineError, LineEvent
from monitor.sources.adapters import LineAdapter, adapter_for

#: Bytes read per step: a burst of lines is handed on in slices, not at once.
CHUNK = 256 * 1024

#: How long a rotated-away file is still read after its last new line: the
#: writer moves to the new file only when told to (logrotate's postrotate).
ROTATED_GRACE = 30.0

#: On catch-up, a call whose last line is this much older than the newest line
#: of the file is taken to have lost its end line (a crash, a cut log) and is
#: not put on the board.
STALE_AFTER = timedelta(hours=12)

ErrorSink = Callable[[LineError], None]


def _print_error(error: LineError) -> None:
    print(f"{error}", file=sys.stderr, flush=True)


class _Tail:
    """One open file at `path`, with the bytes of an unfinished last line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: BinaryIO | None = None
        self.identity: tuple[int, int] | None = None
        self.position = 0
        self.pending = b""
        self.line = 0
        #: Inside an over-long line, dropping bytes until its newline.
        self.skipping = False

    def open(self) -> bool:
        """Open the file now at `path` from its start; False while there is none."""
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - kept open while following
        except FileNotFoundError:
            return False
        self.close()
        stat = os.fstat(handle.fileno())
        self.file = handle
        self.identity = (stat.st_dev, stat.st_ino)
        self.position = 0
        self.pending = b""
        self.skipping = False
        self.line = 0
        return True

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def read(self, limit: int = CHUNK) -> list[tuple[int, bytes]]:
        """The complete lines written since the last read, numbered within the file."""
        assert self.file is not None
        if os.fstat(self.file.fileno()).st_size < self.position:
            # Truncated in place: whatever is there now was written from the start.
            self.file.seek(0)
            self.position = 0
            self.pending = b""
            self.skipping = False
            self.line = 0
        data = self.file.read(limit)
        if not data:
            return []
        self.position += len(data)
        text = self.pending + data
        if self.skipping:
            end = text.find(b"\n")
            if end < 0:
                self.pending = b""
                return []
            text = text[end + 1 :]
            self.skipping = False
        parts = text.split(b"\n")
        self.pending = parts.pop()
        lines = self._number(parts)
        if len(self.pending) > MAX_LINE:
            # Longer than any real line and still growing: hand on its head (the
            # adapter reports it as too long) and drop the rest up to its newline,
            # so one runaway writer cannot fill the memory.
            lines += self._number([self.pending[: MAX_LINE + 1]])
            self.pending = b""
            self.skipping = True
        return lines

    def flush(self) -> list[tuple[int, bytes]]:
        """The unfinished last line, as a line: its file is gone, nothing will end it."""
        rest, self.pending = self.pending, b""
        return self._number([rest]) if rest.strip() else []

    def _number(self, lines: list[bytes]) -> list[tuple[int, bytes]]:
        out = []
        for raw in lines:
            self.line += 1
            if raw.strip():
                out.append((self.line, raw.rstrip(b"\r")))
        return out

    def replaced(self) -> bool:
        """True when `path` now names another file (rotated: a new inode)."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return False
        return (stat.st_dev, stat.st_ino) != self.identity


def _translate(
    adapter: LineAdapter, source: str, lines: Iterable[tuple[int, bytes]], errors: ErrorSink
) -> list[Event]:
    events: list[Event] = []
    for number, raw in lines:
        for item in adapter.feed(source, number, raw):
            if isinstance(item, LineEvent):
                events.append(item.event)
            else:
                errors(item)
    return events


def _still_relevant(events: list[Event]) -> list[Event]:
    """Of a file's past events, those a board joining now needs.

    That is the latest presence of each agent and every event of the calls
    still open at the end of the file (minus calls gone stale).
    """
    presence: dict[str, AgentStatus] = {}
    calls: dict[str, list[Event]] = {}
    newest = None
    for event in events:
        newest = event.ts if newest is None else max(newest, event.ts)
        if isinstance(event, AgentStatus):
            presence[event.agent] = event
        elif isinstance(event, CallEnded):
            calls.pop(event.call_id, None)
        else:
            calls.setdefault(event.call_id, []).append(event)
    out: list[Event] = list(presence.values())
    for call_events in calls.values():
        if newest is None or newest - call_events[-1].ts <= STALE_AFTER:
            out.extend(call_events)
    return out


async def follow_source(
    path: str | Path,
    fmt: str,
    poll_interval: float = 0.2,
    *,
    from_start: bool = False,
    on_error: ErrorSink | None = None,
    tz: tzinfo | None = None,
) -> AsyncIterator[Event]:
    """Events of the lines appended to `path`, for ever, as `tail -F` would show them.

    `fmt` is one of `FORMATS` (Exotel records must then be one JSON object per
    line). By default the lines already in the file are read first but only
    what still matters is yielded (agents' latest presence, the calls still
    open), so a board joining mid-day sees the calls in progress and not the
    whole day again; `from_start=True` yields every event of the file, and so
    does a file that did not exist yet when following began. The
    follower survives rotation (a new file at `path`: read from its top, while
    the old one is still read until it has been quiet for `ROTATED_GRACE`
    seconds), truncation (read again from the start) and a missing file
    (waited for). Bad lines go to `on_error` (default: printed on stderr) and
    never stop the stream.
    """
    adapter = adapter_for(fmt, tz)
    errors = on_error or _print_error
    source = str(path)
    tail = _Tail(Path(path))
    # Files rotated away, still read for a while: logrotate creates the new file
    # before the writer is told to reopen, and the writer's last lines land in
    # the old one. Each entry: the file and when it last gave a line.
    rotated: list[tuple[_Tail, float]] = []
    clock = asyncio.get_running_loop().time
    try:
        existed = tail.open()
        if not existed:
            while not tail.open():
                await asyncio.sleep(poll_interval)
        # A file that appears while we wait is new: all of it is news.
        if existed and not from_start:
            history = await asyncio.to_thread(_read_all, tail, adapter, source, errors)
            for event in _still_relevant(history):
                yield event
        while True:
            still: list[tuple[_Tail, float]] = []
            for old, last in rotated:
                lines = old.read()
                if lines:
                    still.append((old, clock()))
                elif clock() - last > ROTATED_GRACE:
                    lines = old.flush()
                    old.close()
                else:
                    still.append((old, last))
                for event in _translate(adapter, source, lines, errors):
                    yield event
            rotated = still
            lines = tail.read()
            if lines:
                for event in _translate(adapter, source, lines, errors):
                    yield event
                continue
            if tail.replaced():
                # Rotated: read the new file from its top, and keep an eye on
                # the old one until its writer has moved over too.
                fresh = _Tail(Path(path))
                if fresh.open():
                    rotated.append((tail, clock()))
                    tail = fresh
                continue
            await asyncio.sleep(poll_interval)
    finally:
        tail.close()
        for old, _ in rotated:
            old.close()


def _read_all(tail: _Tail, adapter: LineAdapter, source: str, errors: ErrorSink) -> list[Event]:
    events: list[Event] = []
    while lines := tail.read():
        events.extend(_translate(adapter, source, lines, errors))
    return events


class FollowSource:
    """`follow_source` as a hub source: `async for` it, and read its counters.

    The hub shows `kind` and `name`; `problems` counts bad lines (each is also
    passed to `on_problem`, default: stderr); `events` counts what was yielded.
    A live tail has no resumable position: after a restart it catches up
    from the file as `follow_source` does.
    """

    kind = "follow"

    def __init__(
        self,
        path: str | Path,
        fmt: str,
        poll_interval: float = 0.2,
        *,
        from_start: bool = False,
        on_problem: Callable[[str], None] | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        self.path = Path(path)
        self.name = f"{fmt}:{path}"
        self.format = fmt
        self.poll_interval = poll_interval
        self.from_start = from_start
        self.tz = tz
        self.problems = 0
        self.events = 0
        self._on_problem = on_problem

    def _problem(self, error: LineError) -> None:
        self.problems += 1
        if self._on_problem is None:
            _print_error(error)
        else:
            self._on_problem(str(error))

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        async for event in follow_source(
            self.path,
            self.format,
            self.poll_interval,
            from_start=self.from_start,
            on_error=self._problem,
            tz=self.tz,
        ):
            self.events += 1
            yield event
