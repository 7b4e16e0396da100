"""FreeSWITCH's inbound event socket (ESL) as a hub source: connect, listen, heal.

`callboard serve --esl HOST[:PORT]` runs an `EslSource`: it connects to mod_event_socket,
answers `auth/request` with the password, subscribes to `CUSTOM callcenter::info`, asks
`callcenter_config member list` and `agent list` to learn what is already going on, and
then turns each event into schema v1 events through `monitor.sources.freeswitch`.

Written on asyncio streams rather than a library: the maintained ESL clients on PyPI
are either blocking (the SWIG `ESL` module, `greenswitch` on gevent) or unmaintained
asyncio ones, and the part of the protocol used here is small (header blocks, a
`Content-Length` body, URL-encoded event headers). Being ours, the reader is bounded
where a library's need not be: a header line over 64 KiB or a body over
`MAX_BODY` is skipped and counted, never held.

Healing: a keep-alive (`api status`) goes out after `keepalive` seconds of silence;
no frame at all for as long again counts the server as stalled. A dropped or stalled
connection is retried with backoff (0.5 s doubling to 30 s), a refused password too
(it may be fixed on the server), each failure logged once per attempt and told to the
hub as the source's state (`on_state`: the board's connection bar shows it). Every
(re)connect re-syncs from the lists, so calls that started while the socket was down
appear, and calls that ended meanwhile are ended (see `CallcenterMapper.resync_members`
for what can and cannot be recovered).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from classifier.schema import Event
from monitor.sources.freeswitch import CallcenterMapper, EslEventError, decode_read
from monitor.text.next_try import next_try

log = logging.getLogger("callboard.esl")

DEFAULT_PORT = 8021
#: The environment variable holding the event socket's password.
PASSWORD_ENV = "CALLBOARD_ESL_PASSWORD"

#: Largest frame body read: a callcenter event with every channel variable is a few
#: KiB; a body past this is skipped in pieces and counted.
MAX_BODY = 256 * 1024
#: Longest header line (the stream reader's limit); past it the connection is dropped.
MAX_HEADER_LINE = 64 * 1024
_SKIP_CHUNK = 64 * 1024
#: Frames read ahead of the hub at most (about 1 MiB of ordinary events).
FRAMES_AHEAD = 256
#: Most problems logged one by one per connection; the rest are only counted.
_LOG_PROBLEMS = 20

SUBSCRIBE = b"event plain CUSTOM callcenter::info\n\n"
MEMBER_LIST = b"api callcenter_config member list\n\n"
AGENT_LIST = b"api callcenter_config agent list\n\n"
KEEPALIVE = b"api status\n\n"


class EslRefused(Exception):
    """The server refused the password; the message is the server's reply."""


class EslBroken(Exception):
    """The connection cannot go on (closed, stalled, out of step); the message says why."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One ESL frame: its header block and its body (b'' without Content-Length)."""

    headers: dict[str, str]
    body: bytes = b""

    @property
    def content_type(self) -> str:
        """The frame's Content-Type ('' without one)."""
        return self.headers.get("Content-Type", "")


def parse_header_lines(text: str, *, decode: bool) -> tuple[dict[str, str], list[str]]:
    """`Key: Value` lines as a dict, and lines that were not; with `decode`, the values
    anything reads are URL-decoded (`monitor.sources.freeswitch.decode_read`)."""
    headers: dict[str, str] = {}
    bad: list[str] = []
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            bad.append(line[:80])
            continue
        headers[key.strip()] = value.strip()
    return (decode_read(headers) if decode else headers), bad


def event_headers(body: bytes) -> tuple[dict[str, str], list[str]]:
    """The headers of a `text/event-plain` body (URL-encoded values, a blank line, maybe a body)."""
    text = body.decode("utf-8", errors="replace")
    block = text.split("\n\n", 1)[0]
    return parse_header_lines(block, decode=True)


