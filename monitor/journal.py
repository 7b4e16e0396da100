"""The hub's journal: an append-only JSON Lines file of every accepted event.

Line 1 is a header naming the hub (`{"journal": 1, "hub_id": ..., "created": ...}`);
every further line is exactly the `event` frame the hub fanned out (see
`monitor.protocol`), so catching a subscriber up from the journal sends the
stored text unchanged. Each record is written with a single `write(2)` before
the event is fanned out or acknowledged: a hub killed with SIGKILL loses
nothing it acknowledged, because the data is already in the kernel. (Power loss
is another matter; `fsync=True` pays a sync per event to cover it.)

A crash in the middle of a write leaves a torn last line without its newline;
`Journal.open` drops it (truncating the file back to the last whole record)
and says so. Damage anywhere else is refused with the line number, because
guessing there could reuse a seq or lose an acknowledged event.
"""

from __future__ import annotations

import bisect
import json
import logging
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from monitor.protocol import EventFrame, FrameError, read_event_frame

JOURNAL_VERSION = 1

#: One index entry every this many records: catching up from an old seq seeks
#: close to it instead of reading the journal from the start.
INDEX_EVERY = 256

#: How far from the end a torn line is looked for: far more than one record.
TAIL_WINDOW = 1024 * 1024

log = logging.getLogger("callboard.journal")

_SEQ_PREFIX = re.compile(rb'^\{"frame":"event","seq":(\d+),')


class JournalError(Exception):
    """The journal cannot be used; the message names the file and line."""


def new_hub_id() -> str:
    """A fresh hub id: random, short enough to show on a status line."""
    return "hub-" + secrets.token_hex(6)


@dataclass(slots=True)
class Recovery:
    """What `Journal.open` found: the records to re-apply and what was repaired."""

    records: Iterator[tuple[EventFrame, str]] = field(default_factory=lambda: iter(()))
    torn_bytes: int = 0
    created: bool = False


