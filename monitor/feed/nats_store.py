"""The hub's store on NATS JetStream: one stream and one key-value bucket per site.

With `callboard serve --nats URL --site NAME` the stream replaces the file journal
(docs/scaling.md says when, and why NATS rather than more of our own):

* stream `CALLBOARD_<site>`, subject `callboard.<site>.events`: one message per
  event the hub accepted, its body the event's schema v1 JSON, headers
  `Nats-Msg-Id` (the event's identity, `event_msg_id`, so a publish retried after
  a lost acknowledgement is stored once), `Callboard-Pos` (a replayed event's
  position in its log, for resuming) when it has one. Retention: `max_age`
  (`--keep-days`) and `max_bytes` (`--nats-max-bytes`), oldest dropped first.
* bucket `callboard_<site>_checkpoint`: key `checkpoint`, the hub's state after a
  stream sequence (the same content as `monitor.feed.checkpoint`'s files), zlib
  compressed; key `hub_id`, the site's hub id, the same for every hub of the site
  so a viewer's `?since=&hub=` resume works on any of them.

A hub holds two connections. The first carries the stream: its push consumer
(`follow`) and the events' publishes. The bucket has a connection of its own,
because a reply comes back on the connection its request went out on, behind
whatever the server had already queued there: while a hub rebuilds a big day the
server keeps megabytes of stream messages in flight to it (the consumer's flow
control window), which the hub reads at the pace it applies them, so a checkpoint
put's acknowledgement on that connection waited 5-10 s and timed out (figure 16
lost 10-13 of ~100 saves that way; a put on a second connection, same process and
loop, took 0.2 s). A viewer writes no checkpoint and reads the bucket before it
follows the stream: it keeps one connection.

This module only talks to NATS; `monitor.feed.nats_link` puts it in front of the
hub. Everything here is nats-py's public API (the NATS project's own client).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import ssl
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    KeyValueConfig,
    PubAck,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.kv import KeyValue

from classifier.schema import Event
from monitor.feed.nats_config import (
    CHECKPOINT_KEY,
    DUPLICATE_WINDOW_S,
    HUB_ID_KEY,
    MSG_ID_HEADER,
    POS_HEADER,
    NatsConfig,
    NatsUnavailable,
    bucket_for,
    stream_for,
    subject_for,
)

log = logging.getLogger("callboard.nats")


class CheckpointNotSaved(Exception):
    """A checkpoint save failed; the message says at which step and why."""


def event_msg_id(event: Event) -> str:
    """The event's identity as a message id: its JSON without `seq`, hashed.

    Events carry no id of their own; two events equal in every field but `seq` are
    one event repeated (`classifier.schema` `key`), so equal JSON is the same event.
    """
    body = event.model_dump_json(by_alias=True, exclude_unset=True, exclude={"seq"})
    return hashlib.sha256(body.encode()).hexdigest()[:40]


def encode_checkpoint(state: dict[str, Any]) -> bytes:
    """A checkpoint's state as a bucket value: compact JSON, zlib (about 10x smaller)."""
    return zlib.compress(json.dumps(state, separators=(",", ":")).encode(), 6)


def decode_checkpoint(data: bytes) -> dict[str, Any]:
    """A checkpoint's state; ValueError says what is wrong (zlib's own check guards it)."""
    try:
        state = json.loads(zlib.decompress(data))
    except zlib.error as exc:
        raise ValueError(f"not a compressed checkpoint ({exc})") from None
    except ValueError:
        raise ValueError("its body is not JSON") from None
    if not isinstance(state, dict) or not isinstance(state.get("stream_seq"), int):
        raise ValueError("not a checkpoint object with a stream_seq")
    return state


Handler = Callable[[Msg], Awaitable[None]]