async def read_frame(reader: asyncio.StreamReader, problem: Callable[[str], None]) -> Frame:
    """The next frame; broken parts are told to `problem` and skipped. `EslBroken` at the end."""
    while True:
        lines: list[str] = []
        while True:
            try:
                raw = await reader.readline()
            except (asyncio.LimitOverrunError, ValueError):
                raise EslBroken(f"a header line over {MAX_HEADER_LINE // 1024} KiB") from None
            if not raw:
                raise EslBroken("the server closed the connection")
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line:
                if lines:
                    break
                continue
            lines.append(line)
        headers, bad = parse_header_lines("\n".join(lines), decode=False)
        if bad:
            problem(f"{len(bad)} lines that are not 'Key: Value' headers, e.g. {bad[0]!r}")
        if not headers:
            continue
        length_text = headers.get("Content-Length")
        if length_text is None:
            return Frame(headers)
        try:
            length = int(length_text)
            if length < 0:
                raise ValueError
        except ValueError:
            problem(f"Content-Length {length_text[:40]!r} is not a byte count: frame skipped")
            continue
        if length > MAX_BODY:
            await _skip(reader, length)
            problem(
                f"a {headers.get('Content-Type', 'frame')[:40]} body of {length:,} bytes, "
                f"over the {MAX_BODY // 1024} KiB limit: skipped"
            )
            continue
        try:
            body = await reader.readexactly(length)
        except asyncio.IncompleteReadError:
            raise EslBroken("the server closed the connection inside a frame") from None
        return Frame(headers, body)


async def _skip(reader: asyncio.StreamReader, length: int) -> None:
    left = length
    while left > 0:
        chunk = await reader.read(min(left, _SKIP_CHUNK))
        if not chunk:
            raise EslBroken("the server closed the connection inside a frame")
        left -= len(chunk)


