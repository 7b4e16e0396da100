"""`FollowSource.resume_from`: a follower restarted at a position an earlier one gave.

Real files, the real adapters, the production queue_log: a follower is run, its
positions kept as a journaled hub keeps them, and a new follower resumed from
one of them must yield exactly what the first would have yielded next, with
the adapter's memory of the calls as it was, whatever happened to the file in
between (more lines, a rotation, a truncation).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from classifier.schema import Event
from monitor.sources import FollowSource, iter_source
from monitor.sources.follow import _still_relevant
from monitor.sources.reader import LineEvent
from tests.cli_support import REAL_QUEUE_LOG as QUEUE_LOG
from tests.hub_support import DEADLINE

FMT = "asterisk-queue-log"


def file_events(path: Path) -> list[Event]:
    """Every event of a whole file, as `classify` reads it."""
    return [item.event for item in iter_source(path, FMT) if isinstance(item, LineEvent)]


class Run:
    """A follower being read: events taken a few at a time, each with its position."""

    def __init__(self, source: FollowSource) -> None:
        self.source = source
        self.events = aiter(source)

    async def take(self, count: int) -> list[tuple[Event, dict[str, Any]]]:
        out: list[tuple[Event, dict[str, Any]]] = []
        while len(out) < count:
            event = await asyncio.wait_for(anext(self.events), DEADLINE)
            assert self.source.position is not None
            out.append((event, dict(self.source.position)))
        return out

    async def close(self) -> None:
        await self.events.aclose()  # type: ignore[attr-defined]


async def take(source: FollowSource, count: int) -> list[tuple[Event, dict[str, Any]]]:
    """The first `count` events of `source`, each with the position it gave."""
    run = Run(source)
    try:
        return await run.take(count)
    finally:
        await run.close()


def where(position: dict[str, Any]) -> tuple[Any, ...]:
    """A position without its files' head digests (they cover what was read so far)."""
    files = tuple((f["ino"], f["offset"], f["line"]) for f in position["files"])
    return files, position["from"], position.get("index"), position.get("catchup")


def resumed(path: Path, position: dict[str, Any], problems: list[str]) -> FollowSource:
    source = FollowSource(path, FMT, poll_interval=0.01, on_problem=problems.append)
    source.resume_from(position)
    return source


async def test_resumes_after_any_event_of_the_real_log(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_bytes(QUEUE_LOG.read_bytes())
    expected = file_events(path)
    first = await take(FollowSource(path, FMT, from_start=True), len(expected))
    assert [event for event, _ in first] == expected
    # Every 97th event, and each event that is the first of a two-event line (a
    # RINGNOANSWER is a ringing and a no-answer: the resume starts mid-line).
    mid_line = [k for k in range(len(first) - 1) if first[k + 1][1].get("index") == 1]
    assert mid_line
    problems: list[str] = []
    for k in sorted({*range(0, len(first) - 1, 97), *mid_line[::40], len(first) - 2}):
        rest = await take(resumed(path, first[k][1], problems), len(first) - k - 1)
        assert [event for event, _ in rest] == expected[k + 1 :], k
        assert [where(pos) for _, pos in rest] == [where(pos) for _, pos in first[k + 1 :]], k
    assert problems == []


async def test_the_adapter_remembers_what_it_read_before_the_position(tmp_path: Path) -> None:
    # A DID kept for a call that queues later, and a callid whose second queue
    # visit is a call of its own: both known only from lines before the position.
    path = tmp_path / "queue_log"
    path.write_bytes(
        b"1763900000|b.1|NONE|NONE|DID|5551000\n"
        b"1763900001|a.1|sales|NONE|ENTERQUEUE||5550001|1\n"
        b"1763900005|a.1|sales|NONE|ABANDON|1|1|4\n"
    )
    first = await take(FollowSource(path, FMT, from_start=True), 3)
    with path.open("ab") as f:
        f.write(
            b"1763900010|b.1|sales|NONE|ENTERQUEUE||5550002|1\n"
            b"1763900011|a.1|support|NONE|ENTERQUEUE||5550001|1\n"
        )
    problems: list[str] = []
    rest = await take(resumed(path, first[-1][1], problems), 4)
    assert [(e.type, e.call_id) for e, _ in rest] == [
        ("call.started", "b.1"),
        ("queue.entered", "b.1"),
        ("call.started", "a.1#2"),
        ("queue.entered", "a.1#2"),
    ]
    assert rest[0][0].model_dump(by_alias=True)["to"] == "5551000"
    assert problems == []


async def test_resumes_from_the_catch_up_of_a_file_joined_mid_day(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    lines = QUEUE_LOG.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:520]))
    count = len(_still_relevant(file_events(path)))
    # Without from_start: first what is still relevant (presence, open calls),
    # then each new line.
    run = Run(FollowSource(path, FMT, poll_interval=0.01))
    try:
        caught_up = await run.take(count)
        with path.open("ab") as f:
            f.write(b"".join(lines[520:]))
        news = await run.take(50)
    finally:
        await run.close()
    assert all("catchup" in pos for _, pos in caught_up)
    assert all("index" in pos for _, pos in news)
    first = caught_up + news
    problems: list[str] = []
    for k in (0, count // 2, count - 1):
        rest = await take(resumed(path, caught_up[k][1], problems), len(first) - k - 1)
        assert [e for e, _ in rest] == [e for e, _ in first[k + 1 :]], k
        assert [where(pos) for _, pos in rest] == [where(pos) for _, pos in first[k + 1 :]], k
    assert problems == []


async def test_a_file_rotated_while_down_is_read_to_its_end_then_the_new_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "queue_log"
    lines = QUEUE_LOG.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:300]))
    done = len(file_events(path))
    first = await take(FollowSource(path, FMT, from_start=True), done)
    # While the hub is down: more lines, then logrotate renames the file away
    # and the writer starts a new one.
    with path.open("ab") as f:
        f.write(b"".join(lines[300:350]))
    path.rename(tmp_path / "queue_log.1")
    path.write_bytes(b"".join(lines[350:]))
    problems: list[str] = []
    expected = file_events(QUEUE_LOG)
    rest = await take(resumed(path, first[-1][1], problems), len(expected) - done)
    assert [e for e, _ in rest] == expected[done:]
    assert problems == []


