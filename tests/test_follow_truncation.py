"""A copytruncate that the file outgrows within one poll: still seen as a truncation.

Size alone cannot tell it: the file is bigger than the offset read so far. The
race is driven deterministically, with real files: between two reads of the
follower the file is truncated in place and written past its old size.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from classifier.schema import Event
from monitor.sources import follow_source, iter_source
from monitor.sources.follow import HEAD, _Tail
from monitor.sources.reader import LineError, LineEvent
from tests.cli_support import REAL_QUEUE_LOG as QUEUE_LOG
from tests.hub_support import DEADLINE

FMT = "asterisk-queue-log"


def queue_lines(first: int, count: int) -> list[bytes]:
    """`count` answered-call lines, numbered from `first` (about 50 bytes each)."""
    return [
        f"{1763900000 + n}|{n}.1|sales|SIP/201|CONNECT|4|{n}.9|2\n".encode()
        for n in range(first, first + count)
    ]


@pytest.mark.parametrize(
    "same_head",
    [False, True],
    ids=["new-head", "same-first-kilobyte"],
)
def test_truncated_and_written_past_the_old_size_between_two_reads(
    tmp_path: Path, same_head: bool
) -> None:
    path = tmp_path / "queue_log"
    old = queue_lines(0, 40)
    path.write_bytes(b"".join(old))
    assert path.stat().st_size > HEAD
    tail = _Tail(path)
    assert tail.open()
    try:
        assert [number for number, _, _ in tail.read()] == list(range(1, 41))
        # copytruncate, then the writer goes on: more bytes than were read. With
        # `same_head` the new file even starts with the old one's first kilobyte,
        # so only the bytes before the old offset tell.
        new = old[:25] if same_head else []
        new += queue_lines(1000, 60 - len(new))
        with path.open("r+b") as f:
            f.truncate(0)
            f.write(b"".join(new))
        assert path.stat().st_size > tail.position
        lines = tail.read()
    finally:
        tail.close()
    assert lines == [
        (n + 1, sum(map(len, new[: n + 1])), raw.rstrip(b"\n")) for n, raw in enumerate(new)
    ]


async def test_the_real_log_copytruncated_and_outgrown_between_two_polls(tmp_path: Path) -> None:
    lines = QUEUE_LOG.read_bytes().splitlines(keepends=True)
    path = tmp_path / "queue_log"
    path.write_bytes(b"".join(lines[:400]))
    first = [i.event for i in iter_source(path, FMT) if isinstance(i, LineEvent)]
    expected = [i.event for i in iter_source(QUEUE_LOG, FMT) if isinstance(i, LineEvent)]
    errors: list[LineError] = []
    follower = follow_source(path, FMT, poll_interval=0.01, from_start=True, on_error=errors.append)
    seen: list[Event] = []
    try:
        # The follower stops at each event it yields: after the last of the first
        # 400 lines it has not looked at the file again yet.
        while len(seen) < len(first):
            seen.append(await asyncio.wait_for(anext(follower), DEADLINE))
        shutil.copyfile(path, tmp_path / "queue_log.1")
        with path.open("r+b") as f:
            f.truncate(0)
            f.write(b"".join(lines[400:]))
        assert path.stat().st_size > (tmp_path / "queue_log.1").stat().st_size
        while len(seen) < len(expected):
            seen.append(await asyncio.wait_for(anext(follower), DEADLINE))
    finally:
        await follower.aclose()  # type: ignore[attr-defined]
    assert seen == expected
    assert errors == []
