"""Measuring child processes: wall time, CPU time and peak RSS of exactly one child.

`os.wait4` gives the CPU time of the one process waited for, so two children
measured in one run (the command and its baseline) do not mix, as they would
with `getrusage(RUSAGE_CHILDREN)`. Peak RSS is not taken from rusage: Linux
carries `ru_maxrss` across exec, so a child forked from this (large) process
would report at least our size. It is read from the child's own `VmHWM` in
/proc, which starts afresh at exec, polled until the child exits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from typing_extensions import override

#: The Python running the benchmark; children use the same one.
PYTHON = sys.executable
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    """What one finished child cost."""

    returncode: int
    wall_s: float
    cpu_s: float
    max_rss_mb: float


class ChildFailed(RuntimeError):
    """A measured command exited non-zero when it should not have."""


def callboard(*args: str) -> list[str]:
    """The `callboard` command as run by this Python (no PATH lookup)."""
    return [PYTHON, "-m", "monitor", *args]


def measure(
    cmd: Sequence[str],
    stdout: IO[bytes] | int | None = subprocess.DEVNULL,
    stderr: IO[bytes] | int | None = subprocess.DEVNULL,
    ok: Sequence[int] = (0,),
    cwd: Path | None = None,
) -> Usage:
    """Run `cmd` to the end and return its own wall time, CPU time and peak RSS.

    The child runs in this process's environment without `PYTHONUNBUFFERED`, as a
    user's shell runs it by default: set, it makes a Python write its output a line
    at a time (a system call per record for `classify`).
    """
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    start = time.perf_counter()
    proc = subprocess.Popen(list(cmd), stdout=stdout, stderr=stderr, cwd=cwd, env=env)
    peak = _PeakWatcher(proc.pid)
    peak.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    peak.stop()
    code = os.waitstatus_to_exitcode(status)
    # We reaped the child ourselves; tell Popen so it does not try again.
    proc.returncode = code
    if code not in ok:
        raise ChildFailed(f"{' '.join(cmd)} exited {code}")
    return Usage(
        returncode=code,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        # Linux reports ru_maxrss in KiB; it is only a fallback (see the module docstring).
        max_rss_mb=peak.peak_mb if peak.peak_mb else usage.ru_maxrss / 1024,
    )


class _PeakWatcher(threading.Thread):
    """Polls a child's VmHWM (its peak RSS since exec) until told to stop."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.every = every
        self.peak_mb = 0.0
        self._done = threading.Event()

    @override
    def run(self) -> None:
        path = Path(f"/proc/{self.pid}/status")
        while not self._done.is_set():
            try:
                text = path.read_text()
            except OSError:
                return
            # Popen returns only once the child has exec'd, so this is the new program's
            # peak; a zombie has no VmHWM line and leaves the last value standing.
            for line in text.splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_mb = max(self.peak_mb, int(line.split()[1]) / 1024)
            self._done.wait(self.every)

    def stop(self) -> None:
        self._done.set()
        self.join(5)


@dataclass(frozen=True)
class CpuSample:
    at: float
    cpu_s: float
    rss_mb: float


def sample(pid: int) -> CpuSample | None:
    """CPU seconds so far (user + system) and current RSS of a live process, from /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        statm = Path(f"/proc/{pid}/statm").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    rss_pages = int(statm.split()[1])
    return CpuSample(
        at=time.perf_counter(),
        cpu_s=(utime + stime) / CLOCK_TICKS,
        rss_mb=rss_pages * os.sysconf("SC_PAGE_SIZE") / 2**20,
    )


def cpu_share(first: CpuSample, last: CpuSample) -> float:
    """Fraction of one core used between two samples."""
    elapsed = last.at - first.at
    return 0.0 if elapsed <= 0 else (last.cpu_s - first.cpu_s) / elapsed


def self_cpu_s() -> float:
    """CPU seconds used by this process so far."""
    times = os.times()
    return times.user + times.system
