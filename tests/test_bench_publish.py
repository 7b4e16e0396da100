"""Figure 9 (`bench/hub_publish.py`): Hub.publish's CPU per event beside the tracker alone."""

from __future__ import annotations

import pytest

from bench.hub_publish import exotel_deliveries
from monitor.feed.hub import HubConfig, running_hub
from tests.cli_support import BenchSmoke


@pytest.mark.slow
def test_smoke_run_of_the_publish_figure(bench_smoke: BenchSmoke) -> None:
    # A hub that refused one of the events fails the figure (the run exits 1).
    figure = bench_smoke("publish")
    assert figure["key"] == "publish" and figure["status"] == "reported"
    simulated, simulated_unpaced, exotel, exotel_unpaced = figure["measures"]
    for measure in (simulated, exotel):
        assert measure["value"] > 0 and measure["baseline"] > 0
        assert measure["ratio"] == pytest.approx(measure["value"] / measure["baseline"], rel=0.01)
    assert simulated_unpaced["baseline"] == simulated["value"] > 0
    assert exotel_unpaced["baseline"] == exotel["value"] > 0
    details = figure["details"]
    assert details["collector threshold"][0] > details["default collector threshold"][0]
    assert details["simulated event"]["events"] == 5_000


@pytest.mark.asyncio
async def test_the_exotel_load_is_what_the_receiver_maps_and_the_hub_takes() -> None:
    # Each Passthru delivery of the flood is a finished busy call: two events, under
    # the receiver's prefix, every one of them accepted by a hub.
    events = exotel_deliveries(50)
    assert [e.type for e in events[:2]] == ["call.started", "call.ended"]
    assert len(events) == 100 and len({e.call_id for e in events}) == 50
    assert all(e.call_id.startswith("exotel:") for e in events)
    async with running_hub(HubConfig(port=0)) as hub:
        assert all(hub.publish(event).accepted for event in events)
        # Each call finished and counted on the day.
        assert sum(hub.day.panel_counts.values()) == 50 and len(hub.tracker) == 0
