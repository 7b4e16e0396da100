"""Figures 16 and 17 (bench/nats_join.py, bench/nats_fanout.py): NATS at scale (issue 21).

Smoke runs against a real nats-server from the venv; what is checked is what the
figures rely on (the day rebuilt from the stream is the journal's, every viewer got
every event), never a time.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.cli_support import ROOT, BenchSmoke


@pytest.mark.slow
def test_smoke_run_of_the_nats_join_figure_rebuilds_the_day_from_the_stream(
    bench_smoke: BenchSmoke,
) -> None:
    figure = bench_smoke("natsjoin")
    # Its one goal: no checkpoint save failed while the hub rebuilt the day.
    assert figure["status"] == "met", figure.get("note")
    details = figure["details"]
    # Every event of the day went into the stream once and was applied on rebuild.
    assert details["stream_messages"] == details["events"] == details["hub_events"] == 20_000
    assert details["rebuild_whole_read"] == 20_000
    assert details["rebuild_checkpoint_read"] < 20_000
    assert details["same_day"] == {"whole": True, "checkpoint": True}
    # Checkpoints saved while rebuilding (one due at 10,000 messages), none failed.
    saves = details["rebuild_whole_saves"]
    assert saves["saved"] >= 1 and saves["failed"] == 0, details["rebuild_whole_save_failure"]
    whole, checkpoint, rebuild, failed_saves, fill = figure["measures"]
    assert failed_saves["value"] == 0 and failed_saves["met"] is True
    for join in (whole, checkpoint):
        assert join["value"] > 0 and join["baseline"] == details["journal_join_s"] * 1000
    assert rebuild["value"] > 0 and rebuild["baseline"] > 0 and fill["value"] > 0


@pytest.mark.slow
def test_smoke_run_of_the_nats_fanout_figure_delivers_every_event_to_every_viewer(
    bench_smoke: BenchSmoke,
) -> None:
    figure = bench_smoke("natsfanout")
    assert figure["status"] == "reported" and not figure["note"]
    runs = figure["details"]["runs"]
    assert [run["hubs"] for run in runs] == [1, 4]
    for run in runs:
        assert run["viewers"] == 12 and run["events"] == 40
        assert run["missing"] == 0 and run["refused"] == 0 and run["timed_out"] == 0, run
        assert len(run["hub_cpu_shares"]) == run["hubs"]
    assert len(figure["measures"]) == 4


def _open_files_for(soft: int, hard: int, viewers: int) -> str:
    """`open_files_for(viewers)` in a child process whose limits start at (soft, hard)."""
    code = (
        "import resource\n"
        "from bench.nats_fanout import open_files_for\n"
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard}))\n"
        f"print(open_files_for({viewers}), resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_the_fanout_figure_raises_the_open_files_limit_or_says_how_many_viewers_fit() -> None:
    assert _open_files_for(300, 2_000, 1_000) == "(1000, None) 1256"
    assert _open_files_for(300, 500, 1_000) == (
        "(244, 'open files limited to 500 (hard limit): 244 viewers, not 1000') 500"
    )
