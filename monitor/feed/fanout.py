"""How the hub's frames reach subscribers: one write for all that keep up, a queue for the rest.

Figure 5 (bench/README.md, "Figure 5: where the time goes") put the hub's cost
at 100 subscribers in one `send` per subscriber per event: a coroutine step, a
websocket frame and a socket write each, 20,000 a second at 200 ev/s. So the
hub now gathers the frames published in a loop turn (or in `interval` seconds,
when set) and hands them, encoded once as one message, to websockets'
`broadcast` for every subscriber that keeps up: no per-subscriber task runs,
and a fast source's frames leave as one `batch` per turn.

A subscriber that does not keep up (its socket's unsent bytes over
`direct_buffer`), or has not taken its snapshot or catch-up yet, is *queued*: it
gets each frame in its own bounded queue, synchronously as it is published,
drained by its own task (`Subscriber.pump`) that waits for the socket, exactly
as before (issue 13's back-pressure): over `queue_limit` frames behind, it is
dropped. Once its queue is empty and its socket has room again, the next flush
moves it back to the shared write. A subscriber changes way only at a flush,
when nothing is pending for it, so it never gets a frame twice or out of order.

`broadcast` writes without waiting for the peer (no back-pressure of its own):
the `direct_buffer` check before each write is what bounds a slow peer's
buffer, and `Hub._watch_stall` still cuts one that stops reading.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from websockets.asyncio.server import ServerConnection, broadcast

from monitor.feed.protocol import encode_batch

#: Loop turns a queued subscriber's sender waits for more frames before sending a batch.
COALESCE_TURNS = 64

#: Unsent bytes a subscriber's socket may hold and still take the shared write: above
#: it the subscriber is queued until it catches up (a few hundred event frames).
DIRECT_BUFFER = 64 * 1024


class Subscriber:
    """One `/events` connection: queued (its own bounded queue and task) or on the shared write."""

    def __init__(self, fanout: Fanout, ws: ServerConnection) -> None:
        self.fanout = fanout
        self.ws = ws
        self.queue: deque[str] = deque()
        self.wake = asyncio.Event()
        self.dropped = False
        #: On the shared write (`broadcast`); False while joining or behind.
        self.direct = False
        self.sent = 0
        self.peak = 0
        self.pump_task: asyncio.Task[None] | None = None

    def offer(self, text: str) -> None:
        """Queue one frame; over `queue_limit` frames behind, the subscriber is dropped."""
        if self.dropped:
            return
        if len(self.queue) >= self.fanout.queue_limit:
            self.drop()
            return
        self.queue.append(text)
        self.peak = max(self.peak, len(self.queue))
        self.wake.set()

    def drop(self) -> None:
        """Stop serving this subscriber: it is too far behind to catch up from its queue."""
        self.dropped = True
        self.queue.clear()
        self.wake.set()
        self.fanout.discard(self)
        if self.pump_task is not None:
            # It may be stuck waiting for the socket to drain; we are done with it anyway.
            self.pump_task.cancel()
        self.fanout.on_drop(self)

    def unsent(self) -> int:
        """Bytes written to the socket that the peer has not taken yet."""
        return self.ws.transport.get_write_buffer_size()

    async def pump(self) -> None:
        """Send the queue, in batches, while the subscriber is queued (see the module docstring)."""
        batch_max = self.fanout.batch_max
        while not self.dropped:
            if not self.queue:
                # Caught up: the next flush may move it to the shared write.
                self.fanout.schedule()
            await self.wake.wait()
            self.wake.clear()
            # While frames keep arriving (a fast replay), give the producer a few more
            # loop turns so they leave as one batch: one message instead of dozens.
            # An idle feed costs one turn; no timers, so no added latency to speak of.
            for _ in range(COALESCE_TURNS):
                waiting = len(self.queue)
                await asyncio.sleep(0)
                if len(self.queue) == waiting or waiting >= batch_max:
                    break
            while self.queue and not self.dropped:
                n = min(len(self.queue), batch_max)
                items = [self.queue.popleft() for _ in range(n)]
                await self.ws.send(items[0] if n == 1 else encode_batch(items))
                self.sent += n


class Fanout:
    """The hub's live and joining subscribers, and the flush that writes to them."""

    def __init__(
        self,
        queue_limit: int,
        batch_max: int,
        on_drop: Callable[[Subscriber], None],
        interval: float = 0.0,
        direct_buffer: int = DIRECT_BUFFER,
    ) -> None:
        self.queue_limit = queue_limit
        self.batch_max = batch_max
        self.on_drop = on_drop
        #: Least seconds between two flushes (0: one per loop turn at most).
        self.interval = interval
        self.direct_buffer = direct_buffer
        self.subscribers: set[Subscriber] = set()
        #: Of those, the ones that get each frame in their own queue.
        self._queued: set[Subscriber] = set()
        #: Frames published since the last flush, for the subscribers on the shared write.
        self._pending: list[str] = []
        self._flush_at: asyncio.Handle | None = None
        self._last_flush = 0.0
        #: Shared writes made (one message to every direct subscriber), for /health.
        self.writes = 0

    def add(self, sub: Subscriber) -> None:
        """Take a subscriber whose snapshot or catch-up covers every frame sent so far."""
        # Frames still pending are older than its snapshot: send them to the others first.
        self.flush()
        self.subscribers.add(sub)
        self._queued.add(sub)

    def discard(self, sub: Subscriber) -> None:
        """Forget a subscriber that left or was dropped."""
        self.subscribers.discard(sub)
        self._queued.discard(sub)

    def send(self, text: str) -> None:
        """One encoded frame for every subscriber: queued ones now, the others at the next flush."""
        if self._queued:
            for sub in list(self._queued):
                sub.offer(text)
        if not self.subscribers:
            return
        # Pending even when every subscriber is queued: the flush is also where a queued
        # one that caught up moves back to the shared write.
        self._pending.append(text)
        self.schedule()

    def schedule(self) -> None:
        """Flush at the next turn (or when `interval` allows), if no flush is due yet."""
        if self._flush_at is None:
            loop = asyncio.get_running_loop()
            when = self._last_flush + self.interval
            # Due now: at the end of this turn, ahead of anything the turn schedules.
            if when <= loop.time():
                self._flush_at = loop.call_soon(self.flush)
            else:
                self._flush_at = loop.call_at(when, self.flush)

    def flush(self) -> None:
        """Write what is pending to every subscriber that keeps up; move the others to queues."""
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        texts, self._pending = self._pending, []
        with_room: list[ServerConnection] = []
        for sub in list(self.subscribers):
            if sub.direct:
                if len(texts) > self.queue_limit:
                    # More frames at once than it may fall behind by: as a queue would
                    # have overflowed while they were published, it is dropped.
                    sub.drop()
                    continue
                if sub.unsent() <= self.direct_buffer:
                    with_room.append(sub.ws)
                    sub.sent += len(texts)
                    continue
                # Behind: from now on it takes its frames from its own queue.
                sub.direct = False
                self._queued.add(sub)
                for text in texts:
                    sub.offer(text)
            elif sub.pump_task is not None and not sub.queue and sub.unsent() <= self.direct_buffer:
                # Caught up: its queue had every frame so far; the next ones go by the shared write.
                sub.direct = True
                self._queued.discard(sub)
        if texts and with_room:
            self._last_flush = asyncio.get_running_loop().time()
            for start in range(0, len(texts), self.batch_max):
                chunk = texts[start : start + self.batch_max]
                broadcast(with_room, chunk[0] if len(chunk) == 1 else encode_batch(chunk))
                self.writes += 1

    def close(self) -> None:
        """Cancel a flush still scheduled (the hub is stopping)."""
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None

    def stats(self) -> dict[str, int]:
        """For /health: shared writes so far, and subscribers queued now (joining or behind)."""
        return {"shared_writes": self.writes, "queued": len(self._queued)}

    def queue_sizes(self) -> list[int]:
        """Frames waiting in each subscriber's queue."""
        return [len(sub.queue) for sub in self.subscribers]
