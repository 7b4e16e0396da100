"""Running the real `callboard` command in a subprocess, as a user would; where things are.

Every test that runs the CLI goes through here: `callboard` runs it to the end and
keeps its output; `start_callboard` starts it for a test that talks to it while it
runs (feeds a pipe, reads a pty, stops it). The one exception is a real terminal,
where `tests/pty_support.py` runs the installed `callboard` script.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: The vendors' real data and the seeds (read-only), beside the repository as ../shared.
SHARED = ROOT.parent / "shared"
#: A real Asterisk queue_log: 1,000 lines of queue `IT` (see test_source_asterisk_realdata).
REAL_QUEUE_LOG = SHARED / "realdata" / "asterisk" / "voipreports1-queue_log"


def callboard_command(*args: str) -> list[str]:
    """The command line of `callboard ARGS` in this interpreter."""
    return [sys.executable, "-m", "monitor", *args]


def callboard(
    *args: str,
    stdin: bytes | None = None,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `callboard ARGS` to the end (environment `env`, default ours); the finished process."""
    return subprocess.run(
        callboard_command(*args),
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
        env=env,
    )


def loaded_packages(modules: list[str], packages: tuple[str, ...]) -> str:
    """Which modules of `packages` importing `modules` loads, in a fresh interpreter.

    Comma-separated, sorted; empty when none. A fresh process, since this one has
    loaded everything already.
    """
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {packages!r}]\n"
        "print(','.join(sorted(bad)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return done.stdout.strip()


def start_callboard(*args: str, **popen: Any) -> subprocess.Popen[str]:
    """Start `callboard ARGS` and return at once; `popen`: Popen's own stdin, stdout, env...

    Text mode, from the repository root, like `callboard`. The caller ends the process.
    """
    return subprocess.Popen(callboard_command(*args), cwd=ROOT, text=True, **popen)


async def report_totals(url: str) -> dict[str, Any]:
    """`callboard report --so-far --format json URL`, awaited (the hub may be the test's
    own, on this loop): the report's totals row."""
    proc = await asyncio.create_subprocess_exec(
        *callboard_command("report", "--so-far", "--format", "json", url),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    totals: dict[str, Any] = json.loads(out)["totals"]
    return totals


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
            [sys.executable, "-c", _PEAK_RSS, *callboard_command(*args)],
            stdin=source,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            check=True,
        )
    peak, status = done.stdout.split()
    return int(peak), int(status), done.stderr


#: The `bench_smoke` fixture (tests/conftest.py): one figure's smoke run, its result.
BenchSmoke = Callable[[str], dict[str, Any]]
