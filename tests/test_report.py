"""`callboard report`: the interval report, against `classify`, a hand-checked log and a hub.

Totals are checked against `classify`'s own records, counted here independently of
`classifier.report`: on every fixture, on the bad logs and on the real Asterisk
queue_log. The per-interval figures are checked against a small log worked out by
hand, including the night summer time ends in Europe/London.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import pty
import select
import signal
import struct
import subprocess
import termios
from pathlib import Path
from typing import Any

import pytest

from classifier.report import IntervalReport
from classifier.rules import classify, judge
from classifier.tracker import CallTracker, Result
from monitor.cli import main
from monitor.sources import iter_source
from monitor.sources.detect import choose_format
from monitor.sources.reader import LineError
from tests.cli_support import REAL_QUEUE_LOG, ROOT, callboard, start_callboard
from tests.hub_support import (
    ServeProcess,
    free_port,
    replayed_journal,
    rule_fixture_log,
    wait_for_sync,
)

FIXTURES = ROOT / "fixtures"


def _fixture_logs() -> list[Path]:
    """Every log under fixtures/ that classify reads (not the expected outputs)."""
    logs = []
    for path in sorted(FIXTURES.rglob("*")):
        name = path.name
        if ".expected." in name or path.parent.name == "call_details_dir":
            continue
        is_log = name.endswith((".jsonl", ".jsonl.gz", ".queue_log", "_array.json"))
        if is_log or (path.is_dir() and name == "call_details_dir"):
            logs.append(path)
    return logs


def run_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`callboard ARGS` through its real entry point in this process: status, stdout, stderr."""
    capsys.readouterr()
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def expected_totals(records: list[dict[str, Any]], threshold: float = 20.0) -> dict[str, Any]:
    """The totals row worked out from classify's records with docs/kpi.md's definitions."""
    inbound = [r for r in records if r["direction"] == "inbound"]
    outbound = [r for r in records if r["direction"] != "inbound"]
    answered = [r for r in inbound if r["outcome"] == "completed"]
    abandoned = [r for r in inbound if r["outcome"] == "abandoned"]
    short = [r for r in abandoned if r["wait_s"] < 5.0]
    base = len(inbound) - len(short)
    in_time = [r for r in answered if r["wait_s"] <= threshold]
    return {
        "offered": len(inbound),
        "answered": len(answered),
        "missed": sum(r["outcome"] == "missed" for r in inbound),
        "abandoned": len(abandoned),
        "short_abandons": len(short),
        "voicemail": sum(r["outcome"] == "voicemail" for r in inbound),
        "outbound": len(outbound),
        "not_connected": sum(r["outcome"] != "completed" for r in outbound),
        "service_level": round(len(in_time) / base, 4) if base else None,
        "abandon_rate": round((len(abandoned) - len(short)) / base, 4) if base else None,
        "asa_s": round(sum(r["wait_s"] for r in answered) / len(answered), 1) if answered else None,
        "average_talk_s": (
            round(sum(r["talk_s"] for r in answered) / len(answered), 1) if answered else None
        ),
        "longest_wait_s": round(max((r["wait_s"] for r in inbound), default=0.0), 1),
    }


COUNTS = ("offered", "answered", "missed", "abandoned", "short_abandons", "voicemail", "outbound")


def check_against_classify(report: dict[str, Any], records: list[dict[str, Any]]) -> None:
    totals = report["totals"]
    assert {k: v for k, v in totals.items() if not k.startswith("interval") and k != "queue"} == (
        expected_totals(records)
    )
    # Every finished call is in exactly one row: the rows add up to the totals.
    for name in (*COUNTS, "not_connected"):
        assert sum(row[name] for row in report["rows"]) == totals[name], name


def _fixture_params() -> list[Any]:
    """The fixture logs as parameters; the simulated day (~50,000 events) is a slow test."""
    return [
        pytest.param(
            log,
            id=str(log.relative_to(FIXTURES)),
            marks=[pytest.mark.slow] if log.parent.name == "sim" else [],
        )
        for log in _fixture_logs()
    ]


