"""Figure 5: how many events per second `callboard serve` delivers to 1, 10 and 100 subscribers.

For each subscriber count a fresh hub runs in its own process, the
subscribers in up to `SUBSCRIBER_PROCESSES` others (raw websocket clients that
only `json.loads`, the count spread evenly), and the publisher here. One
process of 100 subscribers took 20,000 receipts/s and saturated its core, so
its receive queue, not the hub, set the latency measured (bench/README.md,
"Figure 5: where the time goes"); each process's CPU share is kept beside the
hub's so a run says which side was busy. Two phases per count: a burst published as fast as the
hub acknowledges (delivery rate: events received by all subscribers over the
time from first send to last receipt) and a paced phase at a steady rate
(end-to-end latency: publisher's send to each subscriber's receipt, same
clock). The baseline is the same hub with one subscriber.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from bench import subscriber_processes as subscribers
from bench.eventlog import generate
from bench.hubproc import HubProcess
from bench.process import CpuSample, cpu_share, sample
from bench.publisher import publish, wire_lines
from bench.report import Figure, Measure, ratio
from bench.scale import Scale
from bench.stats import percentile

KEY = "fanout"
TITLE = "5. hub fan-out"
PACED_RATE = 200.0
#: Processes the subscribers are spread over (fewer when there are fewer subscribers).
SUBSCRIBER_PROCESSES = 4


def _one(
    count: int, burst: int, paced: int, seed: int, processes: int = SUBSCRIBER_PROCESSES
) -> dict[str, Any]:
    events = list(generate(burst + paced, open_calls=500, seed=seed))
    lines = wire_lines(events)
    groups = subscribers.spread(count, processes)
    with HubProcess("--queue-limit", "1000000") as hub, tempfile.TemporaryDirectory() as tmp:
        outs = [Path(tmp) / f"received-{i}.json" for i in range(len(groups))]
        with subscribers.reaped() as procs:
            for size, out in zip(groups, outs, strict=True):
                procs.append(subscribers.start(hub.events_url, size, burst + paced, out, burst))
            for proc in procs:
                subscribers.wait_for(proc, "ready", 120)
            pids = [hub.pid, *(proc.pid for proc in procs)]
            before = [sample(pid) for pid in pids]
            sent_burst = asyncio.run(publish(hub.publish_url, lines[:burst]))
            for proc in procs:
                subscribers.wait_for(proc, "marked", 600)
            paced_before = [sample(pid) for pid in pids]
            sent_paced = asyncio.run(publish(hub.publish_url, lines[burst:], rate=PACED_RATE))
            paced_after = [sample(pid) for pid in pids]
            for proc in procs:
                proc.wait(600)
            hub_done = sample(hub.pid)
        received, times = subscribers.seen(outs)
    counts = [n for part in received for n in part["received"]]
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
        "subscriber_processes": groups,
        "burst_events": burst,
        "paced_events": paced,
        "paced_rate": PACED_RATE,
        "delivered_per_s": burst_rate,
        "delivered_per_subscriber_per_s": burst_rate / count,
        "publish_acked_per_s": burst / (sent_burst.finished - sent_burst.started),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p99_ms": percentile(latencies, 99),
        "burst_latency_p99_ms": percentile(burst_latencies, 99),
        "missing": (burst + paced) * count - sum(counts),
        "refused": len(sent_burst.refused) + len(sent_paced.refused),
        "publisher_late": sent_paced.late,
        # CPU share of one core over the burst and over the paced phase: the hub's
        # first, then each subscriber process's (which side was busy).
        "burst_cpu_shares": [_share(a, b) for a, b in zip(before, paced_before, strict=True)],
        "paced_cpu_shares": [_share(a, b) for a, b in zip(paced_before, paced_after, strict=True)],
        # CPU time per delivery of a paced event (one event to one subscriber), from
        # the paced phase's start until the last subscriber had it: not skewed by how
        # much of the machine others took, as the latency is on a shared machine.
        "hub_cpu_us_per_delivery": _per_delivery(paced_before[0], hub_done, paced * count),
        "subscribers_cpu_us_per_delivery": sum(part["cpu_after_mark_s"] for part in received)
        / (paced * count)
        * 1e6,
        "loadavg_1min": round(os.getloadavg()[0], 2),
    }


def _per_delivery(first: CpuSample | None, last: CpuSample | None, deliveries: int) -> float | None:
    if not (first and last and deliveries):
        return None
    return round((last.cpu_s - first.cpu_s) / deliveries * 1e6, 2)


def _share(first: CpuSample | None, last: CpuSample | None) -> float | None:
    return round(cpu_share(first, last), 3) if first and last else None


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
        figure.add(
            Measure(
                f"{n} subscriber{'s' if n > 1 else ''}: hub CPU per delivery",
                result["hub_cpu_us_per_delivery"],
                "µs",
                baseline=result["subscribers_cpu_us_per_delivery"],
                baseline_name="the subscribers' CPU per delivery",
                ratio=ratio(
                    result["hub_cpu_us_per_delivery"], result["subscribers_cpu_us_per_delivery"]
                ),
            )
        )
    missing = sum(r["missing"] for r in runs)
    if missing:
        figure.note = f"{missing} deliveries missing"
    figure.details = {"runs": runs}
    return figure
