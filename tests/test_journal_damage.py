"""A closed day's journal file damaged after the day closed, then a subscriber resuming into
it: a real hub on a real journal directory, real subscribers, asyncio timeouts so that a
hang fails the test instead of holding it.

The subscriber is closed with 4002 and a reason naming the file and the byte offset, and a
board that joins then gets the hub's whole day in its snapshot: the day is never dropped.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from classifier.verdict import Outcome
from monitor.feed.hub import HubConfig, running_hub
from monitor.feed.protocol import CLOSE_RESYNC
from tests.day_support import BoardFollower, day_calls, shown
from tests.hub_support import DEADLINE

CLOSED_DAY = "hub.journal.2026-11-30"


def flip_a_record(path: Path) -> int:
    """Change one byte inside the closed day's fourth record; its byte offset."""
    data = bytearray(path.read_bytes())
    lines = data.split(b"\n")
    offset = sum(len(line) + 1 for line in lines[:4])  # the header and three records
    data[offset + 40] ^= 0x01
    path.write_bytes(bytes(data))
    return offset


def cut_short(path: Path) -> int:
    """Drop the closed day's last two records; where the file now ends."""
    lines = path.read_bytes().split(b"\n")
    kept = b"\n".join(lines[:-3]) + b"\n"
    path.write_bytes(kept)
    return len(kept)


async def read_until_closed(url: str) -> tuple[list[dict[str, Any]], int | None, str]:
    """Every frame a subscriber gets until the hub closes it; the close code and reason."""
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(DEADLINE), connect(url) as ws:
        try:
            async for text in ws:
                frames.append(json.loads(text))
        except ConnectionClosed:
            pass
        return frames, ws.close_code, ws.close_reason or ""


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (flip_a_record, "damaged record at byte offset"),
        (cut_short, "cut short after closing: ends at seq"),
    ],
)
async def test_a_resume_into_a_closed_day_damaged_after_closing_is_told_and_resynced(
    tmp_path: Path, damage: Any, words: str
) -> None:
    path = tmp_path / "hub.journal"
    # A ring of 5: a resume into the first day is read from its file, not from memory.
    async with running_hub(HubConfig(port=0, journal=path, ring_size=5)) as hub:
        watcher = BoardFollower(hub.url)
        await watcher.caught_up(0)  # it watches the whole of both days
        # Six answered calls on each of two days: the first day's file gets closed.
        for event in day_calls(2, 6, across=False, presence=False):
            assert hub.publish(event).accepted
            await asyncio.sleep(0)
        await watcher.caught_up(hub.seq)
        # Damaged while the hub runs, after the day closed, before anyone resumed into it.
        offset = damage(path.with_name(CLOSED_DAY))
        frames, code, reason = await read_until_closed(f"{hub.url}?hub={hub.hub_id}&since=2")
        assert frames[0]["frame"] == "resume"
        assert code == CLOSE_RESYNC
        assert f"journal damaged: {CLOSED_DAY}" in reason and words in reason
        assert f"byte offset {offset}" in reason
        # No record is sent from a day that failed its check.
        assert frames[1:] == []
        # A board joining now gets the hub's whole day, the damaged file's calls included.
        late = BoardFollower(hub.url)
        await asyncio.wait_for(late.caught_up(hub.seq), DEADLINE)
        now = watcher.board.last_ts
        assert now is not None
        assert shown(late.board, now) == shown(watcher.board, now)
        assert late.board.count_today(Outcome.COMPLETED) == watcher.board.count_today(
            Outcome.COMPLETED
        )
        await late.stop()
        await watcher.stop()
