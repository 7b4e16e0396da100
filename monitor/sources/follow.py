"""Following a growing log the way `tail -F` does, translating each new line.

A queue_log on a live Asterisk box is appended to line by line, rotated by
logrotate (renamed away and recreated: a new inode at the same path) or
truncated in place (``copytruncate``). The follower notices each by polling
`os.stat`: polling works on every file system and costs one system call per
interval, where inotify would need a dependency and still miss NFS.

Size alone does not tell a truncation: a ``copytruncate`` followed by writes
that take the file past its old size within one poll leaves it bigger than the
offset read so far. So each poll also checks that the bytes already read are
still there: the file's first bytes (up to `HEAD`) and the `TAIL_CHECK` bytes
just before the offset. Two preads per poll; a file whose bytes there changed
is read again from its start.

A line is only translated once its newline has been written, so a writer
caught halfway through a line is never misread.

Resuming after a restart (`FollowSource.resume_from`): each event's `position`
names, for every file being read, its inode, a digest of its first bytes, the
offset just past the last line handed on and that line's number, plus which
file and which event of its last line the event is. A journaled hub keeps the
position of the last event it accepted; restarted, the follower finds each
file again (at the path, or renamed beside it by logrotate: same inode, same
first bytes), reads it *up to* that offset through the adapter without handing
anything on, and goes on from there. Re-reading rather than journaling the
adapter's state: a vendor adapter's memory (which queue visit a callid is,
queue memberships, a DID waiting for its ENTERQUEUE) is a function of the
lines before the offset, so feeding them again rebuilds it exactly, keeps the
journal's records small, and needs no adapter to know how to save itself.
Lines after the last accepted event (lines with no event, such as a DID or a
comment, bad lines, and lines whose events the hub refused) are read again
after a restart: they hand on nothing twice, a DID is remembered again, and a
bad line among them is reported again. A file that is gone, or was truncated
or replaced while the hub was down, cannot be resumed: that is reported, and
the file now at the path is read from its start.
"""

from __future__ import annotations

import asyncio
import glob
import hashlib
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta, tzinfo
from pathlib import Path
from typing import Any

from classifier.schema import AgentStatus, CallEnded, Event
from monitor.sources.adapters import LineAdapter, adapter_for
from monitor.sources.reader import MAX_LINE, LineError, LineEvent

#: Bytes read per step: a burst of lines is handed on in slices, not at once.
CHUNK = 256 * 1024

#: How many of a file's first bytes identify it (with its inode) across a
#: truncation or a restart: a few queue_log lines, each with its own time.
HEAD = 1024

#: Bytes just before the read offset re-checked each poll: a file truncated and
#: written past its old size between two polls has other bytes there.
TAIL_CHECK = 64

#: How long a rotated-away file is still read after its last new line: the
#: writer moves to the new file only when told to (logrotate's postrotate).
ROTATED_GRACE = 30.0

#: On catch-up, a call whose last line is this much older than the newest line
#: of the file is taken to have lost its end line (a crash, a cut log) and is
#: not put on the board.
STALE_AFTER = timedelta(hours=12)

ErrorSink = Callable[[LineError], None]

#: A complete line: its number within the file, the offset just past its
#: newline, and its bytes (without the newline).
Line = tuple[int, int, bytes]


def _print_error(error: LineError) -> None:
    print(f"{error}", file=sys.stderr, flush=True)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()


