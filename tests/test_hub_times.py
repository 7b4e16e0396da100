"""Event times at the hub and on the board: a real hub on loopback, real websockets, the real app.

The issue: one event dated near 9999 killed every `callboard watch` about a second
after it was published (the board's clock overflowed), and stayed in every
snapshot, so every new board died too. One dated 2100 moved the board's clock for
good. Now the hub refuses both with a reason (`classifier.plausible`), and the
board survives any time the schema accepts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from classifier.schema import Event, event_from_dict
from classifier.tracker import call_from_events
from classifier.verdict import Outcome
from monitor.app.app import CallboardApp
from monitor.app.feed import Connection, FeedSink
from monitor.app.hub_feed import hub_runner
from monitor.commands.replay import replay_runner
from monitor.feed.client import FeedClient
from monitor.feed.hub import Hub, running_hub
from monitor.sources import FollowSource
from monitor.sources.replay_source import ReplaySource
from tests.app_support import screen_text, until
from tests.hub_support import Follower, make_calls, wait_for, write_log

Y9999 = '{"type":"call.started","call_id":"y9999","ts":"9999-12-31T23:59:59+14:00"}'


def now_calls(n: int) -> list[Event]:
    """`make_calls` dated a few minutes ago: live events a hub must accept."""
    return make_calls(n, start=int(time.time()) - 600)


async def health(base_url: str) -> dict[str, Any]:
    url = base_url.replace("ws", "http", 1) + "/health"
    body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=30).read())
    answer: dict[str, Any] = json.loads(body)
    return answer


async def test_a_9999_event_is_refused_with_a_reason_and_never_reaches_a_snapshot(hub: Hub) -> None:
    good = now_calls(1)
    follower = Follower(FeedClient(hub.url))
    await wait_for(lambda: bool(follower.snapshots), "snapshot")
    async with connect(hub.publish_url) as producer:
        replies = []
        for message in (good[0].to_json(), Y9999, good[1].to_json()):
            await producer.send(message)
            replies.append(json.loads(await producer.recv()))
        # An event of a known call a year after its start is refused as well.
        late = good[2].model_copy(update={"ts": good[0].ts - timedelta(days=365)})
        await producer.send(late.to_json())
        replies.append(json.loads(await producer.recv()))
    assert [r["frame"] for r in replies] == ["ack", "error", "ack", "error"]
    refused = replies[1]
    assert refused["code"] == "implausible_time"
    assert refused["n"] == 2
    assert "call.started at 9999-12-31T23:59:59+14:00" in refused["problem"]
    assert "ahead of the hub's clock (at most 5 min ahead is accepted)" in refused["problem"]
    assert replies[3]["code"] == "implausible_time"
    assert "before the start of call 'call-00000'" in replies[3]["problem"]
    counters = (await health(hub.base_url))["counters"]
    assert counters["implausible_time"] == 2
    assert counters["accepted"] == 2
    # Not forwarded, not in the tracker (so in no snapshot).
    await wait_for(lambda: follower.seqs == [1, 2], "the two good events")
    assert "y9999" not in {call.call_id for call in hub.tracker}
    late_joiner = Follower(FeedClient(hub.url))
    await wait_for(lambda: bool(late_joiner.snapshots), "a new subscriber's snapshot")
    ids = {call.call_id for call in late_joiner.snapshots[0].calls}
    assert ids == {"call-00000"}
    await late_joiner.stop()
    await follower.stop()


async def test_a_refused_time_is_logged_once_not_per_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="callboard.hub")
    async with running_hub() as hub:
        async with connect(hub.publish_url) as producer:
            for _ in range(50):
                await producer.send(Y9999)
                assert json.loads(await producer.recv())["code"] == "implausible_time"
        assert hub.counters["implausible_time"] == 50
    lines = [r for r in caplog.records if "implausible time" in r.getMessage()]
    assert len(lines) == 1
    assert "9999-12-31T23:59:59+14:00" in lines[0].getMessage()


async def test_the_refused_times_left_out_of_the_log_are_counted_in_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # One line for the first refusal; the other 49 of the burst are not silently
    # dropped: the hub says how many when it stops (or at its next interval).
    caplog.set_level(logging.WARNING, logger="callboard.hub")
    async with running_hub() as hub, connect(hub.publish_url) as producer:
        for _ in range(50):
            await producer.send(Y9999)
            assert json.loads(await producer.recv())["code"] == "implausible_time"
    messages = [r.getMessage() for r in caplog.records]
    assert "49 more events refused for their time (implausible_time) not logged" in " ".join(
        messages
    )


async def test_a_replayed_log_of_old_days_passes_and_its_2100_events_do_not(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`serve LOG` at --speed 0: 2023's calls are all accepted; the events dated 2100
    are refused against the replay's window, so subscribers never see them, and the
    hub's log says so once, not once per event."""
    caplog.set_level(logging.WARNING, logger="callboard.hub")
    old = make_calls(4, start=1_700_000_000)
    wrong = [
        event_from_dict({"type": "call.started", "call_id": f"y{n}", "ts": "2100-01-01T00:00:00Z"})
        for n in range(30)
    ]
    log = write_log(tmp_path / "old.jsonl", [*old[:10], *wrong, *old[10:]])
    async with running_hub() as hub:
        hub.attach_source(ReplaySource(log, speed=0))
        status = await hub.wait_source_finished()
        assert status.state == "finished"
        assert hub.seq == len(old)
        assert hub.counters["implausible_time"] == 30
    lines = [r.getMessage() for r in caplog.records if "implausible time" in r.getMessage()]
    assert len(lines) == 1, lines
    assert "call.started at 2100-01-01T00:00:00+00:00" in lines[0]


