"""The day belongs to the hub: every board shows the centre's day, from whenever it joins.

Real hubs on loopback, real `FeedClient`s, real boards (`monitor.board.Board`) fed as
`callboard watch` feeds its own; the events are a simulated centre's day.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from websockets.asyncio.client import connect

from classifier.agents_state import to_snapshot as agents_to_snapshot
from classifier.day import DayClock, Window
from classifier.panel_rows_form import to_snapshot as rows_to_snapshot
from classifier.schema import Event, event_from_dict
from classifier.verdict import Outcome
from monitor.app.widgets.header import counts_begin
from monitor.board import BEFORE_JOINING, Board
from monitor.feed.hub import Hub, HubConfig, running_hub
from monitor.feed.protocol import Snapshot, decode_hub_message
from monitor.sim.config import SimConfig
from monitor.sim.model import simulate
from tests.cli_support import callboard
from tests.day_support import BoardFollower, shown
from tests.hub_support import ServeProcess, run_tail, write_log

LONDON_6AM = DayClock(ZoneInfo("Europe/London"), time(6, 0))


def a_day(hours: float = 1.0, seed: int = 5) -> list[Event]:
    """A simulated centre's events: every outcome, several queues, calls in progress."""
    return list(simulate(SimConfig(hours=hours, seed=seed)))


async def publish(hub: Hub, events: list[Event]) -> None:
    for i, event in enumerate(events, 1):
        assert hub.publish(event).accepted, event
        if i % 100 == 0:
            await asyncio.sleep(0)  # let the boards read as a live hub would


