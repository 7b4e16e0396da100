"""Hubs on NATS JetStream (`serve --nats`), against a real nats-server (tests/nats_support.py).

The stream is the hub's store: what a hub accepts is in the stream once (Nats-Msg-Id),
a hub that starts rebuilds its state from the bucket's checkpoint and the stream,
two hubs of one site give their viewers the same seqs and events, a NATS server
killed mid-stream and started again on its store loses nothing and applies nothing
twice, and a stream message that is not an event is counted and skipped.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from classifier.schema import Event
from monitor.cli import build_parser
from monitor.commands.nats_options import nats_config
from monitor.commands.options import UsageError
from monitor.feed.hub import Hub, HubConfig, Refusal, running_hub
from monitor.feed.nats_config import MSG_ID_HEADER, NatsConfig, NatsUnavailable, subject_for
from monitor.feed.nats_store import event_msg_id
from monitor.hooks.server import EXOTEL_PATH, EXOTEL_PREFIX
from tests.cli_support import ROOT, callboard
from tests.hooks_support import hooks_hub, json_lines
from tests.hub_support import get_health, make_calls, open_calls, wait_for
from tests.nats_support import (
    NatsServer,
    StatusFrames,
    Watcher,
    checkpoint_manifest,
    delete_checkpoint,
    nats_cluster,
    put_checkpoint_manifest,
    raw_publish,
    stream_messages,
    wait_jetstream,
)

EXOTEL_CALLBACKS = ROOT / "fixtures" / "exotel" / "status_callbacks.jsonl"


def nats_hub(server: NatsServer, site: str = "east", **nats: Any) -> Any:
    """A started hub of `site` whose store is the server's stream."""
    return running_hub(HubConfig(port=0, site=site, nats=NatsConfig(url=server.url, **nats)))


def state_of(hub: Hub) -> dict[str, Any]:
    """What a restarted or second hub must agree on: seq, calls in progress, day, agents."""
    _, state = hub.checkpoint_state()
    return {key: state[key] for key in ("seq", "tracker", "day", "agents")}


def still_open(n_calls: int, start: int) -> list[Event]:
    """`n_calls` calls left in progress, with ids of their own (beside `make_calls`' ids)."""
    return [
        event.model_copy(update={"call_id": "open-" + event.call_id})
        for event in open_calls(n_calls, start=start)
    ]


@asynccontextmanager
async def in_memory_hub() -> AsyncIterator[Hub]:
    """The same hub without NATS: the continuous run the NATS runs are compared with."""
    async with running_hub(HubConfig(port=0)) as hub:
        yield hub


async def test_a_hub_stores_each_event_once_and_two_hubs_taking_the_same_event_store_it_once(
    nats_server: NatsServer,
) -> None:
    events = make_calls(4)
    async with nats_hub(nats_server) as a, nats_hub(nats_server) as b:
        for event in events[:10]:
            assert (await a.submit(event)).accepted
        # The same event reaches both hubs at once (a producer that retried on the other
        # hub): the hubs' own checks both pass, Nats-Msg-Id stores it once.
        first, second = await asyncio.gather(a.submit(events[10]), b.submit(events[10]))
        results = sorted([first, second], key=lambda r: r.accepted)
        assert results[1].accepted and results[1].seq == 11
        assert results[0].code is Refusal.DUPLICATE
        # Sent again to the same hub, later: the hub's tracker refuses it before NATS.
        again = await a.submit(events[3])
        assert again.code is Refusal.DUPLICATE
        await wait_for(lambda: b.seq == 11, "hub b to read the stream to seq 11")
    messages = await stream_messages(nats_server.url, "east")
    assert [json.loads(m.data)["call_id"] for m in messages] == [e.call_id for e in events[:11]]
    assert [m.headers[MSG_ID_HEADER] for m in messages] == [event_msg_id(e) for e in events[:11]]
    # A raw publish with an id already stored is acknowledged as a duplicate, not stored.
    ack = await raw_publish(
        nats_server.url,
        subject_for("east"),
        events[0].to_json().encode(),
        {MSG_ID_HEADER: event_msg_id(events[0])},
    )
    assert ack.duplicate and ack.seq == 1
    assert len(await stream_messages(nats_server.url, "east")) == 11


