"""A scripted Asterisk on loopback: the AMI wire protocol, replaying real recordings.

We cannot run Asterisk here, so `ScriptedPbx` plays one over a real TCP socket: the
banner, ``Login`` (accepted or refused with Asterisk's own message), ``Ping``,
``QueueStatus`` and ``CoreShowChannels`` answered from what the events played so
far say (who is waiting in a queue, which channels are up: the PBX's truth at that
moment), then the recorded events as CRLF wire text. A test cuts the connection
after any event (`drop_after`), or stalls the PBX (`stall`: the socket stays open and
nothing more is said, Pings included).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from pathlib import Path
from typing import Any

from monitor.sources.ami_wire import Block, BlockSplitter, encode
from tests.cli_support import SHARED

AMI = SHARED / "realdata" / "asterisk-ami"
#: Real recordings of queue scenarios (cacofonisk, MIT), with their scenario's verdict.
QUEUE_RECORDINGS: dict[str, tuple[str, str]] = {
    "cacofonisk-ast11-release-0.4/queue_simple.json": ("completed", "answered"),
    "cacofonisk-ast11-release-0.4/queue_group.json": ("completed", "answered"),
    "cacofonisk-ast11-release-0.4/queue_attn_xfer.json": ("completed", "answered"),
    "cacofonisk-ast11-release-0.4/queue_blind_xfer.json": ("completed", "answered"),
    "cacofonisk-ast13/queue/queue_a_cancel.json": ("abandoned", "queue_hangup"),
}

BANNER = b"Asterisk Call Manager/5.0.1\r\n"


def recording(name: str) -> list[Block]:
    """The events of one recording, as header dicts in wire order (Event first; the
    recorder's extra 'content' key dropped)."""
    events = json.loads((AMI / name).read_text())
    return [
        {"Event": str(e["Event"])} | {k: str(v) for k, v in e.items() if k != "content"}
        for e in events
    ]


def wire_text(blocks: list[Block]) -> bytes:
    """Blocks as an AMI session's raw text (CRLF), as a recorded session file holds it."""
    return BANNER + b"".join(encode(b) for b in blocks)


class ScriptedPbx:
    """An AMI server on 127.0.0.1 that plays `events` across its connections.

    Each connection logs in, answers the re-sync actions from the PBX's state, then
    sends the next events. `drop_after`: event counts (from the start of the script)
    at which the connection is cut, one per connection; the PBX then goes on without
    the client for `gap` events (calls join, are answered and hang up while nobody
    listens: only a re-sync can tell). `stall_after`: one count at which the PBX goes
    silent (stops sending and answering) on that connection.
    """

    def __init__(
        self,
        events: list[Block],
        *,
        secret: str = "s3cret",
        drop_after: list[int] | None = None,
        stall_after: int | None = None,
        gap: int = 0,
        tls: ssl.SSLContext | None = None,
        pace: float = 0.001,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """`pace`: seconds between two events; `port` 0 picks a free one."""
        self.events = events
        self.pace = pace
        self.host = host
        self.secret = secret
        self.drop_after = list(drop_after or [])
        self.stall_after = stall_after
        self.gap = gap
        self.tls = tls
        self.sent = 0
        self.logins = 0
        self.refused = 0
        self.pings = 0
        self.resyncs = 0
        self.extra: list[bytes] = []
        self.port = port
        self._server: asyncio.Server | None = None
        self._waiting: dict[str, Block] = {}
        self._channels: dict[str, Block] = {}
        self._answered: set[str] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> ScriptedPbx:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await asyncio.wait_for(self._server.wait_closed(), 10)

    @property
    def finished(self) -> bool:
        """Whether every event of the script has been sent."""
        return self.sent >= len(self.events)

    def unheard(self, count: int, waited_s: float = 0.0) -> None:
        """The PBX lives through the next `count` events before anybody connects: callers
        join and wait, and only the re-sync tells a client. `waited_s`: how long the
        callers that are waiting then have been waiting (QueueEntry's Wait)."""
        for event in self.events[self.sent : self.sent + count]:
            self._track(event)
        self.sent = min(len(self.events), self.sent + count)
        for joined in self._waiting.values():
            joined["joined"] = str(float(joined["joined"]) - waited_s)

    def cut(self) -> None:
        """Cut every client's connection now (a network failure, a PBX restart)."""
        for writer in list(self._writers):
            writer.transport.abort()

    # --- the PBX's state, from the events it has sent -----------------------------------

    def _track(self, event: Block) -> None:
        name, uid = event.get("Event"), event.get("Uniqueid", "")
        if name == "Newchannel":
            self._channels[uid] = event
        elif name == "Hangup":
            self._channels.pop(uid, None)
            self._waiting.pop(uid, None)
        elif name in ("QueueCallerJoin", "Join", "AgentCalled") and uid not in self._answered:
            self._waiting.setdefault(uid, {**event, "joined": str(time.time())})
        elif name in ("AgentConnect", "QueueCallerAbandon", "QueueCallerLeave", "Leave"):
            self._waiting.pop(uid, None)
            self._answered.add(uid)

    def _queue_status(self, action: str) -> list[Block]:
        out: list[Block] = [
            {"Response": "Success", "ActionID": action, "Message": "Queue status will follow"}
        ]
        for position, (uid, joined) in enumerate(self._waiting.items(), start=1):
            out.append(
                {
                    "Event": "QueueEntry",
                    "Queue": joined.get("Queue", ""),
                    "Position": str(position),
                    "Channel": joined.get("ChannelCalling") or joined.get("Channel", ""),
                    "Uniqueid": uid,
                    "CallerIDNum": joined.get("CallerIDNum", ""),
                    "Wait": str(int(time.time() - float(joined["joined"]))),
                    "ActionID": action,
                }
            )
        out.append({"Event": "QueueStatusComplete", "ActionID": action})
        return out

    def _core_channels(self, action: str) -> list[Block]:
        out: list[Block] = [
            {"Response": "Success", "ActionID": action, "Message": "Channels will follow"}
        ]
        for uid, channel in self._channels.items():
            out.append(
                {
                    "Event": "CoreShowChannel",
                    "Channel": channel.get("Channel", ""),
                    "Uniqueid": uid,
                    "ActionID": action,
                }
            )
        out.append(
            {
                "Event": "CoreShowChannelsComplete",
                "ListItems": str(len(self._channels)),
                "ActionID": action,
            }
        )
        return out

    # --- one connection ---------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        writer.write(BANNER)
        splitter = BlockSplitter()
        stop_at = self.drop_after.pop(0) if self.drop_after else None
        silent = asyncio.Event()
        player: asyncio.Task[None] | None = None
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                block = splitter.feed(line.decode())
                if block is None or silent.is_set():
                    continue
                action, action_id = block.get("Action", ""), block.get("ActionID", "")
                if action == "Login":
                    if block.get("Secret") != self.secret:
                        self.refused += 1
                        writer.write(
                            encode(
                                {
                                    "Response": "Error",
                                    "ActionID": action_id,
                                    "Message": "Authentication failed",
                                }
                            )
                        )
                        await writer.drain()
                        break
                    self.logins += 1
                    writer.write(
                        encode(
                            {
                                "Response": "Success",
                                "ActionID": action_id,
                                "Message": "Authentication accepted",
                            }
                        )
                    )
                elif action == "Ping":
                    self.pings += 1
                    writer.write(
                        encode(
                            {
                                "Response": "Success",
                                "ActionID": action_id,
                                "Ping": "Pong",
                                "Timestamp": f"{time.time():.6f}",
                            }
                        )
                    )
                elif action == "QueueStatus":
                    self.resyncs += 1
                    writer.write(b"".join(encode(b) for b in self._queue_status(action_id)))
                elif action == "CoreShowChannels":
                    writer.write(b"".join(encode(b) for b in self._core_channels(action_id)))
                    # The re-sync is answered: the events go on from where they were.
                    player = asyncio.create_task(self._play(writer, stop_at, silent))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if player is not None:
                player.cancel()
            self._writers.discard(writer)
            writer.close()

    async def _play(
        self, writer: asyncio.StreamWriter, stop_at: int | None, silent: asyncio.Event
    ) -> None:
        for extra in self.extra:
            writer.write(extra)
        self.extra = []
        while not self.finished:
            if stop_at is not None and self.sent >= stop_at:
                writer.transport.abort()  # cut, as a network failure or a PBX restart
                for event in self.events[self.sent : self.sent + self.gap]:
                    self._track(event)  # the PBX lives on, unheard
                self.sent = min(len(self.events), self.sent + self.gap)
                return
            if self.stall_after is not None and self.sent >= self.stall_after:
                self.stall_after = None
                silent.set()
                return
            event = self.events[self.sent]
            self.sent += 1
            self._track(event)
            writer.write(encode(event))
            await writer.drain()
            await asyncio.sleep(self.pace)


def all_queue_events() -> list[Block]:
    """Every queue recording's events, one scenario after another."""
    events: list[Block] = []
    for name in QUEUE_RECORDINGS:
        events.extend(recording(name))
    return events


def recording_path(name: str) -> Path:
    return AMI / name


def text_recording(name: str) -> list[Block]:
    """The messages of a raw-text recording (panoramisk's), split as the reader splits them."""
    splitter = BlockSplitter()
    blocks = []
    for line in (AMI / name).read_text().splitlines(keepends=True):
        block = splitter.feed(line)
        if block is not None:
            blocks.append(block)
    last = splitter.finish()
    return blocks if last is None else [*blocks, last]
