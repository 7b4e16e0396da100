"""`callboard report --agents`: per agent and interval, from the board's own agents' day.

The real Asterisk queue_log is checked against counts worked out independently:
classify's records (who answered each finished call, who let it ring) plus the raw
log's CONNECT and RINGNOANSWER lines of the calls still open at its end. A log
written here holds pauses with reasons across interval boundaries, whose figures
are known to the second. A real hub replaying the queue_log gives the same report
as the log.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from classifier.agents import AgentsDay
from classifier.schema import event_from_dict
from monitor.board import Board
from monitor.cli import main
from monitor.sources import iter_source
from monitor.sources.reader import LineEvent
from tests.cli_support import REAL_QUEUE_LOG, callboard
from tests.hub_support import ServeProcess

#: Who answered a finished call and who let it ring, as classify's detail says it.
ANSWERED_BY = re.compile(r"answered by (\S+?) after")
NOT_ANSWERED = re.compile(r"(\S+) \((?:no answer|rejected)\)")


def _agents_json(*args: str) -> dict[str, Any]:
    done = callboard("report", "--agents", "--format", "json", *args)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _agents_json_here(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    """As `_agents_json`, through the real entry point in this process (no start-up cost)."""
    capsys.readouterr()
    assert main(["report", "--agents", "--format", "json", *args]) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


def _by_agent(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["agent"]: row for row in report["agents"]}


def test_answered_and_missed_per_agent_equal_classify_on_the_real_queue_log() -> None:
    report = _agents_json(str(REAL_QUEUE_LOG), "--interval", "60m")
    classified = callboard("classify", str(REAL_QUEUE_LOG), "--include-open")
    assert classified.returncode == 0, classified.stderr
    records = [json.loads(line) for line in classified.stdout.splitlines()]
    answered: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    for record in records:
        if record["outcome"] is not None:
            answered.update(ANSWERED_BY.findall(record["detail"]))
            missed.update(NOT_ANSWERED.findall(record["detail"]))
    # Calls still open where the log ends have no verdict yet; their answers and
    # rings happened all the same: counted from the log's own lines.
    still_open = {r["call_id"] for r in records if r["outcome"] is None}
    assert still_open, "the log ends with calls in progress"
    for line in REAL_QUEUE_LOG.read_text().splitlines():
        fields = line.split("|")
        if fields[1] in still_open and fields[4] in ("CONNECT", "RINGNOANSWER"):
            agent = fields[3].split("/")[-1]
            (answered if fields[4] == "CONNECT" else missed)[agent] += 1
    agents = _by_agent(report)
    assert {"1109", "1126", "1127", "1141"} <= set(agents)
    assert {name: row["answered"] for name, row in agents.items()} == dict(answered)
    assert {name: row["missed"] for name, row in agents.items()} == dict(missed)
    assert report["totals"]["answered"] == sum(answered.values()) == 93
    # Each agent's interval rows add up to that agent's totals.
    for name, row in agents.items():
        mine = [r for r in report["rows"] if r["agent"] == name]
        for key in ("answered", "missed"):
            assert sum(r[key] for r in mine) == row[key], (name, key)
        assert abs(sum(r["talk_s"] for r in mine) - row["talk_s"]) < 0.5, name
        assert row["occupancy"] == round(row["talk_s"] / row["logged_in_s"], 4)


def test_the_report_is_the_board_agents_day() -> None:
    """One implementation: the totals are what the agents panel's day (`AgentsDay`)
    holds after the whole log. A board turns its agents' day with its day, as the hub
    does, so a board replaying this log of several days ends holding the last one."""
    report = _agents_json(str(REAL_QUEUE_LOG))
    day, board = AgentsDay(), Board()
    for item in iter_source(str(REAL_QUEUE_LOG), "asterisk-queue-log"):
        if isinstance(item, LineEvent):
            day.apply(item.event)
            board.apply(item.event)
    assert board.last_ts is not None
    panel = {
        agent.name: (
            agent.answered,
            agent.not_answered,
            round(agent.talk_until(board.last_ts), 1),
            round(agent.logged_in_until(board.last_ts), 1),
        )
        for agent in day
    }
    last_day = {agent.name: agent.answered for agent in board.agents}
    assert all(n <= panel[name][0] for name, n in last_day.items())
    assert sum(last_day.values()) < sum(row[0] for row in panel.values())
    rows = {
        name: (row["answered"], row["missed"], row["talk_s"], row["logged_in_s"])
        for name, row in _by_agent(report).items()
    }
    assert rows == panel


def _write(path: Path, events: list[dict[str, Any]]) -> Path:
    for event in events:
        event_from_dict(event)  # each one a valid schema event
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def _day(tmp_path: Path) -> Path:
    """Ana: logs in 09:00, lunch 09:10-09:50, a break 10:40-10:45, takes a call 10:00-10:40
    (talk from 10:05); Ben lets it ring, then logs out at 10:50."""
    t = "2026-03-02T{}:00+00:00".format
    return _write(
        tmp_path / "agents.jsonl",
        [
            {"type": "agent.status", "ts": t("09:00"), "agent": "Ana", "status": "available"},
            {"type": "agent.status", "ts": t("09:00"), "agent": "Ben", "status": "available"},
            {
                "type": "agent.status",
                "ts": t("09:10"),
                "agent": "Ana",
                "status": "paused",
                "reason": "Lunch",
            },
            {"type": "agent.status", "ts": t("09:50"), "agent": "Ana", "status": "available"},
            {"type": "call.started", "ts": t("10:00"), "call_id": "c1", "from": "+4420"},
            {"type": "queue.entered", "ts": t("10:00"), "call_id": "c1", "queue": "Sales"},
            {"type": "agent.ringing", "ts": t("10:00"), "call_id": "c1", "agent": "Ben"},
            {"type": "agent.no_answer", "ts": t("10:04"), "call_id": "c1", "agent": "Ben"},
            {"type": "agent.ringing", "ts": t("10:04"), "call_id": "c1", "agent": "Ana"},
            {"type": "agent.answered", "ts": t("10:05"), "call_id": "c1", "agent": "Ana"},
            {"type": "call.ended", "ts": t("10:40"), "call_id": "c1", "by": "caller"},
            {
                "type": "agent.status",
                "ts": t("10:40"),
                "agent": "Ana",
                "status": "paused",
                "reason": "Break",
            },
            {"type": "agent.status", "ts": t("10:45"), "agent": "Ana", "status": "available"},
            {"type": "agent.status", "ts": t("10:50"), "agent": "Ben", "status": "offline"},
            {"type": "agent.status", "ts": t("11:00"), "agent": "Ana", "status": "offline"},
        ],
    )


def test_pause_by_reason_and_talk_are_cut_at_the_interval_boundaries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _agents_json_here(capsys, str(_day(tmp_path)))
    rows = {(r["interval_start"][11:16], r["agent"]): r for r in report["rows"]}
    # Lunch 09:10-09:50 fills two half-hours: 20 min each; Ben was idle (no row).
    assert set(rows) == {
        ("09:00", "Ana"),
        ("09:30", "Ana"),
        ("10:00", "Ana"),
        ("10:00", "Ben"),
        ("10:30", "Ana"),
    }
    assert rows[("09:00", "Ana")]["pause_by_reason"] == {"Lunch": 1200.0}
    assert rows[("09:30", "Ana")]["pause_by_reason"] == {"Lunch": 1200.0}
    # The call talked 10:05-10:40: 25 min in the 10:00 row, 10 in the 10:30 one.
    assert (rows[("10:00", "Ana")]["answered"], rows[("10:00", "Ana")]["talk_s"]) == (1, 1500.0)
    assert rows[("10:30", "Ana")]["talk_s"] == 600.0
    assert rows[("10:30", "Ana")]["pause_by_reason"] == {"Break": 300.0}
    assert rows[("10:30", "Ana")]["interval_end"] == "2026-03-02T11:00+00:00"
    assert (rows[("10:00", "Ben")]["missed"], rows[("10:00", "Ben")]["answered"]) == (1, 0)
    ana = _by_agent(report)["Ana"]
    assert ana["pause_by_reason"] == {"Break": 300.0, "Lunch": 2400.0}
    assert ana["pause_s"] == 2700.0
    # Logged in 09:00-11:00, talked 35 minutes.
    assert (ana["logged_in_s"], ana["talk_s"], ana["occupancy"]) == (7200.0, 2100.0, 0.2917)
    assert _by_agent(report)["Ben"]["logged_in_s"] == 6600.0
    totals = report["totals"]
    assert (totals["agent"], totals["answered"], totals["missed"]) == (None, 1, 1)
    assert totals["pause_by_reason"] == {"Break": 300.0, "Lunch": 2400.0}
    # A quarter-hour with no event at all (09:15-09:30) still holds its lunch.
    quarters = _agents_json_here(capsys, str(_day(tmp_path)), "--interval", "15m")
    lunch = [
        (r["interval_start"][11:16], r["pause_by_reason"].get("Lunch"))
        for r in quarters["rows"]
        if r["agent"] == "Ana" and "Lunch" in r["pause_by_reason"]
    ]
    assert lunch == [("09:00", 300.0), ("09:15", 900.0), ("09:30", 900.0), ("09:45", 300.0)]
    # On a centre's clock: lunch 14:40-15:20 in India cuts at 15:00 there.
    india = _agents_json_here(
        capsys, str(_day(tmp_path)), "--interval", "60m", "--timezone", "Asia/Kolkata"
    )
    assert [
        (r["interval_start"], r["pause_by_reason"]["Lunch"])
        for r in india["rows"]
        if "Lunch" in r["pause_by_reason"]
    ] == [("2026-03-02T14:00+05:30", 1200.0), ("2026-03-02T15:00+05:30", 1200.0)]
    assert india["timezone"] == "Asia/Kolkata"
    hourly = _agents_json_here(capsys, str(_day(tmp_path)), "--interval", "60m")
    assert [r["pause_by_reason"] for r in hourly["rows"] if r["agent"] == "Ana"] == [
        {"Lunch": 2400.0},
        {"Break": 300.0},
    ]


def test_csv_and_table_carry_the_same_figures(tmp_path: Path) -> None:
    log = str(_day(tmp_path))
    done = callboard("report", "--agents", log, "--format", "csv")
    assert done.returncode == 0, done.stderr
    lines = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [line["scope"] for line in lines] == ["interval"] * 5 + ["agent"] * 2 + ["total"]
    ana = next(line for line in lines if line["scope"] == "agent" and line["agent"] == "Ana")
    assert json.loads(ana["pause_by_reason"]) == {"Break": 300.0, "Lunch": 2400.0}
    assert ana["occupancy"] == "0.2917"
    ben_idle = next(line for line in lines if line["scope"] == "agent" and line["agent"] == "Ben")
    assert ben_idle["pause_by_reason"] == "{}" and ben_idle["talk_s"] == "0.0"
    assert ben_idle["pause_s"] == "0.0"  # seconds, as every other: never an integer 0
    table = callboard("report", "--agents", log)
    assert table.returncode == 0, table.stderr
    ana_total = next(
        line for line in table.stdout.splitlines() if "total" in line and " Ana " in line
    )
    assert "Break 5:00, Lunch 40:00" in ana_total
    assert "2:00:00" in ana_total and "29%" in ana_total  # logged in, occupancy


def test_agent_names_are_shown_not_obeyed(tmp_path: Path) -> None:
    name = "[bold red]Eve[/] \x1b[2J" + "x" * 230
    log = _write(
        tmp_path / "hostile.jsonl",
        [
            {
                "type": "agent.status",
                "ts": "2026-03-02T09:00:00Z",
                "agent": name,
                "status": "paused",
                "reason": "[blink]tea\x07",
            },
            {
                "type": "agent.status",
                "ts": "2026-03-02T09:10:00Z",
                "agent": name,
                "status": "available",
            },
        ],
    )
    table = callboard("report", "--agents", str(log))
    assert table.returncode == 0, table.stderr
    assert "\x1b" not in table.stdout and "\x07" not in table.stdout
    assert "[bold red]Eve[/]" in table.stdout and "[blink]tea" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 200


def test_a_hub_gives_the_agents_report_of_its_log() -> None:
    from_log = _agents_json(str(REAL_QUEUE_LOG))
    hub = ServeProcess([str(REAL_QUEUE_LOG), "--port", "0", "--speed", "0"])
    try:
        from_hub = _agents_json(hub.url, "--since", "0")
    finally:
        assert hub.terminate() == 0
    assert from_hub == from_log
    assert from_hub["totals"]["answered"] == 93
