"""Shared by the rule tests: run a fixture log through the real tracker."""

from __future__ import annotations

import json
from pathlib import Path

from classifier.tracker import CallTracker, Result
from classifier.verdict import Verdict
from monitor.sources.reader import LineError, read_events
from tests.cli_support import ROOT

RULES_DIR = ROOT / "fixtures" / "rules"


def verdicts_of(path: Path) -> dict[str, Verdict]:
    """Every verdict of a log, by call id; the log must be clean."""
    tracker = CallTracker()
    verdicts: dict[str, Verdict] = {}
    for item in read_events(path):
        assert not isinstance(item, LineError), str(item)
        applied = tracker.apply(item.event)
        assert applied.result is Result.APPLIED, applied.problem
        if applied.verdict is not None:
            verdicts[applied.verdict.call_id] = applied.verdict
    assert len(tracker) == 0, "fixture leaves calls open"
    return verdicts


def expected_of(path: Path) -> list[dict[str, str]]:
    """The expected verdicts written beside a fixture log."""
    expected = path.with_name(path.name.replace(".jsonl", ".expected.jsonl"))
    return [json.loads(line) for line in expected.read_text().splitlines() if line.strip()]
