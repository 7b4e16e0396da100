"""Running a board headless against a hub and timing what reaches its screen.

Both boards (the real `CallboardApp` and the naive DataTable baseline) report
`(seq, hub_received_at, applied_at)` per event and `(seq, drawn_at)` per frame;
this module turns those into feed-to-screen latency, frame rate and backlog.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typing_extensions import override

from bench.feeder import feeder_command
from bench.process import PYTHON, self_cpu_s
from bench.stats import percentile
from classifier.schema import Event
from monitor.app import app as app_module
from monitor.app.app import CallboardApp, Frame
from monitor.app.feed import FeedRunner

SIZE = (200, 60)


class MeasuredBoard(CallboardApp):
    """The real board, recording each event's arrival; frames come from its frame hook."""

    # Textual resolves a relative CSS_PATH beside the subclass; point at the app's own.
    CSS_PATH = str(Path(app_module.__file__).with_name("board.tcss"))

    def __init__(self, runner: FeedRunner, source: str = "") -> None:
        super().__init__(runner, source=source)
        self.arrivals: list[tuple[int | None, float | None, float]] = []
        self.drawn: list[tuple[int | None, float]] = []
        self.frame_listeners.append(self._on_frame)

    def _on_frame(self, frame: Frame) -> None:
        self.drawn.append((frame.seq, frame.drawn_at))

    @property
    def applied_seq(self) -> int | None:
        """Highest feed seq the board has applied (None before any)."""
        return self.board.last_seq

    @override
    def feed_event(self, event: Event, received_at: float | None = None) -> None:
        """Apply as the app does, then add (seq, hub receive time, time now) to `arrivals`."""
        super().feed_event(event, received_at)
        self.arrivals.append((event.seq, received_at, time.time()))


@dataclass
class LoadRun:
    """One board under one steady load."""

    board: str
    rate: float
    seconds: float
    published: int = 0
    publisher_late: int = 0
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    #: Events published but not yet on screen when the feed stopped.
    backlog_at_end: int = 0
    #: Seconds after the feed stopped until the last event was on screen (None: never).
    drain_s: float | None = None
    fps: float = 0.0
    cpu_share: float = 0.0
    undrawn: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def kept_up(self) -> bool:
        """Sustained: under a second behind at p99 and caught up within a second of the end."""
        return (
            self.latency_p99_ms is not None
            and self.latency_p99_ms < 1000
            and self.drain_s is not None
            and self.drain_s <= 1.0
        )


def drawn_seq(board: Any) -> int:
    """The highest feed seq the board's recent frames showed."""
    return max((seq for seq, _ in board.drawn[-5:] if seq is not None), default=0)


async def until(check: Callable[[], bool], timeout: float) -> bool:
    """Wait for `check()` to hold, polling, for at most `timeout` seconds; its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()


def feed_to_screen(board: Any, first_seq: int) -> tuple[list[float], int]:
    """Milliseconds from each event's arrival (seq >= `first_seq`) to the first frame
    showing it, and how many events no frame showed."""
    frames = sorted((seq, at) for seq, at in board.drawn if seq is not None)
    seqs = [seq for seq, _ in frames]
    # A frame's time is the earliest time any frame showed that seq or later.
    earliest = [at for _, at in frames]
    for i in range(len(earliest) - 2, -1, -1):
        earliest[i] = min(earliest[i], earliest[i + 1])
    latencies: list[float] = []
    undrawn = 0
    for seq, received_at, applied_at in board.arrivals:
        if seq is None or seq < first_seq:
            continue
        i = bisect.bisect_left(seqs, seq)
        if i == len(seqs):
            undrawn += 1
            continue
        arrived = received_at if received_at is not None else applied_at
        latencies.append((earliest[i] - arrived) * 1000)
    return latencies, undrawn


async def run_load(
    board: Any,
    name: str,
    publish_url: str,
    hub_seq: int,
    rate: float,
    seconds: float,
    open_calls: int,
    skip: int,
    seed: int = 1,
) -> LoadRun:
    """Connect `board` headless, feed `rate` ev/s for `seconds` from a feeder process, measure."""
    result = LoadRun(name, rate, seconds)
    async with board.run_test(size=SIZE, headless=True):
        if not await until(lambda: (board.applied_seq or 0) >= hub_seq and board.drawn, 120):
            raise RuntimeError(f"{name}: never showed the hub's snapshot (seq {hub_seq})")
        feeder = await asyncio.create_subprocess_exec(
            *feeder_command(PYTHON, publish_url, rate, seconds, open_calls, seed, skip),
            stdout=asyncio.subprocess.PIPE,
        )
        assert feeder.stdout is not None
        ready = await feeder.stdout.readline()
        if ready.strip() != b"ready":
            raise RuntimeError(f"feeder did not start: {ready!r}")
        frames_before = len(board.drawn)
        cpu_before, start = self_cpu_s(), time.perf_counter()
        summary_line = await feeder.stdout.readline()
        await feeder.wait()
        elapsed = time.perf_counter() - start
        cpu_after = self_cpu_s()
        frames_during = len(board.drawn) - frames_before
        summary = json.loads(summary_line)
        last_seq = summary["last_seq"] or hub_seq
        result.published = summary["acked"]
        result.publisher_late = summary["late"]
        result.backlog_at_end = max(0, last_seq - drawn_seq(board))
        stopped = time.perf_counter()
        if await until(lambda: drawn_seq(board) >= last_seq, min(60.0, 5.0 + seconds)):
            result.drain_s = time.perf_counter() - stopped
        if not board.arrivals and result.published:
            # Nothing to time: the board is broken, and a benchmark of it must say so loudly.
            raise RuntimeError(f"{name} applied none of the {result.published} events published")
        result.fps = frames_during / elapsed
        result.cpu_share = (cpu_after - cpu_before) / elapsed
        latencies, result.undrawn = feed_to_screen(board, summary["first_seq"] or 0)
        result.latency_p50_ms = percentile(latencies, 50)
        result.latency_p99_ms = percentile(latencies, 99)
        result.extra = {
            "frames": frames_during,
            "events_applied": len(board.arrivals),
            "last_seq": last_seq,
            "feeder_seconds": summary["seconds"],
        }
        await board.run_action("quit") if hasattr(board, "run_action") else None
    print(
        f"  {name}: {rate:g} ev/s for {seconds:g} s: p99 {result.latency_p99_ms} ms, "
        f"{result.fps:.1f} fps, cpu {result.cpu_share:.0%}, backlog {result.backlog_at_end}",
        file=sys.stderr,
    )
    return result