class EslSource:
    """mod_callcenter's events from a FreeSWITCH event socket, as a hub source.

    `problems` counts broken frames and events (each named in the log, up to a
    limit per connection); events set aside (not mod_callcenter's, members-count)
    are counted in `mapper.skipped`. It cannot resume from a position: the
    re-sync on every connect is how it catches up.
    """

    kind = "freeswitch-esl"
    position: dict[str, Any] | None = None

    def __init__(
        self,
        host: str,
        port: int,
        password: str,
        *,
        keepalive: float = 20.0,
        timeout: float = 10.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.name = f"{host}:{port}"
        self._password = password
        self.keepalive = keepalive
        self.timeout = timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.mapper = CallcenterMapper()
        self.errors = 0
        #: Sessions that reached the subscription, and connection attempts that failed.
        self.connections = 0
        self.failures = 0
        self._logged = 0
        #: Told of each change of the link's trouble (the hub sets it:
        #: `Hub.attach_source`): "reconnecting to FreeSWITCH ...", None once it is back.
        self.on_state: Callable[[str | None], None] | None = None
        self.detail: str | None = None
        #: Failed attempts since the last good subscription.
        self._attempt = 0

    @property
    def problems(self) -> int:
        """Broken frames and events so far."""
        return self.errors

    def _set_detail(self, detail: str | None) -> None:
        if detail != self.detail:
            self.detail = detail
            if self.on_state is not None:
                self.on_state(detail)

    def counts(self) -> dict[str, Any]:
        """What the socket has counted so far, for /health while it runs (`Hub.stats`):
        failed connections, subscriptions, calls learned from a re-sync, calls open, and
        what was set aside by kind (the 40 most frequent)."""
        set_aside: dict[str, int] = {}
        for what, _why, count in self.mapper.skipped.rows():
            set_aside[what] = set_aside.get(what, 0) + count
        return {
            "problems": self.errors,
            "failures": self.failures,
            "connections": self.connections,
            "resynced_calls": self.mapper.resynced,
            "open_calls": self.mapper.open_calls,
            "set_aside": dict(sorted(set_aside.items(), key=lambda kv: -kv[1])[:40]),
        }

    def _problem(self, text: str) -> None:
        self.errors += 1
        if self._logged < _LOG_PROBLEMS:
            self._logged += 1
            log.warning("event socket %s: %s", self.name, text)
        elif self._logged == _LOG_PROBLEMS:
            self._logged += 1
            log.warning("event socket %s: more problems, counted but not logged", self.name)

    def _report_skipped(self) -> None:
        """One line with what was set aside so far (kinds counted, never logged one by one)."""
        rows = self.mapper.skipped.rows()
        if rows:
            kinds = "; ".join(f"{what}: {count}" for what, _why, count in rows[:8])
            log.info("event socket %s: set aside so far: %s", self.name, kinds)

    async def check(self) -> None:
        """Connect and log in once; `EslRefused` with the server's words, or `OSError`."""
        reader, writer = await self._connect()
        try:
            await self._login(reader, writer)
        except EslBroken as exc:
            raise OSError(str(exc)) from None
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, limit=MAX_HEADER_LINE),
                self.timeout,
            )
        except TimeoutError:
            raise OSError(f"no connection in {self.timeout:g} s") from None

    async def _reply(self, reader: asyncio.StreamReader) -> Frame:
        try:
            return await asyncio.wait_for(read_frame(reader, self._problem), self.timeout)
        except TimeoutError:
            raise EslBroken(f"no reply in {self.timeout:g} s") from None

    async def _login(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hello = await self._reply(reader)
        if hello.content_type != "auth/request":
            raise EslBroken(f"expected auth/request, got {hello.content_type[:60]!r}")
        writer.write(f"auth {self._password}\n\n".encode())
        await writer.drain()
        reply = await self._reply(reader)
        text = reply.headers.get("Reply-Text", "")
        if reply.content_type != "command/reply" or not text.startswith("+OK"):
            raise EslRefused(text or reply.content_type or "no reply to auth")

    async def __aiter__(self) -> AsyncIterator[Event]:
        delay = self.backoff_initial
        while True:
            try:
                async for event in self._session():
                    delay = self.backoff_initial
                    yield event
                why = "the session ended"
            except EslRefused as exc:
                why = f"password refused: {exc}"
            except (OSError, EslBroken) as exc:
                why = str(exc) or type(exc).__name__
            self.failures += 1
            self._attempt += 1
            log.warning("event socket %s: %s; reconnecting in %g s", self.name, why, delay)
            # The board's connection bar shows this line (as feed text: cleaned there).
            self._set_detail(
                f"reconnecting to FreeSWITCH {self.name}, attempt {self._attempt}"
                f"{next_try(delay)}: {why}"
            )
            self._report_skipped()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.backoff_max)

    async def _session(self) -> AsyncIterator[Event]:
        reader, writer = await self._connect()
        # Bounded: a reader ahead of the hub waits, and TCP holds FreeSWITCH back.
        frames: asyncio.Queue[Frame | Exception] = asyncio.Queue(FRAMES_AHEAD)

        async def pump() -> None:
            try:
                while True:
                    await frames.put(await read_frame(reader, self._problem))
            except Exception as exc:  # the session ends on whatever ended the reading
                await frames.put(exc)

        try:
            await self._login(reader, writer)
            writer.write(SUBSCRIBE)
            await writer.drain()
            reply = await self._reply(reader)
            if not reply.headers.get("Reply-Text", "").startswith("+OK"):
                raise EslBroken(f"subscription refused: {reply.headers.get('Reply-Text', '')!r}")
            self.connections += 1
            self._logged = 0
            self._attempt = 0
            self._set_detail(None)
            log.info("event socket %s: connected, re-syncing", self.name)
            # The answers come back in the order asked (api runs on the connection).
            pending: deque[str] = deque(["members", "agents"])
            writer.write(MEMBER_LIST + AGENT_LIST)
            await writer.drain()
            reading = asyncio.create_task(pump())
            try:
                async for event in self._frames(frames, writer, pending):
                    yield event
            finally:
                reading.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reading
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _frames(
        self,
        frames: asyncio.Queue[Frame | Exception],
        writer: asyncio.StreamWriter,
        pending: deque[str],
    ) -> AsyncIterator[Event]:
        waiting_keepalive = False
        while True:
            try:
                item = await asyncio.wait_for(frames.get(), self.keepalive)
            except TimeoutError:
                if waiting_keepalive:
                    raise EslBroken(
                        f"stalled: nothing for {self.keepalive:g} s after a keep-alive"
                    ) from None
                waiting_keepalive = True
                pending.append("status")
                writer.write(KEEPALIVE)
                await writer.drain()
                continue
            if isinstance(item, Exception):
                raise item
            waiting_keepalive = False
            for event in self._handle(item, pending):
                yield event

    def _handle(self, frame: Frame, pending: deque[str]) -> list[Event]:
        now = datetime.now(UTC)
        kind = frame.content_type
        if kind == "text/event-plain":
            headers, bad = event_headers(frame.body)
            if bad:
                self._problem(f"event lines that are not 'Key: Value': {bad[0]!r}")
            try:
                return self.mapper.event(headers, now)
            except EslEventError as exc:
                self._problem(f"event {headers.get('Event-Sequence', '?')[:20]}: {exc}")
                return []
        if kind == "api/response":
            what = pending.popleft() if pending else "unasked"
            text = frame.body.decode("utf-8", errors="replace")
            try:
                if what == "members":
                    events = self.mapper.resync_members(text, now)
                    log.info("event socket %s: re-sync gave %d events", self.name, len(events))
                    return events
                if what == "agents":
                    return self.mapper.resync_agents(text, now)
            except EslEventError as exc:
                self._problem(f"re-sync ({what} list): {exc}")
            return []
        if kind == "text/disconnect-notice":
            raise EslBroken("the server said it is disconnecting")
        if kind in ("command/reply", "auth/request"):
            return []
        self._problem(f"a frame of Content-Type {kind[:60]!r}, not one ESL sends: skipped")
        return []
