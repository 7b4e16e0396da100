"""The webhook receiver: an aiohttp server that answers vendors at once and feeds the hub after.

Routes (each also needs the hooks key, see `monitor.hooks.auth`):

* ``/hooks/exotel``: GET (the Passthru applet's query string) or POST (a form with
  flat ``Legs[0][Status]`` keys, or a JSON status callback); the one Exotel adapter
  (`monitor.sources.exotel.ExotelAdapter`) maps it.
* ``/hooks/twilio/taskrouter`` and ``/hooks/twilio/voice``: form POSTs signed with
  ``X-Twilio-Signature`` (`monitor.sources.twilio`).
* ``/hooks/amazon-connect``: EventBridge contact events (JSON) with
  ``X-Callboard-Secret`` (`monitor.sources.amazon_connect`).

Answer first, apply after: vendors time out (Exotel's Passthru within seconds)
and retry, so a handler only checks, parses and maps (pure, microseconds), puts
the events on a bounded queue and answers; one task on the hub's loop drains the
queue into `Hub.publish`. Retries are harmless: each mapping gives a retried
delivery the same events (or none), and the hub's tracker ignores exact duplicates.

Its own thread and event loop: HTTP costs far more per delivery than publishing
does (parsing a request, a response, a connection per vendor call), and on the
hub's loop a flood of 2,000 deliveries a second queued every subscriber's frames
behind hundreds of request handlers per turn (p99 from 4 ms to over 400 ms in
`bench/hooks_intake.py`). On a thread of its own the receiver shares only the
GIL, which it lets go at every socket call, and the hub's loop gets only the
finished events. The vendor mappings' state (the Exotel adapter, Twilio's linked
calls) lives on the receiver's thread alone; the hand-over is a deque (appends
and pops are atomic) and `call_soon_threadsafe`; each thread counts in its own
Counter, merged for /health.

Answers: 200 (or 204 for TaskRouter, as its reference asks) with the number of
events queued; 202 for a delivery of something the board does not show; 400
naming the field; 403 for a missing or wrong key, signature or secret; 413 over
`max_body`; 503 when the queue is full (the vendor retries later). Every answer
is counted in `counters`, which the hub shows as the ``hooks`` section of /health.

aiohttp because it is the asyncio HTTP server: it shares the hub's loop, so
publishing needs no thread or lock, and it parses HTTP (no hand-written parsing).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import ssl
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from aiohttp import web
from typing_extensions import override

from classifier.schema import Event
from monitor.feed.hub import Hub, HubStopped
from monitor.feed.log_limit import LimitedLog
from monitor.hooks.auth import (
    AMAZON_HEADER,
    KEY_PARAM,
    TWILIO_HEADER,
    amazon_problem,
    key_problem,
    twilio_problem,
)
from monitor.hooks.config import HooksConfig, is_loopback
from monitor.sources.amazon_connect import contact_events
from monitor.sources.delivery import BadDelivery, NotShown
from monitor.sources.exotel import ExotelAdapter
from monitor.sources.twilio import ID_PREFIX as TWILIO_PREFIX
from monitor.sources.twilio import TwilioCalls

log = logging.getLogger("callboard.hooks")

EXOTEL_PATH = "/hooks/exotel"
TWILIO_TASKROUTER_PATH = "/hooks/twilio/taskrouter"
TWILIO_VOICE_PATH = "/hooks/twilio/voice"
AMAZON_PATH = "/hooks/amazon-connect"

#: Prefix of Exotel call ids on the hub (Twilio's and Amazon's are in their modules).
EXOTEL_PREFIX = "exotel:"

#: What the ``hooks`` section of /health counts (always present, so monitoring can rely on it).
COUNTERS = (
    "received",
    "queued",
    "nothing_new",
    "not_shown",
    "malformed",
    "unauthorized",
    "too_large",
    "busy",
    "events_accepted",
    "events_duplicate",
    "events_refused",
    "twilio_ends_held",
    "twilio_ends_without_task",
)


#: Deliveries applied before the applier yields the loop to the hub's senders.
APPLY_TURN = 16


class _Counts(Mapping[str, int]):
    """The receiver thread's counters and the applier's, read as one (the hub's /health),
    with ``pending``: deliveries answered and not applied yet, at the moment of reading."""

    def __init__(self, pending: Callable[[], int], *parts: Counter[str]) -> None:
        self._pending = pending
        self._parts = parts

    @override
    def __getitem__(self, name: str) -> int:
        if name == "pending":
            return self._pending()
        return sum(part[name] for part in self._parts)

    @override
    def __iter__(self) -> Iterator[str]:
        return iter((*COUNTERS, "pending"))

    @override
    def __len__(self) -> int:
        return len(COUNTERS) + 1


class HookReceiver:
    """The receiver's HTTP server (on its own thread) and its applier task, feeding one hub."""

    def __init__(self, hub: Hub, config: HooksConfig | None = None) -> None:
        self.hub = hub
        self.config = config or HooksConfig()
        #: Counted by the receiver's thread (answers) and by the applier (events), apart.
        self._http_counts: Counter[str] = Counter()
        self._apply_counts: Counter[str] = Counter()
        self.exotel = ExotelAdapter(id_prefix=EXOTEL_PREFIX)
        self.twilio = TwilioCalls(grace=self.config.twilio_grace)
        self.counters = _Counts(
            lambda: len(self._pending), self._http_counts, self._apply_counts, self.twilio.counts
        )
        self.port = self.config.port
        #: (vendor, events) of deliveries answered and not applied yet.
        self._pending: deque[tuple[str, list[Event]]] = deque()
        #: One rate-limited log per thread: refused deliveries, refused events.
        self._refusals = LimitedLog(log)
        self._event_refusals = LimitedLog(log)
        self._hub_loop: asyncio.AbstractEventLoop | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._wake = asyncio.Event()
        #: A wake-up is on its way to the applier (set by the receiver's thread, cleared
        #: by the applier before it drains): a burst costs one hand-over, not one each.
        self._waking = False
        self._applier: asyncio.Task[None] | None = None
        #: On the receiver's loop: hands over Twilio's held Voice ends as their grace ends.
        self._releaser: asyncio.Task[None] | None = None
        #: Released ends not handed over yet (the hand-over queue was full).
        self._released: list[Event] = []

    # ----- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        """Listen (on the receiver's own thread); the hub shows the counters on /health."""
        problem = self.config.problem()
        if problem is not None:
            raise ValueError(problem)
        self._hub_loop = asyncio.get_running_loop()
        started: asyncio.Future[None] = self._hub_loop.create_future()
        self._thread = threading.Thread(
            target=self._serve_http, args=(started,), name="callboard-hooks", daemon=True
        )
        self._thread.start()
        await started
        self.hub.hooks = self.counters
        self._applier = asyncio.create_task(self._apply())
        log.info("webhook receiver listening on %s", self.base_url)

    def _serve_http(self, started: asyncio.Future[None]) -> None:
        """The receiver thread: its own loop, the aiohttp server, until `stop`."""
        loop = asyncio.new_event_loop()
        self._http_loop = loop
        assert self._hub_loop is not None
        try:
            loop.run_until_complete(self._listen())
        except BaseException as exc:  # handed to start(), which raises it
            loop.close()  # first, so that stop() sees it closed
            self._hub_loop.call_soon_threadsafe(_settle, started, exc)
            return
        self._hub_loop.call_soon_threadsafe(_settle, started, None)
        try:
            loop.run_forever()
        finally:
            if self._releaser is not None:
                self._releaser.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    loop.run_until_complete(self._releaser)
            if self._runner is not None:
                loop.run_until_complete(self._runner.cleanup())
            loop.close()

    async def _listen(self) -> None:
        app = web.Application(client_max_size=self.config.max_body)
        app.router.add_route("GET", EXOTEL_PATH, self._exotel)
        app.router.add_route("POST", EXOTEL_PATH, self._exotel)
        app.router.add_post(TWILIO_TASKROUTER_PATH, self._twilio_taskrouter)
        app.router.add_post(TWILIO_VOICE_PATH, self._twilio_voice)
        app.router.add_post(AMAZON_PATH, self._amazon)
        ssl_context = None
        if self.config.tls_cert is not None:
            ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ssl_context.load_cert_chain(self.config.tls_cert, self.config.tls_key)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, self.config.host, self.config.port, ssl_context=ssl_context
        )
        await site.start()
        addresses = self._runner.addresses
        if addresses:
            self.port = int(addresses[0][1])
        self._releaser = asyncio.get_running_loop().create_task(self._release_twilio())

    async def _release_twilio(self) -> None:
        """Hand over Twilio's held Voice ends once their grace is over (`TwilioCalls.due`),
        checked four times a grace (at most every second); kept for the next check when
        the hand-over queue is full."""
        tick = min(1.0, max(0.05, self.config.twilio_grace / 4))
        while True:
            await asyncio.sleep(tick)
            self._released.extend(self.twilio.due(time.monotonic()))
            if self._released and self._hand_over(("twilio", self._released)):
                self._released = []

    async def stop(self) -> None:
        """Stop listening, then apply what was already answered."""
        if self._thread is not None and self._http_loop is not None:
            if not self._http_loop.is_closed():  # closed: it never started listening
                self._http_loop.call_soon_threadsafe(self._http_loop.stop)
            await asyncio.to_thread(self._thread.join)
        # The receiver's thread is gone: its Twilio state is ours now. Held Voice ends
        # are applied, not lost (their calls end now rather than after the grace).
        held = self._released + self.twilio.due(math.inf)
        self._released = []
        if held:
            self._pending.append(("twilio", held))
        if self._applier is not None:
            deadline = time.monotonic() + 5.0
            while self._pending and not self._applier.done() and time.monotonic() < deadline:
                self._wake.set()
                await asyncio.sleep(0.01)
            self._applier.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._applier

    @property
    def base_url(self) -> str:
        """`http://HOST:PORT` (https with TLS); the real port once started."""
        scheme = "https" if self.config.tls_cert is not None else "http"
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{self.port}"

    @property
    def pending(self) -> int:
        """Deliveries answered and not applied yet."""
        return len(self._pending)

    # ----- applying (on the hub's loop) ------------------------------------------

    def _hand_over(self, item: tuple[str, list[Event]]) -> bool:
        """From the receiver's thread: queue a delivery for the applier; False when full.

        The applier is woken only when no wake-up is on its way already: each
        `call_soon_threadsafe` writes to the hub loop's self-pipe and costs the hub's
        loop a turn, and under a burst one wake-up drains many deliveries (py-spy:
        the self-pipe write was 9% of the receiver's samples at 2,000 deliveries/s).
        The deliveries are appended before the flag is read, and the applier clears
        the flag before it drains, so none waits for a wake-up that never comes.
        """
        if len(self._pending) >= self.config.max_pending:
            return False
        self._pending.append(item)
        if not self._waking:
            self._waking = True
            assert self._hub_loop is not None
            self._hub_loop.call_soon_threadsafe(self._wake.set)
        return True

    async def _apply(self) -> None:
        counts = self._apply_counts
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._waking = False
            turn = 0
            while self._pending:
                vendor, events = self._pending[0]
                try:
                    for event in events:
                        result = await self.hub.submit(event)
                        if result.accepted:
                            counts["events_accepted"] += 1
                        elif result.code == "duplicate":
                            counts["events_duplicate"] += 1
                        else:
                            counts["events_refused"] += 1
                            self._event_refusals.warning(
                                f"{vendor} delivery: {event.type} for {event.call_id!r} refused "
                                f"by the hub: {result.problem or result.code}"
                            )
                except HubStopped:
                    return
                finally:
                    # Popped once applied, so `pending` counts it until it is.
                    self._pending.popleft()
                turn += 1
                if turn >= APPLY_TURN:
                    turn = 0
                    await asyncio.sleep(0)  # the hub's senders get their turn

    # ----- routes ----------------------------------------------------------------

    async def _receive(
        self,
        request: web.Request,
        vendor: str,
        read: Callable[[web.Request], Awaitable[list[Event]]],
        ok_status: int = 200,
    ) -> web.Response:
        """The steps every route shares: key, size, read and map, queue, answer."""
        self._http_counts["received"] += 1
        problem = key_problem(request.query, request.headers.get("Authorization"), self.config.key)
        if problem is not None:
            return self._refuse(403, "unauthorized", vendor, problem)
        length = request.content_length
        if length is not None and length > self.config.max_body:
            return self._refuse(
                413,
                "too_large",
                vendor,
                f"body of {length} bytes over the {self.config.max_body} byte limit",
            )
        try:
            events = await read(request)
        except web.HTTPRequestEntityTooLarge:
            return self._refuse(
                413, "too_large", vendor, f"body over the {self.config.max_body} byte limit"
            )
        except _Forbidden as exc:
            return self._refuse(403, "unauthorized", vendor, str(exc))
        except BadDelivery as exc:
            return self._refuse(400, "malformed", vendor, str(exc))
        except NotShown as exc:
            self._http_counts["not_shown"] += 1
            return web.json_response({"shown": False, "why": str(exc)}, status=202)
        if not events:
            self._http_counts["nothing_new"] += 1
        else:
            if not self._hand_over((vendor, events)):
                return self._refuse(503, "busy", vendor, "too many deliveries waiting; retry later")
            self._http_counts["queued"] += 1
        if ok_status == 204:
            return web.Response(status=204, content_type="application/json")
        # The body json.dumps would give, without it: json_response costs 12 µs a
        # delivery, this 4.6 µs (timeit), on the path every delivery takes.
        return web.Response(
            body=b'{"queued": %d}' % len(events), status=ok_status, content_type="application/json"
        )

    def _refuse(self, status: int, counter: str, vendor: str, problem: str) -> web.Response:
        self._http_counts[counter] += 1
        self._refusals.warning(f"{vendor} delivery refused ({status}): {problem}")
        return web.json_response({"error": problem}, status=status)

    async def _exotel(self, request: web.Request) -> web.Response:
        async def read(request: web.Request) -> list[Event]:
            params: dict[str, Any] = dict(request.query)
            if request.method == "POST":
                if request.content_type == "application/json":
                    body = _json(await request.read())
                    if not isinstance(body, dict):
                        raise BadDelivery(f"expected a JSON object, got {type(body).__name__}")
                    params.update(body)
                else:
                    params.update(await request.post())
            params.pop(KEY_PARAM, None)
            return self.exotel.delivery(params)

        return await self._receive(request, "exotel", read)

    async def _twilio_params(self, request: web.Request) -> Any:
        form = await request.post()
        url = (
            self.config.public_url.rstrip("/") + request.path_qs
            if self.config.public_url
            else str(request.url)
        )
        problem = twilio_problem(
            self.config.twilio_token, url, form, request.headers.get(TWILIO_HEADER)
        )
        if problem is not None:
            raise _Forbidden(problem)
        return form

    async def _twilio_taskrouter(self, request: web.Request) -> web.Response:
        async def read(request: web.Request) -> list[Event]:
            return self.twilio.taskrouter(await self._twilio_params(request))

        return await self._receive(request, "twilio", read, ok_status=204)

    async def _twilio_voice(self, request: web.Request) -> web.Response:
        async def read(request: web.Request) -> list[Event]:
            return self.twilio.voice(await self._twilio_params(request), time.monotonic())

        return await self._receive(request, "twilio", read)

    async def _amazon(self, request: web.Request) -> web.Response:
        async def read(request: web.Request) -> list[Event]:
            problem = amazon_problem(self.config.amazon_secret, request.headers.get(AMAZON_HEADER))
            if problem is not None:
                raise _Forbidden(problem)
            return contact_events(_json(await request.read()))

        return await self._receive(request, "amazon-connect", read)


def _settle(future: asyncio.Future[None], exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)


class _Forbidden(Exception):
    """A signature or secret that does not hold: 403 with the reason."""


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise BadDelivery(
            f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except (RecursionError, UnicodeDecodeError):
        raise BadDelivery("body is not JSON we read (nested too deep or not UTF-8)") from None


@contextlib.asynccontextmanager
async def running_receiver(hub: Hub, config: HooksConfig | None = None) -> Any:
    """A started receiver for the duration of the block (port 0 picks a free port)."""
    receiver = HookReceiver(hub, config or HooksConfig(port=0))
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


__all__ = [
    "AMAZON_PATH",
    "EXOTEL_PATH",
    "TWILIO_PREFIX",
    "TWILIO_TASKROUTER_PATH",
    "TWILIO_VOICE_PATH",
    "HookReceiver",
    "HooksConfig",
    "is_loopback",
    "running_receiver",
]
