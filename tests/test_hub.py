"""The hub on loopback with real clients: replay, snapshots, resume, fan-out, back-pressure."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from classifier.call import Phase
from classifier.schema import Event, event_from_dict
from monitor.feed.client import FeedClient
from monitor.feed.hub import Hub, HubConfig, running_hub
from monitor.feed.protocol import CLOSE_TOO_SLOW
from monitor.sources.replay_source import ReplaySource
from tests.hub_support import (
    Follower,
    NamedSource,
    classify_file,
    make_calls,
    raw_upgrade,
    wait_for,
    write_log,
)


def fast_client(url: str, **kw: object) -> FeedClient:
    return FeedClient(url, backoff_initial=0.05, backoff_max=0.2, **kw)  # type: ignore[arg-type]


async def test_replay_gives_the_verdicts_classify_gives(rules_log: Path) -> None:
    expected = classify_file(rules_log)
    assert len(expected) > 20
    async with running_hub() as hub:
        follower = Follower(fast_client(hub.url))
        await wait_for(lambda: bool(follower.snapshots), "the first snapshot")
        hub.attach_source(ReplaySource(rules_log, speed=0))
        status = await hub.wait_source_finished()
        assert status.state == "finished"
        assert status.final_seq == hub.seq
        await wait_for(lambda: bool(follower.statuses) and follower.statuses[-1].finished, "finish")
        await follower.stop()
    assert follower.verdicts == expected
    assert follower.seqs == list(range(1, hub.seq + 1))


async def test_late_joiner_gets_a_snapshot_of_calls_in_progress(tmp_path: Path) -> None:
    events = make_calls(6)
    presence = event_from_dict(
        {"type": "agent.status", "ts": 1_699_999_999, "agent": "ann", "status": "available"}
    )
    expected = classify_file(write_log(tmp_path / "log.jsonl", [presence, *events]))
    async with running_hub() as hub:
        hub.publish(presence)
        # Stop in the middle of the third call: calls 0 and 1 done, call 2 half-way.
        for event in events[:13]:
            assert hub.publish(event).accepted
        follower = Follower(fast_client(hub.url))
        await wait_for(lambda: bool(follower.snapshots), "snapshot")
        snap = follower.snapshots[0]
        assert snap.hub_id == hub.hub_id
        assert snap.seq == 14
        # The call as its state: where the three events it had so far left it.
        (call,) = snap.calls
        assert (call.call_id, call.phase, call.queue, call.agent) == (
            events[10].call_id,
            Phase.RINGING,
            "sales",
            "ann",
        )
        assert call.events == []
        assert [p.agent for p in snap.presence] == ["ann"]
        for event in events[13:]:
            hub.publish(event)
        await wait_for(lambda: len(follower.verdicts) == 4, "the four calls that end later")
        await follower.stop()
    assert follower.verdicts == expected[2:]


async def test_cut_connections_resume_without_loss_or_duplicates(tmp_path: Path) -> None:
    events = make_calls(40)
    expected = classify_file(write_log(tmp_path / "log.jsonl", events))
    async with running_hub() as hub:
        follower = Follower(fast_client(hub.url))
        await wait_for(lambda: bool(follower.snapshots), "snapshot")
        cuts = 0
        for i, event in enumerate(events, start=1):
            hub.publish(event)
            if i % 37 == 0:
                # Cut once the client is mid-stream, then keep publishing while it is away.

                def caught_up(target: int = i - 5) -> bool:
                    return len(follower.seqs) >= target

                await wait_for(caught_up, "client catching up")
                await follower.client.cut()
                cuts += 1
                await asyncio.sleep(0)
        await wait_for(lambda: len(follower.seqs) == len(events), "every event")
        state = follower.client.state
        await follower.stop()
    assert cuts >= 5
    assert state.resumes >= cuts
    assert len(follower.snapshots) == 1
    assert follower.seqs == list(range(1, len(events) + 1))
    assert follower.verdicts == expected


async def test_reconnect_after_the_ring_moved_on_gets_a_fresh_snapshot() -> None:
    events = make_calls(30)
    async with running_hub(HubConfig(port=0, ring_size=10)) as hub:
        follower = Follower(fast_client(hub.url))
        await wait_for(lambda: bool(follower.snapshots), "snapshot")
        for event in events[:5]:
            hub.publish(event)
        await wait_for(lambda: len(follower.seqs) == 5, "first events")
        await follower.client.cut()
        # No await between the cut and these: the client cannot be back yet.
        for event in events[5:52]:
            hub.publish(event)
        await wait_for(lambda: len(follower.snapshots) == 2, "a second snapshot")
        snap = follower.snapshots[1]
        assert snap.seq == 52
        assert [c.call_id for c in snap.calls] == ["call-00010"]
        for event in events[52:]:
            hub.publish(event)
        await wait_for(lambda: follower.client.state.last_seq == hub.seq, "the rest")
        assert sorted(c.call_id for c in follower.tracker) == sorted(c.call_id for c in hub.tracker)
        await follower.stop()


async def test_fifty_subscribers_get_everything_and_a_stalled_one_is_dropped(
    tmp_path: Path,
) -> None:
    events = make_calls(4000)
    limit = 300
    config = HubConfig(port=0, queue_limit=limit, close_timeout=1, socket_send_buffer=16_384)
    async with running_hub(config) as hub:
        stalled = raw_upgrade(hub.port, rcvbuf=4096)
        followers = [Follower(fast_client(hub.url)) for _ in range(50)]
        await wait_for(
            lambda: all(f.snapshots for f in followers) and hub.subscriber_count == 51,
            "51 subscribers",
        )
        peak_queue = 0
        chunks = iter(range(0, len(events), 200))
        while not hub.counters["dropped_slow"]:
            start = next(chunks)  # StopIteration here would mean the stalled peer was kept
            for event in events[start : start + 200]:
                hub.publish(event)
                peak_queue = max(peak_queue, *hub.queue_sizes(), 0)
            # The healthy ones keep up while the stalled one never reads a byte.
            await wait_for(
                lambda: all(len(f.seqs) == hub.seq for f in followers),
                "healthy subscribers keeping up",
            )
        await wait_for(lambda: hub.subscriber_count == 50, "the stalled subscriber gone")
        for event in events[hub.seq : hub.seq + 100]:
            hub.publish(event)
        await wait_for(lambda: all(len(f.seqs) == hub.seq for f in followers), "the last 100")
        stats = hub.stats()
        for follower in followers:
            await follower.stop()
        stalled.close()
    expected = classify_file(write_log(tmp_path / "log.jsonl", events[: hub.seq]))
    for follower in followers:
        assert follower.seqs == list(range(1, hub.seq + 1))
        assert follower.verdicts == expected
        assert follower.client.state.snapshots == 1
        assert follower.client.state.resumes == 0
    assert hub.counters["dropped_slow"] == 1
    # The stalled subscriber's queue reached the limit and went no further.
    assert peak_queue == limit
    assert stats["ring"] <= HubConfig().ring_size


async def test_a_slow_subscriber_is_told_why_it_was_dropped() -> None:
    events = make_calls(4000)
    config = HubConfig(port=0, queue_limit=100, close_timeout=30, socket_send_buffer=16_384)
    async with running_hub(config) as hub:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", hub.port))
        async with connect(hub.url, sock=sock, max_size=None, max_queue=1) as ws:
            await ws.recv()  # the snapshot, then never read again
            ws.transport.pause_reading()
            for event in events:
                hub.publish(event)
                if hub.counters["dropped_slow"]:
                    break
                await asyncio.sleep(0)
            assert hub.counters["dropped_slow"] == 1
            # Reading again, it drains what was in flight and then finds the reason.
            ws.transport.resume_reading()
            drained = 0
            with contextlib.suppress(ConnectionClosed):
                async for _ in ws:
                    drained += 1
            assert ws.close_code == CLOSE_TOO_SLOW
            assert "too slow" in (ws.close_reason or "")
        assert hub.subscriber_count == 0
        # It re-syncs: a fresh client (or the same one reconnecting) gets in again.
        follower = Follower(fast_client(hub.url))
        await wait_for(lambda: bool(follower.snapshots), "re-sync snapshot")
        await follower.stop()


async def test_source_finished_is_reported_live_and_in_later_snapshots(
    calls_log: Callable[[int], Path],
) -> None:
    log = calls_log(3)
    async with running_hub() as hub:
        hub.attach_source(ReplaySource(log, speed=0))
        await hub.wait_source_finished()
        follower = Follower(fast_client(hub.url))
        await wait_for(lambda: bool(follower.snapshots), "snapshot")
        source = follower.snapshots[0].source
        await follower.stop()
    assert (source.kind, source.state, source.final_seq, source.events) == (
        "replay",
        "finished",
        15,
        15,
    )
    assert source.name == str(log)


async def test_a_failing_source_is_reported_and_the_hub_keeps_serving(
    tmp_path: Path, hub: Hub
) -> None:
    async def broken() -> AsyncIterator[Event]:
        yield make_calls(1)[0]
        raise RuntimeError("adapter lost its file")

    hub.attach_source(NamedSource(broken(), kind="adapter", name="asterisk"))
    status = await hub.wait_source_finished()
    assert status.state == "failed"
    assert "adapter lost its file" in (status.detail or "")
    follower = Follower(fast_client(hub.url))
    await wait_for(lambda: bool(follower.snapshots), "snapshot after failure")
    assert follower.snapshots[0].source.state == "failed"
    await follower.stop()


async def test_loop_replay_gives_each_pass_new_call_ids(calls_log: Callable[[int], Path]) -> None:
    log = calls_log(2)
    source = ReplaySource(log, speed=0, loop=True)
    seen = []
    async for event in source:
        seen.append(event)
        if len(seen) == 25:
            break
    ids = [e.call_id for e in seen]
    assert ids[:10] == [f"call-0000{i // 5}" for i in range(10)]
    assert ids[10:20] == [f"call-0000{i // 5}~2" for i in range(10)]
    assert ids[20] == "call-00000~3"
    assert seen[10].ts > seen[9].ts
    assert source.position == {"source": str(log), "pass": 3, "line": 5, "index": 0}


async def test_replay_is_paced_by_the_log_times(tmp_path: Path) -> None:
    # A clock that only moves when the source sleeps: the waits it asks for are exact.
    events = make_calls(2)
    log = write_log(tmp_path / "log.jsonl", events)
    now = [0.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(round(seconds, 6))
        now[0] += seconds

    source = ReplaySource(log, speed=2, max_gap=3, clock=lambda: now[0], sleep=sleep)
    assert len([e async for e in source]) == 10
    # Gaps of 1, 1, 1, 6 (capped at 3), 1 (next call), ... seconds, at twice real time.
    assert waits == [0.5, 0.5, 0.5, 1.5, 0.5, 0.5, 0.5, 0.5, 1.5]


async def test_replay_skips_bad_lines_and_counts_them(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    good = make_calls(1)
    log.write_text(
        good[0].to_json()
        + "\nnot json\n"
        + '{"type":"bogus","call_id":"x","ts":1}\n'
        + "".join(e.to_json() + "\n" for e in good[1:])
    )
    problems: list[str] = []
    source = ReplaySource(log, speed=0, on_problem=problems.append)
    async with running_hub() as hub:
        hub.attach_source(source)
        status = await hub.wait_source_finished()
    assert status.problems == 2
    assert hub.seq == 5
    assert "log.jsonl:2: not JSON" in problems[0]
    assert "unknown event type 'bogus'" in problems[1]


async def test_a_replay_resumes_after_its_journaled_position(
    calls_log: Callable[[int], Path],
) -> None:
    log = calls_log(2)
    source = ReplaySource(log, speed=0, loop=True)
    source.resume_from({"source": str(log), "pass": 2, "line": 7})
    resumed = []
    async for event in source:
        resumed.append(event.call_id)
        if len(resumed) == 4:
            break
    # Lines 8-10 of pass 2, then pass 3 begins.
    assert resumed == ["call-00001~2", "call-00001~2", "call-00001~2", "call-00000~3"]


async def test_a_journaled_hub_resumes_its_replay_where_it_stopped(tmp_path: Path) -> None:
    events = make_calls(6)
    log = write_log(tmp_path / "log.jsonl", events)
    config = HubConfig(port=0, journal=tmp_path / "hub.journal")
    async with running_hub(config) as hub:
        # Stop the replay after 17 events, as a crash would.
        source = ReplaySource(log, speed=0)
        async for event in source:
            hub.publish(event, pos=source.position)
            if hub.seq == 17:
                break
    async with running_hub(config) as hub:
        assert hub.seq == 17
        hub.attach_source(ReplaySource(log, speed=0))
        status = await hub.wait_source_finished()
        assert (status.state, status.final_seq, status.events) == ("finished", 30, 13)
        follower = Follower(fast_client(hub.url, since=0))
        await wait_for(lambda: len(follower.verdicts) == 6, "all six verdicts")
        await follower.stop()
    assert follower.verdicts == classify_file(log)
