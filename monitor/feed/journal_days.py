"""The hub's journal kept by days: a restart reads one checkpoint and the current day.

Files, for `--journal hub.journal`:

* `hub.journal`: the current segment, a `monitor.feed.journal` file (checksummed
  records, torn-tail repair, write-failure undo) whose header says `after_seq`,
  the seq just before its first record.
* `hub.journal.2026-12-04`: a closed segment, the records of that day (the day of
  its first record; `day_of`, by default the event's own date in its own offset).
* `hub.journal.checkpoint-5120`: the hub's state right after seq 5120
  (`monitor.feed.checkpoint`), written when the segment after 5120 began.

When an event belongs to a later day than the current segment, the hub's state
is checkpointed, the segment is renamed to its day and a new one begins after the
same seq; then closed segments whose days all lie before the last `keep_days`
days are deleted, oldest first, with the checkpoints older than the oldest kept
segment. A restart loads the newest checkpoint that verifies and re-applies only
the records after it (one day at most); a checkpoint that does not verify is
named with its byte offset and the previous one is tried, then the segments from
seq 0 if they are all still there. Segments must follow each other (each one's
`after_seq` is the last seq of the one before, checked from the files' ends
without reading the days between): a missing or torn middle segment is refused
like a seq gap, never skipped.

Our own segments over the existing file format, not sqlite3: measured in
bench/journal_restart.py and docs/protocol.md ("The journal by days"), the file
appends faster with the same guarantee (in the kernel before the ack), and with
a checkpoint the restart time no longer depends on the store.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from classifier.schema import Event
from monitor.feed.checkpoint import (
    CheckpointError,
    HubCheckpoint,
    read_checkpoint,
    write_checkpoint,
)
from monitor.feed.journal import Journal, JournalError
from monitor.feed.protocol import EventFrame

log = logging.getLogger("callboard.journal")

#: Days of segments kept for `since=` resumes and reports, counting the current one.
KEEP_DAYS = 7

#: After a rotation fails (a full disk), appends before it is tried again.
ROTATE_RETRY = 1000

_SEGMENT = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.(\d+))?$")
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")

#: The day an event belongs to (the segment it is stored in).
DayOf = Callable[[Event], date]
#: The hub's state for a checkpoint: (seq, state), the state right after that seq.
StateOf = Callable[[], tuple[int, dict[str, Any]]]


def event_day(event: Event) -> date:
    """The event's date in its own offset: the day as it was before `--timezone`."""
    return event.ts.date()


@dataclass(slots=True)
class Segment:
    """A closed segment: its records are the seqs after_seq+1 .. last_seq."""

    path: Path
    day: date
    after_seq: int
    last_seq: int
    hub_id: str = ""


@dataclass(slots=True)
class DayRecovery:
    """What `DayJournal.open` found: a checkpoint (or None) and the records after it."""

    checkpoint: HubCheckpoint | None = None
    records: Iterator[tuple[EventFrame, str]] = field(default_factory=lambda: iter(()))
    torn_bytes: int = 0
    created: bool = False
    #: The checkpoints that did not verify, each in words (file and byte offset).
    refused: list[str] = field(default_factory=list)


