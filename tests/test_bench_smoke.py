"""The benchmark harness runs and reports; no timing is asserted (figures are reported, not tested).

`.ci/run` runs the whole smoke benchmark (`python -m bench --smoke`); these tests
cover the harness's own logic and one real run of the quick figures.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import FIGURES, main
from bench.board_capacity import FrameStock, PacedFeed, capped, next_rate, sustained
from bench.board_probe import LoadRun
from bench.eventlog import generate
from bench.report import Figure, Measure, Status
from bench.stats import percentile
from classifier.schema import Event
from monitor.app.feed import Connection
from tests.cli_support import ROOT, BenchSmoke


@pytest.mark.slow
def test_smoke_run_of_quick_figures_writes_every_measure(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--smoke",
            "--only",
            "classify",
            "fanout",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    assert results["smoke"] is True
    figures = {f["key"]: f for f in results["figures"]}
    assert set(figures) == {"classify", "fanout"}
    classify = figures["classify"]
    assert classify["status"] in ("met", "missed")
    throughput = classify["measures"][0]
    assert throughput["value"] > 0 and throughput["baseline"] > 0
    assert throughput["ratio"] == pytest.approx(throughput["baseline"] / throughput["value"])
    fanout = figures["fanout"]
    assert fanout["status"] == "reported"
    for run in fanout["details"]["runs"]:
        assert run["missing"] == 0, run
        assert run["refused"] == 0, run
    assert "callboard bench" in done.stdout


@pytest.mark.slow
def test_smoke_run_of_the_agents_panel_figure_builds_its_floor(bench_smoke: BenchSmoke) -> None:
    figure = bench_smoke("agents")
    assert figure["key"] == "agents" and figure["status"] in ("met", "missed")
    details = figure["details"]
    # The smoke floor: 40 agents (and the simulator's front desk), about 100 calls.
    assert details["agents"] == 41 and details["calls_in_progress_at_end"] >= 90
    p99, worst, _, cpu, order, terminal = figure["measures"]
    assert 0 < p99["value"] <= worst["value"] and p99["baseline"] > 0
    assert cpu["ratio"] == pytest.approx(cpu["value"] / cpu["baseline"])
    assert order["value"] > 0 and order["baseline"] > 0
    assert terminal["value"] > 0 and terminal["baseline"] > 0
    assert len(details["shown"]) == len(details["hidden"]) == 1


def test_unknown_figure_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["--only", "nonesuch", "--out", str(tmp_path / "r.json")]) == 2
    assert not (tmp_path / "r.json").exists()


def test_every_figure_module_names_itself() -> None:
    import importlib

    keys = [importlib.import_module(name).KEY for name in FIGURES]
    assert keys == [
        "classify",
        "report",
        "memory",
        "load",
        "bandwidth",
        "fanout",
        "idle",
        "hooks",
        "web",
        "ami",
        "esl",
        "restart",
        "join",
        "agents",
        "nats",
        "publish",
        "natsjoin",
        "natsfanout",
        "sitesagents",
    ]


def test_status_follows_the_goals() -> None:
    figure = Figure("x", "x")
    figure.add(Measure("a", 1.0, "s", goal="< 2 s", met=True))
    figure.add(Measure("b", 3.0, "s"))
    figure.settle()
    assert figure.status is Status.MET
    figure.add(Measure("c", 5.0, "s", goal="< 4 s", met=False))
    figure.status = Status.REPORTED
    figure.settle()
    assert figure.status is Status.MISSED
    no_goal = Figure("y", "y", [Measure("a", 1.0, "s")])
    no_goal.settle()
    assert no_goal.status is Status.REPORTED


def test_a_measure_against_its_baseline_carries_the_ratio_of_the_two() -> None:
    measure = Measure.against("p99", 30.0, "ms", 12.0, "quiet", ratio_name="of quiet", goal="g")
    assert (measure.value, measure.baseline, measure.baseline_name) == (30.0, 12.0, "quiet")
    assert measure.ratio == pytest.approx(2.5) and measure.ratio_name == "of quiet"
    assert measure.goal == "g" and measure.met is None
    # No baseline to divide by: no ratio, rather than a division by zero.
    assert Measure.against("p99", 30.0, "ms", 0.0, "quiet").ratio is None
    assert Measure.against("p99", None, "ms", 12.0, "quiet").ratio is None


def test_percentile_by_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([], 99) is None


def test_the_load_is_deterministic() -> None:
    first = list(generate(500, open_calls=50, seed=7))
    again = list(generate(500, open_calls=50, seed=7))
    other = list(generate(500, open_calls=50, seed=8))
    assert first == again
    assert first != other
    assert all("type" in event and "ts" in event for event in first)


class _Recorder:
    """A feed sink that keeps what it is given (the harness under test is the feed)."""

    def __init__(self) -> None:
        self.events: list[tuple[int | None, float | None]] = []
        self.connections: list[str] = []

    def feed_snapshot(
        self,
        calls: object,
        presence: object,
        seq: int | None,
        hub_id: str | None = None,
        day: object = None,
    ) -> None:
        raise AssertionError("the paced feed sends no snapshot")

    def feed_event(self, event: Event, received_at: float | None = None) -> None:
        self.events.append((event.seq, received_at))

    def feed_problem(self, message: str) -> None:
        raise AssertionError(message)

    def feed_connection(self, connection: Connection) -> None:
        self.connections.append(connection.state)


async def test_paced_feed_sends_prefill_then_the_stream_stamped_with_due_times() -> None:
    stock = FrameStock(open_calls=20, seed=5)
    frames = stock.take(300)
    assert stock.take(10) == frames[:10]
    feed = PacedFeed(frames[:100], frames[100:], rate=4_000)
    sink = _Recorder()
    task = asyncio.create_task(feed(sink))
    await asyncio.sleep(0)
    assert [seq for seq, _ in sink.events] == list(range(1, 101))
    assert all(at is None for _, at in sink.events)
    feed.go.set()
    await asyncio.wait_for(feed.done.wait(), 30)
    await task
    stream = sink.events[100:]
    assert [seq for seq, _ in stream] == list(range(101, 301))
    due = [at for _, at in stream]
    assert due[-1] is not None and due[0] is not None
    assert due[-1] - due[0] == pytest.approx(199 / 4_000, abs=1e-6)
    assert sink.connections == ["live"]


def test_sustained_rate_is_the_highest_rate_kept_up() -> None:
    def run(rate: float, p99: float, drain: float | None) -> LoadRun:
        return LoadRun("b", rate, 1.0, latency_p99_ms=p99, drain_s=drain)

    runs = [run(100, 120, 0.1), run(200, 400, 0.2), run(400, 1500, None)]
    assert sustained(runs) == 200
    assert sustained(runs, p99_ms=250) == 100
    assert sustained([run(100, 1200, 0.1)]) == 0


def test_refining_the_ladder_bisects_between_kept_and_not_kept() -> None:
    def run(rate: float, kept: bool) -> LoadRun:
        return LoadRun("b", rate, 1.0, latency_p99_ms=100 if kept else 2000, drain_s=0.1)

    ladder = [run(4_000, True), run(8_000, True), run(12_000, False)]
    assert next_rate(ladder) == 10_000
    assert next_rate([*ladder, run(10_000, False)]) == 9_000
    assert next_rate([*ladder, run(10_000, True)]) == 11_000
    # Two figures: 400 and 600 give 500, then 450; 8,000 and 8,100 leave nothing between.
    assert next_rate([run(400, True), run(600, False), run(500, False)]) == 450
    assert next_rate([run(8_000, True), run(8_100, False)]) is None
    # Nothing kept up with, or nothing too much: no interval to halve.
    assert next_rate([run(25, False)]) is None
    assert next_rate([run(25, True), run(50, True)]) is None
    assert capped(ladder) and not capped(ladder[:2])