@pytest.mark.parametrize("log", _fixture_params())
def test_totals_equal_classify_on_every_fixture(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    classify_status, classified, _ = run_in_process(capsys, "classify", str(log))
    status, out, err = run_in_process(capsys, "report", str(log), "--format", "json")
    assert status == classify_status, err
    records = [json.loads(line) for line in classified.splitlines()]
    report = json.loads(out)
    check_against_classify(report, records)
    assert f"{len(records)} finished calls" in err


@pytest.mark.parametrize(
    "log",
    [
        *(p for p in _fixture_params() if not p.marks),
        pytest.param(REAL_QUEUE_LOG, id="realdata queue_log"),
    ],
)
def test_a_judgement_is_the_verdict_without_its_words(log: Path) -> None:
    """What `report` counts of each call (`judge`) is what `classify` decides of it."""
    fmt, _ = choose_format(log, None)
    tracker = CallTracker(keep_events=False, verdicts=False)
    finished = 0
    for item in iter_source(str(log), fmt):
        if isinstance(item, LineError):
            continue
        applied = tracker.apply(item.event)
        call = applied.call
        if applied.result is not Result.APPLIED or call is None or call.ended is None:
            continue
        verdict, judgement = classify(call), judge(call)
        assert verdict.outcome is not None
        assert (
            judgement.outcome,
            judgement.reason,
            judgement.direction,
            judgement.queue,
            judgement.wait_s,
            judgement.talk_s,
            judgement.ended.isoformat(),
        ) == (
            verdict.outcome,
            verdict.reason,
            verdict.direction,
            verdict.queue,
            verdict.wait_s,
            verdict.talk_s,
            verdict.ended_at,
        ), call.call_id
        finished += 1
    assert finished > 0


def test_the_fixtures_cover_every_kind_of_log() -> None:
    names = {str(p.relative_to(FIXTURES)) for p in _fixture_logs()}
    for expected in (
        "rules/rule_01_answered.jsonl",
        "board/board.jsonl",
        "sim/day.jsonl.gz",
        "bad/mixed.jsonl.gz",
        "bad/hostile.jsonl",
        "kpi/day.jsonl",
        "asterisk/new_layout.queue_log",
        "exotel/call_details_dir",
        "exotel/call_details_array.json",
    ):
        assert expected in names


def test_totals_equal_classify_on_the_real_asterisk_queue_log() -> None:
    classified = callboard("classify", str(REAL_QUEUE_LOG))
    done = callboard("report", str(REAL_QUEUE_LOG), "--format", "json", "--interval", "60m")
    assert done.returncode == classified.returncode == 0, done.stderr
    records = [json.loads(line) for line in classified.stdout.splitlines()]
    report = json.loads(done.stdout)
    assert len(records) > 100
    check_against_classify(report, records)
    assert {row["queue"] for row in report["rows"]} == {"IT"}
    assert "detected format: asterisk-queue-log" in done.stderr


def _call(
    cid: str, queue: str | None, start: str, end: str, answer: str | None = None
) -> list[dict[str, Any]]:
    """The events of one inbound call: answered at `answer`, or given up by the caller."""
    events: list[dict[str, Any]] = [
        {"type": "call.started", "call_id": cid, "ts": start, "from": "+14155550100"}
    ]
    if queue is not None:
        events.append({"type": "queue.entered", "call_id": cid, "ts": start, "queue": queue})
    if answer is not None:
        events.append({"type": "agent.ringing", "call_id": cid, "ts": start, "agent": "Ana"})
        events.append({"type": "agent.answered", "call_id": cid, "ts": answer, "agent": "Ana"})
    events.append({"type": "call.ended", "call_id": cid, "ts": end, "by": "caller"})
    return events


def _write(path: Path, calls: list[list[dict[str, Any]]]) -> Path:
    events = sorted((e for call in calls for e in call), key=lambda e: e["ts"])
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def hand_log(tmp_path: Path) -> Path:
    """Six calls on 2026-11-23 (UTC), worked out by hand in the tests below."""
    return _write(
        tmp_path / "hand.jsonl",
        [
            # sales: answered after 10 s, talked 120 s, ended 09:02:10 -> 09:00 interval
            _call(
                "a",
                "sales",
                "2026-11-23T09:00:00Z",
                "2026-11-23T09:02:10Z",
                answer="2026-11-23T09:00:10Z",
            ),
            # sales: answered after 30 s (over 20 s), talked 60 s, ended 09:20:30 -> 09:00 (30m),
            # 09:15 (15m)
            _call(
                "b",
                "sales",
                "2026-11-23T09:19:00Z",
                "2026-11-23T09:20:30Z",
                answer="2026-11-23T09:19:30Z",
            ),
            # sales: abandoned after 3 s (short), ended 09:29:03
            _call("c", "sales", "2026-11-23T09:29:00Z", "2026-11-23T09:29:03Z"),
            # sales: started in the 09:00 half hour, ended 09:31:00 after 90 s waiting:
            # abandoned, and counted in the 09:30 interval (the one it ended in)
            _call("d", "sales", "2026-11-23T09:29:30Z", "2026-11-23T09:31:00Z"),
            # support: answered after 4 s, talked 240 s, ended 10:05:04
            _call(
                "e",
                "support",
                "2026-11-23T10:01:00Z",
                "2026-11-23T10:05:04Z",
                answer="2026-11-23T10:01:04Z",
            ),
            # no queue: hung up in the IVR after 8 s, ended 10:00:08
            _call("f", None, "2026-11-23T10:00:00Z", "2026-11-23T10:00:08Z"),
        ],
    )


def _report(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    status, out, err = run_in_process(capsys, "report", *args, "--format", "json")
    assert status == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def _brief(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["interval_start"],
        row["queue"],
        row["offered"],
        row["answered"],
        row["abandoned"],
        row["short_abandons"],
        row["service_level"],
        row["abandon_rate"],
        row["asa_s"],
        row["average_talk_s"],
        row["longest_wait_s"],
    )


def test_each_call_counts_in_the_interval_it_ended_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = str(hand_log(tmp_path))
    report = _report(capsys, log)
    assert report["interval_minutes"] == 30 and report["timezone"] is None
    assert [_brief(row) for row in report["rows"]] == [
        # a (10 s, in time), b (30 s, late), c (short abandon): SL 1 / (3 - 1),
        # abandon rate (1 - 1) / 2, ASA (10 + 30) / 2, talk (120 + 60) / 2
        ("2026-11-23T09:00+00:00", "sales", 3, 2, 1, 1, 0.5, 0.0, 20.0, 90.0, 30.0),
        # d alone: abandoned after 90 s
        ("2026-11-23T09:30+00:00", "sales", 1, 0, 1, 0, 0.0, 1.0, None, None, 90.0),
        ("2026-11-23T10:00+00:00", "support", 1, 1, 0, 0, 1.0, 0.0, 4.0, 240.0, 4.0),
        # f never reached a queue: its own row, so the rows add up to the totals
        ("2026-11-23T10:00+00:00", None, 1, 0, 1, 0, 0.0, 1.0, None, None, 8.0),
    ]
    assert report["rows"][0]["interval_end"] == "2026-11-23T09:30+00:00"
    # a, b, e answered within 20 s: a and e; base 6 - 1 short abandon
    assert _brief(report["totals"]) == (None, None, 6, 3, 3, 1, 0.4, 0.4, 14.7, 140.0, 90.0)


def test_interval_lengths_and_time_zone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = str(hand_log(tmp_path))
    quarter = _report(capsys, log, "--interval", "15m")
    assert [(r["interval_start"], r["queue"], r["offered"]) for r in quarter["rows"]] == [
        ("2026-11-23T09:00+00:00", "sales", 1),
        ("2026-11-23T09:15+00:00", "sales", 2),
        ("2026-11-23T09:30+00:00", "sales", 1),
        ("2026-11-23T10:00+00:00", "support", 1),
        ("2026-11-23T10:00+00:00", None, 1),
    ]
    hour = _report(capsys, log, "--interval", "60m", "--timezone", "Asia/Kolkata")
    assert hour["timezone"] == "Asia/Kolkata"
    # 09:00 UTC is 14:30 in India: hours on India's clock split the sales calls.
    assert [
        (r["interval_start"], r["interval_end"], r["queue"], r["offered"]) for r in hour["rows"]
    ] == [
        ("2026-11-23T14:00+05:30", "2026-11-23T15:00+05:30", "sales", 3),
        ("2026-11-23T15:00+05:30", "2026-11-23T16:00+05:30", "sales", 1),
        ("2026-11-23T15:00+05:30", "2026-11-23T16:00+05:30", "support", 1),
        ("2026-11-23T15:00+05:30", "2026-11-23T16:00+05:30", None, 1),
    ]
    assert quarter["totals"] == hour["totals"]


def test_the_hour_that_happens_twice_when_summer_time_ends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 2026-10-25, Europe/London: 01:00-02:00 BST (+01:00), then 01:00-02:00 GMT again.
    log = _write(
        tmp_path / "autumn.jsonl",
        [
            _call("bst", "sales", "2026-10-25T00:10:00Z", "2026-10-25T00:10:06Z"),  # 01:10 BST
            _call("gmt", "sales", "2026-10-25T01:10:00Z", "2026-10-25T01:10:06Z"),  # 01:10 GMT
            _call("two", "sales", "2026-10-25T02:05:00Z", "2026-10-25T02:05:06Z"),  # 02:05 GMT
        ],
    )
    report = _report(capsys, str(log), "--interval", "60m", "--timezone", "Europe/London")
    assert [(r["interval_start"], r["interval_end"], r["offered"]) for r in report["rows"]] == [
        ("2026-10-25T01:00+01:00", "2026-10-25T01:00+00:00", 1),
        ("2026-10-25T01:00+00:00", "2026-10-25T02:00+00:00", 1),
        ("2026-10-25T02:00+00:00", "2026-10-25T03:00+00:00", 1),
    ]


def test_csv_has_a_header_a_line_per_row_and_a_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = str(hand_log(tmp_path))
    status, out, _ = run_in_process(capsys, "report", log, "--format", "csv")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["scope"] for r in rows] == ["interval"] * 4 + ["total"]
    assert rows[0]["interval_start"] == "2026-11-23T09:00+00:00"
    assert rows[0]["service_level"] == "0.5" and rows[0]["asa_s"] == "20.0"
    assert rows[1]["asa_s"] == ""  # undefined, not 0
    assert rows[3]["queue"] == ""
    total = rows[-1]
    assert (total["interval_start"], total["queue"], total["offered"]) == ("", "", "6")
    assert list(rows[0]) == [
        "scope",
        "interval_start",
        "interval_end",
        "queue",
        "offered",
        "answered",
        "missed",
        "abandoned",
        "short_abandons",
        "voicemail",
        "outbound",
        "not_connected",
        "service_level",
        "abandon_rate",
        "asa_s",
        "average_talk_s",
        "longest_wait_s",
    ]


def test_json_is_one_object_with_rows_and_totals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _report(
        capsys, str(hand_log(tmp_path)), "--service-level", "30", "--queue-threshold", "support=2"
    )
    assert set(report) == {
        "interval_minutes",
        "timezone",
        "service_level_s",
        "incomplete",
        "rows",
        "totals",
    }
    assert report["incomplete"] == []
    assert report["service_level_s"] == 30.0
    # b (30 s) is now in time; e (4 s) is late against support's 2 s.
    assert report["rows"][0]["service_level"] == 1.0
    assert report["rows"][2]["service_level"] == 0.0


def test_the_table_escapes_queue_names(tmp_path: Path) -> None:
    log = _write(
        tmp_path / "hostile.jsonl",
        [_call("x", "[bold red]sales\x1b[2J", "2026-11-23T09:00:00Z", "2026-11-23T09:00:30Z")],
    )
    done = callboard("report", str(log))
    assert done.returncode == 0, done.stderr
    assert "[bold red]sales" in done.stdout  # shown as text, not taken as markup
    assert "\x1b" not in done.stdout
    assert "2026-11-23 09:00–09:30" in done.stdout and "total" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--interval", "7m", "x.jsonl"], "argument --interval: invalid choice: '7m'"),
        (["--timezone", "Mars/Olympus", "x.jsonl"], "unknown time zone 'Mars/Olympus'"),
        (["--timezone", "../etc/passwd", "x.jsonl"], "unknown time zone '../etc/passwd'"),
        (["--since", "0", "{log}"], "--since is for a hub URL"),
        (["--so-far", "{log}"], "--so-far is for a hub URL"),
        (["--from", "exotel", "ws://127.0.0.1:9"], "--from is for a log"),
        (["--service-level", "0", "{log}"], "--service-level must be a positive number"),
        (["{missing}"], "missing.jsonl"),
    ],
)
def test_usage_errors_name_the_value(args: list[str], message: str, tmp_path: Path) -> None:
    log = hand_log(tmp_path)
    argv = [a.format(log=log, missing=tmp_path / "missing.jsonl") for a in args]
    done = callboard("report", *argv)
    assert done.returncode == 2
    assert done.stderr.startswith("usage: callboard report")
    assert "callboard report: error: " in done.stderr and message in done.stderr
    assert done.stdout == ""