class _Tail:
    """One open file at `path`, with the bytes of an unfinished last line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self.identity: tuple[int, int] | None = None
        self.position = 0
        self.pending = b""
        self.line = 0
        #: Inside an over-long line, dropping bytes until its newline.
        self.skipping = False
        #: The file's first bytes as read (up to HEAD), and the last bytes read
        #: (up to TAIL_CHECK): what must still be there for the file to be the same.
        self.head = b""
        self.last = b""
        self._head_digest = _digest(b"")
        #: Offset just past the last line handed on, and its number.
        self.done = 0
        self.done_line = 0

    def open(self) -> bool:
        """Open the file now at `path` from its start; False while there is none."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        self.close()
        stat = os.fstat(fd)
        self.fd = fd
        self.identity = (stat.st_dev, stat.st_ino)
        self._restart()
        return True

    def _restart(self) -> None:
        """Read again from the start of the file (truncated in place)."""
        self.position = 0
        self.pending = b""
        self.skipping = False
        self.line = 0
        self.head = b""
        self.last = b""
        self._head_digest = _digest(b"")
        self.done = 0
        self.done_line = 0

    def close(self) -> None:
        """Close the file (a rotated-away file once its writer has long moved on)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def rewritten(self) -> bool:
        """True when the bytes read so far are no longer the file's.

        Truncated in place (``copytruncate``): shorter than what was read, or,
        when written past the old size since, other bytes at its head or just
        before the read offset.
        """
        assert self.fd is not None
        fd = self.fd
        if os.fstat(fd).st_size < self.position:
            return True
        if self.head and os.pread(fd, len(self.head), 0) != self.head:
            return True
        start = self.position - len(self.last)
        return bool(self.last) and os.pread(fd, len(self.last), start) != self.last

    def read(self, limit: int = CHUNK) -> list[Line]:
        """The complete lines written since the last read, numbered within the file."""
        assert self.fd is not None
        if self.rewritten():
            # Truncated in place: whatever is there now was written from the start.
            self._restart()
        data = os.pread(self.fd, limit, self.position)
        if not data:
            return []
        start = self.position - len(self.pending)  # the file offset of `text`
        self.position += len(data)
        if len(self.head) < HEAD:
            self.head += data[: HEAD - len(self.head)]
            self._head_digest = _digest(self.head)
        self.last = (self.last + data)[-TAIL_CHECK:]
        text = self.pending + data
        if self.skipping:
            end = text.find(b"\n")
            if end < 0:
                self.pending = b""
                return []
            text = text[end + 1 :]
            start += end + 1
            self.skipping = False
        parts = text.split(b"\n")
        self.pending = parts.pop()
        lines: list[Line] = []
        for raw in parts:
            start += len(raw) + 1
            self.line += 1
            if raw.strip():
                lines.append((self.line, start, raw.rstrip(b"\r")))
        if len(self.pending) > MAX_LINE:
            # Longer than any real line and still growing: hand on its head (the
            # adapter reports it as too long) and drop the rest up to its newline,
            # so one runaway writer cannot fill the memory.
            self.line += 1
            lines.append((self.line, self.position, self.pending[: MAX_LINE + 1]))
            self.pending = b""
            self.skipping = True
        return lines

    def flush(self) -> list[Line]:
        """The unfinished last line, as a line: its file is gone, nothing will end it."""
        rest, self.pending = self.pending, b""
        if not rest.strip():
            return []
        self.line += 1
        return [(self.line, self.position, rest.rstrip(b"\r"))]

    def replaced(self) -> bool:
        """True when `path` now names another file (rotated: a new inode)."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return False
        return (stat.st_dev, stat.st_ino) != self.identity

    def mark(self) -> dict[str, Any]:
        """Where this file was left, for a resume: which file, how far."""
        assert self.identity is not None
        return {
            "ino": self.identity[1],
            "head": self._head_digest,
            "head_len": len(self.head),
            "offset": self.done,
            "line": self.done_line,
        }

    def is_marked(self, mark: dict[str, Any]) -> bool:
        """True when this open file is the one `mark` names, with its bytes up to the mark."""
        assert self.fd is not None and self.identity is not None
        fd = self.fd
        head_len = mark["head_len"]
        return bool(
            self.identity[1] == mark["ino"]
            and os.fstat(fd).st_size >= mark["offset"]
            and _digest(os.pread(fd, head_len, 0)) == mark["head"]
        )


