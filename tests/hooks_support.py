"""Shared helpers for the webhook receiver tests: a real hub and receiver on loopback.

Deliveries are real HTTP requests (aiohttp's client) to a real `HookReceiver`
feeding a real `Hub`; what reaches the board is read by a real subscriber
(`hub_support.Follower`). Twilio signatures are made by the `twilio` library
itself, with a test token; Amazon's samples are read from the documentation page
stored in ../shared/realdata.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from twilio.request_validator import RequestValidator

from monitor.feed.client import FeedClient
from monitor.feed.hub import Hub, HubConfig, running_hub
from monitor.hooks.config import HooksConfig
from monitor.hooks.server import HookReceiver, running_receiver
from tests.cli_support import SHARED
from tests.hub_support import Follower, wait_for

KEY = "test-hooks-key"
TWILIO_TOKEN = "12345678901234567890123456789012"
AMAZON_SECRET = "test-amazon-secret"

AMAZON_DOC = SHARED / "realdata" / "amazon-connect" / "awsdocs-contact-events.md"
EXOTEL_SAMPLE = SHARED / "realdata" / "exotel" / "call_details_v1_sample.json"


@dataclass
class Hooks:
    """A running hub, its receiver, a subscriber and an HTTP client."""

    hub: Hub
    receiver: HookReceiver
    follower: Follower
    http: aiohttp.ClientSession

    def url(self, path: str, key: str | None = KEY) -> str:
        return f"{self.receiver.base_url}{path}" + (f"?key={key}" if key is not None else "")

    async def settled(self) -> None:
        """Every answered delivery applied and every accepted event received by the follower."""
        await wait_for(
            lambda: (
                self.receiver.pending == 0
                and (self.follower.seqs[-1] if self.follower.seqs else 0) == self.hub.seq
            ),
            "the deliveries to reach the subscriber",
        )

    def verdicts(self, prefix: str) -> dict[str, tuple[str, str]]:
        """call id without `prefix` -> (outcome, reason), as the subscriber classified them."""
        return {
            v["call_id"].removeprefix(prefix): (v["outcome"], v["reason"])
            for v in self.follower.verdicts
        }


@asynccontextmanager
async def hooks_hub(hub_config: HubConfig | None = None, **config: Any) -> AsyncIterator[Hooks]:
    """A hub on loopback (`hub_config`, default on a free port) with a receiver (key, Twilio
    token, Amazon secret set) and a subscriber."""
    settings: dict[str, Any] = {
        "port": 0,
        "key": KEY,
        "twilio_token": TWILIO_TOKEN,
        "amazon_secret": AMAZON_SECRET,
    } | config
    async with (
        running_hub(hub_config or HubConfig(port=0)) as hub,
        running_receiver(hub, HooksConfig(**settings)) as receiver,
        aiohttp.ClientSession() as http,
    ):
        follower = Follower(FeedClient(hub.url, max_attempts=3))
        await wait_for(lambda: hub.subscriber_count == 1, "the subscriber to join")
        try:
            yield Hooks(hub, receiver, follower, http)
        finally:
            await follower.stop()


def exotel_form(record: dict[str, Any]) -> dict[str, str]:
    """A status callback as a form: a ``Legs`` list becomes flat ``Legs[i][Field]`` keys."""
    form: dict[str, str] = {}
    for key, value in record.items():
        if key == "Legs" and isinstance(value, list):
            for i, leg in enumerate(value):
                for field, item in leg.items():
                    form[f"Legs[{i}][{field}]"] = "" if item is None else str(item)
        elif value is not None:
            form[key] = str(value)
    return form


def twilio_signature(url: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> str:
    """The X-Twilio-Signature Twilio would send: made by the twilio library itself."""
    return RequestValidator(token).compute_signature(url, params)


#: TaskRouter's Timestamp: epoch seconds, as it sends them.
T0 = 1_764_950_000

#: A voice task's attributes as ``<Enqueue>`` makes them, without the ``call_sid``.
TASK_ATTRIBUTES = {"from": "+14155550100", "to": "+14155550199", "direction": "inbound"}


def task_event(
    kind: str, task: str, at: int, attributes: dict[str, Any] | None = None, **fields: str
) -> dict[str, str]:
    """A TaskRouter event callback's form, with the parameters of the Events reference."""
    params = {
        "EventType": kind,
        "AccountSid": "AC" + "0" * 32,
        "WorkspaceSid": "WS" + "0" * 32,
        "Timestamp": str(at),
        "TaskSid": task,
        "TaskAge": str(at - T0),
        "TaskAttributes": json.dumps(TASK_ATTRIBUTES if attributes is None else attributes),
    }
    return params | fields


async def post_signed(
    hooks: Hooks, path: str, params: dict[str, str], signature: str | None = None
) -> int:
    """POST a Twilio form to the receiver, signed as Twilio signs it (or with `signature`)."""
    url = hooks.url(path)
    signature = signature or twilio_signature(url, params)
    response = await hooks.http.post(url, data=params, headers={"X-Twilio-Signature": signature})
    return response.status


def amazon_samples() -> list[str]:
    """The JSON blocks of Amazon Connect's contact events page, as published."""
    return re.findall(r"```\n(\{.*?\})\n```", AMAZON_DOC.read_text(), flags=re.S)


def without_trailing_commas(text: str) -> str:
    """The published DISCONNECTED sample has a comma before a '}' (not JSON): the fix."""
    return re.sub(r",(\s*[}\]])", r"\1", text)


def json_lines(path: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
