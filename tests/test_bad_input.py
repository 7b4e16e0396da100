"""Reliability: `callboard classify` on logs with bad input mixed in (fixtures/bad/).

Each log has an `.expected.json` beside it, written from what was damaged (by hand,
or by `make_mixed.py` for the simulated one): which lines must be rejected and why,
which are duplicates, which earn a warning, and the verdict every call must still get.
The real command runs on the real file; every bad line must be reported as
PATH:LINE with a reason, and nothing else may be.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from tests.cli_support import ROOT, callboard

BAD = ROOT / "fixtures" / "bad"
LOGS = sorted(p for p in BAD.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))


def _expected(log: Path) -> dict[str, object]:
    stem = log.name.removesuffix(".gz").removesuffix(".jsonl")
    return json.loads((BAD / f"{stem}.expected.json").read_text())


def _reports(stderr: str, shown: str) -> dict[int, str]:
    """PATH:LINE: message lines of classify's stderr, by line number."""
    found: dict[int, str] = {}
    for match in re.finditer(rf"^{re.escape(shown)}:(\d+): (.*)$", stderr, re.MULTILINE):
        found[int(match.group(1))] = match.group(2)
    return found


def test_every_bad_log_has_expectations() -> None:
    assert len(LOGS) >= 7
    for log in LOGS:
        expected = _expected(log)
        assert expected["verdicts"], f"{log.name}: expects no verdicts"


@pytest.mark.parametrize("log", LOGS, ids=lambda p: p.name)
def test_classify_reports_each_bad_line_and_classifies_the_rest(log: Path) -> None:
    expected = _expected(log)
    shown = str(log.relative_to(ROOT))
    done = callboard("classify", shown)
    assert done.returncode == expected["exit"], done.stderr

    reports = _reports(done.stderr, shown)
    rejected = {int(k): v for k, v in expected["rejected"].items()}  # type: ignore[attr-defined]
    duplicates = set(expected["duplicates"])  # type: ignore[call-overload]
    warnings = {int(k): v for k, v in expected["warnings"].items()}  # type: ignore[attr-defined]
    assert set(reports) == set(rejected) | duplicates | set(warnings), done.stderr
    for line, says in rejected.items():
        assert says in reports[line], f"line {line}: {reports[line]!r} lacks {says!r}"
        assert not reports[line].startswith("warning"), reports[line]
    for line in duplicates:
        assert reports[line] == "duplicate event ignored"
    for line, says in warnings.items():
        assert reports[line].startswith("warning: ") and says in reports[line], reports[line]

    records = [json.loads(line) for line in done.stdout.splitlines()]
    got = {r["call_id"]: f"{r['outcome']}/{r['reason']}" for r in records}
    assert got == expected["verdicts"]
    # The closing summary counts what was reported.
    assert re.search(rf"lines rejected\D*{len(rejected)}\b", done.stderr), done.stderr


def test_hostile_strings_reach_the_output_as_data_not_terminal_codes() -> None:
    done = callboard("classify", str((BAD / "hostile.jsonl").relative_to(ROOT)))
    record = next(json.loads(x) for x in done.stdout.splitlines() if '"ho-1"' in x)
    assert record["queue"] == "[link=http://evil.example]sales[/link]"
    # JSON output escapes control characters: no raw escape reaches stdout.
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout


def test_the_simulated_bad_log_is_what_its_script_makes() -> None:
    spec = importlib.util.spec_from_file_location("make_mixed", BAD / "make_mixed.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    data, expected = script.build()
    assert (BAD / "mixed.jsonl.gz").read_bytes() == data, "run python fixtures/bad/make_mixed.py"
    assert _expected(BAD / "mixed.jsonl.gz") == json.loads(json.dumps(expected))
