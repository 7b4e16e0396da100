"""Reading logs in bounded memory: over-long lines are skipped in pieces, never held.

The memory tests run the real CLI on generated huge inputs (a gzip of one line of
hundreds of MiB, a sparse file of NUL bytes read through stdin) and check the
child's peak resident set size: a memory bound, not a timing.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from monitor.sources import exotel, iter_source
from monitor.sources.reader import MAX_LINE, LineError, LineEvent, read_events
from tests.cli_support import ROOT, callboard, callboard_peak_rss

#: The runaway line of the memory tests, and the most the CLI may hold meanwhile
#: (it starts at about 45 MiB; reading the whole line would need over 256 MiB).
HUGE = 256 << 20
PEAK_LIMIT_KIB = 120 << 10

EVENT = b'{"type": "agent.ringing", "call_id": "c1", "ts": 1, "agent": "A1"}'
EXOTEL = ROOT / "fixtures" / "exotel"


def _huge_gzip(path: Path, first: bytes, last: bytes) -> None:
    """A gzip of `first`, one line of `HUGE` bytes, then `last` (level 1: quick to make)."""
    piece = b"x" * (1 << 20)
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(first + b"\n")
        for _ in range(HUGE // len(piece)):
            out.write(piece)
        out.write(b"\n" + last + b"\n")


def _problems(path: Path) -> list[tuple[int, str]]:
    return [(i.line, i.problem) for i in read_events(path) if isinstance(i, LineError)]


@pytest.mark.slow
def test_a_gzip_of_one_huge_line_is_read_in_flat_memory(tmp_path: Path) -> None:
    log = tmp_path / "runaway.jsonl.gz"
    _huge_gzip(log, EVENT, b"{broken")
    peak, status, stderr = callboard_peak_rss("classify", str(log))
    assert f"{log}:2: line is {HUGE} bytes, over the 64 KiB limit" in stderr
    # The lines after it are still read: the broken one is reported.
    assert f"{log}:3: not JSON" in stderr
    assert status == 1
    assert peak < PEAK_LIMIT_KIB, f"peak RSS {peak} KiB"


@pytest.mark.slow
def test_nul_bytes_through_stdin_are_read_in_flat_memory(tmp_path: Path) -> None:
    # `classify --from callboard /dev/zero`, bounded: a sparse file reads as NUL bytes.
    zeros = tmp_path / "zeros"
    with zeros.open("wb") as out:
        out.truncate(HUGE)
    peak, status, stderr = callboard_peak_rss("classify", "--from", "callboard", "-", stdin=zeros)
    assert f"<stdin>:1: line is {HUGE} bytes, over the 64 KiB limit" in stderr
    assert status == 1
    assert peak < PEAK_LIMIT_KIB, f"peak RSS {peak} KiB"


@pytest.mark.slow
def test_exotel_json_lines_are_read_a_line_at_a_time(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl.gz"
    records = (EXOTEL / "call_details.jsonl").read_bytes().strip()
    _huge_gzip(log, records, records)
    peak, status, stderr = callboard_peak_rss("classify", "--from", "exotel", str(log))
    huge_line = records.count(b"\n") + 2
    assert f"{log}:{huge_line}: line is {HUGE} bytes, over the 64 KiB limit" in stderr
    assert status == 1
    assert peak < PEAK_LIMIT_KIB, f"peak RSS {peak} KiB"


@pytest.mark.parametrize(
    ("body", "length"),
    [
        (b"x" * (MAX_LINE + 1), MAX_LINE + 1),
        (b"x" * (MAX_LINE + 2), MAX_LINE + 2),
        (b" " * (3 * MAX_LINE), 3 * MAX_LINE),  # blank, but one line all the same
        (b"{" + b"x" * (5 << 20), (5 << 20) + 1),  # several skip pieces
    ],
    ids=["limit+1", "limit+2", "blank", "5MiB"],
)
@pytest.mark.parametrize("ending", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_an_over_long_line_is_named_with_its_length(
    tmp_path: Path, body: bytes, length: int, ending: bytes
) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(EVENT + ending + body + ending + b"{broken" + ending + EVENT + ending)
    (long_line, problem), (broken, _) = _problems(log)
    assert (long_line, problem) == (2, f"line is {length} bytes, over the 64 KiB limit")
    assert broken == 3
    events = [i.line for i in read_events(log) if isinstance(i, LineEvent)]
    assert events == [1, 4]


def test_a_line_at_the_limit_is_read_and_one_at_the_end_of_the_file_is_measured(
    tmp_path: Path,
) -> None:
    line = EVENT[:-1] + b" " * (MAX_LINE - len(EVENT)) + b"}"  # JSON spaces up to the limit
    assert len(line) == MAX_LINE
    log = tmp_path / "log.jsonl"
    log.write_bytes(line + b"\r\n" + line + b"\n" + b"y" * (MAX_LINE * 2))
    items = list(read_events(log))
    assert [type(i) for i in items] == [LineEvent, LineEvent, LineError]
    too_long = f"line is {MAX_LINE * 2} bytes, over the 64 KiB limit"
    assert items[2] == LineError(str(log), 3, too_long)


def test_vendor_lines_over_the_limit_are_skipped_and_named(tmp_path: Path) -> None:
    queue_log = (ROOT / "fixtures" / "asterisk" / "new_layout.queue_log").read_bytes()
    lines = queue_log.count(b"\n")
    log = tmp_path / "queue_log"
    log.write_bytes(queue_log + b"1|" * MAX_LINE + b"\n" + queue_log)
    items = list(iter_source(log, "asterisk-queue-log"))
    problems = [(i.line, i.problem) for i in items if isinstance(i, LineError)]
    assert (lines + 1, f"line is {2 * MAX_LINE} bytes, over the 64 KiB limit") in problems
    assert max(i.line for i in items if isinstance(i, LineEvent)) > lines + 1


def test_an_exotel_document_over_the_limit_is_refused_and_the_other_files_are_read(
    tmp_path: Path,
) -> None:
    records = tmp_path / "records"
    shutil.copytree(EXOTEL / "call_details_dir", records)
    one = json.loads((EXOTEL / "call_details_array.json").read_text())[0]
    big = [one] * (exotel.MAX_DOCUMENT // len(json.dumps(one)) + 1)
    (records / "0-big.json").write_text(json.dumps(big, indent=1))
    done = callboard("classify", "--from", "exotel", str(records))
    assert done.returncode == 1
    assert (
        f"{records / '0-big.json'}:1: one JSON document over the 16 MiB limit, not read; "
        "give the records as JSON Lines" in done.stderr
    )
    alone = callboard("classify", "--from", "exotel", str(EXOTEL / "call_details_dir"))
    assert done.stdout == alone.stdout and alone.stdout


@pytest.mark.parametrize(
    ("log", "fmt"),
    [
        (ROOT / "fixtures" / "rules" / "rule_03_agent_not_answered.jsonl", "callboard"),
        (ROOT / "fixtures" / "asterisk" / "new_layout.queue_log", "asterisk-queue-log"),
        (EXOTEL / "call_details.jsonl", "exotel"),
        (EXOTEL / "call_details_array.json", "exotel"),
    ],
)
@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_a_byte_order_mark_is_dropped_in_every_format(
    tmp_path: Path, log: Path, fmt: str, packed: bool
) -> None:
    marked = tmp_path / ("marked.gz" if packed else "marked")
    body = b"\xef\xbb\xbf" + log.read_bytes()
    marked.write_bytes(gzip.compress(body) if packed else body)
    plain = callboard("classify", str(log))
    done = callboard("classify", str(marked))
    assert f"detected format: {fmt}" in done.stderr
    assert done.stdout == plain.stdout and done.stdout
    assert done.returncode == plain.returncode
    assert f"{marked}:" not in done.stderr
