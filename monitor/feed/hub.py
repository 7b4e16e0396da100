"""The hub: one websocket server that many wallboards and `tail`s subscribe to.

Use it in-process (the wallboard's demo mode, tests)::

    async with running_hub(HubConfig(port=0)) as hub:
        hub.attach_source(ReplaySource("day.jsonl", speed=0))   # any monitor.sources.source.Source
        hub.publish(event)                                       # or publish directly
        ...  # subscribers connect to hub.url  (ws://127.0.0.1:PORT/events)

or as `callboard serve`. Endpoints:

* `/events`  read-only subscription: a `snapshot` (or a `resume` when the client
  passes `?since=SEQ&hub=ID` and the hub still holds what it missed), then
  `event`/`batch`/`status` frames. See `docs/protocol.md`.
* `/publish` producers send schema v1 events, one per message; each is answered
  with `ack` (accepted, with its seq), `ignored` (a duplicate) or `error`.
* `/health`  plain HTTP GET: the hub's counters as JSON.

The hub assigns `seq` (1, 2, 3, ... never reused), keeps the calls in progress in
a `CallTracker` (so it forwards exactly the events the classifier accepts, and
can hand new subscribers a snapshot), a bounded ring of recent event frames,
and optionally a journal (`monitor.feed.journal`) it writes before fanning out,
or, with `HubConfig.nats`, a NATS JetStream stream shared by the site's hubs
(`monitor.feed.nats_link`, docs/scaling.md): events then go in through
`await hub.submit(event)`, which works on every hub.

Sources: `attach_source(source)` runs a `monitor.sources.source.Source` (an async iterable
of events with `kind` and `name`, shown to subscribers, `problems`, the count of
input it skipped, and `position`) and publishes what it yields; a
`ResumableSource` also has `resume_from(position)` (see `monitor.sources.replay_source`).
When the source ends the
hub broadcasts a `status` frame with `state: "finished"` and `final_seq`.

Back-pressure (`monitor.feed.fanout`): the frames of a loop turn go out as one
message written to every subscriber that keeps up; one that falls behind gets
its own queue of pre-encoded frames drained by its own task, so a slow
subscriber never holds the others back; when its queue reaches `queue_limit`
frames it is dropped (close code 4001) and must re-sync when it reconnects.
Memory is bounded by `ring_size`, `queue_limit` x `max_subscribers` pointers to
shared strings, and the socket write buffers.

Joining: a subscriber counts (against `max_subscribers`, on /health) from its
accepted handshake. Its snapshot goes out in parts built one at a time, so the
loop keeps running and a peer that does not read pins one part; the snapshot or
catch-up must be sent within `catchup_timeout`, and a peer whose unsent bytes do
not move for `ping_timeout` is cut at any time (the heartbeat's ping would wait
behind those bytes). Calls in progress are bounded by `max_calls` and expire
after `call_expiry` of event time without an event. See "Limits" in
`docs/protocol.md`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import json
import logging
import socket
import ssl
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.protocol import State

from classifier.agents import AgentsDay
from classifier.day import DayClock, DayState
from classifier.kpi import KpiSettings
from classifier.plausible import TimeWindow
from classifier.rules import EVENT_RULES, Rule
from classifier.schema import Event, EventError, parse_event
from classifier.sites import DEFAULT_SITE, check_site
from classifier.tracker import Admitted, Applied, CallTracker, Result
from monitor.feed.collector import collector_stats
from monitor.feed.connection_failures import ConnectionFailures
from monitor.feed.fanout import Fanout, Subscriber
from monitor.feed.hub_alerts import HubAlerts
from monitor.feed.journal import JournalError, JournalWriteError, new_hub_id
from monitor.feed.journal_days import KEEP_DAYS, DayJournal, DayOf, event_day
from monitor.feed.log_limit import LimitedLog
from monitor.feed.nats_config import NatsConfig
from monitor.feed.protocol import (
    CLOSE_RESYNC,
    CLOSE_TOO_SLOW,
    PROTOCOL_VERSION,
    SourceState,
    SourceStatus,
    encode_ack,
    encode_batch,
    encode_error,
    encode_event_frame,
    encode_ignored,
    encode_resume,
    encode_status,
)
from monitor.feed.snapshot_build import message_steps
from monitor.feed.snapshot_build import take as take_snapshot
from monitor.feed.snapshot_zlib import SNAPSHOT_PARAM, ZLIB
from monitor.sources.source import (
    SOURCE_TURN,
    CountingSource,
    ResumableSource,
    Source,
    StatefulSource,
)

if TYPE_CHECKING:
    from monitor.feed.nats_link import NatsLink

log = logging.getLogger("callboard.hub")

EVENTS_PATH = "/events"
PUBLISH_PATH = "/publish"
HEALTH_PATH = "/health"

#: What /health counts (always present, so monitoring can rely on the keys).
COUNTERS = (
    "accepted",
    "invalid",
    "duplicates",
    "rejected",
    "oversized",
    "auth_failures",
    "dropped_slow",
    "readonly_violations",
    "subscribed",
    "source_problems",
    "journal_failures",
    "implausible_time",
    "connection_errors",
    "calls_over_limit",
    "calls_expired",
    "join_timeouts",
    "stalled",
)

#: What `LimitedLog.flush` calls the refused event times it left out of the log.
REFUSED_TIMES = "events refused for their time (implausible_time)"


class Refusal(StrEnum):
    """Why the hub refused an event (`PublishResult.code`).

    Also the `code` of the producer's answer: an `ignored` frame for a duplicate, an
    `error` frame otherwise (docs/protocol.md).
    """

    #: The event was applied already; nothing changes.
    DUPLICATE = "duplicate"
    #: The tracker refused it (`CallTracker.refusal` says why).
    REJECTED = "rejected"
    #: The journal could not store it (the hub retries its own source's events).
    UNAVAILABLE = "unavailable"
    #: Its time is outside the plausibility window (docs/protocol.md).
    IMPLAUSIBLE_TIME = "implausible_time"


#: Seconds the hub's own source waits before offering an event the journal could not
#: store again: a full disk is not freed in milliseconds, and each try is a write.
JOURNAL_RETRY_S = 1.0


@dataclass(slots=True)
class HubConfig:
    """Everything `callboard serve` can set; the defaults suit one site on one machine."""

    host: str = "127.0.0.1"
    #: 0 picks a free port (read it back from `Hub.port`).
    port: int = 8765
    #: When set, every connection must send `Authorization: Bearer <token>`.
    #: Surrounding whitespace is dropped; a blank token is a ValueError.
    token: str | None = None
    #: When set, /publish needs this token (the read `token` is refused there with
    #: 403); it also opens /events and /health. See docs/protocol.md.
    publish_token: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    journal: Path | None = None
    journal_fsync: bool = False
    #: Days of journal kept for `since=` resumes and reports (`monitor.feed.journal_days`).
    journal_keep_days: int = KEEP_DAYS
    #: The day an event belongs to: the journal starts a new segment when it changes.
    day_of: DayOf = event_day
    #: Recent event frames kept for subscribers resuming with `?since=`.
    ring_size: int = 50_000
    #: Frames a subscriber may fall behind before it is dropped.
    queue_limit: int = 10_000
    #: Most frames sent in one `batch` message.
    batch_max: int = 500
    #: Least seconds between two writes to the subscribers that keep up (0: one per
    #: loop turn at most); frames published in between leave as one batch.
    fanout_interval: float = 0.0
    #: permessage-deflate on connections whose client offers it. Off by default: each
    #: connection compresses each frame for itself, and at 100 subscribers that was
    #: 40% of the hub's work per delivery (bench/README.md, figure 5); on for viewers
    #: across a slow link (`serve --compress`), where bytes cost more than CPU.
    compression: bool = False
    #: Largest message a peer may send (bytes); larger ones close the connection (1009).
    max_frame: int = 64 * 1024
    max_subscribers: int = 1_000
    max_producers: int = 100
    #: A producer that sends nothing for this many seconds is closed (1000, with
    #: the reason), so idle producers cannot hold every slot for ever.
    producer_idle_timeout: float = 300.0
    #: Seconds a connection has to complete its websocket handshake (an idle TCP
    #: connection that never sends one is closed after this).
    open_timeout: float = 10.0
    #: Connection failures in a flood are logged once per this many seconds, with a count.
    failure_log_interval: float = 10.0
    ping_interval: float = 5.0
    ping_timeout: float = 10.0
    close_timeout: float = 5.0
    #: SO_SNDBUF for each connection (bytes); None leaves the kernel's autotuning,
    #: which may buffer megabytes for a peer that stopped reading.
    socket_send_buffer: int | None = None
    #: Seconds a new subscriber has to take its snapshot or catch-up before it is cut.
    catchup_timeout: float = 60.0
    #: Most calls in progress; an event opening one more is refused (None: no limit).
    max_calls: int | None = 20_000
    #: Seconds of event time without an event after which a call in progress expires
    #: (its `call.ended` was lost); None: calls never expire.
    call_expiry: float | None = 6 * 3600.0
    #: Where the centre's day begins and ends (`--timezone`, `--day-starts`).
    day_clock: DayClock = field(default_factory=DayClock)
    #: The event rules verdicts are made by (callboard.toml `[rules]`).
    rules: tuple[Rule, ...] = EVENT_RULES
    #: The service-level thresholds the day counts with (callboard.toml `[queues]`),
    #: so that boards with the same file take the hub's day and the alerts share it.
    settings: KpiSettings = field(default_factory=KpiSettings)
    #: The alert rules judged after each event, and their webhook (`--config`); None: none.
    alerts: HubAlerts | None = None
    #: The site this hub serves (`--site`), sent in its first frame to each subscriber:
    #: a board watching several hubs labels their queues with it (`classifier.sites`);
    #: with NATS it names the site's subject, stream and bucket.
    site: str = DEFAULT_SITE
    #: With NATS (`--nats`), the site's JetStream stream is the hub's store instead of
    #: the journal (`monitor.feed.nats_link`, docs/scaling.md).
    nats: NatsConfig | None = None

    def __post_init__(self) -> None:
        self.token = _clean_token(self.token, "token")
        self.publish_token = _clean_token(self.publish_token, "publish_token")
        self.site = check_site(self.site)


@dataclass(slots=True)
class PublishResult:
    """What publishing one event did: accepted with a seq, or refused with a code."""

    accepted: bool
    seq: int | None = None
    code: Refusal | None = None
    problem: str | None = None
    warnings: list[str] = field(default_factory=list)


class HubStopped(Exception):
    """The hub cannot accept events any more (stopped, or its journal failed)."""


class Hub:
    """The hub's state and its websocket server (see the module docstring)."""

    def __init__(self, config: HubConfig | None = None) -> None:
        self.config = config or HubConfig()
        self.hub_id = new_hub_id()
        self.seq = 0
        expiry = self.config.call_expiry
        self.tracker = CallTracker(
            max_calls=self.config.max_calls,
            expire_after=timedelta(seconds=expiry) if expiry else None,
            rules=self.config.rules,
        )
        self.ring: deque[tuple[int, str]] = deque(maxlen=max(1, self.config.ring_size))
        #: The centre's day, fed by every verdict the tracker gives; in every snapshot.
        self.day = DayState(self.config.settings, self.config.day_clock, mark_start=True)
        #: Every agent's state and day (the agents panel), handed to boards with the day.
        self.agents = AgentsDay()
        self.source = SourceStatus()
        self.counters: Counter[str] = Counter(dict.fromkeys(COUNTERS, 0))
        #: The plausibility window for event times (`classifier.plausible`).
        self.times = TimeWindow()
        self._time_log = LimitedLog(log)
        self.journal: DayJournal | None = None
        #: The site's stream when the hub runs on NATS (`HubConfig.nats`).
        self.nats: NatsLink | None = None
        #: Records re-applied by the last start (after the checkpoint): shown on /health.
        self.recovered_records = 0
        #: The newest source position published: a checkpoint keeps it for resuming.
        self._position: dict[str, Any] | None = None
        self._fanout = Fanout(
            self.config.queue_limit,
            self.config.batch_max,
            self._dropped,
            interval=self.config.fanout_interval,
        )
        #: Every `/events` connection from its accepted handshake to its end, joining or
        #: live: what `max_subscribers` and /health count.
        self._subscriber_connections: set[ServerConnection] = set()
        #: Of those, the ones still taking their snapshot or catch-up.
        self._joining = 0
        self._producers = 0
        self._server: Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._source_task: asyncio.Task[None] | None = None
        #: The source running now, whose problems /health and status frames read live.
        self._running_source: Source | None = None
        self._source_done = asyncio.Event()
        self._recovered_position: dict[str, Any] | None = None
        #: Why the last journal write failed (None once one succeeds): shown on /health.
        self.journal_failure: str | None = None
        self._stopped = False
        self._failures = ConnectionFailures(log, self.config.failure_log_interval, self.counters)
        self.port = self.config.port
        #: The webhook receiver's counters (`monitor.hooks.server`), shown on /health
        #: as ``hooks`` when a receiver feeds this hub.
        self.hooks: Mapping[str, int] | None = None

    # ----- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        """Recover from the journal or the NATS stream (if any), then start listening.

        On NATS the hub listens while it rebuilds the site from the stream (a big day
        takes a minute): /health says so, /events and /publish answer 503 until done.
        """
        if self.config.journal is not None:
            self._recover(self.config.journal)
        if self.config.nats is not None:
            # Imported here: the link is built on this module's PublishResult and Refusal.
            from monitor.feed.nats_link import NatsLink

            self.nats = NatsLink(self, self.config.nats, self.config.site)
            await self.nats.open()
        ssl_context = None
        if self.config.tls_cert is not None:
            ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ssl_context.load_cert_chain(self.config.tls_cert, self.config.tls_key)
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            process_request=self._process_request,
            ssl=ssl_context,
            max_size=self.config.max_frame,
            open_timeout=self.config.open_timeout,
            ping_interval=self.config.ping_interval,
            ping_timeout=self.config.ping_timeout,
            close_timeout=self.config.close_timeout,
            server_header="callboard-hub",
            compression="deflate" if self.config.compression else None,
        )
        sockets = list(self._server.sockets)
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        if self.nats is not None:
            await self._rebuild(self.nats, self._server)
        self._failures.install()
        self._spawn(self._report_failures())
        if self.config.alerts is not None and self.config.alerts.webhook is not None:
            self._spawn(self.config.alerts.webhook.run())
        log.info("hub %s listening on %s (seq %d)", self.hub_id, self.base_url, self.seq)

    async def _rebuild(self, nats: NatsLink, server: Server) -> None:
        """Read the site's stream up to its end, listening; stop both if it cannot."""
        try:
            await nats.catch_up()
        except BaseException:
            server.close()
            await server.wait_closed()
            await nats.stop()
            raise

    async def stop(self) -> None:
        """Stop the source, close every connection with 1001 (going away), close the journal."""
        self._stopped = True
        self._fanout.flush()
        self._fanout.close()
        if self._source_task is not None:
            self._source_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._source_task
        if self._server is not None:
            connections = list(self._server.connections)
            self._server.close(reason="hub shutting down")
            try:
                await asyncio.wait_for(
                    asyncio.shield(self._server.wait_closed()), self.config.close_timeout + 1
                )
            except TimeoutError:
                # Peers that stopped reading cannot take their close frame: cut them.
                for ws in connections:
                    ws.transport.abort()
                await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.journal is not None:
            self.journal.close()
        if self.nats is not None:
            await self.nats.stop()
        self._failures.remove()
        self._time_log.flush(REFUSED_TIMES)

    @property
    def base_url(self) -> str:
        """`ws://HOST:PORT` (wss with TLS, an IPv6 host in brackets); the real port once started."""
        scheme = "wss" if self.config.tls_cert is not None else "ws"
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{self.port}"

    @property
    def url(self) -> str:
        """Where subscribers connect: `ws://HOST:PORT/events`."""
        return self.base_url + EVENTS_PATH

    @property
    def publish_url(self) -> str:
        """Where producers publish: `ws://HOST:PORT/publish`."""
        return self.base_url + PUBLISH_PATH

    # ----- journal recovery ------------------------------------------------------

    def _recover(self, path: Path) -> None:
        journal, recovery = DayJournal.open(
            path,
            keep_days=self.config.journal_keep_days,
            day_of=self.config.day_of,
            fsync=self.config.journal_fsync,
        )
        self.journal = journal
        self.hub_id = journal.hub_id
        if recovery.checkpoint is not None:
            self.restore_checkpoint(recovery.checkpoint.seq, recovery.checkpoint.state)
            log.info("journal: state at seq %d from %s", self.seq, recovery.checkpoint.path)
        for frame, text in recovery.records:
            self.recovered_records += 1
            applied = self.tracker.apply(frame.event)
            if applied.result is not Result.APPLIED:
                # The journal only holds events the tracker accepted; a refusal now means
                # the classifier changed. Keep the seq (it was acknowledged) and say so.
                log.warning("journal seq %d re-applied as %s", frame.seq, applied.result)
            self._count_day(frame.event, applied)
            if self.config.alerts is not None:
                # Judged as it was live, nothing sent (monitor.feed.hub_alerts, 'A restart').
                self.config.alerts.after(
                    applied, self.tracker, frame.event.ts, self.day, self.agents, send=False
                )
            self.seq = frame.seq
            self.ring.append((frame.seq, text))
            if frame.pos is not None:
                self._recovered_position = self._position = frame.pos
        journal.keep_state(self.checkpoint_state)
        if recovery.created:
            log.info("journal %s created for hub %s", path, self.hub_id)
        else:
            log.info(
                "journal %s recovered: hub %s, seq %d, %d calls in progress",
                path,
                self.hub_id,
                self.seq,
                len(self.tracker),
            )

    def checkpoint_state(self) -> tuple[int, dict[str, Any]]:
        """The hub's state after its last seq, for a checkpoint (`monitor.feed.checkpoint`).

        An open record; `day` is the hub's day state (`classifier.day.DayState.to_dict`),
        so a restart hands out the same day without the closed days' records.
        """
        return self.seq, {
            "hub_id": self.hub_id,
            "seq": self.seq,
            "tracker": self.tracker.to_dict(),
            "position": self._position,
            "day": self.day.to_dict(),
            "agents": self.agents.to_dict(),
            "alerts": None if self.config.alerts is None else self.config.alerts.to_dict(),
        }

    def restore_checkpoint(self, seq: int, state: dict[str, Any]) -> None:
        """Take the state a checkpoint holds (on a new hub, before any record)."""
        try:
            self.tracker.load_dict(state.get("tracker") or {})
        except EventError as exc:
            raise JournalError(
                f"checkpoint at seq {seq}: an event it holds is invalid: {exc}"
            ) from None
        self.seq = seq
        position = state.get("position")
        if isinstance(position, dict):
            self._recovered_position = self._position = position
        day = state.get("day")
        if day is not None:
            try:
                self.day = DayState.from_dict(day)
            except ValueError as exc:
                raise JournalError(f"checkpoint at seq {seq}: its day state: {exc}") from None
        agents = state.get("agents")
        if agents is not None:
            try:
                self.agents = AgentsDay.from_dict(agents)
            except ValueError as exc:
                raise JournalError(f"checkpoint at seq {seq}: its agents: {exc}") from None
        alerts = state.get("alerts")
        if alerts is not None and self.config.alerts is not None:
            try:
                self.config.alerts.load_dict(alerts)
            except ValueError as exc:
                raise JournalError(f"checkpoint at seq {seq}: its alerts: {exc}") from None

    # ----- publishing ------------------------------------------------------------

    def publish(self, event: Event, pos: dict[str, Any] | None = None) -> PublishResult:
        """If the tracker would accept one event, journal it, apply it, give it a seq, fan it out.

        A journal write that fails refuses the event (code `unavailable`) and leaves
        the hub as if it never came: seq, tracker and ring unchanged, nothing sent.
        The next event tries the journal again (see `journal_failure`).
        """
        if self._stopped:
            raise HubStopped("the hub is stopped")
        if self.nats is not None:
            # The stream decides the order every hub of the site applies in: see submit.
            raise RuntimeError("a hub on NATS takes events through submit(), not publish()")
        refused_time = self._implausible(event, pos)
        if refused_time is not None:
            return refused_time
        seq = self.seq + 1
        candidate = event.model_copy(update={"seq": seq})
        # Checked now, applied once stored: a failed write leaves the tracker untouched.
        checked = self.tracker.admit(candidate)
        if isinstance(checked, Applied):
            return self._refused(checked.result, checked.problem)
        received = time.time()
        text = encode_event_frame(candidate, seq, received, pos)
        if self.journal is not None:
            failure = self._journal_append(seq, text, candidate)
            if failure is not None:
                return failure
        return self._accept(candidate, text, pos, checked)

    async def submit(self, event: Event, pos: dict[str, Any] | None = None) -> PublishResult:
        """Publish one event, on NATS through the site's stream (`monitor.feed.nats_link`).

        Without NATS this is `publish`. With it the hub's own checks refuse what they
        can first; then the event is stored, and the answer is what applying it, as
        the stream gives it back, did.
        """
        if self.nats is None:
            return self.publish(event, pos)
        if self._stopped:
            raise HubStopped("the hub is stopped")
        refused_time = self._implausible(event, pos)
        if refused_time is not None:
            return refused_time
        refused = self.tracker.refusal(event.model_copy(update={"seq": self.seq + 1}))
        if refused is not None:
            return self._refused(refused.result, refused.problem)
        return await self.nats.submit(event, pos)

    def apply_stored(
        self, event: Event, received: float, pos: dict[str, Any] | None, stream_seq: int
    ) -> PublishResult:
        """Apply one event read back from the stream: the tracker's verdict decides
        whether it takes the next hub seq (every hub of the site decides alike)."""
        seq = self.seq + 1
        candidate = event.model_copy(update={"seq": seq})
        checked = self.tracker.admit(candidate)
        if isinstance(checked, Applied):
            log.info("stream seq %d refused on reading: %s", stream_seq, checked.problem)
            return self._refused(checked.result, checked.problem)
        text = encode_event_frame(candidate, seq, received, pos)
        return self._accept(candidate, text, pos, checked)

    def _refused(self, result: Result, problem: str | None) -> PublishResult:
        if result is Result.DUPLICATE:
            self.counters["duplicates"] += 1
            return PublishResult(False, code=Refusal.DUPLICATE, problem=problem)
        self.counters["rejected"] += 1
        self.counters["calls_over_limit"] = self.tracker.over_limit
        return PublishResult(False, code=Refusal.REJECTED, problem=problem)

    def _accept(
        self, candidate: Event, text: str, pos: dict[str, Any] | None, checked: Admitted
    ) -> PublishResult:
        """Apply a stored event as seq `candidate.seq` (admitted as `checked`) and fan it out."""
        assert candidate.seq is not None
        seq = candidate.seq
        applied = self.tracker.take(checked)
        if applied.result is not Result.APPLIED:
            # Refused now though admitted (a classifier bug): the event is stored
            # under this seq already, so it is kept, as a restart would keep it.
            log.error("seq %d: stored, then %s by the tracker", seq, applied.result)
        self._count_day(candidate, applied)
        self.seq = seq
        if pos is not None:
            self._position = pos
        self.counters["accepted"] += 1
        self.ring.append((self.seq, text))
        self._fanout.send(text)
        self._expire_stale()
        if self.config.alerts is not None:
            self.config.alerts.after(applied, self.tracker, candidate.ts, self.day, self.agents)
        return PublishResult(True, seq=self.seq, warnings=list(applied.warnings))

    def _count_day(self, event: Event, applied: Applied) -> None:
        """Move the day on to the event's time and count the call it finished, if any."""
        if self.day.advance(event.ts):
            self.agents.new_day()
            if self.nats is not None:
                self.nats.new_day = True  # checkpointed once this event is applied
        self.agents.apply(event)
        if applied.verdict is not None and applied.call is not None:
            call = applied.call
            self.day.add(applied.verdict, call.caller, call.callee, event.seq)

    def _journal_append(self, seq: int, text: str, event: Event) -> PublishResult | None:
        """Store one record; None when it is stored, else the refusal to answer with."""
        assert self.journal is not None
        try:
            self.journal.append(seq, text, event)
        except JournalWriteError as exc:
            # The journal cut the partial record off: the file is whole, so the next
            # event may try again (the disk may have room by then).
            self.counters["journal_failures"] += 1
            problem = f"journal write failed: {exc.reason}; retrying"
            if self.journal_failure is None:
                log.error("%s; refusing events until a journal write succeeds", exc)
            self.journal_failure = problem
            return PublishResult(False, code=Refusal.UNAVAILABLE, problem=problem)
        except JournalError as exc:
            # The journal could not even undo the failed write: nothing after this could
            # be acknowledged honestly, so stop taking events.
            self._stopped = True
            log.critical("%s; the hub stops accepting events", exc)
            raise HubStopped(str(exc)) from None
        if self.journal_failure is not None:
            log.warning("journal writes succeed again (seq %d); accepting events", seq)
            self.journal_failure = None
        return None

    def _implausible(self, event: Event, pos: dict[str, Any] | None) -> PublishResult | None:
        """Refuse an event whose time is outside the plausibility window (`docs/protocol.md`).

        An event with a `pos` from a replay source comes from a log being replayed and
        is held to the replay's window; a followed log's events carry a `pos` too (for
        resuming) but are live, so they are held to the live window.
        """
        call = self.tracker.calls.get(event.call_id) if event.call_id else None
        replayed = pos is not None and self.source.kind == "replay"
        problem = self.times.problem(
            event, time.time(), replayed, call.started_at if call is not None else None
        )
        if problem is None:
            return None
        self.counters["implausible_time"] += 1
        self._time_log.warning(f"refused: {problem}")
        return PublishResult(False, code=Refusal.IMPLAUSIBLE_TIME, problem=problem)

    def _expire_stale(self) -> None:
        """Drop calls whose end was lost (`CallTracker.expire_stale`); say so once per sweep."""
        expired = self.tracker.expire_stale()
        if expired:
            self.counters["calls_expired"] += len(expired)
            log.warning("%d calls expired; the first: %s", len(expired), expired[0][1])

    def _set_source(self, status: SourceStatus) -> None:
        self.source = status
        self._source_problems()
        self._fanout.send(encode_status(status, self.seq, time.time(), self._store()))

    def _store(self) -> dict[str, Any] | None:
        """The `store` object of status, snapshot and resume frames (None without NATS)."""
        return self.nats.status() if self.nats is not None else None

    def attach_source(self, source: Source) -> asyncio.Task[None]:
        """Publish everything `source` yields, in a task; one source per hub."""
        if self._source_task is not None and not self._source_task.done():
            raise RuntimeError("this hub already runs a source")
        kind, name = source.kind, source.name
        pos = self._recovered_position
        if isinstance(source, ResumableSource) and pos is not None:
            if pos.get("source") == name:
                log.info("resuming %s %s after %s", kind, name, pos)
                source.resume_from(pos)
            else:
                # Most often the same log under another spelling of its path: say so,
                # since the source then starts afresh instead of where it was.
                log.warning(
                    "the journal's last position is for %s, not %s %s: not resumed",
                    pos.get("source"),
                    kind,
                    name,
                )
        if isinstance(source, StatefulSource):
            # A source with a state of its own (a PBX link: up, or down and retrying).
            source.on_state = self.source_detail
        self._source_done.clear()
        self._running_source = source
        self._source_task = asyncio.create_task(self._run_source(source, kind, name))
        return self._source_task

    def store_changed(self) -> None:
        """The NATS link went down or came back: every subscriber hears it in a status frame."""
        self._set_source(self.source)

    def source_detail(self, detail: str | None) -> None:
        """The running source's word on its state (None: all well), sent to every subscriber
        in a status frame: an AMI link that is down and retrying says so and why."""
        if self.source.state == SourceState.RUNNING and self.source.detail != detail:
            self.source.detail = detail
            self._set_source(self.source)

    async def wait_source_finished(self) -> SourceStatus:
        """Wait until the attached source has ended (finished or failed)."""
        await self._source_done.wait()
        return self.source

    async def _run_source(self, source: Source, kind: str, name: str) -> None:
        status = SourceStatus(kind=kind, name=name, state=SourceState.RUNNING)
        self._set_source(status)
        iterator: AsyncIterator[Event] = aiter(source)
        try:
            async for event in iterator:
                pos = source.position
                result = await self.submit(event, pos)
                while result.code is Refusal.UNAVAILABLE:
                    # The store cannot take it now: wait for the disk or NATS, do not skip it.
                    await asyncio.sleep(JOURNAL_RETRY_S)
                    result = await self.submit(event, pos)
                if (
                    not result.accepted and result.code is not Refusal.IMPLAUSIBLE_TIME
                ):  # logged, limited
                    log.warning("%s %s: %s", kind, name, result.problem)
                status.events += 1
                if status.events % SOURCE_TURN == 0:
                    # Give subscribers' senders a turn even when the source never waits.
                    await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except HubStopped:
            status = _ended(
                status, SourceState.FAILED, "the hub stopped accepting events", self.seq
            )
        except Exception as exc:
            log.error("%s %s failed: %s", kind, name, exc)
            status = _ended(status, SourceState.FAILED, str(exc)[:200], self.seq)
        else:
            status = _ended(status, SourceState.FINISHED, None, self.seq)
            log.info("%s %s finished at seq %d", kind, name, self.seq)
        finally:
            status.problems = source.problems
            self.counters["source_problems"] = status.problems
            self._running_source = None
            if status.finished:
                self._set_source(status)
                self._source_done.set()

    # ----- connections -----------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _report_failures(self) -> None:
        """Log the connection failures counted in each interval (see connection_failures)."""
        while True:
            await asyncio.sleep(self.config.failure_log_interval)
            self._failures.report()
            self._time_log.flush(REFUSED_TIMES)

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        try:
            return self._check_request(connection, request)
        except Exception as exc:
            # A request we did not foresee (a header or path no rule covers) is refused
            # with one line; websockets would log a traceback and answer 500 each time.
            problem = f"cannot read the request: {type(exc).__name__}: {str(exc)[:100]}"
            log.warning("refused %s: %s", _peer(connection), problem)
            return connection.respond(HTTPStatus.BAD_REQUEST, problem + "\n")

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        if parts.path not in (EVENTS_PATH, PUBLISH_PATH, HEALTH_PATH):
            return connection.respond(
                HTTPStatus.NOT_FOUND,
                f"no such endpoint {parts.path[:60]!r}: use {EVENTS_PATH} or {PUBLISH_PATH}\n",
            )
        refusal = self._auth_refusal(parts.path, request.headers.get_all("Authorization"))
        if refusal is not None:
            status, reason = refusal
            self.counters["auth_failures"] += 1
            log.warning("refused %s: %s", _peer(connection), reason)
            return connection.respond(status, reason + "\n")
        if parts.path == HEALTH_PATH:
            response = connection.respond(HTTPStatus.OK, json.dumps(self.stats()) + "\n")
            # respond() says text/plain: replace it (setting a header adds another).
            del response.headers["Content-Type"]
            response.headers["Content-Type"] = "application/json"
            return response
        if self._stopped:
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "hub is shutting down\n")
        if self.nats is not None and self.nats.rebuilding:
            return connection.respond(
                HTTPStatus.SERVICE_UNAVAILABLE,
                f"{self.nats.rebuild_progress()}; try again when it is done (see /health)\n",
            )
        if parts.path == EVENTS_PATH:
            if self.subscriber_count >= self.config.max_subscribers:
                return connection.respond(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    f"too many subscribers (limit {self.config.max_subscribers})\n",
                )
            problem = _query_problem(parts.query)
            if problem is not None:
                return connection.respond(HTTPStatus.BAD_REQUEST, problem + "\n")
            # Counted from here: a handshake accepted now holds a place until it ends.
            self._subscriber_connections.add(connection)
        elif self._producers >= self.config.max_producers:
            return connection.respond(
                HTTPStatus.SERVICE_UNAVAILABLE,
                f"too many producers (limit {self.config.max_producers})\n",
            )
        return None

    def _auth_refusal(self, path: str, headers: Sequence[str]) -> tuple[HTTPStatus, str] | None:
        """Why a request for `path` with these Authorization headers is refused, or None.

        /publish takes the publish token when one is set; everything else takes the
        read token or the publish token (a publisher may read). See docs/protocol.md.
        """
        read, publish = self.config.token, self.config.publish_token
        if path == PUBLISH_PATH and publish is not None:
            wanted = [publish]
        elif read is not None:
            wanted = [token for token in (read, publish) if token is not None]
        else:
            return None
        problem = _auth_problem(headers, wanted)
        if problem is None:
            return None
        if (
            problem == WRONG_TOKEN
            and path == PUBLISH_PATH
            and read is not None
            and _auth_problem(headers, [read]) is None
        ):
            return HTTPStatus.FORBIDDEN, "the read token cannot publish: use the publish token"
        return HTTPStatus.UNAUTHORIZED, problem

    async def _handle(self, ws: ServerConnection) -> None:
        parts = urlsplit(ws.request.path if ws.request else "")
        if self.config.socket_send_buffer is not None:
            sock = ws.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.config.socket_send_buffer)
        try:
            if parts.path == EVENTS_PATH:
                await self._serve_subscriber(ws, parse_qs(parts.query))
            else:
                await self._serve_producer(ws)
        except ConnectionClosed as exc:
            if (
                exc.rcvd is None
                and exc.sent is not None
                and exc.sent.code == CloseCode.MESSAGE_TOO_BIG
            ):
                self.counters["oversized"] += 1
                log.warning("closed %s: %s", _peer(ws), exc.sent.reason)

    # ----- subscribers -----------------------------------------------------------

    def _dropped(self, sub: Subscriber) -> None:
        """A subscriber over `queue_limit` frames behind was dropped: count it, say so, close it."""
        self.counters["dropped_slow"] += 1
        limit = self.config.queue_limit
        log.warning("subscriber %s dropped: more than %d frames behind", _peer(sub.ws), limit)
        reason = f"too slow: over {limit} frames behind; reconnect to re-sync"
        self._spawn(_close_or_abort(sub.ws, CLOSE_TOO_SLOW, reason, self.config))

    def _can_resume(self, since: int | None, hub: str | None) -> bool:
        if since is None or since > self.seq:
            return False
        if hub is not None and hub != self.hub_id:
            return False
        if since == self.seq or (self.journal is not None and since >= self.journal.first_seq):
            return True
        return bool(self.ring) and self.ring[0][0] <= since + 1

    def _backlog(self, after: int, limit: int) -> tuple[list[str], str | None]:
        """Up to `limit` frames after seq `after`: from the ring, else from the journal;
        with why the journal gave none it should have (a closed day damaged), or None."""
        if self.ring and self.ring[0][0] <= after + 1:
            start = after + 1 - self.ring[0][0]
            return [text for _, text in itertools.islice(self.ring, start, start + limit)], None
        if self.journal is not None:
            reader = self.journal.reader(after)
            return [text for _, text in reader.chunk(limit)], reader.problem
        return [], None

    async def _serve_subscriber(self, ws: ServerConnection, query: dict[str, list[str]]) -> None:
        since = int(query["since"][0]) if "since" in query else None
        hub = query["hub"][0] if "hub" in query else None
        sub = Subscriber(self._fanout, ws)
        self._subscriber_connections.add(ws)
        reader_task = asyncio.create_task(self._read_only(ws))
        watch_task = asyncio.create_task(self._watch_stall(ws))
        pump_task: asyncio.Task[None] | None = None
        try:
            self._joining += 1
            try:
                # The whole snapshot or catch-up must go out within the deadline, or the
                # connection is cut: a peer that reads too slowly must not hold its place.
                async with asyncio.timeout(self.config.catchup_timeout):
                    if self._can_resume(since, hub):
                        assert since is not None
                        log.info("subscriber %s resumes after seq %d", _peer(ws), since)
                        await self._catch_up(sub, since)
                    else:
                        log.info(
                            "subscriber %s joins with a snapshot at seq %d", _peer(ws), self.seq
                        )
                        await self._send_snapshot(sub, query.get(SNAPSHOT_PARAM, [""])[0] == ZLIB)
            except TimeoutError:
                self.counters["join_timeouts"] += 1
                log.warning(
                    "subscriber %s cut: its snapshot or catch-up took over %g s (catchup_timeout)",
                    _peer(ws),
                    self.config.catchup_timeout,
                )
                ws.transport.abort()
                return
            finally:
                self._joining -= 1
            self.counters["subscribed"] += 1
            pump_task = sub.pump_task = asyncio.create_task(sub.pump())
            await asyncio.wait({pump_task, reader_task}, return_when=asyncio.FIRST_COMPLETED)
            if sub.dropped:
                # Leave the connection to the closing task the drop started.
                await asyncio.wait({reader_task}, timeout=self.config.close_timeout * 2)
            elif pump_task.done() and not pump_task.cancelled():
                pump_task.result()  # re-raise ConnectionClosed from a send
        finally:
            self._fanout.discard(sub)
            self._subscriber_connections.discard(ws)
            log.info(
                "subscriber %s left (close code %s, %d frames sent)",
                _peer(ws),
                ws.close_code,
                sub.sent,
            )
            for task in (reader_task, watch_task, pump_task):
                if task is not None and not task.done():
                    task.cancel()

    async def _catch_up(self, sub: Subscriber, since: int) -> None:
        source_sent = self.source.to_dict()
        await sub.ws.send(
            encode_resume(
                self.hub_id,
                since,
                self.seq,
                self.source,
                site=self.config.site,
                store=self._store(),
            )
        )
        last = since
        while last < self.seq:
            texts, problem = self._backlog(last, self.config.batch_max)
            if not texts:
                # The ring moved past us while we were sending and there is no journal,
                # or the journal's day holding the next record is damaged: re-sync.
                await sub.ws.close(CLOSE_RESYNC, _resync_reason(problem))
                return
            await sub.ws.send(texts[0] if len(texts) == 1 else encode_batch(texts))
            last += len(texts)
        # No await between the check above and this: no event can slip in between.
        self._fanout.add(sub)
        if self.source.to_dict() != source_sent:
            sub.offer(encode_status(self.source, self.seq, time.time(), self._store()))

    async def _send_snapshot(self, sub: Subscriber, compressed: bool = False) -> None:
        """Send the snapshot in parts, letting the loop run between them; `compressed`
        (the subscriber asked `?snapshot=zlib`): each part as its zlib binary message.

        What the snapshot holds is taken at once (`monitor.feed.snapshot_build.take`),
        and from the same moment on, new events queue for the subscriber; its parts are
        then written in steps, the loop running between any two (the day's forms, its
        JSON, each part, its compression), each part built just before it is sent: a
        peer that stops reading pins one part, not the snapshot.
        """
        taken = take_snapshot(
            self.hub_id,
            self.seq,
            self.tracker,
            self.day,
            self.agents,
            self.source,
            self.config.site,
            self._store(),
        )
        try:
            # No await between taking the state and this: no event can slip in between.
            self._fanout.add(sub)
            for message in message_steps(taken, compressed):
                if sub.dropped:
                    return
                if message is not None:
                    await sub.ws.send(message)
                # A send into a socket with room returns without yielding: yield anyway.
                await asyncio.sleep(0)
        finally:
            taken.release()

    async def _watch_stall(self, ws: ServerConnection) -> None:
        """Cut a peer whose outgoing bytes have not moved for `ping_timeout` seconds.

        The heartbeat cannot do it: a ping is queued behind the bytes the peer does
        not read, and its pong timer starts only once the ping is out. The transport's
        write buffer tells: while the peer reads, it shrinks or changes; a peer that
        stopped reading leaves it full and unchanged, whatever we are sending.
        """
        timeout = self.config.ping_timeout
        if timeout <= 0:
            return
        loop = asyncio.get_running_loop()
        last, since = 0, loop.time()
        while True:
            await asyncio.sleep(timeout / 4)
            size = ws.transport.get_write_buffer_size()
            now = loop.time()
            if size == 0 or size != last:
                last, since = size, now
            elif now - since >= timeout:
                self.counters["stalled"] += 1
                log.warning(
                    "subscriber %s cut: %d bytes unsent for over %g s (ping_timeout)",
                    _peer(ws),
                    size,
                    timeout,
                )
                ws.transport.abort()
                return

    async def _read_only(self, ws: ServerConnection) -> None:
        """Wait for the connection to end; a subscriber that sends anything is closed."""
        with contextlib.suppress(ConnectionClosed):
            async for _ in ws:
                self.counters["readonly_violations"] += 1
                await ws.close(
                    CloseCode.POLICY_VIOLATION,
                    f"{EVENTS_PATH} is read-only: publish on {PUBLISH_PATH}",
                )
                return

    # ----- producers -------------------------------------------------------------

    async def _serve_producer(self, ws: ServerConnection) -> None:
        self._producers += 1
        n = 0
        idle = self.config.producer_idle_timeout
        try:
            while True:
                try:
                    async with asyncio.timeout(idle):
                        message = await ws.recv()
                except TimeoutError:
                    log.info("producer %s closed: idle for %g s", _peer(ws), idle)
                    await ws.close(
                        CloseCode.NORMAL_CLOSURE,
                        f"idle: nothing sent for {idle:g} s; reconnect to publish",
                    )
                    return
                except ConnectionClosedOK:
                    return  # the producer said goodbye (as `async for message in ws` ends)
                n += 1
                if isinstance(message, bytes):
                    self.counters["invalid"] += 1
                    await ws.send(encode_error("invalid", "binary message: send JSON text", n))
                    continue
                try:
                    event = parse_event(message)
                except EventError as exc:
                    self.counters["invalid"] += 1
                    log.warning("invalid event from %s (message %d): %s", _peer(ws), n, exc)
                    await ws.send(encode_error("invalid", str(exc), n))
                    continue
                try:
                    result = await self.submit(event)
                except HubStopped as exc:
                    await ws.send(encode_error(Refusal.UNAVAILABLE, str(exc), n))
                    await ws.close(CloseCode.INTERNAL_ERROR, "hub cannot accept events")
                    return
                if result.accepted:
                    assert result.seq is not None
                    await ws.send(encode_ack(result.seq))
                elif result.code is Refusal.UNAVAILABLE:
                    # Not stored; the connection stays open so the producer can resend.
                    problem = result.problem or Refusal.UNAVAILABLE
                    await ws.send(encode_error(Refusal.UNAVAILABLE, problem, n))
                elif result.code is Refusal.DUPLICATE:
                    problem = result.problem or Refusal.DUPLICATE
                    await ws.send(encode_ignored(Refusal.DUPLICATE, problem, n))
                else:
                    code = result.code or Refusal.REJECTED
                    await ws.send(encode_error(code, result.problem or code, n))
        finally:
            self._producers -= 1

    # ----- introspection ---------------------------------------------------------

    def queue_sizes(self) -> list[int]:
        """Frames waiting in each subscriber's queue (for tests and /health)."""
        return self._fanout.queue_sizes()

    @property
    def subscriber_count(self) -> int:
        """Subscribers connected now, from their accepted handshake: joining or live."""
        # A handshake that failed after it was counted leaves a closed connection.
        closed = [ws for ws in self._subscriber_connections if ws.state is State.CLOSED]
        self._subscriber_connections.difference_update(closed)
        return len(self._subscriber_connections)

    def _source_problems(self) -> dict[str, Any] | None:
        """Bring the running source's problem count up to date (a PBX link runs for ever:
        /health and status frames must not wait for its end); its counts by kind, if any."""
        source = self._running_source
        if source is None or self.source.finished:
            return None
        self.source.problems = self.counters["source_problems"] = source.problems
        return source.counts() if isinstance(source, CountingSource) else None

    def stats(self) -> dict[str, Any]:
        """Counters and sizes, as served on /health."""
        sizes = self.queue_sizes()
        source_counts = self._source_problems()
        return {
            "hub_id": self.hub_id,
            "site": self.config.site,
            "seq": self.seq,
            "calls_in_progress": len(self.tracker),
            "agents": len(self.tracker.presence),
            "subscribers": self.subscriber_count,
            "joining": self._joining,
            "producers": self._producers,
            "ring": len(self.ring),
            "ring_first_seq": self.ring[0][0] if self.ring else None,
            "largest_queue": max(sizes, default=0),
            "fanout": self._fanout.stats(),
            "source": self.source.to_dict()
            | ({"counts": source_counts} if source_counts is not None else {}),
            "journal": str(self.journal.path) if self.journal else None,
            "journal_failure": self.journal_failure,
            "journal_first_seq": self.journal.first_seq if self.journal else None,
            "recovered_records": self.recovered_records,
            "nats": self.nats.stats() if self.nats is not None else None,
            "counters": dict(self.counters),
            "alerts": None if self.config.alerts is None else self.config.alerts.stats(),
            "collector": collector_stats(),
        } | ({"hooks": dict(self.hooks)} if self.hooks is not None else {})


