"""`callboard classify` end to end: real files, a real process, its real output."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import select
import subprocess
from pathlib import Path

from monitor.commands.classify import RecordWriter, classify_items
from monitor.sources.reader import read_events
from tests.cli_support import callboard, start_callboard
from tests.hub_support import make_calls, write_log
from tests.rules_support import RULES_DIR

RULE3 = RULES_DIR / "rule_03_agent_not_answered.jsonl"


def records(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_classify_writes_one_record_per_call_with_every_field() -> None:
    done = callboard("classify", str(RULE3))
    assert done.returncode == 0, done.stderr
    got = records(done.stdout)
    assert [r["call_id"] for r in got] == [
        "r3-hung-up-in-queue",
        "r3-hung-up-ringing",
        "r3-then-voicemail-greeting",
        "r3-queue-timeout",
    ]
    first = got[0]
    assert first == {
        "call_id": "r3-hung-up-in-queue",
        "outcome": "missed",
        "reason": "agent_not_answered",
        "detail": "rang Ana (no answer), Ben (rejected); hung up in queue sales after 2m10s",
        "direction": "inbound",
        "queue": "sales",
        "agents_rung": ["Ana", "Ben"],
        "wait_s": 130.0,
        "talk_s": 0.0,
        "started_at": "2026-11-23T09:00:00+01:00",
        "ended_at": "2026-11-23T09:02:15+01:00",
        "flags": [],
    }
    assert "agent_not_answered" in done.stderr and "finished calls" in done.stderr


def test_classify_csv(tmp_path: Path) -> None:
    done = callboard("classify", "--format", "csv", str(RULE3))
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == 4
    assert rows[0]["agents_rung"] == "Ana;Ben" and rows[0]["outcome"] == "missed"


class _Writes(io.StringIO):
    """Output that counts its writes: each would be a system call under PYTHONUNBUFFERED."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_records_of_a_file_go_out_a_batch_per_write(tmp_path: Path) -> None:
    log = write_log(tmp_path / "calls.jsonl", make_calls(150))
    for fmt in ("json", "csv"):
        batched, one_by_one = _Writes(), _Writes()
        classify_items(read_events(log), RecordWriter(batched, fmt), io.StringIO())
        classify_items(
            read_events(log), RecordWriter(one_by_one, fmt), io.StringIO(), verdict_batch=1
        )
        assert batched.getvalue() == one_by_one.getvalue()
        header = fmt == "csv"
        # 150 calls: batches of 64, 64 and 22 (and an empty last flush).
        assert batched.writes <= header + 4
        assert one_by_one.writes >= header + 150


def test_classify_reads_stdin_and_gzip(tmp_path: Path) -> None:
    data = RULE3.read_bytes()
    from_stdin = callboard("classify", "-", stdin=data)
    packed = tmp_path / "log.jsonl.gz"
    packed.write_bytes(gzip.compress(data))
    from_gzip = callboard("classify", str(packed))
    assert from_stdin.returncode == from_gzip.returncode == 0
    assert from_stdin.stdout == from_gzip.stdout == callboard("classify", str(RULE3)).stdout


def test_from_a_live_pipe_each_record_comes_out_as_its_call_ends() -> None:
    # `tail -f log | callboard classify -`: stdin stays open, and the record of a call
    # that ended must not wait for more calls (a batch) or for the end of the input.
    lines = RULE3.read_text().splitlines(keepends=True)
    first_end = next(i for i, line in enumerate(lines) if '"call.ended"' in line)
    proc = start_callboard(
        "classify",
        "-",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # An unbuffered Python would flush every write anyway; the command must do it.
        env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write("".join(lines[: first_end + 1]))
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "no record within 60 s while the pipe stayed open"
        record = json.loads(proc.stdout.readline())
        assert record["call_id"] == "r3-hung-up-in-queue"
        assert proc.poll() is None, "classify stopped before its input ended"
        proc.stdin.write("".join(lines[first_end + 1 :]))
        proc.stdin.close()
        rest = records(proc.stdout.read())
        assert [r["call_id"] for r in rest] == [
            "r3-hung-up-ringing",
            "r3-then-voicemail-greeting",
            "r3-queue-timeout",
        ]
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            stream.close()  # type: ignore[union-attr]


def test_open_calls_are_left_out_unless_asked_for(tmp_path: Path) -> None:
    log = tmp_path / "open.jsonl"
    log.write_text(
        '{"type":"call.started","call_id":"open-1","ts":0}\n'
        '{"type":"queue.entered","call_id":"open-1","ts":4,"queue":"sales"}\n'
    )
    assert callboard("classify", str(log)).stdout == ""
    done = callboard("classify", "--include-open", str(log))
    (record,) = records(done.stdout)
    assert record["outcome"] is None and record["call_id"] == "open-1"
    assert record["detail"] == "still open: queued"


def test_bad_lines_are_reported_with_place_and_the_rest_is_classified(tmp_path: Path) -> None:
    log = tmp_path / "mixed.jsonl"
    lines = RULE3.read_text().splitlines()
    lines.insert(2, "{not json")
    lines.insert(5, '{"type":"call.teleported","call_id":"x","ts":0}')
    lines.append(
        '{"type":"agent.ringing","call_id":"r3-queue-timeout","ts":"2026-11-23T09:30:00+01:00","agent":"Zed"}'
    )
    lines.append(lines[0])  # the first call.started again, after that call ended: a duplicate
    log.write_text("\n".join(lines) + "\n")
    done = callboard("classify", str(log))
    assert done.returncode == 1
    assert f"{log}:3: not JSON" in done.stderr
    assert f"{log}:6: unknown event type 'call.teleported'" in done.stderr
    assert (
        f"{log}:25: agent.ringing for call 'r3-queue-timeout', which has already ended"
        in done.stderr
    )
    assert f"{log}:26: duplicate event ignored" in done.stderr
    assert len(records(done.stdout)) == 4


def test_usage_errors_exit_2() -> None:
    assert callboard("classify").returncode == 2
    missing = callboard("classify", "/nonexistent/log.jsonl")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert callboard("classify", "--format", "xml", str(RULE3)).returncode == 2


def test_schema_command_prints_json_schema() -> None:
    done = callboard("schema")
    schema = json.loads(done.stdout)
    assert "call.ended" in json.dumps(schema)
