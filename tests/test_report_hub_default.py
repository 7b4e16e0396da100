"""`callboard report URL` on a hub whose source never finishes reports what the hub holds
on joining and exits, saying why it did not wait: a real `callboard serve` restarted on
its journal (no source of its own), and one running the simulator (a live source).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli_support import callboard
from tests.hub_support import ServeProcess, replayed_journal, rule_fixture_log


@pytest.mark.slow
def test_report_of_a_hub_restarted_on_its_journal_ends_without_so_far(tmp_path: Path) -> None:
    log = rule_fixture_log(tmp_path)
    from_file = callboard("report", str(log), "--format", "json")
    journal = str(replayed_journal(log, tmp_path / "hub.journal"))
    hub = ServeProcess(["--port", "0", "--journal", journal])
    try:
        # No --so-far: the hub has no source to finish; the report must not wait for one.
        done = callboard("report", hub.url, "--format", "json", timeout=60)
    finally:
        assert hub.terminate() == 0
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(from_file.stdout)
    assert (
        "reporting the hub's day up to seq 168, where it was on joining (the hub has no "
        "source of its own that finishes" in done.stderr
    )
    assert "caught up with seq 168" in done.stderr


@pytest.mark.slow
def test_report_of_a_simulating_hub_ends_at_the_seq_it_joined_at() -> None:
    hub = ServeProcess(["--simulate", "--preset", "demo", "--speed", "20", "--port", "0"])
    try:
        done = callboard("report", hub.url, "--format", "json", timeout=60)
    finally:
        assert hub.terminate() == 0
    assert done.returncode == 0, done.stderr
    joined = re.search(r"day up to seq (\d+), where it was on joining", done.stderr)
    assert joined is not None, done.stderr
    assert "(its source simulator demo seed 1 is live and never finishes)" in done.stderr
    seq = joined.group(1)
    assert seq == "0" or f"caught up with seq {seq}" in done.stderr
    assert "totals" in json.loads(done.stdout)
