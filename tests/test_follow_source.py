"""`follow_source`: a real file that another process appends to, rotates and truncates.

The assertions are on content (every call seen, each exactly once, nothing
misread), never on how long anything took: each wait polls for a condition
with a generous deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

from classifier.schema import AgentStatus, CallEnded, CallStarted, Event
from monitor.sources import follow_source
from monitor.sources.follow import _Tail
from monitor.sources.reader import LineError
from tests.hub_support import DEADLINE, wait_for

FMT = "asterisk-queue-log"

#: A process that writes a queue_log as Asterisk and logrotate would: each
#: line in two writes (so a reader can catch half a line), and every
#: ROTATE_EVERY calls the file is renamed away and a new one started. Before
#: each rotation it waits for a word on stdin: two rotations within one poll
#: would hide the middle file from any tail -F, so the test lets the follower
#: finish a file first (a daily logrotate is far slower than that).
WRITER = textwrap.dedent(
    """
    import os, sys, time
    path, calls, rotate_every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    out = open(path, "ab", buffering=0)
    for n in range(calls):
        t = 1763900000 + 10 * n
        cid = f"{t}.{n}"
        for line in (
            f"{t}|{cid}|sales|NONE|ENTERQUEUE||555{n:04d}|1",
            f"{t + 3}|{cid}|sales|SIP/20{n % 3}|RINGNOANSWER|2000",
            f"{t + 5}|{cid}|sales|SIP/21{n % 3}|CONNECT|5|{t + 4}.9|1",
            f"{t + 9}|{cid}|sales|SIP/21{n % 3}|COMPLETECALLER|5|4|1",
        ):
            data = (line + "\\n").encode()
            out.write(data[:17])
            time.sleep(0.0005)
            out.write(data[17:])
        if (n + 1) % rotate_every == 0:
            sys.stdin.readline()
            out.close()
            os.rename(path, f"{path}.{n + 1}")
            out = open(path, "ab", buffering=0)
    out.close()
    """
)


class Collector:
    """Runs a follower in a task and keeps everything it yields."""

    def __init__(self, path: Path, from_start: bool = False) -> None:
        self.events: list[Event] = []
        self.errors: list[LineError] = []
        self._task = asyncio.create_task(self._run(path, from_start))

    async def _run(self, path: Path, from_start: bool) -> None:
        async for event in follow_source(
            path, FMT, poll_interval=0.01, from_start=from_start, on_error=self.errors.append
        ):
            self.events.append(event)

    async def wait_for(self, what: str, check: Callable[[], bool]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEADLINE
        while not check():
            assert not self._task.done(), f"follower stopped: {self._task}"
            assert loop.time() < deadline, f"gave up waiting for {what}; saw {self.summary()}"
            await asyncio.sleep(0.02)

    def has_ended(self, count: int) -> bool:
        return len(self.ended()) >= count

    def ended(self) -> Counter[str]:
        return Counter(e.call_id for e in self.events if isinstance(e, CallEnded))

    def started(self) -> Counter[str]:
        return Counter(e.call_id for e in self.events if isinstance(e, CallStarted))

    def summary(self) -> str:
        return f"{len(self.events)} events, ended {len(self.ended())}, errors {self.errors[:3]}"

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def test_every_call_seen_once_while_another_process_writes_and_rotates(
    tmp_path: Path,
) -> None:
    path = tmp_path / "queue_log"
    path.write_bytes(b"1763899990|MANAGER|sales|SIP/201|ADDMEMBER|\n")
    calls, rotate_every = 60, 15
    collector = Collector(path, from_start=True)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(calls), str(rotate_every)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdin is not None
    try:
        for batch in range(1, calls // rotate_every + 1):
            done = batch * rotate_every
            await collector.wait_for(f"{done} calls", partial(collector.has_ended, done))
            # The writer rotates now and goes straight on writing into the new file.
            writer.stdin.write("rotate\n")
            writer.stdin.flush()
        assert writer.wait(timeout=DEADLINE) == 0
    finally:
        writer.kill()
        writer.wait()
        await collector.stop()
    expected = {f"{1763900000 + 10 * n}.{n}" for n in range(calls)}
    assert collector.errors == []
    assert collector.started() == Counter(expected)
    assert collector.ended() == Counter(expected)
    # Every event of every call, in order: nothing lost or duplicated at a rotation.
    types = Counter(e.type for e in collector.events)
    assert types["agent.answered"] == calls
    assert types["agent.no_answer"] == calls
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "queue_log",
        "queue_log.15",
        "queue_log.30",
        "queue_log.45",
        "queue_log.60",
    ]


async def test_waits_for_the_file_then_follows_truncation_and_rotation(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    collector = Collector(path)
    # Let the follower take its first step (finding no file) before there is one:
    # a task runs up to its first await when the loop gets control back.
    await asyncio.sleep(0)
    # No file yet: the follower waits for one, as tail -F does, and reads all of it.
    path.write_bytes(
        b"1763900000|1.1|sales|NONE|ENTERQUEUE||5550001|1\n"
        b"1763900030|1.1|sales|NONE|ABANDON|1|1|30\n"
    )
    await collector.wait_for("call 1.1", lambda: collector.ended()["1.1"] == 1)
    # copytruncate: the file is emptied in place and written again from the top.
    with open(path, "r+b") as out:
        out.truncate(0)
    with open(path, "ab") as out:
        out.write(b"1763900100|2.2|sales|NONE|ENTERQUEUE||5550002|1\n")
    await collector.wait_for("call 2.2", lambda: collector.started()["2.2"] == 1)
    # logrotate's create: renamed away and a new file made at the path; the
    # writer (told by postrotate) moves over later, so its last line still
    # lands in the old file after the new one is being read.
    os.rename(path, tmp_path / "queue_log.1")
    path.write_bytes(b"1763900200|3.3|sales|NONE|ENTERQUEUE||5550003|1\n")
    await collector.wait_for("call 3.3", lambda: collector.started()["3.3"] == 1)
    with open(tmp_path / "queue_log.1", "ab") as old:
        old.write(b"1763900150|2.2|sales|NONE|EXITEMPTY|1|1|50\n")
    await collector.wait_for("the end of 2.2", lambda: collector.ended()["2.2"] == 1)
    await collector.stop()
    assert collector.errors == []
    assert collector.started() == Counter({"1.1": 1, "2.2": 1, "3.3": 1})


async def test_joining_late_shows_presence_and_open_calls_only(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_bytes(
        b"1763900000|MANAGER|sales|SIP/201|ADDMEMBER|\n"
        b"1763900001|MANAGER|sales|SIP/202|ADDMEMBER|\n"
        b"1763900002|NONE|sales|SIP/202|PAUSE|lunch\n"
        b"1763900010|1.1|sales|NONE|ENTERQUEUE||5550001|1\n"
        b"1763900040|1.1|sales|NONE|ABANDON|1|1|30\n"
        b"1763900050|2.2|sales|NONE|ENTERQUEUE||5550002|1\n"
        b"1763900055|2.2|sales|SIP/201|CONNECT|5|1763900050.3|2\n"
        b"not a queue_log line\n"
    )
    collector = Collector(path)
    await collector.wait_for("the open call", lambda: collector.started()["2.2"] == 1)
    await collector.wait_for("the bad line's report", lambda: len(collector.errors) == 1)
    history = [(e.type, e.call_id) for e in collector.events]
    # The latest presence of each agent, then the open call 2.2; the finished
    # call 1.1 belongs to the past and is not replayed.
    assert history == [
        ("agent.status", ""),
        ("agent.status", ""),
        ("call.started", "2.2"),
        ("queue.entered", "2.2"),
        ("agent.ringing", "2.2"),
        ("agent.answered", "2.2"),
    ]
    paused = [e for e in collector.events if isinstance(e, AgentStatus) and e.agent == "202"]
    assert paused[0].status.value == "paused"
    assert collector.errors[0].line == 8
    with open(path, "ab") as out:
        out.write(b"1763900100|2.2|sales|SIP/201|COMPLETEAGENT|5|45|1\n")
    await collector.wait_for("the end of 2.2", lambda: collector.ended()["2.2"] == 1)
    await collector.stop()


def test_half_a_line_waits_for_its_newline(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_bytes(b"1763900000|1.1|sales|NONE|ENTERQ")
    tail = _Tail(path)
    assert tail.open()
    try:
        assert tail.read() == []
        with open(path, "ab") as out:
            out.write(b"UEUE||5550001|1\n1763900001|1.1|sa")
        first = b"1763900000|1.1|sales|NONE|ENTERQUEUE||5550001|1"
        assert tail.read() == [(1, len(first) + 1, first)]
        with open(path, "ab") as out:
            out.write(b"les|NONE|ABANDON|1|1|1\r\n")
        second = b"1763900001|1.1|sales|NONE|ABANDON|1|1|1"
        # Each line with the offset just past its newline (its \r is not its own).
        assert tail.read() == [(2, len(first) + len(second) + 3, second)]
    finally:
        tail.close()


async def test_follows_callboard_and_exotel_json_lines_too(tmp_path: Path) -> None:
    callboard_log = tmp_path / "events.jsonl"
    callboard_log.write_text("")
    exotel_log = tmp_path / "callbacks.jsonl"
    exotel_log.write_text("")
    seen: dict[str, list[Event]] = {"callboard": [], "exotel": []}

    async def follow(path: Path, fmt: str) -> None:
        async for event in follow_source(path, fmt, poll_interval=0.01, from_start=True):
            seen[fmt].append(event)

    tasks = [
        asyncio.create_task(follow(callboard_log, "callboard")),
        asyncio.create_task(follow(exotel_log, "exotel")),
    ]
    with open(callboard_log, "a") as out:
        out.write('{"type": "call.started", "call_id": "c1", "ts": "2026-11-23T10:00:00Z"}\n')
    with open(exotel_log, "a") as out:
        out.write(
            '{"CallSid": "e1", "Status": "completed", "Direction": "inbound", '
            '"StartTime": "2026-11-23 10:00:00", "EndTime": "2026-11-23 10:01:00", '
            '"Leg1Status": "completed", "Leg2Status": "busy"}\n'
        )
    await wait_for(
        lambda: len(seen["callboard"]) >= 1 and len(seen["exotel"]) >= 2, "both logs' events"
    )
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert [(e.type, e.call_id) for e in seen["callboard"]] == [("call.started", "c1")]
    assert [(e.type, e.call_id) for e in seen["exotel"]] == [
        ("call.started", "e1"),
        ("call.ended", "e1"),
    ]


def test_a_runaway_line_is_reported_once_and_memory_stays_bounded(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_bytes(b"")
    tail = _Tail(path)
    assert tail.open()
    lines: list[tuple[int, int, bytes]] = []
    try:
        with open(path, "ab") as out:
            for _ in range(10):
                out.write(b"x" * 50_000)
                out.flush()
                lines += tail.read()
                assert len(tail.pending) <= 64 * 1024
            out.write(b"\n1763900000|1.1|sales|NONE|ABANDON|1|1|1\n")
        lines += tail.read()
        # The runaway line once, cut short (the adapter calls it too long), then
        # the next line, whole and correctly numbered.
        assert (lines[0][0], len(lines[0][2])) == (1, 64 * 1024 + 1)
        assert lines[1][::2] == (2, b"1763900000|1.1|sales|NONE|ABANDON|1|1|1")
        assert lines[1][1] == path.stat().st_size
        assert len(lines) == 2
    finally:
        tail.close()
