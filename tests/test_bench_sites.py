"""Figure 18 (`bench/sites_rebuild.py`): the agents a board of two sites hands itself."""

from __future__ import annotations

import pytest

from tests.cli_support import BenchSmoke


@pytest.mark.slow
def test_smoke_run_of_the_sites_agents_figure(bench_smoke: BenchSmoke) -> None:
    # A merged day without both sites' agents fails the figure (the run exits 1).
    figure = bench_smoke("sitesagents")
    assert figure["key"] == "sitesagents" and figure["status"] == "reported"
    merged, every_line = figure["measures"]
    assert merged["value"] > 0 and merged["baseline"] > 0
    assert merged["ratio"] == pytest.approx(merged["value"] / merged["baseline"], rel=0.01)
    assert every_line["baseline"] == merged["value"]
    details = figure["details"]
    assert details["agents"] > 0 and details["story lines held"] > details["agents"]
