"""Figure 17: fan-out to 1,000 viewers from 4 hubs of one site on NATS, against 1 hub.

    python -m bench --only natsfanout

Issue 21 asks what several hubs of a site buy its viewers. A real
`nats-server -js` runs here, and for each rate in `RATES` and each hub count in
(1, `HUBS`): that many `callboard serve --nats URL --site S` processes for a fresh
site `S`, `scale`'s viewers (1,000 in the full run) as raw websocket subscribers
spread over `SUBSCRIBER_PROCESSES` processes (`bench.fanout_subscribers`, the
processes given to the hubs in turn, so with 4 hubs each hub has one process's
viewers), and the simulator's events published at a steady rate to the first
hub's `/publish` (`bench.publisher`). Every hub applies what it reads back from
the stream, so all of them send the same seqs. Measured: publish-to-receipt
latency (the publisher's send to each viewer's receipt, same clock), deliveries a
second (every viewer's receipts over the time from the first send to the last
receipt), and the CPU share of the hubs (summed, in cores), of nats-server and of
the subscriber processes over the publishing. The baseline is 1 hub.

The machine has 2 cores, shared by nats-server, the hubs, the subscriber
processes and the publisher: at 100 events a second 1,000 viewers are 100,000
receipts a second, more than the subscribers' processes can parse here (figure 5
measured about 20,000 a core), so the lower rate says what the hubs do and the
higher one what this machine does. Read ratios, not capacities.

1,000 connections need open files: the soft limit (`ulimit -n`) is raised here to
what the figure needs (children inherit it), up to the hard limit; if the hard
limit is lower, the figure runs with as many viewers as fit and says so in its
note and details.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import tempfile
from pathlib import Path
from typing import Any

from bench import subscriber_processes as subscribers
from bench.eventlog import generate
from bench.hubproc import HubProcess
from bench.nats_server import NatsServer
from bench.process import CpuSample, cpu_share, sample
from bench.publisher import publish, wire_lines
from bench.report import Figure, Measure, ratio
from bench.scale import Scale
from bench.stats import percentile

KEY = "natsfanout"
TITLE = "17. fan-out to 1,000 viewers from 4 hubs on NATS"
HUBS = 4
SUBSCRIBER_PROCESSES = 4
#: Steady publishing rates, events a second.
RATES = (10.0, 20.0)
#: Open files beyond one per viewer: the hub's own (listening socket, NATS, logs).
SPARE_FILES = 256


def open_files_for(viewers: int) -> tuple[int, str | None]:
    """Raise the soft open-files limit for `viewers` connections; the viewers that fit
    and, when fewer than asked, why."""
    need = viewers + SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return viewers, None
    new = need if hard == resource.RLIM_INFINITY else min(need, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    if new >= need:
        return viewers, None
    fit = max(1, new - SPARE_FILES)
    return fit, f"open files limited to {hard} (hard limit): {fit} viewers, not {viewers}"


def _share(first: CpuSample | None, last: CpuSample | None) -> float | None:
    return round(cpu_share(first, last), 3) if first and last else None


def _one(
    url: str, site: str, hubs: int, viewers: int, lines: list[str], rate: float
) -> dict[str, Any]:
    """`hubs` hubs of a fresh site, `viewers` subscribers, `lines` published at `rate`."""
    limit = str(viewers + 10)
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        servers = [
            stack.enter_context(
                HubProcess("--nats", url, "--site", site, "--queue-limit", "1000000",
                           "--max-subscribers", limit)
            )
            for _ in range(hubs)
        ]  # fmt: skip
        groups = subscribers.spread(viewers, SUBSCRIBER_PROCESSES)
        outs = [Path(tmp) / f"received-{i}.json" for i in range(len(groups))]
        with subscribers.reaped() as procs:
            for i, (size, out) in enumerate(zip(groups, outs, strict=True)):
                procs.append(subscribers.start(servers[i % hubs].events_url, size, len(lines), out))
            for proc in procs:
                subscribers.wait_for(proc, "ready")
            hub_pids = [hub.pid for hub in servers]
            sub_pids = [proc.pid for proc in procs]
            before = {pid: sample(pid) for pid in [*hub_pids, *sub_pids]}
            sent = asyncio.run(publish(servers[0].publish_url, lines, rate=rate))
            after = {pid: sample(pid) for pid in [*hub_pids, *sub_pids]}
            for proc in procs:
                proc.wait(600)
        received, times = subscribers.seen(outs)
    latencies = [
        (seen[s] - at) * 1000 for seen in times for s, at in sent.sent_at.items() if s in seen
    ]
    deliveries = sum(len(seen) for seen in times)
    last = max((t for seen in times for t in seen.values()), default=0.0)
    hub_shares = [_share(before[pid], after[pid]) for pid in hub_pids]
    return {
        "hubs": hubs,
        "viewers": viewers,
        "subscriber_processes": groups,
        "rate": rate,
        "events": len(lines),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p99_ms": percentile(latencies, 99),
        "latency_max_ms": max(latencies, default=None),
        "delivered_per_s": deliveries / (last - sent.started) if last > sent.started else 0.0,
        "missing": len(lines) * viewers - deliveries,
        "refused": len(sent.refused),
        "publisher_late": sent.late,
        "hubs_cpu_cores": round(sum(s or 0.0 for s in hub_shares), 3),
        "hub_cpu_shares": hub_shares,
        "subscribers_cpu_shares": [_share(before[pid], after[pid]) for pid in sub_pids],
        "timed_out": sum(part["timed_out"] for part in received),
        "loadavg_1min": round(os.getloadavg()[0], 2),
    }


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """For each rate: latency and deliveries with `HUBS` hubs against one hub."""
    figure = Figure(KEY, TITLE)
    asked = 12 if scale.smoke else 1_000
    viewers, limited = open_files_for(asked)
    seconds = 1.0 if scale.smoke else 10.0
    rates = (40.0,) if scale.smoke else RATES
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="callboard-natsfanout-") as tmp:
        server = NatsServer(Path(tmp))
        try:
            for r, rate in enumerate(rates):
                lines = wire_lines(generate(int(rate * seconds), open_calls=200, seed=17 + r))
                nats_before = sample(server.pid)
                for hubs in (1, HUBS):
                    runs.append(_one(server.url, f"fan{r}h{hubs}", hubs, viewers, lines, rate))
                runs[-1]["nats_cpu_share_both_runs"] = _share(nats_before, sample(server.pid))
        finally:
            server.stop()
    for one, many in zip(runs[::2], runs[1::2], strict=True):
        at = f"{many['viewers']:,} viewers at {many['rate']:g} ev/s"
        for name, key, unit in (
            ("latency p50", "latency_p50_ms", "ms"),
            ("latency p99", "latency_p99_ms", "ms"),
            ("delivered", "delivered_per_s", "ev/s"),
            ("hubs' CPU", "hubs_cpu_cores", "cores"),
        ):
            figure.add(
                Measure(
                    f"{HUBS} hubs, {at}: {name}",
                    many[key],
                    unit,
                    baseline=one[key],
                    baseline_name="1 hub",
                    ratio=ratio(many[key], one[key]),
                )
            )
    problems = [limited] if limited else []
    missing = sum(r["missing"] for r in runs)
    if missing:
        problems.append(f"{missing} deliveries missing")
    figure.note = "; ".join(p for p in problems if p)
    figure.details = {
        "runs": runs,
        "viewers_asked": asked,
        "open_files_soft_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "cores": os.cpu_count(),
    }
    return figure
