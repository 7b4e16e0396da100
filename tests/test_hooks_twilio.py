"""Twilio webhooks through a real receiver and hub, signed by the `twilio` library.

The parameters are those of Twilio's TaskRouter Events reference (EventCallbackUrl)
and its Voice status callbacks; each request is signed with `RequestValidator`'s
own `compute_signature` and a test auth token, over the URL the receiver is
reached by. There is no Twilio file format, so verdicts are checked against what
the TaskRouter story means (the seed's words), not against `classify`.
"""

from __future__ import annotations

from monitor.hooks.server import TWILIO_TASKROUTER_PATH, TWILIO_VOICE_PATH
from monitor.sources.twilio import ID_PREFIX, taskrouter_events
from tests.hooks_support import (
    T0,
    hooks_hub,
    post_signed,
    task_event,
    twilio_signature,
    wait_for,
)

ANSWERED_AFTER_A_TIMEOUT = [
    task_event("task.created", "WT1", T0),
    task_event("task-queue.entered", "WT1", T0 + 1, TaskQueueSid="WQ1", TaskQueueName="Support"),
    task_event("reservation.created", "WT1", T0 + 5, WorkerSid="WK1", WorkerName="alice"),
    task_event("reservation.timeout", "WT1", T0 + 20, WorkerSid="WK1", WorkerName="alice"),
    task_event("reservation.created", "WT1", T0 + 21, WorkerSid="WK2", WorkerName="bob"),
    task_event("reservation.accepted", "WT1", T0 + 25, WorkerSid="WK2", WorkerName="bob"),
    task_event("task.completed", "WT1", T0 + 200, TaskCompletedReason="call ended"),
]
CANCELED_WAITING = [
    task_event("task.created", "WT2", T0 + 30),
    task_event("task-queue.entered", "WT2", T0 + 31, TaskQueueSid="WQ1", TaskQueueName="Support"),
    task_event("task.canceled", "WT2", T0 + 90, TaskCanceledReason="hangup"),
]


async def test_taskrouter_tasks_become_calls_with_queue_and_agents() -> None:
    async with hooks_hub() as hooks:
        for params in ANSWERED_AFTER_A_TIMEOUT + CANCELED_WAITING:
            assert await post_signed(hooks, TWILIO_TASKROUTER_PATH, params) == 204
        presence = {
            "EventType": "worker.activity.update",
            "Timestamp": str(T0 + 300),
            "WorkerSid": "WK1",
            "WorkerName": "alice",
            "WorkerActivityName": "Break",
        }
        assert await post_signed(hooks, TWILIO_TASKROUTER_PATH, presence) == 204
        await hooks.settled()
        await wait_for(lambda: len(hooks.follower.verdicts) == 2, "two verdicts")
        verdicts = {v["call_id"]: v for v in hooks.follower.verdicts}
        answered, abandoned = verdicts["twilio:WT1"], verdicts["twilio:WT2"]
        assert answered["outcome"] == "completed" and answered["queue"] == "Support"
        assert answered["agents_rung"] == ["alice", "bob"]
        assert answered["wait_s"] == 24.0  # from entering the queue to bob answering
        assert abandoned["outcome"] == "abandoned" and abandoned["queue"] == "Support"
        status = hooks.hub.tracker.presence["alice"]
        assert status.status == "paused" and status.reason == "Break"


async def test_a_retried_taskrouter_delivery_is_applied_once() -> None:
    async with hooks_hub() as hooks:
        for params in CANCELED_WAITING + CANCELED_WAITING:
            assert await post_signed(hooks, TWILIO_TASKROUTER_PATH, params) == 204
        await hooks.settled()
        counters = hooks.hub.stats()
        assert counters["counters"]["accepted"] == 3
        assert counters["hooks"]["events_duplicate"] == 3
        assert len(hooks.follower.verdicts) == 1


def test_the_same_delivery_maps_to_the_same_events() -> None:
    for params in ANSWERED_AFTER_A_TIMEOUT:
        assert taskrouter_events(params) == taskrouter_events(dict(params))


async def test_a_wrong_or_missing_signature_is_refused_and_nothing_applied() -> None:
    async with hooks_hub() as hooks:
        params = CANCELED_WAITING[0]
        url = hooks.url(TWILIO_TASKROUTER_PATH)
        wrong = twilio_signature(url, params, token="0" * 32)
        assert await post_signed(hooks, TWILIO_TASKROUTER_PATH, params, signature=wrong) == 403
        response = await hooks.http.post(url, data=params)
        assert response.status == 403
        assert "X-Twilio-Signature" in (await response.json())["error"]
        # Signed for other parameters than those sent: refused too.
        tampered = twilio_signature(url, params | {"TaskSid": "WT9"})
        assert await post_signed(hooks, TWILIO_TASKROUTER_PATH, params, signature=tampered) == 403
        assert hooks.hub.seq == 0
        assert hooks.hub.stats()["hooks"]["unauthorized"] == 3


async def test_the_signature_is_checked_against_the_public_url() -> None:
    public = "https://callboard.example.com"
    async with hooks_hub(public_url=public) as hooks:
        params = CANCELED_WAITING[0]
        path = TWILIO_TASKROUTER_PATH + "?key=test-hooks-key"
        local = twilio_signature(hooks.url(TWILIO_TASKROUTER_PATH), params)
        assert await post_signed(hooks, TWILIO_TASKROUTER_PATH, params, signature=local) == 403
        public_signed = twilio_signature(public + path, params)
        status = await post_signed(hooks, TWILIO_TASKROUTER_PATH, params, signature=public_signed)
        assert status == 204


async def test_voice_status_callbacks_start_and_end_calls() -> None:
    common = {"AccountSid": "AC" + "0" * 32, "From": "+14155550100", "To": "+14155550199"}
    ringing = common | {
        "CallSid": "CA1",
        "CallStatus": "ringing",
        "Direction": "outbound-api",
        "Timestamp": "Fri, 05 Dec 2026 12:00:00 +0000",
    }
    completed = ringing | {
        "CallStatus": "completed",
        "CallDuration": "40",
        "Timestamp": "Fri, 05 Dec 2026 12:01:00 +0000",
    }
    # No task comes for this call: its end is applied when the grace for one is over.
    async with hooks_hub(twilio_grace=0.2) as hooks:
        for params in (ringing, completed, completed):
            assert await post_signed(hooks, TWILIO_VOICE_PATH, params) == 200
        await hooks.settled()
        await wait_for(lambda: len(hooks.follower.verdicts) == 1, "the verdict")
        verdict = hooks.follower.verdicts[0]
        assert verdict["call_id"] == ID_PREFIX + "CA1"
        assert verdict["outcome"] == "completed" and verdict["talk_s"] == 40.0


async def test_an_unknown_taskrouter_event_is_202_and_counted() -> None:
    async with hooks_hub() as hooks:
        params = task_event("task.wrapup", "WT3", T0)
        assert await post_signed(hooks, TWILIO_TASKROUTER_PATH, params) == 202
        malformed = {"EventType": "task.created", "Timestamp": "soon"}
        url = hooks.url(TWILIO_TASKROUTER_PATH)
        response = await hooks.http.post(
            url, data=malformed, headers={"X-Twilio-Signature": twilio_signature(url, malformed)}
        )
        assert response.status == 400
        assert "'Timestamp'" in (await response.json())["error"]
        hooks_counters = hooks.hub.stats()["hooks"]
        assert hooks_counters["not_shown"] == 1 and hooks_counters["malformed"] == 1
        assert hooks.hub.seq == 0
