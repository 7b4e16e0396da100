"""One phone call, one call: Twilio's TaskRouter and Voice webhooks linked by the task's call_sid.

A voice task made by ``<Enqueue>`` carries the caller's CallSid in its attributes
(``call_sid``); its TaskRouter events and the call's Voice status callbacks are
real signed HTTP requests (the `twilio` library's signatures, a test token) to a
real receiver and hub, read back by a real subscriber. The parameters are those
of Twilio's "TaskRouter Events reference" and "Voice status callbacks". Each
scenario is delivered in the orders Twilio can deliver it (Voice first, task
first; each delivery twice, as a retry does) and must give one call with the
verdict its story means. There is no Twilio file format, so there is no
`classify` run to compare with.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from classifier.schema import Event
from classifier.tracker import CallTracker, Result
from monitor.hooks.config import HooksConfig
from monitor.hooks.server import TWILIO_TASKROUTER_PATH, TWILIO_VOICE_PATH
from monitor.sources.twilio import FINAL_GRACE_S, ID_PREFIX, TwilioCalls, taskrouter_events
from tests.hooks_support import (
    T0,
    TASK_ATTRIBUTES,
    Hooks,
    hooks_hub,
    post_signed,
    task_event,
    wait_for,
)

CALL = "CA" + "a1" * 16
TASK = "WT" + "b2" * 16
LINKED = TASK_ATTRIBUTES | {"call_sid": CALL, "type": "inbound", "name": "+14155550100"}


def voice(status: str, at: int, **fields: str) -> dict[str, str]:
    """A Voice status callback of the caller's call (an inbound call to the centre's number)."""
    params = {
        "CallSid": CALL,
        "AccountSid": "AC" + "0" * 32,
        "From": "+14155550100",
        "To": "+14155550199",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        "CallStatus": status,
        "CallbackSource": "call-progress-events",
        "Timestamp": format_datetime(datetime.fromtimestamp(at, UTC), usegmt=True),
    }
    return params | fields


def task(kind: str, at: int, **fields: str) -> dict[str, str]:
    return task_event(kind, TASK, at, LINKED, **fields)


# Answered: the caller rings at T0, Twilio answers at T0+1, the Studio flow enqueues the
# call at T0+8, alice's reservation times out, bob accepts at T0+24, the caller hangs
# up at T0+120, bob finishes his wrap-up at T0+150.
RINGING = voice("ringing", T0)
IN_PROGRESS = voice("in-progress", T0 + 1)
CREATED = task("task.created", T0 + 8)
QUEUED = task("task-queue.entered", T0 + 8, TaskQueueSid="WQ1", TaskQueueName="Support")
OFFERED_ALICE = task("reservation.created", T0 + 10, WorkerSid="WK1", WorkerName="alice")
TIMEOUT_ALICE = task("reservation.timeout", T0 + 22, WorkerSid="WK1", WorkerName="alice")
OFFERED_BOB = task("reservation.created", T0 + 22, WorkerSid="WK2", WorkerName="bob")
ACCEPTED_BOB = task("reservation.accepted", T0 + 24, WorkerSid="WK2", WorkerName="bob")
COMPLETED = voice("completed", T0 + 120, CallDuration="119", SequenceNumber="3")
# A delivery without the task's attributes (a Workspace whose callbacks leave them out)
# still belongs to the call its task was linked to.
TASK_DONE = {
    k: v
    for k, v in task("task.completed", T0 + 150, TaskCompletedReason="Task completed").items()
    if k != "TaskAttributes"
}
TASK_SIDE = [CREATED, QUEUED, OFFERED_ALICE, TIMEOUT_ALICE, OFFERED_BOB, ACCEPTED_BOB]

ANSWERED_ORDERS = {
    # Voice first: the call's ringing and answer callbacks come before the task exists.
    "voice first": [
        (TWILIO_VOICE_PATH, RINGING),
        (TWILIO_VOICE_PATH, IN_PROGRESS),
        *[(TWILIO_TASKROUTER_PATH, p) for p in TASK_SIDE],
        (TWILIO_VOICE_PATH, COMPLETED),
        (TWILIO_TASKROUTER_PATH, TASK_DONE),
    ],
    # Task first: the number's StatusCallbackEvent is only 'completed' (Twilio's default).
    "task first": [
        *[(TWILIO_TASKROUTER_PATH, p) for p in TASK_SIDE],
        (TWILIO_VOICE_PATH, COMPLETED),
        (TWILIO_TASKROUTER_PATH, TASK_DONE),
    ],
    # Task first, and the task's completion delivered before the Voice callback.
    "task completed first": [
        *[(TWILIO_TASKROUTER_PATH, p) for p in TASK_SIDE],
        (TWILIO_TASKROUTER_PATH, TASK_DONE),
        (TWILIO_VOICE_PATH, COMPLETED),
    ],
}

# Abandoned: enqueued at T0+8, no agent free, the caller hangs up at T0+40: Voice says
# completed (Twilio had answered the call) and TaskRouter cancels the task.
HUNG_UP = voice("completed", T0 + 40, CallDuration="39", SequenceNumber="3")
CANCELED = task("task.canceled", T0 + 40, TaskCanceledReason="hangup")
ABANDONED_ORDERS = {
    "voice first": [
        (TWILIO_VOICE_PATH, IN_PROGRESS),
        *[(TWILIO_TASKROUTER_PATH, p) for p in (CREATED, QUEUED)],
        (TWILIO_VOICE_PATH, HUNG_UP),
        (TWILIO_TASKROUTER_PATH, CANCELED),
    ],
    "task first": [
        *[(TWILIO_TASKROUTER_PATH, p) for p in (CREATED, QUEUED)],
        (TWILIO_TASKROUTER_PATH, CANCELED),
        (TWILIO_VOICE_PATH, HUNG_UP),
    ],
}


async def deliver_twice(hooks: Hooks, deliveries: list[tuple[str, dict[str, str]]]) -> None:
    """Every delivery, each one sent again at once (a vendor's retry), signed."""
    for path, params in deliveries:
        for _ in range(2):
            status = await post_signed(hooks, path, params)
            assert status == (204 if path == TWILIO_TASKROUTER_PATH else 200)
    await hooks.settled()
    await wait_for(lambda: len(hooks.follower.verdicts) >= 1, "the verdict")


def the_one_call(hooks: Hooks) -> dict[str, object]:
    """The only verdict; no call left in progress, none refused by the hub."""
    assert [v["call_id"] for v in hooks.follower.verdicts] == [ID_PREFIX + CALL]
    assert hooks.hub.tracker.calls == {}
    assert hooks.hub.stats()["hooks"]["events_refused"] == 0
    return hooks.follower.verdicts[0]


@pytest.mark.parametrize("order", list(ANSWERED_ORDERS))
async def test_an_answered_call_is_one_call_in_either_order(order: str) -> None:
    async with hooks_hub() as hooks:
        await deliver_twice(hooks, ANSWERED_ORDERS[order])
        verdict = the_one_call(hooks)
        assert (verdict["outcome"], verdict["reason"]) == ("completed", "answered")
        assert verdict["queue"] == "Support" and verdict["agents_rung"] == ["alice", "bob"]
        assert verdict["wait_s"] == 16.0  # enqueued at T0+8, bob answered at T0+24
        # The call's end: the first of Voice's completed (the caller hung up at T0+120)
        # and the task's completion (bob's wrap-up over at T0+150) to arrive.
        assert verdict["talk_s"] == (126.0 if order == "task completed first" else 96.0)
        # The call started with its first callback: Voice's ringing, else the task.
        started = datetime.fromisoformat(str(verdict["started_at"])).timestamp()
        assert started == (T0 if order == "voice first" else T0 + 8)


@pytest.mark.parametrize("order", list(ABANDONED_ORDERS))
async def test_a_caller_hanging_up_in_the_queue_is_one_abandoned_call(order: str) -> None:
    async with hooks_hub() as hooks:
        await deliver_twice(hooks, ABANDONED_ORDERS[order])
        verdict = the_one_call(hooks)
        assert verdict["outcome"] == "abandoned" and verdict["queue"] == "Support"
        assert verdict["agents_rung"] == []
        assert verdict["wait_s"] == 32.0  # from T0+8 in the queue to the hang-up at T0+40


def test_a_task_with_a_call_sid_is_that_call_and_one_without_is_its_task() -> None:
    assert {e.call_id for e in taskrouter_events(CREATED)} == {ID_PREFIX + CALL}
    alone = task_event("task.created", TASK, T0)
    assert {e.call_id for e in taskrouter_events(alone)} == {ID_PREFIX + TASK}
    # Without attributes, a task's event goes to the call an earlier delivery linked.
    calls = TwilioCalls()
    assert {e.call_id for e in calls.taskrouter(TASK_DONE)} == {ID_PREFIX + TASK}
    calls.taskrouter(CREATED)
    assert {e.call_id for e in calls.taskrouter(TASK_DONE)} == {ID_PREFIX + CALL}


def test_every_delivery_of_a_call_gives_its_first_start_and_end() -> None:
    calls = TwilioCalls()
    first = calls.taskrouter(CREATED)
    [start] = calls.voice(HUNG_UP, 0.0)  # its end waits for the task's
    assert start is first[0]  # not a second start at T0+1 from CallDuration
    [end] = calls.taskrouter(CANCELED)  # the task's end gives the first end: Voice's
    assert (end.ts.timestamp(), end.by, end.cause) == (T0 + 40, "caller", "completed")
    assert calls.voice(HUNG_UP, 1.0) == [start, end]  # a retry: the same two again
    assert calls.due(math.inf) == [] and calls.held == 0


def play(deliveries: list[tuple[str, dict[str, str]]]) -> dict[str, object]:
    """Each delivery twice, one second of arrival apart, through `TwilioCalls` into the
    hub's own state machine (`CallTracker`), then the grace over: the one verdict.
    Nothing may be refused and no call may be left open."""
    calls, tracker = TwilioCalls(), CallTracker()
    verdicts = []

    def apply(events: list[Event]) -> None:
        for event in events:
            applied = tracker.apply(event)
            assert applied.result is not Result.REJECTED, (deliveries, applied.problem)
            if applied.verdict is not None:
                verdicts.append(applied.verdict.record())

    for arrival, (path, params) in enumerate(deliveries):
        for _ in range(2):
            if path == TWILIO_VOICE_PATH:
                apply(calls.voice(params, float(arrival)))
            else:
                apply(calls.taskrouter(params))
    apply(calls.due(math.inf))
    [verdict] = verdicts
    assert verdict["call_id"] == ID_PREFIX + CALL and not tracker.calls
    return verdict


def orders(
    deliveries: list[tuple[str, dict[str, str]]],
) -> Iterator[list[tuple[str, dict[str, str]]]]:
    return (list(order) for order in itertools.permutations(deliveries))


@pytest.mark.slow
def test_any_order_of_the_deliveries_before_the_end_gives_the_same_verdict() -> None:
    # Every order of the six deliveries before the call ends (Voice's ringing and
    # answer, the task's creation, queue and bob's reservation) with Voice's final
    # 'completed' anywhere among them (first too: 5,040 orders), then the task's
    # completion; and the six in every order, then the two ends in either order.
    # Each delivery twice: the hub's own state machine refuses nothing and makes one
    # verdict, the same each time.
    before_end = [
        (TWILIO_VOICE_PATH, RINGING),
        (TWILIO_VOICE_PATH, IN_PROGRESS),
        (TWILIO_TASKROUTER_PATH, CREATED),
        (TWILIO_TASKROUTER_PATH, QUEUED),
        (TWILIO_TASKROUTER_PATH, OFFERED_BOB),
        (TWILIO_TASKROUTER_PATH, ACCEPTED_BOB),
    ]
    voice_end, task_end = (TWILIO_VOICE_PATH, COMPLETED), (TWILIO_TASKROUTER_PATH, TASK_DONE)
    runs = [[*order, task_end] for order in orders([*before_end, voice_end])]
    runs += [[*order, task_end, voice_end] for order in orders(before_end)]
    seen = set()
    for run in runs:
        verdict = play(run)
        seen.add((verdict["outcome"], verdict["reason"], verdict["queue"], verdict["wait_s"]))
        assert verdict["agents_rung"] == ["bob"]
    assert len(runs) == 5_040 + 720
    assert seen == {("completed", "answered", "Support", 16.0)}


# Missed (seed 000: "rang at least one agent and were not answered"): enqueued at T0+8,
# alice offered at T0+10 and timing out at T0+22, the caller hanging up at T0+40.
MISSED_BEFORE_END = [
    (TWILIO_VOICE_PATH, IN_PROGRESS),
    (TWILIO_TASKROUTER_PATH, CREATED),
    (TWILIO_TASKROUTER_PATH, QUEUED),
    (TWILIO_TASKROUTER_PATH, OFFERED_ALICE),
    (TWILIO_TASKROUTER_PATH, TIMEOUT_ALICE),
    (TWILIO_VOICE_PATH, HUNG_UP),
]


def test_a_voice_final_first_still_gives_missed_or_abandoned_by_what_the_task_says() -> None:
    # Whether the caller reached a queue, or an agent, decides abandoned against
    # missed (seed 000), and those facts are the task's. Voice's final 'completed'
    # anywhere among the task's deliveries, then the task's cancellation, or no
    # cancellation at all (the grace ends the call): the same verdict every time.
    canceled = (TWILIO_TASKROUTER_PATH, CANCELED)
    seen = set()
    for run in orders(MISSED_BEFORE_END):
        for ending in ([canceled], []):
            verdict = play([*run, *ending])
            seen.add((verdict["outcome"], verdict["queue"], tuple(verdict["agents_rung"])))
    assert seen == {("missed", "Support", ("alice",))}
    abandoned_before_end = [d for d in MISSED_BEFORE_END if "alice" not in str(d)]
    seen = set()
    # The task's queue entry first too: the start that comes after it does not take the
    # call back out of the queue (classifier.call's `_started`).
    for run in orders(abandoned_before_end):
        for ending in ([canceled], []):
            verdict = play([*run, *ending])
            seen.add((verdict["outcome"], verdict["reason"], verdict["queue"], verdict["wait_s"]))
    assert seen == {("abandoned", "queue_hangup", "Support", 32.0)}


# The missed call's deliveries over HTTP: Voice's final first (before the task even
# exists), and in Twilio's own order (the task's cancellation before Voice's final).
MISSED_TASK = [CREATED, QUEUED, OFFERED_ALICE, TIMEOUT_ALICE]
MISSED_ORDERS = {
    "voice final first": [
        (TWILIO_VOICE_PATH, HUNG_UP),
        *[(TWILIO_TASKROUTER_PATH, p) for p in (*MISSED_TASK, CANCELED)],
    ],
    "task first": [
        *[(TWILIO_TASKROUTER_PATH, p) for p in (*MISSED_TASK, CANCELED)],
        (TWILIO_VOICE_PATH, HUNG_UP),
    ],
}


@pytest.mark.parametrize("order", list(MISSED_ORDERS))
async def test_a_voice_final_before_the_task_still_gives_the_tasks_verdict(order: str) -> None:
    # Default grace (10 s): the task's cancellation releases the held end at once.
    async with hooks_hub() as hooks:
        await deliver_twice(hooks, MISSED_ORDERS[order])
        verdict = the_one_call(hooks)
        assert (verdict["outcome"], verdict["queue"]) == ("missed", "Support")
        assert verdict["agents_rung"] == ["alice"]
        # The end is the first to arrive; both say the caller hung up at T0+40.
        ended = datetime.fromisoformat(str(verdict["ended_at"])).timestamp()
        assert ended == T0 + 40
        health = hooks.hub.stats()["hooks"]
        assert health["twilio_ends_held"] == (1 if order == "voice final first" else 0)
        assert health["twilio_ends_without_task"] == 0


async def test_without_the_tasks_end_the_grace_ends_the_call() -> None:
    # Voice's final first, then the task's events but never its end (a Workspace whose
    # callback leaves task.canceled out): the call ends when the grace is over, with
    # the queue and the agent the task gave it meanwhile.
    async with hooks_hub(twilio_grace=0.5) as hooks:
        await deliver_twice(hooks, MISSED_ORDERS["voice final first"][:-1])
        verdict = the_one_call(hooks)
        assert (verdict["outcome"], verdict["agents_rung"]) == ("missed", ["alice"])
        health = hooks.hub.stats()["hooks"]
        assert (health["twilio_ends_held"], health["twilio_ends_without_task"]) == (1, 1)


async def test_a_held_end_is_applied_when_the_receiver_stops() -> None:
    # A caller who hung up in the IVR (no task will come), and the hub stopping within
    # the grace: the end is applied at the stop, not lost.
    async with hooks_hub(twilio_grace=600.0) as hooks:
        assert await post_signed(hooks, TWILIO_VOICE_PATH, voice("completed", T0 + 30)) == 200
        await hooks.settled()
        assert list(hooks.hub.tracker.calls) == [ID_PREFIX + CALL]
        await hooks.receiver.stop()
        await wait_for(lambda: len(hooks.follower.verdicts) == 1, "the verdict")
        assert hooks.hub.tracker.calls == {}
        assert hooks.follower.verdicts[0]["call_id"] == ID_PREFIX + CALL


def test_the_receivers_default_grace_is_the_documented_one() -> None:
    # HooksConfig keeps its own literal so that option parsing does not import the
    # mappings; the two must agree.
    assert HooksConfig().twilio_grace == FINAL_GRACE_S == 10.0


def test_held_ends_are_bounded_and_the_oldest_applied_early() -> None:
    calls = TwilioCalls(hold=3)
    final = voice("completed", T0 + 40, CallDuration="39")
    finals = [final | {"CallSid": f"CA{i}"} for i in range(5)]
    out = [calls.voice(params, 0.0) for params in finals]
    assert [len(events) for events in out] == [1, 1, 1, 2, 2]  # start; start + oldest's end
    assert [e.call_id for e in out[3]] == [ID_PREFIX + "CA3", ID_PREFIX + "CA0"]
    assert calls.held == 3 and calls.due(9.9) == []
    assert [e.call_id for e in calls.due(10.0)] == [ID_PREFIX + f"CA{i}" for i in (2, 3, 4)]
    assert calls.counts == {"twilio_ends_held": 5, "twilio_ends_without_task": 5}
