"""`callboard serve --from FORMAT PATH [--follow]`: vendor logs through the real hub."""

from __future__ import annotations

import asyncio
import json
import select
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from classifier.schema import Event
from monitor.sources.replay_source import ReplaySource
from tests.cli_support import REAL_QUEUE_LOG, callboard, start_callboard
from tests.hub_support import (
    DEADLINE,
    ServeProcess,
    StartServe,
    classify_cli,
    run_tail,
    wait_for_sync,
)


@pytest.mark.slow
def test_serve_detects_the_real_queue_log_and_tail_matches_classify() -> None:
    expected = classify_cli(REAL_QUEUE_LOG)
    assert expected.count("\n") == 104  # finished calls of the real log (4 stay open)
    hub = ServeProcess([str(REAL_QUEUE_LOG), "--port", "0", "--speed", "0"])
    try:
        done = run_tail(hub.url, "--since", "0", "--until-finished")
    finally:
        assert hub.terminate() == 0
    assert "detected format: asterisk-queue-log" in hub.drain()
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected


async def _collect(source: ReplaySource, limit: int | None = None) -> list[Event]:
    events: list[Event] = []
    async for event in source:
        events.append(event)
        if limit is not None and len(events) == limit:
            break
    return events


def test_a_vendor_replay_resumes_inside_a_line_that_gave_several_events() -> None:
    """A RINGNOANSWER line gives two events; a restart between them must send the second."""
    everything = asyncio.run(
        _collect(ReplaySource(REAL_QUEUE_LOG, speed=0, fmt="asterisk-queue-log"))
    )
    first = ReplaySource(REAL_QUEUE_LOG, speed=0, fmt="asterisk-queue-log")
    # Stop right after the ringing half of the first RINGNOANSWER line.
    cut = next(i for i, e in enumerate(everything) if e.type == "agent.ringing") + 1
    head = asyncio.run(_collect(first, limit=cut))
    assert first.position is not None and first.position["index"] == 0
    second = ReplaySource(REAL_QUEUE_LOG, speed=0, fmt="asterisk-queue-log")
    second.resume_from(first.position)
    tail = asyncio.run(_collect(second))
    assert tail[0].type == "agent.no_answer"
    assert head + tail == everything


def _health(url: str) -> dict[str, Any]:
    """The hub's /health counters (plain HTTP on the same port)."""
    health = url.replace("ws://", "http://").replace("/events", "/health")
    with urllib.request.urlopen(health, timeout=DEADLINE) as answer:
        return dict(json.loads(answer.read()))


def _read_line(proc: subprocess.Popen[str], timeout: float = DEADLINE) -> str:
    assert proc.stdout is not None
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            return proc.stdout.readline()
        assert proc.poll() is None, "tail exited early"
    raise AssertionError("timed out waiting for a verdict from tail")


def test_serve_follows_a_queue_log_that_grows_and_rotates(
    tmp_path: Path, serve: StartServe
) -> None:
    log = tmp_path / "queue_log"
    log.write_text("1700000000|NONE|NONE|NONE|QUEUESTART|\n")
    hub = serve([str(log), "--from", "asterisk-queue-log", "--follow", "--port", "0"])
    tail = start_callboard(
        "tail", hub.url, "--since", "0", stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        with log.open("a") as f:
            f.write("1700000100|1700000100.1|sales|NONE|ENTERQUEUE||+14155550101|1\n")
        # The follower has the file once the hub holds this call in progress; lines
        # written before that count as the past, where finished calls are not replayed.
        wait_for_sync(lambda: _health(hub.url)["calls_in_progress"] == 1, "the call in the hub")
        with log.open("a") as f:
            f.write("1700000110|1700000100.1|sales|Agent/7|CONNECT|10|1700000101.2|4\n")
            f.write("1700000200|1700000100.1|sales|Agent/7|COMPLETECALLER|10|90|1\n")
        first = _read_line(tail)
        assert '"call_id": "1700000100.1"' in first and '"outcome": "completed"' in first
        # Rotation: the log is moved away and a new one started, as logrotate does.
        log.rename(tmp_path / "queue_log.1")
        log.write_text(
            "1700000300|1700000300.1|sales|NONE|ENTERQUEUE||+14155550102|1\n"
            "1700000330|1700000300.1|sales|NONE|ABANDON|1|1|30\n"
        )
        second = _read_line(tail)
        assert '"call_id": "1700000300.1"' in second and '"reason": "queue_hangup"' in second
    finally:
        tail.terminate()
        tail.wait(timeout=DEADLINE)
        assert hub.terminate() == 0


def test_serve_source_usage_errors(tmp_path: Path) -> None:
    def serve(*args: str) -> subprocess.CompletedProcess[str]:
        return callboard("serve", *args, timeout=DEADLINE)

    junk = tmp_path / "junk.txt"
    junk.write_text("this is not a call log\n")
    assert "--from and --follow need a log PATH" in serve("--follow").stderr
    undetectable = serve(str(junk), "--port", "0")
    assert undetectable.returncode == 2 and "junk.txt" in undetectable.stderr
    missing = serve(str(tmp_path / "later.log"), "--follow", "--port", "0")
    assert missing.returncode == 2 and "needs --from FORMAT" in missing.stderr
    assert serve(str(junk), "--follow", "--loop", "--from", "callboard").returncode == 2
