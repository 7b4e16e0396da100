"""The journal file, and a hub recovering from it: same hub id, seq continuing, calls kept."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from monitor.feed.client import FeedClient
from monitor.feed.hub import HubConfig, running_hub
from monitor.feed.journal import INDEX_EVERY, Journal, JournalError
from monitor.feed.protocol import encode_event_frame
from tests.hub_support import Follower, make_calls, wait_for


def journal_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_a_new_journal_has_a_header_and_records_follow(tmp_path: Path) -> None:
    path = tmp_path / "hub.journal"
    journal, recovery = Journal.open(path)
    assert recovery.created
    events = make_calls(1)
    for seq, event in enumerate(events, start=1):
        journal.append(seq, encode_event_frame(event.model_copy(update={"seq": seq}), seq, 1.5))
    journal.close()
    header, *records = journal_lines(path)
    assert json.loads(header) == {
        "journal": 2,
        "hub_id": journal.hub_id,
        "created": json.loads(header)["created"],
        "checksum": "crc32",
    }
    # Each record: its frame's CRC-32 in 8 hex digits, a space, the frame.
    checksums, frames = zip(*(r.split(" ", 1) for r in records), strict=True)
    assert [f"{zlib.crc32(f.encode()):08x}" for f in frames] == list(checksums)
    assert [json.loads(f)["seq"] for f in frames] == [1, 2, 3, 4, 5]
    again, recovery = Journal.open(path)
    assert again.hub_id == journal.hub_id
    assert [frame.event for frame, _ in recovery.records] == [
        e.model_copy(update={"seq": i}) for i, e in enumerate(events, start=1)
    ]
    assert again.last_seq == 5
    again.close()


def test_a_torn_last_line_is_dropped_and_appending_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "hub.journal"
    journal, _ = Journal.open(path)
    event = make_calls(1)[0].model_copy(update={"seq": 1})
    journal.append(1, encode_event_frame(event, 1, 1.0))
    journal.close()
    whole = path.stat().st_size
    with path.open("ab") as f:
        f.write(b'{"frame":"event","seq":2,"received_at":2.0,"event":{"call_id":"ca')
    again, recovery = Journal.open(path)
    assert recovery.torn_bytes > 0
    assert "torn last line" in caplog.text
    assert path.stat().st_size == whole
    assert len(list(recovery.records)) == 1
    assert again.last_seq == 1
    again.append(2, encode_event_frame(event.model_copy(update={"seq": 2}), 2, 2.0))
    again.close()
    third, recovery = Journal.open(path)
    assert [frame.seq for frame, _ in recovery.records] == [1, 2]
    third.close()


def test_damage_before_the_end_is_refused_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "hub.journal"
    journal, _ = Journal.open(path)
    for seq in (1, 2):
        event = make_calls(1)[seq].model_copy(update={"seq": seq})
        journal.append(seq, encode_event_frame(event, seq, 1.0))
    journal.close()
    lines = journal_lines(path)
    lines[1] = lines[1][:40] + "#garbage#" + lines[1][40:]
    path.write_text("\n".join(lines) + "\n")
    journal, recovery = Journal.open(path)
    with pytest.raises(JournalError, match=r"hub\.journal:2: damaged record"):
        list(recovery.records)
    journal.close()


def test_something_else_is_not_taken_for_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(make_calls(1)[0].to_json() + "\n")
    with pytest.raises(JournalError, match="not a callboard journal"):
        Journal.open(path)
    assert path.read_text() == make_calls(1)[0].to_json() + "\n"


def test_reading_back_from_any_seq_uses_the_index(tmp_path: Path) -> None:
    path = tmp_path / "hub.journal"
    journal, _ = Journal.open(path)
    events = make_calls(200)
    for seq, event in enumerate(events, start=1):
        journal.append(seq, encode_event_frame(event.model_copy(update={"seq": seq}), seq, 1.0))
    assert len(events) > 3 * INDEX_EVERY
    for since in (0, 1, INDEX_EVERY - 1, INDEX_EVERY, 2 * INDEX_EVERY + 7, 999, 1000):
        seqs = [seq for seq, _ in journal.reader(since)]
        assert seqs == list(range(since + 1, 1001)), since
    journal.close()


async def test_a_hub_restarted_on_its_journal_carries_on(tmp_path: Path) -> None:
    path = tmp_path / "hub.journal"
    events = make_calls(10)
    config = HubConfig(port=0, journal=path, ring_size=8)
    async with running_hub(config) as hub:
        for event in events[:23]:
            hub.publish(event)
        first_id = hub.hub_id
        open_calls = {c.call_id: [e.seq for e in c.events] for c in hub.tracker}
    assert open_calls == {"call-00004": [21, 22, 23]}
    async with running_hub(config) as hub:
        assert hub.hub_id == first_id
        assert hub.seq == 23
        assert {c.call_id: [e.seq for e in c.events] for c in hub.tracker} == open_calls
        # The tracker remembers ended calls too: a replayed old event is a duplicate.
        assert hub.publish(events[0]).code == "duplicate"
        assert hub.publish(events[23]).seq == 24
        # since=0 gets everything from the journal although the ring holds only 8.
        follower = Follower(FeedClient(hub.url, since=0, backoff_initial=0.05))
        await wait_for(lambda: follower.seqs == list(range(1, 25)), "all 24 events")
        assert follower.client.state.resumes == 1
        assert follower.snapshots == []
        await follower.stop()


async def test_a_client_of_a_journaled_hub_resumes_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "hub.journal"
    events = make_calls(12)
    port_config = HubConfig(port=0, journal=path)
    async with running_hub(port_config) as hub:
        port = hub.port
        for event in events[:20]:
            hub.publish(event)
        follower = Follower(FeedClient(hub.url, backoff_initial=0.05, backoff_max=0.2))
        await wait_for(lambda: follower.client.state.last_seq == 20, "first 20")
    # Same port, same journal: the client comes back with since=20 and gets a resume.
    async with running_hub(HubConfig(port=port, journal=path)) as hub:
        for event in events[20:]:
            hub.publish(event)
        await wait_for(lambda: follower.client.state.last_seq == 60, "the rest")
        await follower.stop()
    assert len(follower.snapshots) == 1
    assert follower.client.state.resumes >= 1
    assert follower.seqs == list(range(21, 61))
    # Calls 0-3 had ended before it joined; every later one is reported once.
    assert [v["call_id"] for v in follower.verdicts] == [f"call-{i:05d}" for i in range(4, 12)]
