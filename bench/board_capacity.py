"""Figure 3's sustainable rates: each board fed in-process at rising rates until it falls behind.

A board's sustainable rate is a property of the board, but a loopback hub on
this machine acknowledges only about 1,600-2,800 events a second from one
producer (figure 5), well under what the real board can take. So the rate
ladder feeds both boards from the same in-process paced feed: the hub's own
event frames (text, decoded by the same `decode_hub_message` the feed client
uses, inside the board's process), each stamped with the time it was due, so a
board that falls behind sees its latency grow. Everything after the feed (the
board's model, its widgets, Textual) is what is measured.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.board_probe import SIZE, LoadRun, drawn_seq, feed_to_screen, until
from bench.eventlog import generate
from bench.process import self_cpu_s
from bench.stats import percentile
from classifier.schema import event_from_dict
from monitor.app.feed import Connection, ConnectionState, FeedSink
from monitor.feed.protocol import EventFrame, decode_hub_message, encode_event_frame

#: The feed gives the board's loop a turn at least this often when it is behind,
#: as a websocket client does between reads.
YIELD_EVERY = 64


class FrameStock:
    """The benchmark stream as hub event frames (seq 1, 2, ...), generated as far as asked."""

    def __init__(self, open_calls: int, seed: int) -> None:
        self._source: Iterator[dict[str, Any]] = generate(sys.maxsize, open_calls, seed)
        self._frames: list[str] = []

    def take(self, count: int) -> list[str]:
        """The first `count` frames."""
        for wire in itertools.islice(self._source, max(0, count - len(self._frames))):
            seq = len(self._frames) + 1
            event = event_from_dict(dict(wire, seq=seq))
            self._frames.append(encode_event_frame(event, seq, 0.0))
        return self._frames[:count]


@dataclass
class PacedFeed:
    """A feed runner: `prefill` frames at once, then `stream` at `rate` once `go` is set."""

    prefill: list[str]
    stream: list[str]
    rate: float
    go: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    #: Seconds the feed's last event went out after it was due.
    late_at_end: float = 0.0

    async def __call__(self, sink: FeedSink) -> None:
        """Feed `sink`: the prefill at once, then the stream at `rate` a second once `go` is set.

        Each streamed event carries the wall time it was due (epoch seconds) as its
        receive time, so a board that falls behind sees its latency grow. At the end it
        sets `late_at_end` (seconds), then `done`.
        """
        sink.feed_connection(
            Connection(ConnectionState.LIVE, url="in-process", source="paced feed")
        )
        for text in self.prefill:
            _deliver(sink, text, None)
        await self.go.wait()
        start, epoch = time.perf_counter(), time.time()
        sent = 0
        while sent < len(self.stream):
            due = min(len(self.stream), int((time.perf_counter() - start) * self.rate) + 1)
            if sent >= due:
                await asyncio.sleep(max(0.0, start + sent / self.rate - time.perf_counter()))
                continue
            for index in range(sent, min(due, sent + YIELD_EVERY)):
                _deliver(sink, self.stream[index], epoch + index / self.rate)
            sent = min(due, sent + YIELD_EVERY)
            await asyncio.sleep(0)
        self.late_at_end = time.perf_counter() - start - (len(self.stream) - 1) / self.rate
        self.done.set()


def _deliver(sink: FeedSink, text: str, due_at: float | None) -> None:
    for frame in decode_hub_message(text):
        if isinstance(frame, EventFrame):
            sink.feed_event(frame.event, due_at)


async def measure_rate(
    make_board: Callable[[PacedFeed], Any],
    name: str,
    stock: FrameStock,
    prefill: int,
    rate: float,
    seconds: float,
) -> LoadRun:
    """One fresh board, prefilled with `prefill` events, fed `rate` ev/s for `seconds`."""
    count = max(1, int(rate * seconds))
    frames = stock.take(prefill + count)
    feed = PacedFeed(frames[:prefill], frames[prefill:], rate)
    board = make_board(feed)
    result = LoadRun(name, rate, seconds)
    async with board.run_test(size=SIZE, headless=True):
        if not await until(lambda: (board.applied_seq or 0) >= prefill and board.drawn, 120):
            raise RuntimeError(f"{name}: never showed the prefill of {prefill} events")
        frames_before = len(board.drawn)
        cpu_before, start = self_cpu_s(), time.perf_counter()
        feed.go.set()
        await feed.done.wait()
        elapsed = time.perf_counter() - start
        cpu_after = self_cpu_s()
        last_seq = prefill + count
        result.published = count
        result.backlog_at_end = max(0, last_seq - (board.applied_seq or 0))
        stopped = time.perf_counter()
        if await until(lambda: drawn_seq(board) >= last_seq, 5.0 + seconds):
            result.drain_s = time.perf_counter() - stopped
        result.fps = (len(board.drawn) - frames_before) / elapsed
        result.cpu_share = (cpu_after - cpu_before) / elapsed
        latencies, result.undrawn = feed_to_screen(board, prefill + 1)
        result.latency_p50_ms = percentile(latencies, 50)
        result.latency_p99_ms = percentile(latencies, 99)
        result.extra = {"feed_late_at_end_s": round(feed.late_at_end, 3), "fed_in_s": elapsed}
        await board.run_action("quit")
    print(
        f"  {name} (in-process): {rate:g} ev/s for {seconds:g} s: p99 {result.latency_p99_ms} ms,"
        f" {result.fps:.1f} fps, cpu {result.cpu_share:.0%}, feed late {feed.late_at_end:.2f} s",
        file=sys.stderr,
    )
    return result


def ladder(
    make_board: Callable[[PacedFeed], Any],
    name: str,
    stock: FrameStock,
    prefill: int,
    rates: tuple[int, ...],
    seconds: float,
    refine: int = 0,
) -> list[LoadRun]:
    """Rising rates until the board stops keeping up (`LoadRun.kept_up`); every run tried.

    Then `refine` runs halve the interval between the highest rate kept up with and
    the lowest one not (bisection), so that the sustained rate is known closer than the
    ladder's own steps. The rates are rounded to two significant figures.
    """
    runs: list[LoadRun] = []

    def run_at(rate: float) -> LoadRun:
        run = asyncio.run(measure_rate(make_board, name, stock, prefill, rate, seconds))
        runs.append(run)
        return run

    for rate in rates:
        if not run_at(rate).kept_up:
            break
    for _ in range(refine):
        middle = next_rate(runs)
        if middle is None:
            break
        run_at(middle)
    return runs


def next_rate(runs: list[LoadRun]) -> float | None:
    """The rate halfway between the highest kept up with and the lowest above it that was
    not, to two significant figures; None when there is no such pair or no rate between."""
    kept = sustained(runs)
    over = min((r.rate for r in runs if not r.kept_up and r.rate > kept), default=None)
    if not kept or over is None:
        return None
    middle = float(f"{(kept + over) / 2:.2g}")
    return middle if kept < middle < over else None


def capped(runs: list[LoadRun]) -> bool:
    """Whether some rate was too much (else the sustained rate is only a lower bound)."""
    return any(not run.kept_up for run in runs)


def sustained(runs: list[LoadRun], p99_ms: float | None = None) -> float:
    """The highest rate kept up with (and under `p99_ms` at p99, if given); 0 if none."""
    return max(
        (
            run.rate
            for run in runs
            if run.kept_up and (p99_ms is None or (run.latency_p99_ms or 0) < p99_ms)
        ),
        default=0.0,
    )