@pytest.mark.slow
async def test_a_board_joining_at_any_moment_shows_the_day_of_one_that_watched_it_all() -> None:
    events = a_day()
    events = events[: len(events) * 9 // 10]  # stopped mid-hour: agents on calls in progress
    async with running_hub(HubConfig(port=0)) as hub:
        watcher = BoardFollower(hub.url)
        await watcher.caught_up(0)
        joined = []
        quarter = len(events) // 4
        for start in range(0, len(events), quarter):
            await publish(hub, events[start : start + quarter])
            joined.append(BoardFollower(hub.url))  # after 1/4, 1/2, 3/4 and all of the day
        boards = [watcher, *joined]
        for follower in boards:
            await follower.caught_up(hub.seq)
        now = watcher.board.last_ts
        assert now is not None
        expected = shown(watcher.board, now)
        day = expected["figures"][Window.DAY.value][0]
        # The day is worth comparing: every panel has calls, the windows differ from it.
        assert day.offered > 100 and all(expected["panels"][o.value][2] for o in Outcome)
        assert expected["figures"][Window.QUARTER.value][0].offered < day.offered
        # The agents' day is worth comparing: agents talking, with calls in progress.
        assert any(row[4] is not None for row in expected["agents"]["rows"])
        for follower in joined:
            assert shown(follower.board, now) == expected
            assert follower.board.unseen_events == 0
            # A late board's stories are the watcher's newest lines (the rest counted).
            for name, agent in watcher.board.agents.agents.items():
                kept = follower.board.agents.agents[name].story
                assert list(kept) == list(agent.story)[len(agent.story) - len(kept) :]
        for follower in boards:
            await follower.stop()


@pytest.mark.slow
async def test_a_hub_restarted_on_its_journal_hands_out_the_same_day(tmp_path: Path) -> None:
    events = a_day(seed=8)
    journal = tmp_path / "hub.journal"
    async with running_hub(HubConfig(port=0, journal=journal)) as hub:
        watcher = BoardFollower(hub.url)
        await publish(hub, events)
        await watcher.caught_up(hub.seq)
        await watcher.stop()
    now = watcher.board.last_ts
    assert now is not None
    async with running_hub(HubConfig(port=0, journal=journal)) as again:
        late = BoardFollower(again.url)
        await late.caught_up(again.seq)
        assert shown(late.board, now) == shown(watcher.board, now)
        await late.stop()


async def test_a_hub_restarted_without_a_journal_says_when_its_day_begins() -> None:
    events = a_day(hours=0.5, seed=2)
    # A hub that started in the middle of the day: it saw the second half only.
    later = events[len(events) // 2 :]
    async with running_hub(HubConfig(port=0)) as hub:
        await publish(hub, later)  # calls already going open new calls, as on any hub
        board = BoardFollower(hub.url)
        await board.caught_up(hub.seq)
        first = later[0].ts
        assert hub.day.counted_from == board.board.day.counted_from == first
        assert counts_begin(board.board) == (
            f"Today's counts begin at {first:%H:%M:%S}: "
            "the feed holds no record of the day before then"
        )
        await board.stop()


def boundary_events() -> list[Event]:
    """Calls around 06:00 in London on 2026-10-25, the day summer time ends (at 02:00)."""
    out: list[Event] = []

    def call(cid: str, start: str, end: str) -> None:
        out.extend(
            event_from_dict(e)
            for e in (
                {"type": "call.started", "call_id": cid, "ts": start, "from": "+4420"},
                {"type": "queue.entered", "call_id": cid, "ts": start, "queue": "sales"},
                {"type": "agent.answered", "call_id": cid, "ts": start, "agent": "ann"},
                {"type": "call.ended", "call_id": cid, "ts": end, "by": "caller"},
            )
        )

    # 05:30 UTC is 05:30 in London that morning (06:30 on a summer-time clock).
    call("before-1", "2026-10-25T05:20:00+00:00", "2026-10-25T05:30:00+00:00")
    call("before-2", "2026-10-25T05:50:00+00:00", "2026-10-25T05:59:00+00:00")
    # Spans the boundary: counts on the day it ended, the new one.
    call("spans", "2026-10-25T05:58:00+00:00", "2026-10-25T06:02:00+00:00")
    call("after", "2026-10-25T06:05:00+00:00", "2026-10-25T06:10:00+00:00")
    return sorted(out, key=lambda e: e.ts)


async def test_the_day_turns_at_six_in_london_on_the_day_summer_time_ends() -> None:
    events = boundary_events()
    async with running_hub(HubConfig(port=0, day_clock=LONDON_6AM)) as hub:
        board = BoardFollower(hub.url)
        await board.caught_up(0)
        before = [e for e in events if e.ts < datetime(2026, 10, 25, 6, tzinfo=UTC)]
        await publish(hub, before)
        await board.caught_up(hub.seq)
        assert str(board.board.day.day) == "2026-10-24"
        assert board.board.count_today(Outcome.COMPLETED) == 2
        # The first event past 06:00 (the spanning call's end) starts the new day on the
        # hub and on the board: the header and the panels begin again.
        await publish(hub, events[len(before) :])
        await board.caught_up(hub.seq)
        assert str(board.board.day.day) == "2026-10-25"
        assert board.board.count_today(Outcome.COMPLETED) == 2
        rows = [f.verdict.call_id for f in board.board.finished(Outcome.COMPLETED)]
        assert rows == ["after", "spans"]
        assert str(hub.day.day) == "2026-10-25" and hub.day.total.answered == 2
        # A board joining now gets the new day, and the clock it is counted on.
        late = BoardFollower(hub.url)
        await late.caught_up(hub.seq)
        assert late.board.day.clock == LONDON_6AM
        now = datetime(2026, 10, 25, 6, 11, tzinfo=UTC)
        assert shown(late.board, now) == shown(board.board, now)
        # A call that ended before the board joined has its verdict's story, and says
        # where its events are instead of leaving them out silently.
        story = late.board.story("after", now)
        assert story is not None
        texts = [line.text for line in story.lines]
        assert texts[0] == BEFORE_JOINING and "outcome: Completed (answered)" in texts
        for follower in (board, late):
            await follower.stop()


async def test_the_board_turns_the_day_at_the_boundary_with_no_call_ending() -> None:
    events = boundary_events()
    async with running_hub(HubConfig(port=0, day_clock=LONDON_6AM)) as hub:
        board = BoardFollower(hub.url)
        await publish(hub, events[:8])  # the two calls before the boundary
        # Any event past 06:00 turns the day: here a call that starts at 06:00:30.
        hub.publish(
            event_from_dict(
                {"type": "call.started", "call_id": "x", "ts": "2026-10-25T06:00:30+00:00"}
            )
        )
        await board.caught_up(hub.seq)
        assert str(board.board.day.day) == "2026-10-25"
        assert board.board.count_today(Outcome.COMPLETED) == 0
        assert not board.board.finished(Outcome.COMPLETED)
        await board.stop()


async def test_a_board_asked_for_another_day_than_the_hubs_says_so_and_counts_itself() -> None:
    async with running_hub(HubConfig(port=0, day_clock=LONDON_6AM)) as hub:
        await publish(hub, boundary_events()[:8])
        board = BoardFollower(hub.url, Board(clock=DayClock(ZoneInfo("America/New_York"))))
        await board.caught_up(hub.seq)
        assert board.board.problems[0] == (
            "the hub's day is not this board's: the hub's days start at 06:00 in "
            "Europe/London, this board's days start at 00:00 in America/New_York; "
            "counting from here on"
        )
        assert board.board.count_today(Outcome.COMPLETED) == 0
        await board.stop()


async def test_the_snapshot_carries_the_day_in_its_first_part_and_old_readers_ignore_it() -> None:
    async with running_hub(HubConfig(port=0)) as hub:
        await publish(hub, a_day(hours=0.25, seed=3))
        async with connect(hub.url) as ws:
            first = json.loads(await ws.recv())
        assert first["frame"] == "snapshot" and first["part"] == 1
        calls = [(c.call_id, c.caller, c.queue) for c in hub.tracker]
        agents = agents_to_snapshot(hub.agents, calls)
        day = hub.day.to_dict()
        rows = rows_to_snapshot(day["recent"])
        assert first["day"] == day | {"recent": rows, "agents": agents}
        # A reader that knows nothing of `day` reads the rest of the frame as before.
        del first["day"]
        (plain,) = decode_hub_message(json.dumps(first))
        assert isinstance(plain, Snapshot)
        assert plain.day is None and plain.seq == hub.seq


@pytest.mark.slow
def test_serve_and_watch_refuse_an_unknown_zone_and_a_bad_day_start(tmp_path: Path) -> None:
    log = write_log(tmp_path / "day.jsonl", boundary_events())
    for args, named in (
        (("serve", "--timezone", "Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
        (("watch", "ws://127.0.0.1:1/events", "--day-starts", "25:00"), "got '25:00'"),
        (("replay", str(log), "--timezone", "Europe/Lundon"), "'Europe/Lundon'"),
        (("classify", str(log), "--day-starts", "6"), "got '6'"),
        (("--timezone", "UTC+1"), "unknown time zone 'UTC+1'"),
    ):
        done = callboard(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert named in done.stderr, done.stderr


def test_classify_counts_calls_on_the_centres_days(tmp_path: Path) -> None:
    log = write_log(tmp_path / "day.jsonl", boundary_events())
    done = callboard("classify", str(log), "--timezone", "Europe/London", "--day-starts", "06:00")
    assert done.returncode == 0, done.stderr
    rows = re.findall(r"ended on (\S+) +│ +│ +(\d+) │", done.stderr)
    assert rows == [("2026-10-24", "2"), ("2026-10-25", "2")], done.stderr
    # On the events' own offset and midnight, all four ended on the 25th.
    plain = callboard("classify", str(log))
    assert "ended on" not in plain.stderr


def test_a_day_too_old_for_the_window_is_not_in_it() -> None:
    board = Board()
    start = datetime(2026, 3, 3, 9, tzinfo=UTC)
    for i in range(3):
        at = start + timedelta(minutes=40 * i)
        for kind, extra in (("call.started", {"from": "+1"}), ("call.ended", {"by": "caller"})):
            board.apply(
                event_from_dict({"type": kind, "call_id": f"c{i}", "ts": at.isoformat(), **extra})
            )
    now = start + timedelta(minutes=81)
    assert board.kpis(now, Window.DAY)[0].offered == 3
    assert board.kpis(now, Window.HOUR)[0].offered == 2
    assert board.kpis(now, Window.QUARTER)[0].offered == 1


@pytest.mark.slow
def test_tail_says_the_hubs_day_when_it_joins(tmp_path: Path) -> None:
    log = write_log(tmp_path / "day.jsonl", boundary_events())
    hub = ServeProcess(
        [
            "--port",
            "0",
            str(log),
            "--speed",
            "0",
            "--timezone",
            "Europe/London",
            "--day-starts",
            "06:00",
        ]
    )
    try:
        done = run_tail(hub.url, "--until-finished")
    finally:
        hub.terminate()
    assert done.returncode == 0, done.stderr
    # The replay finished before tail joined: the new day's two calls, the 24th's gone.
    assert (
        "callboard tail: the hub's day 2026-10-25 (days start at 06:00 in Europe/London): "
        "2 offered, 2 answered, 0 missed, 0 abandoned, 0 voicemail, 0 outbound\n"
    ) in done.stderr
