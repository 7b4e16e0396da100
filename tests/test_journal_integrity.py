"""Journal integrity: checksummed records, seq gaps and edits found at start, failed writes undone.

The journals here are written by a real hub (or the real `Journal`), then damaged
the way an operator or a disk would: a record deleted from the middle, a record's
JSON edited into other valid JSON. A write that fails is a real one: the file
size limit (RLIMIT_FSIZE) of this process, lowered for the duration of a few
appends (Python ignores SIGXFSZ, so the write fails with EFBIG instead of
killing the process).
"""

from __future__ import annotations

import json
import logging
import resource
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from classifier.schema import Event
from monitor.feed.hub import HubConfig, running_hub
from monitor.feed.journal import Journal, JournalError, JournalWriteError
from monitor.feed.protocol import encode_event_frame
from tests.cli_support import callboard
from tests.hub_support import make_calls


async def journaled_hub(path: Path, n_calls: int) -> list[Event]:
    """A real hub that journals `n_calls` calls (5 events each) and stops."""
    events = make_calls(n_calls)
    async with running_hub(HubConfig(port=0, journal=path)) as hub:
        for event in events:
            assert hub.publish(event).accepted
    return events


def record_lines(path: Path) -> list[bytes]:
    """The journal's lines, each with its newline (index 0 is the header)."""
    return path.read_bytes().splitlines(keepends=True)


def offset_of(lines: list[bytes], index: int) -> int:
    return sum(len(line) for line in lines[:index])


def read_all(path: Path) -> list[int]:
    """Open the journal and read every record back; the seqs."""
    journal, recovery = Journal.open(path)
    try:
        return [frame.seq for frame, _ in recovery.records]
    finally:
        journal.close()


async def test_a_record_deleted_from_the_middle_is_a_gap_named_with_its_offset(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hub.journal"
    await journaled_hub(path, 10)
    lines = record_lines(path)
    assert read_all(path) == list(range(1, 51))
    # Delete seq 20's record (line 21: the header is line 1); seq 21 moves up to its offset.
    offset = offset_of(lines, 20)
    path.write_bytes(b"".join(lines[:20] + lines[21:]))
    with pytest.raises(JournalError) as caught:
        read_all(path)
    message = str(caught.value)
    assert f"hub.journal:21: seq gap at byte offset {offset}: seq 21 follows seq 19" in message
    assert "the record of seq 20 is missing" in message
    # The real command refuses to serve that history: exit 2, the same message.
    done = callboard("serve", "--port", "0", "--journal", str(path), timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"seq gap at byte offset {offset}: seq 21 follows seq 19" in done.stderr


async def test_several_records_deleted_say_how_many(tmp_path: Path) -> None:
    path = tmp_path / "hub.journal"
    await journaled_hub(path, 4)
    lines = record_lines(path)
    path.write_bytes(b"".join(lines[:3] + lines[8:]))  # seqs 3 to 7 gone
    with pytest.raises(JournalError, match=r"the 5 records of seqs 3 to 7 are missing"):
        read_all(path)


async def test_a_valid_json_edit_fails_the_checksum_with_offset_and_seq(tmp_path: Path) -> None:
    path = tmp_path / "hub.journal"
    await journaled_hub(path, 10)
    lines = record_lines(path)
    # Seq 33 is call 6's agent.ringing: hand it to another agent, still valid JSON.
    assert b'"seq":33,' in lines[33] and b'"agent":"ann"' in lines[33]
    edited = lines[33].replace(b'"agent":"ann"', b'"agent":"bob"')
    json.loads(edited.split(b" ", 1)[1])  # still a valid frame, only the checksum tells
    path.write_bytes(b"".join([*lines[:33], edited, *lines[34:]]))
    with pytest.raises(JournalError) as caught:
        read_all(path)
    offset = offset_of(lines, 33)
    assert f"hub.journal:34: damaged record at byte offset {offset} (seq 33)" in str(caught.value)
    assert "checksum" in str(caught.value)
    done = callboard("serve", "--port", "0", "--journal", str(path), timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"damaged record at byte offset {offset} (seq 33)" in done.stderr


def test_a_torn_last_record_is_dropped_and_logged_with_its_offset(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "hub.journal"
    journal, _ = Journal.open(path)
    event = make_calls(1)[0].model_copy(update={"seq": 1})
    journal.append(1, encode_event_frame(event, 1, 1.0))
    journal.close()
    whole = path.stat().st_size
    with path.open("ab") as f:
        f.write(b'0badc0de {"frame":"event","seq":2,"rec')
    caplog.set_level(logging.WARNING)
    assert read_all(path) == [1]
    assert f"dropped a torn last line at byte offset {whole}" in caplog.text
    assert path.stat().st_size == whole


def test_a_version_1_journal_loads_without_checksums_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # What the previous release wrote: a version 1 header, bare frames.
    path = tmp_path / "old.journal"
    events = make_calls(2)
    frames = [
        encode_event_frame(e.model_copy(update={"seq": i}), i, 1.0)
        for i, e in enumerate(events, start=1)
    ]
    header = json.dumps({"journal": 1, "hub_id": "hub-0123456789ab", "created": "2026-01-01"})
    path.write_text(header + "\n" + "".join(f + "\n" for f in frames[:9]))
    caplog.set_level(logging.WARNING)
    journal, recovery = Journal.open(path)
    assert [frame.seq for frame, _ in recovery.records] == list(range(1, 10))
    assert "a version 1 journal: its records carry no checksum" in caplog.text
    # It stays version 1: appended records are bare frames, and it reads back whole.
    journal.append(10, frames[9])
    assert [seq for seq, _ in journal.reader(7)] == [8, 9, 10]
    journal.close()
    assert path.read_text().splitlines()[-1] == frames[9]
    assert read_all(path) == list(range(1, 11))
    # A gap is found in a version 1 journal too.
    lines = record_lines(path)
    path.write_bytes(b"".join(lines[:5] + lines[6:]))
    with pytest.raises(JournalError, match=r"old\.journal:6: seq gap at byte offset \d+: seq 6"):
        read_all(path)


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """This process may not write past byte `limit` of any file, for the block."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_a_failed_append_is_cut_back_and_a_later_one_succeeds(tmp_path: Path) -> None:
    path = tmp_path / "hub.journal"
    journal, _ = Journal.open(path)
    events = [e.model_copy(update={"seq": i}) for i, e in enumerate(make_calls(2), start=1)]
    frames = [encode_event_frame(e, e.seq or 0, 1.0) for e in events]
    for seq in (1, 2, 3):
        journal.append(seq, frames[seq - 1])
    size = path.stat().st_size
    # Room for half a record: the kernel writes that much, then refuses (EFBIG).
    with file_size_limit(size + 40):
        for _ in range(2):
            with pytest.raises(JournalWriteError) as caught:
                journal.append(4, frames[3])
            assert caught.value.reason == "File too large"
            assert path.stat().st_size == size  # the partial record is gone
    assert journal.last_seq == 3
    journal.append(4, frames[3])
    assert [seq for seq, _ in journal.reader(0)] == [1, 2, 3, 4]
    journal.close()
    assert read_all(path) == [1, 2, 3, 4]