async def test_foreign_messages_on_the_subject_are_counted_and_skipped(
    nats_server: NatsServer,
) -> None:
    events = make_calls(2)
    async with nats_hub(nats_server) as hub:
        watcher = Watcher(hub.url)
        await wait_for(lambda: hub.subscriber_count == 1, "the watcher to join")
        assert (await hub.submit(events[0])).accepted
        for body in (b"not json", b'{"type": "call.started"}', b"\xff\xfe", b"[]"):
            await raw_publish(nats_server.url, subject_for("east"), body)
        for event in events[1:]:
            assert (await hub.submit(event)).accepted
        health = await get_health(hub.base_url)
        assert health["nats"]["foreign"] == 4
        assert health["nats"]["stream_seq"] == 14
        assert health["nats"]["state"] == "connected"
        assert health["seq"] == 10
        await wait_for(lambda: len(watcher.events) == 10, "the watcher to get every event")
        await watcher.stop()
    # Gap-free hub seqs for the viewer: the foreign messages took stream seqs, not hub seqs.
    assert [seq for seq, _ in watcher.events] == list(range(1, 11))


async def test_a_hub_that_starts_rebuilds_the_state_from_the_checkpoint_and_the_stream(
    nats_server: NatsServer,
) -> None:
    # Calls over midnight (a new day), calls left open at the end, and more than one
    # checkpoint's worth of messages.
    events = make_calls(30, step=600) + still_open(5, start=1_700_000_000 + 30 * 600)
    async with in_memory_hub() as continuous:
        for event in events:
            assert continuous.publish(event).accepted
    async with nats_hub(nats_server, checkpoint_every=40) as first:
        for event in events[:100]:
            assert (await first.submit(event)).accepted
        assert first.nats is not None
        # Checkpoints at the first event after midnight (stream seq 56) and every 40
        # messages after it.
        await wait_for(
            lambda: first.nats is not None and first.nats.stats()["checkpoint_stream_seq"] == 96,
            "the checkpoint at stream seq 96",
        )
        # A hub that starts now takes the checkpoint and reads the 4 messages after it.
        async with nats_hub(nats_server, checkpoint_every=40) as second:
            assert second.nats is not None
            stats = second.nats.stats()
            assert (stats["started_from_checkpoint"], stats["read_at_start"]) == (96, 4)
            assert state_of(second) == state_of(first)
            assert second.hub_id == first.hub_id
    # The first hub is gone; the second, started again, goes on where the site was.
    async with nats_hub(nats_server, checkpoint_every=40) as second:
        assert second.seq == 100
        for event in events[100:]:
            assert (await second.submit(event)).accepted
        assert state_of(second) == state_of(continuous)
    # Without a checkpoint in the bucket a hub reads the whole stream: the same state.
    await delete_checkpoint(nats_server.url, "east")
    async with nats_hub(nats_server) as third:
        assert third.nats is not None
        stats = third.nats.stats()
        assert (stats["started_from_checkpoint"], stats["read_at_start"]) == (None, len(events))
        assert state_of(third) == state_of(continuous)
        assert len(third.tracker) == 5


async def test_two_hubs_of_one_site_agree_event_by_event(nats_server: NatsServer) -> None:
    events = make_calls(20)
    async with nats_hub(nats_server) as a, nats_hub(nats_server) as b:
        assert a.hub_id == b.hub_id
        watchers = [Watcher(a.url), Watcher(b.url)]
        await wait_for(lambda: a.subscriber_count == b.subscriber_count == 1, "both to join")
        # Producers on both hubs, interleaved: each event waits for its own ack.
        for i, event in enumerate(events):
            result = await (a if i % 2 else b).submit(event)
            assert result.accepted, result
        await wait_for(lambda: all(len(w.events) == len(events) for w in watchers), "both viewers")
        for watcher in watchers:
            await watcher.stop()
        assert state_of(a) == state_of(b)
    seen_a, seen_b = (w.events for w in watchers)
    assert [seq for seq, _ in seen_a] == list(range(1, len(events) + 1))
    assert seen_a == seen_b
    assert [event.key() for _, event in seen_a] == [event.key() for event in events]


