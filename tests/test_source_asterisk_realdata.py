"""A production queue_log, classified by hand from seed 000 and by `callboard classify`.

The log is `shared/realdata/asterisk/voipreports1-queue_log` (queue `IT`, 1,000
lines; see the README beside it). The sample below was worked out from the raw
lines with the seed's definitions before looking at callboard's output:

* missed: "rang at least one agent and were not answered or have been
  rejected", and "if the call ... is answered by another agent it will not
  count as a missed call";
* abandoned: "the customer disconnected while in the waiting queue" without
  reaching an agent;
* a queue that gives up on the caller (EXITWITHTIMEOUT) is not the caller
  disconnecting; with agents rung first it is still "rang ... not answered".
"""

from __future__ import annotations

import json
from collections import Counter

from monitor.sources import iter_source
from tests.cli_support import REAL_QUEUE_LOG, callboard

#: call id -> (outcome, reason, agents rung, wait s, talk s), each worked out by hand.
HAND_CLASSIFIED: dict[str, tuple[str, str, list[str], float, float]] = {
    # Lines 13-20: entered at 1543602677; 1141 and 1127 let it ring out five
    # times, 1127 answered at ...753 (hold 76 s), the caller hung up at ...600.
    # Answered by an agent after others let it ring: completed, not missed.
    "1543602660.197": ("completed", "answered", ["1141", "1127"], 76.0, 847.0),
    # Lines 25-27: entered ...022, 1141 answered ...027, the agent hung up ...087.
    "1543604976.289": ("completed", "answered", ["1141"], 5.0, 60.0),
    # Lines 32-41: seven ring-outs on 1141 and 1127, then 1141 answered after
    # 77 s; the agent ended it 99 s later. Completed.
    "1543606501.364": ("completed", "answered", ["1141", "1127"], 77.0, 99.0),
    # Lines 46-50: answered at once by 1127 (hold 7 s, ...379 to ...386); the
    # caller hung up at ...498, 112 s later (Asterisk's own calltime says 111:
    # it counts from the bridge, we from the CONNECT line).
    "1543607369.532": ("completed", "answered", ["1127"], 7.0, 112.0),
    # Lines 174-177: answered by 1128 after 6 s, attended transfer 30 s later:
    # it was connected to an agent, so completed.
    "1543833609.335": ("completed", "answered", ["1128"], 6.0, 30.0),
    # Lines 926-928: answered by 1128 after 6 s, blind-transferred to 1142
    # after 38 s. Completed.
    "1543938872.1743": ("completed", "answered", ["1128"], 6.0, 38.0),
    # Lines 281-294: nine ring-outs (1109, 1126), then ABANDON after 191 s.
    # Agents were rung and nobody answered: missed (not abandoned).
    "1543852000.1574": ("missed", "agent_not_answered", ["1109", "1126"], 191.0, 0.0),
    # Lines 602-605: two ring-outs (1141, 1144), caller gone after 21 s: missed.
    "1543861865.4062": ("missed", "agent_not_answered", ["1141", "1144"], 21.0, 0.0),
    # Lines 930-934: 1126, 1109, 1128 each let it ring out, ABANDON at 40 s.
    "1543939468.1810": ("missed", "agent_not_answered", ["1126", "1109", "1128"], 40.0, 0.0),
    # Lines 500-526: 1141 and 1144 rung 22 times, then EXITWITHTIMEOUT at 300 s:
    # the queue gave up, the caller did not hang up; agents were rung: missed.
    "1543860451.3324": ("missed", "agent_not_answered", ["1141", "1144"], 300.0, 0.0),
    # Lines 292, 295: entered in position 2, hung up after 197 s, no agent was
    # ever rung: the caller disconnected in the waiting queue, abandoned.
    "1543852103.1644": ("abandoned", "queue_hangup", [], 197.0, 0.0),
    # Lines 856-857: hung up after 5 s in the queue, no agent rung: abandoned.
    "1543935570.1153": ("abandoned", "queue_hangup", [], 5.0, 0.0),
}

#: Calls with no ending line before the log stops (lines 967-1000): two were
#: answered and are still talking, two are still waiting in the queue.
OPEN_AT_END = {
    "1543942189.2194": "talking",
    "1543942358.2226": "talking",
    "1543942788.2389": "queued",
    "1543942842.2438": "queued",
}


def classify_real_log(*extra: str) -> tuple[dict[str, dict[str, object]], str]:
    assert REAL_QUEUE_LOG.is_file(), f"the real queue_log is expected at {REAL_QUEUE_LOG}"
    done = callboard("classify", "--from", "asterisk-queue-log", *extra, str(REAL_QUEUE_LOG))
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    by_id = {str(r["call_id"]): r for r in records}
    assert len(by_id) == len(records), "a call id came out twice"
    return by_id, done.stderr


def test_hand_classified_sample_agrees_with_callboard() -> None:
    by_id, _ = classify_real_log()
    for call_id, (outcome, reason, agents, wait, talk) in HAND_CLASSIFIED.items():
        got = by_id[call_id]
        assert (got["outcome"], got["reason"]) == (outcome, reason), (call_id, got["detail"])
        assert got["agents_rung"] == agents, call_id
        assert got["wait_s"] == wait, call_id
        assert got["talk_s"] == talk, call_id
        assert got["queue"] == "IT", call_id


def test_whole_log_counts_per_outcome_and_what_was_skipped() -> None:
    by_id, stderr = classify_real_log("--include-open")
    finished = Counter((r["outcome"], r["reason"]) for r in by_id.values() if r["outcome"])
    # 108 calls entered the queue: 91 answered (incl. the two transfers), 11
    # rang agents in vain (10 ABANDON + 1 EXITWITHTIMEOUT after ring-outs), 2
    # hung up in the queue before any agent was rung, 4 still open.
    assert finished == Counter(
        {
            ("completed", "answered"): 91,
            ("missed", "agent_not_answered"): 11,
            ("abandoned", "queue_hangup"): 2,
        }
    )
    still_open = {cid: r["detail"] for cid, r in by_id.items() if r["outcome"] is None}
    assert still_open == {cid: f"still open: {phase}" for cid, phase in OPEN_AT_END.items()}
    assert "detected format" not in stderr, "--from was given: nothing to detect"
    # Every line is accounted for: no errors, no warnings, and the 275 lines
    # that are not queue events are listed by kind with a reason.
    assert _row(stderr, "lines rejected") == "0"
    assert _row(stderr, "warnings") == "0"
    assert _row(stderr, "skipped, not errors") == "275"
    skipped = {
        "OUTDIAL": 128,
        "OUTANSWER": 77,
        "OUTCANCEL": 24,
        "OUTCHANUNAVAIL": 18,
        "CONFIGRELOAD": 11,
        "OUTCONGESTION": 9,
        "QUEUESTART": 7,
        "OUTTRANSFER": 1,
    }
    for event, count in skipped.items():
        assert _row(stderr, f"skipped {event}") == str(count), event
    items = iter_source(REAL_QUEUE_LOG, "asterisk-queue-log")
    list(items)
    reasons = {what: why for what, why, _ in items.skipped.rows()}
    assert (
        reasons["OUTDIAL"]
        == "an outbound-dialling add-on's line, not a queue event (first at line 9)"
    )
    assert reasons["QUEUESTART"] == "start-up or reload marker, no call in it (first at line 1)"


def _row(table: str, label: str) -> str:
    """The count column of the summary row that starts with `label`."""
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if cells and cells[0] == label:
            return cells[-1]
    raise AssertionError(f"no row {label!r} in:\n{table}")
