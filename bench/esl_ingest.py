"""Figure 8: ingest of FreeSWITCH event-socket text (issue 18), against splitting it alone.

There is no public capture of mod_callcenter's events; the real material is the 10
example events of the "Events" section of mod_callcenter's documentation
(../shared/realdata/freeswitch, LIVE.md). The text is built from them: each copy is
two calls as the documentation's events tell them (one answered: member-queue-start,
agent-offering, bridge-agent-start, bridge-agent-end, member-queue-end Terminated;
one that timed out: member-queue-start, agent-offering, bridge-agent-fail,
member-queue-end Cancel with its CC-Cancel-Reason), with the agent-status-change,
agent-state-change and members-count examples between them, each call with its own
member UUID and times. Every event also gets the headers every FreeSWITCH event
carries (Event-Name, Core-UUID, FreeSWITCH-Hostname ... Event-Sequence, as FreeSWITCH's
event list documents them; our values), since the examples leave them out and a
recorded event needs its Event-Date-Timestamp. Written as the socket sends it
(`event plain`): a `Content-Length` / `Content-Type: text/event-plain` frame header,
then the URL-encoded `Key: Value` body.

The measure is callboard's whole path for a recorded session
(`monitor.sources.iter_source(..., "freeswitch-esl")`: lines into blocks, values
decoded, each event mapped and validated into schema v1); the baseline, in the same
run and the same process, splits the same text into `Key: Value` dicts and does
nothing else (as figure 7 does for AMI).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.key_value_ingest import take_turns
from bench.report import Figure, Measure, ratio
from bench.scale import Scale

KEY = "esl"
TITLE = "10. FreeSWITCH ESL ingest"


DOC = (
    Path(__file__).resolve().parent.parent.parent
    / "shared"
    / "realdata"
    / "freeswitch"
    / "freeswitch-docs-mod_callcenter-events-section.md"
)
CACHE = Path("/tmp/callboard-bench")

#: The documentation's placeholder epoch (its times are 9000 to 10500 s after 1970).
DOC_T0 = 9000
#: Our day: 1 December 2026 00:00 UTC; each copy of the calls starts 30 s later.
T0 = 1_796_083_200
COPY_S = 30

#: (CC-Action, CC-Cause) of the examples, in the order a copy plays them; the member
#: UUID of the second call is its own.
SCRIPT: tuple[tuple[str, str | None, str], ...] = (
    ("agent-status-change", None, ""),
    ("member-queue-start", None, "a"),
    ("members-count", None, ""),
    ("agent-offering", None, "a"),
    ("agent-state-change", None, ""),
    ("bridge-agent-start", None, "a"),
    ("member-queue-start", None, "b"),
    ("agent-offering", None, "b"),
    ("bridge-agent-fail", None, "b"),
    ("member-queue-end", "Cancel", "b"),
    ("bridge-agent-end", None, "a"),
    ("member-queue-end", "Terminated", "a"),
)


def doc_events(path: Path = DOC) -> list[dict[str, str]]:
    """The documentation's example events, headers as printed (trailing spaces dropped)."""
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("Event-Subclass:"):
            current = {}
            events.append(current)
        if current is None:
            continue
        if not line or ":" not in line:
            current = None
            continue
        key, _, value = line.partition(":")
        current[key.strip()] = value.strip()
    return events


def _example(events: list[dict[str, str]], action: str, cause: str | None) -> dict[str, str]:
    for event in events:
        if event.get("CC-Action") == action and (cause is None or event.get("CC-Cause") == cause):
            return event
    raise LookupError(f"no {action} {cause or ''} example in {DOC}")


def _frame(headers: dict[str, str]) -> bytes:
    body = "".join(f"{k}: {quote(v, safe='')}\n" for k, v in headers.items()).encode() + b"\n"
    return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(body) + body


def esl_text(events: int) -> Path:
    """An event-plain session of `events` events built from the documentation (cached)."""
    path = CACHE / f"esl-v1-{events}.txt"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    examples = doc_events()
    script = [(_example(examples, action, cause), who) for action, cause, who in SCRIPT]
    parts: list[bytes] = []
    count = copy = 0
    while count < events:
        base = T0 + copy * COPY_S
        for step, (example, who) in enumerate(script):
            event = dict(example)
            for key, value in event.items():
                if key.endswith("-Time") and value.isdigit():
                    # The examples' times keep their offsets from 9000, on our day.
                    event[key] = str(base + (int(value) - DOC_T0) // 100)
            if who:
                event["CC-Member-UUID"] = f"{copy:08d}-{who}-4322-4242362fd23d"
            at = base + step
            headers = {
                "Event-Name": "CUSTOM",
                "Core-UUID": "2130a7d1-c1f7-44cd-8fae-8ed5946f3cec",
                "FreeSWITCH-Hostname": "pbx1",
                "FreeSWITCH-Switchname": "pbx1",
                "FreeSWITCH-IPv4": "10.0.0.5",
                "FreeSWITCH-IPv6": "::1",
                "Event-Date-Local": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at)),
                "Event-Date-GMT": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(at)),
                "Event-Date-Timestamp": str(at * 1_000_000),
                "Event-Calling-File": "mod_callcenter.c",
                "Event-Calling-Function": "cc_send_event",
                "Event-Calling-Line-Number": "1080",
                "Event-Sequence": str(count + 1),
                **event,
            }
            parts.append(_frame(headers))
            count += 1
            if count >= events:
                break
        copy += 1
    path.write_bytes(b"".join(parts))
    return path


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Ingest and split-only on the same text, taking turns; each side's fastest run."""
    figure = Figure(KEY, TITLE)
    events = 5_000 if scale.smoke else 120_000
    path = esl_text(events)
    turns = take_turns(path, "freeswitch-esl")
    split_s, ingest_s = turns.split_s, turns.ingest_s
    figure.add(
        Measure(
            "ESL events per second",
            events / min(ingest_s),
            "ev/s",
            baseline=events / min(split_s),
            baseline_name="split into Key: Value dicts only",
            ratio=ratio(min(ingest_s), min(split_s)),
            ratio_name="the split's time",
        )
    )
    figure.details = {"esl_events": events} | turns.details(path)
    return figure
