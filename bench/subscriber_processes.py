"""The fan-out figures' subscriber processes, seen from the figure.

Figures 5 (one hub) and 17 (the hubs of one site on NATS) spread their
subscribers over processes of `bench.fanout_subscribers`, wait for each to say a
word (`ready`; figure 5's `marked` too), kill whatever is left running when the
figure ends early, and read what each process saw. One way for both, so the two
figures count receipts alike.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.process import PYTHON


def spread(count: int, processes: int) -> list[int]:
    """`count` subscribers over at most `processes` processes, as evenly as they go."""
    n = max(1, min(count, processes))
    return [count // n + (1 if i < count % n else 0) for i in range(n)]


def start(
    url: str, count: int, events: int, out: Path, mark: int | None = None
) -> subprocess.Popen[str]:
    """A process of `count` subscribers to `url` until each has `events` events, writing
    what they saw to `out`; with `mark`, it says `marked` once all have seen that many."""
    command = [PYTHON, "-m", "bench.fanout_subscribers", url, str(count), str(events), str(out)]
    if mark is not None:
        command += ["--mark", str(mark)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def wait_for(proc: subprocess.Popen[str], word: str, timeout: float | None = None) -> None:
    """Read the subscriber process's next line, which must be `word` (and, with
    `timeout`, come within that many seconds)."""
    assert proc.stdout is not None
    deadline = None if timeout is None else time.monotonic() + timeout
    # readline blocks, but the subscriber process prints the word or exits.
    line = proc.stdout.readline()
    if line.strip() != word or (deadline is not None and time.monotonic() > deadline):
        raise RuntimeError(f"subscribers did not say {word!r} (said {line!r})")


@contextlib.contextmanager
def reaped() -> Iterator[list[subprocess.Popen[str]]]:
    """A list for the block's subscriber processes; any still running at its end (the
    figure failed before they finished) is killed and waited for."""
    procs: list[subprocess.Popen[str]] = []
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def seen(outs: list[Path]) -> tuple[list[dict[str, Any]], list[dict[int, float]]]:
    """What each process wrote, and every subscriber's receive time of each seq."""
    received = [json.loads(out.read_text()) for out in outs]
    times = [{int(k): v for k, v in one.items()} for part in received for one in part["times"]]
    return received, times
