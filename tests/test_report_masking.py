"""`callboard report --mask-numbers`: agent ids and numbers in the queue and agent
columns masked as the board masks them, in table, csv and json; the figures unchanged.

Through the real CLI (the masked report of the real record in a subprocess, the rest
through its entry point in this process). Exotel's published Call Details sample (its agent
is the number it dialled, its `From`) is the real record; its publisher already hid
the middle digits of its numbers as `XXXXX` (`0XXXXX30240`, left with too few digits
to be a phone number), so they are filled here with digits of the same shape before
it is read. The queue column is checked on a callboard log whose queue is named by
the centre's phone number, as some centres name theirs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from monitor.text.masking import mask_number
from tests.cli_support import SHARED, callboard

REAL_SAMPLE = SHARED / "realdata" / "exotel" / "call_details_v1_sample.json"
#: The sample's agent (its `From`) once its hidden digits are filled.
AGENT = "09876530240"
#: A queue named by the number callers dial, and its agent, also a number.
QUEUE = "+442079460555"
QUEUE_AGENT = "+447700900123"


def real_sample(tmp_path: Path) -> Path:
    """Exotel's sample with `XXXXX` (the publisher's hidden digits) filled: a number again."""
    text = REAL_SAMPLE.read_text(encoding="utf-8")
    assert "0XXXXX30240" in text  # its From: the agent the report names
    path = tmp_path / "call_details.json"
    path.write_text(text.replace("XXXXX", "98765"), encoding="utf-8")
    return path


def queue_log(tmp_path: Path) -> Path:
    events = [
        {"type": "call.started", "call_id": "q1", "ts": "2026-11-23T10:00:00+00:00"},
        {"type": "queue.entered", "call_id": "q1", "ts": "2026-11-23T10:00:01+00:00"},
        {"type": "agent.answered", "call_id": "q1", "ts": "2026-11-23T10:00:09+00:00"},
        {"type": "call.ended", "call_id": "q1", "ts": "2026-11-23T10:02:00+00:00", "by": "caller"},
    ]
    events[0]["from"] = "+14155550101"
    events[1]["queue"] = QUEUE
    events[2]["agent"] = QUEUE_AGENT
    path = tmp_path / "queue.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def report(*args: str) -> str:
    """`callboard report ARGS`'s stdout, from the real command in a subprocess."""
    done = callboard("report", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def report_here(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """As `report`, through the real entry point in this process (no start-up cost)."""
    capsys.readouterr()
    assert main(["report", *args]) == 0
    return capsys.readouterr().out


def shown(output: str, fmt: str) -> Any:
    """What a report says: its lines (csv's end in CRLF, which a subprocess's text mode
    turns into LF), cell by cell for the table (masking widens its columns)."""
    if fmt != "table":
        return output.splitlines()
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in output.splitlines()
        if line.startswith("│")
    ]


def masked_json(data: Any, numbers: tuple[str, ...]) -> Any:
    """`data` with every string that is one of `numbers` masked: what --mask-numbers gives."""
    if isinstance(data, dict):
        return {key: masked_json(value, numbers) for key, value in data.items()}
    if isinstance(data, list):
        return [masked_json(value, numbers) for value in data]
    return mask_number(data) if data in numbers else data


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_exotels_agents_are_masked_in_the_agents_report(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = str(real_sample(tmp_path))
    plain = report_here(capsys, "--agents", "--format", fmt, log)
    hidden = report("--agents", "--format", fmt, "--mask-numbers", log)
    assert AGENT in plain
    assert AGENT not in hidden and mask_number(AGENT) in hidden
    assert mask_number(AGENT) == "098 •••• ••40"
    # Only the agent changes: every figure is as without the option.
    assert shown(hidden, fmt) == shown(plain.replace(AGENT, mask_number(AGENT)), fmt)
    if fmt == "json":
        assert json.loads(hidden) == masked_json(json.loads(plain), (AGENT,))
        assert {row["agent"] for row in json.loads(hidden)["agents"]} == {mask_number(AGENT)}


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
@pytest.mark.parametrize("agents", [False, True], ids=["queues", "agents"])
def test_a_queue_or_agent_named_by_a_number_is_masked(
    fmt: str, agents: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = str(queue_log(tmp_path))
    extra = ("--agents",) if agents else ()
    number = QUEUE_AGENT if agents else QUEUE
    plain = report_here(capsys, *extra, "--format", fmt, log)
    hidden = report_here(capsys, *extra, "--format", fmt, "--mask-numbers", log)
    assert number in plain and number not in hidden and mask_number(number) in hidden
    assert shown(hidden, fmt) == shown(plain.replace(number, mask_number(number)), fmt)
    if fmt == "csv":
        # The column itself, not only somewhere on the line: queue and agent are the 4th.
        column = [line.split(",")[3] for line in hidden.splitlines()[1:]]
        assert column[0] == mask_number(number) and column[-1] == ""
