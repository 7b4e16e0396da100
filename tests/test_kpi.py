"""KPI formulas against the hand-computed fixture in fixtures/kpi/ (see its README)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from classifier.day import Counted, DayState
from classifier.kpi import (
    KpiSettings,
    Tally,
    abandon_rate,
    average_speed_of_answer,
    kpis,
    service_level,
    waiting_now,
)
from classifier.tracker import CallTracker
from classifier.verdict import Verdict
from monitor.sources.reader import LineEvent, read_events
from tests.cli_support import ROOT

FIXTURE = ROOT / "fixtures" / "kpi" / "day.jsonl"
NOW = datetime(2026, 11, 23, 9, 30, 0, tzinfo=UTC)


def replay(settings: KpiSettings | None = None) -> tuple[DayState, CallTracker]:
    tracker = CallTracker()
    day = DayState(settings)
    for item in read_events(FIXTURE):
        assert isinstance(item, LineEvent), item
        applied = tracker.apply(item.event)
        if applied.verdict is not None:
            day.add(applied.verdict)
    return day, tracker


def test_day_counts() -> None:
    day, tracker = replay()
    overall, _ = day.figures(*waiting_now(tracker, NOW))
    assert (overall.offered, overall.answered, overall.missed) == (8, 3, 1)
    assert (overall.abandoned, overall.short_abandons, overall.voicemail) == (3, 1, 1)
    assert (overall.outbound, overall.not_connected) == (2, 1)


def test_day_service_level_excludes_short_abandons_from_the_denominator() -> None:
    day, tracker = replay()
    overall, _ = day.figures(*waiting_now(tracker, NOW))
    assert overall.service_level == pytest.approx(2 / 7)


def test_day_abandon_rate_excludes_short_abandons_from_both_sides() -> None:
    day, tracker = replay()
    overall, _ = day.figures(*waiting_now(tracker, NOW))
    assert overall.abandon_rate == pytest.approx(2 / 7)


def test_day_average_speed_of_answer() -> None:
    day, tracker = replay()
    overall, _ = day.figures(*waiting_now(tracker, NOW))
    assert overall.asa_s == pytest.approx(18.0)


def test_waiting_now_and_longest_wait() -> None:
    day, tracker = replay()
    overall, queues = day.figures(*waiting_now(tracker, NOW))
    assert (overall.waiting_now, overall.longest_wait_now_s) == (2, 60.0)
    assert (queues["sales"].waiting_now, queues["sales"].longest_wait_now_s) == (1, 60.0)
    assert (queues["support"].waiting_now, queues["support"].longest_wait_now_s) == (1, 30.0)


def test_per_queue_figures() -> None:
    day, tracker = replay()
    _, queues = day.figures(*waiting_now(tracker, NOW))
    assert set(queues) == {"sales", "support"}
    sales, support = queues["sales"], queues["support"]
    assert (sales.offered, sales.answered, sales.abandoned, sales.short_abandons) == (4, 2, 2, 1)
    assert sales.service_level == pytest.approx(1 / 3)
    assert sales.abandon_rate == pytest.approx(1 / 3)
    assert sales.asa_s == pytest.approx(25.0)
    assert (support.offered, support.answered, support.missed, support.voicemail) == (3, 1, 1, 1)
    assert support.service_level == pytest.approx(1 / 3)
    assert support.abandon_rate == 0
    assert support.asa_s == pytest.approx(4.0)


def test_per_queue_threshold() -> None:
    day, tracker = replay(KpiSettings(queue_service_level_s={"support": 3.0}))
    overall, queues = day.figures(*waiting_now(tracker, NOW))
    assert queues["support"].service_level == 0
    assert overall.service_level == pytest.approx(1 / 7)


def test_empty_scope_has_no_rates() -> None:
    empty = Tally()
    assert service_level(empty) is None
    assert abandon_rate(empty) is None
    assert average_speed_of_answer(empty) is None
    assert kpis(empty).waiting_now == 0


def test_only_short_abandons_leave_rates_undefined() -> None:
    tally = Tally(offered=2, abandoned=2, short_abandons=2)
    assert service_level(tally) is None
    assert abandon_rate(tally) is None


def _verdict(call_id: str, ended_at: str) -> Verdict:
    from classifier.verdict import Outcome

    return Verdict(
        call_id=call_id,
        outcome=Outcome.COMPLETED,
        reason="answered",
        detail="",
        direction="inbound",
        queue="sales",
        agents_rung=("Ana",),
        wait_s=5.0,
        talk_s=10.0,
        started_at=ended_at,
        ended_at=ended_at,
    )


def test_a_new_day_starts_from_zero_and_late_calls_are_not_counted() -> None:
    day = DayState()
    assert day.add(_verdict("a", "2026-11-22T23:59:00+00:00")) is not Counted.LATE
    assert day.add(_verdict("b", "2026-11-23T00:00:10+00:00")) is Counted.NEW_DAY
    assert day.total.offered == 1
    assert day.add(_verdict("c", "2026-11-22T23:59:30+00:00")) is Counted.LATE
    assert (day.total.offered, day.late) == (1, 1)
    assert str(day.day) == "2026-11-23"
