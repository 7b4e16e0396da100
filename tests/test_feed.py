"""The feed client against real hubs, and against a scripted websocket peer for the
protocol faults a correct hub never makes (gaps in seq, garbage frames).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

import pytest

from classifier.tracker import call_from_events
from monitor.feed.client import FeedClient, FeedRefused, FeedState, FeedStatus, events_url
from monitor.feed.hub import HubConfig, running_hub
from monitor.feed.protocol import (
    PROTOCOL_VERSION,
    SourceStatus,
    encode_event_frame,
    encode_snapshot,
    encode_snapshot_parts,
)
from tests.hub_support import Follower, free_port, make_calls, scripted_hub, wait_for


def test_events_url_accepts_a_bare_hub_address() -> None:
    assert events_url("ws://127.0.0.1:8765") == "ws://127.0.0.1:8765/events"
    assert events_url("wss://hub.example:9/") == "wss://hub.example:9/events"
    assert events_url("ws://h:1/events?since=3") == "ws://h:1/events"
    with pytest.raises(ValueError, match="not a websocket URL"):
        events_url("http://127.0.0.1:8765")


async def test_it_retries_with_growing_jittered_backoff_until_a_hub_appears() -> None:
    port = free_port()
    states: list[FeedState] = []
    client = FeedClient(
        f"ws://127.0.0.1:{port}", on_state=states.append, backoff_initial=0.05, backoff_max=0.4
    )
    follower = Follower(client)
    await wait_for(lambda: client.state.attempt >= 4, "four failed attempts")
    waits = [s.retry_in for s in states if s.retry_in is not None]
    for attempt, wait in enumerate(waits[:4], start=1):
        ceiling = min(0.4, 0.05 * 2 ** (attempt - 1))
        assert wait is not None and ceiling / 2 - 0.01 <= wait <= ceiling + 0.01, (attempt, wait)
    assert states[0].status is FeedStatus.CONNECTING
    assert "reconnecting in" in states[1].describe()
    assert client.state.last_error
    async with running_hub(HubConfig(port=port)) as hub:
        await wait_for(lambda: client.state.status is FeedStatus.LIVE, "live once a hub is up")
        assert client.state.hub_id == hub.hub_id
        assert client.state.describe() == f"live: hub {hub.hub_id}, seq 0"
        hub.publish(make_calls(1)[0])
        await wait_for(lambda: follower.seqs == [1], "an event")
        assert client.state.last_received_at is not None
        assert client.state.lag_s is not None and client.state.lag_s >= 0
        await follower.stop()
    assert client.state.status is FeedStatus.CLOSED


async def test_a_replaced_hub_means_a_fresh_snapshot() -> None:
    port = free_port()
    events = make_calls(2)
    async with running_hub(HubConfig(port=port)) as hub:
        first = hub.hub_id
        follower = Follower(FeedClient(hub.url, backoff_initial=0.05, backoff_max=0.2))
        await wait_for(lambda: bool(follower.snapshots), "snapshot")
        for event in events[:7]:
            hub.publish(event)
        await wait_for(lambda: len(follower.seqs) == 7, "seven events")
    # A new hub without a journal: new id, seq from 1 again. Resuming would be wrong.
    async with running_hub(HubConfig(port=port)) as hub:
        assert hub.hub_id != first
        hub.publish(events[0])
        await wait_for(lambda: len(follower.snapshots) == 2, "a second snapshot")
        assert follower.snapshots[1].hub_id == hub.hub_id
        assert follower.client.state.last_seq == 1
        assert [c.call_id for c in follower.tracker] == ["call-00000"]
        await follower.stop()


@pytest.mark.parametrize("how", ["cancelled", "closed"])
async def test_a_board_that_stops_tells_the_hub_it_is_leaving(
    how: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A board's worker is cancelled when the board quits (Textual cancels it): the
    # hub's log must read as a board leaving (1001), not a client's internal error
    # (1011, what leaving `connect` by an exception sends). close() is a normal close.
    caplog.set_level("INFO", logger="callboard.hub")
    async with running_hub(HubConfig(port=0)) as hub:
        follower = Follower(FeedClient(hub.url))
        await wait_for(lambda: bool(follower.snapshots), "snapshot")
        if how == "cancelled":
            follower.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower.task
        else:
            await follower.stop()
        await wait_for(lambda: "left (close code" in caplog.text, "the hub saw the board leave")
    expected = "1001" if how == "cancelled" else "1000"
    assert f"left (close code {expected}," in caplog.text, caplog.text


async def test_giving_up_after_max_attempts() -> None:
    client = FeedClient(f"ws://127.0.0.1:{free_port()}", backoff_initial=0.01, max_attempts=2)
    with pytest.raises(FeedRefused, match="gave up after 2 attempts"):
        async for _ in client:
            pass
    assert client.state.status is FeedStatus.CLOSED


async def test_close_while_waiting_to_reconnect_ends_the_iteration() -> None:
    client = FeedClient(f"ws://127.0.0.1:{free_port()}", backoff_initial=30, backoff_max=30)
    follower = Follower(client)
    await wait_for(lambda: client.state.status is FeedStatus.RECONNECTING, "reconnecting")
    await follower.stop()  # would take 15 s or more if close() did not cut the wait short
    assert client.state.status is FeedStatus.CLOSED


def snapshot(seq: int, hub_id: str = "hub-scripted") -> str:
    return encode_snapshot(hub_id, seq, [], [], SourceStatus(), 0.0)


def event(seq: int) -> str:
    e = make_calls(2)[seq - 1].model_copy(update={"seq": seq})
    return encode_event_frame(e, seq, 1.0)


async def test_a_gap_in_seq_forces_a_resync_and_repeats_are_skipped() -> None:
    def script(n: int, path: str) -> list[str]:
        if n == 1:
            return [snapshot(0), event(1), event(1), event(2), event(4), event(5)]
        return [snapshot(5), event(6)]

    async with scripted_hub(script) as (url, paths):
        follower = Follower(FeedClient(url, backoff_initial=0.01))
        await wait_for(lambda: follower.seqs[-1:] == [6], "event 6 after the re-sync")
        state = follower.client.state
        await follower.stop()
    assert follower.seqs == [1, 2, 6]
    assert [s.seq for s in follower.snapshots] == [0, 5]
    assert state.duplicates_skipped == 1
    # No since= after a gap: a fresh snapshot.
    assert paths == [f"/events?protocol={PROTOCOL_VERSION}&snapshot=zlib"] * 2


async def errors_before_event_1(
    script: Callable[[int, str], list[str]],
) -> tuple[list[str], list[str]]:
    """Follow a scripted hub until event 1 arrives: the error of each connection given up
    on before it, in order, and the paths connected to."""
    states: list[FeedState] = []
    async with scripted_hub(script) as (url, paths):
        follower = Follower(FeedClient(url, backoff_initial=0.01, on_state=states.append))
        await wait_for(lambda: follower.seqs == [1], "event 1 after the bad connections")
        await follower.stop()
    return [s.last_error or "" for s in states if s.retry_in is not None], paths


async def test_garbage_from_the_hub_is_reported_and_survived() -> None:
    def script(n: int, path: str) -> list[str]:
        if n == 1:
            return [snapshot(0), "this is not json"]
        if n == 2:
            return [event(1)]
        if n == 3:
            return [snapshot(0), json.dumps({"frame": "event", "seq": 1, "event": {"type": "x"}})]
        return [snapshot(0), event(1)]

    errors, paths = await errors_before_event_1(script)
    assert "bad frame from hub: hub sent a message that is not JSON" in errors[0]
    assert "the first frame must be a snapshot or resume" in errors[1]
    assert "event frame seq 1: unknown event type 'x'" in errors[2]
    assert len(paths) == 4


async def test_a_status_frame_with_bad_counts_is_a_bad_frame_not_a_crash() -> None:
    def status(**source: object) -> str:
        return json.dumps({"frame": "status", "source": {"state": "running", **source}})

    def script(n: int, path: str) -> list[str]:
        if n == 1:
            return [snapshot(0), status(events="x")]
        if n == 2:
            return [snapshot(0), status(problems=[1])]
        if n == 3:
            return [snapshot(0), status(final_seq=True)]
        return [snapshot(0), event(1)]

    errors, paths = await errors_before_event_1(script)
    for field, error in zip(("events", "problems", "final_seq"), errors, strict=True):
        assert error == (
            f"bad frame from hub: source: field {field!r} must be a non-negative integer"
        )
    assert len(paths) == 4


async def test_resume_frames_keep_the_stream_without_a_snapshot() -> None:
    async with running_hub() as hub:
        events = make_calls(4)
        for e in events[:10]:
            hub.publish(e)
        # A client that already has seq 1..6 of this hub, e.g. a restarted tail.
        client = FeedClient(hub.url, since=6, hub_id=hub.hub_id)
        follower = Follower(client)
        await wait_for(lambda: follower.seqs == [7, 8, 9, 10], "the missed four")
        for e in events[10:]:
            hub.publish(e)
        await wait_for(lambda: len(follower.seqs) == 14, "live events")
        await follower.stop()
    assert follower.snapshots == []
    assert client.state.resumes == 1
    assert [v["call_id"] for v in follower.verdicts] == ["call-00001", "call-00002", "call-00003"]


async def test_a_snapshot_cut_off_between_its_parts_is_a_bad_frame_and_re_synced() -> None:
    starts = make_calls(40, pad=100)[::5]
    calls = [call_from_events([e.model_copy(update={"seq": i})]) for i, e in enumerate(starts, 1)]
    parts = list(encode_snapshot_parts("hub-scripted", 0, calls, [], SourceStatus(), 0.0, 256))
    assert len(parts) > 2

    def script(n: int, path: str) -> list[str]:
        if n == 1:
            return [parts[0], event(1)]
        # The old one-frame snapshot still reads as a whole snapshot.
        return [snapshot(0), event(1)]

    errors, paths = await errors_before_event_1(script)
    assert errors == ["bad frame from hub: snapshot part 1 was not followed by its next part"]
    assert paths == [f"/events?protocol={PROTOCOL_VERSION}&snapshot=zlib"] * 2
