"""A deterministic schema v1 event stream with a steady number of calls in progress.

This is the benchmark's own load: the same bytes every run, so that runs
compare. Calls follow the paths the classifier's rules care about (answered,
rung and missed, abandoned in the queue, voicemail, IVR hang-ups, outbound
with Exotel leg statuses) and interleave so that `open_calls` are in progress
at any moment, which is what a large centre looks like to the classifier.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

#: Bump when the generated stream changes, so cached logs are rebuilt.
VERSION = 1
CACHE = Path("/tmp/callboard-bench")
START = datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC)

Script = list[dict[str, Any]]


def _call_script(rng: random.Random, n: int) -> Script:
    """The events of one call, in order, without call_id and ts (filled in when emitted)."""
    queue = rng.choice(("sales", "support", "billing", "returns"))
    agents = [f"agent-{rng.randrange(200):03d}" for _ in range(3)]
    caller = f"+4420{rng.randrange(10**7):07d}"
    start = {"type": "call.started", "from": caller, "to": "+442000000000"}
    path = rng.random()
    if path < 0.55:  # answered, sometimes after a miss
        events: Script = [start, {"type": "greeting.started", "greeting": "welcome"}]
        events.append({"type": "queue.entered", "queue": queue})
        if rng.random() < 0.3:
            events += [
                {"type": "agent.ringing", "agent": agents[0]},
                {"type": "agent.no_answer", "agent": agents[0]},
            ]
        events += [
            {"type": "agent.ringing", "agent": agents[1]},
            {"type": "agent.answered", "agent": agents[1]},
            {"type": "call.ended", "by": rng.choice(("caller", "agent"))},
        ]
    elif path < 0.70:  # rung, nobody answered
        events = [
            start,
            {"type": "queue.entered", "queue": queue},
            {"type": "agent.ringing", "agent": agents[0]},
            {"type": "agent.rejected", "agent": agents[0]},
            {"type": "call.ended", "by": "caller"},
        ]
    elif path < 0.82:  # abandoned while waiting
        events = [
            start,
            {"type": "greeting.started", "greeting": "welcome"},
            {"type": "queue.entered", "queue": queue},
            {"type": "call.ended", "by": "caller"},
        ]
    elif path < 0.90:  # voicemail from the queue
        events = [
            start,
            {"type": "queue.entered", "queue": queue},
            {"type": "voicemail.started", "via": "queue"},
            {"type": "voicemail.beep"},
            {"type": "call.ended", "by": "caller"},
        ]
    elif path < 0.95:  # hung up in the IVR
        events = [
            start,
            {"type": "ivr.entered", "menu": "main"},
            {"type": "call.ended", "by": "caller"},
        ]
    else:  # outbound, Exotel leg statuses
        leg2 = rng.choice(("completed", "no-answer", "busy"))
        events = [
            dict(start, direction="outbound", flow="connect_two_numbers"),
            {
                "type": "call.ended",
                "by": "system",
                "status": "completed" if leg2 == "completed" else leg2,
                "leg1_status": "completed",
                "leg2_status": leg2,
            },
        ]
    return events


def generate(
    count: int, open_calls: int, seed: int = 1, rate: float = 1000.0
) -> Iterator[dict[str, Any]]:
    """`count` events as wire dicts, `open_calls` calls in progress, `rate` events per second."""
    rng = random.Random(seed)
    step = timedelta(seconds=1.0 / rate)
    now = START
    next_call = 0
    active: list[tuple[str, Script]] = []

    def open_one() -> tuple[str, Script]:
        nonlocal next_call
        next_call += 1
        return (f"c{seed}-{next_call:08d}", _call_script(rng, next_call))

    active = [open_one() for _ in range(open_calls)]
    for seq in range(count):
        now += step
        if seq % 500 == 499:
            agent = f"agent-{rng.randrange(200):03d}"
            status = rng.choice(("available", "busy", "wrap_up", "paused"))
            yield {
                "type": "agent.status",
                "agent": agent,
                "status": status,
                "ts": now.isoformat(timespec="milliseconds"),
                "seq": seq,
            }
            continue
        slot = rng.randrange(len(active))
        call_id, script = active[slot]
        event = dict(script.pop(0), call_id=call_id, ts=now.isoformat(timespec="milliseconds"))
        event["seq"] = seq
        if not script:
            active[slot] = open_one()
        yield event


def write_log(path: Path, count: int, open_calls: int, seed: int = 1) -> Path:
    """Write a JSON Lines log of `count` events."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        lines = []
        for event in generate(count, open_calls, seed):
            lines.append(json.dumps(event, separators=(",", ":")))
            if len(lines) >= 10_000:
                out.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            out.write("\n".join(lines) + "\n")
    tmp.replace(path)
    return path


def cached_log(count: int, open_calls: int, seed: int = 1) -> Path:
    """A generated log, built once per size and kept under /tmp for later runs."""
    path = CACHE / f"events-v{VERSION}-{count}-{open_calls}-{seed}.jsonl"
    if not path.exists():
        write_log(path, count, open_calls, seed)
    return path
