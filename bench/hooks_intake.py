"""Figure 7: webhook intake: deliveries accepted per second, delivery-to-subscriber latency, floods.

One `callboard serve --hooks` process (hub and receiver, with a hooks key) on
loopback. Three phases:

* **Accepted per second**: Exotel Passthru GETs (each a finished call) sent as
  fast as the receiver answers, 64 at a time from each of two client processes
  (`bench/hooks_flood.py`; one Python client is slower than the server). Baseline:
  the same clients against a bare aiohttp server that answers 200 and does nothing
  (`bench/hooks_bare.py`).
* **Latency at 200 deliveries/s**: deliveries sent here, paced; a raw `/events`
  subscriber here records when each call's ``call.started`` arrives; latency is
  the delivery's send to that receipt, on one clock (so it includes the HTTP
  round trip and the receiver's queue). Goal: p99 under 50 ms.
* **A flood must not slow subscribers**: events published on `/publish` at 200/s,
  latency from the publisher's send to the subscriber's receipt, without and
  with a flood of 2,000 requests/s running from its own process: the same call
  delivered again and again (a vendor retrying, or anyone holding the key: every
  request is read, checked and mapped, and adds no event). Reported beside it: a
  flood of 2,000 *new* calls a second, whose events every subscriber also receives
  (so its latency includes reading 4,000 more events a second).
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
from websockets.asyncio.client import connect

from bench.eventlog import generate
from bench.hooks_flood import passthru_url
from bench.hubproc import HubProcess
from bench.process import PYTHON, sample
from bench.publisher import publish, wire_lines
from bench.report import Figure, Measure
from bench.scale import Scale
from bench.stats import percentile

KEY = "hooks"
TITLE = "7. webhook intake"
PACED_RATE = 200.0
FLOOD_RATE = 2_000.0
HOOKS_KEY = "bench-hooks-key"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_answering(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except urllib.error.HTTPError:
            return  # answering (a refusal is an answer)
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered at {url}")


def _wait_applied(hub: HubProcess, timeout: float = 120.0) -> None:
    """Until the hub has applied every delivery its receiver answered (/health ``pending``).

    Answered is not applied: a burst leaves a backlog that would otherwise be
    measured as the next phase's latency.
    """
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{hub.port}/health"
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url, timeout=10) as response:
            if json.loads(response.read())["hooks"]["pending"] == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("the hub did not apply the deliveries it answered")


def _flood(base: str, rate: float, count: int, tag: str, key: str | None) -> subprocess.Popen[str]:
    args = [PYTHON, "-m", "bench.hooks_flood", base, str(rate), str(count), tag]
    return subprocess.Popen([*args, *([key] if key else [])], stdout=subprocess.PIPE, text=True)


#: Client processes sending the burst: one Python client gets fewer answers a second
#: than the receiver can give (it is the bottleneck against a bare server too).
CLIENTS = 2


def _burst(
    base: str, count: int, tag: str, key: str | None, server: int, settle: Any = None
) -> dict[str, float]:
    """`count` deliveries from CLIENTS processes at once, as fast as they are answered.

    Also the CPU the server process (`server`, a pid) spent on them, read from /proc
    before the first send and after `settle()` (a hub: until it has applied them),
    and the clients' own CPU: on a shared machine the rate swings with the load,
    CPU per delivery much less, and together they say where the ceiling is (on N
    free cores, at most N / (client + server CPU per delivery) a second).
    """
    before = sample(server)
    procs = [_flood(base, 0, count // CLIENTS, f"{tag}{i}", key) for i in range(CLIENTS)]
    results = [_flood_result(proc) for proc in procs]
    if settle is not None:
        settle()
    after = sample(server)
    ok = sum(r["ok"] for r in results)
    server_cpu = after.cpu_s - before.cpu_s if before and after else float("nan")
    return {
        "clients": CLIENTS,
        "sent": sum(r["sent"] for r in results),
        "ok": ok,
        "refused": sum(r["refused"] for r in results),
        # They start together; the slowest one's time covers every answer.
        "seconds": max(r["seconds"] for r in results),
        "server_cpu_us_per_delivery": server_cpu / max(ok, 1) * 1e6,
        "client_cpu_us_per_delivery": sum(r["cpu_s"] for r in results) / max(ok, 1) * 1e6,
    }


def _flood_result(proc: subprocess.Popen[str]) -> dict[str, float]:
    out, _ = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"flood client failed ({proc.returncode})")
    result: dict[str, float] = json.loads(out)
    return result


class _Subscriber:
    """A raw /events subscriber: when each seq, and each call's start, arrived."""

    def __init__(self) -> None:
        self.by_seq: dict[int, float] = {}
        self.started: dict[str, float] = {}

    async def run(self, url: str, ready: asyncio.Event, stop: asyncio.Event) -> None:
        async with connect(url, max_size=2**26, ping_interval=None) as ws:
            await ws.recv()  # the snapshot
            ready.set()
            while not stop.is_set():
                try:
                    message = await asyncio.wait_for(ws.recv(), 0.2)
                except TimeoutError:
                    continue
                now = time.time()
                frame = json.loads(message)
                for item in frame["frames"] if frame.get("frame") == "batch" else [frame]:
                    if item.get("frame") != "event":
                        continue
                    self.by_seq[int(item["seq"])] = now
                    event = item["event"]
                    if event.get("type") == "call.started":
                        self.started[event["call_id"]] = now


