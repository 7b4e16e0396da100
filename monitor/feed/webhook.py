"""The hub's webhook: each raised and cleared alert POSTed once per site, off the event path.

Why the standard library in a thread and not aiohttp's client: the hub sends a few
alerts an hour, one at a time, and `urllib.request` in `asyncio.to_thread` needs no
new dependency while keeping the hub's event loop free (a receiver that hangs for
its whole timeout holds a worker thread, never the loop). Every alert goes through
a bounded queue: publishing never waits on the receiver. A send that is refused,
times out or answers other than 2xx is logged with its status, counted, and retried
with doubling backoff (capped); a raised alert is given up after `ATTEMPTS` tries, a
clear never (a receiver left believing an alert still holds is worse than a late
clear). When the queue is full the oldest raised alert waiting goes (counted as
dropped), never a clear unless only clears wait.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass

log = logging.getLogger("callboard.webhook")

#: The header the receiver checks the shared secret in.
SECRET_HEADER = "X-Callboard-Secret"
#: Alerts waiting to be sent, at most.
QUEUE_LIMIT = 1_000
#: Tries of a raised alert before it is given up (a clear is tried until it goes).
ATTEMPTS = 6
#: First retry delay and the cap of the doubling delay, in seconds.
BACKOFF_S = 1.0
BACKOFF_CAP_S = 60.0


@dataclass(frozen=True, slots=True)
class Answer:
    """What the receiver answered: an HTTP status and the start of its body, or why none."""

    status: int | None
    body: str
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return self.status is not None and 200 <= self.status < 300

    def describe(self) -> str:
        """One line: 'HTTP 200: ok', or the failure."""
        if self.status is None:
            return f"no answer: {self.problem}"
        body = f": {self.body}" if self.body else ""
        return f"HTTP {self.status}{body}"


def post_json(url: str, body: dict[str, object], secret: str | None, timeout_s: float) -> Answer:
    """POST `body` as JSON, blocking; the answer, never raising for a network failure."""
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "callboard-hub"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return Answer(response.status, _start(response.read(2048)))
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, _start(exc.read(2048)))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Answer(None, "", str(reason) or type(reason).__name__)


def _start(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").strip().splitlines()[0][:200] if raw.strip() else ""


class WebhookSender:
    """A bounded queue of alert bodies and the task that sends them in order."""

    def __init__(
        self,
        url: str,
        secret: str | None,
        timeout_s: float,
        *,
        queue_limit: int = QUEUE_LIMIT,
        backoff_s: float = BACKOFF_S,
        backoff_cap_s: float = BACKOFF_CAP_S,
    ) -> None:
        self.url = url
        self.secret = secret
        self.timeout_s = timeout_s
        self.queue_limit = queue_limit
        self.backoff_s = backoff_s
        self.backoff_cap_s = backoff_cap_s
        self._queue: deque[dict[str, object]] = deque()
        self._ready = asyncio.Event()
        self.counters = {"sent": 0, "failures": 0, "given_up": 0, "dropped": 0}
        self.last_problem: str | None = None

    def offer(self, body: dict[str, object]) -> None:
        """Queue one alert's body; never waits (the oldest raised one goes when full)."""
        if len(self._queue) >= self.queue_limit:
            for index, waiting in enumerate(self._queue):
                if waiting.get("state") != "cleared":
                    del self._queue[index]
                    break
            else:
                self._queue.popleft()
            self.counters["dropped"] += 1
            log.warning("webhook queue full (%d): oldest waiting alert dropped", self.queue_limit)
        self._queue.append(body)
        self._ready.set()

    def stats(self) -> dict[str, object]:
        """What /health shows under `webhook`."""
        return {**self.counters, "queued": len(self._queue), "last_problem": self.last_problem}

    async def run(self) -> None:
        """Send queued alerts in order, for ever (cancel to stop)."""
        while True:
            while not self._queue:
                self._ready.clear()
                await self._ready.wait()
            body = self._queue[0]
            await self._deliver(body)
            if self._queue and self._queue[0] is body:
                self._queue.popleft()

    async def _deliver(self, body: dict[str, object]) -> None:
        delay = self.backoff_s
        attempt = 0
        while True:
            attempt += 1
            answer = await asyncio.to_thread(post_json, self.url, body, self.secret, self.timeout_s)
            if answer.ok:
                self.counters["sent"] += 1
                return
            self.counters["failures"] += 1
            self.last_problem = answer.describe()
            log.warning(
                "webhook %s for %r (%s) failed, try %d: %s",
                self.url,
                body.get("rule"),
                body.get("state"),
                attempt,
                answer.describe(),
            )
            if body.get("state") != "cleared" and attempt >= ATTEMPTS:
                self.counters["given_up"] += 1
                log.error("webhook: alert %r given up after %d tries", body.get("rule"), attempt)
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.backoff_cap_s)