class DayJournal:
    """The journal as a current segment, closed days and checkpoints (module docstring)."""

    def __init__(
        self,
        path: Path,
        current: Journal,
        closed: list[Segment],
        keep_days: int,
        day_of: DayOf,
        fsync: bool = False,
    ) -> None:
        self.path = path
        self._fsync = fsync
        self.current = current
        self.closed = closed
        self.keep_days = keep_days
        self.day_of = day_of
        #: The day of the current segment's records (None until it has one).
        self.day: date | None = None
        self._state: StateOf | None = None
        self._rotate_wait = 0
        self._loaded: dict[Path, Journal] = {}

    @property
    def hub_id(self) -> str:
        """The hub every segment and checkpoint belongs to."""
        return self.current.hub_id

    @property
    def last_seq(self) -> int:
        """The seq of the newest record (the current segment's after_seq when it has none)."""
        return self.current.last_seq

    @property
    def first_seq(self) -> int:
        """The oldest seq a reader can start after: older records were pruned."""
        return self.closed[0].after_seq if self.closed else self.current.after_seq

    # ----- opening ---------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        keep_days: int = KEEP_DAYS,
        day_of: DayOf = event_day,
        fsync: bool = False,
    ) -> tuple[DayJournal, DayRecovery]:
        """Open (or create) the journal; iterate `records` to the end before appending."""
        if keep_days < 1:
            raise ValueError(f"keep_days must be at least 1, got {keep_days}")
        path = Path(path)
        closed = cls._closed_segments(path)
        recovery = DayRecovery()
        if closed and not (path.exists() and path.stat().st_size > 0):
            # Stopped between renaming the day and starting the next: start it now.
            last = closed[-1]
            log.warning(
                "%s: missing after %s (the hub stopped while starting a new day); "
                "starting it after seq %d",
                path,
                last.path.name,
                last.last_seq,
            )
            current, opened = Journal.open(
                path, fsync, hub_id=Journal.peek(last.path)[0], after_seq=last.last_seq
            )
        else:
            current, opened = Journal.open(path, fsync)
            recovery.created = opened.created
        recovery.torn_bytes = opened.torn_bytes
        journal = cls(path, current, closed, keep_days, day_of, fsync)
        journal._check_chain()
        current_last = Journal.peek(path)[2]
        checkpoint = journal._newest_checkpoint(current_last, recovery.refused)
        if checkpoint is None and journal.first_seq > 0:
            problems = "; ".join(recovery.refused) or "there is none"
            raise JournalError(
                f"{path}: no usable checkpoint ({problems}) and the oldest segment "
                f"starts after seq {journal.first_seq}: the hub's state before it is gone "
                "(restore a checkpoint, or move the journal aside to start a new hub)"
            )
        recovery.checkpoint = checkpoint
        recovery.records = journal._records_after(
            checkpoint.seq if checkpoint else 0, opened.records
        )
        return journal, recovery

    @staticmethod
    def _closed_segments(path: Path) -> list[Segment]:
        prefix = path.name + "."
        found: list[Segment] = []
        if not path.parent.is_dir():
            return found
        for entry in path.parent.iterdir():
            if not entry.name.startswith(prefix):
                continue
            match = _SEGMENT.match(entry.name[len(prefix) :])
            if match is None:
                continue
            hub_id, after, last = Journal.peek(entry)
            found.append(Segment(entry, date.fromisoformat(match.group(1)), after, last, hub_id))
        found.sort(key=lambda s: (s.after_seq, s.last_seq))
        return found

    def _check_chain(self) -> None:
        """Each segment must start where the one before ends: a hole is refused."""
        for segment in self.closed:
            if segment.hub_id != self.hub_id:
                raise JournalError(f"{segment.path}: written by another hub than {self.path}")
        chain = [(s.path, s.after_seq, s.last_seq) for s in self.closed]
        chain.append((self.path, self.current.after_seq, -1))
        for (before, _, last), (after, start, _) in itertools.pairwise(chain):
            if start == last:
                continue
            if start > last:
                raise JournalError(
                    f"{after}: seq gap between segments: it starts after seq {start} but "
                    f"{before.name} ends at seq {last}, so the records of seqs {last + 1} to "
                    f"{start} are missing (a segment was removed or cut short); a restart or "
                    "resume across the hole would skip them silently"
                )
            raise JournalError(
                f"{after}: starts after seq {start} but {before.name} already ends at seq "
                f"{last}: the segments overlap, the journal is damaged"
            )

    def _checkpoint_paths(self) -> list[tuple[int, Path]]:
        prefix = self.path.name + "."
        out: list[tuple[int, Path]] = []
        for entry in self.path.parent.iterdir():
            if entry.name.startswith(prefix):
                match = _CHECKPOINT.match(entry.name[len(prefix) :])
                if match is not None:
                    out.append((int(match.group(1)), entry))
        return sorted(out, reverse=True)

    def _newest_checkpoint(self, last_seq: int, refused: list[str]) -> HubCheckpoint | None:
        for seq, path in self._checkpoint_paths():
            if not self.first_seq <= seq <= last_seq:
                continue  # older than what is kept, or after the records (not ours)
            try:
                checkpoint = read_checkpoint(path)
                if checkpoint.hub_id != self.hub_id or checkpoint.seq != seq:
                    raise CheckpointError(
                        f"{path}: byte offset 0: its header says hub {checkpoint.hub_id} seq "
                        f"{checkpoint.seq}, the journal is hub {self.hub_id} and the name "
                        f"says seq {seq}"
                    )
            except CheckpointError as exc:
                log.warning("%s; trying an older one", exc)
                refused.append(str(exc))
                continue
            return checkpoint
        return None

    def _records_after(
        self, seq: int, current: Iterator[tuple[EventFrame, str]]
    ) -> Iterator[tuple[EventFrame, str]]:
        """The records after `seq`: from closed segments (a fallback) then the current one."""
        for segment in self.closed:
            if segment.last_seq <= seq:
                continue
            for frame, text in self._load(segment).records:
                if frame.seq > seq:
                    yield frame, text
        for frame, text in current:
            if self.day is None:
                self.day = self.day_of(frame.event)
            if frame.seq > seq:
                yield frame, text

    def _load(self, segment: Segment) -> _Loaded:
        journal, recovery = Journal.open(segment.path)
        journal.close()  # read only: its records are verified as they are read
        return _Loaded(journal, recovery.records, self._loaded)

    # ----- appending -------------------------------------------------------------

    def keep_state(self, state: StateOf) -> None:
        """How to get the hub's state for a checkpoint when a new day begins."""
        self._state = state

    def append(self, seq: int, frame_text: str, event: Event) -> None:
        """Store one record in its day's segment (`Journal.append`'s errors and guarantees)."""
        day = self.day_of(event)
        if self.day is None:
            self.day = day
        elif day > self.day:
            self._rotate(day)
        self.current.append(seq, frame_text)

    def _rotate(self, day: date) -> None:
        """Checkpoint, close the current day under its name, start the next, prune."""
        if self._rotate_wait > 0:
            self._rotate_wait -= 1
            return
        if self._state is None:
            return
        assert self.day is not None
        seq, state = self._state()
        closed = self.path.with_name(f"{self.path.name}.{self.day.isoformat()}")
        n = 1
        while closed.exists():
            n += 1
            closed = self.path.with_name(f"{self.path.name}.{self.day.isoformat()}.{n}")
        try:
            write_checkpoint(
                self.path.with_name(f"{self.path.name}.checkpoint-{seq}"), self.hub_id, seq, state
            )
            os.rename(self.path, closed)
        except OSError as exc:
            # The day goes on in the current segment; nothing is lost, only longer.
            self._rotate_wait = ROTATE_RETRY
            log.error(
                "%s: cannot start the day %s (%s); the records stay in the current segment",
                self.path,
                day,
                exc.strerror or exc,
            )
            return
        self.closed.append(Segment(closed, self.day, self.current.after_seq, seq, self.hub_id))
        self.current.close()
        self.current, _ = Journal.open(self.path, self._fsync, hub_id=self.hub_id, after_seq=seq)
        log.info("journal: day %s closed as %s at seq %d; %s begins", self.day, closed, seq, day)
        self.day = day
        self._prune()

    def _prune(self) -> None:
        """Delete the closed days before the last `keep_days`, then checkpoints before them."""
        assert self.day is not None
        first_kept = self.day - timedelta(days=self.keep_days - 1)
        while self.closed:
            ends = self.closed[1].day if len(self.closed) > 1 else self.day
            if ends > first_kept:
                break
            segment = self.closed.pop(0)
            self._loaded.pop(segment.path, None)
            segment.path.unlink(missing_ok=True)
            log.info("journal: %s deleted (older than %d days)", segment.path, self.keep_days)
        checkpoints = self._checkpoint_paths()
        for seq, path in checkpoints[1:]:
            if seq < self.first_seq:
                path.unlink(missing_ok=True)

    def close(self) -> None:
        """Close the current segment; a later append raises `JournalError`."""
        self.current.close()

    # ----- reading ---------------------------------------------------------------

    def reader(self, since: int) -> DayReader:
        """A reader of the records after `since`, across segments."""
        return DayReader(self, since)

    def segment_for(self, since: int) -> Journal | None:
        """The journal file that holds seq since+1 (None: pruned, or past the end)."""
        if since >= self.current.after_seq:
            return self.current
        starts = [s.after_seq for s in self.closed]
        i = bisect.bisect_right(starts, since) - 1
        if i < 0:
            return None
        segment = self.closed[i]
        loaded = self._loaded.get(segment.path)
        if loaded is None:
            # Indexed once, checking every record's checksum and seq on the way.
            loaded = Journal.indexed(segment.path)
            if loaded.last_seq != segment.last_seq:
                # Cut short after it was closed (a torn last line is not served): the
                # records up to the next day's first are missing, not a gap to read past.
                raise JournalError(
                    f"{segment.path}: cut short after closing: ends at seq {loaded.last_seq} "
                    f"(byte offset {loaded.data_end}), closed at seq {segment.last_seq}"
                )
            self._loaded[segment.path] = loaded
        return loaded