class NatsStore:
    """The connection, the site's stream and bucket (module docstring)."""

    def __init__(
        self,
        config: NatsConfig,
        site: str,
        on_connection: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.site = site
        self.subject = subject_for(site)
        self.stream = stream_for(site)
        self.bucket = bucket_for(site)
        #: "connecting", "connected", "disconnected" or "closed".
        self.state = "connecting"
        self.reconnects = 0
        self.last_error: str | None = None
        self._on_connection = on_connection
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._kv: KeyValue | None = None
        #: The bucket's own connection (module docstring); None for a viewer.
        self._bucket_nc: Client | None = None
        self._sub: JetStreamContext.PushSubscription | None = None

    @property
    def max_payload(self) -> int:
        """The largest message the server takes (a checkpoint must fit in one)."""
        return self._nc.max_payload if self._nc is not None else 1024 * 1024

    async def connect(self) -> None:
        """Connect, create or update the stream and bucket; NatsUnavailable if we cannot."""
        config = self.config
        tls: ssl.SSLContext | None = None
        if config.ca is not None:
            tls = ssl.create_default_context(cafile=str(config.ca))
        options: dict[str, Any] = {
            "servers": config.servers,
            "name": f"callboard {'board' if config.viewer else 'hub'} ({self.site})",
            "connect_timeout": config.connect_timeout,
            # The first connection must work (else exit 2); after it, retry for ever.
            "allow_reconnect": True,
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": 0.5,
            "error_cb": self._error,
            "disconnected_cb": self._disconnected,
            "reconnected_cb": self._reconnected,
            "closed_cb": self._closed,
        }
        if tls is not None:
            options["tls"] = tls
        if config.creds is not None:
            options["user_credentials"] = str(config.creds)
        if config.user is not None:
            options["user"] = config.user
            options["password"] = config.password or ""
        if config.token is not None:
            options["token"] = config.token
        where = ", ".join(config.servers)
        await self._probe(options, where)
        try:
            self._nc = await nats.connect(**options)
        except Exception as exc:
            raise NatsUnavailable(f"cannot connect to NATS at {where}: {_reason(exc)}") from None
        self.state = "connected"
        self._js = self._nc.jetstream()
        if config.viewer:
            await self._find_site(where)
            return
        try:
            await self._ensure_stream()
            self._bucket_nc = await nats.connect(
                **options
                | {
                    "name": f"callboard hub checkpoints ({self.site})",
                    # The stream's connection says whether NATS is there; this one's
                    # troubles show as a save that fails, logged with its reason.
                    "disconnected_cb": None,
                    "reconnected_cb": None,
                    "closed_cb": None,
                }
            )
            self._kv = await self._ensure_bucket()
        except Exception as exc:
            await self.close()
            raise NatsUnavailable(
                f"NATS at {where}: cannot set up stream {self.stream} / bucket "
                f"{self.bucket} (is JetStream enabled, -js?): {_reason(exc)}"
            ) from None

    async def _find_site(self, where: str) -> None:
        """A viewer's start: the site's stream must be there, its bucket may not be.

        Nothing is created or changed: a board that misspells a site must not leave an
        empty stream behind, and only the site's hubs set its retention.
        """
        assert self._js is not None
        try:
            try:
                await self._js.stream_info(self.stream)
            except nats.js.errors.NotFoundError:
                raise NatsUnavailable(
                    f"NATS at {where} has no stream {self.stream}: no hub has served site "
                    f"{self.site!r} there (callboard serve --nats URL --site {self.site})"
                ) from None
            try:
                self._kv = await self._js.key_value(self.bucket)
            except nats.js.errors.BucketNotFoundError:
                self._kv = None  # no checkpoint yet: the stream is read from its start
        except NatsUnavailable:
            await self.close()
            raise
        except Exception as exc:
            await self.close()
            raise NatsUnavailable(
                f"NATS at {where}: cannot read stream {self.stream} (is JetStream enabled, "
                f"-js?): {_reason(exc)}"
            ) from None

    async def _probe(self, options: dict[str, Any], where: str) -> None:
        """Try each server once or twice: NatsUnavailable with the reason if none answers.

        nats-py retries the first connection for ever when reconnects are unlimited,
        which the hub wants once it runs; at start an unreachable NATS is exit 2.
        """
        errors: list[BaseException] = []

        async def collect(exc: Exception) -> None:
            errors.append(exc)

        probe = options | {
            "allow_reconnect": False,
            "max_reconnect_attempts": 1,
            "error_cb": collect,
            "disconnected_cb": None,
            "reconnected_cb": None,
            "closed_cb": None,
        }
        try:
            nc = await nats.connect(**probe)
        except Exception as exc:
            reason = _reason(errors[-1] if errors else exc)
            raise NatsUnavailable(f"cannot connect to NATS at {where}: {reason}") from None
        await nc.close()

    async def _ensure_stream(self) -> None:
        assert self._js is not None
        config = StreamConfig(
            name=self.stream,
            description=f"callboard events of site {self.site}",
            subjects=[self.subject],
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD,
            storage=StorageType.FILE,
            num_replicas=self.config.replicas,
            max_age=None if self.config.keep_days is None else self.config.keep_days * 86400.0,
            max_bytes=self.config.max_bytes,
            duplicate_window=DUPLICATE_WINDOW_S,
        )
        try:
            await self._js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await self._js.add_stream(config)
            log.info("stream %s created (subject %s)", self.stream, self.subject)
            return
        # It exists: bring its retention to what we were given (replicas included).
        await self._js.update_stream(config)

    async def _ensure_bucket(self) -> KeyValue:
        assert self._bucket_nc is not None
        js = self._bucket_nc.jetstream(timeout=self.config.bucket_timeout)
        try:
            return await js.key_value(self.bucket)
        except nats.js.errors.BucketNotFoundError:
            return await js.create_key_value(
                KeyValueConfig(
                    bucket=self.bucket,
                    description=f"callboard checkpoints of site {self.site}",
                    history=3,
                    storage=StorageType.FILE,
                    replicas=self.config.replicas,
                )
            )

    async def hub_id(self, fresh: str) -> str:
        """The site's hub id: `fresh` if this is the site's first hub, else the stored one."""
        if self.config.viewer:
            return await self._stored_hub_id(fresh)
        assert self._kv is not None
        try:
            await self._kv.create(HUB_ID_KEY, fresh.encode())
            return fresh
        except nats.js.errors.KeyWrongLastSequenceError:
            entry = await self._kv.get(HUB_ID_KEY)
            return (entry.value or b"").decode() or fresh

    async def _stored_hub_id(self, fresh: str) -> str:
        """A viewer takes the site's hub id if there is one, and stores none of its own."""
        if self._kv is None:
            return fresh
        try:
            entry = await self._kv.get(HUB_ID_KEY)
        except nats.js.errors.KeyNotFoundError:
            return fresh
        return (entry.value or b"").decode() or fresh

    async def seq_range(self) -> tuple[int, int]:
        """The stream's oldest and newest sequence now (first > last when it is empty)."""
        assert self._js is not None
        info = await self._js.stream_info(self.stream)
        return int(info.state.first_seq), int(info.state.last_seq)

    async def publish(self, body: bytes, msg_id: str, pos: dict[str, Any] | None) -> PubAck:
        """Store one event; raises what nats-py raises when it cannot (the caller retries)."""
        assert self._js is not None
        headers = {MSG_ID_HEADER: msg_id}
        if pos is not None:
            headers[POS_HEADER] = json.dumps(pos, separators=(",", ":"))
        return await self._js.publish(
            self.subject,
            body,
            timeout=self.config.publish_timeout,
            stream=self.stream,
            headers=headers,
        )

    async def follow(self, after: int, handler: Handler) -> None:
        """Deliver every message after stream seq `after`, in order, to `handler`.

        nats-py's ordered consumer: one message at a time, and after a lost server or
        a gap it re-creates itself from the last sequence it delivered.
        """
        assert self._js is not None
        self._sub = await self._js.subscribe(
            self.subject,
            stream=self.stream,
            cb=handler,
            ordered_consumer=True,
            idle_heartbeat=1.0,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after + 1
            ),
        )

    async def _manifest(self) -> dict[str, Any] | None:
        """The checkpoint's manifest (`CHECKPOINT_KEY`), or None; ValueError if unreadable."""
        if self._kv is None:
            return None  # a viewer of a site whose bucket is not there yet
        try:
            entry = await self._kv.get(CHECKPOINT_KEY)
        except nats.js.errors.KeyNotFoundError:
            return None
        where = f"bucket {self.bucket} key {CHECKPOINT_KEY} revision {entry.revision}"
        try:
            manifest = json.loads(entry.value or b"")
        except ValueError:
            raise ValueError(f"{where}: not a JSON manifest") from None
        if not isinstance(manifest, dict) or not all(
            isinstance(manifest.get(key), int) for key in ("stream_seq", "parts", "length")
        ):
            raise ValueError(f"{where}: not a checkpoint manifest (stream_seq, parts, length)")
        manifest["where"] = where
        return manifest

    async def load_checkpoint(self) -> dict[str, Any] | None:
        """The newest checkpoint's state, or None; ValueError names a damaged one."""
        manifest = await self._manifest()
        if manifest is None or self._kv is None:
            return None
        chunks = []
        for part in range(manifest["parts"]):
            key = _part_key(manifest["stream_seq"], part)
            try:
                chunks.append((await self._kv.get(key)).value or b"")
            except nats.js.errors.KeyNotFoundError:
                raise ValueError(f"{manifest['where']}: its part {key} is missing") from None
        data = b"".join(chunks)
        if len(data) != manifest["length"] or f"{zlib.crc32(data):08x}" != manifest.get("crc32"):
            raise ValueError(
                f"{manifest['where']}: its parts make {len(data)} bytes, crc32 "
                f"{zlib.crc32(data):08x}; the manifest says {manifest['length']}, "
                f"{manifest.get('crc32')}"
            )
        try:
            return decode_checkpoint(data)
        except ValueError as exc:
            raise ValueError(f"{manifest['where']}: {exc}") from None

    async def save_checkpoint(self, state: dict[str, Any]) -> int:
        """Store `state` unless the bucket holds a newer one; the parts written (0: none).

        A checkpoint can outgrow one NATS message (max_payload, 1 MB by default; 20,000
        calls in progress make several): it is stored in parts, keys
        `checkpoint.<stream seq>.<n>`, then the manifest `checkpoint` naming them is
        written, so a reader sees the old checkpoint or the whole new one. The parts
        of the checkpoint before the previous one are deleted: a hub reading the
        previous one while this is written still finds its parts. Each request waits
        `NatsConfig.bucket_timeout` for its answer, and the save as a whole as long
        per part plus once for the manifest. CheckpointNotSaved names the step that
        failed.
        """
        assert self._kv is not None
        try:
            current = await self._manifest()
        except ValueError:
            current = None  # a damaged manifest: this save replaces it
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            raise CheckpointNotSaved(f"reading the bucket's manifest: {_reason(exc)}") from None
        gen = int(state["stream_seq"])
        if current is not None and current["stream_seq"] >= gen:
            return 0  # another hub of the site saved a newer one
        data = encode_checkpoint(state)
        size = max(1024, self.max_payload - 4096)
        chunks = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
        manifest = {
            "stream_seq": gen,
            "parts": len(chunks),
            "length": len(data),
            "crc32": f"{zlib.crc32(data):08x}",
            "previous": None if current is None else current["stream_seq"],
            "previous_parts": None if current is None else current["parts"],
        }
        wait = self.config.bucket_timeout
        limit = wait * (len(chunks) + 1)
        step = "the manifest"
        try:
            async with asyncio.timeout(limit):
                for part, chunk in enumerate(chunks):
                    step = f"part {part + 1} of {len(chunks)} ({len(chunk):,} bytes)"
                    await self._kv.put(_part_key(gen, part), chunk)
                step = "the manifest"
                await self._kv.put(CHECKPOINT_KEY, json.dumps(manifest).encode())
        except nats.errors.TimeoutError:
            raise CheckpointNotSaved(
                f"{step}: NATS did not acknowledge it within {wait:g} s"
            ) from None
        except TimeoutError:
            raise CheckpointNotSaved(
                f"{step}: the save of {len(chunks)} part(s) took over its {limit:g} s"
            ) from None
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            raise CheckpointNotSaved(f"{step}: {_reason(exc)}") from None
        if current is not None and isinstance(current.get("previous"), int):
            await self._delete_parts(current["previous"], int(current.get("previous_parts") or 0))
        return len(chunks)

    async def _delete_parts(self, stream_seq: int, parts: int) -> None:
        """Delete an old checkpoint's parts; one that stays is said (it only takes room)."""
        assert self._kv is not None
        for part in range(parts):
            key = _part_key(stream_seq, part)
            try:
                await self._kv.delete(key)
            except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
                log.info("old checkpoint part %s left in the bucket: %s", key, _reason(exc))

    async def close(self) -> None:
        """Stop following the stream and close the connection (pending publishes flushed)."""
        self.state = "closed"  # nats-py's disconnected callback is no outage now
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception as exc:  # the connection may be gone already
                log.debug("unsubscribe: %s", exc)
            self._sub = None
        for nc in (self._bucket_nc, self._nc):
            if nc is not None and not nc.is_closed:
                try:
                    await nc.close()
                except Exception as exc:
                    log.debug("close: %s", exc)
        self.state = "closed"

    def stats(self) -> dict[str, Any]:
        """The connection's part of /health's `nats` object."""
        return {
            "state": self.state,
            "url": self._nc.connected_url.geturl()
            if self._nc is not None and self._nc.connected_url is not None
            else None,
            "site": self.site,
            "stream": self.stream,
            "subject": self.subject,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
        }

    # ----- nats-py's callbacks -----------------------------------------------------

    async def _error(self, exc: Exception) -> None:
        self.last_error = _reason(exc)
        log.debug("nats: %s", self.last_error)

    async def _disconnected(self) -> None:
        if self.state == "closed":
            return
        self.state = "disconnected"
        log.warning("NATS connection lost; reconnecting (producers buffered)")
        if self._on_connection is not None:
            self._on_connection(self.state)

    async def _reconnected(self) -> None:
        self.state = "connected"
        self.reconnects += 1
        log.warning("NATS connection back (%d reconnects)", self.reconnects)
        if self._on_connection is not None:
            self._on_connection(self.state)

    async def _closed(self) -> None:
        self.state = "closed"


def _part_key(stream_seq: int, part: int) -> str:
    return f"{CHECKPOINT_KEY}.{stream_seq}.{part}"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text and not text.startswith("nats:") else (text or name)
