"""The benchmark's load: the project's simulator, run with a steady number of calls in progress.

`monitor.sim` is pure and seeded, so the same sizes give the same bytes every
run and runs compare. `heavy_config(in_progress=N)` settles at about N calls in
progress after its warm-up hour; the warm-up is what a prefill publishes before
a board connects, so the board opens on a centre already at full load.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from monitor.sim.config import heavy_config
from monitor.sim.model import simulate

#: Bump when the generated stream changes, so cached logs are rebuilt.
VERSION = 2
CACHE = Path("/tmp/callboard-bench")


def events(open_calls: int, seed: int = 1) -> Iterator[Any]:
    """The simulator's endless event stream for a centre with `open_calls` calls in progress."""
    return simulate(heavy_config(seed=seed, in_progress=open_calls))


def generate(count: int, open_calls: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    """The first `count` events of that stream, as wire dicts."""
    for event in itertools.islice(events(open_calls, seed), count):
        yield event.to_wire()


def warmup_events(open_calls: int, seed: int = 1) -> int:
    """How many events the simulator's warm-up takes: after them, `open_calls` are in progress."""
    config = heavy_config(seed=seed, in_progress=open_calls)
    settled = config.start + timedelta(seconds=config.warmup_s)
    count = 0
    for event in simulate(config):
        if event.ts >= settled:
            return count
        count += 1
    return count


def write_log(path: Path, count: int, open_calls: int, seed: int = 1) -> Path:
    """Write a JSON Lines log of the first `count` events."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        chunk: list[str] = []
        for event in itertools.islice(events(open_calls, seed), count):
            chunk.append(event.to_json())
            if len(chunk) >= 10_000:
                out.write("\n".join(chunk) + "\n")
                chunk.clear()
        if chunk:
            out.write("\n".join(chunk) + "\n")
    tmp.replace(path)
    return path


def cached_log(count: int, open_calls: int, seed: int = 1) -> Path:
    """A simulated log, built once per size and kept under /tmp for later runs."""
    path = CACHE / f"events-v{VERSION}-{count}-{open_calls}-{seed}.jsonl"
    if not path.exists():
        write_log(path, count, open_calls, seed)
    return path
