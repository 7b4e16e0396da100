"""Figure 12 (a board joins the hub's day) in its smoke run: the join, the snapshot's
size and, since issue 15's last point, the hub's longest loop stall during the join
against the stall while it only publishes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.mark.slow
def test_figure_12_reports_the_hubs_loop_stall_during_a_join(
    bench_smoke: Callable[[str], dict[str, Any]],
) -> None:
    figure = bench_smoke("join")
    details = figure["details"]
    assert details["same_day"] is True
    for stall in (details["stall_joining"], details["stall_publishing"]):
        assert stall["wall_ms"] > 0 and stall["cpu_ms"] >= 0
    (stall,) = [m for m in figure["measures"] if m["name"].startswith("longest hub loop stall")]
    assert stall["value"] == details["stall_joining"]["wall_ms"]
    assert stall["baseline"] == details["stall_publishing"]["wall_ms"]
    assert stall["unit"] == "ms" and stall["ratio"] is not None
