"""Figure 5: how many events per second `callboard serve` delivers to 1, 10 and 100 subscribers.

For each subscriber count a fresh hub runs in its own process, the
subscribers in another (raw websocket clients that only `json.loads`), and
the publisher here. Two phases per count: a burst published as fast as the
hub acknowledges (delivery rate: events received by all subscribers over the
time from first send to last receipt) and a paced phase at a steady rate
(end-to-end latency: publisher's send to each subscriber's receipt, same
clock). The baseline is the same hub with one subscriber.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.eventlog import generate
from bench.hubproc import HubProcess
from bench.process import PYTHON, cpu_share, sample
from bench.publisher import publish, wire_lines
from bench.report import Figure, Measure, ratio
from bench.scale import Scale
from bench.stats import percentile

KEY = "fanout"
TITLE = "5. hub fan-out"
PACED_RATE = 200.0


def _wait_ready(proc: subprocess.Popen[str], timeout: float) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    # readline blocks, but the subscriber process prints "ready" or exits.
    line = proc.stdout.readline()
    if line.strip() != "ready" or time.monotonic() > deadline:
        raise RuntimeError(f"subscribers did not get ready (said {line!r})")


def _one(count: int, burst: int, paced: int, seed: int) -> dict[str, Any]:
    events = list(generate(burst + paced, open_calls=500, seed=seed))
    lines = wire_lines(events)
    with HubProcess("--queue-limit", "1000000") as hub, tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "received.json"
        subs = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "bench.fanout_subscribers",
                hub.events_url,
                str(count),
                str(burst + paced),
                str(out),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_ready(subs, 120)
            cpu_before = sample(hub.pid)
            sent_burst = asyncio.run(publish(hub.publish_url, lines[:burst]))
            sent_paced = asyncio.run(publish(hub.publish_url, lines[burst:], rate=PACED_RATE))
            subs.wait(600)
            cpu_after = sample(hub.pid)
        finally:
            if subs.poll() is None:
                subs.kill()
                subs.wait()
        received = json.loads(out.read_text())
    times = [{int(k): v for k, v in seen.items()} for seen in received["times"]]
    burst_seqs = set(sent_burst.sent_at)
    last_burst = max((t for seen in times for s, t in seen.items() if s in burst_seqs), default=0.0)
    delivered_burst = sum(1 for seen in times for s in seen if s in burst_seqs)
    burst_rate = delivered_burst / (last_burst - sent_burst.started) if last_burst else 0.0
    latencies = [
        (seen[s] - at) * 1000 for seen in times for s, at in sent_paced.sent_at.items() if s in seen
    ]
    burst_latencies = [
        (seen[s] - at) * 1000 for seen in times for s, at in sent_burst.sent_at.items() if s in seen
    ]
    return {
        "subscribers": count,
        "burst_events": burst,
        "paced_events": paced,
        "paced_rate": PACED_RATE,
        "delivered_per_s": burst_rate,
        "delivered_per_subscriber_per_s": burst_rate / count,
        "publish_acked_per_s": burst / (sent_burst.finished - sent_burst.started),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p99_ms": percentile(latencies, 99),
        "burst_latency_p99_ms": percentile(burst_latencies, 99),
        "missing": (burst + paced) * count - sum(received["received"]),
        "refused": len(sent_burst.refused) + len(sent_paced.refused),
        "publisher_late": sent_paced.late,
        "hub_cpu_share": cpu_share(cpu_before, cpu_after) if cpu_before and cpu_after else None,
    }


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Delivery rate and latency for each subscriber count; one subscriber is the baseline."""
    figure = Figure(KEY, TITLE)
    paced = int(PACED_RATE * (0.5 if scale.smoke else 10))
    runs = [
        _one(count, scale.fanout_events, paced, seed=10 + count)
        for count in scale.fanout_subscribers
    ]
    baseline = runs[0]["delivered_per_s"]
    for result in runs:
        n = result["subscribers"]
        figure.add(
            Measure(
                f"{n} subscriber{'s' if n > 1 else ''}: delivered",
                result["delivered_per_s"],
                "ev/s",
                baseline=baseline,
                baseline_name="1 subscriber",
                ratio=ratio(result["delivered_per_s"], baseline),
            )
        )
        figure.add(
            Measure(
                f"{n} subscriber{'s' if n > 1 else ''}: latency p99 at {PACED_RATE:g} ev/s",
                result["latency_p99_ms"],
                "ms",
            )
        )
    missing = sum(r["missing"] for r in runs)
    if missing:
        figure.note = f"{missing} deliveries missing"
    figure.details = {"runs": runs}
    return figure
