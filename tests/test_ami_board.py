"""What a running AMI link tells the people watching: /health and the board.

A real hub runs `AmiSource` against `tests/ami_support.ScriptedPbx` (AMI over TCP on
loopback, replaying real recordings); /health is read with a real GET while the link
is still up, since a PBX link never ends and its counts must not wait for it to.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from classifier.schema import Event
from monitor.app.app import CallboardApp
from monitor.app.hub_feed import hub_runner
from monitor.app.widgets.status import ConnectionBar
from monitor.feed.client import FeedClient, Snapshot, SourceStatus
from monitor.feed.hub import running_hub
from monitor.sources.ami_client import AmiConfig, AmiSource
from tests.ami_support import QUEUE_RECORDINGS, ScriptedPbx, all_queue_events
from tests.app_support import screen_text, until
from tests.cli_support import ROOT, callboard
from tests.hub_support import (
    Follower,
    StartServe,
    free_port,
    get_health,
    wait_for,
    write_log,
)

CALLS = len(QUEUE_RECORDINGS)


def ami_config(port: int, secret: str = "s3cret") -> AmiConfig:
    return AmiConfig(
        host="127.0.0.1",
        port=port,
        user="callboard",
        secret=secret,
        backoff_min=0.05,
        backoff_max=0.2,
    )


async def test_a_running_links_problem_counts_are_on_health_while_it_runs() -> None:
    async with ScriptedPbx(all_queue_events()) as pbx, running_hub() as hub:
        pbx.extra = [
            b"Event: VarSet\r\nUniqueid: 1.1\r\nValue: " + b"x" * 1_000_000 + b"\r\n\r\n",
            b"Event: Newexten\r\nUniqueid: 1.3\r\nAppData: " + b"y" * 10_000 + b"\r\n\r\n",
            b"Event: SomethingNew\r\nUniqueid: 1.2\r\n\r\n",
            b"Event: AgentComplete\r\nUniqueid: never.seen\r\nReason: caller\r\n\r\n",
            b"Event: QueueCallerJoin\r\nnot a header line\r\nQueue: sales\r\n\r\n",
        ]
        subscriber = Follower(FeedClient(hub.url, backoff_initial=0.05, backoff_max=0.2))
        source = AmiSource(ami_config(pbx.port))
        hub.attach_source(source)
        await wait_for(lambda: len(subscriber.verdicts) >= CALLS, "every call's verdict")
        health = await get_health(hub.base_url)
        await subscriber.stop()
        assert not hub.source.finished  # the link is still up: counted while it runs
    status = health["source"]
    assert status["state"] == "running" and status["kind"] == "ami"
    assert status["problems"] == 4 and health["counters"]["source_problems"] == 4
    counts = status["counts"]
    assert counts["long_lines"] == 1  # the 1 MB value
    assert counts["broken_blocks"] == 1  # the 10 kB value, cut
    assert counts["unseen_calls"] == 1  # AgentComplete for a call never seen
    assert counts["unmapped"] == 1  # a join naming no Uniqueid
    assert counts["disconnects"] == 0 and counts["invalid"] == 0
    assert counts["stray_lines"] == 1 and counts["connections"] == 1
    assert counts["dropped_by_name"]["SomethingNew"] == 1
    assert counts["dropped_events"] >= counts["dropped_by_name"]["Newchannel"] > 0


#: The first call of the script rings its agent at event 10 and is answered at 21:
#: after 15 events the PBX has it waiting in the queue.
WAITING_AFTER = 15


@pytest.mark.slow
async def test_the_bar_shows_the_ami_link_retrying_and_live_again(serve: StartServe) -> None:
    async with ScriptedPbx(all_queue_events()) as pbx:
        hub = await asyncio.to_thread(
            serve,
            ["--port", "0", "--ami", f"127.0.0.1:{pbx.port}", "--ami-user", "callboard"],
            env={"CALLBOARD_AMI_SECRET": "s3cret"},
        )
        app = CallboardApp(hub_runner(hub.url))
        async with app.run_test(size=(160, 40)) as pilot:
            bar = app.query_one("#connection", ConnectionBar)

            def bar_text() -> str:
                return bar.describe().plain

            await until(pilot, lambda: pbx.finished and bar_text().startswith("● live"))
            # The PBX's password is changed and the link cut: every login is refused.
            pbx.secret = "rotated"
            pbx.cut()
            await until(pilot, lambda: "login refused" in bar_text())
            text = bar_text()
            assert text.startswith(f"◌ hub live; source reconnecting to AMI 127.0.0.1:{pbx.port}")
            assert ", attempt " in text and ", next try in " in text
            assert text.split("s: ", 1)[1].startswith("login refused: Authentication failed")
            # Healed: the next retry logs in, and the bar is live again.
            pbx.secret = "s3cret"
            await until(pilot, lambda: bar_text().startswith("● live"))
        assert pbx.logins == 2 and pbx.refused >= 1
        hub.terminate()


async def test_callers_waiting_at_connect_are_marked_on_the_board() -> None:
    async with (
        ScriptedPbx(all_queue_events()[:WAITING_AFTER]) as pbx,
        running_hub() as hub,
    ):
        pbx.unheard(WAITING_AFTER)  # the call joined before the link was up: never heard
        app = CallboardApp(hub_runner(hub.url))
        async with app.run_test(size=(160, 40)) as pilot:
            hub.attach_source(AmiSource(ami_config(pbx.port)))
            await until(pilot, lambda: len(app.board.tracker.calls) == 1)
            (call_id,) = app.board.tracker.calls
            await until(pilot, lambda: "↻ queued" in screen_text(app))
            story = app.board.story(call_id, datetime.now(UTC))
            assert story is not None
            first = story.lines[0].text
            assert first.startswith("joined from a re-sync at ")
            assert ": earlier steps unknown; inbound call from " in first
            call = app.board.tracker.calls[call_id]
            assert call.resync_at is not None and call.wait_from_resync  # PBX said Wait: 0


async def test_a_resynced_calls_verdict_and_classify_say_so(tmp_path: Path) -> None:
    async with ScriptedPbx(all_queue_events()) as pbx, running_hub() as hub:
        pbx.unheard(WAITING_AFTER, waited_s=42)
        events: list[Event] = []
        client = FeedClient(hub.url, backoff_initial=0.05, backoff_max=0.2)

        async def collect() -> None:
            async for item in client:
                if not isinstance(item, Snapshot | SourceStatus):
                    events.append(item)

        task = asyncio.create_task(collect())
        hub.attach_source(AmiSource(ami_config(pbx.port)))
        await wait_for(lambda: sum(e.type == "call.ended" for e in events) >= CALLS, "every end")
        await client.close()
        await task
    resynced = [e for e in events if e.type == "call.started" and e.resync_at is not None]
    assert len(resynced) == 1
    log = write_log(tmp_path / "ami-day.jsonl", events)
    done = callboard("classify", str(log))
    assert done.returncode == 0, done.stderr
    records = {r["call_id"]: r for r in map(json.loads, done.stdout.splitlines())}
    record = records[resynced[0].call_id]
    assert record["outcome"] == "completed" and record["wait_s"] >= 42
    (flag,) = record["flags"]
    assert flag.startswith("joined from a re-sync at ") and flag.endswith("earlier steps unknown")
    assert record["detail"].endswith(flag)  # the PBX said how long it waited: counted from it
    others = [r for r in records.values() if r is not record]
    assert len(others) == CALLS - 1 and all(r["flags"] == [] for r in others)


@pytest.mark.slow
async def test_the_scripted_pbx_a_user_can_start_feeds_a_hub_and_takes_commands() -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.ami_server",
        "--port",
        str(port),
        "--pace",
        "0",
        "--rounds",
        "2",
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        banner = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert f"scripted Asterisk on 127.0.0.1:{port}" in banner.decode()
        async with running_hub() as hub:
            subscriber = Follower(FeedClient(hub.url, backoff_initial=0.05, backoff_max=0.2))
            source = AmiSource(ami_config(port))
            hub.attach_source(source)
            # Both rounds, each call once: each round's Uniqueids are its own.
            await wait_for(lambda: len(subscriber.verdicts) >= 2 * CALLS, "both rounds")
            proc.stdin.write(b"cut\n")
            await wait_for(lambda: source.connections == 2, "the reconnect after the cut")
            await subscriber.stop()
        assert len({v["call_id"] for v in subscriber.verdicts}) == 2 * CALLS
        proc.stdin.write(b"quit\n")
        assert await asyncio.wait_for(proc.wait(), 60) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
