"""The feed client: an async iterator over a hub's `/events`, reconnecting forever.

    client = FeedClient("ws://127.0.0.1:8765/events", token=None, on_state=show)
    async for item in client:
        if isinstance(item, Snapshot):       # (re)start: rebuild state from scratch
            tracker = CallTracker()
            item.load_into(tracker)
        elif isinstance(item, SourceStatus):  # e.g. item.state == "finished": replay over
            ...
        else:                                 # an Event (schema v1 model, `seq` set)
            tracker.apply(item)

What it yields, in order:

* `Snapshot` first, and again whenever the client had to re-sync (the hub was
  replaced, forgot what we missed, or a gap in `seq` was seen). A consumer
  must drop its state and rebuild it from the snapshot.
* `Event`s, each exactly once and in `seq` order: after a reconnect the client
  resumes with `?since=<last seq>&hub=<hub id>`, skips anything it already had,
  and treats a gap as a reason to re-sync rather than carry on.
* `SourceStatus` when the hub's own source changes state (a replay finishing).

A snapshot arrives in parts (`protocol.SnapshotParts` joins them); the client
yields it once, whole, after its last part. Messages over `max_message` bytes
(64 MiB) close the connection from this side, and the error says so. The client asks
for the parts compressed (`?snapshot=zlib`, `monitor.feed.snapshot_zlib`) and reads
text parts as well (a hub that ignores the parameter); a compressed part that would
expand beyond `max_message` is a bad frame naming the limit.

`client.state` (a `FeedState`) says what the connection is doing: `status`
(connecting / live / reconnecting / closed), `attempt`, `retry_in` seconds,
`last_error`, `hub_id`, `last_seq`, `events_received`, the hub's source, and
lag figures (`last_received_at` is the hub's receive time of the event just
yielded, `lag_s` how long it took to reach us; same-host clocks make it exact). The
optional `on_state(state)` callback runs on every status change (not on every
event: read `state` when you redraw). Reconnects use exponential backoff with
jitter (0.5 s doubling to 30 s by default), reset once a connection goes live.

A hub that refuses us for a reason retrying cannot fix (wrong token, wrong
path: HTTP 400/401/403/404) raises `FeedRefused`; so does exhausting
`max_attempts` when one is set. `alternatives`: other hubs of the same site (on NATS they share
one hub id and the same seqs): each failed attempt moves to the next one, at once,
resuming with `?since=`; the backoff starts when all of them failed in a row.
`close()` ends the iteration cleanly; `cut()`
drops the connection as a network failure would (the client reconnects and
resumes), for a "reconnect now" button and for tests. The
client only needs a running asyncio loop, so a Textual `@work` coroutine can
iterate it directly and call `close()` on unmount.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl as ssl_module
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.frames import CloseCode

from classifier.schema import Event
from monitor.feed.protocol import (
    PROTOCOL_VERSION,
    EventFrame,
    FrameError,
    ProtocolMismatch,
    Resume,
    Snapshot,
    SnapshotParts,
    SourceState,
    SourceStatus,
    decode_hub_message,
)
from monitor.feed.snapshot_zlib import SNAPSHOT_PARAM, ZLIB, inflate_part

#: Hub frames (snapshots especially) can be large; the hub is who we chose to trust.
MAX_MESSAGE = 64 * 1024 * 1024

FeedItem = Snapshot | Event | SourceStatus

__all__ = [
    "FeedClient",
    "FeedItem",
    "FeedRefused",
    "FeedState",
    "FeedStatus",
    "Snapshot",
    "SourceState",
    "SourceStatus",
    "events_url",
]


#: The close reason a client gives when the board or command using it stops.
LEAVING = "the board is closing"


class FeedStatus(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(slots=True)
class FeedState:
    """The client's connection state, for a status line."""

    url: str
    status: FeedStatus = FeedStatus.CONNECTING
    attempt: int = 0
    retry_in: float | None = None
    last_error: str | None = None
    hub_id: str | None = None
    last_seq: int | None = None
    #: The hub's seq when this connection went live (its snapshot's or resume's):
    #: the events up to it are catch-up, the ones after it live.
    joined_seq: int | None = None
    events_received: int = 0
    snapshots: int = 0
    resumes: int = 0
    duplicates_skipped: int = 0
    connected_at: float | None = None
    last_received_at: float | None = None
    lag_s: float | None = None
    source: SourceStatus = field(default_factory=SourceStatus)
    #: The hub's site, from its first frame (None from hubs before sites).
    site: str | None = None

    def describe(self) -> str:
        """One plain-text line, e.g. 'reconnecting in 2.1 s (attempt 3): connection refused'.

        `attempt` is the connection attempt in progress, or the next one while waiting,
        counted from 1 since the last time the feed was live.
        """
        if self.status is FeedStatus.LIVE:
            return f"live: hub {self.hub_id}, seq {self.last_seq}"
        if self.status is FeedStatus.RECONNECTING:
            wait = f" in {self.retry_in:.1f} s" if self.retry_in is not None else ""
            error = f": {self.last_error}" if self.last_error else ""
            return f"reconnecting{wait} (attempt {self.attempt}){error}"
        if self.status is FeedStatus.CONNECTING:
            return f"connecting to {self.url} (attempt {max(1, self.attempt)})"
        return "closed" + (f": {self.last_error}" if self.last_error else "")


