"""A live Asterisk Manager Interface connection as a hub source (`serve --ami`).

Connect (TCP, or TLS with ``--ami-tls``), read the banner, ``Login`` with the user and
secret (never from the command line: `$CALLBOARD_AMI_SECRET` or a file), then re-sync
and follow the event stream, mapping each event with `AmiMapper`
(`monitor.sources.asterisk_ami`).

Re-sync, on every (re)connect: ``QueueStatus`` lists the callers waiting now
(QueueEntry, with how long they have waited) and the members' states (QueueMember);
``CoreShowChannels`` lists the channels alive. A waiting caller the mapper does not
know is opened as learned from the re-sync (its history before is unknown, counted
in `resynced`); one it knows is left alone, so a reconnect never counts a call twice;
a known call whose channel is gone ended while the connection was down and is ended
once, so none is lost on the board.

Keep-alive: when nothing has arrived for `ping_interval` seconds a ``Ping`` goes out;
nothing back within `ping_timeout` means a stalled PBX (or a dead path): the
connection is dropped and made again. Reconnects back off from `backoff_min`,
doubling to `backoff_max`, and go back to the start after a good login.

Written on asyncio's streams rather than panoramisk: the same `BlockSplitter` must
read recordings and the wire, the keep-alive must detect a stall (not just keep
NAT state open), over-long lines must be skipped without holding them
(`StreamReader.readuntil` with a limit), and the re-sync must interleave with live
events through the one mapper. The protocol itself is a banner and blank-line
separated blocks; the whole client is this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from classifier.schema import Event, EventError, event_from_dict
from monitor.sources.ami_wire import Block, BlockSplitter, encode
from monitor.sources.asterisk_ami import NOT_QUEUED, AmiMapper
from monitor.sources.reader import MAX_LINE
from monitor.text.next_try import next_try

DEFAULT_PORT = 5038
SECRET_ENV = "CALLBOARD_AMI_SECRET"

#: Problems reported one by one before only the count goes on (a PBX gone mad
#: must not flood the log); `problems` counts them all.
LOGGED_PROBLEMS = 100

#: Names of dropped events shown on /health, the most frequent first (a busy PBX
#: sends some 30 kinds), so an event callboard does not know shows there by name;
#: the rest are summed under `OTHER_NAMES`.
DROPPED_NAMES_SHOWN = 40
OTHER_NAMES = "(other names)"


#: The kinds of problem `AmiSource.counts` always shows (0 when none): a dropped
#: connection or refused login, a line over the limit, a message cut short (an
#: oversized value, too many keys), an event for a call never seen joining, any other
#: event that could not be mapped, an event the schema refused.
PROBLEM_KINDS = (
    "disconnects",
    "long_lines",
    "broken_blocks",
    "unseen_calls",
    "unmapped",
    "invalid",
)


class AmiLoginRefused(Exception):
    """The PBX refused the login; the message is the PBX's own."""


class _Stalled(Exception):
    """Nothing came back from the PBX within the keep-alive timeout."""


@dataclass(frozen=True, slots=True)
class AmiConfig:
    """Where and how to connect (`serve --ami` fills it)."""

    host: str
    port: int = DEFAULT_PORT
    user: str = ""
    secret: str = ""
    tls: ssl.SSLContext | None = None
    connect_timeout: float = 10.0
    ping_interval: float = 20.0
    ping_timeout: float = 10.0
    backoff_min: float = 0.5
    backoff_max: float = 30.0


