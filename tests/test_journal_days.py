"""The journal kept by days: a new day closes a segment with a checkpoint, a restart
reads one checkpoint and the current day, old days are pruned, resumes cross days.

Every journal here is written by a real hub from events spread over several days
(UTC midnights), then restarted, damaged (a checkpoint's byte flipped or cut, a
middle day deleted, a torn last line) and restarted again, in-process or as a real
`callboard serve`. What a restart re-applies is counted by the hub itself
(`recovered_records` on /health), not timed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from classifier.schema import Event, event_from_dict
from monitor.feed.checkpoint import read_checkpoint
from monitor.feed.hub import Hub, HubConfig, running_hub
from monitor.feed.journal import JournalError
from tests.cli_support import BenchSmoke, callboard
from tests.day_support import DAY1, day_calls
from tests.hub_support import DEADLINE, ServeProcess, get_health, wait_for


def state_of(hub: Hub) -> dict[str, Any]:
    """What a restart must give back: seq, calls in progress with their events, presence,
    and the day the hub hands to boards (its day state)."""
    tracker = hub.tracker.to_dict()
    return {
        "seq": hub.seq,
        "calls": tracker["calls"],
        "presence": tracker["presence"],
        "day": hub.day.to_dict(),
    }


async def journal_days(path: Path, events: list[Event], **config: Any) -> dict[str, Any]:
    """Publish `events` into a real hub journaling to `path`; its state as it stops."""
    async with running_hub(HubConfig(port=0, journal=path, **config)) as hub:
        for event in events:
            result = hub.publish(event)
            assert result.accepted, result.problem
        return state_of(hub)


def record_seqs(path: Path) -> list[int]:
    """The seqs of a segment's records, read as text (header skipped)."""
    lines = path.read_bytes().splitlines()[1:]
    return [json.loads(line[9:])["seq"] for line in lines]


def files(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name))


async def test_a_new_day_closes_the_segment_with_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "hub.journal"
    events = day_calls(3, 4)
    state = await journal_days(path, events)
    assert files(path) == [
        "hub.journal",
        "hub.journal.2026-11-30",
        "hub.journal.2026-12-01",
        f"hub.journal.checkpoint-{record_seqs(path.with_name('hub.journal.2026-11-30'))[-1]}",
        f"hub.journal.checkpoint-{record_seqs(path.with_name('hub.journal.2026-12-01'))[-1]}",
    ]
    segments = ["hub.journal.2026-11-30", "hub.journal.2026-12-01", "hub.journal"]
    seqs = [record_seqs(tmp_path / name) for name in segments]
    # Together the days hold every seq once, in order; each day holds its own events.
    assert [s for day in seqs for s in day] == list(range(1, len(events) + 1))
    assert state["seq"] == len(events)
    for day, segment_seqs in zip(("2026-11-30", "2026-12-01", "2026-12-02"), seqs, strict=True):
        assert {events[s - 1].ts.date().isoformat() for s in segment_seqs} == {day}
    # The checkpoint at the first midnight holds the call that spans it, in progress.
    first = read_checkpoint(tmp_path / f"hub.journal.checkpoint-{seqs[0][-1]}")
    assert first.seq == seqs[0][-1] and first.state["seq"] == first.seq
    assert [call[0]["call_id"] for call in first.state["tracker"]["calls"]] == ["d0-late"]
    # The hub's day state as the day closed: the closed day, whose calls it counted.
    assert first.state["day"]["day"] == "2026-11-30"
    assert first.state["tracker"]["presence"][0]["agent"] == "ann"


async def test_a_restart_reapplies_only_the_current_day(tmp_path: Path) -> None:
    path = tmp_path / "hub.journal"
    before = await journal_days(path, day_calls(4, 5))
    current = record_seqs(path)
    async with running_hub(HubConfig(port=0, journal=path)) as hub:
        health = await get_health(hub.base_url)
        assert health["recovered_records"] == len(current) < before["seq"] / 3
        assert state_of(hub) == before
        # It carries on: the next event gets the next seq.
        assert hub.publish(day_calls(5, 1)[-1]).seq == before["seq"] + 1


