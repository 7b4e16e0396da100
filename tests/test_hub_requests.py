"""The hub's answers to requests: odd headers and queries get a 4xx and one log line,
never a traceback; padded tokens, the publish token, and where the commands take a
token from (option, file, environment) and what they refuse.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from monitor.feed.client import FeedClient
from monitor.feed.hub import Hub, HubConfig, running_hub
from tests.cli_support import callboard
from tests.hub_support import (
    DEADLINE,
    Follower,
    ServeProcess,
    make_calls,
    raw_request,
    raw_upgrade,
    read_response,
    run_tail,
    wait_for,
    write_log,
)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info]


async def test_a_duplicate_authorization_header_is_a_counted_401_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with running_hub(HubConfig(port=0, token="right")) as hub:
        for headers in (
            "Authorization: Bearer right\r\nAuthorization: Bearer right\r\n",
            "Authorization: Bearer right\r\nAuthorization: Bearer wrong\r\n",
        ):
            sock = raw_upgrade(hub.port, headers=headers)
            with sock:
                status, _, body = await asyncio.to_thread(read_response, sock)
            assert status == 401
            assert body == b"2 Authorization headers: send exactly one\n"
        assert hub.counters["auth_failures"] == 2
        follower = Follower(FeedClient(hub.url, token="right"))
        await wait_for(lambda: bool(follower.snapshots), "a snapshot with the right token")
        await follower.stop()
    assert tracebacks(caplog) == []
    refusals = [r.getMessage() for r in caplog.records if r.name == "callboard.hub"]
    assert sum("2 Authorization headers" in m for m in refusals) == 2


async def test_a_request_the_hub_cannot_parse_is_a_one_line_400(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with running_hub() as hub:
        # A path starting with // is read as a network location; '[' makes it invalid.
        request = (
            f"GET //[/events HTTP/1.1\r\nHost: 127.0.0.1:{hub.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        status, _, body = await asyncio.to_thread(raw_request, hub.port, request)
    assert status == 400
    assert body.startswith(b"cannot read the request: ValueError: Invalid IPv6 URL")
    assert tracebacks(caplog) == []


async def test_a_unicode_digit_in_since_is_a_400(hub: Hub) -> None:
    hub.publish(make_calls(1)[0])
    for value in ("%C2%B2", "%D9%A3", "%EF%BC%91"):  # '²', Arabic-Indic 3, fullwidth 1
        with pytest.raises(InvalidStatus) as bad:
            async with connect(f"{hub.url}?since={value}"):
                pass
        assert bad.value.response.status_code == 400
        assert b"since must be a non-negative integer" in bad.value.response.body
    follower = Follower(FeedClient(hub.url, since=0))
    await wait_for(lambda: follower.seqs == [1], "an ASCII since still resumes")
    await follower.stop()


async def test_health_sends_one_content_type() -> None:
    async with running_hub() as hub:
        request = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{hub.port}\r\n\r\n".encode()
        status, headers, body = await asyncio.to_thread(raw_request, hub.port, request)
    assert status == 200
    assert [v for k, v in headers if k.lower() == "content-type"] == ["application/json"]
    assert json.loads(body)["hub_id"] == hub.hub_id


async def test_padded_tokens_are_stripped_on_both_sides() -> None:
    async with running_hub(HubConfig(port=0, token="  padded \n")) as hub:
        assert hub.config.token == "padded"
        for token in ("padded", " padded "):
            follower = Follower(FeedClient(hub.url, token=token))
            await wait_for(lambda f=follower: bool(f.snapshots), f"a snapshot for {token!r}")
            await follower.stop()
        assert hub.counters["auth_failures"] == 0
    for blank in ("", "  ", "\n"):
        with pytest.raises(ValueError, match="token is blank"):
            HubConfig(token=blank)
        with pytest.raises(ValueError, match="publish_token is blank"):
            HubConfig(publish_token=blank)


async def test_the_publish_token_is_needed_to_publish_and_may_read() -> None:
    event = make_calls(1)[0]
    async with running_hub(HubConfig(port=0, token="read", publish_token="pub")) as hub:
        with pytest.raises(InvalidStatus) as reader:
            async with connect(
                hub.publish_url, additional_headers={"Authorization": "Bearer read"}
            ):
                pass
        assert reader.value.response.status_code == 403
        assert (
            reader.value.response.body == b"the read token cannot publish: use the publish token\n"
        )
        with pytest.raises(InvalidStatus) as wrong:
            async with connect(hub.publish_url, additional_headers={"Authorization": "Bearer x"}):
                pass
        assert wrong.value.response.status_code == 401
        assert hub.counters["auth_failures"] == 2
        # Both tokens read; only the publish token publishes.
        readers = [Follower(FeedClient(hub.url, token=token)) for token in ("read", "pub")]
        await wait_for(lambda: all(f.snapshots for f in readers), "snapshots for both tokens")
        async with connect(
            hub.publish_url, additional_headers={"Authorization": "Bearer pub"}
        ) as producer:
            await producer.send(event.to_json())
            assert json.loads(await producer.recv()) == {"frame": "ack", "seq": 1}
        await wait_for(lambda: all(f.seqs == [1] for f in readers), "the event, read twice")
        for follower in readers:
            await follower.stop()
    # A publish token alone leaves reading open and publishing closed.
    async with running_hub(HubConfig(port=0, publish_token="pub")) as hub:
        follower = Follower(FeedClient(hub.url))
        await wait_for(lambda: bool(follower.snapshots), "an open snapshot")
        await follower.stop()
        with pytest.raises(InvalidStatus) as anonymous:
            async with connect(hub.publish_url):
                pass
        assert anonymous.value.response.status_code == 401


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--port", "0", "--token", ""], "argument --token: the token is empty"),
        (["serve", "--port", "0", "--token", "   "], "argument --token: the token is empty"),
        (
            ["serve", "--port", "0", "--publish-token", " "],
            "argument --publish-token: the token is empty",
        ),
        (["tail", "ws://127.0.0.1:1", "--token", ""], "argument --token: the token is empty"),
        (["watch", "ws://127.0.0.1:1", "--token", ""], "argument --token: the token is empty"),
    ],
)
def test_a_blank_token_is_a_usage_error(args: list[str], message: str) -> None:
    done = callboard(*args, timeout=DEADLINE)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr


@pytest.mark.slow
def test_a_missing_or_blank_token_file_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    blank = tmp_path / "blank.token"
    blank.write_text(" \n")
    missing = tmp_path / "missing.token"
    for command, option in (
        (["serve", "--port", "0"], "--token-file"),
        (["serve", "--port", "0"], "--publish-token-file"),
        (["tail", "ws://127.0.0.1:1"], "--token-file"),
        (["watch", "ws://127.0.0.1:1"], "--token-file"),
    ):
        for path, reason in ((blank, "is empty"), (missing, "No such file or directory")):
            done = callboard(*command, option, str(path), timeout=DEADLINE)
            assert done.returncode == 2, done.stderr
            assert f"argument {option}: " in done.stderr
            assert str(path) in done.stderr
            assert reason in done.stderr
    good = tmp_path / "good.token"
    good.write_text("t\n")
    both = callboard("serve", "--token", "t", "--token-file", str(good), timeout=DEADLINE)
    assert both.returncode == 2
    assert "argument --token-file: not allowed with argument --token" in both.stderr


async def test_tokens_from_files_and_the_environment_end_to_end(tmp_path: Path) -> None:
    log = write_log(tmp_path / "day.jsonl", make_calls(3))
    read_file, publish_file = tmp_path / "read.token", tmp_path / "publish.token"
    read_file.write_text("read-secret\n")
    publish_file.write_text("  publish-secret  \n")
    hub = ServeProcess(
        [str(log), "--port", "0", "--speed", "0", "--token-file", str(read_file)],
        env={"CALLBOARD_PUBLISH_TOKEN": "publish-secret"},
    )
    try:
        # Neither token is on the hub's command line, where `ps` would show it.
        cmdline = Path(f"/proc/{hub.proc.pid}/cmdline").read_bytes()
        assert b"secret" not in cmdline
        by_file = await asyncio.to_thread(
            run_tail, hub.url, "--since", "0", "--until-finished", "--token-file", str(read_file)
        )
        by_env = await asyncio.to_thread(
            run_tail, hub.url, "--since", "0", "--until-finished",
            env={"CALLBOARD_TOKEN": " read-secret "},
        )  # fmt: skip
        by_publish_token = await asyncio.to_thread(
            run_tail, hub.url, "--since", "0", "--until-finished",
            "--token-file", str(publish_file),
        )  # fmt: skip
        publish_url = hub.url.replace("/events", "/publish")
        with pytest.raises(InvalidStatus) as reader:
            async with connect(
                publish_url, additional_headers={"Authorization": "Bearer read-secret"}
            ):
                pass
        assert reader.value.response.status_code == 403
        async with connect(
            publish_url, additional_headers={"Authorization": "Bearer publish-secret"}
        ) as producer:
            await producer.send(
                make_calls(1)[0].model_copy(update={"call_id": "published"}).to_json()
            )
            assert json.loads(await producer.recv())["frame"] == "ack"
    finally:
        assert hub.terminate() == 0
    for done in (by_file, by_env, by_publish_token):
        assert done.returncode == 0, done.stderr
        assert len(done.stdout.splitlines()) == 3
    assert "without a token" not in hub.drain()