@contextlib.asynccontextmanager
async def running_hub(config: HubConfig | None = None) -> AsyncIterator[Hub]:
    """A started hub for the duration of the block (port 0 picks a free port)."""
    hub = Hub(config or HubConfig(port=0))
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


async def _close_or_abort(ws: ServerConnection, code: int, reason: str, config: HubConfig) -> None:
    """Close with a reason; a peer that does not read cannot take the close frame, so cut it."""
    try:
        await asyncio.wait_for(ws.close(code, reason), config.close_timeout)
    except (TimeoutError, ConnectionClosed, OSError):
        ws.transport.abort()


def _ended(status: SourceStatus, state: SourceState, detail: str | None, seq: int) -> SourceStatus:
    return SourceStatus(
        kind=status.kind,
        name=status.name,
        state=state,
        detail=detail,
        final_seq=seq,
        events=status.events,
        problems=status.problems,
    )


def _clean_token(token: str | None, name: str) -> str | None:
    """A configured token without surrounding whitespace (HTTP drops it from what clients send)."""
    if token is None:
        return None
    stripped = token.strip()
    if not stripped:
        raise ValueError(f"{name} is blank: give a token, or None for no token")
    return stripped


WRONG_TOKEN = "wrong token"


def _auth_problem(headers: Sequence[str], tokens: Sequence[str]) -> str | None:
    """Why these Authorization header values do not present one of `tokens`, or None."""
    if not headers:
        return "missing 'Authorization: Bearer <token>' header"
    if len(headers) > 1:
        return f"{len(headers)} Authorization headers: send exactly one"
    scheme, _, given = headers[0].partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return "Authorization header must be 'Bearer <token>'"
    # websockets decodes header values as ISO-8859-1: this gives back the bytes sent,
    # which for a non-ASCII token are its UTF-8.
    presented = given.strip().encode("iso-8859-1")
    # Compare with every token (no early exit), each in constant time.
    matches = [hmac.compare_digest(presented, token.encode()) for token in tokens]
    return None if any(matches) else WRONG_TOKEN


