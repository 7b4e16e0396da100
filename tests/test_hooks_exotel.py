"""Exotel webhooks through a real receiver and hub: the same calls as `classify` on the file.

Every status callback of fixtures/exotel (JSON, and as forms with flat
``Legs[0][Status]`` keys), a Passthru GET, and Exotel's own Call Details sample
from ../shared/realdata are delivered over HTTP; a subscriber of the hub
classifies what arrives, and its verdicts must be `callboard classify`'s on the
same records as a file.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

from monitor.hooks.server import EXOTEL_PATH, EXOTEL_PREFIX
from monitor.sources.exotel import ExotelAdapter
from tests.cli_support import ROOT, callboard
from tests.hooks_support import EXOTEL_SAMPLE, exotel_form, hooks_hub, json_lines, wait_for

CALLBACKS = ROOT / "fixtures" / "exotel" / "status_callbacks.jsonl"


def classify_verdicts(path: Path) -> dict[str, tuple[str, str]]:
    done = callboard("classify", "--from", "exotel", str(path))
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    return {r["call_id"]: (r["outcome"], r["reason"]) for r in records}


async def test_status_callbacks_as_json_and_forms_give_classify_s_verdicts() -> None:
    records = json_lines(CALLBACKS)
    expected = classify_verdicts(CALLBACKS)
    assert len(expected) == 8  # cb-two-events is one call of two callbacks
    async with hooks_hub() as hooks:
        for i, record in enumerate(records):
            url = hooks.url(EXOTEL_PATH)
            if i % 2:
                response = await hooks.http.post(url, data=exotel_form(record))
            else:
                response = await hooks.http.post(url, json=record)
            assert response.status == 200, await response.text()
        await hooks.settled()
        await wait_for(lambda: len(hooks.follower.verdicts) == len(expected), "every verdict")
        assert hooks.verdicts(EXOTEL_PREFIX) == expected
        assert all(v["call_id"].startswith("exotel:") for v in hooks.follower.verdicts)


async def test_a_passthru_get_and_its_retry_are_one_call() -> None:
    passthru = {
        "CallSid": "pt-1",
        "CallFrom": "09999000111",
        "CallTo": "08047112222",
        "Direction": "incoming",
        "Created": "2026-12-05 20:10:00",
        "CurrentTime": "2026-12-05 20:11:30",
        "DialCallStatus": "no-answer",
        "DialWhomNumber": "09888000222",
    }
    async with hooks_hub() as hooks:
        url = hooks.url(EXOTEL_PATH) + "&" + urlencode(passthru)
        for _ in range(3):  # Exotel retries a Passthru that timed out
            response = await hooks.http.get(url)
            assert response.status == 200
        await hooks.settled()
        await wait_for(lambda: len(hooks.follower.verdicts) == 1, "the verdict")
        assert hooks.verdicts(EXOTEL_PREFIX) == {"pt-1": ("missed", "agent_not_answered")}
        health = hooks.hub.stats()["hooks"]
        assert health["queued"] == 1 and health["nothing_new"] == 2
        # started, the agent rung, not answered, ended: once.
        assert hooks.hub.stats()["counters"]["accepted"] == 4
        # The number Exotel dialled is an agent of the hub's agents' day.
        agent = hooks.hub.agents.agents["09888000222"]
        assert (agent.answered, agent.not_answered) == (0, 1)


async def test_a_passthru_before_any_connect_starts_the_call(tmp_path: Path) -> None:
    early = {"CallSid": "pt-2", "From": "0999", "Direction": "incoming"}
    early["StartTime"] = "2026-12-05 20:10:00"
    async with hooks_hub() as hooks:
        response = await hooks.http.get(hooks.url(EXOTEL_PATH) + "&" + urlencode(early))
        assert response.status == 200 and (await response.json()) == {"queued": 1}
        await hooks.settled()
        assert "exotel:pt-2" in hooks.hub.tracker.calls


async def test_exotel_s_own_sample_gives_classify_s_verdict() -> None:
    expected = classify_verdicts(EXOTEL_SAMPLE)
    sample = json.loads(EXOTEL_SAMPLE.read_text())
    async with hooks_hub() as hooks:
        response = await hooks.http.post(hooks.url(EXOTEL_PATH), json=sample["Call"])
        assert response.status == 200, await response.text()
        await hooks.settled()
        await wait_for(lambda: len(hooks.follower.verdicts) == 1, "the verdict")
        assert hooks.verdicts(EXOTEL_PREFIX) == expected


def test_a_receiver_s_adapter_stays_small_whatever_the_statuses() -> None:
    adapter = ExotelAdapter(id_prefix="exotel:")
    for i in range(2_000):
        record = {
            "CallSid": f"s-{i}",
            "Direction": "inbound",
            "StartTime": "2026-12-05 20:10:00",
            "Status": f"dashboard-word-{i}",
            "Leg1Status": "completed",
            "Leg2Status": "completed",
        }
        assert [e.type for e in adapter.delivery(record)] == ["call.started", "call.ended"]
    assert len(adapter.skipped.counts) <= 1