async def test_a_call_in_progress_at_midnight_ends_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "hub.journal"
    events = day_calls(2, 2)
    # Stop after one event of day 2 that is not the late call's end: it is in progress.
    cut = next(i for i, e in enumerate(events) if e.ts.date() > DAY1.date())
    bob = {"type": "agent.status", "agent": "bob", "status": "available"}
    early = event_from_dict({**bob, "ts": (DAY1 + timedelta(days=1, seconds=5)).isoformat()})
    await journal_days(path, [*events[:cut], early])
    async with running_hub(HubConfig(port=0, journal=path)) as hub:
        assert [call.call_id for call in hub.tracker] == ["d0-late"]
        assert sorted(hub.tracker.presence) == ["ann", "bob"]
        assert hub.recovered_records == 1
        rest = [hub.publish(event) for event in events[cut:]]
        assert all(result.accepted for result in rest)
        assert len(hub.tracker) == 0
        # An event of a call that ended before the checkpoint is still refused.
        again = hub.publish(events[1])
        assert events[1].call_id == "d0-c0" and not again.accepted
        assert again.code == "rejected" and "already ended" in str(again.problem)


async def test_keep_days_prunes_older_days_and_their_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "hub.journal"
    events = day_calls(5, 3)
    before = await journal_days(path, events, journal_keep_days=2)
    kept = record_seqs(path.with_name("hub.journal.2026-12-03"))
    assert files(path) == [
        "hub.journal",
        "hub.journal.2026-12-03",
        f"hub.journal.checkpoint-{kept[0] - 1}",
        f"hub.journal.checkpoint-{kept[-1]}",
    ]
    async with running_hub(HubConfig(port=0, journal=path, journal_keep_days=2)) as hub:
        assert state_of(hub) == before
        assert (await get_health(hub.base_url))["journal_first_seq"] == kept[0] - 1


async def read_subscription(url: str) -> list[dict[str, Any]]:
    """The frames a subscriber gets up to the hub's current end (a snapshot, or all
    of a resume's events)."""
    frames: list[dict[str, Any]] = []
    async with connect(url) as ws:
        first = json.loads(await ws.recv())
        frames.append(first)
        if first["frame"] != "resume":
            return frames
        last = first["since"]
        while last < first["seq"]:
            frame = json.loads(await ws.recv())
            for item in frame["frames"] if frame["frame"] == "batch" else [frame]:
                frames.append(item)
                last = item["seq"]
    return frames


