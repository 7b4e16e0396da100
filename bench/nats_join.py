"""Figure 16: a board joins a hub on NATS whose stream holds a day of 1,000,000 events.

    python -m bench --only natsjoin

Issue 21 asks for the viewer join time with a day of 1,000,000 events in the
stream. The day is figure 12's (`bench.day_join.day_events`, `scale.events` of
them), and the steps are:

1. a hub on `--nats` (in this process, `running_hub`) starts once on an empty
   site, which creates the stream and the checkpoint bucket as `serve --nats`
   does, and stops;
2. the day is written straight to the stream with nats-py's JetStream publish,
   in the day's order, `FILL_IN_FLIGHT` awaiting their acknowledgement at once, each message
   as the hub writes one (`monitor.feed.nats_store`: the event's schema v1 JSON
   without `seq`, header `Nats-Msg-Id` from `event_msg_id`, subject
   `callboard.<site>.events`). Going through a hub would take an hour at figure
   14's rate (each event waits for its round trip); what is measured is after;
3. **rebuild**: a hub starts on that stream with no checkpoint (reads every
   message) and, stopped and started again, from the checkpoint it saved; the
   checkpoint saves the first one attempted while it read, and how many failed
   (they timed out before the bucket had a connection of its own, nats_store);
4. **join**: on each of these hubs a board (`monitor.board.Board` fed by a real
   `FeedClient`, `bench.day_join.join`) connects; the time from opening the
   connection to holding the whole day (its snapshot with the day state).
   Baseline: the same join on a `--journal` hub holding the same day (figure 12).

The boards joined on NATS must show the journal board's day (checked: the figure
fails otherwise). nats-server, hubs and board share this 2-core machine.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import nats
from nats.js.api import PubAck

from bench.day_join import day_events, join, shown
from bench.hub_start import read_at_start, timed_hub
from bench.nats_server import NatsServer
from bench.report import Figure, Measure, ratio
from bench.scale import Scale
from classifier.schema import Event
from monitor.feed.hub import HubConfig, running_hub
from monitor.feed.nats_config import (
    CHECKPOINT_KEY,
    MSG_ID_HEADER,
    NatsConfig,
    bucket_for,
    stream_for,
    subject_for,
)
from monitor.feed.nats_store import event_msg_id

KEY = "natsjoin"
TITLE = "16. a board joins a day held in NATS"
SITE = "day"
#: JetStream publishes awaiting their acknowledgement at once while the stream is filled.
FILL_IN_FLIGHT = 2_000
#: Acknowledgements checked together.
FILL_CHECK = 10_000


async def fill(url: str, site: str, events: list[Event]) -> float:
    """Write `events` to the site's stream, in order, as a hub writes them; seconds taken."""
    nc = await nats.connect(url)
    # publish_async sends in call order on one connection (the day's order, which the
    # tracker needs), at most FILL_IN_FLIGHT awaiting their acknowledgement.
    js = nc.jetstream(timeout=60, publish_async_max_pending=FILL_IN_FLIGHT)
    subject, stream = subject_for(site), stream_for(site)
    started = time.perf_counter()
    try:
        acks: list[asyncio.Future[PubAck]] = []
        for event in events:
            body = event.model_dump_json(by_alias=True, exclude_unset=True, exclude={"seq"})
            headers = {MSG_ID_HEADER: event_msg_id(event)}
            acks.append(
                await js.publish_async(subject, body.encode(), stream=stream, headers=headers)
            )
            if len(acks) >= FILL_CHECK:
                await _acked(acks)
        await _acked(acks)
        return time.perf_counter() - started
    finally:
        await nc.close()


async def _acked(acks: list[asyncio.Future[PubAck]]) -> None:
    """Wait for these acknowledgements (raising a failed one's error); none is a duplicate."""
    for ack in await asyncio.gather(*acks):
        if ack.duplicate:
            raise AssertionError(f"stream seq {ack.seq}: the day holds an event twice")
    acks.clear()


