"""Running the real `callboard` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def callboard(
    *args: str, stdin: bytes | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `callboard ARGS` with this interpreter; returns the finished process."""
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


#: Runs the command given as its arguments (stdin, stdout to /dev/null, stderr kept)
#: and prints the child's peak resident set size in KiB: a fresh parent, so no
#: earlier child of the test process counts.
_PEAK_RSS = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
sys.stderr.buffer.write(done.stderr[-4000:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)
"""


def callboard_peak_rss(
    *args: str, stdin: Path | None = None, timeout: float = 300
) -> tuple[int, int, str]:
    """Run `callboard ARGS` (stdin from a file): (peak RSS in KiB, exit status, end of stderr)."""
    with open(stdin if stdin is not None else os.devnull, "rb") as source:
        done = subprocess.run(
            [sys.executable, "-c", _PEAK_RSS, sys.executable, "-m", "monitor", *args],
            stdin=source,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            check=True,
        )
    peak, status = done.stdout.split()
    return int(peak), int(status), done.stderr
