"""Untimed AMI recordings: member events are dated by the recording, never by the epoch.

panoramisk's raw-text sessions (../shared/realdata/LIVE.md) were recorded without
``timestampevents``: their QueueMember/QueueMemberStatus/QueueMemberPaused events
carry no time and no Uniqueid. The mapper used to date them from a clock that
started at 1970-01-01. Now they take the recording's own time (a Newchannel's
Uniqueid, a Ping answer's Timestamp), are held until it gives one, and are counted
as skipped with the reason when it never does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from classifier.schema import parse_event
from monitor.sources.asterisk_ami import HOLD_UNDATED, NO_ROOM, NO_TIME, AmiMapper
from tests.ami_support import AMI, text_recording
from tests.cli_support import callboard
from tests.hub_support import ServeProcess, run_tail

PANORAMISK = AMI / "panoramisk"
#: agent_not_in_pause.yaml's first message: Newchannel, Uniqueid 1413823936.3729.
NOT_IN_PAUSE_AT = datetime(2014, 10, 20, 16, 52, 16, tzinfo=UTC)
#: agent_loggued_in.yaml's first Ping answer, Timestamp 1409169929.412068.
LOGGED_IN_PING = datetime.fromtimestamp(1409169929.412068, UTC)


def _mapped(mapper: AmiMapper, blocks: list[dict[str, str]]) -> list[dict[str, object]]:
    out = []
    for block in blocks:
        out.extend(mapper.feed(block))
    return out


def test_member_events_take_the_recordings_time_not_1970() -> None:
    # Served from the file and read back from the hub by `callboard tail`: Agent/999
    # paused, then unpaused, at the time its channel's Uniqueid gives, 2014-10-20.
    hub = ServeProcess([str(PANORAMISK / "agent_not_in_pause.yaml"), "--port", "0", "--speed", "0"])
    try:
        done = run_tail(hub.url, "--since", "0", "--until-finished", "--events")
    finally:
        assert hub.terminate() == 0
    assert done.returncode == 0, done.stderr
    events = [parse_event(line) for line in done.stdout.splitlines()]
    assert [(e.type, getattr(e, "status", None)) for e in events] == [
        ("agent.status", "paused"),
        ("agent.status", "available"),
    ]
    assert {e.ts for e in events} == {NOT_IN_PAUSE_AT}


def test_a_recording_that_never_gives_a_time_has_its_member_events_counted_not_dated() -> None:
    # panoramisk's QueueStatus answer alone: six QueueMember and not one time.
    path = str(PANORAMISK / "queue_status.yaml")
    done = callboard("classify", path)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stderr.splitlines() if "QueueMember " in line]
    assert len(rows) == 1 and "no time known: recorded without" in rows[0], done.stderr
    assert rows[0].rstrip(" │").endswith("6"), rows[0]
    report = callboard("report", "--agents", "--format", "json", path)
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["agents"] == []  # none on a day of 1970
    assert "6 skipped" not in report.stderr and "9 skipped (not errors)" in report.stderr


def test_member_events_before_the_first_time_are_held_and_dated_by_it() -> None:
    # The QueueStatus answer, then the logged-in session whose first message is a Ping
    # answer with a Timestamp: the six members come out with that Ping, at its time.
    mapper = AmiMapper()
    status = text_recording("panoramisk/queue_status.yaml")
    assert _mapped(mapper, status) == []
    # Its first message is our Ping (an action, no event), the second the answer.
    logged_in = text_recording("panoramisk/agent_loggued_in.yaml")
    assert mapper.feed(logged_in[0]) == []
    assert "Timestamp" in logged_in[1] and "Event" not in logged_in[1]
    released = mapper.feed(logged_in[1])
    assert [(e["agent"], e["status"]) for e in released] == [
        ("220", "available"),
        ("213", "available"),
        ("859", "available"),
        ("214", "available"),
        ("333", "available"),
        ("999", "paused"),
    ]
    assert {e["ts"] for e in released} == {LOGGED_IN_PING}
    rest = _mapped(mapper, logged_in[2:]) + mapper.finish()
    assert rest and all(e["ts"] >= LOGGED_IN_PING for e in rest)
    assert not [k for k in mapper.skipped.counts if k[1] in (NO_TIME, NO_ROOM)]


def test_the_held_events_are_bounded_and_the_rest_counted() -> None:
    mapper = AmiMapper()
    member = next(
        b for b in text_recording("panoramisk/queue_status.yaml") if b.get("Event") == "QueueMember"
    )
    for _ in range(HOLD_UNDATED + 250):
        assert mapper.feed(member) == []
    assert mapper.skipped.counts[("QueueMember", NO_ROOM)] == 250
    released = mapper.feed({"Response": "Success", "Ping": "Pong", "Timestamp": "1409169929.4"})
    assert len(released) == HOLD_UNDATED
    # Never dated: the held ones are counted at the end with the reason.
    never = AmiMapper()
    for _ in range(3):
        never.feed(member)
    assert never.finish() == []
    assert never.skipped.counts[("QueueMember", NO_TIME)] == 3


def test_live_member_events_are_dated_on_arrival() -> None:
    # A live session (`now` given) dates every event when it arrives: nothing is held.
    mapper = AmiMapper()
    now = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)
    out = []
    for block in text_recording("panoramisk/queue_status.yaml"):
        out.extend(mapper.feed(block, now))
    assert len(out) == 6 and {e["ts"] for e in out} == {now}
    assert mapper.finish() == []


def test_a_call_event_with_no_time_at_all_is_an_error_naming_why() -> None:
    # A Uniqueid that is no epoch (Asterisk 12+ lets Originate set any ChannelId), in a
    # recording that has given no time: refused with the reason, not dated 1970.
    mapper = AmiMapper()
    join = {"Event": "QueueCallerJoin", "Uniqueid": "caller-one", "Queue": "sales"}
    with pytest.raises(ValueError, match=f"QueueCallerJoin: {NO_TIME}"):
        mapper.feed(join)
    # Once the recording has given a time, the same event is dated by it.
    mapper.feed({"Event": "Newchannel", "Uniqueid": "1413823936.3729", "Channel": "SIP/1"})
    assert {e["ts"] for e in mapper.feed(join)} == {NOT_IN_PAUSE_AT}
