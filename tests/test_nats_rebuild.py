"""A hub rebuilding a big day from its NATS stream, against a real nats-server.

Figure 16 saw 10-13 of ~100 checkpoint saves time out while a hub read a
1,000,000-event day from the stream: the save's acknowledgements came back on the
stream's connection behind megabytes of stream messages (monitor/feed/nats_store.py).
Here a stream of `EVENTS` events of the simulator's big day (`bench.day_join`),
written as hubs write them (`bench.nats_join.fill`), is rebuilt: every checkpoint
saved meanwhile succeeds, the hub says how far it got (log and /health) and refuses
viewers and producers until it is done, and a hub SIGKILLed mid-rebuild starts
again from a checkpoint that rebuild saved. A save the server refuses is counted and
logged once, naming the part and the server's reason.
"""

from __future__ import annotations

import asyncio
import logging
import re
import urllib.error
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.api import KeyValueConfig
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from bench.day_join import day_events
from bench.nats_join import fill
from monitor.feed.hub import Hub, HubConfig, running_hub
from monitor.feed.nats_config import NatsConfig, bucket_for
from tests.cli_support import start_callboard
from tests.hub_support import StartServe, free_port, get_health, make_calls, wait_for
from tests.nats_support import NatsServer

#: Stream messages rebuilt: several seconds of reading on this machine, so that
#: checkpoints are saved while the hub reads.
EVENTS = 40_000
SITE = "big"


async def filled_site(server: NatsServer) -> None:
    """The site's stream and bucket (made as a hub makes them) holding `EVENTS` events."""
    async with running_hub(HubConfig(port=0, site=SITE, nats=NatsConfig(url=server.url))):
        pass
    await fill(server.url, SITE, day_events(EVENTS))


def hub_config(server: NatsServer, **nats: Any) -> HubConfig:
    return HubConfig(
        port=0,
        site=SITE,
        max_calls=None,
        call_expiry=None,
        nats=NatsConfig(url=server.url, keep_days=None, **nats),
    )


