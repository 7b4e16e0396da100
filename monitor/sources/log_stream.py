"""Opening a log as one byte stream, whatever it is: a file, gzip, a FIFO, a pipe, stdin.

Three things make this more than `open()`:

* A log that cannot be read twice (a FIFO, a `<(...)` pipe, a character device)
  must not lose the bytes format detection looked at. Detection (`peek_log`) opens
  such a log once, puts the bytes it read back in front (`_Prefixed`) and holds the
  stream; the reader's `open_log` of the same file then takes it instead of opening
  the file again (which would start after them, or block on a FIFO). Regular files
  are opened afresh: that is cheaper than re-chaining every read.
* gzip is told by its magic bytes, peeked without consuming them, and decompressed
  from the very stream they were peeked on (never by reopening the path).
* A UTF-8 byte order mark (Notepad and some exports write one) is dropped at the
  start of the stream, so the first line is a line like the others.

With a `ReadProgress` the stream also reports how far a long read got (on stderr).
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import stat
import sys
from pathlib import Path
from typing import cast

from typing_extensions import override

from monitor.sources.progress import ReadProgress

#: What a log stream is: a buffered reader, which peeks without consuming and reads a
#: line up to a limit in C (gzip too: see `_unwrapped`).
LogStream = io.BufferedReader

GZIP_MAGIC = b"\x1f\x8b"
BOM = codecs.BOM_UTF8

#: Buffer of decompressed bytes that lines are read from.
GZIP_BUFFER = 64 * 1024

#: Buffer of the layer that counts bytes for a progress report: refills, hence the
#: report's clock checks, come once per this many bytes.
PROGRESS_BUFFER = 64 * 1024

#: Streams detection opened and looked into, by the file's (device, inode), until read.
_held: dict[tuple[int, int], LogStream] = {}


class _Broken(io.RawIOBase):
    """A stream that could not even be started (a gzip cut inside its header): every
    read raises the error it met, so the reader reports it at its line."""

    def __init__(self, error: Exception, rest: LogStream) -> None:
        self._error = error
        self._rest = rest

    @override
    def readable(self) -> bool:
        """Always: this is a read-only stream."""
        return True

    @override
    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        """Raise the error that broke the stream."""
        raise self._error

    @override
    def close(self) -> None:
        """Close the file under it too."""
        if not self.closed:
            self._rest.close()
        super().close()


class _Prefixed(io.RawIOBase):
    """A stream with bytes already read from it put back in front of the rest."""

    def __init__(self, head: bytes, rest: io.BufferedIOBase, close_rest: bool = True) -> None:
        self._head = memoryview(head)
        self._rest = rest
        self._close_rest = close_rest

    @override
    def readable(self) -> bool:
        """Always: this is a read-only stream."""
        return True

    @override
    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        """The put-back bytes first, then the rest's."""
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        # One read of what is there (a live pipe's line), not a wait for a full buffer.
        return self._rest.readinto1(buffer)

    @override
    def close(self) -> None:
        """Close the rest too, unless it is not ours to close (stdin)."""
        if not self.closed and self._close_rest:
            self._rest.close()
        super().close()


class _Counted(io.RawIOBase):
    """Passes a stream's bytes through, telling a `ReadProgress` how many went by."""

    def __init__(self, stream: LogStream, progress: ReadProgress) -> None:
        self._stream = stream
        self._progress = progress

    @override
    def readable(self) -> bool:
        """Always: this is a read-only stream."""
        return True

    @override
    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        """Fill `buffer` from the stream and count what came."""
        count = self._stream.readinto1(buffer)
        if count:
            self._progress.advance(count, buffer[:count].tobytes().count(b"\n"))
        return count

    @override
    def close(self) -> None:
        """Close the stream under this one."""
        if not self.closed:
            self._stream.close()
        super().close()


class _Gunzipped(gzip.GzipFile):
    """A gzip stream over an open file, which it closes with itself (GzipFile does not)."""

    def __init__(self, compressed: LogStream) -> None:
        super().__init__(fileobj=compressed, mode="rb")
        self._compressed = compressed

    @override
    def close(self) -> None:
        """Close the decompressor, then the file under it."""
        try:
            super().close()
        finally:
            self._compressed.close()


