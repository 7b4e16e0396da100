"""Figure 8 (FreeSWITCH ESL ingest) runs in smoke size and measures what it says.

`python -m bench --smoke --only esl` as a user runs it: the text built from the
documentation's events must read without a problem, about one schema event per ESL
event (a join gives call.started and queue.entered, a members-count nothing).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli_support import ROOT


def test_the_esl_figure_reads_the_documented_events_without_a_problem(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--only", "esl", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (figure,) = json.loads(out.read_text())["figures"]
    assert figure["key"] == "esl" and figure["status"] == "reported"
    details = figure["details"]
    assert details["problems"] == 0
    assert details["blocks"] == 2 * details["esl_events"]  # each frame: a header and a body
    # A join gives two (call.started, queue.entered), members-count none.
    assert details["esl_events"] / 2 < details["schema_events"] < 2 * details["esl_events"]
    (measure,) = figure["measures"]
    assert measure["value"] > 0 and measure["baseline"] > 0
    assert "8. FreeSWITCH ESL ingest" in done.stdout
