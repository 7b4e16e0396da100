"""`serve --follow --journal`, killed outright and restarted, with the real queue_log.

The hub is the real `callboard serve` in a subprocess, the log a real file that
the test appends the production queue_log to, a few hundred lines at a time, as
Asterisk would; the hub is killed with SIGKILL twice, once when it has caught
up and once as soon as it has published anything after a restart, and lines
are written while it is down. Only content is asserted: every finished call's
verdict reaches a subscriber once, the same as `callboard classify` gives for
the whole log, and the calls still open are the ones the log leaves open.
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from classifier.tracker import CallTracker, Result
from monitor.feed.client import FeedClient
from monitor.feed.hub import HubConfig, running_hub
from monitor.sources import FollowSource, iter_source
from monitor.sources.reader import LineEvent
from tests.cli_support import REAL_QUEUE_LOG as QUEUE_LOG
from tests.cli_support import callboard
from tests.hub_support import Follower, ServeProcess, wait_for

FORMAT = "asterisk-queue-log"


def health(hub: ServeProcess) -> dict[str, Any]:
    """The hub's /health counters (its stderr drained, so that it never blocks on it)."""
    hub.drain()
    http = hub.url.replace("ws://", "http://").replace("/events", "/health")
    with urllib.request.urlopen(http, timeout=10) as response:
        return dict(json.loads(response.read()))


def accepted(path: Path) -> tuple[int, set[str]]:
    """How many events of the log a hub accepts, and the calls left open, by the real tracker."""
    tracker = CallTracker()
    count = 0
    for item in iter_source(path, FORMAT):
        if isinstance(item, LineEvent) and tracker.apply(item.event).result is Result.APPLIED:
            count += 1
    return count, {call.call_id for call in tracker}


def append(path: Path, lines: list[bytes]) -> None:
    with path.open("ab") as f:
        f.write(b"".join(lines))


@pytest.mark.slow
async def test_a_followed_log_survives_sigkill_with_lines_written_while_down(
    tmp_path: Path,
) -> None:
    lines = QUEUE_LOG.read_bytes().splitlines(keepends=True)
    assert len(lines) == 1000
    log = tmp_path / "queue_log"
    log.write_bytes(b"")
    # --from-start: the first run publishes every line, however soon after its
    # start they land; the restart resumes from the journal either way.
    args = [str(log), "--from", FORMAT, "--follow", "--from-start"]
    args += ["--journal", str(tmp_path / "j"), "--port", "0"]
    first = tmp_path / "first"
    first.write_bytes(b"".join(lines[:500]))
    first_count, _ = accepted(first)
    total, still_open = accepted(QUEUE_LOG)
    expected = [
        json.loads(line) for line in callboard("classify", str(QUEUE_LOG)).stdout.splitlines()
    ]
    assert len(expected) == 104 and len(still_open) == 4

    hub = ServeProcess(args)
    try:
        append(log, lines[:500])
        await wait_for(lambda: health(hub)["seq"] >= first_count, "the first 500 lines")
    finally:
        hub.kill()
    append(log, lines[500:700])  # while the hub is down
    hub = ServeProcess(args)
    try:
        # Killed again as soon as it has published anything new: most likely
        # halfway through what it has to catch up on.
        append(log, lines[700:850])
        await wait_for(lambda: health(hub)["seq"] > first_count, "the restart's first events")
    finally:
        hub.kill()
    append(log, lines[850:])
    hub = ServeProcess(args)
    try:
        await wait_for(lambda: health(hub)["seq"] >= total, "the whole log", timeout=30)
        subscriber = Follower(FeedClient(hub.url, since=0))
        await wait_for(lambda: len(subscriber.verdicts) >= len(expected), "every verdict", 30)
        await subscriber.stop()
        state = health(hub)
    finally:
        log_text = hub.drain()
        hub.terminate()
    assert state["seq"] == total, log_text
    assert sorted(v["call_id"] for v in subscriber.verdicts) == sorted(
        v["call_id"] for v in expected
    )
    assert {(v["call_id"], v["outcome"], v["reason"]) for v in subscriber.verdicts} == {
        (v["call_id"], v["outcome"], v["reason"]) for v in expected
    }
    assert {call.call_id for call in subscriber.tracker} == still_open
    assert state["calls_in_progress"] == len(still_open)
    assert "duplicate" not in log_text


async def test_a_log_named_otherwise_after_a_restart_is_not_resumed_and_the_hub_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "queue_log"
    log.write_bytes(b"".join(QUEUE_LOG.read_bytes().splitlines(keepends=True)[:60]))
    config = HubConfig(port=0, journal=tmp_path / "j")
    async with running_hub(config) as hub:
        source = FollowSource(log, FORMAT, poll_interval=0.01, from_start=True)
        hub.attach_source(source)
        await wait_for(lambda: hub.seq >= accepted(log)[0], "the log's events")
    # The same file, spelled relative to the working directory this time.
    relative = Path(os.path.relpath(log))
    async with running_hub(config) as hub:
        hub.attach_source(FollowSource(relative, FORMAT, poll_interval=0.01))
    assert f"is for {FORMAT}:{log}, not follow {FORMAT}:{relative}: not resumed" in caplog.text
