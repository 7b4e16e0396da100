"""An agent who does not take a call that never queued: the call goes back to where it was.

Issue 16 item 6. A direct call (no queue) that rang an agent who let it ring out
used to stay in phase "ringing" with no agent, so a hang-up then read "while an
agent was ringing". The outcome by rule 3 (missed) does not change; the phase does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from classifier.call import Phase
from classifier.schema import event_from_dict
from classifier.tracker import CallTracker
from tests.cli_support import callboard


def ev(type_: str, call_id: str, ts: float, **fields: Any) -> Any:
    return event_from_dict({"type": type_, "call_id": call_id, "ts": ts, **fields})


@pytest.mark.parametrize("not_taken", ["agent.no_answer", "agent.rejected"])
def test_unqueued_call_returns_to_the_ivr_and_is_still_missed(not_taken: str) -> None:
    tracker = CallTracker()
    tracker.apply(ev("call.started", "a", 0, **{"from": "+442079460001"}))
    tracker.apply(ev("ivr.entered", "a", 1, menu="sales"))
    tracker.apply(ev("agent.ringing", "a", 2, agent="Ana"))
    assert tracker.calls["a"].phase is Phase.RINGING
    tracker.apply(ev(not_taken, "a", 20, agent="Ana"))
    call = tracker.calls["a"]
    assert call.phase is Phase.IVR and call.agent is None
    verdict = tracker.apply(ev("call.ended", "a", 25, by="caller")).verdict
    assert verdict is not None
    assert (verdict.outcome.value, verdict.reason) == ("missed", "agent_not_answered")
    assert "in the IVR (sales)" in verdict.detail
    assert "ringing" not in verdict.detail


def test_queued_call_still_returns_to_its_queue() -> None:
    tracker = CallTracker()
    tracker.apply(ev("call.started", "q", 0))
    tracker.apply(ev("queue.entered", "q", 1, queue="sales"))
    tracker.apply(ev("agent.ringing", "q", 2, agent="Ana"))
    tracker.apply(ev("agent.no_answer", "q", 20, agent="Ana"))
    assert tracker.calls["q"].phase is Phase.QUEUED


def test_one_of_two_ringing_agents_not_answering_leaves_the_call_ringing_the_other() -> None:
    tracker = CallTracker()
    tracker.apply(ev("call.started", "r", 0))
    tracker.apply(ev("queue.entered", "r", 1, queue="sales"))
    tracker.apply(ev("agent.ringing", "r", 2, agent="Ana"))
    tracker.apply(ev("agent.ringing", "r", 2, agent="Ben"))
    tracker.apply(ev("agent.no_answer", "r", 20, agent="Ana"))
    call = tracker.calls["r"]
    assert call.phase is Phase.RINGING and call.agent == "Ben"
    tracker.apply(ev("agent.no_answer", "r", 21, agent="Ben"))
    assert call.phase is Phase.QUEUED and call.agent is None


def test_classify_says_where_the_caller_hung_up(tmp_path: Path) -> None:
    log = tmp_path / "direct.jsonl"
    events = [
        {"type": "call.started", "call_id": "d1", "ts": 0, "from": "+442079460002"},
        {"type": "greeting.started", "call_id": "d1", "ts": 1, "greeting": "welcome"},
        {"type": "agent.ringing", "call_id": "d1", "ts": 3, "agent": "Ben"},
        {"type": "agent.no_answer", "call_id": "d1", "ts": 23, "agent": "Ben"},
        {"type": "call.ended", "call_id": "d1", "ts": 30, "by": "caller"},
    ]
    log.write_text("".join(json.dumps(e) + "\n" for e in events))
    done = callboard("classify", "--format", "json", str(log))
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout.splitlines()[0])
    assert (record["outcome"], record["reason"]) == ("missed", "agent_not_answered")
    assert "in the welcome greeting" in record["detail"]
