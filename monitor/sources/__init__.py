"""Vendor sources: Asterisk queue_log and Exotel call records, as schema v1 events.

Each vendor has one module (`asterisk`, `exotel`) small enough to read against
the vendor's documentation; they only translate, the classifier judges. The
mapping, and what each source cannot see, is in `docs/sources.md`.

API (what `classify`, `serve --from` and `replay --from` call):

``FORMATS``
    ``("asterisk-queue-log", "asterisk-ami", "exotel", "callboard")``; ``callboard`` is schema v1
    JSON Lines, read unchanged.

``choose_format(path, given) -> (str, bool)``
    The format named with ``--from`` (``given``), or else detected from the
    content; the flag says whether it was detected (commands say so on stderr).

``detect_format(path) -> str``
    The format of a file or directory from its content (not its name); raises
    `FormatError` with a message naming what was seen.

``iter_source(path, fmt, tz=None, progress=None) -> SourceItems``
    An iterator of `monitor.sources.reader.LineEvent` / `LineError`, the same items
    `monitor.commands.classify.classify_items` consumes. After (or during)
    iteration, ``items.skipped`` is a `SkipTally` of the lines the adapter set
    aside (add-on lines, start-up markers...: counted, never fatal), and
    ``items.skipped.rows()`` gives ``(what, why, count)`` triples for a summary
    (`classify` puts them in ``Summary.skipped``). ``path`` may be ``-`` (stdin)
    and, for Exotel, a directory of files. One vendor line can give several
    events, which then share its line number (a RINGNOANSWER is a ringing and
    a no-answer): a resume position needs the index within the line too.
    Event times follow the log, so across calls they can step back by a ring
    time (a ringing is dated when it began, logged when it ended).

``async for event in follow_source(path, fmt, poll_interval=0.2, *, from_start=False,
on_error=None, tz=None)``
    `tail -F` for a live log: appended lines, rotation (new inode), truncation
    (even when the file outgrows its old size within one poll), partial lines
    held until complete. Yields `classifier.schema.Event`; first, unless
    ``from_start``, the still-relevant past (agents' presence, calls still open).
    Bad lines go to ``on_error(LineError)`` (default: stderr).

``FollowSource(path, fmt, poll_interval=0.2, *, from_start=False, on_problem=None, tz=None)``
    The same as a hub source (`Hub.attach_source`): ``kind`` "follow", ``name``,
    ``problems`` (bad lines, each also given to ``on_problem(str)``), ``events``,
    and ``position`` / ``resume_from(position)``, so a journaled hub restarted
    reads on exactly after the last event it journaled (``docs/sources.md``).

``tz`` is the time zone of Exotel times written without an offset (default IST).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import tzinfo
from pathlib import Path

from typing_extensions import override

from monitor.sources import asterisk_ami, esl_text, exotel
from monitor.sources.adapters import BlockAdapter, LineAdapter, adapter_for
from monitor.sources.detect import CALLBOARD, FORMATS, FormatError, choose_format, detect_format
from monitor.sources.follow import FollowSource, follow_source
from monitor.sources.log_stream import open_log
from monitor.sources.progress import ReadProgress
from monitor.sources.reader import LineError, LineEvent, read_events, read_lines
from monitor.sources.tally import SkipTally

__all__ = [
    "CALLBOARD",
    "FORMATS",
    "FollowSource",
    "FormatError",
    "SkipTally",
    "SourceItems",
    "choose_format",
    "detect_format",
    "follow_source",
    "iter_source",
]


class SourceItems(Iterator[LineEvent | LineError]):
    """The items of one source, in order, with the adapter's tally of set-aside lines."""

    def __init__(
        self,
        path: str | Path,
        fmt: str,
        tz: tzinfo | None = None,
        progress: ReadProgress | None = None,
    ) -> None:
        self.path = path
        self.progress = progress
        self.format = fmt
        self._adapter: LineAdapter = adapter_for(fmt, tz)
        self._items = self._generate()

    @property
    def skipped(self) -> SkipTally:
        """The adapter's tally of lines set aside so far (complete once the items are exhausted)."""
        return self._adapter.skipped

    @override
    def __iter__(self) -> SourceItems:
        return self

    @override
    def __next__(self) -> LineEvent | LineError:
        return next(self._items)

    def _generate(self) -> Iterator[LineEvent | LineError]:
        source = "<stdin>" if str(self.path) == "-" else str(self.path)
        if isinstance(self._adapter, exotel.ExotelAdapter):
            yield from exotel.read_path(self._adapter, self.path, self.progress)
            return
        if isinstance(self._adapter, asterisk_ami.AmiAdapter):
            if source != "<stdin>" and Path(self.path).is_dir():
                yield LineError(
                    source, 0, f"a directory; only {exotel.FORMAT} records come in those"
                )
                return
            yield from asterisk_ami.read_path(self._adapter, self.path, self.progress)
            return
        if source != "<stdin>" and Path(self.path).is_dir():
            yield LineError(source, 0, f"a directory; only {exotel.FORMAT} records come in those")
            return
        try:
            if self.format == CALLBOARD:
                yield from read_events(self.path, self.progress)
            else:
                yield from self._lines()
        except OSError as exc:
            yield LineError(source, 0, f"cannot read: {exc.strerror or exc}")

    def _lines(self) -> Iterator[LineEvent | LineError]:
        source = "<stdin>" if str(self.path) == "-" else str(self.path)
        stream = open_log(self.path, self.progress)
        feed = self._adapter.feed
        try:
            if isinstance(self._adapter, esl_text.EslTextAdapter) and source != "<stdin>":
                # Blocks split in bulk (a pipe's stay line by line: not held back).
                yield from self._adapter.read_blocks(stream, source)
                return
            for line in read_lines(stream, source):
                if isinstance(line, LineError):
                    yield line
                else:
                    yield from feed(source, *line)
            if isinstance(self._adapter, BlockAdapter):
                yield from self._adapter.finish(source)
        except (OSError, EOFError) as exc:
            yield LineError(source, 0, f"read error: {exc}")
        finally:
            if source != "<stdin>":
                stream.close()


def iter_source(
    path: str | Path, fmt: str, tz: tzinfo | None = None, progress: ReadProgress | None = None
) -> SourceItems:
    """Every item of `path` read as `fmt` (see the module docstring); `progress` hears
    how far a long read got (`monitor.sources.progress`)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown source format {fmt!r}; one of {', '.join(FORMATS)}")
    return SourceItems(path, fmt, tz, progress)
