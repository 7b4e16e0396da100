"""Connection limits: idle producers, handshakes that never come, and floods at the
file-descriptor limit logged as counts rather than a traceback per connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from monitor.feed.client import FeedClient
from monitor.feed.hub import HubConfig, running_hub
from tests.cli_support import callboard
from tests.hub_support import (
    DEADLINE,
    Follower,
    ServeProcess,
    make_calls,
    raw_request,
    wait_for,
)


async def test_an_idle_producer_is_closed_and_frees_its_slot() -> None:
    config = HubConfig(port=0, max_producers=1, producer_idle_timeout=0.5)
    async with running_hub(config) as hub:
        idle = await connect(hub.publish_url)
        await wait_for(lambda: hub.stats()["producers"] == 1, "the idle producer counted")
        with pytest.raises(InvalidStatus) as full:
            async with connect(hub.publish_url):
                pass
        assert full.value.response.status_code == 503
        assert b"too many producers (limit 1)" in full.value.response.body
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(idle.recv(), DEADLINE)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1000
        assert closed.value.rcvd.reason == "idle: nothing sent for 0.5 s; reconnect to publish"
        await wait_for(lambda: hub.stats()["producers"] == 0, "the slot freed")
        async with connect(hub.publish_url) as producer:
            for event in make_calls(1)[:3]:
                await producer.send(event.to_json())
                assert json.loads(await producer.recv())["frame"] == "ack"
                # Each message restarts the idle clock: one every 0.3 s keeps it open.
                await asyncio.sleep(0.3)
        assert hub.seq == 3


async def test_a_connection_that_never_sends_a_handshake_is_closed() -> None:
    async with running_hub(HubConfig(port=0, open_timeout=0.3)) as hub:
        with socket.create_connection(("127.0.0.1", hub.port), timeout=DEADLINE) as idle:
            # The hub closes it: recv sees the end of the stream, not the timeout.
            assert await asyncio.to_thread(idle.recv, 1) == b""


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--max-producers", "0"),
        ("--producer-idle-timeout", "0"),
        ("--producer-idle-timeout", "nan"),
        ("--open-timeout", "-1"),
    ],
)
def test_serve_refuses_connection_limits_out_of_range(option: str, value: str) -> None:
    done = callboard("serve", "--port", "0", option, value, timeout=DEADLINE)
    assert done.returncode == 2, done.stderr
    assert f"argument {option}:" in done.stderr


def open_idle_sockets(port: int, count: int) -> list[socket.socket]:
    """`count` TCP connections that never send a byte (connects left in progress count too)."""
    flood = []
    for _ in range(count):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        flood.append(s)
    return flood


async def hold_flood(hub: ServeProcess, port: int, seconds: float) -> list[socket.socket]:
    """Open a flood of 200 idle sockets on the hub and keep them for `seconds`."""
    flood = open_idle_sockets(port, 200)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        hub.drain()  # keep the pipe empty, however much the hub logs
        await asyncio.sleep(0.1)
    return flood


@pytest.mark.slow
async def test_an_idle_tcp_flood_at_the_fd_limit_logs_a_count_not_a_traceback_each() -> None:
    # 64 descriptors: the interpreter and the hub need about 15, so a flood of 200
    # idle sockets reaches the limit and the accept loop fails until they go away.
    hub = ServeProcess(["--port", "0", "--open-timeout", "2"], nofile=64)
    port = int(hub.url.rsplit(":", 1)[1].split("/")[0])
    flood: list[socket.socket] = []
    try:
        for s in await hold_flood(hub, port, 3):
            s.close()
        follower = Follower(FeedClient(hub.url, backoff_initial=0.1))
        await wait_for(lambda: bool(follower.snapshots), "a snapshot after the flood")
        await follower.stop()
        request = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
        _, _, body = await asyncio.to_thread(raw_request, port, request)
        errors = json.loads(body)["counters"]["connection_errors"]
        # A second flood, with the hub stopped in the middle of it.
        flood = await hold_flood(hub, port, 2)
        assert await asyncio.to_thread(hub.terminate) == 0
    finally:
        if hub.proc.poll() is None:
            hub.kill()
        for s in flood:
            s.close()
    log = hub.drain()
    assert errors > 0
    assert "Traceback" not in log
    failure_lines = [line for line in log.splitlines() if "Too many open files" in line]
    # The first failure at once, then a count at the end of each 10 s interval and at
    # shutdown: a handful of lines, where there were thousands of tracebacks.
    assert 2 <= len(failure_lines) <= 4, log[-3000:]
    assert "a connection failed: [Errno 24] Too many open files" in failure_lines[0]
    counts = [int(line.split("refused or failed ")[1].split()[0]) for line in failure_lines[1:]]
    assert 1 + sum(counts) > errors  # the second flood's failures are in the last count


async def test_other_log_records_pass_the_flood_filter(caplog: pytest.LogCaptureFixture) -> None:
    async with running_hub():
        logging.getLogger("asyncio").error("something else went wrong")
        handler_failed = ZeroDivisionError("a bug in a handler")
        logging.getLogger("websockets.server").error(
            "connection handler failed", exc_info=handler_failed
        )
    messages = [r.getMessage() for r in caplog.records]
    assert "something else went wrong" in messages
    assert "connection handler failed" in messages