class _Loaded:
    """A closed segment being read: remembered (with its index) once read to the end."""

    def __init__(
        self,
        journal: Journal,
        records: Iterator[tuple[EventFrame, str]],
        cache: dict[Path, Journal],
    ) -> None:
        self.journal = journal
        self._records = records
        self._cache = cache

    @property
    def records(self) -> Iterator[tuple[EventFrame, str]]:
        yield from self._records
        self._cache[self.journal.path] = self.journal


class DayReader:
    """Reads (seq, frame text) after a seq from whichever segments hold them."""

    def __init__(self, journal: DayJournal, since: int) -> None:
        self._journal = journal
        self._since = since
        #: Why reading stopped short of the newest record, in words naming the file and
        #: byte offset (a closed day damaged after it was closed); None when it did not.
        self.problem: str | None = None

    def chunk(self, max_records: int) -> list[tuple[int, str]]:
        """The next records (at most `max_records`); [] at the end, when pruned meanwhile,
        or when a closed day turns out damaged (logged, and said in `problem`: the
        subscriber re-syncs from a snapshot)."""
        out: list[tuple[int, str]] = []
        exhausted: Journal | None = None
        while len(out) < max_records:
            try:
                segment = self._journal.segment_for(self._since)
            except JournalError as exc:
                log.error("%s; a subscriber resuming into it gets a snapshot instead", exc)
                self.problem = str(exc)
                break
            if segment is None:
                break
            try:
                got = segment.reader(self._since).chunk(max_records - len(out))
            except OSError:
                break  # deleted by pruning while we read: the subscriber re-syncs
            if not got:
                if segment is self._journal.current:
                    break
                if segment is exhausted:
                    # Asked again after giving nothing: damaged after it was indexed (it
                    # reads back shorter than it was), it would be asked for ever.
                    self.problem = (
                        f"{segment.path}: gives no record after seq {self._since} "
                        f"though the day was closed at seq {segment.last_seq}"
                    )
                    log.error("%s; a subscriber resuming into it gets a snapshot", self.problem)
                    break
                exhausted = segment
                # The end of a closed day: the next segment starts right after it.
                self._since = segment.last_seq
                continue
            exhausted = None
            out.extend(got)
            self._since = got[-1][0]
        return out
