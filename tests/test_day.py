"""The centre's day as pure computation (`classifier.day`): boundaries, windows, to/from dict."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from classifier.day import (
    DAY_STATE_VERSION,
    Counted,
    DayClock,
    DayState,
    Window,
    parse_day_starts,
    parse_timezone,
)
from classifier.kpi import Waiting
from classifier.verdict import Outcome, Verdict

LONDON = ZoneInfo("Europe/London")
#: 06:00 in London: summer time (BST, +01:00) ends at 02:00 on 2026-10-25.
LONDON_6AM = DayClock(LONDON, time(6, 0))


def verdict(
    call_id: str,
    ended: datetime,
    outcome: Outcome = Outcome.COMPLETED,
    queue: str | None = "sales",
    wait_s: float = 10.0,
) -> Verdict:
    return Verdict(
        call_id=call_id,
        outcome=outcome,
        reason="answered",
        detail="answered by ann",
        direction="inbound",
        queue=queue,
        agents_rung=("ann",),
        wait_s=wait_s,
        talk_s=30.0,
        started_at=(ended - timedelta(seconds=60)).isoformat(),
        ended_at=ended.isoformat(),
        rule="rule 3",
    )


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_day_starts_at_six_in_london_on_the_day_summer_time_ends() -> None:
    # 06:00 on the 24th is 05:00 UTC (summer time); 06:00 on the 25th is 06:00 UTC.
    assert str(LONDON_6AM.day_of(utc("2026-10-24T04:59:59"))) == "2026-10-23"
    assert str(LONDON_6AM.day_of(utc("2026-10-24T05:00:00"))) == "2026-10-24"
    # Past 02:00 BST the clocks went back: 05:30 UTC is 05:30 in London, still the 24th
    # (a fixed +01:00 would make it 06:30, the 25th).
    assert str(LONDON_6AM.day_of(utc("2026-10-25T05:30:00"))) == "2026-10-24"
    assert str(LONDON_6AM.day_of(utc("2026-10-25T05:59:59"))) == "2026-10-24"
    assert str(LONDON_6AM.day_of(utc("2026-10-25T06:00:00"))) == "2026-10-25"
    # The day of the change is 25 hours long.
    start_24 = LONDON_6AM.start_of(LONDON_6AM.day_of(utc("2026-10-24T12:00:00")))
    start_25 = LONDON_6AM.start_of(LONDON_6AM.day_of(utc("2026-10-25T12:00:00")))
    assert start_25.astimezone(UTC) - start_24.astimezone(UTC) == timedelta(hours=25)


def test_the_default_clock_is_each_times_own_offset_and_midnight() -> None:
    clock = DayClock()
    at = datetime.fromisoformat("2026-10-25T00:30:00+05:30")
    assert str(clock.day_of(at)) == "2026-10-25"  # UTC would say the 24th
    assert clock.describe() == "days start at 00:00 in each event's own UTC offset"


def test_calls_count_on_the_day_they_ended_and_the_day_moves_on_at_the_boundary() -> None:
    day = DayState(clock=LONDON_6AM)
    assert day.add(verdict("a", utc("2026-10-25T01:30:00"))) is Counted.COUNTED
    assert day.add(verdict("b", utc("2026-10-25T05:59:00"), Outcome.ABANDONED)) is Counted.COUNTED
    assert str(day.day) == "2026-10-24"
    assert (day.total.offered, day.total.answered, day.total.abandoned) == (2, 1, 1)
    # Any event past the boundary starts the new day: counts and panels from zero.
    assert day.advance(utc("2026-10-25T06:00:01")) is True
    assert str(day.day) == "2026-10-25"
    assert day.total.offered == 0 and not day.queues
    assert not any(day.recent.values()) and not any(day.panel_counts.values())
    # A call that ended before the boundary, reported after it, is late: not counted.
    assert day.add(verdict("c", utc("2026-10-25T05:59:30"))) is Counted.LATE
    assert day.late == 1 and day.total.offered == 0
    assert day.add(verdict("d", utc("2026-10-25T06:10:00"))) is Counted.COUNTED
    assert day.total.offered == 1
    assert [row.verdict.call_id for row in day.recent[Outcome.COMPLETED]] == ["d"]


def test_a_call_ending_on_a_new_day_starts_it() -> None:
    day = DayState(clock=LONDON_6AM)
    day.add(verdict("a", utc("2026-10-25T05:00:00")))
    assert day.add(verdict("b", utc("2026-10-25T06:30:00"))) is Counted.NEW_DAY
    assert day.total.offered == 1
    assert day.panel_counts[Outcome.COMPLETED] == 1


def test_counted_from_marks_a_day_that_was_joined_late_until_the_next_boundary() -> None:
    day = DayState(clock=LONDON_6AM, mark_start=True)
    day.advance(utc("2026-10-24T13:02:11"))
    assert day.counted_from == utc("2026-10-24T13:02:11")
    day.advance(utc("2026-10-25T06:00:00"))
    assert day.counted_from is None  # a whole day from here on
    fresh = DayState(clock=LONDON_6AM)
    fresh.advance(utc("2026-10-24T13:02:11"))
    assert fresh.counted_from is None  # a file's whole record, not a late join


def test_windows_count_the_last_60_and_15_minutes_from_minute_buckets() -> None:
    day = DayState()
    start = utc("2026-03-03T09:00:00")
    # One answered call a minute for two hours, the odd minutes in queue 'support'.
    for minute in range(120):
        queue = "support" if minute % 2 else "sales"
        day.add(verdict(f"c{minute}", start + timedelta(minutes=minute, seconds=30), queue=queue))
    now = start + timedelta(minutes=119, seconds=45)
    total, queues = day.tallies(Window.QUARTER, now)
    assert total.offered == 15
    assert (queues["sales"].offered, queues["support"].offered) == (7, 8)
    assert day.tallies(Window.HOUR, now)[0].offered == 60
    assert day.tallies(Window.DAY, now)[0].offered == 120
    # Only the last hour is kept: 60 buckets, whatever the day holds.
    assert len(day.windows.to_dict()) == 60
    # Ten quiet minutes later the quarter holds the five minutes still inside it.
    assert day.tallies(Window.QUARTER, now + timedelta(minutes=10))[0].offered == 5
    overall, per_queue = day.figures(Waiting(), {}, Window.QUARTER, now)
    assert overall.offered == 15 and overall.service_level == 1.0
    # Every queue of the day is listed in every window, so rows do not move.
    assert set(per_queue) == {"sales", "support"}


def test_the_day_state_goes_to_json_and_back_the_same() -> None:
    day = DayState(clock=LONDON_6AM, mark_start=True)
    start = utc("2026-10-24T08:00:00")
    outcomes = list(Outcome)
    for i in range(700):
        day.add(
            verdict(f"c{i}", start + timedelta(minutes=i), outcomes[i % 4], f"q{i % 3}", i % 40),
            caller=f"+44{i}",
            seq=i * 5,
        )
    text = json.dumps(day.to_dict())
    back = DayState.from_dict(json.loads(text))
    assert back.to_dict() == day.to_dict()
    now = start + timedelta(minutes=700)
    for window in Window:
        assert back.figures(Waiting(), {}, window, now) == day.figures(Waiting(), {}, window, now)
    assert back.recent == day.recent
    assert len(back.recent[Outcome.COMPLETED]) == 175  # under the 200 a panel keeps


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d.update(version=99), "version 99"),
        (lambda d: d.pop("total"), "no 'total'"),
        (lambda d: d["total"].update(offered=-1), "offered is -1"),
        (lambda d: d["clock"].update(timezone="Mars/Olympus"), "Mars/Olympus"),
        (lambda d: d["clock"].update(day_starts="25:00"), "25:00"),
        (lambda d: d["recent"]["completed"][0].update(ended_at="soon"), "'soon'"),
        (lambda d: d["windows"].append({"minute": "x"}), "window minute is 'x'"),
    ],
)
def test_a_day_state_that_cannot_be_read_is_refused_naming_what(change, named) -> None:  # type: ignore[no-untyped-def]
    day = DayState()
    day.add(verdict("a", utc("2026-10-24T08:00:00")))
    data = json.loads(json.dumps(day.to_dict()))
    assert data["version"] == DAY_STATE_VERSION
    change(data)
    with pytest.raises(ValueError, match="day state") as caught:
        DayState.from_dict(data)
    assert named in str(caught.value)


def test_day_starts_and_time_zones_are_checked_naming_the_value() -> None:
    assert parse_day_starts("06:00") == time(6, 0)
    assert parse_day_starts("6:30") == time(6, 30)
    for bad in ("25:00", "7", "06:60", "-1:00", "06:0", "٠٦:٠٠"):
        with pytest.raises(ValueError, match=repr(bad).replace("\\", "\\\\")):
            parse_day_starts(bad)
    assert parse_timezone("Europe/London").key == "Europe/London"
    for bad in ("Mars/Olympus", "../etc/passwd", ""):
        with pytest.raises(ValueError, match="unknown time zone"):
            parse_timezone(bad)


@pytest.mark.parametrize("starts", [time(0, 0), time(1, 30), time(6, 0), time(23, 45)])
def test_the_day_moves_on_exactly_when_the_clock_says_across_both_changes_of_summer_time(
    starts: time,
) -> None:
    # 01:30 is inside the hour skipped on 2026-03-29 and the hour repeated on 2026-10-25.
    clock = DayClock(LONDON, starts)
    for first in ("2026-03-27T00:00:00", "2026-10-23T00:00:00"):
        day = DayState(clock=clock)
        at = utc(first)
        for _ in range(4 * 24 * 12):  # four days, every 5 minutes
            day.advance(at)
            assert day.day == clock.day_of(at), at
            at += timedelta(minutes=5)