@pytest.mark.slow
async def test_nats_killed_mid_stream_and_restarted_loses_nothing_and_applies_nothing_twice(
    nats_server: NatsServer,
) -> None:
    events = make_calls(60)
    async with in_memory_hub() as continuous:
        expected = [continuous.publish(event).seq for event in events]
    async with nats_hub(nats_server) as hub:
        watcher = Watcher(hub.url)
        statuses = StatusFrames(hub.url)
        await wait_for(lambda: hub.subscriber_count == 2, "the viewers to join")
        results: list[Any] = []

        async def produce() -> None:
            for event in events:
                results.append(await hub.submit(event))

        producer = asyncio.create_task(produce())
        await wait_for(lambda: len(results) >= 100, "100 events stored")
        nats_server.kill()
        await wait_for(lambda: hub.nats is not None and hub.nats.store.state == "disconnected",
                       "the hub to see NATS gone")  # fmt: skip
        health = await get_health(hub.base_url)
        assert health["nats"]["state"] == "disconnected"
        stalled_at = len(results)
        await asyncio.sleep(1.0)  # no event is accepted while NATS is away
        assert len(results) == stalled_at
        nats_server.start()
        await asyncio.wait_for(producer, 120)
        await wait_for(lambda: len(watcher.events) == len(events), "the viewer to see all")
        await watcher.stop()
        await statuses.stop()
        health = await get_health(hub.base_url)
    assert [r.seq for r in results] == expected
    assert [seq for seq, _ in watcher.events] == expected
    assert health["nats"]["state"] == "connected" and health["nats"]["reconnects"] >= 1
    assert health["nats"]["buffered"] == 0
    # The viewers heard of the outage in status frames (again if its buffered count
    # changed), and of its end.
    states = [s["state"] for s in statuses.stores]
    assert [s for n, s in enumerate(states) if n == 0 or s != states[n - 1]] == [
        "disconnected",
        "connected",
    ]
    messages = await stream_messages(nats_server.url, "east")
    assert [m.headers[MSG_ID_HEADER] for m in messages] == [event_msg_id(e) for e in events]


@pytest.mark.slow
def test_serve_with_nats_unreachable_exits_2_naming_the_server() -> None:
    result = callboard("serve", "--nats", "nats://127.0.0.1:9", "--site", "east", "--port", "0")
    assert result.returncode == 2
    assert "cannot connect to NATS at nats://127.0.0.1:9" in result.stderr
    assert "refused" in result.stderr.lower()


@pytest.mark.slow
async def test_producers_wait_while_nats_is_away_up_to_the_buffer_then_are_refused(
    nats_server: NatsServer,
) -> None:
    calls = [e for e in make_calls(3) if e.type == "call.started"]
    async with nats_hub(nats_server, buffer=2) as hub:
        nats_server.kill()
        await wait_for(lambda: hub.nats is not None and hub.nats.store.state == "disconnected",
                       "the hub to see NATS gone")  # fmt: skip
        producers = [await connect(hub.publish_url) for _ in calls]
        for producer, event in zip(producers[:2], calls, strict=False):
            await producer.send(event.to_json())
        await wait_for(lambda: hub.nats is not None and hub.nats.buffered == 2, "two buffered")
        await producers[2].send(calls[2].to_json())
        refused = json.loads(await asyncio.wait_for(producers[2].recv(), 30))
        assert refused["code"] == "unavailable"
        assert "2 events waiting (limit 2)" in refused["problem"]
        health = await get_health(hub.base_url)
        assert (health["nats"]["state"], health["nats"]["buffered"]) == ("disconnected", 2)
        assert health["seq"] == 0
        nats_server.start()
        answers = [json.loads(await asyncio.wait_for(p.recv(), 60)) for p in producers[:2]]
        assert sorted(a["seq"] for a in answers) == [1, 2]
        assert all(a["frame"] == "ack" for a in answers)
        # The refused producer sends again and is taken now.
        await producers[2].send(calls[2].to_json())
        assert json.loads(await asyncio.wait_for(producers[2].recv(), 30))["seq"] == 3
        for producer in producers:
            await producer.close()
    assert len(await stream_messages(nats_server.url, "east")) == 3


