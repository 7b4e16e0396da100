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
grows one.
"""

from __future__ import annotations

from urllib.parse import unquote

from monitor.sources.freeswitch import CallcenterMapper, EslEventError
from monitor.sources.reader import MAX_LINE, LineError, LineEvent, too_long
from monitor.sources.tally import SkipTally

FORMAT = "freeswitch-esl"

#: Most lines in one block; an event with every channel variable has a few hundred.
MAX_BLOCK_LINES = 2000


class EslTextAdapter:
    """Turns the lines of a recorded event-plain session into events (a `LineAdapter`)."""

    def __init__(self) -> None:
        self._mapper = CallcenterMapper()
        self.skipped: SkipTally = self._mapper.skipped
        self._lines: list[str] = []
        self._first = 0
        self._last = 0
        self._overflow = False

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
            headers[key.strip()] = unquote(value.strip())
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
