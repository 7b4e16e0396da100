"""The harness the two PBX-text figures share (AMI, figure 9; FreeSWITCH ESL, figure 10).

Both protocols are blocks of `Key: Value` lines separated by a blank line, so both
figures compare callboard's whole path (`iter_source`: split, map, validate into
schema v1) with the same baseline, splitting the text into dicts and nothing else,
timed in turns on one file, each side judged by its fastest run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Turns of each side; the fastest of each counts.
RUNS = 3


def split_only(path: Path) -> int:
    """The baseline: every block as a dict of its `Key: Value` lines, nothing else."""
    blocks = 0
    block: dict[str, str] = {}
    with path.open("rb") as stream:
        for raw in stream:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line:
                if block:
                    blocks += 1
                    block = {}
                continue
            key, _, value = line.partition(":")
            block[key] = value[1:]
    return blocks + (1 if block else 0)


def ingest(path: Path, source_format: str) -> tuple[int, int]:
    """callboard's path: (schema events produced, problems)."""
    from monitor.sources import iter_source
    from monitor.sources.reader import LineEvent

    produced = problems = 0
    for item in iter_source(path, source_format):
        if isinstance(item, LineEvent):
            produced += 1
        else:
            problems += 1
    return produced, problems


@dataclass
class Turns:
    """What the turns measured: blocks split, events produced, problems, each run's time."""

    blocks: int = 0
    produced: int = 0
    problems: int = 0
    split_s: list[float] = field(default_factory=list)
    ingest_s: list[float] = field(default_factory=list)

    def details(self, path: Path) -> dict[str, Any]:
        """The figure's raw numbers."""
        return {
            "blocks": self.blocks,
            "schema_events": self.produced,
            "problems": self.problems,
            "bytes": path.stat().st_size,
            "ingest_s": self.ingest_s,
            "split_s": self.split_s,
        }


def take_turns(path: Path, source_format: str, runs: int = RUNS) -> Turns:
    """Split-only and callboard's ingest of `path`, `runs` times each, in turns."""
    turns = Turns()
    for _ in range(runs):
        seconds, turns.blocks = _timed(split_only, path)
        turns.split_s.append(seconds)
        seconds, (turns.produced, turns.problems) = _timed(lambda p: ingest(p, source_format), path)
        turns.ingest_s.append(seconds)
    return turns


def _timed(fn: Callable[[Path], Any], path: Path) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn(path)
    return time.perf_counter() - start, result