async def test_a_file_truncated_while_down_is_reported_and_read_from_its_start(
    tmp_path: Path,
) -> None:
    path = tmp_path / "queue_log"
    lines = QUEUE_LOG.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:300]))
    first = await take(FollowSource(path, FMT, from_start=True), len(file_events(path)))
    # copytruncate while the hub is down, and the writer outgrows the old file.
    with path.open("r+b") as f:
        f.truncate(0)
        f.write(b"".join(lines[300:]))
    problems: list[str] = []
    expected = file_events(path)
    rest = await take(resumed(path, first[-1][1], problems), len(expected))
    assert [e for e, _ in rest] == expected
    last_line = first[-1][1]["files"][0]["line"]
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:{last_line}: the file followed before the restart")
    assert "truncated or replaced" in problems[0]


BIG_HEAD = {"ino": 1, "head": "00", "head_len": 10**12, "offset": 0, "line": 0}


@pytest.mark.parametrize(
    "position",
    [
        {"source": "x", "files": [{"ino": "1"}], "from": 0},
        {"source": "x", "files": [BIG_HEAD], "from": 0, "index": 0},
        {"source": "x", "pass": 1, "line": 40, "index": 0},
    ],
    ids=["damaged", "head-too-long", "a-replay-position"],
)
async def test_a_position_it_cannot_read_is_reported_and_the_file_caught_up_on(
    tmp_path: Path, position: dict[str, Any]
) -> None:
    path = tmp_path / "queue_log"
    lines = QUEUE_LOG.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:520]))
    problems: list[str] = []
    source = resumed(path, position, problems)
    relevant = _still_relevant(file_events(path))
    assert [e for e, _ in await take(source, len(relevant))] == relevant
    assert len(problems) == 1 and "journal position not understood" in problems[0]


async def test_resumes_mid_line_in_a_file_rotated_away_before_its_successor_exists(
    tmp_path: Path,
) -> None:
    path = tmp_path / "queue_log"
    lines = QUEUE_LOG.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:300]))
    old = file_events(path)
    first = await take(FollowSource(path, FMT, from_start=True), len(old))
    # The first of a two-event line near the end: a kill between the two.
    k = max(k for k in range(len(first) - 1) if first[k + 1][1]["index"] == 1)
    path.rename(tmp_path / "queue_log.1")
    problems: list[str] = []
    run = Run(resumed(path, first[k][1], problems))
    try:
        # The rest of the rotated file comes while there is no file at the path.
        rest = await run.take(len(old) - k - 1)
        path.write_bytes(b"".join(lines[300:]))
        expected = file_events(QUEUE_LOG)
        rest += await run.take(len(expected) - len(old))
    finally:
        await run.close()
    assert [e for e, _ in rest] == expected[k + 1 :]
    assert problems == []
