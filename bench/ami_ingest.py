"""Figure 7: ingest of recorded AMI text (issue 18), against splitting it alone.

The text is the real recordings of ../shared/realdata/asterisk-ami (every cacofonisk
scenario and the panoramisk sessions, as CRLF wire text), repeated with each copy's
Uniqueids made its own until it holds the scale's number of events: mostly the chatty
events a real AMI stream is made of (VarSet, Newexten, AGIExec, Newstate...), with the
queue calls among them. The measure is callboard's whole path for a recorded session
(`monitor.sources.iter_source(..., "asterisk-ami")`: lines split into messages, each
mapped, the events validated into schema v1); the baseline, in the same run and the
same process, splits the same text into `Key: Value` dicts and does nothing else.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from bench.report import Figure, Measure, ratio
from bench.scale import Scale

KEY = "ami"
TITLE = "9. AMI ingest"

GOAL_RATE = 50_000
RUNS = 3

REALDATA = Path(__file__).resolve().parent.parent.parent / "shared" / "realdata" / "asterisk-ami"
CACHE = Path("/tmp/callboard-bench")


def _recorded_events() -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    for path in sorted(REALDATA.glob("cacofonisk-*/**/*.json")):
        for item in json.loads(path.read_text()):
            # On the wire Event is every event's first header; the recorder's JSON
            # objects hold their keys in another order.
            event = {"Event": str(item.get("Event", ""))}
            event.update((k, str(v)) for k, v in item.items() if k != "content")
            events.append(event)
    for path in sorted((REALDATA / "panoramisk").glob("*.yaml")):
        block: dict[str, str] = {}
        for line in path.read_text(errors="replace").splitlines():
            key, sep, value = line.partition(": ")
            if sep:
                block[key] = value
            elif not line.strip() and block:
                if "Event" in block:
                    events.append(block)
                block = {}
    return events


def ami_text(events: int) -> Path:
    """A CRLF AMI session of about `events` events from the real recordings (cached)."""
    path = CACHE / f"ami-v2-{events}.txt"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    recorded = _recorded_events()
    parts = [b"Asterisk Call Manager/5.0.1\r\n"]
    count, copy = 0, 0
    while count < events:
        copy += 1
        for event in recorded:
            text = "".join(
                f"{k}: {v.replace('.', f'.{copy}0', 1) if 'niqueid' in k else v}\r\n"
                for k, v in event.items()
            )
            parts.append(text.encode() + b"\r\n")
            count += 1
            if count >= events:
                break
    path.write_bytes(b"".join(parts))
    return path


def split_only(path: Path) -> int:
    """The baseline: every message as a dict of its `Key: Value` lines, nothing else."""
    messages = 0
    block: dict[str, str] = {}
    with path.open("rb") as stream:
        for raw in stream:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line:
                if block:
                    messages += 1
                    block = {}
                continue
            key, _, value = line.partition(":")
            block[key] = value[1:]
    return messages + (1 if block else 0)


def ingest(path: Path) -> tuple[int, int]:
    """callboard's path: (schema events produced, problems)."""
    from monitor.sources import iter_source
    from monitor.sources.reader import LineEvent

    produced = problems = 0
    for item in iter_source(path, "asterisk-ami"):
        if isinstance(item, LineEvent):
            produced += 1
        else:
            problems += 1
    return produced, problems


def _timed(fn: Any, path: Path) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn(path)
    return time.perf_counter() - start, result


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Ingest and split-only on the same text, taking turns; each side's fastest run."""
    figure = Figure(KEY, TITLE)
    events = 20_000 if scale.smoke else 300_000
    path = ami_text(events)
    split_s, ingest_s = [], []
    produced = problems = messages = 0
    for _ in range(RUNS):
        seconds, messages = _timed(split_only, path)
        split_s.append(seconds)
        seconds, (produced, problems) = _timed(ingest, path)
        ingest_s.append(seconds)
    rate = messages / min(ingest_s)
    floor = messages / min(split_s)
    figure.add(
        Measure(
            "AMI events per second",
            rate,
            "ev/s",
            baseline=floor,
            baseline_name="split into Key: Value dicts only",
            ratio=ratio(min(ingest_s), min(split_s)),
            ratio_name="the split's time",
            goal=f">= {GOAL_RATE:,} ev/s",
            met=rate >= GOAL_RATE,
        )
    )
    figure.details = {
        "messages": messages,
        "schema_events": produced,
        "problems": problems,
        "bytes": path.stat().st_size,
        "ingest_s": ingest_s,
        "split_s": split_s,
    }
    return figure
