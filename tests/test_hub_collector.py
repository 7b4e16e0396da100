"""`callboard serve` paces the garbage collector (`monitor.feed.collector`), and says so.

At CPython's default pace (700) the collector took a fifth to a quarter of a fresh
hub's CPU per published event (bench/README.md, figure 9); serve sets its threshold to
`YOUNG_THRESHOLD` and /health shows the thresholds and each generation's runs.
"""

from __future__ import annotations

import gc
import json
import urllib.request
from typing import Any

import pytest

from monitor.feed.collector import YOUNG_THRESHOLD
from monitor.feed.hub import HubConfig, running_hub
from tests.hub_support import DEADLINE, StartServe, get_health, make_calls


def test_serve_collects_the_young_generation_less_often(serve: StartServe) -> None:
    hub = serve(["--port", "0"])
    url = hub.url.replace("ws://", "http://").replace("/events", "/health")
    with urllib.request.urlopen(url, timeout=DEADLINE) as answer:
        health: dict[str, Any] = json.loads(answer.read())
    threshold = health["collector"]["threshold"]
    assert threshold[0] == YOUNG_THRESHOLD != gc.get_threshold()[0]
    # The older generations keep CPython's pace (ten runs of the one below).
    assert threshold[1:] == list(gc.get_threshold()[1:])
    assert len(health["collector"]["collections"]) == len(gc.get_stats())


@pytest.mark.asyncio
async def test_an_in_process_hub_leaves_the_collector_alone() -> None:
    # Only `serve` paces it: a hub run in-process (the board's demo, tests) does not
    # change the collector of the program that runs it.
    before = gc.get_threshold()
    async with running_hub(HubConfig(port=0)) as hub:
        for event in make_calls(20):
            assert hub.publish(event).accepted
        health = await get_health(hub.base_url)
    assert gc.get_threshold() == before
    assert health["collector"]["threshold"] == list(before)
    assert health["seq"] == 100
