"""The simulated day in fixtures/sim/: regenerable, complete, and classified as the simulator meant.

`truth` on each `call.ended` is the simulator's own account of the call, computed from
what it decided (monitor/sim/truth.py), never from the classifier; here the real
`callboard classify` runs on the real file and must agree on every call.
"""

from __future__ import annotations

import gzip
import json
import shlex
from collections import Counter
from pathlib import Path

import pytest

from classifier.rules import ALL_REASONS
from classifier.verdict import Outcome
from tests.cli_support import ROOT, callboard
from tests.sim_support import IMPOSSIBLE

DAY = ROOT / "fixtures" / "sim" / "day.jsonl.gz"


def readme_command() -> list[str]:
    """The regeneration command exactly as fixtures/README.md gives it."""
    text = (ROOT / "fixtures" / "README.md").read_text()
    commands = [line for line in text.splitlines() if line.startswith("callboard simulate ")]
    assert len(commands) == 1, commands
    return shlex.split(commands[0])[1:]


@pytest.fixture(scope="module")
def truths() -> dict[str, str]:
    found: dict[str, str] = {}
    with gzip.open(DAY, "rt", encoding="utf-8") as lines:
        for line in lines:
            event = json.loads(line)
            if event["type"] == "call.ended":
                assert event["call_id"] not in found
                found[event["call_id"]] = event["truth"]
    return found


@pytest.mark.slow
def test_fixture_is_exactly_what_the_readme_command_makes(tmp_path: Path) -> None:
    args = readme_command()
    target = args.index("-o") + 1
    assert args[target] == "fixtures/sim/day.jsonl.gz"
    args[target] = str(tmp_path / "day.jsonl.gz")
    done = callboard(*args, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert (tmp_path / "day.jsonl.gz").read_bytes() == DAY.read_bytes(), (
        "the simulator changed: regenerate the fixture with the command in fixtures/README.md"
    )


def test_fixture_is_a_mid_size_day_and_modest_in_size(truths: dict[str, str]) -> None:
    assert 9_000 <= len(truths) <= 11_000
    assert DAY.stat().st_size < 3_000_000


@pytest.mark.slow
def test_classify_agrees_with_the_simulators_truth_on_every_call(truths: dict[str, str]) -> None:
    done = callboard("classify", str(DAY.relative_to(ROOT)), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    verdicts = {
        r["call_id"]: f"{r['outcome']}/{r['reason']}"
        for r in map(json.loads, done.stdout.splitlines())
    }
    assert verdicts.keys() == truths.keys()
    wrong = {k: (truths[k], verdicts[k]) for k in truths if verdicts[k] != truths[k]}
    assert not wrong, f"{len(wrong)} calls disagree (truth, classify): {list(wrong.items())[:10]}"


def test_every_outcome_and_every_possible_reason_appears(truths: dict[str, str]) -> None:
    counts = Counter(truths.values())
    outcomes = {t.split("/")[0] for t in counts}
    reasons = {t.split("/")[1] for t in counts}
    assert outcomes == {o.value for o in Outcome}
    assert set(IMPOSSIBLE) <= set(ALL_REASONS), "an excluded code is no longer a reason code"
    assert reasons == set(ALL_REASONS) - set(IMPOSSIBLE), sorted(
        set(ALL_REASONS) - set(IMPOSSIBLE) - reasons
    )
    for truth in counts:
        outcome, reason = truth.split("/")
        assert ALL_REASONS[reason].value == outcome, truth


def test_the_day_shows_every_kind_of_agent_presence() -> None:
    statuses: Counter[str] = Counter()
    reasons: set[str] = set()
    with gzip.open(DAY, "rt", encoding="utf-8") as lines:
        for line in lines:
            event = json.loads(line)
            if event["type"] == "agent.status":
                statuses[event["status"]] += 1
                reasons.add(event.get("reason", ""))
    assert set(statuses) == {"available", "busy", "wrap_up", "paused", "offline"}
    assert {"login", "logout", "break", "lunch", "outbound"} <= reasons
