"""A recorded FreeSWITCH event socket session (`--from freeswitch-esl`), read line by line.

What `event plain` sends, written to a file: either the wire frames as they came
(`Content-Length` / `Content-Type: text/event-plain`, a blank line, the event's
`Key: Value` lines with URL-encoded values, a blank line), or the events alone,
blocks of `Key: Value` lines separated by blank lines (what fs_cli's `/event plain`
prints). Frame header blocks (no `Event-Name`), `command/reply` and `api/response`
blocks are set aside and counted; each event block goes through the same mapper as
the live socket (`monitor.sources.freeswitch`). A recorded event needs its own
`Event-Date-Timestamp`: there is no arrival time to fall back on.

A block ends at a blank line, as every frame of the wire format does, or where the
file ends (`finish`, which `monitor.sources.SourceItems` calls as a `BlockAdapter`).
Lines of a block are bounded (`MAX_BLOCK_LINES`) so a file without blank lines never
grows one. Only the values something reads are URL-decoded
(`monitor.sources.freeswitch.decode_read`).

Two ways in, one result. `feed` takes a line at a time (what `follow` hands it);
`read_blocks` takes a whole file: it reads it in `CHUNK` pieces, cuts each at its
last blank line and splits the blocks out in bulk, a call per block instead of one
per line (a call per line and the line reader were half the ingest's time: figure 10
of bench/README.md). A block it cannot vouch for (a line end with '\r', a line that
is not `Key: Value` or is blank but for spaces, one too long, too many lines) is fed
to `feed` line by line, numbered as `read_lines` numbers them, so the items, their
line numbers, messages and order are those of the line path
(tests/test_esl_decode.py holds the two to each other). Memory stays bounded: a piece
with no blank line in `MAX_PENDING` bytes goes to `feed` by its lines, and a line
longer than the reader's limit is counted while it is skipped, never held.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import BinaryIO

from monitor.sources.freeswitch import CallcenterMapper, EslEventError, decode_read
from monitor.sources.log_stream import LogStream
from monitor.sources.reader import MAX_LINE, READ_LIMIT, LineError, LineEvent, too_long
from monitor.sources.tally import SkipTally

FORMAT = "freeswitch-esl"

#: Most lines in one block; an event with every channel variable has a few hundred.
MAX_BLOCK_LINES = 2000

#: Bytes read at a time by `read_blocks`.
CHUNK = 1024 * 1024
#: Most bytes held without a blank line before they go to `feed` line by line.
MAX_PENDING = 4 * CHUNK

Items = list[LineEvent | LineError]


class EslTextAdapter:
    """Turns the lines of a recorded event-plain session into events (a `LineAdapter`)."""

    def __init__(self) -> None:
        self._mapper = CallcenterMapper()
        self.skipped: SkipTally = self._mapper.skipped
        self._lines: list[str] = []
        self._first = 0
        self._last = 0
        self._overflow = False
        #: The items of a block `read_blocks` split, not handed on yet: the line path
        #: hands a block on at the next line it reads, after an over-long line's message.
        self._held: Items = []

    def feed(self, source: str, number: int, raw: bytes) -> list[LineEvent | LineError]:
        """The events of the block this line ends, or [] while one is being read.

        A block ends at a blank line; readers that leave blank lines out (files) show
        one as a gap in the line numbers, so a line after a gap ends the block before it.
        """
        if len(raw) > MAX_LINE:
            return [LineError(source, number, too_long(len(raw.rstrip(b"\r\n"))))]
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        out: list[LineEvent | LineError] = []
        if self._lines and (not text.strip() or number != self._last + 1):
            out = self.finish(source)
        elif self._held:
            out, self._held = self._held, []
        self._last = number
        if not text.strip():
            return out
        if not self._lines:
            self._first = number
        if len(self._lines) < MAX_BLOCK_LINES:
            self._lines.append(text)
        else:
            self._overflow = True
        return out

    def finish(self, source: str) -> list[LineEvent | LineError]:
        """The events of the block being read (the input ended after it, or a blank line)."""
        if self._held:
            held, self._held = self._held, []
            return held
        if not self._lines:
            return []
        lines, first, overflow = self._lines, self._first, self._overflow
        self._lines, self._overflow = [], False
        return self._block(source, first, lines, overflow)

    def _block(
        self, source: str, first: int, lines: list[str], overflow: bool
    ) -> list[LineEvent | LineError]:
        out: list[LineEvent | LineError] = []
        if overflow:
            out.append(
                LineError(source, first, f"a block of over {MAX_BLOCK_LINES} lines: the rest cut")
            )
        headers: dict[str, str] = {}
        for offset, line in enumerate(lines):
            key, sep, value = line.partition(":")
            if not sep or not key.strip():
                out.append(
                    LineError(source, first + offset, f"not a 'Key: Value' line: {line[:60]!r}")
                )
                continue
            headers[key.strip()] = value.strip()
        return out + self._event(source, first, decode_read(headers))

    def _event(self, source: str, first: int, headers: dict[str, str]) -> Items:
        """The items of one block's headers (values `decode_read`), dated by its first line."""
        out: Items = []
        if "Event-Name" not in headers:
            kind = headers.get("Content-Type", "") or "a block without Event-Name"
            if kind != "text/event-plain":  # a frame's own header block says nothing
                self.skipped.add(kind[:64], "not an event", first)
            return out
        if "Event-Date-Timestamp" not in headers:
            out.append(LineError(source, first, "a recorded event needs its Event-Date-Timestamp"))
            return out
        try:
            events = self._mapper.event(headers, received=None)
        except EslEventError as exc:
            return [*out, LineError(source, first, str(exc))]
        return out + [LineEvent(source, first, event) for event in events]

    # --- a whole file -------------------------------------------------------------

    def read_blocks(
        self, stream: BinaryIO | LogStream, source: str
    ) -> Iterator[LineEvent | LineError]:
        """Every item of `stream`, as `read_lines` and `feed` would give them, then `finish`'s."""
        lines = _Lines(self, source)
        pending = b""
        while True:
            data = stream.read(CHUNK)
            if not data:
                break
            if lines.skipping:
                data = yield from lines.skip(data)
                if not data:
                    continue
            pending += data
            cut = pending.rfind(b"\n\n")
            if cut >= 0:
                yield from self._blocks(lines, pending[: cut + 1])
                pending = pending[cut + 2 :]
                lines.number += 1  # the blank line after the last block
            elif len(pending) > MAX_PENDING:
                # No blank line for megabytes: its whole lines go to `feed`.
                end = pending.rfind(b"\n") + 1
                yield from lines.feed_lines(pending[:end])
                pending = pending[end:]
                if len(pending) >= READ_LIMIT:
                    yield from lines.start_skip(pending)
                    pending = b""
        if lines.skipping:
            yield from lines.end_skip(newline=False)
        elif pending:
            yield from lines.feed_lines(pending)
        yield from self.finish(source)

    def _blocks(self, lines: _Lines, piece: bytes) -> Iterator[LineEvent | LineError]:
        """The blocks of `piece`: whole lines, blocks separated by a blank line."""
        source = lines.source
        blocks = piece.split(b"\n\n")
        for index, block in enumerate(blocks):
            if index:
                lines.number += 1  # the blank line between two blocks
            if not block and index == len(blocks) - 1:
                break  # the piece ended with blank lines: counted already
            # Each block but the piece's last lacks its last line's end.
            whole = block if block[-1:] == b"\n" else block + b"\n"
            if not block or block[:1] == b"\n" or len(block) > MAX_LINE or b"\r" in block:
                yield from lines.feed_lines(whole)
                continue
            rows = block.decode("utf-8", errors="replace").rstrip("\n").split("\n")
            headers: dict[str, str] = {}
            clean = len(rows) <= MAX_BLOCK_LINES
            if clean:
                for row in rows:
                    key, sep, value = row.partition(":")
                    key = key.strip()
                    if not sep or not key:
                        clean = False  # feed names the line
                        break
                    headers[key] = value.strip()
            if not clean:
                yield from lines.feed_lines(whole)
                continue
            # The block before ends here, as `feed` ends it at this block's first line.
            if self._lines or self._held:
                yield from self.finish(source)
            first = lines.number + 1
            lines.number += len(rows)
            self._held = self._event(source, first, decode_read(headers))


