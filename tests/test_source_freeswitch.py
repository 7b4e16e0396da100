"""mod_callcenter's events (the documentation's 10 examples) to schema v1, and the verdicts.

The events are read from ../shared/realdata/freeswitch (tests/esl_support.py); each
scenario is a call told by those examples with its own member UUID and times, and the
verdict beside it was worked out by hand from docs/classification.md's rules.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bench.esl_ingest import doc_events
from classifier.schema import AgentStatus, CallEnded, CallStarted, Event
from classifier.tracker import CallTracker
from monitor.sources.freeswitch import REMEMBER_CALLS, CallcenterMapper, EslEventError
from tests.esl_support import (
    BASE,
    agent_list,
    callcenter_event,
    member_list,
)

NOW = datetime.fromtimestamp(BASE + 3600, UTC)


def run(mapper: CallcenterMapper, events: list[dict[str, str]]) -> list[Event]:
    out: list[Event] = []
    for headers in events:
        out += mapper.event(headers, NOW)
    return out


def verdicts(events: list[Event]) -> dict[str, dict[str, Any]]:
    tracker = CallTracker()
    found: dict[str, dict[str, Any]] = {}
    for event in events:
        applied = tracker.apply(event)
        assert applied.problem is None, applied.problem
        if applied.verdict is not None:
            record = applied.verdict.record()
            found[record["call_id"]] = record
    return found


def queued(member: str, t: int = 0) -> dict[str, str]:
    return callcenter_event("member-queue-start", member, t)


def cancel(member: str, t: int, reason: str) -> dict[str, str]:
    return callcenter_event("member-queue-end", member, t, cause="Cancel", CC_Cancel_Reason=reason)


def test_the_documentation_has_its_ten_examples() -> None:
    actions = [e["CC-Action"] for e in doc_events()]
    assert len(actions) == 10
    assert set(actions) == {
        "agent-status-change",
        "agent-state-change",
        "agent-offering",
        "bridge-agent-start",
        "bridge-agent-end",
        "bridge-agent-fail",
        "members-count",
        "member-queue-start",
        "member-queue-end",
    }


def test_an_answered_call_told_by_the_documentation_is_completed() -> None:
    # Queued at 0, offered at 10, bridged at 19, left the queue after talking
    # (Terminated) at 20, agent disconnected at 300. Rule 1: answered -> completed.
    events = run(
        CallcenterMapper(),
        [
            queued("m1"),
            callcenter_event("agent-offering", "m1", 10),
            callcenter_event("bridge-agent-start", "m1", 19),
            callcenter_event("member-queue-end", "m1", 20, cause="Terminated"),
            callcenter_event("bridge-agent-end", "m1", 300),
        ],
    )
    assert [e.type for e in events] == [
        "call.started",
        "queue.entered",
        "agent.ringing",
        "agent.answered",
        "call.ended",
    ]
    started = events[0]
    assert started.from_ == "4385551212"  # type: ignore[union-attr]
    assert events[1].queue == "support@default"  # type: ignore[union-attr]
    assert events[2].agent == "AgentNameHere"  # type: ignore[union-attr]
    assert events[2].ts == datetime.fromtimestamp(BASE + 10, UTC)
    record = verdicts(events)["m1"]
    assert (record["outcome"], record["reason"]) == ("completed", "answered")
    assert (record["wait_s"], record["talk_s"]) == (19.0, 281.0)


@pytest.mark.parametrize(
    ("reason", "offered", "outcome", "rule", "cause"),
    [
        # BREAK_OUT, "caller abandoned": the caller left the queue before any agent
        # was offered the call: rule 8, hung up in the queue -> abandoned.
        ("BREAK_OUT", False, "abandoned", "queue_hangup", "BREAK_OUT"),
        # The same after an agent was offered it and did not answer: rule 3 (an agent
        # rang, nobody answered) comes first -> missed.
        ("BREAK_OUT", True, "missed", "agent_not_answered", "BREAK_OUT"),
        # TIMEOUT: the queue's max-wait-time ended the wait, not the caller; nobody was
        # offered it: rule 10, the system ended the wait -> missed, no agent available.
        ("TIMEOUT", False, "missed", "no_agent_available", "max-wait-time"),
        # NO_AGENT_TIMEOUT: no agent for max-wait-time-with-no-agent: rule 10 as well.
        ("NO_AGENT_TIMEOUT", False, "missed", "no_agent_available", "no agent available"),
        # NONE, "no specific reason": the documentation says Cancel is the caller's
        # hang-up before talking to an agent: rule 8 -> abandoned.
        ("NONE", False, "abandoned", "queue_hangup", "NONE"),
    ],
)
def test_a_member_that_left_before_an_agent_gets_the_verdict_of_its_cancel_reason(
    reason: str, offered: bool, outcome: str, rule: str, cause: str
) -> None:
    script = [queued("m2")]
    if offered:
        script += [
            callcenter_event("agent-offering", "m2", 5),
            callcenter_event("bridge-agent-fail", "m2", 25, CC_Hangup_Cause="NO_ANSWER"),
        ]
    script.append(cancel("m2", 60, reason))
    events = run(CallcenterMapper(), script)
    ended = events[-1]
    assert isinstance(ended, CallEnded)
    assert cause in str(ended.cause)
    record = verdicts(events)["m2"]
    assert (record["outcome"], record["reason"]) == (outcome, rule)


def test_a_failed_offer_is_no_answer_or_a_rejection_by_its_hangup_cause() -> None:
    mapper = CallcenterMapper()
    events = run(
        mapper,
        [
            queued("m3"),
            callcenter_event("agent-offering", "m3", 1, CC_Agent="ann"),
            callcenter_event(
                "bridge-agent-fail", "m3", 2, CC_Agent="ann", CC_Hangup_Cause="CALL_REJECTED"
            ),
            callcenter_event("agent-offering", "m3", 3, CC_Agent="ben"),
            callcenter_event("bridge-agent-fail", "m3", 9, CC_Agent="ben"),
            callcenter_event("agent-offering", "m3", 10, CC_Agent="ann"),
            callcenter_event("bridge-agent-start", "m3", 12, CC_Agent="ann"),
            callcenter_event("bridge-agent-end", "m3", 40, CC_Agent="ann"),
        ],
    )
    kinds = [(e.type, getattr(e, "agent", None)) for e in events[2:]]
    assert kinds == [
        ("agent.ringing", "ann"),
        ("agent.rejected", "ann"),
        ("agent.ringing", "ben"),
        ("agent.no_answer", "ben"),  # the example's cause is no decline
        ("agent.ringing", "ann"),
        ("agent.answered", "ann"),
        ("call.ended", None),
    ]
    assert verdicts(events)["m3"]["outcome"] == "completed"


def test_agent_status_and_state_are_presence() -> None:
    mapper = CallcenterMapper()
    events = run(
        mapper,
        [
            callcenter_event("agent-status-change", "", 0),
            callcenter_event("agent-state-change", "", 1),
            callcenter_event("agent-state-change", "", 2, CC_Agent_State="Idle"),
            callcenter_event("agent-status-change", "", 3, CC_Agent_Status="On Break"),
            callcenter_event("agent-state-change", "", 4, CC_Agent_State="Waiting"),
            callcenter_event("agent-status-change", "", 5, CC_Agent_Status="Logged Out"),
        ],
    )
    assert all(isinstance(e, AgentStatus) for e in events)
    assert [(e.agent, e.status.value) for e in events] == [  # type: ignore[union-attr]
        ("1000@default", "available"),
        ("1000@default", "busy"),  # Receiving
        ("1000@default", "wrap_up"),  # Idle
        ("1000@default", "paused"),  # On Break
        ("1000@default", "offline"),  # the Waiting state while on a break was set aside
    ]
    assert (
        mapper.skipped.counts[
            ("callcenter agent-state-change", "state of an agent on a break or logged out")
        ]
        == 1
    )


def test_members_count_and_other_events_are_counted_not_mapped() -> None:
    mapper = CallcenterMapper()
    events = run(
        mapper,
        [
            callcenter_event("members-count", "", 0),
            {"Event-Name": "CHANNEL_ANSWER", "Unique-ID": "x"},
            {
                "Event-Name": "CUSTOM",
                "Event-Subclass": "callcenter::info",
                "CC-Action": "new-thing",
            },
        ],
    )
    assert events == []
    assert len(mapper.skipped) == 3
    whats = {what for what, _ in mapper.skipped.counts}
    assert whats == {"callcenter members-count", "CHANNEL_ANSWER", "callcenter new-thing"}


def test_broken_events_name_the_header() -> None:
    mapper = CallcenterMapper()
    bad = queued("m4")
    del bad["CC-Queue"]
    with pytest.raises(EslEventError, match="member-queue-start: missing header CC-Queue"):
        mapper.event(bad, NOW)
    with pytest.raises(EslEventError, match="Event-Date-Timestamp 'soon' is not an epoch"):
        mapper.event({**queued("m5"), "Event-Date-Timestamp": "soon"}, NOW)
    with pytest.raises(EslEventError, match="CC-Cause 'Maybe'"):
        mapper.event(
            callcenter_event("member-queue-end", "m6", 1, cause="Cancel", CC_Cause="Maybe"), NOW
        )
    huge = {**queued("m7"), "CC-Queue": "q" * 1_000_000}
    with pytest.raises(EslEventError, match="CC-Queue of 1000000 characters"):
        mapper.event(huge, NOW)
    # The mapper goes on after each of them.
    assert [e.type for e in mapper.event(queued("m8"), NOW)] == ["call.started", "queue.entered"]


def test_events_of_a_call_never_seen_open_it_and_repeats_are_not_counted_twice() -> None:
    mapper = CallcenterMapper()
    offer = callcenter_event("agent-offering", "m9", 30, CC_Member_Joined_Time=str(BASE + 2))
    events = run(mapper, [offer, queued("m9", 2), offer])
    assert [e.type for e in events] == ["call.started", "queue.entered", "agent.ringing"]
    assert events[0].ts == datetime.fromtimestamp(BASE + 2, UTC)
    assert len(mapper.skipped) == 2  # the repeated member-queue-start and offer


def test_late_events_of_an_ended_call_and_repeated_offers_are_set_aside_and_counted() -> None:
    mapper = CallcenterMapper()
    offer = callcenter_event("agent-offering", "m10", 5)
    events = run(
        mapper,
        [
            queued("m10"),
            offer,
            offer,
            cancel("m10", 30, "BREAK_OUT"),
            callcenter_event("bridge-agent-fail", "m10", 31),
            queued("m10", 32),
        ],
    )
    assert [e.type for e in events] == [
        "call.started",
        "queue.entered",
        "agent.ringing",
        "call.ended",
    ]
    assert sorted(mapper.skipped.counts.values()) == [1, 1, 1]
    assert verdicts(events)["m10"]["outcome"] == "missed"


def test_resync_opens_calls_already_waiting_or_talking_and_ends_those_gone() -> None:
    mapper = CallcenterMapper()
    run(mapper, [queued("gone", 0), queued("still", 1)])
    listed = member_list(
        {
            "queue": "support@default",
            "uuid": "still",
            "state": "Waiting",
            "joined_epoch": str(BASE + 1),
        },
        {
            "queue": "support@default",
            "uuid": "new",
            "cid_number": "5145551212",
            "state": "Waiting",
            "joined_epoch": str(BASE + 5),
        },
        {
            "queue": "sales@default",
            "uuid": "talking",
            "state": "Answered",
            "joined_epoch": str(BASE + 6),
            "bridge_epoch": str(BASE + 20),
            "serving_agent": "1000@default",
        },
        {
            "queue": "support@default",
            "uuid": "left",
            "state": "Abandoned",
            "joined_epoch": str(BASE + 7),
        },
    )
    events = mapper.resync_members(listed, NOW)
    got = [(e.call_id, e.type) for e in events]
    assert got == [
        ("new", "call.started"),
        ("new", "queue.entered"),
        ("talking", "call.started"),
        ("talking", "queue.entered"),
        ("talking", "agent.ringing"),
        ("talking", "agent.answered"),
        ("gone", "call.ended"),
    ]
    assert events[0].ts == datetime.fromtimestamp(BASE + 5, UTC)
    # Both calls opened by the list are marked as learned from it (schema resync_at).
    started = [e for e in events if isinstance(e, CallStarted)]
    assert [e.resync_at for e in started] == [NOW, NOW]
    assert "while the event socket was down" in str(events[-1].cause)  # type: ignore[union-attr]
    assert mapper.resynced == 2
    # The same list again changes nothing: no call counted twice.
    assert mapper.resync_members(listed, NOW) == []
    with pytest.raises(EslEventError, match="not a list"):
        mapper.resync_members("-ERR no such command\n", NOW)


def test_resync_agents_gives_each_agents_presence() -> None:
    mapper = CallcenterMapper()
    text = agent_list(
        {"name": "1000@default", "status": "Available", "state": "In a queue call"},
        {"name": "1001@default", "status": "On Break", "state": "Waiting"},
        {"name": "1002@default", "status": "Gone Fishing", "state": "Waiting"},
    )
    events = mapper.resync_agents(text, NOW)
    assert [(e.agent, e.status.value) for e in events] == [  # type: ignore[union-attr]
        ("1000@default", "busy"),
        ("1001@default", "paused"),
    ]
    assert len(mapper.skipped) == 1


def test_memory_of_calls_is_bounded() -> None:
    mapper = CallcenterMapper()
    template = queued("")
    for i in range(REMEMBER_CALLS + 10):
        mapper.event({**template, "CC-Member-UUID": f"c{i}"}, NOW)
    assert mapper.open_calls == REMEMBER_CALLS