@pytest.mark.slow
async def test_servers_that_want_a_password_or_a_token_take_them_and_refuse_wrong_ones(
    tmp_path: Path,
) -> None:
    server = NatsServer(tmp_path / "nats", extra=["--user", "board", "--pass", "s3cret-pw"])
    server.start()
    try:
        good = NatsConfig(url=server.url, user="board", password="s3cret-pw")
        async with running_hub(HubConfig(port=0, site="east", nats=good)) as hub:
            assert (await hub.submit(make_calls(1)[0])).seq == 1
        wrong = NatsConfig(url=server.url, user="board", password="wrong")
        with pytest.raises(NatsUnavailable, match=r"(?i)authorization"):
            async with running_hub(HubConfig(port=0, site="east", nats=wrong)):
                pass
        # The command line takes them from $CALLBOARD_NATS_USER / _PASSWORD only.
        result = await asyncio.to_thread(
            callboard, "serve", "--nats", server.url, "--port", "0",
            env={**os.environ, "CALLBOARD_NATS_USER": "board", "CALLBOARD_NATS_PASSWORD": "no"},
        )  # fmt: skip
        assert result.returncode == 2
        assert "Authorization Violation" in result.stderr
    finally:
        server.stop()
    token_server = NatsServer(tmp_path / "nats-token", extra=["--auth", "t0ken-of-the-site"])
    token_server.start()
    try:
        by_token = NatsConfig(url=token_server.url, token="t0ken-of-the-site")
        async with running_hub(HubConfig(port=0, site="east", nats=by_token)) as hub:
            assert (await hub.submit(make_calls(1)[0])).seq == 1
        with pytest.raises(NatsUnavailable, match=r"(?i)authorization"):
            async with running_hub(
                HubConfig(port=0, site="east", nats=NatsConfig(url=token_server.url, token="no"))
            ):
                pass
    finally:
        token_server.stop()


@pytest.mark.slow
async def test_a_three_node_cluster_loses_a_node_and_the_hubs_keep_serving(
    tmp_path: Path,
) -> None:
    nodes = nats_cluster(tmp_path)
    for node in nodes:
        node.start()
    try:
        await wait_jetstream(nodes[0].url)
        events = make_calls(40)

        def hub_on(first: int) -> Any:
            # Each hub lists every node, starting with a different one.
            order = nodes[first:] + nodes[:first]
            config = NatsConfig(url=",".join(n.url for n in order), replicas=3)
            return running_hub(HubConfig(port=0, site="east", nats=config))

        async with hub_on(0) as a, hub_on(1) as b:
            watcher = Watcher(b.url)
            await wait_for(lambda: b.subscriber_count == 1, "the viewer to join")
            for event in events[:100]:
                assert (await a.submit(event)).accepted
            # The node hub a talks to goes; a and b reconnect to the other two.
            connected = a.stats()["nats"]["url"]
            lost = next(node for node in nodes if node.url == connected)
            lost.kill()
            for event in events[100:]:
                assert (await a.submit(event)).accepted
            await wait_for(lambda: len(watcher.events) == len(events), "b's viewer to see all")
            await watcher.stop()
            assert a.stats()["nats"]["url"] != connected
            assert state_of(a) == state_of(b)
        assert [seq for seq, _ in watcher.events] == list(range(1, len(events) + 1))
        survivor = next(node for node in nodes if node is not lost)
        stored = await stream_messages(survivor.url, "east")
        assert [m.headers[MSG_ID_HEADER] for m in stored] == [event_msg_id(e) for e in events]
    finally:
        for node in nodes:
            node.stop()


async def test_a_checkpoint_bigger_than_a_nats_message_is_stored_in_parts(tmp_path: Path) -> None:
    conf = tmp_path / "small.conf"
    conf.write_text("max_payload: 8192\n")
    server = NatsServer(tmp_path / "nats", extra=["-c", str(conf)])
    server.start()
    try:
        events = open_calls(400)
        async with nats_hub(server) as first:
            for event in events:
                assert (await first.submit(event)).accepted
            expected = state_of(first)
        manifest = await checkpoint_manifest(server.url, "east")
        assert manifest["length"] > 8192 and manifest["parts"] >= 2  # over one message
        async with nats_hub(server) as second:
            assert second.nats is not None
            stats = second.nats.stats()
            assert (stats["started_from_checkpoint"], stats["read_at_start"]) == (len(events), 0)
            assert state_of(second) == expected
            assert len(second.tracker) == 400
    finally:
        server.stop()