def test_bad_lines_are_named_and_the_rest_reported(capsys: pytest.CaptureFixture[str]) -> None:
    log = FIXTURES / "bad" / "broken_json.jsonl"
    status, out, err = run_in_process(capsys, "report", str(log), "--format", "json")
    assert status == 1
    assert f"{log}:" in err  # each bad line named by file and line
    assert json.loads(out)["totals"]["offered"] > 0


def test_a_hub_url_gives_the_report_of_its_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = rule_fixture_log(tmp_path)
    _, from_file, _ = run_in_process(capsys, "report", str(log), "--format", "json")
    hub = ServeProcess([str(log), "--port", "0", "--speed", "0"])
    try:
        done = callboard("report", hub.url, "--format", "json", timeout=60)
    finally:
        assert hub.terminate() == 0
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(from_file)
    assert "source finished at seq 168" in done.stderr


@pytest.mark.slow
def test_a_hub_that_no_longer_holds_the_day_gives_a_report_that_says_so(
    tmp_path: Path,
) -> None:
    log = rule_fixture_log(tmp_path)
    # A ring of 10 events and no journal: seq 1 is long gone when the report joins.
    hub = ServeProcess([str(log), "--port", "0", "--speed", "0", "--ring", "10"])
    try:
        wait_for_sync(lambda: "finished at seq" in hub.drain(), "the end of the replay")
        done = callboard("report", hub.url, "--format", "json", timeout=60)
    finally:
        assert hub.terminate() == 0
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["incomplete"]) == 1
    assert "no longer holds every event after seq 0" in report["incomplete"][0]
    assert "misses the calls that ended before it" in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "said"), [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "stopped (SIGTERM)")]
)
def test_an_interrupted_report_of_a_live_hub_reports_what_came(
    how: signal.Signals, said: str, tmp_path: Path
) -> None:
    # A replay in real time: the report waits for its end, so it runs until interrupted.
    day = FIXTURES / "sim" / "day.jsonl.gz"
    hub = ServeProcess([str(day), "--speed", "1", "--port", "0"])
    try:
        report = start_callboard(
            "report", hub.url, "--format", "json", stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert report.stderr is not None
        line = ""
        while "hub source replay" not in line:
            line = report.stderr.readline()
            assert line, "report ended before it joined the hub"
        report.send_signal(how)
        out, err = report.communicate(timeout=60)
    finally:
        assert hub.terminate() == 0
    assert report.returncode == 0, err
    got = json.loads(out)
    assert got["incomplete"] and got["incomplete"][0].startswith(said)
    assert "before the hub's source finished" in err
    assert "Traceback" not in err


def test_a_hub_that_cannot_be_reached_gives_no_empty_report() -> None:
    url = f"ws://127.0.0.1:{free_port()}"
    done = callboard("report", url, "--max-attempts", "1", timeout=60)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "callboard report:" in done.stderr and "Traceback" not in done.stderr


HOSTILE = "Eve\x9b2J\u202e\x1b[31mred\x07"


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_on_a_terminal_queue_names_are_shown_not_obeyed(fmt: str, tmp_path: Path) -> None:
    log = _write(
        tmp_path / "hostile.jsonl",
        [_call("x", HOSTILE, "2026-11-23T09:00:00Z", "2026-11-23T09:00:30Z")],
    )
    main_fd, child_fd = pty.openpty()
    # A wide terminal, so that the table has room for the whole queue name.
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 220, 0, 0))
    try:
        proc = start_callboard(
            "report",
            str(log),
            "--format",
            fmt,
            stdout=child_fd,
            stderr=subprocess.PIPE,
            # The test process may have COLUMNS set (80); empty, rich asks the terminal.
            env=dict(os.environ, COLUMNS="", LINES=""),
        )
        os.close(child_fd)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        out = b""
        while select.select([main_fd], [], [], 0.5)[0]:
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:  # the pty's other end is closed once everything is read
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(main_fd)
    text = out.decode()
    assert "Eve" in text and "red" in text
    for raw in ("\x9b", "\u202e", "\x07", "\x1b[31m", "\x1b[2J"):
        assert raw not in text, (fmt, raw)
    if fmt == "json":
        # Escaped, so still the same data for a program that reads it.
        assert "\\u009b" in text and "\\u202e" in text


