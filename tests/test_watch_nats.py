"""A board reading its sites straight from NATS: `callboard watch nats://... --sites a,b`.

Against a real nats-server (tests/nats_support.py): two real hubs on NATS (sites a
and b) store the simulator's events in their streams; the board is the real app
headless, fed by `nats_sites_runner` as `watch nats://... --sites a,b` feeds it,
with no hub of the sites in between. What each hub says of its day is read with
the real `callboard report --so-far` against it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import nats
import nats.js.errors
import pytest

from classifier.day import combined, tally_to_dict
from classifier.kpi import Tally
from classifier.sites import site_row
from monitor.app.app import CallboardApp
from monitor.app.hub_feed import hub_runner
from monitor.app.nats_sites import nats_sites_runner
from monitor.app.sites_feed import hub_address, sites_runner
from monitor.app.widgets.status import ConnectionBar
from monitor.feed.client import FeedClient, Snapshot, SourceStatus
from monitor.feed.hub import HubConfig, running_hub
from monitor.feed.nats_config import NatsConfig, bucket_for, stream_for
from monitor.feed.protocol import StoreStatus
from monitor.sim.config import SimConfig
from monitor.sim.model import simulate
from tests.app_support import until
from tests.cli_support import callboard, report_totals
from tests.hub_support import StartServe, free_port, make_calls
from tests.nats_support import NatsServer

COUNTED = ("offered", "answered", "missed", "abandoned", "voicemail")


def counts(tally: Tally) -> dict[str, int]:
    return {key: getattr(tally, key) for key in COUNTED}


@pytest.mark.slow
async def test_a_board_on_nats_shows_each_sites_day_as_its_hubs_report_it(
    nats_server: NatsServer,
) -> None:
    # The same simulator numbering at both sites: their call ids collide unless labelled.
    a_events = list(simulate(SimConfig(hours=0.3, seed=3)))
    b_events = list(simulate(SimConfig(hours=0.3, seed=4)))
    now = max(e.ts for e in a_events + b_events) + timedelta(seconds=1)
    # A checkpoint every 200 stream messages: the board starts from one and the stream.
    nats_config = NatsConfig(url=nats_server.url, checkpoint_every=200)
    async with (
        running_hub(HubConfig(port=0, site="a", nats=nats_config)) as hub_a,
        running_hub(HubConfig(port=0, site="b", nats=nats_config)) as hub_b,
    ):
        # Half of each day before the board joins: it reads it from checkpoint and stream.
        for event in a_events[: len(a_events) // 2]:
            await hub_a.submit(event)
        for event in b_events[: len(b_events) // 2]:
            await hub_b.submit(event)
        assert hub_a.nats is not None and hub_a.nats.stats()["checkpoint_stream_seq"] > 0
        runner = nats_sites_runner(NatsConfig(url=nats_server.url), ["a", "b"])
        app = CallboardApp(runner, clock=lambda: now)
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: [s.state for s in app.connection.sites] == ["live"] * 2)
            assert [s.site for s in app.connection.sites] == ["a", "b"]
            # The calls in progress of both sites, labelled, as their hubs hold them.
            in_progress = {f"a/{c.call_id}" for c in hub_a.tracker} | {
                f"b/{c.call_id}" for c in hub_b.tracker
            }
            assert len(in_progress) > 2
            assert {call.call_id for call in app.board.tracker} == in_progress
            for event in a_events[len(a_events) // 2 :]:
                await hub_a.submit(event)
            for event in b_events[len(b_events) // 2 :]:
                await hub_b.submit(event)
            await until(
                pilot,
                lambda: (
                    app.board.day.queues.get(site_row("a")) == hub_a.day.total
                    and app.board.day.queues.get(site_row("b")) == hub_b.day.total
                ),
            )
            totals_a, totals_b = await report_totals(hub_a.url), await report_totals(hub_b.url)
            report_a = {key: totals_a[key] for key in COUNTED}
            report_b = {key: totals_b[key] for key in COUNTED}
            site_a = app.board.day.queues[site_row("a")]
            site_b = app.board.day.queues[site_row("b")]
            assert report_a["offered"] > 0 and report_b["offered"] > 0
            assert counts(site_a) == report_a
            assert counts(site_b) == report_b
            total = tally_to_dict(app.board.day.total)
            assert total == pytest.approx(tally_to_dict(combined([site_a, site_b])))
            assert counts(app.board.day.total) == {k: report_a[k] + report_b[k] for k in COUNTED}


async def test_watch_nats_of_a_site_no_hub_served_exits_2_and_creates_nothing(
    nats_server: NatsServer,
) -> None:
    result = await asyncio.to_thread(
        callboard, "watch", nats_server.url, "--sites", "nowhere", timeout=60
    )
    assert result.returncode == 2
    assert "has no stream CALLBOARD_nowhere" in result.stderr
    assert "--site nowhere" in result.stderr
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        with pytest.raises(nats.js.errors.NotFoundError):
            await js.stream_info(stream_for("nowhere"))
        with pytest.raises(nats.js.errors.BucketNotFoundError):
            await js.key_value(bucket_for("nowhere"))
    finally:
        await nc.close()


def test_watch_nats_usage_errors_name_what_is_wrong() -> None:
    unreachable = callboard("watch", "nats://127.0.0.1:1", "--sites", "a", timeout=60)
    assert unreachable.returncode == 2
    assert "cannot connect to NATS at nats://127.0.0.1:1" in unreachable.stderr
    for args, said in (
        (["nats://127.0.0.1:1"], "give the sites to show with --sites"),
        (["nats://127.0.0.1:1", "--sites", "a,a"], "names a site twice"),
        (["nats://127.0.0.1:1", "--sites", "a/b"], "'a/b' is not a site name"),
        (["nats://127.0.0.1:1", "ws://127.0.0.1:1"], "either hubs"),
        (["ws://127.0.0.1:1", "--sites", "a"], "--sites goes with nats:// URLs only"),
        (["ws://127.0.0.1:1,ws://127.0.0.1:1#a"], "the same hub is given twice"),
        (["ws://127.0.0.1:1,http://127.0.0.1:2#a"], "not a websocket URL"),
    ):
        result = callboard("watch", *args, timeout=60)
        assert result.returncode == 2, args
        assert said in result.stderr, (args, result.stderr)


def bar_of(app: CallboardApp) -> str:
    return app.query_one(ConnectionBar).describe().plain


@pytest.mark.slow
async def test_the_bar_says_nats_is_away_and_how_many_events_wait(
    nats_server: NatsServer,
) -> None:
    calls = [e for e in make_calls(3) if e.type == "call.started"]
    async with running_hub(
        HubConfig(port=0, site="east", nats=NatsConfig(url=nats_server.url))
    ) as hub:
        app = CallboardApp(hub_runner(hub.url))
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: bar_of(app).startswith("● live"))
            nats_server.kill()
            await until(pilot, lambda: "NATS disconnected, 0 events buffered" in bar_of(app))
            assert bar_of(app).startswith("◌ hub live; NATS disconnected")
            producers = [asyncio.create_task(hub.submit(event)) for event in calls]
            await until(pilot, lambda: "NATS disconnected, 3 events buffered" in bar_of(app))
            # A viewer joining during the outage hears of it in its snapshot.
            client = FeedClient(hub.url)
            joined = await anext(aiter(client))
            await client.close()
            assert isinstance(joined, Snapshot)
            assert joined.source.store == StoreStatus("nats", "disconnected", 3)
            nats_server.start()
            results = await asyncio.wait_for(asyncio.gather(*producers), 60)
            assert all(r.accepted for r in results)
            assert sorted(r.seq or 0 for r in results) == [1, 2, 3]
            await until(pilot, lambda: bar_of(app).startswith("● live"))
            assert "NATS" not in bar_of(app)
            await until(pilot, lambda: len(app.board.tracker) == 3)


@pytest.mark.slow
async def test_a_board_on_nats_says_which_site_lost_nats_and_keeps_what_it_has(
    nats_server: NatsServer,
) -> None:
    calls = [e for e in make_calls(4) if e.type == "call.started"]
    async with running_hub(
        HubConfig(port=0, site="a", nats=NatsConfig(url=nats_server.url))
    ) as hub:
        for event in calls[:2]:
            await hub.submit(event)
        app = CallboardApp(nats_sites_runner(NatsConfig(url=nats_server.url), ["a"]))
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: len(app.board.tracker) == 2)
            assert bar_of(app).startswith("● a live")
            nats_server.kill()
            await until(pilot, lambda: "a live; NATS disconnected" in bar_of(app))
            assert len(app.board.tracker) == 2  # what it had stays on the board
            nats_server.start()
            await until(pilot, lambda: "NATS" not in bar_of(app))
            for event in calls[2:]:
                await asyncio.wait_for(hub.submit(event), 60)
            await until(pilot, lambda: len(app.board.tracker) == 4)
            assert {call.call_id for call in app.board.tracker} == {
                f"a/{event.call_id}" for event in calls
            }


@pytest.mark.slow
async def test_a_site_given_two_hubs_fails_over_to_the_second_with_nothing_lost_or_twice(
    nats_server: NatsServer, serve: StartServe
) -> None:
    events = list(simulate(SimConfig(hours=0.2, seed=6)))
    now = max(e.ts for e in events) + timedelta(seconds=1)
    async with running_hub(HubConfig(port=0)) as continuous:
        for event in events:
            continuous.publish(event)
    # Hub 2 takes every event; hub 1 (a real `serve --nats` process) applies what the
    # stream gives back, as every hub of the site does.
    async with running_hub(
        HubConfig(port=0, site="east", nats=NatsConfig(url=nats_server.url))
    ) as hub_2:
        hub_1 = serve(["--nats", nats_server.url, "--site", "east", "--port", "0"])
        site = f"{hub_1.url},{hub_2.url}#east"
        address = hub_address(site)
        assert (address.url, address.alternatives) == (hub_1.url, (hub_2.url,))
        app = CallboardApp(sites_runner([address]), clock=lambda: now)
        viewer = FeedClient(address.url, alternatives=address.alternatives)
        seen: list[int] = []

        async def watch() -> None:
            async for item in viewer:
                if not isinstance(item, Snapshot | SourceStatus):
                    assert item.seq is not None
                    seen.append(item.seq)

        watching = asyncio.create_task(watch())
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: bar_of(app).startswith("● east live"))
            half = len(events) // 2
            for event in events[:half]:
                await hub_2.submit(event)
            await until(pilot, lambda: len(seen) == half)
            assert viewer.state.url == hub_1.url  # still on hub 1
            hub_1.kill()
            for event in events[half:]:
                await hub_2.submit(event)
            await until(
                pilot, lambda: app.board.day.queues.get(site_row("east")) == hub_2.day.total
            )
            await until(pilot, lambda: len(seen) == continuous.seq)
            assert bar_of(app).startswith("● east live")
        await viewer.close()
        await watching
    # Resumed on hub 2 with ?since= (one snapshot, at the start): each seq once, in order.
    assert viewer.state.url == hub_2.url
    assert (viewer.state.snapshots, viewer.state.resumes) == (1, 1)
    assert seen == list(range(1, continuous.seq + 1))
    # The board's day is a continuous hub's.
    assert counts(app.board.day.queues[site_row("east")]) == counts(continuous.day.total)
    assert counts(continuous.day.total)["offered"] > 0


@pytest.mark.slow
async def test_two_hubs_that_say_the_same_site_and_hub_id_are_one_site_with_failover(
    nats_server: NatsServer, serve: StartServe
) -> None:
    events = list(simulate(SimConfig(hours=0.2, seed=7)))
    now = max(e.ts for e in events) + timedelta(seconds=1)
    async with running_hub(HubConfig(port=0)) as continuous:
        for event in events:
            continuous.publish(event)
    nats = ["--nats", nats_server.url, "--site", "east"]
    # The producers' hub, not shown to the board; the board is given hubs 1 and 2.
    async with running_hub(
        HubConfig(port=0, site="east", nats=NatsConfig(url=nats_server.url))
    ) as producers:
        hub_1 = serve([*nats, "--port", "0"])
        port_2 = free_port()
        urls = [hub_address(hub_1.url), hub_address(f"ws://127.0.0.1:{port_2}")]
        app = CallboardApp(sites_runner(urls), clock=lambda: now)
        async with app.run_test(size=(160, 50)) as pilot:
            # Hub 2 is not up yet: the board follows hub 1, and tries hub 2 as a site.
            await until(pilot, lambda: "● east live" in bar_of(app))
            half = len(events) // 2
            for event in events[:half]:
                await producers.submit(event)
            serve([*nats, "--port", str(port_2)])
            # Hub 2 says site east with east's hub id: an alternative, not a second site.
            await until(pilot, lambda: [s.site for s in app.connection.sites] == ["east"])
            hub_1.kill()
            for event in events[half:]:
                await producers.submit(event)
            await until(
                pilot,
                lambda: app.board.day.queues.get(site_row("east")) == producers.day.total,
            )
            assert bar_of(app).startswith("● east live")
            assert app.board.problem_count == 0
    assert counts(app.board.day.queues[site_row("east")]) == counts(continuous.day.total)