class FeedRefused(Exception):
    """The hub refused us and retrying will not help (the message says why)."""


class _Resync(Exception):
    """Drop this connection and start over from a fresh snapshot."""


def events_url(url: str) -> str:
    """The `/events` URL of a hub given as `ws://host:port` or a full URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"not a websocket URL (ws:// or wss://): {url!r}")
    path = parts.path if parts.path not in ("", "/") else "/events"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class FeedClient:
    """Async iterator of hub items with reconnection (see the module docstring)."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        since: int | None = None,
        hub_id: str | None = None,
        *,
        on_state: Callable[[FeedState], None] | None = None,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        max_attempts: int | None = None,
        ssl: ssl_module.SSLContext | None = None,
        ping_interval: float = 5.0,
        ping_timeout: float = 10.0,
        open_timeout: float = 10.0,
        max_message: int = MAX_MESSAGE,
        alternatives: Sequence[str] = (),
    ) -> None:
        self.url = events_url(url)
        #: Every hub this client may follow, `url` first: hubs of one site on NATS share
        #: one hub id and the same seqs, so a resume on another one loses nothing.
        self.urls = [self.url, *(events_url(other) for other in alternatives)]
        self.state = FeedState(url=self.url, hub_id=hub_id, last_seq=since)
        # Stripped as the hub strips its own (HTTP drops the spaces around a header value).
        self._token = token.strip() if token is not None else None
        self._on_state = on_state
        self._backoff = (backoff_initial, backoff_max)
        self._max_attempts = max_attempts
        self._ssl = ssl
        self._ping = (ping_interval, ping_timeout)
        self._open_timeout = open_timeout
        self._max_message = max_message
        self._want_snapshot = since is None
        self._closed = False
        self._wake = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._close_note: str | None = None
        self._went_live = False

    def add_alternative(self, url: str) -> None:
        """Another hub of the same site to fail over to (see `alternatives`)."""
        url = events_url(url)
        if url not in self.urls:
            self.urls.append(url)

    def __aiter__(self) -> AsyncIterator[FeedItem]:
        return self._run()

    async def close(self) -> None:
        """Stop: close the connection and end the iteration."""
        self._closed = True
        self._wake.set()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()

    async def cut(self) -> None:
        """Drop the current connection as if the network failed (the client reconnects)."""
        if self._ws is not None:
            self._ws.transport.abort()

    def _set(self, **changes: object) -> None:
        self.state = replace(self.state, **changes)  # type: ignore[arg-type]
        if self._on_state is not None:
            self._on_state(self.state)

    def _uri(self) -> str:
        # The protocol this client reads: a hub of another version refuses it (HTTP 400).
        query: dict[str, str] = {"protocol": str(PROTOCOL_VERSION)}
        # The snapshot's parts compressed (a hub that ignores this sends them as text).
        query[SNAPSHOT_PARAM] = ZLIB
        if not self._want_snapshot and self.state.last_seq is not None:
            query["since"] = str(self.state.last_seq)
            if self.state.hub_id is not None:
                query["hub"] = self.state.hub_id
        return self.url + ("?" + urlencode(query) if query else "")

    def _delay(self, attempt: int) -> float:
        initial, ceiling = self._backoff
        delay = min(ceiling, initial * 2 ** max(0, attempt - 1))
        return random.uniform(delay / 2, delay)

    async def _run(self) -> AsyncIterator[FeedItem]:
        # Failed attempts in a row; a connection that went live resets the count.
        failures = 0
        try:
            while not self._closed:
                self._went_live = False
                self._set(
                    status=FeedStatus.CONNECTING
                    if self.state.status is not FeedStatus.RECONNECTING
                    else FeedStatus.RECONNECTING,
                    attempt=failures + 1,
                    retry_in=None,
                )
                error: str
                try:
                    async for item in self._session():
                        yield item
                    error = self._close_note or "connection closed"
                except InvalidStatus as exc:
                    code = exc.response.status_code
                    body = exc.response.body.decode(errors="replace").strip()[:200]
                    error = f"hub refused the connection: HTTP {code} {body}".strip()
                    if code in (400, 401, 403, 404):
                        self._set(status=FeedStatus.CLOSED, last_error=error)
                        raise FeedRefused(error) from None
                except ConnectionClosed as exc:
                    error = _closed_reason(exc, self._max_message)
                except _Resync as exc:
                    error = f"re-syncing: {exc}"
                    self._want_snapshot = True
                except ProtocolMismatch as exc:
                    # An older hub, which does not know `?protocol=`: retrying cannot help.
                    error = f"hub refused: {exc}"
                    self._set(status=FeedStatus.CLOSED, last_error=error)
                    raise FeedRefused(error) from None
                except FrameError as exc:
                    error = f"bad frame from hub: {exc}"
                    self._want_snapshot = True
                except (OSError, InvalidHandshake, TimeoutError) as exc:
                    error = str(exc) or type(exc).__name__
                if self._closed:
                    break
                failures = 1 if self._went_live else failures + 1
                if (
                    self._max_attempts is not None
                    and not self._went_live
                    and failures >= self._max_attempts
                ):
                    self._set(status=FeedStatus.CLOSED, last_error=error)
                    raise FeedRefused(f"gave up after {failures} attempts: {error}")
                delay = self._delay(failures)
                if len(self.urls) > 1:
                    # Fail over: the next hub of the site, at once unless every one of
                    # them failed in a row (then the backoff, as for a single hub).
                    self.url = self.urls[(self.urls.index(self.url) + 1) % len(self.urls)]
                    self.state.url = self.url
                    if failures % len(self.urls):
                        delay = 0.0
                self._set(
                    status=FeedStatus.RECONNECTING,
                    retry_in=round(delay, 2),
                    last_error=error,
                    attempt=failures + 1,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
        finally:
            if self.state.status is not FeedStatus.CLOSED:
                self._set(status=FeedStatus.CLOSED, retry_in=None)

    async def _session(self) -> AsyncIterator[FeedItem]:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else None
        tls: dict[str, object] = {}
        if self.url.startswith("wss:"):
            tls["ssl"] = self._ssl if self._ssl is not None else True
        async with connect(
            self._uri(),
            additional_headers=headers,
            **tls,  # type: ignore[arg-type]
            max_size=self._max_message,
            ping_interval=self._ping[0],
            ping_timeout=self._ping[1],
            open_timeout=self._open_timeout,
            close_timeout=2,
        ) as ws:
            self._ws = ws
            started = False
            # A snapshot comes in parts: nothing is yielded until the last one is in.
            parts = SnapshotParts()
            try:
                async for message in ws:
                    if isinstance(message, bytes):
                        # A compressed snapshot part: inflated no further than our limit.
                        message = inflate_part(message, self._max_message)
                    for frame in decode_hub_message(message):
                        if not started:
                            if not isinstance(frame, Snapshot | Resume):
                                raise FrameError("the first frame must be a snapshot or resume")
                            started = True
                        if isinstance(frame, Snapshot):
                            whole = parts.add(frame)
                            if whole is None:
                                continue
                            frame = whole
                        elif parts.pending is not None:
                            raise FrameError(
                                f"snapshot part {parts.pending} was not followed by its next part"
                            )
                        item = self._accept(frame)
                        if item is not None:
                            yield item
            except (asyncio.CancelledError, GeneratorExit):
                # The board is leaving (its worker cancelled, the iteration closed),
                # not failing: say so to the hub, which logs the code. Left to
                # `connect`'s own exit this would be 1011, an internal error.
                with contextlib.suppress(Exception):
                    await ws.close(CloseCode.GOING_AWAY, LEAVING)
                raise
            finally:
                self._ws = None
                code, reason = ws.close_code, ws.close_reason
                self._close_note = (
                    f"hub closed the connection ({code}{': ' + reason if reason else ''})"
                    if code is not None
                    else None
                )

    def _accept(self, frame: Snapshot | Resume | EventFrame | SourceStatus) -> FeedItem | None:
        state = self.state
        if isinstance(frame, EventFrame):
            last = state.last_seq
            if last is not None and frame.seq <= last:
                state.duplicates_skipped += 1
                return None
            if last is not None and frame.seq != last + 1:
                raise _Resync(f"gap in seq: expected {last + 1}, got {frame.seq}")
            now = time.time()
            state.last_seq = frame.seq
            state.events_received += 1
            state.last_received_at = frame.received_at
            state.lag_s = max(0.0, now - frame.received_at) if frame.received_at else None
            return frame.event
        if isinstance(frame, SourceStatus):
            state.source = frame
            return frame
        if isinstance(frame, Snapshot):
            self._want_snapshot = False
            self._went_live = True
            self._set(
                status=FeedStatus.LIVE,
                hub_id=frame.hub_id,
                last_seq=frame.seq,
                joined_seq=frame.seq,
                snapshots=state.snapshots + 1,
                connected_at=time.time(),
                source=frame.source,
                retry_in=None,
                site=frame.site,
            )
            return frame
        if state.hub_id is not None and frame.hub_id != state.hub_id:
            raise _Resync(f"hub changed from {state.hub_id} to {frame.hub_id}")
        changed = frame.source != state.source
        self._went_live = True
        self._set(
            status=FeedStatus.LIVE,
            hub_id=frame.hub_id,
            joined_seq=frame.seq,
            resumes=state.resumes + 1,
            connected_at=time.time(),
            source=frame.source,
            retry_in=None,
            site=frame.site,
        )
        return frame.source if changed else None


def _closed_reason(exc: ConnectionClosed, max_message: int) -> str:
    """Who closed the connection and why, in words: the hub, or this client itself."""
    if exc.sent is not None and not exc.rcvd_then_sent:
        # We closed first (the hub's close frame, if any, only echoed ours).
        if exc.sent.code == CloseCode.MESSAGE_TOO_BIG:
            return (
                "the hub sent a message larger than this client's limit "
                f"({max_message} bytes); closed by this client"
            )
        reason = f": {exc.sent.reason}" if exc.sent.reason else ""
        return f"this client closed the connection ({exc.sent.code}{reason})"
    frame = exc.rcvd or exc.sent
    if frame is None:
        return "connection lost"
    reason = f": {frame.reason}" if frame.reason else ""
    return f"hub closed the connection ({frame.code}{reason})"
