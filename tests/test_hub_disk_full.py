"""A real `callboard serve` whose journal cannot be written, then can again.

The disk fills up for real, as far as the hub can tell: its file size limit
(RLIMIT_FSIZE, set from outside with prlimit(2), no root or mount needed) is
lowered below the journal's next record, so write(2) writes part of it and then
fails with EFBIG (Python ignores SIGXFSZ), as on a full disk. Raising the limit
again is the disk getting room back.

What must hold while it lasts: every event is refused with the reason (producers
get `unavailable` and keep their connection; the hub's own source waits), seq,
calls in progress and subscribers' feeds are as if the refused event had never
come, /health says so and never shows a seq that was not stored, and the
journal holds whole records only. Afterwards the hub carries on by itself.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from monitor.feed.client import FeedClient
from monitor.feed.journal import Journal
from tests.cli_support import start_callboard
from tests.hub_support import (
    DEADLINE,
    Follower,
    ServeProcess,
    classify_cli,
    make_calls,
    wait_for,
    wait_for_sync,
    write_log,
)

pytestmark = pytest.mark.slow


def health(hub: ServeProcess) -> dict[str, Any]:
    url = hub.url.replace("ws://", "http://").replace("/events", "/health")
    with urllib.request.urlopen(url, timeout=DEADLINE) as response:
        data: dict[str, Any] = json.load(response)
    return data


def set_file_size_limit(hub: ServeProcess, limit: int) -> None:
    """The most bytes the hub process may write into any file (its "disk space")."""
    _, hard = resource.prlimit(hub.proc.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(hub.proc.pid, resource.RLIMIT_FSIZE, (limit, hard))


def limit_file_size(limit: int) -> Callable[[], None]:
    """A preexec function: the child starts with its files limited to `limit` bytes."""

    def preexec() -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))

    return preexec


async def publish(producer: ClientConnection, text: str) -> dict[str, Any]:
    await producer.send(text)
    answer: dict[str, Any] = json.loads(await producer.recv())
    return answer


def journal_seqs(path: Path) -> list[int]:
    """The seqs of the journal's records, read as text (each: checksum, space, frame)."""
    lines = path.read_text().splitlines()[1:]
    return [json.loads(line.split(" ", 1)[1])["seq"] for line in lines]


async def test_a_full_disk_refuses_producers_then_the_hub_recovers_by_itself(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "hub.journal"
    args = ["--port", "0", "--journal", str(journal)]
    events = make_calls(4)  # 20 events; call 2's are seqs 11 to 15
    hub = ServeProcess(args)
    try:
        follower = Follower(FeedClient(hub.url, backoff_initial=0.05))
        await wait_for(lambda: len(follower.snapshots) == 1, "the subscriber's snapshot")
        async with connect(hub.url.replace("/events", "/publish")) as producer:
            for seq, event in enumerate(events[:12], start=1):
                assert await publish(producer, event.to_json()) == {"frame": "ack", "seq": seq}
            before = health(hub)
            size = journal.stat().st_size
            # Room for 40 more bytes: less than one record.
            set_file_size_limit(hub, size + 40)
            for attempt in (1, 2):
                answer = await publish(producer, events[12].to_json())
                assert answer == {
                    "frame": "error",
                    "code": "unavailable",
                    "problem": "journal write failed: File too large; retrying",
                    "n": 12 + attempt,
                }
            during = health(hub)
            assert during["seq"] == 12  # never a seq that was not stored
            assert during["journal_failure"] == "journal write failed: File too large; retrying"
            assert during["counters"]["journal_failures"] == 2
            assert during["counters"]["accepted"] == 12
            for same in ("calls_in_progress", "ring", "subscribers"):
                assert during[same] == before[same], same
            assert journal.stat().st_size == size  # the partial record was cut off
            assert journal_seqs(journal) == list(range(1, 13))
            # Room again: the very event that was refused is accepted, not a duplicate
            # (the hub's calls never held it), under the next seq.
            set_file_size_limit(hub, resource.RLIM_INFINITY)
            assert await publish(producer, events[12].to_json()) == {"frame": "ack", "seq": 13}
            for seq, event in enumerate(events[13:], start=14):
                assert await publish(producer, event.to_json()) == {"frame": "ack", "seq": seq}
        after = health(hub)
        assert after["seq"] == 20 and after["journal_failure"] is None
        assert after["calls_in_progress"] == 0
        await wait_for(lambda: follower.seqs[-1:] == [20], "the subscriber to reach seq 20")
        assert follower.seqs == list(range(1, 21))  # no gap, nothing twice
        assert len(follower.verdicts) == 4
        await follower.stop()
        log = hub.drain()
        assert "hub.journal: write failed: File too large; refusing events" in log
        assert "journal writes succeed again (seq 13)" in log
        assert hub.terminate() == 0
    finally:
        if hub.proc.poll() is None:
            hub.kill()
    assert journal_seqs(journal) == list(range(1, 21))
    again = ServeProcess(args)
    try:
        assert "seq 20)" in again.lines[-1]
        assert "torn" not in again.drain()
    finally:
        assert again.terminate() == 0


def test_a_replay_waits_for_the_disk_and_tail_until_finished_ends(tmp_path: Path) -> None:
    log = write_log(tmp_path / "calls.jsonl", make_calls(40))  # 200 events
    expected = classify_cli(log)
    journal = tmp_path / "hub.journal"
    # A "disk" of 5,000 bytes: the header and a dozen records fit, the replay does not.
    args = [str(log), "--port", "0", "--speed", "0", "--journal", str(journal)]
    hub = ServeProcess(args, preexec_fn=limit_file_size(5_000))
    tail = None
    try:
        wait_for_sync(lambda: health(hub)["journal_failure"] is not None, "a failed write")
        tail = start_callboard(
            "tail",
            hub.url,
            "--since",
            "0",
            "--until-finished",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        stuck = health(hub)
        stored = journal_seqs(journal)
        assert stored == list(range(1, len(stored) + 1)) and 0 < len(stored) < 200
        assert stuck["seq"] == len(stored)
        assert stuck["source"]["state"] == "running"  # waiting for the disk, not failed
        assert stuck["journal_failure"] == "journal write failed: File too large; retrying"
        assert tail.poll() is None
        set_file_size_limit(hub, resource.RLIM_INFINITY)
        out, err = tail.communicate(timeout=DEADLINE)
        assert tail.returncode == 0, err
        assert out == expected  # every call, once: nothing the source yielded was skipped
        done = health(hub)
        assert done["source"]["state"] == "finished"
        assert done["source"]["final_seq"] == done["seq"] == 200
        assert done["journal_failure"] is None
        assert journal_seqs(journal) == list(range(1, 201))
        assert hub.terminate() == 0
    finally:
        if tail is not None and tail.poll() is None:
            tail.kill()
        if hub.proc.poll() is None:
            hub.kill()


def test_a_journal_that_cannot_even_take_its_header_is_a_clear_exit(tmp_path: Path) -> None:
    journal = tmp_path / "hub.journal"
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "serve", "--port", "0", "--journal", str(journal)],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
        preexec_fn=limit_file_size(20),  # a "disk" smaller than the header
    )
    assert done.returncode == 2, done.stderr
    assert "hub.journal: cannot write the journal header: File too large" in done.stderr
    assert "cannot listen" not in done.stderr
    # The half header left behind is dropped as a torn line: a later start begins afresh.
    assert journal.stat().st_size == 20
    again, recovery = Journal.open(journal)
    again.close()
    assert recovery.created