def test_a_log_on_stdin_gives_the_same_report(tmp_path: Path) -> None:
    log = hand_log(tmp_path)
    from_file = callboard("report", str(log), "--format", "json")
    from_pipe = callboard("report", "-", "--format", "json", stdin=log.read_bytes())
    assert from_pipe.returncode == from_file.returncode == 0, from_pipe.stderr
    assert json.loads(from_pipe.stdout) == json.loads(from_file.stdout)
    assert json.loads(from_pipe.stdout)["totals"]["offered"] == 6


@pytest.mark.slow
def test_so_far_reports_the_day_of_a_hub_restarted_on_its_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = rule_fixture_log(tmp_path)
    _, from_file, _ = run_in_process(capsys, "report", str(log), "--format", "json")
    journal = str(replayed_journal(log, tmp_path / "hub.journal"))
    # Restarted on its journal alone: its day is back, but it has no source to finish.
    hub = ServeProcess(["--port", "0", "--journal", journal])
    try:
        done = callboard("report", hub.url, "--so-far", "--format", "json", timeout=60)
    finally:
        assert hub.terminate() == 0
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(from_file)
    assert "caught up with seq 168" in done.stderr


@pytest.mark.slow
def test_so_far_on_a_hub_with_nothing_yet_ends_at_once() -> None:
    hub = ServeProcess(["--port", "0"])
    try:
        done = callboard("report", hub.url, "--so-far", "--format", "json", timeout=60)
    finally:
        assert hub.terminate() == 0
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["rows"] == [] and report["totals"]["offered"] == 0
    assert report["incomplete"] == []
    assert "up to seq 0" in done.stderr


@pytest.mark.parametrize("minutes", [0, 7, 45, 90])
def test_an_interval_that_does_not_divide_the_hour_is_refused(minutes: int) -> None:
    with pytest.raises(ValueError, match=f"must divide the hour, got {minutes} minutes"):
        IntervalReport(minutes)
