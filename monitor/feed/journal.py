"""The hub's journal: an append-only file of every accepted event, one record a line.

Line 1 is a header naming the hub and the format
(`{"journal": 2, "hub_id": ..., "created": ..., "checksum": "crc32"}`, and in a
segment of a journal kept by days, `"after_seq"`: the seq just before its first
record, see `monitor.feed.journal_days`); every
further line is a record: the CRC-32 of the event frame in 8 lowercase hex
digits, a space, then exactly the `event` frame the hub fanned out (see
`monitor.feed.protocol`), so catching a subscriber up from the journal sends the
stored text unchanged. Each record is written with a single `write(2)` before
the event is fanned out or acknowledged: a hub killed with SIGKILL loses
nothing it acknowledged, because the data is already in the kernel. (Power loss
is another matter; `fsync=True` pays a sync per event to cover it.)

Opening reads every record back and checks it: its checksum, and that its seq
is exactly one more than the previous one (seqs have no gaps, so a missing
record is a hole in the history, not a renumbering). A crash in the middle of a
write leaves a torn last line without its newline; `Journal.open` drops it
(truncating the file back to the last whole record) and says so, with its byte
offset. Damage anywhere else (a bad checksum, a seq gap, a line that is not a
record) is refused with the line, byte offset and seq, because serving a
history with a hole or an edit would hand subscribers a wrong day, and guessing
could reuse a seq. Version 1 journals (no checksums) are still read and
appended to, without checksums, and opening one says so.

A write that fails (a full disk, a file size limit) raises `JournalWriteError`
after cutting the file back to the last whole record, so the journal is as if
the write had never been tried and a later append may succeed.
"""

from __future__ import annotations

import bisect
import json
import logging
import os
import re
import secrets
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from monitor.feed.protocol import EventFrame, FrameError, read_event_frame

JOURNAL_VERSION = 2

#: Journal versions this module reads: 1 has no checksums, 2 a CRC-32 per record.
READABLE_VERSIONS = (1, 2)

#: A version 2 record starts with its checksum: 8 hex digits and a space.
CHECKSUM_WIDTH = 9

#: One index entry every this many records: catching up from an old seq seeks
#: close to it instead of reading the journal from the start.
INDEX_EVERY = 256

#: How far from the end a torn line is looked for: far more than one record.
TAIL_WINDOW = 1024 * 1024

#: How far from the end `peek` looks first for the last record (then `TAIL_WINDOW`).
PEEK_WINDOW = 64 * 1024

log = logging.getLogger("callboard.journal")

_SEQ_PREFIX = re.compile(rb'^\{"frame":"event","seq":(\d+),')


class JournalError(Exception):
    """The journal cannot be used; the message names the file and line."""