async def test_a_damaged_checkpoint_is_named_and_the_stream_read_from_its_start(
    nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    events = make_calls(3) + still_open(2, start=1_700_000_100)
    async with nats_hub(nats_server) as first:
        for event in events:
            assert (await first.submit(event)).accepted
        expected = state_of(first)
    await put_checkpoint_manifest(nats_server.url, "east", b'{"stream_seq": 17, "parts": 1}')
    async with nats_hub(nats_server) as second:
        assert second.nats is not None
        stats = second.nats.stats()
        assert (stats["started_from_checkpoint"], stats["read_at_start"]) == (None, len(events))
        assert state_of(second) == expected
    assert "bucket callboard_east_checkpoint key checkpoint revision" in caplog.text
    assert "not a checkpoint manifest" in caplog.text


async def test_webhook_deliveries_reach_a_hub_on_nats_through_the_stream(
    nats_server: NatsServer,
) -> None:
    # Exotel's recorded status callbacks, delivered over HTTP to a hub on NATS: the same
    # verdicts as classify's on the file, every event in the stream.
    records = json_lines(EXOTEL_CALLBACKS)
    config = HubConfig(port=0, site="east", nats=NatsConfig(url=nats_server.url))
    async with hooks_hub(config) as hooks:
        for record in records:
            response = await hooks.http.post(hooks.url(EXOTEL_PATH), json=record)
            assert response.status == 200, await response.text()
        await hooks.settled()
        verdicts = hooks.verdicts(EXOTEL_PREFIX)
        seq = hooks.hub.seq
    done = callboard("classify", "--from", "exotel", str(EXOTEL_CALLBACKS))
    expected = {
        r["call_id"]: (r["outcome"], r["reason"]) for r in map(json.loads, done.stdout.splitlines())
    }
    assert len(expected) == 8 and verdicts == expected
    assert len(await stream_messages(nats_server.url, "east")) == seq


async def test_nats_over_tls_with_the_servers_ca_and_refused_without_it(
    tmp_path: Path, self_signed_cert: tuple[Path, Path]
) -> None:
    cert, key = self_signed_cert
    server = NatsServer(
        tmp_path / "nats", extra=["--tls", "--tlscert", str(cert), "--tlskey", str(key)]
    )
    server.start()
    url = f"tls://127.0.0.1:{server.port}"
    try:
        trusted = NatsConfig(url=url, ca=cert)
        async with running_hub(HubConfig(port=0, site="east", nats=trusted)) as hub:
            assert (await hub.submit(make_calls(1)[0])).seq == 1
            assert (await get_health(hub.base_url))["nats"]["url"] == url
        with pytest.raises(NatsUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
            async with running_hub(HubConfig(port=0, site="east", nats=NatsConfig(url=url))):
                pass
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--nats-creds", "{creds}"], "--nats-creds needs --nats URL"),
        (["--nats", "nats://127.0.0.1:4222", "--journal", "hub.journal"], "--nats and --journal"),
        (["--nats", "http://127.0.0.1:4222"], "'http://127.0.0.1:4222' is not a NATS URL"),
        (["--nats", "nats://a:4222,"], "'' is not a NATS URL"),
    ],
)
def test_nats_options_that_do_not_go_together_are_usage_errors(
    tmp_path: Path, args: list[str], problem: str
) -> None:
    creds = tmp_path / "hub.creds"
    creds.write_text("not read before --nats is given\n")
    parsed = build_parser().parse_args(["serve", *(a.format(creds=creds) for a in args)])
    with pytest.raises(UsageError, match=re.escape(problem)):
        nats_config(parsed, environ={})


def test_nats_credentials_come_from_the_environment_and_the_site_is_checked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parsed = build_parser().parse_args(["serve", "--nats", "tls://h:4222", "--site", "east-1"])
    config = nats_config(
        parsed, environ={"CALLBOARD_NATS_USER": "board", "CALLBOARD_NATS_PASSWORD": "pw"}
    )
    assert config is not None
    assert (config.user, config.password, config.token, config.servers) == (
        "board", "pw", None, ["tls://h:4222"],
    )  # fmt: skip
    token = nats_config(parsed, environ={"CALLBOARD_NATS_TOKEN": "t0k"})
    assert token is not None and token.token == "t0k" and token.user is None
    with pytest.raises(UsageError, match="CALLBOARD_NATS_PASSWORD is set without"):
        nats_config(parsed, environ={"CALLBOARD_NATS_PASSWORD": "pw"})
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["serve", "--nats", "nats://h:4222", "--site", "east.1"])
    assert exit_info.value.code == 2
    assert "'east.1' is not a site name" in capsys.readouterr().err
