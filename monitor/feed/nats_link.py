"""A hub in front of NATS JetStream: store in the stream, apply what the stream gives back.

The design (docs/scaling.md has the why): whichever hub a producer reaches
publishes its event to the site's stream; *every* hub of the site, that one
included, applies only what it reads back from the stream, in stream order. So
all hubs apply the same events in the same order from the same checkpoint, and
the tracker being deterministic, give the same verdicts and the same hub seqs;
a viewer can resume on any of them (they share one hub id).

* **Store first, then apply**, as with the journal: a producer's `ack` (with its
  hub seq) is sent once the event is in the stream *and* this hub has applied it.
  The hub's refusal checks (time window, the tracker's verdict on the hub's state)
  run before the publish, so the stream does not fill with events every hub would
  refuse; the tracker judges again when the event comes back (another hub's event
  may have come first), and only that verdict counts.
* **The hub seq** counts the events applied, in stream order: stream messages that
  are not an event (foreign messages, counted as `foreign`) and events the tracker
  refuses on the way back take no hub seq, so hub seqs stay gap-free as viewers
  require; `stream_seq` (on /health and in checkpoints) is the stream's own. Every
  hub computes the same mapping. Resumes are served from the ring.
* **Buffering**: while NATS is away the hub keeps serving viewers from memory; an
  event from a producer or the hub's source waits (the producer gets no answer
  yet) and its publish is retried with the same `Nats-Msg-Id`, so an attempt that
  did reach the stream before the link dropped is stored once. At most
  `NatsConfig.buffer` events wait; beyond that producers are refused `unavailable`.
* **Checkpoints**: every `checkpoint_every` stream messages, at a new day and at
  stop, the hub's state (`Hub.checkpoint_state` plus `stream_seq`) goes to the
  site's bucket; a starting hub loads it and reads the stream after it. One save
  at a time, and the state is not even taken while one is under way (a rebuild
  took states every 10,000 messages that it then threw away).
* **The rebuild**: a starting hub reads the stream from its checkpoint to where the
  stream ended when it started before it serves viewers. It listens meanwhile
  (`Hub.start`): /health says `rebuilding` with how far it got, /events and
  /publish answer 503. Reading, it gives the event loop a turn every
  `YIELD_EVERY` messages (nats-py's callback task runs on while messages are
  queued), takes a checkpoint at most every `rebuild_checkpoint_s` seconds
  (taking and compressing a big day's state holds the reading up), and says how
  far it got on the log at `monitor.sources.progress`'s cadence.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import time
from collections import OrderedDict
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg

from classifier.schema import Event, EventError, parse_event
from monitor.feed.hub import Hub, HubStopped, PublishResult, Refusal
from monitor.feed.log_limit import LimitedLog
from monitor.feed.nats_config import MSG_ID_HEADER, POS_HEADER, NatsConfig, NatsUnavailable
from monitor.feed.nats_store import NatsStore, event_msg_id
from monitor.sources.progress import Cadence

log = logging.getLogger("callboard.nats")

#: Seconds between two tries of a publish NATS did not acknowledge.
RETRY_S = 0.5

#: Results of the newest stream messages kept for acknowledgements that come late.
RECENT_RESULTS = 4096

#: Least seconds between two status frames that only say `buffered` changed.
STATUS_S = 0.5

#: Stream messages a rebuild applies between two turns it gives the event loop.
YIELD_EVERY = 256

#: What the foreign-message log line calls the ones it left out.
FOREIGN = "foreign messages on the stream skipped"


class NatsLink:
    """The hub's side of the stream (module docstring)."""

    def __init__(self, hub: Hub, config: NatsConfig, site: str) -> None:
        self.hub = hub
        self.config = config
        self.store = NatsStore(config, site, on_connection=self._connection_changed)
        #: The stream sequence of the last message read (applied or skipped).
        self.stream_seq = 0
        #: Stream messages that were not a callboard event: counted, skipped.
        self.foreign = 0
        #: Stream messages the tracker refused on the way back (another hub's came first).
        self.refused_on_read = 0
        #: Events waiting for NATS to acknowledge them.
        self.buffered = 0
        #: The stream seq of the checkpoint this hub started from (None: the stream's start).
        self.loaded_checkpoint: int | None = None
        #: Stream messages read at start after the checkpoint (shown on /health).
        self.read_at_start = 0
        self._waiting: dict[str, asyncio.Future[PublishResult]] = {}
        #: Stream seq -> message id of a waiting submit whose acknowledgement came first.
        self._acked: dict[int, str] = {}
        #: What reading the newest messages back did, by stream seq (`_answer`).
        self._results: OrderedDict[int, PublishResult] = OrderedDict()
        self._caught_up = asyncio.Event()
        self._start_target = 0
        self._saved_seq = 0
        #: The stream seq of the newest state taken for a checkpoint (saved or not yet).
        self._taken_seq = 0
        #: When (monotonic) the newest state for a checkpoint was taken.
        self._taken_at = -float("inf")
        #: The hub's day moved on while applying the message: checkpoint after it.
        self.new_day = False
        self._saving: asyncio.Task[None] | None = None
        #: Checkpoint saves by outcome (/health): saved, failed, superseded (the
        #: bucket held a newer one, saved by another hub of the site).
        self.saves = {"saved": 0, "failed": 0, "superseded": 0}
        #: Why the newest failed save failed (None until one fails).
        self.save_failure: str | None = None
        #: Stream messages the rebuild reads (from the checkpoint to the stream's end).
        self.rebuild_of = 0
        self._rebuild_started = time.monotonic()
        self._rebuild_s: float | None = None
        self._cadence: Cadence | None = None
        self._foreign_log = LimitedLog(log)
        self._stopping = False
        #: A status frame for a changed `buffered` count, due (`_buffered_changed`).
        self._status_later: asyncio.TimerHandle | None = None

    # ----- start and stop ----------------------------------------------------------

    async def open(self) -> None:
        """Connect, take the site's hub id and checkpoint and where the stream ends now.

        NatsUnavailable (the caller's exit 2) when NATS cannot be reached or set up;
        a checkpoint that cannot be read is logged and the stream read from its start;
        JournalError for one that reads but holds an invalid event or day.
        """
        await self.store.connect()
        try:
            self.hub.hub_id = await self.store.hub_id(self.hub.hub_id)
            try:
                state = await self.store.load_checkpoint()
            except ValueError as exc:
                # As the journal does with a damaged checkpoint: name it, read further back.
                log.error("checkpoint refused, reading the stream from its start: %s", exc)
                state = None
            if state is not None:
                self.hub.restore_checkpoint(int(state.get("seq", 0)), state)
                self.stream_seq = self._saved_seq = int(state["stream_seq"])
                self._taken_seq = self.stream_seq
                self.loaded_checkpoint = self.stream_seq
                log.info("checkpoint: hub seq %d at stream seq %d", self.hub.seq, self.stream_seq)
            first, self._start_target = await self.store.seq_range()
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            await self.store.close()
            raise NatsUnavailable(f"NATS: cannot read the site's state: {exc}") from None
        self.rebuild_of = max(0, self._start_target - max(self.stream_seq, first - 1))

    async def catch_up(self) -> None:
        """Read the stream after the checkpoint up to where it ended at `open` (module
        docstring: the rebuild)."""
        self._rebuild_started = time.monotonic()
        self._cadence = Cadence(
            sys.stderr.isatty(), self.config.progress_first, self.config.progress_every
        )
        if self.stream_seq >= self._start_target:
            self._caught_up.set()
        else:
            log.info(
                "rebuilding site %s from the stream: %s messages after stream seq %d; "
                "meanwhile %s/health answers, /events and /publish answer 503",
                self.store.site,
                f"{self.rebuild_of:,}",
                self.stream_seq,
                self.hub.base_url.replace("ws", "http", 1),
            )
        await self.store.follow(self.stream_seq, self._on_message)
        await self._caught_up.wait()
        self._rebuild_s = time.monotonic() - self._rebuild_started
        log.info(
            "stream %s read to seq %d in %.1f s (%d messages): hub seq %d, %d calls in progress",
            self.store.stream,
            self.stream_seq,
            self._rebuild_s,
            self.read_at_start,
            self.hub.seq,
            len(self.hub.tracker),
        )

    @property
    def rebuilding(self) -> bool:
        """Still reading the stream up to where it ended at start (not serving yet)."""
        return not self._caught_up.is_set()

    def rebuild_progress(self) -> str:
        """How far the rebuild got: "rebuilding site S from the stream: N of M messages"."""
        share = self.read_at_start * 100 // self.rebuild_of if self.rebuild_of else 100
        return (
            f"rebuilding site {self.store.site} from the stream: {self.read_at_start:,} of "
            f"{self.rebuild_of:,} messages ({share}%)"
        )

    async def stop(self) -> None:
        """Save a last checkpoint (when connected) and close the link."""
        self._stopping = True
        if self._status_later is not None:
            self._status_later.cancel()
        for future in self._waiting.values():
            future.cancel()
        if self._saving is not None:
            with contextlib.suppress(Exception):
                await self._saving
        if (
            not self.config.viewer
            and self.store.state == "connected"
            and self.stream_seq > self._saved_seq
        ):
            # Bounded by the save's own limits (`NatsStore.save_checkpoint`).
            await self._save(self._take(), "checkpoint at stop not saved")
        await self.store.close()
        self._foreign_log.flush(FOREIGN)

    # ----- reading the stream -------------------------------------------------------

    async def _on_message(self, msg: Msg) -> None:
        """Apply one stream message (nats-py calls this once per message, in order)."""
        sseq = msg.metadata.sequence.stream
        if sseq <= self.stream_seq:
            return  # the ordered consumer re-delivered what we have (after a reset)
        self.stream_seq = sseq
        try:
            event = parse_event(msg.data)
        except EventError as exc:
            self.foreign += 1
            self._foreign_log.warning(
                f"stream {self.store.stream} seq {sseq}: not a callboard event, skipped: {exc}"
            )
            result = PublishResult(False, code=Refusal.REJECTED, problem=f"not an event: {exc}")
        else:
            pos = _pos(msg)
            received = msg.metadata.timestamp.timestamp()
            result = self.hub.apply_stored(event, received, pos, sseq)
            if not result.accepted:
                self.refused_on_read += 1
        self._answer(sseq, (msg.headers or {}).get(MSG_ID_HEADER), result)
        if self.new_day or sseq - self._taken_seq >= self.config.checkpoint_every:
            self._checkpoint()
        if not self._caught_up.is_set():
            self.read_at_start += 1
            if sseq >= self._start_target:
                self._caught_up.set()
            elif self.read_at_start % YIELD_EVERY == 0:
                await self._rebuild_turn()

    async def _rebuild_turn(self) -> None:
        """Between two messages of the rebuild: say how far it got when due, and give
        the loop a turn (/health, the checkpoint's connection and its save)."""
        if self._cadence is not None and self._cadence.due() is not None:
            log.info("%s", self.rebuild_progress())
        await asyncio.sleep(0)

    def _answer(self, sseq: int, msg_id: str | None, result: PublishResult) -> None:
        """Give a waiting producer what reading its message back did.

        Found by the message's id, or by the stream seq its acknowledgement named:
        the read may come before or after the acknowledgement, so the newest results
        are kept for a submit whose acknowledgement arrives late.
        """
        self._results[sseq] = result
        if len(self._results) > RECENT_RESULTS:
            self._results.popitem(last=False)
        acked = self._acked.pop(sseq, None)
        for key in (msg_id, acked):
            waiter = self._waiting.pop(key, None) if key else None
            if waiter is not None and not waiter.done():
                waiter.set_result(result)

    def _checkpoint(self) -> None:
        """Take the state now (between two messages, so whole) and save it in the background.

        One save at a time: while one is under way nothing is taken, and the first
        message after it ends takes the state then. While rebuilding, at most one every
        `rebuild_checkpoint_s` seconds (module docstring).
        """
        if self._stopping or self.config.viewer:
            self.new_day = False  # a viewer writes nothing to the site's bucket
            return
        if self._saving is not None and not self._saving.done():
            return
        if self.rebuilding and time.monotonic() < self._taken_at + self.config.rebuild_checkpoint_s:
            return
        self.new_day = False
        self._saving = asyncio.create_task(self._save(self._take(), "checkpoint not saved"))

    def _take(self) -> dict[str, Any]:
        _, state = self.hub.checkpoint_state()
        state["stream_seq"] = self._taken_seq = self.stream_seq
        self._taken_at = time.monotonic()
        return state

    async def _save(self, state: dict[str, Any], failed: str) -> None:
        """Save `state`; a failure is counted and logged once, `failed` and the reason."""
        seq = state["stream_seq"]
        try:
            parts = await self.store.save_checkpoint(state)
        except Exception as exc:
            self.saves["failed"] += 1
            self.save_failure = f"stream seq {seq}: {exc}"
            log.warning("%s (stream seq %d): %s", failed, seq, exc)
            return
        self._saved_seq = max(self._saved_seq, seq)
        if parts == 0:
            self.saves["superseded"] += 1
            log.info("checkpoint at stream seq %d: the bucket holds a newer one", seq)
            return
        self.saves["saved"] += 1
        log.info(
            "checkpoint saved: hub seq %d at stream seq %d (%d part%s)",
            state["seq"],
            seq,
            parts,
            "" if parts == 1 else "s",
        )

    # ----- publishing ---------------------------------------------------------------

    async def submit(self, event: Event, pos: dict[str, Any] | None) -> PublishResult:
        """Store `event` in the stream, then answer with what applying it read back gave."""
        if self.config.viewer:
            return PublishResult(
                False,
                code=Refusal.REJECTED,
                problem="this is a board's view of the site: publish to one of the site's hubs",
            )
        msg_id = event_msg_id(event)
        if msg_id in self._waiting:
            return PublishResult(
                False, code=Refusal.DUPLICATE, problem="the same event is being stored already"
            )
        if self.buffered >= self.config.buffer:
            return PublishResult(
                False,
                code=Refusal.UNAVAILABLE,
                problem=f"NATS {self.store.state}: {self.buffered} events waiting "
                f"(limit {self.config.buffer}); send again later",
            )
        future: asyncio.Future[PublishResult] = asyncio.get_running_loop().create_future()
        self._waiting[msg_id] = future
        body = event.model_dump_json(by_alias=True, exclude_unset=True, exclude={"seq"}).encode()
        self.buffered += 1
        self._buffered_changed()
        attempts = 0
        try:
            while True:
                if self._stopping:
                    raise HubStopped("the hub is stopping")
                attempts += 1
                try:
                    ack = await self.store.publish(body, msg_id, pos)
                    break
                except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
                    if attempts == 1:
                        log.warning(
                            "publish to %s not acknowledged (%s); retrying", self.store.stream, exc
                        )
                    await asyncio.sleep(RETRY_S)
        except BaseException:
            self._waiting.pop(msg_id, None)
            raise
        finally:
            self.buffered -= 1
            self._buffered_changed()
        if ack.duplicate and attempts == 1:
            # Stored before, not by a retry of ours: a producer sent it twice.
            self._waiting.pop(msg_id, None)
            self.hub.counters["duplicates"] += 1
            return PublishResult(
                False,
                code=Refusal.DUPLICATE,
                problem=f"already stored (stream seq {ack.seq})",
            )
        if future.done():
            return future.result()
        # Read back already (its message without our id: no message of ours is), or soon.
        if ack.seq in self._results:
            self._waiting.pop(msg_id, None)
            return self._results[ack.seq]
        if ack.seq <= self.stream_seq:
            self._waiting.pop(msg_id, None)
            return PublishResult(
                False,
                code=Refusal.UNAVAILABLE,
                problem=f"stored as stream seq {ack.seq}, read back before its answer was kept",
            )
        self._acked[ack.seq] = msg_id
        return await future

    # ----- state --------------------------------------------------------------------

    def _connection_changed(self, state: str) -> None:
        self.hub.store_changed()

    def _buffered_changed(self) -> None:
        """While NATS is away, tell viewers how many events wait, at most every STATUS_S.

        Each change would be a status frame to every viewer (up to `buffer` of them per
        outage); one every STATUS_S seconds keeps the bar's count fresh enough.
        """
        if self.store.state == "connected" or self._status_later is not None or self._stopping:
            return

        def send() -> None:
            self._status_later = None
            self.hub.store_changed()

        self._status_later = asyncio.get_running_loop().call_later(STATUS_S, send)

    def status(self) -> dict[str, Any]:
        """The store's word for status frames (the board's connection bar)."""
        return {"kind": "nats", "state": self.store.state, "buffered": self.buffered}

    def stats(self) -> dict[str, Any]:
        """The `nats` object of /health."""
        return self.store.stats() | {
            "buffered": self.buffered,
            "buffer_limit": self.config.buffer,
            "stream_seq": self.stream_seq,
            "checkpoint_stream_seq": self._saved_seq,
            "started_from_checkpoint": self.loaded_checkpoint,
            "read_at_start": self.read_at_start,
            "rebuilding": self.rebuilding,
            "rebuild_of": self.rebuild_of,
            "rebuild_s": None if self._rebuild_s is None else round(self._rebuild_s, 3),
            "checkpoint_saves": dict(self.saves),
            "checkpoint_failure": self.save_failure,
            "foreign": self.foreign,
            "refused_on_read": self.refused_on_read,
            "checked_at": round(time.time(), 3),
        }


def _pos(msg: Msg) -> dict[str, Any] | None:
    text = (msg.headers or {}).get(POS_HEADER)
    if not text:
        return None
    try:
        pos = json.loads(text)
    except ValueError:
        return None
    return pos if isinstance(pos, dict) else None