@pytest.mark.slow
async def test_a_rebuild_saves_every_checkpoint_says_how_far_it_got_and_serves_nobody_meanwhile(
    nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    await filled_site(nats_server)
    caplog.set_level(logging.INFO, "callboard.nats")
    hub = Hub(
        hub_config(
            nats_server,
            checkpoint_every=5_000,
            rebuild_checkpoint_s=0.2,
            # Figure 16's saves waited 5-10 s; here a tenth of the day is read, so an
            # answer stuck behind the stream's messages shows sooner.
            bucket_timeout=1.5,
            progress_first=0.5,
            progress_every=0.5,
        )
    )
    starting = asyncio.create_task(hub.start())
    try:
        await wait_for(
            lambda: hub.port != 0 and hub.nats is not None and hub.nats.read_at_start > 0,
            "the hub listening while it rebuilds",
        )
        health = (await get_health(hub.base_url))["nats"]
        assert health["rebuilding"] is True
        assert 0 < health["read_at_start"] < health["rebuild_of"] == EVENTS
        for path in ("/events", "/publish"):
            with pytest.raises(InvalidStatus) as refused:
                async with connect(hub.base_url + path):
                    pass
            response = refused.value.response
            assert response.status_code == 503
            assert b"rebuilding site big from the stream: " in response.body
        await starting
        assert hub.nats is not None
        stats = hub.nats.stats()
        assert stats["rebuilding"] is False and stats["read_at_start"] == EVENTS
        # Every save of the rebuild succeeded (no timeout), and there were several.
        assert stats["checkpoint_saves"]["failed"] == 0, stats["checkpoint_failure"]
        assert stats["checkpoint_saves"]["saved"] >= 3, stats["checkpoint_saves"]
        assert 0 < stats["checkpoint_stream_seq"] <= EVENTS
    finally:
        if not starting.done():
            starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        await hub.stop()
    log = [record.getMessage() for record in caplog.records]
    assert not [line for line in log if "not saved" in line]
    progress = [line for line in log if line.startswith("rebuilding site big from the stream: ")]
    # What it reads and where to look meanwhile, then how far it got every half second.
    assert progress[0] == (
        "rebuilding site big from the stream: 40,000 messages after stream seq 0; meanwhile "
        f"{hub.base_url.replace('ws', 'http', 1)}/health answers, /events and /publish answer 503"
    )
    counts = [
        int(m.replace(",", ""))
        for m in re.findall(
            r"^rebuilding site big from the stream: ([\d,]+) of 40,000 messages \(\d+%\)$",
            "\n".join(progress[1:]),
            re.M,
        )
    ]
    assert len(counts) == len(progress) - 1 >= 1, progress
    assert counts == sorted(counts) and 0 < counts[0] < EVENTS


async def health_while_starting(base_url: str) -> dict[str, Any] | None:
    """The hub's /health, or None while it does not listen yet."""
    try:
        return await get_health(base_url)
    except (urllib.error.URLError, ConnectionError):
        return None


@pytest.mark.slow
async def test_a_hub_killed_mid_rebuild_starts_again_from_a_checkpoint_that_rebuild_saved(
    nats_server: NatsServer, serve: StartServe, tmp_path: Path
) -> None:
    await filled_site(nats_server)
    port = free_port()
    args = ["--nats", nats_server.url, "--site", SITE, "--port", str(port)]
    stderr = tmp_path / "first.stderr"
    with stderr.open("w") as err:
        first = start_callboard("serve", *args, stderr=err)
    try:
        seen: dict[str, Any] = {}

        async def saved_while_rebuilding() -> bool:
            health = await health_while_starting(f"ws://127.0.0.1:{port}")
            if health is None:
                return False
            seen.update(health["nats"])
            assert seen["rebuilding"], f"the rebuild ended before a checkpoint was saved: {seen}"
            return int(seen["checkpoint_stream_seq"]) > 0

        await wait_for(saved_while_rebuilding, "a checkpoint saved during the rebuild")
        first.kill()
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(timeout=30)
    saved = int(seen["checkpoint_stream_seq"])
    assert 0 < saved < EVENTS and seen["read_at_start"] < EVENTS
    assert "checkpoint not saved" not in stderr.read_text()
    # Started again: from that checkpoint (or one saved after it before the kill).
    again = serve(args)
    health = (await get_health(again.url.removesuffix("/events")))["nats"]
    assert saved <= health["started_from_checkpoint"] < EVENTS
    assert health["read_at_start"] == EVENTS - health["started_from_checkpoint"]
    assert health["stream_seq"] == EVENTS and health["rebuilding"] is False


async def test_a_save_the_server_refuses_is_counted_and_logged_once_naming_the_part(
    nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The site's bucket made beforehand with values of at most 512 bytes: every
    # checkpoint of a day with calls in it is refused by the server.
    nc = await nats.connect(nats_server.url)
    try:
        await nc.jetstream().create_key_value(
            KeyValueConfig(bucket=bucket_for("east"), max_value_size=512)
        )
    finally:
        await nc.close()
    caplog.set_level(logging.INFO, "callboard.nats")
    config = HubConfig(
        port=0, site="east", nats=NatsConfig(url=nats_server.url, checkpoint_every=20)
    )
    async with running_hub(config) as hub:
        for event in make_calls(10):  # 50 events: saves at stream seq 20, 40 and stop
            assert (await hub.submit(event)).accepted
        await wait_for(
            lambda: hub.nats is not None and hub.nats.saves["failed"] == 2, "two failed saves"
        )
        stats = (await get_health(hub.base_url))["nats"]
        assert stats["checkpoint_saves"] == {"saved": 0, "failed": 2, "superseded": 0}
        failure = stats["checkpoint_failure"]
        assert failure.startswith("stream seq 40: part 1 of 1 (")
        assert failure.endswith("message size exceeds maximum allowed'")
    failed = [r.getMessage() for r in caplog.records if "not saved" in r.getMessage()]
    # One line per failed save, each naming the part and the server's reason.
    assert [line.split(": part 1 of 1 (")[0] for line in failed] == [
        "checkpoint not saved (stream seq 20)",
        "checkpoint not saved (stream seq 40)",
        "checkpoint at stop not saved (stream seq 50)",
    ]
    assert all(line.endswith("message size exceeds maximum allowed'") for line in failed)
