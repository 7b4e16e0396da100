"""One line-at-a-time translator per format, so files and followers share one code path."""

from __future__ import annotations

from datetime import tzinfo
from typing import Protocol, runtime_checkable

from monitor.sources import asterisk, asterisk_ami, esl_text, exotel
from monitor.sources.detect import CALLBOARD, FORMATS
from monitor.sources.reader import LineError, LineEvent, parse_line
from monitor.sources.tally import SkipTally


class LineAdapter(Protocol):
    """Translates one line of a source into events (or an error naming the problem)."""

    skipped: SkipTally

    def feed(self, source: str, number: int, raw: bytes) -> list[LineEvent | LineError]:
        """Events or errors from line `number` (from 1) of `source`; `raw` may end in a newline.

        [] for a line that yields nothing: blank, or set aside and counted in `skipped`.
        """
        ...


@runtime_checkable
class BlockAdapter(LineAdapter, Protocol):
    """A translator whose records span lines (a blank line ends one): the last record of a
    file has no blank line after it when the file ends, so the reader asks for it."""

    def finish(self, source: str) -> list[LineEvent | LineError]:
        """The events of a record still being read when the input ended."""
        ...


class CallboardLines:
    """Schema v1 JSON Lines: no translation, one event per line."""

    def __init__(self) -> None:
        self.skipped = SkipTally()

    def feed(self, source: str, number: int, raw: bytes) -> list[LineEvent | LineError]:
        """The line's one event, or the error naming what is wrong with it; [] for a blank line."""
        if not raw.strip():
            return []
        return [parse_line(source, number, raw.rstrip(b"\r\n"))]


def adapter_for(fmt: str, tz: tzinfo | None = None) -> LineAdapter:
    """A fresh translator for `fmt` (one of `FORMATS`); `tz` is Exotel's time zone."""
    if fmt == asterisk.FORMAT:
        return asterisk.QueueLogAdapter()
    if fmt == asterisk_ami.FORMAT:
        return asterisk_ami.AmiAdapter()
    if fmt == exotel.FORMAT:
        return exotel.ExotelAdapter() if tz is None else exotel.ExotelAdapter(tz)
    if fmt == esl_text.FORMAT:
        return esl_text.EslTextAdapter()
    if fmt == CALLBOARD:
        return CallboardLines()
    raise ValueError(f"unknown source format {fmt!r}; one of {', '.join(FORMATS)}")
