"""Amazon Connect contact events through a real receiver and hub: the documentation's samples.

The two samples are read from the admin guide's page as stored in
../shared/realdata/amazon-connect, as published: the CONNECTED_TO_AGENT one is the
contact event alone (what an input transformer's ``$.detail`` sends), the
DISCONNECTED one the whole EventBridge envelope, and it has a trailing comma, so
as published it is not JSON: the receiver says where, and the corrected text is
applied. There is no Amazon file format to compare with `classify`.
"""

from __future__ import annotations

import json

from monitor.hooks.server import AMAZON_PATH
from monitor.sources.amazon_connect import agent_id, contact_events
from tests.hooks_support import (
    AMAZON_SECRET,
    amazon_samples,
    hooks_hub,
    wait_for,
    without_trailing_commas,
)

CONTACT = "connect:11111111-1111-1111-1111-111111111111"
HEADERS = {"X-Callboard-Secret": AMAZON_SECRET, "Content-Type": "application/json"}


def test_the_page_has_its_two_samples() -> None:
    connected, disconnected = amazon_samples()
    assert '"CONNECTED_TO_AGENT"' in connected and '"DISCONNECTED"' in disconnected


async def test_the_documentation_s_samples_give_one_answered_call() -> None:
    connected, disconnected = amazon_samples()
    async with hooks_hub() as hooks:
        url = hooks.url(AMAZON_PATH)
        response = await hooks.http.post(url, data=connected, headers=HEADERS)
        assert response.status == 200 and (await response.json()) == {"queued": 3}
        await hooks.settled()
        call = hooks.hub.tracker.calls[CONTACT]
        assert call.queue is not None and call.queue.startswith("12345678")
        # As published: not JSON, and the answer says where.
        response = await hooks.http.post(url, data=disconnected, headers=HEADERS)
        assert response.status == 400
        assert "line 37 column 9" in (await response.json())["error"]
        fixed = without_trailing_commas(disconnected)
        response = await hooks.http.post(url, data=fixed, headers=HEADERS)
        assert response.status == 200
        await hooks.settled()
        await wait_for(lambda: len(hooks.follower.verdicts) == 1, "the verdict")
        verdict = hooks.follower.verdicts[0]
        assert verdict["call_id"] == CONTACT
        assert verdict["outcome"] == "completed" and verdict["reason"] == "answered"
        # EventBridge retries: the same four events again, none applied twice. (The two
        # samples disagree on initiationMethod, INBOUND and OUTBOUND, so the DISCONNECTED
        # one's call.started is a second start, refused each time; the rest are duplicates.)
        accepted = hooks.hub.stats()["counters"]["accepted"]
        response = await hooks.http.post(url, data=fixed, headers=HEADERS)
        assert response.status == 200
        await hooks.settled()
        stats = hooks.hub.stats()
        assert stats["counters"]["accepted"] == accepted
        assert stats["hooks"]["events_duplicate"] == 3
        assert stats["hooks"]["events_refused"] == 2
        assert len(hooks.follower.verdicts) == 1


async def test_the_agent_is_shown_by_its_id_not_its_arn() -> None:
    connected = amazon_samples()[0]
    arn = json.loads(connected)["agentInfo"]["agentArn"]
    async with hooks_hub() as hooks:
        response = await hooks.http.post(hooks.url(AMAZON_PATH), data=connected, headers=HEADERS)
        assert response.status == 200
        await hooks.settled()
        call = hooks.follower.tracker.calls[CONTACT]
        # The agent's id: the end of .../instance/INSTANCE/agent/AGENT (the user's id).
        assert call.agent == arn.rsplit("/agent/", 1)[1] == "12345678-1234-1234-1234-123456789012"
        held = hooks.hub.tracker.calls[CONTACT].events
        assert len(held) == 3 and not any("arn:" in event.to_json() for event in held)
    # The DISCONNECTED sample's placeholder ARN ("arn") is kept as it is.
    assert agent_id("arn") == "arn"
    assert agent_id("arn:aws:connect:eu-west-2:1:instance/i-1/agent/a-7") == "a-7"


def test_a_disconnected_event_alone_gives_the_whole_call() -> None:
    event = json.loads(without_trailing_commas(amazon_samples()[1]))
    kinds = [e.type for e in contact_events(event)]
    assert kinds == ["call.started", "queue.entered", "agent.answered", "call.ended"]
    assert contact_events(event) == contact_events(json.loads(json.dumps(event)))


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_applied() -> None:
    connected = amazon_samples()[0]
    async with hooks_hub() as hooks:
        url = hooks.url(AMAZON_PATH)
        wrong = HEADERS | {"X-Callboard-Secret": "guess"}
        assert (await hooks.http.post(url, data=connected, headers=wrong)).status == 403
        missing = {"Content-Type": "application/json"}
        assert (await hooks.http.post(url, data=connected, headers=missing)).status == 403
        assert hooks.hub.seq == 0
        assert hooks.hub.stats()["hooks"]["unauthorized"] == 2


async def test_chats_and_other_detail_types_are_202_and_counted() -> None:
    event = json.loads(amazon_samples()[0])
    async with hooks_hub() as hooks:
        url = hooks.url(AMAZON_PATH)
        chat = event | {"channel": "CHAT"}
        other = {"detail-type": "EC2 Instance State-change Notification", "detail": {}}
        for body in (chat, other):
            response = await hooks.http.post(url, json=body, headers=HEADERS)
            assert response.status == 202
        missing = {k: v for k, v in event.items() if k != "contactId"}
        response = await hooks.http.post(url, json=missing, headers=HEADERS)
        assert response.status == 400 and "contactId" in (await response.json())["error"]
        assert hooks.hub.stats()["hooks"]["not_shown"] == 2
        assert hooks.hub.seq == 0
