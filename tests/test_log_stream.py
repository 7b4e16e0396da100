"""Logs that can be read only once (a FIFO, `<(...)`, stdin) lose no byte to format detection.

Detection reads the first 64 KiB to tell the format; on a stream that cannot be
reopened those bytes must reach the reader too. Each test compares the verdicts
of the same log read from a regular file and through the stream.
"""

from __future__ import annotations

import gzip
import io
import os
import shlex
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from monitor.sources import iter_source
from monitor.sources.progress import ReadProgress
from monitor.sources.reader import LineEvent, read_events
from tests.cli_support import ROOT, callboard, callboard_command

DAY = ROOT / "fixtures" / "sim" / "day.jsonl.gz"
QUEUE_LOG = ROOT / "fixtures" / "asterisk" / "new_layout.queue_log"

#: Lines of the simulated day used: about 360 KiB, well past detection's 64 KiB.
DAY_LINES = 3000


def _day_sample(tmp_path: Path, packed: bool) -> Path:
    with gzip.open(DAY, "rb") as day:
        body = b"".join(day.readline() for _ in range(DAY_LINES))
    sample = tmp_path / ("sample.jsonl.gz" if packed else "sample.jsonl")
    sample.write_bytes(gzip.compress(body) if packed else body)
    return sample


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The verdicts of the sample read from a regular file (gzip or not, the same)."""
    done = callboard("classify", str(_day_sample(tmp_path_factory.mktemp("direct"), False)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") > 300
    return done.stdout


@contextmanager
def _fifo_fed_with(tmp_path: Path, data: bytes) -> Iterator[Path]:
    """A named pipe that a thread writes `data` into (once a reader opens it)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def write() -> None:
        try:
            with fifo.open("wb") as out:
                for start in range(0, len(data), 4096):
                    out.write(data[start : start + 4096])
        except BrokenPipeError:
            pass  # the reader went away; its test says why

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        yield fifo
    finally:
        if writer.is_alive():
            # Release a writer still waiting for a reader, so the thread ends.
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        writer.join(timeout=10)


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_classify_reads_every_byte_of_a_fifo(tmp_path: Path, direct: str, packed: bool) -> None:
    sample = _day_sample(tmp_path, packed)
    with _fifo_fed_with(tmp_path, sample.read_bytes()) as fifo:
        done = callboard("classify", str(fifo), timeout=60)
    assert "detected format: callboard" in done.stderr
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == direct


@pytest.mark.parametrize(
    ("command", "source"),
    [("cat", "plain"), ("cat", "gzip"), ("zcat", "gzip")],
)
def test_classify_of_a_process_substitution_matches_the_file(
    tmp_path: Path, direct: str, command: str, source: str
) -> None:
    sample = _day_sample(tmp_path, packed=source == "gzip")
    line = shlex.join(callboard_command("classify")) + f" <({command} {shlex.quote(str(sample))})"
    done = subprocess.run(
        ["bash", "-c", line], capture_output=True, text=True, timeout=60, cwd=ROOT, check=False
    )
    assert "Not a gzipped file" not in done.stderr
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == direct


def test_a_vendor_log_through_a_fifo_keeps_its_first_lines(tmp_path: Path) -> None:
    direct = callboard("classify", str(QUEUE_LOG))
    with _fifo_fed_with(tmp_path, QUEUE_LOG.read_bytes()) as fifo:
        done = callboard("classify", str(fifo), timeout=60)
    assert "detected format: asterisk-queue-log" in done.stderr
    assert done.stdout == direct.stdout and done.stdout
    assert done.returncode == direct.returncode


def test_gzip_on_stdin_is_decompressed(tmp_path: Path, direct: str) -> None:
    sample = _day_sample(tmp_path, packed=True)
    with sample.open("rb") as stdin:
        done = subprocess.run(
            callboard_command("classify", "-"),  # binary stdin: `callboard` takes text
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == direct


class _Clock:
    """A clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_a_long_read_says_how_far_it_got(tmp_path: Path, packed: bool) -> None:
    blank = b"\n" * (4 << 20)  # the gigabytes of blank lines of a small .gz, in small
    log = tmp_path / ("blank.gz" if packed else "blank")
    log.write_bytes(gzip.compress(blank) if packed else blank)
    out = io.StringIO()
    progress = ReadProgress("callboard classify", str(log), out, lambda: 3, 5.0, 20.0, _Clock())
    assert list(read_events(log, progress)) == []
    reports = out.getvalue().splitlines()
    assert progress.bytes == len(blank) and progress.lines == len(blank)
    # One buffer is read per clock tick: the first report after 5 s, then every 20 s.
    assert 1 < len(reports) <= len(blank) // (64 << 10) // 20 + 1
    first = reports[0]
    assert first.startswith(f"callboard classify: still reading {log} after 5 s: ")
    assert "lines)" in first and "% of the file" in first
    assert first.endswith(", 3 problems so far")


def test_vendor_reads_report_progress_too(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_bytes(QUEUE_LOG.read_bytes() * 40)
    out = io.StringIO()
    progress = ReadProgress("callboard classify", str(log), out, first_after=0, every=0)
    items = list(iter_source(log, "asterisk-queue-log", progress=progress))
    assert any(isinstance(item, LineEvent) for item in items)
    assert progress.bytes == log.stat().st_size
    # Still reading, so never 100% (a gzip's buffers are read ahead of its lines).
    assert "99% of the file" in out.getvalue().splitlines()[-1]


def test_a_truncated_gzip_is_detected_from_what_it_holds(tmp_path: Path, direct: str) -> None:
    whole = _day_sample(tmp_path, packed=True).read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[:3000])  # a few KiB of lines, well short of detection's 64 KiB
    done = callboard("classify", str(cut))
    assert "detected format: callboard" in done.stderr
    assert "Traceback" not in done.stderr
    assert "read error: Compressed file ended" in done.stderr
    assert done.returncode == 1
    # The calls that ended before the break are judged as the whole file judges them.
    assert done.stdout and set(done.stdout.splitlines()) <= set(direct.splitlines())


@pytest.mark.parametrize("head", [b"\x1f\x8b", b"\x1f\x8b\x08\x00\x00"], ids=["magic", "cut"])
def test_a_gzip_cut_inside_its_header_is_a_read_error_not_a_crash(
    tmp_path: Path, head: bytes
) -> None:
    # Found by the fuzzer: the gzip magic and little more raised EOFError out of the
    # format detection (a traceback); read as empty, it would have been silent.
    log = tmp_path / "cut.gz"
    log.write_bytes(head)
    done = callboard("classify", str(log))
    assert "Traceback" not in done.stderr
    assert f"{log}:1: read error: Compressed file ended" in done.stderr
    assert done.returncode == 1