async def test_a_followed_log_is_live_so_an_hour_ahead_is_refused(tmp_path: Path, hub: Hub) -> None:
    """A followed log's events carry a position (for resuming) but are live: held to
    the live window (minutes), not the replay's (days)."""
    now = time.time()
    ahead = datetime.fromtimestamp(now + 3600, UTC).isoformat()
    on_time = datetime.fromtimestamp(now, UTC).isoformat()
    lines = [
        {"type": "call.started", "call_id": "ahead", "ts": ahead},
        {"type": "call.started", "call_id": "now", "ts": on_time},
    ]
    path = tmp_path / "live.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    source = FollowSource(path, "callboard", from_start=True, on_problem=lambda _: None)
    hub.attach_source(source)
    await wait_for(lambda: hub.seq == 1 and hub.counters["implausible_time"] == 1, "both")
    assert [call.call_id for call in hub.tracker] == ["now"]


async def test_a_board_watching_a_hub_keeps_drawing_when_a_9999_event_is_published(
    hub: Hub,
) -> None:
    app = CallboardApp(hub_runner(hub.url), live=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.connection.state == "live")
        async with connect(hub.publish_url) as producer:
            for event in now_calls(2)[:3]:
                await producer.send(event.to_json())
                assert json.loads(await producer.recv())["frame"] == "ack"
            await producer.send(Y9999)
            assert json.loads(await producer.recv())["code"] == "implausible_time"
        await until(pilot, lambda: "call-00000" in screen_text(app))
        # The clocks tick once a second: a tick later, the board is still drawing.
        drawn = app.view.now
        await until(pilot, lambda: app.view.now > drawn)
        assert abs(app.view.now - datetime.now(UTC)) < timedelta(minutes=15)


@pytest.mark.slow
async def test_a_board_survives_every_extreme_time_in_a_snapshot_and_as_events() -> None:
    """What an old hub (or its journal) could still send: the board draws on, its clock
    on the real calls."""
    real = now_calls(2)
    extremes = [
        event_from_dict({"type": "call.started", "call_id": f"x{i}", "ts": ts})
        for i, ts in enumerate(
            [
                "9999-12-31T23:59:59.999999+14:00",
                "9999-12-31T23:59:59.999999-14:00",
                "0001-01-01T00:00:00+14:00",
                "0001-01-01T00:00:00-14:00",
                "2100-01-01T00:00:00Z",
            ]
        )
    ]

    async def runner(sink: FeedSink) -> None:
        sink.feed_connection(Connection(state="live", url="old hub"))
        sink.feed_snapshot(
            [call_from_events([extremes[0]]), call_from_events([real[0]])], [], seq=2
        )
        for event in [*extremes[1:], *real[1:4]]:
            sink.feed_event(event)
        await asyncio.Event().wait()  # a live feed: the clock keeps running

    app = CallboardApp(runner, live=True)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: "x0" in screen_text(app) and "call-00000" in screen_text(app))
        drawn = app.view.now
        await until(pilot, lambda: app.view.now >= drawn + timedelta(seconds=2))
        assert abs(app.view.now - real[3].ts) < timedelta(minutes=15)
        await pilot.press("enter")  # the story of the first row
        await pilot.pause(0.2)


async def test_a_replay_on_the_board_is_not_moved_by_its_2100_event(tmp_path: Path) -> None:
    """`callboard replay` (no hub): the 2100 event is refused as a hub would refuse it,
    on the board's problem list, and the board's clock stays with the log's real calls."""
    calls = make_calls(3, start=1_700_000_000)
    wrong = [
        event_from_dict({"type": "call.started", "call_id": "y2100", "ts": "2100-01-01T00:00:00Z"}),
        event_from_dict(
            {"type": "call.ended", "call_id": "y2100", "ts": "2100-01-01T00:01:00Z", "by": "caller"}
        ),
    ]
    open_call = [
        e.model_copy(update={"call_id": "still-open"})
        for e in make_calls(1, start=1_700_000_100)[:2]  # started, and queued a second later
    ]
    log = write_log(tmp_path / "log.jsonl", [*calls[:7], *wrong, *calls[7:], *open_call])
    app = CallboardApp(replay_runner(log, speed=0), rate=0.0)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: app.connection.state == "finished")
        assert app.feed_clock.now() == open_call[1].ts
        assert "y2100" not in app.board.calls
        assert any(
            "implausible time: call.started at 2100-01-01T00:00:00+00:00" in problem
            and "ahead of the hub's clock" in problem
            for problem in app.board.problems
        ), list(app.board.problems)
        # A call that ended in 2100 would have made 2100 'today': the log's calls, which
        # end before it, would no longer be counted.
        assert app.board.count_today(Outcome.COMPLETED) == 3
        await until(pilot, lambda: "still-open" in screen_text(app))
        row = next(line for line in screen_text(app).splitlines() if "still-open" in line)
        # In state 0 s, in total 1 s: the log's own time, not 2100's ("!640547h04m").
        assert re.search(r" 0s +1s still-open", row), row