class Journal:
    """An open journal: append records, read them back from any seq."""

    def __init__(self, path: Path, hub_id: str, fsync: bool = False) -> None:
        self.path = path
        self.hub_id = hub_id
        self.last_seq = 0
        self._fsync = fsync
        self._fd: int | None = None
        self._size = 0
        self._index: list[tuple[int, int]] = []  # (seq, byte offset of its line)
        self._count = 0

    @classmethod
    def open(cls, path: str | Path, fsync: bool = False) -> tuple[Journal, Recovery]:
        """Open (or create) a journal.

        `recovery.records` reads the records back lazily, as (frame, line text)
        pairs; iterate it to the end before appending. Damage raises
        `JournalError` from that iteration.
        """
        path = Path(path)
        recovery = Recovery()
        size = cls._repair_tail(path, recovery)
        if size == 0:
            journal = cls(path, new_hub_id(), fsync)
            journal._open_fd()
            journal._append_raw(
                json.dumps(
                    {
                        "journal": JOURNAL_VERSION,
                        "hub_id": journal.hub_id,
                        "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    }
                ).encode()
                + b"\n"
            )
            recovery.created = True
            return journal, recovery
        try:
            with open(path, "rb") as f:
                header = f.readline()
        except OSError as exc:
            raise JournalError(f"{path}: cannot read the journal: {exc}") from None
        journal = cls(path, cls._read_header(path, header), fsync)
        journal._size = size
        recovery.records = journal._read_back(len(header), size)
        journal._open_fd()
        return journal, recovery

    @classmethod
    def _repair_tail(cls, path: Path, recovery: Recovery) -> int:
        """Drop a torn last line; the size of the whole lines that remain."""
        try:
            size = path.stat().st_size if path.exists() else 0
            if size == 0:
                return 0
            with open(path, "rb") as f:
                f.seek(max(0, size - TAIL_WINDOW))
                tail = f.read()
        except OSError as exc:
            raise JournalError(f"{path}: cannot read the journal: {exc}") from None
        newline = tail.rfind(b"\n")
        if newline < 0 and size > TAIL_WINDOW:
            raise JournalError(f"{path}: the last {TAIL_WINDOW} bytes hold no line end")
        end = size - len(tail) + newline + 1
        if end < size:
            recovery.torn_bytes = size - end
            log.warning(
                "%s: dropped a torn last line (%d bytes without a newline): "
                "the hub stopped in the middle of writing it, so it was never acknowledged",
                path,
                recovery.torn_bytes,
            )
            cls._truncate(path, end)
        return end

    def _read_back(self, start: int, end: int) -> Iterator[tuple[EventFrame, str]]:
        try:
            f = open(self.path, "rb")  # noqa: SIM115 - closed below; a generator holds it
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot read the journal: {exc}") from None
        with f:
            f.seek(start)
            offset = start
            number = 1
            while offset < end:
                line = f.readline()
                number += 1
                if line.strip():
                    frame = self._read_record(self.path, number, line)
                    if frame.seq <= self.last_seq:
                        raise JournalError(
                            f"{self.path}:{number}: seq {frame.seq} does not follow "
                            f"{self.last_seq}; the journal is damaged "
                            "(move it aside to start a new hub)"
                        )
                    self._note(frame.seq, offset)
                    yield frame, line.rstrip(b"\n").decode()
                offset += len(line)

    @staticmethod
    def _truncate(path: Path, size: int) -> None:
        try:
            with open(path, "r+b") as f:
                f.truncate(size)
        except OSError as exc:
            raise JournalError(f"{path}: cannot drop the torn last line: {exc}") from None

    @staticmethod
    def _read_header(path: Path, line: bytes) -> str:
        try:
            header = json.loads(line)
        except ValueError:
            header = None
        if (
            not isinstance(header, dict)
            or header.get("journal") != JOURNAL_VERSION
            or not isinstance(header.get("hub_id"), str)
        ):
            raise JournalError(
                f"{path}:1: not a callboard journal (version {JOURNAL_VERSION}) header; "
                "refusing to append to it"
            )
        return str(header["hub_id"])

    @staticmethod
    def _read_record(path: Path, number: int, line: bytes) -> EventFrame:
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise FrameError("not a JSON object")
            return read_event_frame(data)
        except (ValueError, FrameError) as exc:
            raise JournalError(
                f"{path}:{number}: damaged record ({exc}); "
                "only a torn last line can be repaired automatically"
            ) from None

    def _open_fd(self) -> None:
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot open for appending: {exc}") from None

    def _note(self, seq: int, offset: int) -> None:
        if self._count % INDEX_EVERY == 0:
            self._index.append((seq, offset))
        self._count += 1
        self.last_seq = seq

    def _append_raw(self, data: bytes) -> None:
        if self._fd is None:
            raise JournalError(f"{self.path}: journal is closed")
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        if self._fsync:
            os.fsync(self._fd)
        self._size += len(data)

    def append(self, seq: int, frame_text: str) -> None:
        """Write one event frame; returns once the record is in the kernel (or on disk)."""
        offset = self._size
        try:
            self._append_raw(frame_text.encode() + b"\n")
        except OSError as exc:
            raise JournalError(f"{self.path}: write failed: {exc}") from None
        self._note(seq, offset)

    def close(self) -> None:
        """Close the file; closing again does nothing, and a later append raises `JournalError`."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def reader(self, since: int) -> JournalReader:
        """A reader of the records after `since`, starting near it thanks to the index."""
        i = bisect.bisect_right(self._index, (since + 1, 2**63)) - 1
        offset = self._index[i][1] if i >= 0 else 0
        return JournalReader(self.path, offset, since)


class JournalReader:
    """Reads record lines (seq, frame text) after a given seq, a chunk at a time."""

    def __init__(self, path: Path, offset: int, since: int) -> None:
        self._path = path
        self._offset = offset
        self._since = since

    def chunk(self, max_records: int) -> list[tuple[int, str]]:
        """The next records (at most `max_records`), or [] at the current end."""
        out: list[tuple[int, str]] = []
        with open(self._path, "rb") as f:
            f.seek(self._offset)
            while len(out) < max_records:
                line = f.readline()
                if not line.endswith(b"\n"):
                    break
                self._offset += len(line)
                seq = _seq_of(line)
                if seq is None or seq <= self._since:
                    continue
                out.append((seq, line.rstrip(b"\n").decode()))
        return out

    def __iter__(self) -> Iterator[tuple[int, str]]:
        while chunk := self.chunk(1024):
            yield from chunk


def _seq_of(line: bytes) -> int | None:
    """The seq of a record line (None for the header); fast path for the hub's own encoding."""
    match = _SEQ_PREFIX.match(line)
    if match:
        return int(match.group(1))
    try:
        data = json.loads(line)
    except ValueError:
        return None
    seq = data.get("seq") if isinstance(data, dict) and data.get("frame") == "event" else None
    return seq if isinstance(seq, int) else None