def _line_events(
    adapter: LineAdapter, source: str, tail: _Tail, lines: list[Line], errors: ErrorSink
) -> Iterator[tuple[Event, int]]:
    """Each event of `lines` with its index within its line; `tail.done` follows along."""
    for number, end, raw in lines:
        tail.done, tail.done_line = end, number
        index = 0
        for item in adapter.feed(source, number, raw):
            if isinstance(item, LineEvent):
                yield item.event, index
                index += 1
            else:
                errors(item)


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
    seconds), truncation (read again from the start, even when written past
    its old size within one poll) and a missing file (waited for). Bad lines
    go to `on_error` (default: printed on stderr) and never stop the stream.
    """
    follower = _follow(path, fmt, poll_interval, from_start, on_error or _print_error, tz, None)
    async for event, _ in follower:
        yield event


#: Which event of a position's file a resume starts after: {"index": i} (event
#: i of the line ending at the file's offset) or {"catchup": i} (event i of the
#: catch-up of a file joined mid-day, see `_still_relevant`).
At = dict[str, int]


async def _follow(
    path: str | Path,
    fmt: str,
    poll_interval: float,
    from_start: bool,
    errors: ErrorSink,
    tz: tzinfo | None,
    resume: dict[str, Any] | None,
) -> AsyncIterator[tuple[Event, dict[str, Any]]]:
    """`follow_source`, each event with its position (see the module docstring).

    With `resume` (a position an earlier run yielded), the files are found
    again and read on from there instead of being caught up on.
    """
    adapter = adapter_for(fmt, tz)
    source = str(path)
    tail = _Tail(Path(path))
    # Files rotated away, still read for a while: logrotate creates the new file
    # before the writer is told to reopen, and the writer's last lines land in
    # the old one. Each entry: the file and when it last gave a line.
    rotated: list[tuple[_Tail, float]] = []
    clock = asyncio.get_running_loop().time

    def position(of: _Tail, at: At) -> dict[str, Any]:
        # The file at the path is left out while there is none (rotated away
        # while the hub was down, its successor not created yet).
        tails = [old for old, _ in rotated] + ([tail] if tail.identity is not None else [])
        return {"files": [t.mark() for t in tails], "from": tails.index(of), **at}

    try:
        if resume is not None:
            found = await asyncio.to_thread(_resume, Path(path), resume, adapter, source)
            for problem in found.problems:
                errors(problem)
            rotated = [(old, clock()) for old in found.rotated]
            if found.current is not None:
                tail = found.current
            for old, event, at in found.pending:
                yield event, position(old, at)
            existed = found.current is not None
            if not existed:
                # A file at the path that is not the one followed before came
                # after it: all of it is news.
                while not tail.open():
                    await asyncio.sleep(poll_interval)
        else:
            existed = tail.open()
            if not existed:
                while not tail.open():
                    await asyncio.sleep(poll_interval)
            # A file that appears while we wait is new: all of it is news.
            if existed and not from_start:
                history = await asyncio.to_thread(_read_all, tail, adapter, source, errors)
                for number, event in enumerate(_still_relevant(history)):
                    yield event, position(tail, {"catchup": number})
        while True:
            still: list[tuple[_Tail, float]] = []
            for old, last in list(rotated):
                lines = old.read()
                if lines:
                    still.append((old, clock()))
                elif clock() - last > ROTATED_GRACE:
                    lines = old.flush()
                else:
                    still.append((old, last))
                for event, index in _line_events(adapter, source, old, lines, errors):
                    yield event, position(old, {"index": index})
                if all(old is not kept for kept, _ in still):
                    old.close()
            rotated = still
            lines = tail.read()
            if lines:
                for event, index in _line_events(adapter, source, tail, lines, errors):
                    yield event, position(tail, {"index": index})
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
        events.extend(event for event, _ in _line_events(adapter, source, tail, lines, errors))
    return events


class _Resumed:
    """The files of a position found again, read up to it (see `_resume`)."""

    def __init__(self) -> None:
        #: The file at the path, when it is still the one followed last.
        self.current: _Tail | None = None
        #: Files renamed away (rotated), found beside the path; oldest first.
        self.rotated: list[_Tail] = []
        #: Events of the position's last line (or catch-up) not yet handed on.
        self.pending: list[tuple[_Tail, Event, At]] = []
        self.problems: list[LineError] = []


def _resume(path: Path, position: dict[str, Any], adapter: LineAdapter, source: str) -> _Resumed:
    """Find the files of `position` and read each up to its offset through `adapter`.

    Reading them again rebuilds the adapter's memory of the calls in them; the
    events up to the position were handed on by the earlier run and are not
    again (their errors were reported then too), except those of the
    position's last line (or catch-up) that come after the event it names.
    """
    out = _Resumed()
    files: list[dict[str, Any]] = position["files"]
    for k, mark in enumerate(files):
        tail = _find(path, mark)
        if tail is None:
            out.problems.append(
                LineError(
                    source,
                    mark["line"],
                    "the file followed before the restart is gone, or was truncated or "
                    f"replaced while the hub was down (inode {mark['ino']}): its lines after "
                    "this one were not read; the file now at the path is read from its start",
                )
            )
            continue
        is_from = k == position["from"]
        keep_all = is_from and "catchup" in position
        events = _read_to(tail, adapter, source, mark["offset"], keep_all)
        if is_from and "catchup" in position:
            after = position["catchup"]
            relevant = _still_relevant(events)
            out.pending += [(tail, e, {"catchup": n}) for n, e in enumerate(relevant) if n > after]
        elif is_from:
            after = position["index"]
            out.pending += [(tail, e, {"index": n}) for n, e in enumerate(events) if n > after]
        if k == len(files) - 1 and tail.path == path:
            out.current = tail
        else:
            out.rotated.append(tail)
    return out


def _find(path: Path, mark: dict[str, Any]) -> _Tail | None:
    """The file `mark` names: at `path`, or renamed beside it (`path.1`, `path-20261205`)."""
    siblings = glob.glob(glob.escape(str(path)) + "?*")
    for candidate in [path, *map(Path, sorted(siblings))]:
        try:
            stat = os.stat(candidate)
        except OSError:
            continue
        if stat.st_ino != mark["ino"]:
            continue
        tail = _Tail(candidate)
        if tail.open() and tail.is_marked(mark):
            return tail
        tail.close()
    return None


def _read_to(
    tail: _Tail, adapter: LineAdapter, source: str, offset: int, keep_all: bool
) -> list[Event]:
    """Read `tail` up to `offset` through `adapter`, errors unreported (they were before).

    Returns every event read when `keep_all`, else those of the last line read.
    """
    events: list[Event] = []
    while tail.position < offset:
        before = tail.position
        lines = tail.read(min(CHUNK, offset - tail.position))
        if tail.position <= before:
            break  # shorter than it was a moment ago: read on from where it is
        for number, end, raw in lines:
            tail.done, tail.done_line = end, number
            got = [
                item.event
                for item in adapter.feed(source, number, raw)
                if isinstance(item, LineEvent)
            ]
            if keep_all:
                events += got
            else:
                events = got
    return events


class FollowSource:
    """`follow_source` as a hub source: `async for` it, and read its counters.

    The hub shows `kind` and `name`; `problems` counts bad lines (each is also
    passed to `on_problem`, default: stderr); `events` counts what was yielded.
    `position` is where the last yielded event came from and `resume_from`
    continues after such a position (a journaled hub does both, see
    `monitor.sources.replay_source`): a restart reads on exactly after the last event
    the hub journaled, with the adapter's memory of the calls rebuilt (see the
    module docstring).
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
        self.position: dict[str, Any] | None = None
        self._resume: dict[str, Any] | None = None
        self._on_problem = on_problem

    def resume_from(self, position: dict[str, Any]) -> None:
        """Continue after `position` (as an earlier run's `position` gave it).

        A position this follower cannot read (another version's, or damaged) is
        reported as a problem and the log is caught up on as on a first start.
        """
        if _valid(position):
            self._resume = dict(position)
            self.position = dict(position)
        else:
            self._problem(
                LineError(
                    str(self.path),
                    0,
                    f"journal position not understood: {str(position)[:200]}; catching up instead",
                )
            )

    def _problem(self, error: LineError) -> None:
        self.problems += 1
        if self._on_problem is None:
            _print_error(error)
        else:
            self._on_problem(str(error))

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        follower = _follow(
            self.path,
            self.format,
            self.poll_interval,
            self.from_start,
            self._problem,
            self.tz,
            self._resume,
        )
        async for event, position in follower:
            self.position = {"source": self.name, **position}
            self.events += 1
            yield event


def _valid(position: dict[str, Any]) -> bool:
    """True when `position` has the shape `_follow` gives its positions."""
    files = position.get("files")
    keys = ("ino", "head", "head_len", "offset", "line")
    if not isinstance(files, list) or not files:
        return False
    for mark in files:
        if not isinstance(mark, dict) or set(keys) - set(mark):
            return False
        if not isinstance(mark["head_len"], int) or mark["head_len"] > HEAD:
            return False
        if not isinstance(mark["head"], str) or not all(
            _count(mark[key]) for key in keys if key != "head"
        ):
            return False
    at = [key for key in ("index", "catchup") if key in position]
    return (
        _count(position.get("from"))
        and position["from"] < len(files)
        and len(at) == 1
        and _count(position[at[0]])
    )


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
