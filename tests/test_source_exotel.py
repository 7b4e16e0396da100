"""Exotel records through `callboard classify --from exotel`, checked against seed 003's tables.

Every record in `fixtures/exotel/` is hand-made from the shapes Exotel
documents (the Call Details API answer, its bulk form, status callbacks), one
per row of the seed's three tables plus the Direction values. Each expected
verdict below is the seed's row read in our words.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifier.schema import LegStatus
from monitor.sources import iter_source
from monitor.sources.exotel import ExotelAdapter
from monitor.sources.reader import LineEvent
from tests.cli_support import ROOT, SHARED, callboard

FIXTURES = ROOT / "fixtures" / "exotel"
REAL_SAMPLE = SHARED / "realdata" / "exotel" / "call_details_v1_sample.json"

INCOMING = "Exotel incoming"
TWO_NUMBERS = "connect two numbers"
TO_FLOW = "connect to flow"

#: call id -> (outcome, reason, text the detail must hold)
CALL_DETAILS_EXPECTED: dict[str, tuple[str | None, str | None, str]] = {
    # Incoming table: leg 2 (the agent's leg) alone decides.
    "in-completed": ("completed", "answered", INCOMING),
    "in-no-answer": ("missed", "agent_not_answered", INCOMING),
    "in-busy": ("missed", "agent_busy", INCOMING),
    "in-failed": ("missed", "agent_unreachable", INCOMING),
    # Leg 1 hung up while leg 2 was being dialled: the caller gave up.
    "in-canceled": ("abandoned", "caller_canceled", INCOMING),
    # No second leg: the caller left before the connect applet dialled.
    "in-empty": ("abandoned", "no_second_leg", INCOMING),
    # Overall status 'missed call' with no leg 2: every agent busy or off.
    "in-missed-call": ("missed", "all_agents_busy", "missed call"),
    # Flows without a menu: leg 1 echoes leg 2, leg 2 still decides.
    "in-no-menu-busy": ("missed", "agent_not_answered", INCOMING),
    "in-no-menu-no-answer": ("missed", "agent_not_answered", INCOMING),
    "in-no-menu-canceled": ("abandoned", "caller_canceled", INCOMING),
    # Outbound, connecting two numbers: both legs must complete.
    "api2-completed": ("completed", "answered", TWO_NUMBERS),
    "api2-no-answer": ("not_connected", "leg2_no_answer", TWO_NUMBERS),
    "api2-busy": ("not_connected", "leg2_busy", TWO_NUMBERS),
    "api2-failed": ("not_connected", "leg2_failed", TWO_NUMBERS),
    "api2-canceled": ("not_connected", "leg2_canceled", TWO_NUMBERS),
    "api2-empty": ("not_connected", "leg2_empty", TWO_NUMBERS),
    "api2-leg1-no-answer": ("not_connected", "leg1_no_answer", TWO_NUMBERS),
    "api2-leg1-busy": ("not_connected", "leg1_busy", TWO_NUMBERS),
    "api2-leg1-failed": ("not_connected", "leg1_failed", TWO_NUMBERS),
    # Outbound, a number connected to a call flow. The first names its app
    # (Url); the others are told by the overall status, which the flow table
    # keeps at 'completed' when leg 2 fails and the two-numbers table does not.
    "flow-completed": ("completed", "answered", TO_FLOW),
    "flow-no-answer": ("not_connected", "leg2_no_answer", TO_FLOW),
    "flow-busy": ("not_connected", "leg2_busy", TO_FLOW),
    "flow-failed": ("not_connected", "leg2_failed", TO_FLOW),
    "flow-canceled": ("not_connected", "leg2_canceled", TO_FLOW),
    "flow-empty": ("not_connected", "leg2_empty", TO_FLOW),
    "flow-leg1-failed": ("not_connected", "leg1_failed", TO_FLOW),
    # outbound-dial (dialled from the Exotel dashboard): two numbers, agent first.
    "dial-completed": ("completed", "answered", TWO_NUMBERS),
    "dial-busy": ("not_connected", "leg2_busy", TWO_NUMBERS),
    "dial-leg1-no-answer": ("not_connected", "leg1_no_answer", TWO_NUMBERS),
    # Status in-progress: the call has not ended.
    "in-progress": (None, None, "still open"),
}


def classify(path: Path, *extra: str) -> tuple[dict[str, dict[str, object]], str, int]:
    done = callboard("classify", "--include-open", *extra, str(path))
    records = [json.loads(line) for line in done.stdout.splitlines()]
    by_id = {str(r["call_id"]): r for r in records}
    assert len(by_id) == len(records), "a call came out twice"
    return by_id, done.stderr, done.returncode


@pytest.mark.parametrize(
    "shape", ["call_details.jsonl", "call_details_array.json", "call_details_dir"]
)
def test_every_direction_and_leg_status_in_every_shape(shape: str) -> None:
    got, stderr, status = classify(FIXTURES / shape, "--from", "exotel")
    assert status == 0, stderr
    assert set(got) == set(CALL_DETAILS_EXPECTED)
    for call_id, (outcome, reason, text) in CALL_DETAILS_EXPECTED.items():
        record = got[call_id]
        assert (record["outcome"], record["reason"]) == (outcome, reason), call_id
        assert text in str(record["detail"]), (call_id, record["detail"])
    # The leg of another call is set aside and listed, never a call of its own.
    assert "skipped record" in stderr and "ParentCallSid" in stderr
    assert got["in-completed"]["started_at"] == "2026-11-23T10:00:00+05:30"
    assert got["in-completed"]["direction"] == "inbound"
    assert got["api2-completed"]["direction"] == "outbound"
    # 60 s calls with ConversationDuration 30 when leg 2 answered: 30 s waited.
    assert (got["in-completed"]["wait_s"], got["in-completed"]["talk_s"]) == (30.0, 30.0)
    assert (got["in-busy"]["wait_s"], got["in-busy"]["talk_s"]) == (60.0, 0.0)


def test_detection_finds_exotel_in_every_shape() -> None:
    for shape in ("call_details.jsonl", "call_details_array.json", "call_details_dir"):
        _, stderr, status = classify(FIXTURES / shape)
        assert status == 0, stderr
        assert "detected format: exotel" in stderr


def test_status_callbacks() -> None:
    got, stderr, status = classify(FIXTURES / "status_callbacks.jsonl", "--from", "exotel")
    assert status == 0, stderr
    assert {cid: (r["outcome"], r["reason"]) for cid, r in got.items()} == {
        # 'terminal' event: Legs[0] is leg 1, Legs[1] leg 2.
        "cb-terminal-inbound": ("completed", "answered"),
        "cb-terminal-api": ("not_connected", "leg2_no_answer"),
        # One leg only: leg 1 was busy, leg 2 never dialled.
        "cb-terminal-leg1-only": ("not_connected", "leg1_busy"),
        # Passthru: DialCallStatus is leg 2.
        "cb-passthru": ("missed", "agent_busy"),
        # Flat Leg1Status/Leg2Status, '' for n/a.
        "cb-flat-legs": ("not_connected", "leg1_busy"),
        # Form-encoded names kept as keys: Legs[1][Status] is leg 2.
        "cb-form-fields": ("abandoned", "caller_canceled"),
        # An ISO time with its offset, and 'no_answer' spelt with an underscore.
        "cb-iso-time": ("missed", "agent_not_answered"),
        # 'answered' then 'terminal' events of one call: one call, completed.
        "cb-two-events": ("completed", "answered"),
    }
    assert got["cb-iso-time"]["started_at"] == "2026-11-23T06:55:00+00:00"


def test_bad_records_are_named_by_line_and_the_rest_is_read() -> None:
    got, stderr, status = classify(FIXTURES / "malformed.jsonl", "--from", "exotel")
    assert status == 1
    source = str(FIXTURES / "malformed.jsonl")
    for line, problem in [
        (1, "no Direction and no leg statuses"),
        (2, "not JSON"),
        (3, "Leg2Status 'maybe' is not an Exotel status"),
        (4, "Direction 'sideways' is none of inbound, outbound-api, outbound-dial"),
        (5, "StartTime 'yesterday' is not a time"),
        (6, "no time"),
        (7, "expected a JSON object, got int"),
        (8, "not an Exotel call record"),
        (9, "call.started: field 'call_id'"),
    ]:
        assert f"{source}:{line}: {problem}" in stderr, (line, stderr)
    assert got["good-after-bad"]["outcome"] == "completed"
    # A second record of the same call is listed, not a second call; a
    # dashboard word as the overall status is listed, the leg statuses decide.
    assert got["dashboard-status"]["reason"] == "no_second_leg"
    assert "skipped record" in stderr and "skipped Status 'call-attempt'" in stderr
    items = iter_source(FIXTURES / "malformed.jsonl", "exotel")
    list(items)
    assert items.skipped.rows() == [
        ("Status 'call-attempt'", "not a leg status; legs decide (first at line 12)", 1),
        ("record", "second record of a call already ended (first at line 11)", 1),
    ]


def test_the_published_call_details_sample() -> None:
    assert REAL_SAMPLE.is_file(), f"Exotel's sample answer is expected at {REAL_SAMPLE}"
    items = list(iter_source(REAL_SAMPLE, "exotel"))
    events = [i.event for i in items if isinstance(i, LineEvent)]
    assert [e.type for e in events] == [
        "call.started",
        "agent.ringing",
        "agent.answered",
        "call.ended",
    ]
    started, ringing, answered, ended = events
    # ConversationDuration (8 s) before EndTime is when the two were connected.
    assert answered.ts.isoformat() == "2017-03-03T10:49:42+05:30"
    # Connecting two numbers dials From first, the agent's phone: the agent is From,
    # rung at the start.
    assert ringing.agent == answered.agent == "0XXXXX30240"  # type: ignore[union-attr]
    assert ringing.ts == started.ts
    assert started.call_id == "b6cfaf5f5cef3ca0fc937749ef96d245"
    assert (started.from_, started.to) == ("0XXXXX30240", "0XXXXX38847")  # type: ignore[union-attr]
    assert started.ts.isoformat() == "2017-03-03T10:48:33+05:30"
    assert ended.ts.isoformat() == "2017-03-03T10:49:50+05:30"
    assert (ended.leg1_status, ended.leg2_status) == (  # type: ignore[union-attr]
        LegStatus.COMPLETED,
        LegStatus.COMPLETED,
    )
    got, stderr, status = classify(REAL_SAMPLE)
    assert status == 0, stderr
    assert "detected format: exotel" in stderr
    record = got["b6cfaf5f5cef3ca0fc937749ef96d245"]
    assert (record["outcome"], record["reason"]) == ("completed", "answered")
    assert record["direction"] == "outbound"
    assert (record["wait_s"], record["talk_s"]) == (69.0, 8.0)


#: Passthru deliveries naming DialWhomNumber (fixtures/exotel/passthru_agents.jsonl):
#: call id -> (agent event, agent, its time), the ring at DialCallDuration before the end.
PASSTHRU_AGENTS: dict[str, list[tuple[str, str, str]]] = {
    # Answered: rung 280 s before the end; no ConversationDuration, so answered at the end.
    "pt-answered": [
        ("agent.ringing", "09888000222", "14:00:20"),
        ("agent.answered", "09888000222", "14:05:00"),
    ],
    "pt-no-answer": [
        ("agent.ringing", "09888000333", "14:10:30"),
        ("agent.no_answer", "09888000333", "14:11:00"),
    ],
    # Busy: the agent's phone turned the call down.
    "pt-busy": [
        ("agent.ringing", "09888000333", "14:20:35"),
        ("agent.rejected", "09888000333", "14:20:40"),
    ],
    # Canceled: the caller hung up while it rang: the ring only (not the agent's miss).
    "pt-canceled": [("agent.ringing", "09888000222", "14:30:48")],
    # Failed: the carrier never reached the phone: nothing offered.
    "pt-failed": [],
    "pt-answered-2": [
        ("agent.ringing", "09888000333", "14:50:10"),
        ("agent.answered", "09888000333", "14:53:00"),
    ],
}


def test_the_agent_numbers_exotel_dialled_become_agent_events() -> None:
    items = list(iter_source(FIXTURES / "passthru_agents.jsonl", "exotel"))
    events = [i.event for i in items if isinstance(i, LineEvent)]
    assert len(events) == len(items)  # no line refused
    got: dict[str, list[tuple[str, str, str]]] = {}
    for event in events:
        calls = got.setdefault(event.call_id, [])
        if event.type.startswith("agent."):
            calls.append((event.type, event.agent, f"{event.ts:%H:%M:%S}"))  # type: ignore[union-attr]
    assert got == PASSTHRU_AGENTS
    # The leg statuses still decide the verdicts, as seed 003's incoming table says.
    records, stderr, status = classify(FIXTURES / "passthru_agents.jsonl")
    assert status == 0, stderr
    verdicts = {cid: (r["outcome"], r["reason"]) for cid, r in records.items()}
    assert verdicts == {
        "pt-answered": ("completed", "answered"),
        "pt-no-answer": ("missed", "agent_not_answered"),
        "pt-busy": ("missed", "agent_busy"),
        "pt-canceled": ("abandoned", "caller_canceled"),
        "pt-failed": ("missed", "agent_unreachable"),
        "pt-answered-2": ("completed", "answered"),
    }
    # The answer at the end leaves the wait and talk as they were without it.
    assert (records["pt-answered"]["wait_s"], records["pt-answered"]["talk_s"]) == (300.0, 0.0)


def test_connecting_two_numbers_rings_from_the_agent_on_leg_one() -> None:
    items = list(iter_source(FIXTURES / "call_details.jsonl", "exotel"))
    agents: dict[str, list[tuple[str, str]]] = {}
    for item in items:
        if isinstance(item, LineEvent) and item.event.type.startswith("agent."):
            event = item.event
            agents.setdefault(event.call_id, []).append((event.type, event.agent))  # type: ignore[union-attr]
    agent = "0XXXXX30240"
    # Both legs completed: the agent rang and then talked with the customer.
    for call_id in ("api2-completed", "dial-completed"):
        assert agents[call_id] == [("agent.ringing", agent), ("agent.answered", agent)]
    # The agent's own leg not answered, or busy: rung and not answered.
    for call_id in ("api2-leg1-no-answer", "dial-leg1-no-answer"):
        assert agents[call_id] == [("agent.ringing", agent), ("agent.no_answer", agent)]
    assert agents["api2-leg1-busy"] == [("agent.ringing", agent), ("agent.rejected", agent)]
    # The agent answered, the customer did not; or the carrier failed leg 1: nothing offered.
    for call_id in ("api2-no-answer", "api2-busy", "api2-leg1-failed", "dial-busy"):
        assert call_id not in agents
    # Incoming calls and flows without DialWhomNumber name no agent: the answer that
    # times the call is "leg 2", as before.
    assert agents["in-completed"] == [("agent.answered", "leg 2")]
    assert "in-no-answer" not in agents


def test_a_passthru_s_constant_end_time_is_no_end() -> None:
    """Passthru sends EndTime 1970-01-01 05:30:00 always; CurrentTime says when it was."""
    record = {
        "CallSid": "pt-epoch-end",
        "CallFrom": "09999000107",
        "Direction": "incoming",
        "StartTime": "2026-11-23 15:00:00",
        "EndTime": "1970-01-01 05:30:00",
        "CurrentTime": "2026-11-23 15:02:00",
        "DialCallStatus": "no-answer",
        "DialCallDuration": 40,
        "DialWhomNumber": "09888000222",
    }
    events = ExotelAdapter().delivery(record)
    assert [(e.type, f"{e.ts:%H:%M:%S}") for e in events] == [
        ("call.started", "15:00:00"),
        ("agent.ringing", "15:01:20"),
        ("agent.no_answer", "15:02:00"),
        ("call.ended", "15:02:00"),
    ]