async def test_a_resume_crosses_days_and_one_older_than_the_kept_days_resyncs(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hub.journal"
    events = day_calls(4, 6)
    await journal_days(path, events, journal_keep_days=3)
    oldest = record_seqs(path.with_name("hub.journal.2026-12-01"))[0]
    config = HubConfig(port=0, journal=path, journal_keep_days=3, ring_size=5, batch_max=7)
    async with running_hub(config) as hub:
        url = f"{hub.url}?hub={hub.hub_id}&since="
        frames = await read_subscription(url + str(oldest + 2))
        assert frames[0]["frame"] == "resume"
        assert [f["seq"] for f in frames[1:]] == list(range(oldest + 3, len(events) + 1))
        for frame in frames[1:]:
            assert event_from_dict(frame["event"]) == events[frame["seq"] - 1].model_copy(
                update={"seq": frame["seq"]}
            )
        # The day before the oldest kept one is gone: a snapshot, as when the ring moved on.
        frames = await read_subscription(url + str(oldest - 2))
        assert frames[0]["frame"] == "snapshot"


async def test_a_damaged_checkpoint_is_named_and_the_one_before_is_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "hub.journal"
    before = await journal_days(path, day_calls(3, 4))
    newest = sorted(tmp_path.glob("hub.journal.checkpoint-*"))[-1]
    data = bytearray(newest.read_bytes())
    body_start = data.index(b"\n") + 1
    data[body_start + 20] ^= 0x01
    newest.write_bytes(bytes(data))
    caplog.set_level(logging.WARNING)
    async with running_hub(HubConfig(port=0, journal=path)) as hub:
        assert state_of(hub) == before
        # The day before the current one is re-applied too, from the older checkpoint.
        day2 = record_seqs(path.with_name("hub.journal.2026-12-01"))
        assert hub.recovered_records == len(day2) + len(record_seqs(path))
    assert (
        f"{newest}: damaged: the body from byte offset {body_start} to {len(data)} "
        "does not match its checksum"
    ) in caplog.text
    # Cut short: torn, with where it ends and where it should.
    newest.write_bytes(bytes(data[:-10]))
    caplog.clear()
    async with running_hub(HubConfig(port=0, journal=path)) as hub:
        assert state_of(hub) == before
    assert f"{newest}: torn: the body ends at byte offset {len(data) - 10}" in caplog.text


async def test_without_a_usable_checkpoint_the_days_are_reapplied_from_seq_1(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hub.journal"
    before = await journal_days(path, day_calls(3, 2))
    for checkpoint in tmp_path.glob("hub.journal.checkpoint-*"):
        checkpoint.write_text("not a checkpoint\n")
    async with running_hub(HubConfig(port=0, journal=path)) as hub:
        assert state_of(hub) == before
        assert hub.recovered_records == before["seq"]


async def test_no_checkpoint_after_pruning_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hub.journal"
    await journal_days(path, day_calls(4, 2), journal_keep_days=2)
    for checkpoint in tmp_path.glob("hub.journal.checkpoint-*"):
        checkpoint.unlink()
    with pytest.raises(JournalError) as caught:
        async with running_hub(HubConfig(port=0, journal=path)):
            pass
    assert "no usable checkpoint (there is none) and the oldest segment starts after seq" in str(
        caught.value
    )


def test_a_missing_middle_day_is_refused_by_serve(tmp_path: Path) -> None:
    path = tmp_path / "hub.journal"
    asyncio.run(journal_days(path, day_calls(3, 2)))
    middle = path.with_name("hub.journal.2026-12-01")
    first_missing = record_seqs(middle)[0]
    last_missing = record_seqs(middle)[-1]
    middle.unlink()
    done = callboard("serve", "--port", "0", "--journal", str(path), timeout=DEADLINE)
    assert done.returncode == 2
    assert (
        f"hub.journal: seq gap between segments: it starts after seq {last_missing} but "
        f"hub.journal.2026-11-30 ends at seq {first_missing - 1}, so the records of seqs "
        f"{first_missing} to {last_missing} are missing"
    ) in done.stderr


async def test_serve_restarts_on_one_day_with_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "hub.journal"
    before = await journal_days(path, day_calls(3, 3))
    size = path.stat().st_size
    with path.open("ab") as f:
        f.write(b'0badc0de {"frame":"event","seq":')
    hub = ServeProcess(["--port", "0", "--journal", str(path), "--keep-days", "3"])
    try:
        health = await get_health(hub.url.removesuffix("/events"))
        assert health["seq"] == before["seq"]
        assert health["recovered_records"] == len(record_seqs(path))
        assert health["calls_in_progress"] == len(before["calls"])
    finally:
        assert hub.terminate() == 0
    assert path.stat().st_size == size
    assert f"dropped a torn last line at byte offset {size}" in hub.drain()


async def test_a_replayed_week_restarts_on_its_last_day(tmp_path: Path) -> None:
    """Through `callboard serve` end to end: a log of 7 days replayed into a journal,
    the hub stopped and started again on it."""
    log = tmp_path / "week.jsonl"
    events = day_calls(7, 3)
    log.write_text("".join(e.to_json() + "\n" for e in events))
    path = tmp_path / "hub.journal"
    args = ["--port", "0", "--journal", str(path)]
    hub = ServeProcess([str(log), "--speed", "0", *args])
    try:
        base = hub.url.removesuffix("/events")
        await wait_for(
            lambda: path.exists() and len(record_seqs(path)) == 3 * 4 + 1 + 1,
            "the seventh day in the journal",
        )
        assert (await get_health(base))["seq"] == len(events)
    finally:
        assert hub.terminate() == 0
    assert len(list(tmp_path.glob("hub.journal.2026-*"))) == 6
    hub = ServeProcess(args)
    try:
        health = await get_health(hub.url.removesuffix("/events"))
        assert health["seq"] == len(events)
        assert health["recovered_records"] == len(record_seqs(path)) == 14
    finally:
        assert hub.terminate() == 0


def test_keep_days_must_be_a_day_or_more(tmp_path: Path) -> None:
    done = callboard("serve", "--journal", str(tmp_path / "j"), "--keep-days", "0")
    assert done.returncode == 2
    assert "argument --keep-days: must be 1 or more, got 0" in done.stderr


@pytest.mark.slow
def test_the_restart_figure_reapplies_one_day_of_a_week(bench_smoke: BenchSmoke) -> None:
    """bench's restart figure, smoke size: counts, not times (the times are its report)."""
    figure = bench_smoke("restart")
    records = figure["details"]["records_reapplied"]
    assert records["one_file_week"] == figure["details"]["events_seven_days"]
    assert 0 < records["week"] < records["one_file_week"] / 5
    assert [m["name"] for m in figure["measures"]][:2] == [
        "restart, 7 days kept by days",
        "restart, 7 days in one file (before)",
    ]
