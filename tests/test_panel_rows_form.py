"""The panels' finished calls in a snapshot's compact form (classifier/panel_rows_form.py).

Lossless: every rule fixture, the KPI day, a simulated day and the real Asterisk
queue_log are classified by a real board, and their day's rows, through the form as
JSON text and back, are the rows `DayState.to_dict()` wrote, and the day read from
it is the same day. Times the form cannot rebuild exactly travel as they were.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from classifier.day import DayState
from classifier.panel_rows_form import FORM, from_snapshot, is_snapshot_form, to_snapshot
from monitor.board import Board
from monitor.sim.config import SimConfig
from monitor.sim.model import simulate
from monitor.sources import iter_source
from monitor.sources.reader import LineEvent
from tests.cli_support import REAL_QUEUE_LOG, ROOT

RULES = sorted(
    p for p in (ROOT / "fixtures" / "rules").glob("*.jsonl") if ".expected" not in p.name
)


def day_of(path: Path | None, fmt: str = "callboard") -> dict[str, Any]:
    """The day a board holds after the log at `path` (None: a simulated hour)."""
    board = Board()
    if path is None:
        for event in simulate(SimConfig(hours=1.0, seed=11)):
            board.apply(event)
    else:
        for item in iter_source(str(path), fmt):
            if isinstance(item, LineEvent):
                board.apply(item.event)
    return board.day.to_dict()


def through(recent: dict[str, Any]) -> dict[str, Any]:
    return from_snapshot(json.loads(json.dumps(to_snapshot(recent))))


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        *[(p, "callboard") for p in RULES],
        (ROOT / "fixtures" / "kpi" / "day.jsonl", "callboard"),
        (None, "sim"),
        (REAL_QUEUE_LOG, "asterisk-queue-log"),
    ],
    ids=[*[p.stem for p in RULES], "kpi day", "simulated hour", "real queue_log"],
)
def test_the_rows_come_back_as_to_dict_wrote_them(path: Path | None, fmt: str) -> None:
    day = day_of(path, fmt)
    assert any(day["recent"].values()), "the day has finished calls"
    assert through(day["recent"]) == day["recent"]
    carried = DayState.from_dict(
        day | {"recent": json.loads(json.dumps(to_snapshot(day["recent"])))}
    )
    assert carried.to_dict() == day


def test_the_form_is_shorter_and_keeps_only_what_differs() -> None:
    recent = day_of(None)["recent"]
    form = to_snapshot(recent)
    assert is_snapshot_form(form) and not is_snapshot_form(recent)
    assert len(json.dumps(form)) < 0.7 * len(json.dumps(recent))
    for outcome, rows in form["rows"].items():
        for row in rows:
            assert "o" not in row and "outcome" not in row and "flags" not in row, outcome
            assert isinstance(row["t"], float) and isinstance(row["end"], float)


def test_times_it_cannot_rebuild_travel_as_they_were() -> None:
    recent = day_of(None)["recent"]
    rows = recent["completed"]
    first, second, third = rows[0], rows[1], rows[2]
    # Another offset, another spelling (Z), a start that is no time, and a row with
    # no outcome shown among the missed.
    # (The first time that is one, the Z, is t0: a Z is rebuilt as +00:00, so it
    # travels as it was, and the +05:30 is not t0's offset.)
    first["started_at"] = "soon"
    second["started_at"] = "2025-03-03T08:00:00Z"
    second["ended_at"] = "2025-03-03T08:05:00Z"
    third["started_at"] = third["started_at"][:-6] + "+05:30"
    recent["missed"][0]["outcome"] = None
    form = to_snapshot(recent)
    assert form["t0"] == "2025-03-03T08:00:00+00:00"
    written = form["rows"]["completed"]
    assert written[0]["t"] == "soon" and isinstance(written[0]["end"], str)
    assert written[1]["t"] == "2025-03-03T08:00:00Z" and written[1]["end"] == "2025-03-03T08:05:00Z"
    assert written[2]["t"] == third["started_at"] and isinstance(written[2]["end"], str)
    assert form["rows"]["missed"][0]["o"] is None
    assert through(recent) == recent


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"form": 9, "rows": {}}, "panel rows: form 9, expected 1"),
        ("rows", "panel rows: form 'str', expected 1"),
        ({"form": FORM, "rows": []}, "rows is not an object"),
        ({"form": FORM, "rows": {"completed": {}}}, "rows.completed is not a list"),
        ({"form": FORM, "rows": {"completed": [3]}}, "rows.completed.0 is not an object"),
        (
            {"form": FORM, "rows": {"completed": [{"id": "c", "t": 5}]}},
            "rows.completed.0.t is in seconds, but there is no t0",
        ),
        (
            {
                "form": FORM,
                "t0": "9999-12-31T00:00:00+00:00",
                "rows": {"missed": [{"id": "c", "t": 1e9}]},
            },
            "rows.missed.0.t: 1e+09 s is not a date",
        ),
        ({"form": FORM, "t0": "noon", "rows": {}}, "t0 is not a time: 'noon'"),
    ],
)
def test_a_form_that_does_not_fit_is_refused_naming_where(data: object, words: str) -> None:
    with pytest.raises(ValueError, match="panel rows: ") as refused:
        from_snapshot(data)
    assert words in str(refused.value)
