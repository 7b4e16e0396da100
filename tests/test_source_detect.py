"""Format detection from content, and `classify --from` on the edges (stdin, gzip, junk)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from monitor.sources import FormatError, detect_format, iter_source
from tests.cli_support import ROOT, callboard

ASTERISK = ROOT / "fixtures" / "asterisk" / "new_layout.queue_log"
EXOTEL = ROOT / "fixtures" / "exotel"
RULE_LOG = ROOT / "fixtures" / "rules" / "rule_03_agent_not_answered.jsonl"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (ASTERISK, "asterisk-queue-log"),
        (ROOT / "fixtures" / "asterisk" / "old_layout.queue_log", "asterisk-queue-log"),
        # The first line is junk, the next ones are queue_log lines.
        (ROOT / "fixtures" / "asterisk" / "malformed.queue_log", "asterisk-queue-log"),
        (EXOTEL / "call_details.jsonl", "exotel"),
        (EXOTEL / "call_details_array.json", "exotel"),
        (EXOTEL / "call_details_dir", "exotel"),
        (EXOTEL / "status_callbacks.jsonl", "exotel"),
        (RULE_LOG, "callboard"),
    ],
)
def test_detects_each_fixture(path: Path, expected: str) -> None:
    assert detect_format(path) == expected


def test_content_decides_not_the_name(tmp_path: Path) -> None:
    misnamed = tmp_path / "events.jsonl"
    shutil.copy(ASTERISK, misnamed)
    assert detect_format(misnamed) == "asterisk-queue-log"
    packed = tmp_path / "queue_log.1.gz"
    packed.write_bytes(gzip.compress(ASTERISK.read_bytes()))
    assert detect_format(packed) == "asterisk-queue-log"
    items = list(iter_source(packed, "asterisk-queue-log"))
    assert len(items) > 20
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert detect_format(empty) == "callboard"


def test_a_broken_first_line_does_not_hide_the_format(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_text("garbage\n" + RULE_LOG.read_text())
    assert detect_format(log) == "callboard"
    queue_log = tmp_path / "queue_log"
    queue_log.write_text("{half a JSON line\n" + ASTERISK.read_text())
    assert detect_format(queue_log) == "asterisk-queue-log"
    done = callboard("classify", str(log))
    assert done.returncode == 1
    assert f"{log}:1: not JSON" in done.stderr


def test_unknown_content_is_refused_with_what_was_seen(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("Dear diary,\ntoday the queue was long.\n")
    with pytest.raises(FormatError, match=r"cannot tell the format .*'Dear diary,'"):
        detect_format(junk)
    other_json = tmp_path / "other.json"
    other_json.write_text(json.dumps({"hello": "world"}))
    with pytest.raises(FormatError, match="neither callboard events"):
        detect_format(other_json)
    done = callboard("classify", str(junk))
    assert done.returncode == 2
    assert "cannot tell the format" in done.stderr and "give --from" in done.stderr
    assert done.stdout == ""


def test_from_overrides_detection_and_reports_every_line(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("Dear diary,\ntoday the queue was long.\n")
    done = callboard("classify", "--from", "asterisk-queue-log", str(junk))
    assert done.returncode == 1
    assert f"{junk}:1: 1 '|'-separated fields" in done.stderr
    assert f"{junk}:2: 1 '|'-separated fields" in done.stderr


def test_stdin_with_from() -> None:
    done = callboard("classify", "--from", "asterisk-queue-log", "-", stdin=ASTERISK.read_bytes())
    assert done.returncode == 0, done.stderr
    ids = [json.loads(line)["call_id"] for line in done.stdout.splitlines()]
    assert "1763900005.1" in ids
    assert "detected format" not in done.stderr


def test_callboard_logs_are_still_read_as_before() -> None:
    done = callboard("classify", str(RULE_LOG))
    assert done.returncode == 0, done.stderr
    assert "detected format: callboard" in done.stderr
    explicit = callboard("classify", "--from", "callboard", str(RULE_LOG))
    assert explicit.stdout == done.stdout


def test_missing_path_is_a_usage_error() -> None:
    done = callboard("classify", "--from", "exotel", "/nonexistent/records")
    assert done.returncode == 2
    assert "no such file" in done.stderr


def test_a_directory_is_only_for_exotel_records(tmp_path: Path) -> None:
    done = callboard("classify", "--from", "asterisk-queue-log", str(tmp_path))
    assert done.returncode == 1
    assert f"{tmp_path}:0: a directory; only exotel records come in those" in done.stderr
    (tmp_path / "notes.txt").write_text("nothing to see\n")
    with pytest.raises(FormatError, match="none was found"):
        detect_format(tmp_path)
