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
from pathlib import Path
from typing import Any

from bench.key_value_ingest import take_turns
from bench.report import Figure, Measure, ratio
from bench.scale import Scale

KEY = "ami"
TITLE = "9. AMI ingest"

GOAL_RATE = 50_000

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


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Ingest and split-only on the same text, taking turns; each side's fastest run."""
    figure = Figure(KEY, TITLE)
    events = 20_000 if scale.smoke else 300_000
    path = ami_text(events)
    turns = take_turns(path, "asterisk-ami")
    split_s, ingest_s = turns.split_s, turns.ingest_s
    rate = turns.blocks / min(ingest_s)
    floor = turns.blocks / min(split_s)
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
    figure.details = {"messages": turns.blocks} | turns.details(path)
    return figure
