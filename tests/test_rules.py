"""One test per classification rule (docs/classification.md), on hand-written fixture logs.

Each fixture in fixtures/rules/ has its expected verdicts beside it; each test also
checks that the rule it is named after is the one that decided, so a change in rule
order cannot pass unnoticed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from classifier.rules import ALL_REASONS, EVENT_RULES, SEED_000, SEED_003
from classifier.verdict import Outcome
from tests.cli_support import SHARED
from tests.rules_support import RULES_DIR, expected_of, verdicts_of


def check_fixture(name: str, rule_key: str) -> None:
    path = RULES_DIR / f"{name}.jsonl"
    verdicts = verdicts_of(path)
    expected = expected_of(path)
    assert sorted(verdicts) == sorted(e["call_id"] for e in expected)
    for want in expected:
        got = verdicts[want["call_id"]]
        assert got.outcome == want["outcome"], want["call_id"]
        assert got.reason == want["reason"], want["call_id"]
        assert got.detail == want["detail"], want["call_id"]
        assert got.rule == rule_key, want["call_id"]


def test_rule_01_answered_even_after_a_rejection() -> None:
    check_fixture("rule_01_answered", "rule 1")


def test_rule_02_voicemail_left_wins_over_agents_rung() -> None:
    check_fixture("rule_02_voicemail_left", "rule 2")


def test_rule_03_agent_not_answered_wherever_the_caller_hung_up() -> None:
    check_fixture("rule_03_agent_not_answered", "rule 3")


def test_rule_04_available_agents_greeting_hangup() -> None:
    check_fixture("rule_04_available_agents_greeting_hangup", "rule 4")


def test_rule_05_voicemail_greeting_hangup_when_routed_directly() -> None:
    check_fixture("rule_05_voicemail_greeting_hangup", "rule 5")


def test_rule_06_voicemail_from_queue_hangup() -> None:
    check_fixture("rule_06_voicemail_from_queue_hangup", "rule 6")


def test_rule_07_after_hours_hangup() -> None:
    check_fixture("rule_07_after_hours_hangup", "rule 7")


def test_rule_08_queue_hangup() -> None:
    check_fixture("rule_08_queue_hangup", "rule 8")


def test_rule_09_ivr_hangup() -> None:
    check_fixture("rule_09_ivr_hangup", "rule 9")


def test_rule_10_no_agent_available() -> None:
    check_fixture("rule_10_no_agent_available", "rule 10")


def test_outbound_without_leg_statuses_is_not_connected_unless_answered() -> None:
    path = RULES_DIR / "outbound_not_connected.jsonl"
    verdicts = verdicts_of(path)
    for want in expected_of(path):
        got = verdicts[want["call_id"]]
        assert (got.outcome, got.reason, got.detail) == (
            want["outcome"],
            want["reason"],
            want["detail"],
        )
    assert verdicts["out-unanswered"].rule == "outbound"
    assert verdicts["out-answered"].rule == "rule 1"


def test_fallback_1_system_ended_outside_the_queue() -> None:
    check_fixture("fallback_1_system_ended", "fallback 1")


def test_fallback_2_hangup_before_agent() -> None:
    check_fixture("fallback_2_hangup_before_agent", "fallback 2")


def test_every_event_rule_has_a_fixture_that_reaches_it() -> None:
    decided = set()
    for path in RULES_DIR.glob("*.jsonl"):
        if path.name.endswith(".expected.jsonl"):
            continue
        decided |= {v.rule for v in verdicts_of(path).values()}
    assert {rule.key for rule in EVENT_RULES} <= decided


def test_every_rule_cites_a_seed_that_exists() -> None:
    for rule in EVENT_RULES:
        cited = [s for s in (SEED_000, SEED_003) if s in rule.seed]
        assert cited, rule.key
        for seed in cited:
            assert (SHARED / seed).is_file(), seed
        assert rule.says and rule.reason in ALL_REASONS


def test_reason_codes_map_to_one_outcome_each() -> None:
    """A reason code means one thing: two tables giving it different outcomes is a bug."""
    from classifier.rules import EXOTEL_INCOMING

    pairs = [(r.reason, r.outcome) for r in EVENT_RULES] + [
        (reason, outcome) for outcome, reason in EXOTEL_INCOMING.values()
    ]
    for reason, outcome in pairs:
        assert ALL_REASONS[reason] is outcome, reason
    assert ALL_REASONS["answered"] is Outcome.COMPLETED
    assert ALL_REASONS["agent_not_answered"] is Outcome.MISSED
    assert ALL_REASONS["queue_hangup"] is Outcome.ABANDONED
    assert ALL_REASONS["caller_canceled"] is Outcome.ABANDONED
    assert ALL_REASONS["leg2_canceled"] is Outcome.NOT_CONNECTED
    assert ALL_REASONS["leg1_busy"] is Outcome.NOT_CONNECTED


def _table_rows(name: str) -> list[pytest.ParameterSet]:
    path = RULES_DIR / f"{name}.jsonl"
    return [pytest.param(path, row, id=row["call_id"]) for row in expected_of(path)]


@pytest.mark.parametrize(("path", "row"), _table_rows("exotel_incoming"))
def test_exotel_incoming_table_row(path: Path, row: dict[str, str]) -> None:
    """Seed 003, inbound calls: leg2 decides; canceled or empty reads as abandoned
    unless the call reached voicemail, where the voicemail rules of seed 000 decide."""
    got = verdicts_of(path)[row["call_id"]]
    assert (got.outcome, got.reason) == (row["outcome"], row["reason"])
    if "voicemail" not in row["call_id"]:
        assert got.rule == "exotel incoming"
        assert got.detail.startswith("Exotel")


@pytest.mark.parametrize(("path", "row"), _table_rows("exotel_connect_two_numbers"))
def test_exotel_connect_two_numbers_table_row(path: Path, row: dict[str, str]) -> None:
    """Seed 003, outbound connecting two numbers: any leg short of completed means the
    parties never spoke; the reason names the first such leg."""
    got = verdicts_of(path)[row["call_id"]]
    assert (got.outcome, got.reason) == (row["outcome"], row["reason"])
    assert got.rule == "exotel outbound (connect two numbers)"


@pytest.mark.parametrize(("path", "row"), _table_rows("exotel_connect_to_flow"))
def test_exotel_connect_to_flow_table_row(path: Path, row: dict[str, str]) -> None:
    """Seed 003, outbound connecting a number to a call flow: same leg reading as above,
    although Exotel's overall status says completed for most of these rows."""
    got = verdicts_of(path)[row["call_id"]]
    assert (got.outcome, got.reason) == (row["outcome"], row["reason"])
    assert got.rule == "exotel outbound (connect to flow)"


