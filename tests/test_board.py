"""The wallboard's model (monitor.board), fed from real fixture logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from classifier.call import Phase
from classifier.kpi import KpiSettings
from classifier.schema import AgentStatus, event_from_dict
from classifier.tracker import call_from_events
from classifier.verdict import Outcome
from monitor.board import PANEL_ORDER, Board, Filter, Level, SortKey
from monitor.story import display_state
from tests.app_support import BOARD_NOW, board_from, clean_events
from tests.rules_support import RULES_DIR


def test_every_finished_call_lands_in_its_panel_with_exact_counts() -> None:
    board = board_from()
    counts = {o: board.count_today(o) for o in PANEL_ORDER}
    assert counts == {
        Outcome.COMPLETED: 4,
        Outcome.MISSED: 3,
        Outcome.ABANDONED: 5,
        Outcome.VOICEMAIL: 1,
        Outcome.NOT_CONNECTED: 1,
    }
    assert {o: len(board.finished(o)) for o in PANEL_ORDER} == counts


def test_panels_are_newest_first_with_reasons_in_words() -> None:
    board = board_from()
    missed = board.finished(Outcome.MISSED)
    assert [f.verdict.call_id for f in missed] == ["c15", "c14", "c05"]
    assert missed[-1].verdict.detail == "rang Cid (rejected); hung up in queue support after 30s"


def test_panels_are_bounded_but_counts_stay_exact() -> None:
    board = board_from(panel_rows=2)
    abandoned = board.panels[Outcome.ABANDONED]
    assert len(abandoned.rows) == 2
    assert abandoned.total == 5
    assert board.count_today(Outcome.ABANDONED) == 5
    # A call that fell off its panel no longer has a story; the newest still do.
    assert board.story("c03", BOARD_NOW) is None
    assert board.story(abandoned.rows[0].verdict.call_id, BOARD_NOW) is not None


def test_active_calls_longest_waiting_first() -> None:
    board = board_from()
    order = [c.call_id for c in board.active(SortKey.WAITING)]
    # Waiting in a queue (oldest wait first), then not yet queued, then talking.
    assert order[:3] == ["c17", "c11", "c12"]
    assert set(order[3:5]) == {"c19", "c20"}
    assert order[-2:] == ["c13", "c21"]


def test_other_sort_orders() -> None:
    board = board_from()
    assert board.active(SortKey.TOTAL)[0].call_id == "c13"
    assert board.active(SortKey.STATE)[0].call_id == "c13"
    by_queue = [c.queue for c in board.active(SortKey.QUEUE)]
    assert by_queue == sorted(by_queue, key=lambda q: (q is None, q or ""))
    callers = [c.caller for c in board.active(SortKey.CALLER)]
    assert callers == sorted(callers, key=str.casefold)


def test_filters_by_queue_outcome_and_text() -> None:
    board = board_from()
    assert {c.call_id for c in board.active(flt=Filter(queue="sales"))} == {"c11", "c13"}
    assert [f.verdict.call_id for f in board.finished(Outcome.COMPLETED, Filter(text="dee"))] == [
        "c06"
    ]
    # By caller number and by call id.
    assert [c.call_id for c in board.active(flt=Filter(text="0117"))] == ["c17"]
    assert [c.call_id for c in board.active(flt=Filter(text="C21"))] == ["c21"]
    # An outcome filter empties the other panels and the active table.
    flt = Filter(outcome=Outcome.VOICEMAIL)
    assert board.finished(Outcome.COMPLETED, flt) == []
    assert len(board.finished(Outcome.VOICEMAIL, flt)) == 1
    assert board.active(flt=flt) == []
    assert Filter(queue="sales", text="x").describe() == "queue sales, “x”"


def test_display_states() -> None:
    board = board_from()
    states = {c.call_id: display_state(c) for c in board.calls.values()}
    assert states["c12"] == "ringing Dee"
    assert states["c13"] == "talking to Ben"
    assert states["c21"] == "on transfer to billing desk"
    assert states["c11"] == Phase.QUEUED.value
    assert states["c19"] == "IVR"


def test_waits_past_the_threshold_warn_then_alert() -> None:
    board = board_from()
    calls = board.calls
    assert board.level(calls["c12"], BOARD_NOW) is Level.WARN  # 30 s > 20 s
    assert board.level(calls["c11"], BOARD_NOW) is Level.ALERT  # 60 s > 40 s
    assert board.level(calls["c13"], BOARD_NOW) is Level.OK  # talking
    assert board.level(calls["c12"], BOARD_NOW - timedelta(seconds=15)) is Level.OK


def test_the_headers_longest_waits_use_the_same_levels_per_queue() -> None:
    board = Board(KpiSettings(service_level_s=20, queue_service_level_s={"vip": 10}))
    assert [board.wait_level(s, None) for s in (20, 21, 40, 41)] == [
        Level.OK,
        Level.WARN,
        Level.WARN,
        Level.ALERT,
    ]
    assert [board.wait_level(s, "vip") for s in (10, 11, 21)] == [
        Level.OK,
        Level.WARN,
        Level.ALERT,
    ]


def test_presence_counts() -> None:
    board = board_from()
    counts = board.presence()
    assert counts["available"] == 1 and counts["busy"] == 2
    assert counts["wrap_up"] == 1 and counts["paused"] == 1 and counts["offline"] == 1


def test_story_of_a_finished_call_gives_events_and_reasoning() -> None:
    board = board_from()
    story = board.story("c05", BOARD_NOW)
    assert story is not None
    texts = [line.text for line in story.lines]
    assert texts[:5] == [
        "inbound call from +442071230105 to +14155550000",
        "entered queue support",
        "ringing agent Cid",
        "Cid rejected the call",
        "ended by the caller",
    ]
    assert story.lines[0].at == datetime(2026, 11, 23, 9, 3, 20, tzinfo=UTC)
    rule_lines = [line for line in story.lines if line.kind == "rule"]
    assert len(rule_lines) == 1 and rule_lines[0].text.startswith("✓ rule 3 (agent_not_answered)")
    skipped = [line.text for line in story.lines if line.kind == "skip"]
    assert skipped == [
        "✗ rule 1 (answered) does not apply",
        "✗ outbound (outbound_not_connected) does not apply",
        "✗ rule 2 (voicemail_left) does not apply",
    ]
    assert any(line.text.startswith("source: seeds/000") for line in story.lines)


def test_story_of_an_open_call() -> None:
    board = board_from()
    story = board.story("c17", BOARD_NOW)
    assert story is not None
    assert story.lines[-1].text == "still in progress: queued, 3m30s so far"
    assert board.story("nope", BOARD_NOW) is None


def test_story_of_an_exotel_verdict_names_the_status_rule() -> None:
    board = board_from(RULES_DIR / "exotel_incoming.jsonl")
    finished = [f for o in PANEL_ORDER for f in board.finished(o)]
    assert finished
    story = board.story(finished[0].verdict.call_id, BOARD_NOW)
    assert story is not None
    assert any(
        line.kind == "rule" and line.text.startswith("✓ exotel incoming") for line in story.lines
    )


def test_version_moves_only_on_change_and_seq_is_tracked() -> None:
    board = Board()
    start = board.version
    first = event_from_dict(
        {"type": "call.started", "call_id": "a", "ts": "2026-11-23T09:00:00Z", "seq": 7}
    )
    board.apply(first)
    assert board.version == start + 1 and board.last_seq == 7
    board.apply(first)  # a duplicate changes nothing
    assert board.version == start + 1 and board.duplicates == 1


def test_rejected_events_are_problems_not_crashes() -> None:
    board = board_from()
    late = event_from_dict(
        {"type": "agent.answered", "call_id": "c01", "ts": "2026-11-23T09:40:00Z", "agent": "Ana"}
    )
    board.apply(late, where="feed seq 99")
    assert board.problem_count == 1
    assert (
        board.problems[0] == "feed seq 99: agent.answered for call 'c01', which has already ended"
    )


def test_snapshot_replaces_calls_in_progress_and_keeps_the_day() -> None:
    board = board_from()
    before = board.count_today(Outcome.COMPLETED)
    open_call = [
        event_from_dict(
            {"type": "call.started", "call_id": "n1", "ts": "2026-11-23T09:31:00Z", "from": "x"}
        )
    ]
    already_finished = [
        event_from_dict({"type": "call.started", "call_id": "c01", "ts": "2026-11-23T09:00:00Z"})
    ]
    presence = [
        AgentStatus.model_validate(
            {"agent": "Zed", "status": "available", "ts": "2026-11-23T09:31:00Z"}
        )
    ]
    board.load_snapshot(
        [call_from_events(open_call), call_from_events(already_finished)], presence, seq=500
    )
    assert set(board.calls) == {"n1"}
    assert board.count_today(Outcome.COMPLETED) == before
    assert board.last_seq == 500
    assert board.presence()["available"] == 1
    # The end of a call counted before the snapshot is not counted again.
    end = event_from_dict(
        {"type": "call.ended", "call_id": "c01", "ts": "2026-11-23T09:00:01Z", "by": "agent"}
    )
    board.apply(end)
    assert board.count_today(Outcome.COMPLETED) == before


def test_queues_lists_finished_and_open_queues() -> None:
    assert board_from().queues() == ["billing", "sales", "support"]


def test_incremental_waiting_figures_match_the_kpi_formula() -> None:
    from classifier.kpi import waiting_now

    board = Board()
    for event in clean_events():
        board.apply(event)
        now = event.ts + timedelta(seconds=7)
        assert board.waiting(now) == waiting_now(board.calls.values(), now), event