class JournalWriteError(JournalError):
    """One append failed and was undone: the file holds whole records only; retry later."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        #: Why, without the file's path (the OS's words: "No space left on device").
        self.reason = reason


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

    def __init__(self, path: Path, hub_id: str, fsync: bool = False, after_seq: int = 0) -> None:
        self.path = path
        self.hub_id = hub_id
        #: The seq just before this file's first record: 0, or where a segment begins.
        self.after_seq = after_seq
        self.last_seq = after_seq
        #: The format of the records: 2 carries a checksum per record, 1 does not.
        self.version = JOURNAL_VERSION
        self._fsync = fsync
        self._fd: int | None = None
        self._size = 0
        self._index: list[tuple[int, int]] = []  # (seq, byte offset of its line)
        self._count = 0
        self._data_start = 0  # byte offset of the first record (the header's length)
        #: Where `indexed` stopped reading: the end of the last whole record it served.
        self.data_end = 0

    @classmethod
    def open(
        cls,
        path: str | Path,
        fsync: bool = False,
        *,
        hub_id: str | None = None,
        after_seq: int = 0,
    ) -> tuple[Journal, Recovery]:
        """Open (or create) a journal.

        `recovery.records` reads the records back lazily, as (frame, line text)
        pairs; iterate it to the end before appending. Damage raises
        `JournalError` from that iteration. `hub_id` and `after_seq` are for a new
        file only (a new segment of a hub's journal): an existing file has its own.
        """
        path = Path(path)
        recovery = Recovery()
        size = cls._repair_tail(path, recovery)
        if size == 0:
            journal = cls(path, hub_id or new_hub_id(), fsync, after_seq)
            journal._open_fd()
            fields: dict[str, object] = {
                "journal": JOURNAL_VERSION,
                "hub_id": journal.hub_id,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "checksum": "crc32",
            }
            if after_seq:
                fields["after_seq"] = after_seq
            try:
                journal._append_raw(json.dumps(fields).encode() + b"\n")
            except OSError as exc:
                # Half a header has no newline: the next start drops it as a torn line.
                journal.close()
                reason = exc.strerror or str(exc)
                raise JournalError(f"{path}: cannot write the journal header: {reason}") from None
            journal._data_start = journal._size
            recovery.created = True
            return journal, recovery
        try:
            with open(path, "rb") as f:
                header = f.readline()
        except OSError as exc:
            raise JournalError(f"{path}: cannot read the journal: {exc}") from None
        hub_id, version, after_seq = cls._read_header(path, header)
        journal = cls(path, hub_id, fsync, after_seq)
        journal.version = version
        if version == 1:
            log.warning(
                "%s: a version 1 journal: its records carry no checksum, so an edit to one "
                "cannot be detected (seq gaps still are); start a new journal to get checksums",
                path,
            )
        journal._size = size
        journal._data_start = len(header)
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
                "%s: dropped a torn last line at byte offset %d (%d bytes without a newline): "
                "the hub stopped in the middle of writing it, so it was never acknowledged",
                path,
                end,
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
                    where = f"{self.path}:{number}"
                    body = self._verified_body(where, offset, line.rstrip(b"\n"))
                    frame = self._read_record(where, offset, body)
                    if frame.seq != self.last_seq + 1:
                        raise JournalError(self._out_of_order(where, offset, frame.seq))
                    self._note(frame.seq, offset)
                    yield frame, body.decode()
                offset += len(line)

    def _verified_body(self, where: str, offset: int, line: bytes) -> bytes:
        """The event frame of a record line, once its checksum (version 2) matches."""
        if self.version == 1:
            return line
        body = line[CHECKSUM_WIDTH:]
        stored = line[: CHECKSUM_WIDTH - 1]
        computed = b"%08x" % zlib.crc32(body)
        if line[CHECKSUM_WIDTH - 1 : CHECKSUM_WIDTH] != b" " or stored != computed:
            seq = _seq_of(body)
            raise JournalError(
                f"{where}: damaged record at byte offset {offset} "
                f"(seq {seq if seq is not None else 'unknown'}): its checksum "
                f"{stored.decode(errors='replace')!r} does not match its content "
                f"({computed.decode()}); the journal was changed after it was written, so its "
                "history cannot be trusted (move it aside to start a new hub)"
            )
        return body

    def _out_of_order(self, where: str, offset: int, seq: int) -> str:
        last = self.last_seq
        if seq > last + 1:
            missing = (
                f"the record of seq {last + 1} is"
                if seq == last + 2
                else f"the {seq - last - 1} records of seqs {last + 1} to {seq - 1} are"
            )
            return (
                f"{where}: seq gap at byte offset {offset}: seq {seq} follows seq {last}, "
                f"so {missing} missing; a subscriber resuming across the hole would skip "
                "them silently (move the journal aside to start a new hub)"
            )
        return (
            f"{where}: record at byte offset {offset}: seq {seq} does not follow seq {last}; "
            "the journal is damaged (move it aside to start a new hub)"
        )

    @staticmethod
    def _truncate(path: Path, size: int) -> None:
        try:
            with open(path, "r+b") as f:
                f.truncate(size)
        except OSError as exc:
            raise JournalError(f"{path}: cannot drop the torn last line: {exc}") from None

    @staticmethod
    def _read_header(path: Path, line: bytes) -> tuple[str, int, int]:
        """The hub id, format version and `after_seq` of a journal header line."""
        try:
            header = json.loads(line)
        except ValueError:
            header = None
        if (
            not isinstance(header, dict)
            or header.get("journal") not in READABLE_VERSIONS
            or not isinstance(header.get("hub_id"), str)
        ):
            versions = " or ".join(str(v) for v in READABLE_VERSIONS)
            raise JournalError(
                f"{path}:1: not a callboard journal (version {versions}) header; "
                "refusing to append to it"
            )
        after_seq = header.get("after_seq", 0)
        if not isinstance(after_seq, int) or isinstance(after_seq, bool) or after_seq < 0:
            raise JournalError(
                f"{path}:1: the header's after_seq is not a seq (a whole number >= 0): "
                f"{after_seq!r}; refusing to append to it"
            )
        return str(header["hub_id"]), int(header["journal"]), after_seq

    @classmethod
    def indexed(cls, path: Path) -> Journal:
        """A closed file ready for `reader`: checksums and seqs checked, frames not decoded.

        For a closed segment a subscriber resumes into: its index is built in one pass
        at the speed of CRC-32 and a regex (the frames were decoded when they were
        stored), so the hub's loop is held for a fraction of a full read. Raises
        `JournalError` naming the line and byte offset of damage or a gap.
        """
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise JournalError(f"{path}: cannot read the journal: {exc}") from None
        with f:
            header = f.readline()
            hub_id, version, after_seq = cls._read_header(path, header)
            journal = cls(path, hub_id, after_seq=after_seq)
            journal.version = version
            journal._data_start = offset = len(header)
            number = 1
            for line in f:
                number += 1
                if not line.endswith(b"\n"):
                    break  # a torn last line: never acknowledged, not served
                if line.strip():
                    where = f"{path}:{number}"
                    body = journal._verified_body(where, offset, line.rstrip(b"\n"))
                    seq = _seq_of(body)
                    if seq is None:
                        raise JournalError(f"{where}: damaged record at byte offset {offset}")
                    if seq != journal.last_seq + 1:
                        raise JournalError(journal._out_of_order(where, offset, seq))
                    journal._note(seq, offset)
                offset += len(line)
        journal.data_end = offset
        return journal

    @classmethod
    def peek(cls, path: Path) -> tuple[str, int, int]:
        """(hub id, after_seq, seq of the last whole record) of a file, reading only its ends.

        For a journal kept by days: whether each segment follows the one before is
        known without reading the days in between. Raises `JournalError`.
        """
        window = PEEK_WINDOW
        while True:
            try:
                with open(path, "rb") as f:
                    header = f.readline()
                    size = f.seek(0, os.SEEK_END)
                    f.seek(max(len(header), size - window))
                    tail = f.read()
            except OSError as exc:
                raise JournalError(f"{path}: cannot read the journal: {exc}") from None
            hub_id, version, after_seq = cls._read_header(path, header)
            skip = CHECKSUM_WIDTH if version >= 2 else 0
            lines = tail.split(b"\n")[:-1]  # the last piece is a torn line or empty
            if size - window > len(header):
                lines = lines[1:]  # the first piece may be the end of a line
            for line in reversed(lines):
                seq = _seq_of(line[skip:]) if len(line) > skip else None
                if seq is not None:
                    return hub_id, after_seq, seq
            if window >= TAIL_WINDOW or size - window <= len(header):
                return hub_id, after_seq, after_seq
            window = TAIL_WINDOW

    @staticmethod
    def _read_record(where: str, offset: int, body: bytes) -> EventFrame:
        try:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise FrameError("not a JSON object")
            return read_event_frame(data)
        except (ValueError, FrameError) as exc:
            raise JournalError(
                f"{where}: damaged record at byte offset {offset} ({exc}); "
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
        """Write one event frame; returns once the record is in the kernel (or on disk).

        Raises `JournalWriteError` when the write fails; the file is then cut back to
        the records before it, so the caller may try again later. Raises `JournalError`
        when even that fails: the journal must not take another record.
        """
        body = frame_text.encode()
        data = b"%08x %b\n" % (zlib.crc32(body), body) if self.version >= 2 else body + b"\n"
        offset = self._size
        try:
            self._append_raw(data)
        except OSError as exc:
            self._undo(offset, exc)
        self._note(seq, offset)

    def _undo(self, size: int, failure: OSError) -> NoReturn:
        """Cut off what a failed append left (part of a record), then report the failure."""
        reason = failure.strerror or str(failure)
        assert self._fd is not None  # a write failed on it, so it is open
        try:
            os.ftruncate(self._fd, size)
        except OSError as exc:
            self.close()
            raise JournalError(
                f"{self.path}: write failed ({reason}) and the partial record it left at "
                f"byte offset {size} could not be removed ({exc.strerror or exc}); "
                "the journal takes no more records"
            ) from None
        log.debug("%s: cut back to %d bytes after a failed write", self.path, size)
        raise JournalWriteError(f"{self.path}: write failed: {reason}", reason)

    def close(self) -> None:
        """Close the file; closing again does nothing, and a later append raises `JournalError`."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def reader(self, since: int) -> JournalReader:
        """A reader of the records after `since`, starting near it thanks to the index."""
        i = bisect.bisect_right(self._index, (since + 1, 2**63)) - 1
        offset = self._index[i][1] if i >= 0 else self._data_start
        return JournalReader(self.path, offset, since, checksummed=self.version >= 2)


class JournalReader:
    """Reads record lines (seq, frame text) after a given seq, a chunk at a time."""

    def __init__(self, path: Path, offset: int, since: int, checksummed: bool = True) -> None:
        self._path = path
        self._offset = offset
        self._since = since
        # Version 2 records start with their checksum; the frame text follows it.
        self._skip = CHECKSUM_WIDTH if checksummed else 0

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
                body = line[self._skip :]
                seq = _seq_of(body)
                if seq is None or seq <= self._since:
                    continue
                out.append((seq, body.rstrip(b"\n").decode()))
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