async def _nats_side(url: str, events: list[Event]) -> dict[str, Any]:
    """Create the site, fill its stream, then rebuild and join without and with a checkpoint."""
    config = HubConfig(
        port=0,
        nats=NatsConfig(url=url, keep_days=None),
        site=SITE,
        max_calls=None,
        call_expiry=None,
    )
    async with running_hub(config):
        pass  # creates the stream and the bucket, empty
    out: dict[str, Any] = {"fill_s": await fill(url, SITE, events)}
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream_for(SITE))
        out |= {"stream_messages": info.state.messages, "stream_bytes": info.state.bytes}
        kv = await js.key_value(bucket_for(SITE))
        await kv.delete(CHECKPOINT_KEY)  # the empty site's, if any: the first start reads all
    finally:
        await nc.close()
    boards = {}
    for name in ("whole", "checkpoint"):
        async with timed_hub(config) as (seconds, hub):
            out[f"rebuild_{name}_s"] = seconds
            out[f"rebuild_{name}_read"] = read_at_start(hub)
            assert hub.nats is not None
            stats = hub.nats.stats()
            # The checkpoint saves while it read (the one at stop comes after).
            out[f"rebuild_{name}_saves"] = stats["checkpoint_saves"]
            out[f"rebuild_{name}_save_failure"] = stats["checkpoint_failure"]
            out[f"join_{name}_s"], boards[name] = await join(hub.url)
            out["hub_events"] = hub.seq
    out["boards"] = boards
    return out


async def _journal_side(root: Path, events: list[Event]) -> dict[str, Any]:
    """Figure 12's join: the same day in a `--journal` hub."""
    config = HubConfig(port=0, journal=root / "day.journal", max_calls=None, call_expiry=None)
    async with running_hub(config) as hub:
        for i, event in enumerate(events):
            hub.publish(event)
            if i % 5_000 == 0:
                await asyncio.sleep(0)
        join_s, board = await join(hub.url)
        return {"join_s": join_s, "board": board, "hub_events": hub.seq}


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    """Join time on NATS against the journal's, and the hub's rebuild from the stream."""
    figure = Figure(KEY, TITLE)
    made = time.perf_counter()
    events = day_events(scale.events)
    simulate_s = time.perf_counter() - made
    with tempfile.TemporaryDirectory(prefix="callboard-natsjoin-") as tmp:
        root = Path(tmp)
        journal = asyncio.run(_journal_side(root, events))
        server = NatsServer(root)
        try:
            on_nats = asyncio.run(_nats_side(server.url, events))
        finally:
            server.stop()
    now = events[-1].ts
    expected = shown(journal.pop("board"), now)
    boards = on_nats.pop("boards")
    same = {name: shown(board, now) == expected for name, board in boards.items()}
    if not all(same.values()) or on_nats["hub_events"] != journal["hub_events"]:
        raise AssertionError(
            f"the boards joined on NATS show another day than the journal's: {same}, "
            f"{on_nats['hub_events']:,} events applied against {journal['hub_events']:,}"
        )
    n = on_nats["stream_messages"]
    for name, label in (("whole", "the whole stream"), ("checkpoint", "its checkpoint")):
        join_s = on_nats[f"join_{name}_s"]
        figure.add(
            Measure(
                f"join a {n:,}-event day on NATS, hub rebuilt from {label}",
                join_s * 1000,
                "ms",
                baseline=journal["join_s"] * 1000,
                baseline_name="the same join on a --journal hub",
                ratio=ratio(join_s, journal["join_s"]),
            )
        )
    figure.add(
        Measure(
            f"hub rebuild reading the whole stream ({on_nats['rebuild_whole_read']:,} messages)",
            on_nats["rebuild_whole_s"],
            "s",
            baseline=on_nats["rebuild_checkpoint_s"],
            baseline_name=f"from the checkpoint ({on_nats['rebuild_checkpoint_read']:,} read)",
            ratio=ratio(on_nats["rebuild_whole_s"], on_nats["rebuild_checkpoint_s"]),
        )
    )
    saves = on_nats["rebuild_whole_saves"]
    figure.add(
        Measure(
            f"checkpoint saves failed while rebuilding from the whole stream "
            f"(of {sum(saves.values())} attempted)",
            saves["failed"],
            "saves",
            goal="0",
            met=saves["failed"] == 0,
        )
    )
    figure.add(Measure("stream filled (JetStream publish)", n / on_nats["fill_s"], "msg/s"))
    figure.details = on_nats | {
        "journal_join_s": journal["join_s"],
        "events": len(events),
        "simulate_s": round(simulate_s, 1),
        "same_day": same,
        "cores": os.cpu_count(),
        "loadavg_1min": round(os.getloadavg()[0], 2),
    }
    return figure
