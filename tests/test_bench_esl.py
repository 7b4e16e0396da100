"""Figure 8 (FreeSWITCH ESL ingest) runs in smoke size and measures what it says.

`python -m bench --smoke --only esl` as a user runs it: the text built from the
documentation's events must read without a problem, about one schema event per ESL
event (a join gives call.started and queue.entered, a members-count nothing).
"""

from __future__ import annotations

from tests.cli_support import BenchSmoke


def test_the_esl_figure_reads_the_documented_events_without_a_problem(
    bench_smoke: BenchSmoke,
) -> None:
    figure = bench_smoke("esl")
    assert figure["key"] == "esl" and figure["status"] == "reported"
    details = figure["details"]
    assert details["problems"] == 0
    assert details["blocks"] == 2 * details["esl_events"]  # each frame: a header and a body
    # A join gives two (call.started, queue.entered), members-count none.
    assert details["esl_events"] / 2 < details["schema_events"] < 2 * details["esl_events"]
    (measure,) = figure["measures"]
    assert measure["value"] > 0 and measure["baseline"] > 0
    assert figure["title"] == "10. FreeSWITCH ESL ingest"