async def _with_subscriber(url: str, work: Any) -> tuple[_Subscriber, Any]:
    sub, ready, stop = _Subscriber(), asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(sub.run(url, ready, stop))
    await asyncio.wait_for(ready.wait(), 60)
    result = await work(sub)
    stop.set()
    await task
    return sub, result


async def _paced_deliveries(base: str, count: int, tag: str) -> dict[str, float]:
    """Send `count` deliveries at PACED_RATE; the send time of each call id."""
    sent: dict[str, float] = {}
    async with aiohttp.ClientSession() as http:

        async def one(i: int) -> None:
            sid = f"{tag}-{i}"
            url = passthru_url(base, sid, HOOKS_KEY)
            sent["exotel:" + sid] = time.time()
            async with http.get(url) as response:
                await response.read()

        tasks = []
        start = time.perf_counter()
        for i in range(count):
            delay = start + i / PACED_RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    return sent


async def _wait_seen(seen: dict[Any, float], keys: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while any(k not in seen for k in keys) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def _latencies(sent: dict[Any, float], seen: dict[Any, float]) -> list[float]:
    return [(seen[k] - at) * 1000 for k, at in sent.items() if k in seen]


def _publish_lines(count: int, prefix: str) -> list[str]:
    events = []
    for event in generate(count, open_calls=50, seed=7):
        if event.get("call_id"):
            event["call_id"] = prefix + event["call_id"]
        events.append(event)
    return wire_lines(events)


async def _published_latency(hub: HubProcess, lines: list[str]) -> tuple[list[float], int]:
    async def work(sub: _Subscriber) -> Any:
        published = await publish(hub.publish_url, lines, rate=PACED_RATE)
        await _wait_seen(sub.by_seq, list(published.sent_at))
        return published

    sub, published = await _with_subscriber(hub.events_url, work)
    return _latencies(published.sent_at, sub.by_seq), len(published.refused)


def _publish_phase(
    hub: HubProcess,
    base: str,
    count: int,
    seconds: float,
    prefix: str,
    flood_tag: str | None = None,
) -> tuple[list[float], int, dict[str, float]]:
    """One subscriber phase: `count` events (call ids `prefix`ed) published at PACED_RATE.

    With `flood_tag`, a flood of FLOOD_RATE requests a second for `seconds` runs from
    its own process meanwhile (started first) at the receiver at `base`. The
    latencies, the events refused, and the flood client's result (empty without).
    """
    flood = None
    if flood_tag is not None:
        flood = _flood(base, FLOOD_RATE, int(FLOOD_RATE * seconds), flood_tag, HOOKS_KEY)
    latency, refused = asyncio.run(_published_latency(hub, _publish_lines(count, prefix)))
    return latency, refused, {} if flood is None else _flood_result(flood)


def _answered_per_s(result: dict[str, float]) -> float:
    """Requests answered 2xx a second, of a burst's or a flood client's result."""
    return result["ok"] / result["seconds"]


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Accepted deliveries per second (vs a bare aiohttp server), latency, flood effect."""
    figure = Figure(KEY, TITLE)
    burst = 2_000 if scale.smoke else 20_000
    seconds = 2.0 if scale.smoke else 10.0
    paced = int(PACED_RATE * seconds)
    details: dict[str, Any] = {"burst": burst, "paced": paced, "seconds": seconds}

    bare_port = _free_port()
    bare = subprocess.Popen(
        [PYTHON, "-m", "bench.hooks_bare", str(bare_port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert bare.stdout is not None
        if bare.stdout.readline().strip() != "ready":
            raise RuntimeError("the bare aiohttp server did not start")
        base = f"http://127.0.0.1:{bare_port}"
        details["bare"] = _burst(base, burst, "bare", None, bare.pid)
    finally:
        bare.kill()
        bare.wait()

    hooks_port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        key_file = Path(tmp) / "hooks.key"
        key_file.write_text(HOOKS_KEY + "\n")
        with HubProcess("--hooks", f":{hooks_port}", "--hooks-key-file", str(key_file)) as hub:
            base = f"http://127.0.0.1:{hooks_port}"
            _wait_answering(f"{base}/hooks/exotel")
            details["burst_run"] = _burst(
                base, burst, "burst", HOOKS_KEY, hub.pid, lambda: _wait_applied(hub)
            )

            async def paced_work(sub: _Subscriber) -> dict[str, float]:
                sent = await _paced_deliveries(base, paced, "paced")
                await _wait_seen(sub.started, list(sent))
                return sent

            sub, sent = asyncio.run(_with_subscriber(hub.events_url, paced_work))
            hook_latency = _latencies(sent, sub.started)
            details["paced_missing"] = len(sent) - len(hook_latency)
            _wait_applied(hub)

            quiet, refused_quiet, _ = _publish_phase(hub, base, paced, seconds, "q-")
            loud, refused_loud, details["flood"] = _publish_phase(
                hub, base, paced, seconds, "f-", flood_tag="retried="
            )
            _wait_applied(hub)
            calls, refused_calls, details["calls_flood"] = _publish_phase(
                hub, base, paced, seconds, "c-", flood_tag="flood"
            )
            details["publish_refused"] = refused_quiet + refused_loud + refused_calls
            details["hub_log_tail"] = hub.log_text()[-2000:]

    ours = _answered_per_s(details["burst_run"])
    bare_rate = _answered_per_s(details["bare"])
    figure.add(
        Measure.against(
            "deliveries accepted (2xx) per second",
            ours,
            "/s",
            bare_rate,
            "bare aiohttp answering 200",
            ratio_name="of the bare server's rate",
            goal=">= 2,000/s",
            met=ours >= 2_000,
        )
    )
    ours_cpu = details["burst_run"]["server_cpu_us_per_delivery"]
    bare_cpu = details["bare"]["server_cpu_us_per_delivery"]
    figure.add(
        Measure.against(
            "serve's CPU per delivery accepted (hub and receiver)",
            ours_cpu,
            "µs",
            bare_cpu,
            "bare aiohttp answering 200",
            ratio_name="of the bare server's CPU",
            # One process, one GIL: a core's worth of CPU is its ceiling.
            goal="< 500 µs (2,000/s on one core)",
            met=ours_cpu < 500,
        )
    )
    p99 = percentile(hook_latency, 99)
    figure.add(
        Measure(
            f"delivery to subscriber p99 at {PACED_RATE:g}/s",
            p99,
            "ms",
            goal="< 50 ms",
            met=p99 is not None and p99 < 50,
        )
    )
    figure.add(Measure("delivery to subscriber p50", percentile(hook_latency, 50), "ms"))
    quiet99 = percentile(quiet, 99)
    loud99, flood_rate = percentile(loud, 99), _answered_per_s(details["flood"])
    figure.add(
        Measure.against(
            f"subscriber p99 at {PACED_RATE:g} ev/s, flood of {flood_rate:,.0f} requests/s",
            loud99,
            "ms",
            quiet99,
            "the same without the flood",
            ratio_name="of the quiet p99",
        )
    )
    calls99, calls_rate = percentile(calls, 99), _answered_per_s(details["calls_flood"])
    figure.add(
        Measure.against(
            f"subscriber p99 at {PACED_RATE:g} ev/s, {calls_rate:,.0f} new calls/s by webhook",
            calls99,
            "ms",
            quiet99,
            "the same without them",
            ratio_name="of the quiet p99",
        )
    )
    details.update(
        {
            "accepted_per_s": ours,
            "bare_per_s": bare_rate,
            "server_cpu_us_per_delivery": ours_cpu,
            "bare_cpu_us_per_delivery": bare_cpu,
            "client_cpu_us_per_delivery": details["burst_run"]["client_cpu_us_per_delivery"],
            "hook_latency_p50_ms": percentile(hook_latency, 50),
            "hook_latency_p99_ms": p99,
            "quiet_p50_ms": percentile(quiet, 50),
            "quiet_p99_ms": quiet99,
            "flood_p50_ms": percentile(loud, 50),
            "flood_p99_ms": loud99,
            "flood_rate": flood_rate,
            "calls_flood_p50_ms": percentile(calls, 50),
            "calls_flood_p99_ms": calls99,
            "calls_flood_rate": calls_rate,
        }
    )
    figure.details = details
    return figure