def starts_with(stream: LogStream, prefix: bytes) -> tuple[bool, LogStream]:
    """Whether `stream` starts with `prefix`, and the stream to read from now (nothing lost).

    The buffer's peek consumes nothing. Only when a pipe delivered a part of `prefix`
    so far are the bytes read (waiting for the rest) and put back in front of a new
    stream; a live pipe is never held up for bytes that cannot match anyway.
    """
    head = stream.peek(len(prefix))[: len(prefix)]
    if len(head) >= len(prefix) or not head or not prefix.startswith(head):
        return head == prefix, stream
    head = stream.read(len(prefix))
    return head == prefix, io.BufferedReader(_Prefixed(head, stream))


def read_ahead(stream: LogStream, size: int) -> tuple[bytes, LogStream]:
    """Up to `size` bytes of `stream` (fewer only at its end), and the stream with them put back.

    A gzip that ends early gives the bytes before its break; reading on from the
    returned stream meets the break again, for the reader to report at its line.
    """
    pieces: list[bytes] = []
    count = 0
    try:
        while count < size:
            piece = stream.read1(size - count)
            if not piece:
                break
            pieces.append(piece)
            count += len(piece)
    except (EOFError, gzip.BadGzipFile):
        pass
    head = b"".join(pieces)
    return head, io.BufferedReader(_Prefixed(head, stream))


def _unwrapped(stream: LogStream) -> LogStream:
    """`stream` decompressed if it is gzip, without its byte order mark, bytes not lost."""
    packed, stream = starts_with(stream, GZIP_MAGIC)
    if packed:
        # GzipFile.readline is Python code on every line; a buffer over it reads lines in C.
        stream = io.BufferedReader(_Prefixed(b"", _Gunzipped(stream)), buffer_size=GZIP_BUFFER)
    try:
        marked, stream = starts_with(stream, BOM)
    except (EOFError, gzip.BadGzipFile) as exc:
        # A gzip cut or damaged inside its header (the magic and little more): there
        # is no text, and the decompressor would answer later reads with nothing as
        # if the file were empty; every read raises the error instead, so the reader
        # reports it at its line like any other broken gzip.
        return io.BufferedReader(_Broken(exc, stream))
    if marked:
        stream.read(len(BOM))
    return stream


def _stdin() -> LogStream:
    stdin = sys.stdin.buffer
    if isinstance(stdin, io.BufferedReader):
        return stdin
    # Not the interpreter's own (a test or an embedding replaced it): give it a buffer.
    return io.BufferedReader(_Prefixed(b"", cast(io.BufferedIOBase, stdin), close_rest=False))


def _unseekable_id(path: str | Path) -> tuple[int, int] | None:
    """(device, inode) of a file that cannot be read twice; None for a regular file."""
    info = os.stat(path)
    if stat.S_ISREG(info.st_mode):
        return None
    return info.st_dev, info.st_ino


def open_log(path: str | Path, progress: ReadProgress | None = None) -> LogStream:
    """Open a log for binary reading: '-' is stdin; gzip (by its magic) is decompressed.

    A stream detection already looked into (a FIFO or pipe, see `peek_log`) is
    taken over with every byte. A leading UTF-8 byte order mark is dropped. With
    `progress`, the bytes and lines read are reported to it (not for stdin, which
    is often a live pipe meant to run for ever). Closing the stream closes the
    file; the readers leave stdin's open.
    """
    if str(path) == "-":
        return _unwrapped(_stdin())
    key = _unseekable_id(path)
    if key in _held:
        stream = _held.pop(key)
    else:
        raw = open(path, "rb")  # noqa: SIM115 - the caller closes the stream
        if progress is not None and key is None:
            # A regular file's offset says how much of it (compressed or not) is read.
            fd = raw.fileno()
            progress.whole(os.fstat(fd).st_size, lambda: os.lseek(fd, 0, os.SEEK_CUR))
        stream = _unwrapped(raw)
    if progress is None:
        return stream
    return io.BufferedReader(_Counted(stream, progress), buffer_size=PROGRESS_BUFFER)


def peek_log(path: str | Path, size: int) -> bytes:
    """Up to the first `size` bytes of a log (decompressed), for telling its format.

    A regular file is opened, read and closed. A file that cannot be read twice is
    opened once: its stream, with the bytes read put back, is held for `open_log`.
    """
    key = _unseekable_id(path)
    if key is None:
        with open_log(path) as stream:
            return read_ahead(stream, size)[0]
    head, _held[key] = read_ahead(_held.pop(key) if key in _held else open_log(path), size)
    return head