def test_exotel_leg_statuses_override_the_events() -> None:
    """When a call's end carries Exotel statuses, the table decides even if the events
    say an agent answered: the statuses are the vendor's final word."""
    from classifier.schema import event_from_dict
    from classifier.tracker import CallTracker

    tracker = CallTracker()
    events = [
        {"type": "call.started", "call_id": "x", "ts": 0},
        {"type": "queue.entered", "call_id": "x", "ts": 1, "queue": "q"},
        {"type": "agent.ringing", "call_id": "x", "ts": 2, "agent": "Ana"},
        {"type": "agent.answered", "call_id": "x", "ts": 3, "agent": "Ana"},
        {"type": "call.ended", "call_id": "x", "ts": 9, "by": "caller", "leg2_status": "busy"},
    ]
    verdict = None
    for data in events:
        verdict = tracker.apply(event_from_dict(data)).verdict
    assert verdict is not None
    assert (verdict.outcome, verdict.reason) == (Outcome.MISSED, "agent_busy")


def test_absent_leg_statuses_leave_the_event_rules_in_charge() -> None:
    from classifier.schema import event_from_dict
    from classifier.tracker import CallTracker

    tracker = CallTracker()
    tracker.apply(event_from_dict({"type": "call.started", "call_id": "y", "ts": 0}))
    tracker.apply(event_from_dict({"type": "queue.entered", "call_id": "y", "ts": 1, "queue": "q"}))
    end = {"type": "call.ended", "call_id": "y", "ts": 9, "by": "caller"}
    verdict = tracker.apply(event_from_dict(end)).verdict
    assert verdict is not None and verdict.reason == "queue_hangup"