class _Lines:
    """`read_lines`'s numbering and limits for the lines `read_blocks` hands to `feed`."""

    def __init__(self, adapter: EslTextAdapter, source: str) -> None:
        self.adapter = adapter
        self.source = source
        #: Lines read so far (the number of the last one).
        self.number = 0
        self.skipping = False
        self._skipped = 0
        self._last_byte = b""

    def feed_lines(self, data: bytes) -> Iterator[LineEvent | LineError]:
        """Lines to `feed` as `read_lines` gives them: each ended by '\\n' (the input's
        last one perhaps not), blank ones left out, those over its limit an error."""
        ended_all = data.endswith(b"\n")
        rows = data.split(b"\n")
        if ended_all:
            rows.pop()
        for index, row in enumerate(rows):
            self.number += 1
            if ended_all or index < len(rows) - 1:
                # read_lines reads READ_LIMIT bytes at most, line end included.
                over, length = len(row) + 1 > READ_LIMIT, len(row) - row.endswith(b"\r")
            else:
                over, length = len(row) >= READ_LIMIT, len(row)
            if over:
                yield LineError(self.source, self.number, too_long(length))
                continue
            row = row.rstrip(b"\r\n")
            if row.strip():
                yield from self.adapter.feed(self.source, self.number, row)

    def start_skip(self, start: bytes) -> Iterator[LineEvent | LineError]:
        """The start of a line over the limit, with no line end yet: counted, not held."""
        self.skipping = True
        self.number += 1
        self._skipped = len(start)
        self._last_byte = start[-1:]
        return iter(())

    def skip(self, data: bytes) -> Generator[LineEvent | LineError, None, bytes]:
        """More of the skipped line; what follows its end (the generator's value)."""
        end = data.find(b"\n")
        if end < 0:
            self._skipped += len(data)
            self._last_byte = data[-1:]
            return b""
        before = data[end - 1 : end] if end else self._last_byte
        self._skipped += end
        self._last_byte = before
        yield from self.end_skip(newline=True)
        return data[end + 1 :]

    def end_skip(self, *, newline: bool) -> Iterator[LineEvent | LineError]:
        self.skipping = False
        length = self._skipped - (1 if newline and self._last_byte == b"\r" else 0)
        yield LineError(self.source, self.number, too_long(length))