def _query_problem(query: str) -> str | None:
    params = parse_qs(query)
    if "since" in params:
        value = params["since"][0]
        # isdigit() alone accepts '²' and other Unicode digits that int() refuses.
        if not (value.isascii() and value.isdigit()) or len(value) > 18:
            return f"since must be a non-negative integer, got {value[:20]!r}"
    if "hub" in params and len(params["hub"][0]) > 64:
        return "hub id is too long"
    if SNAPSHOT_PARAM in params and params[SNAPSHOT_PARAM][0] != ZLIB:
        return f"snapshot must be {ZLIB!r} or absent, got {params[SNAPSHOT_PARAM][0][:20]!r}"
    if "protocol" in params and params["protocol"][0] != str(PROTOCOL_VERSION):
        # A client of another version would misread the snapshot: refused, saying why.
        return (
            f"this hub speaks protocol {PROTOCOL_VERSION}, the client asked for protocol "
            f"{params['protocol'][0][:20]!r}: run the same callboard version on the hub "
            "and its boards"
        )
    return None


def _resync_reason(problem: str | None) -> str:
    """The close reason of a catch-up that cannot go on: at most 123 bytes, as the
    websocket protocol allows, naming the damaged journal file and where (not its folder)."""
    if problem is None:
        return "fell behind during catch-up; reconnect"
    words = problem.split(": ", 1)
    named = f"{Path(words[0]).name}: {words[1]}" if len(words) == 2 else problem
    reason = f"journal damaged: {named}"
    return reason.encode()[:123].decode(errors="ignore")


def _peer(ws: ServerConnection) -> str:
    try:
        host, port = ws.remote_address[:2]
        return f"{host}:{port}"
    except (TypeError, ValueError):
        return "?"


__all__ = [
    "EVENTS_PATH",
    "HEALTH_PATH",
    "PUBLISH_PATH",
    "Hub",
    "HubConfig",
    "HubStopped",
    "PublishResult",
    "Refusal",
    "running_hub",
]