class AmiSource:
    """AMI events as schema v1 events, for ever, reconnecting (`Hub.attach_source`).

    `state` is ``connecting``, ``connected`` or ``reconnecting`` (with the reason in
    `detail`); `problems` counts events that could not be mapped, broken blocks,
    over-long lines, dropped connections and refused logins (each also given to
    `on_problem`, up to `LOGGED_PROBLEMS`); `connections` counts logins, `resynced`
    the calls learned from a re-sync, `mapper.dropped` the chatty events dropped.
    """

    kind = "ami"

    def __init__(
        self, config: AmiConfig, *, on_problem: Callable[[str], None] | None = None
    ) -> None:
        self.config = config
        self.name = f"ami:{config.host}:{config.port}"
        self.mapper = AmiMapper()
        self.problems = 0
        #: `problems` by kind (`counts()` shows them on /health while the link runs).
        self.problem_kinds: Counter[str] = Counter()
        self.events = 0
        #: A live link has no position to resume from: a restart re-syncs (QueueStatus).
        self.position: dict[str, Any] | None = None
        self.connections = 0
        self.state = "connecting"
        self.detail: str | None = None
        self._on_problem = on_problem
        #: Told of each change of `detail` (the hub sets it: `Hub.attach_source`).
        self.on_state: Callable[[str | None], None] | None = None
        self._actions = itertools.count(1)
        self._first: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._splitter = BlockSplitter()
        self._stray_before = 0

    @property
    def stray_lines(self) -> int:
        """Lines that were not 'Key: Value' (a command's free-text output...), all connections."""
        return self._stray_before + self._splitter.stray

    @property
    def resynced(self) -> int:
        """Calls learned from a QueueStatus answer rather than from their join."""
        return self.mapper.resynced

    def _set_state(self, state: str, detail: str | None) -> None:
        self.state, self.detail = state, detail
        if self.on_state is not None:
            self.on_state(detail)

    def counts(self) -> dict[str, Any]:
        """What the link has counted so far, by kind, for /health while it runs
        (`Hub.stats`): problems by kind, the events dropped as not about a queued call
        (in all, and the most frequent names), lines that were not 'Key: Value',
        calls learned from a re-sync, logins."""
        dropped = Counter(
            {name: n for (name, why), n in self.mapper.skipped.counts.items() if why == NOT_QUEUED}
        )
        by_name = dict(dropped.most_common(DROPPED_NAMES_SHOWN))
        if len(dropped) > len(by_name):
            by_name[OTHER_NAMES] = dropped.total() - sum(by_name.values())
        return {
            **{kind: self.problem_kinds[kind] for kind in PROBLEM_KINDS},
            "dropped_events": dropped.total(),
            "dropped_by_name": by_name,
            "stray_lines": self.stray_lines,
            "resynced_calls": self.resynced,
            "connections": self.connections,
        }

    def _problem(self, text: str, kind: str) -> None:
        self.problems += 1
        self.problem_kinds[kind] += 1
        if self._on_problem is not None and self.problems <= LOGGED_PROBLEMS:
            self._on_problem(text)
        elif self._on_problem is not None and self.problems == LOGGED_PROBLEMS + 1:
            self._on_problem("more problems: only counted from now on (see /health)")

    async def login(self) -> None:
        """Connect and log in once, keeping the connection for the events.

        Raises `AmiLoginRefused` with the PBX's message, or `OSError` /
        `TimeoutError` when it cannot be reached: `serve` exits 2 on either at start.
        """
        self._first = await self._connect()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        backoff = self.config.backoff_min
        attempt = 0
        while True:
            writer: asyncio.StreamWriter | None = None
            try:
                if self._first is not None:
                    reader, writer = self._first
                    self._first = None
                else:
                    reader, writer = await self._connect()
                backoff = self.config.backoff_min
                attempt = 0
                self._set_state("connected", None)
                async for event in self._session(reader, writer):
                    self.events += 1
                    yield event
                reason = "the PBX closed the connection"
            except AmiLoginRefused as exc:
                reason = f"login refused: {exc}"
            except _Stalled:
                reason = f"no answer to Ping within {self.config.ping_timeout:g} s"
            except (EOFError, asyncio.IncompleteReadError):
                reason = "the PBX closed the connection"
            except (OSError, TimeoutError) as exc:
                reason = f"connection lost: {type(exc).__name__}: {str(exc)[:120]}"
            finally:
                if writer is not None:
                    writer.close()
                    with contextlib.suppress(Exception):
                        await writer.wait_closed()
            attempt += 1
            # The board's connection bar shows this line (as feed text: cleaned there).
            self._set_state(
                "reconnecting",
                f"reconnecting to AMI {self.config.host}:{self.config.port}, attempt {attempt}"
                f"{next_try(backoff)}: {reason}",
            )
            self._problem(f"{self.name}: {reason}; reconnecting in {backoff:g} s", "disconnects")
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.config.backoff_max)

    # --- one connection ---------------------------------------------------------------

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        cfg = self.config
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                cfg.host,
                cfg.port,
                ssl=cfg.tls,
                server_hostname=cfg.host if cfg.tls is not None else None,
                limit=MAX_LINE,
            ),
            cfg.connect_timeout,
        )
        try:
            async with asyncio.timeout(cfg.connect_timeout):
                banner = await reader.readline()
            if not banner:
                raise EOFError("closed before its banner")
            action = f"login-{next(self._actions)}"
            writer.write(
                encode(
                    {
                        "Action": "Login",
                        "ActionID": action,
                        "Username": cfg.user,
                        "Secret": cfg.secret,
                        "Events": "on",
                    }
                )
            )
            await writer.drain()
            splitter = BlockSplitter()
            while True:
                async with asyncio.timeout(cfg.connect_timeout):
                    line = await self._line(reader)
                if line is None:
                    continue
                block = splitter.feed(line)
                if block is None or block.get("ActionID") != action:
                    continue
                if block.get("Response") != "Success":
                    raise AmiLoginRefused(block.get("Message", "no message")[:200])
                break
        except BaseException:
            writer.close()
            raise
        self.connections += 1
        return reader, writer

    async def _line(self, reader: asyncio.StreamReader) -> str | None:
        """The next line; None for a line over `MAX_LINE` (skipped unread, reported)."""
        try:
            raw = await reader.readuntil(b"\n")
        except asyncio.LimitOverrunError as exc:
            length = 0
            while True:
                # At least a byte each turn, so the skipping always moves on.
                step = max(exc.consumed, 1)
                await reader.readexactly(step)
                length += step
                try:
                    length += len(await reader.readuntil(b"\n"))
                    break
                except asyncio.LimitOverrunError as again:
                    exc = again
            self._problem(
                f"{self.name}: a line of {length} bytes skipped (limit {MAX_LINE})", "long_lines"
            )
            return None
        return raw.decode("utf-8", errors="replace")

    async def _send(self, writer: asyncio.StreamWriter, action: str, **headers: str) -> str:
        action_id = f"{action.lower()}-{next(self._actions)}"
        writer.write(encode({"Action": action, "ActionID": action_id, **headers}))
        await writer.drain()
        return action_id

    async def _session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> AsyncIterator[Event]:
        cfg = self.config
        self._stray_before += self._splitter.stray
        splitter = self._splitter = BlockSplitter()
        self.mapper.begin_resync()
        queue_id = await self._send(writer, "QueueStatus")
        channels_id = await self._send(writer, "CoreShowChannels")
        waiting = {queue_id, channels_id}
        channels_known = True
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
            # that arrives as the line does, and the hub could then never stop this source.
            try:
                async with asyncio.timeout(cfg.ping_interval):
                    line = await self._line(reader)
            except TimeoutError:
                await self._send(writer, "Ping")
                try:
                    async with asyncio.timeout(cfg.ping_timeout):
                        line = await self._line(reader)
                except TimeoutError:
                    raise _Stalled from None
            if line is None:
                continue  # reported by _line; the rest of its message is still read
            block = splitter.feed(line)
            if block is None:
                continue
            now = datetime.now(UTC)
            if splitter.flaws:
                self._problem(
                    f"{self.name}: AMI message: {'; '.join(splitter.flaws)} (cut)", "broken_blocks"
                )
                splitter.flaws = []
            if block.get("ActionID") in waiting:
                done = self._resync_step(block, waiting)
                if done is False:
                    channels_known = False
                if not waiting:
                    for event in self._valid(self.mapper.end_resync(now, channels_known), block):
                        yield event
                if "Event" not in block or block.get("Event", "").endswith("Complete"):
                    continue
            unseen_before = self.mapper.unseen
            try:
                dicts = self.mapper.feed(block, now)
            except ValueError as exc:
                unseen = self.mapper.unseen > unseen_before
                self._problem(f"{self.name}: {exc}", "unseen_calls" if unseen else "unmapped")
                continue
            for event in self._valid(dicts, block):
                yield event

    @staticmethod
    def _resync_step(block: Block, waiting: set[str]) -> bool | None:
        """Notes the end of a re-sync answer; False when the PBX refused the action."""
        action = block.get("ActionID", "")
        if block.get("Response") == "Error":
            waiting.discard(action)
            return False
        if block.get("Event", "") in ("QueueStatusComplete", "CoreShowChannelsComplete"):
            waiting.discard(action)
        return None

    def _valid(self, dicts: list[dict[str, Any]], block: Block) -> list[Event]:
        out = []
        for data in dicts:
            try:
                out.append(event_from_dict(data))
            except EventError as exc:
                self._problem(f"{self.name}: {block.get('Event', '?')[:40]}: {exc}", "invalid")
        return out
