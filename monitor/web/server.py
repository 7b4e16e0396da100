"""The board in a browser: textual-serve's pages and sessions, behind a token and a limit.

Each browser session is its own board process: textual-serve starts the command
(`python -m monitor ...`) with Textual's web driver when a browser opens the page's
websocket, and tells it to quit when the websocket closes. What textual-serve does
not do, this module adds, using only its public parts:

* **A token** when one is set (always, off loopback: `monitor.commands.web`): a
  browser presents it once as `?token=...`, is answered with a cookie (HttpOnly,
  SameSite=Strict, Secure under TLS) and sent to the same page without it; scripts
  may send `Authorization: Bearer ...` instead. Compared in constant time
  (`hmac.compare_digest`). Without it every path is a 401, so no process is
  started for a browser that does not hold the token.
* **A session limit** (`max_sessions`), counted at our own gate: a page asked for
  while every session is in use gets a 503 page that says so, and a websocket
  beyond the limit is refused before any process starts. A session begins with
  its page, not its websocket: the page's script opens the websocket a moment
  later, and a limit counted on websockets alone let every one of many browsers
  opening at once have a page, the ones past the limit then refused at the
  websocket, which textual-serve's page shows as its own generic "disconnected".
  So each page served holds a session (`reserve_s`, 15 s) until a websocket takes
  it, and a page is refused while open sessions and held ones reach the limit:
  the browser that does not fit gets our page, the others their boards. Held
  sessions are anonymous (the oldest goes to the next websocket): two tabs of one
  browser share its cookies, so a per-page cookie could not tell them apart. A
  page whose websocket never comes (a crawler, a closed tab) holds its session
  for `reserve_s`, no longer.
* **TLS and our own bind address**: textual-serve's `Server.serve` runs
  `aiohttp.web.run_app` on its own, without TLS, middleware or a way to learn the
  port it bound; and the method that builds its aiohttp application is private.
  So the application is built here, from the server's public request handlers
  (`handle_index`, `handle_websocket`, `handle_download`) and its public
  template and static paths, and run with aiohttp's public `AppRunner`/`TCPSite`.
* **Sessions end with the server**: on shutdown every session's request task is
  cancelled, which makes textual-serve close its websocket, tell its board to quit
  and wait for it. A server
  killed outright cannot do that: the board notices its pipes close
  (`monitor.app.pipes`) and leaves on its own.

The page's own URLs (its websocket, its scripts) follow the address the browser
used (`BoardServer.handle_index`), so the board works through whatever name or
address reaches this machine.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import logging
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server
from typing_extensions import override

log = logging.getLogger("callboard.web")

#: The cookie a browser keeps the token in after presenting it once.
TOKEN_COOKIE = "callboard_token"
#: Browser sessions (board processes) at once, by default.
MAX_SESSIONS = 20
#: Seconds the server waits for its sessions to end when it stops.
SHUTDOWN_S = 10.0
#: Seconds a page served holds a session until its websocket comes (the page's
#: script opens it as soon as it has loaded: a second or two on a slow link).
RESERVE_S = 15.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class WebConfig:
    """What `callboard web` serves, where, and to whom."""

    #: The shell command of one board session (`python -m monitor ...`).
    command: str
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None
    max_sessions: int = MAX_SESSIONS
    tls_cert: Path | None = None
    tls_key: Path | None = None
    #: What the page's title and the log call the board ("the demo", "watch ws://...").
    title: str = "callboard"
    #: Seconds a page served holds a session for its websocket.
    reserve_s: float = RESERVE_S


def page(title: str, body: str) -> str:
    """A small HTML page (title and body are escaped here)."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>"
        "<body style='font-family: sans-serif; background: #0c181f; color: #eee; margin: 3em'>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(body)}</p></body></html>"
    )


class BoardServer(Server):
    """textual-serve's server for one board command, with the page's URLs per request."""

    def __init__(self, config: WebConfig) -> None:
        scheme = "https" if config.tls_cert else "http"
        super().__init__(
            config.command,
            host=config.host,
            port=config.port,
            title=config.title,
            public_url=f"{scheme}://{config.host}:{config.port}",
        )
        self.config = config
        #: Board sessions open now (websockets between their start and their end).
        self.sessions = 0
        #: Sessions refused because every one was in use, and requests without the token.
        self.refused_full = 0
        self.refused_token = 0
        #: The request task of each open session, for `on_shutdown` to end.
        self._session_tasks: set[asyncio.Task[Any]] = set()
        #: When each session held by a page served (its websocket not come yet) is
        #: let go (monotonic seconds), oldest first; at most `max_sessions` of them.
        self._held: deque[float] = deque()

    @override
    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        """The board's page, its URLs on the address the browser used."""
        # Set and read with no await in between, so concurrent requests cannot mix.
        self.public_url = f"{request.scheme}://{request.host}"
        response: web.StreamResponse = await super().handle_index(request)
        return response

    @override
    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One board session: its process runs while this websocket is open."""
        task = asyncio.current_task()
        if task is not None:
            self._session_tasks.add(task)
        self.sessions += 1
        log.info("session started (%d open)", self.sessions)
        try:
            return await super().handle_websocket(request)
        finally:
            self.sessions -= 1
            if task is not None:
                self._session_tasks.discard(task)
            log.info("session ended (%d open)", self.sessions)

    @override
    async def on_startup(self, app: web.Application) -> None:
        """Nothing to print: `callboard web` says where it serves once it is bound."""

    @override
    async def on_shutdown(self, app: web.Application) -> None:
        """End every session, so that each board is told to quit, and wait for them.

        textual-serve's handler answers its task's cancellation by closing the
        websocket and stopping its board (a quit message, then waiting for the
        process to end); aiohttp alone would first wait `SHUTDOWN_S` for them.
        """
        tasks = list(self._session_tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=SHUTDOWN_S)

    # --- the guard ---------------------------------------------------------------------

    def _presented(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return request.query.get("token") or request.cookies.get(TOKEN_COOKIE)

    def _token_ok(self, presented: str | None) -> bool:
        token = self.config.token
        if token is None:
            return True
        if presented is None:
            return False
        return hmac.compare_digest(presented.encode(), token.encode())

    def in_use(self) -> int:
        """Sessions open, and held by pages whose websocket has not come (expired ones let go)."""
        now = time.monotonic()
        while self._held and self._held[0] <= now:
            self._held.popleft()
        return self.sessions + len(self._held)

    def _full(self) -> web.Response:
        self.refused_full += 1
        log.warning("refused a session: all %d in use", self.config.max_sessions)
        return web.Response(
            status=503,
            text=page(
                "callboard: every board session is in use",
                f"This server runs at most {self.config.max_sessions} boards at once "
                f"(callboard web --max-sessions) and all of them are open. Close one, "
                f"or try again later.",
            ),
            content_type="text/html",
            headers={"Retry-After": "30"},
        )

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The token before anything else; then the session limit for pages and websockets."""
        if not self._token_ok(self._presented(request)):
            self.refused_token += 1
            log.warning("refused %s %s: no valid token", request.remote, request.path)
            return web.Response(
                status=401,
                text=page(
                    "callboard: token needed",
                    "This board needs its token: open this address once with ?token=TOKEN "
                    "(the browser then keeps it), or send 'Authorization: Bearer TOKEN'.",
                ),
                content_type="text/html",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if "token" in request.query and self.config.token is not None:
            # The token leaves the address bar (and the history) for a cookie.
            query = {k: v for k, v in request.query.items() if k != "token"}
            raise self._with_cookie(web.HTTPSeeOther(request.rel_url.with_query(query)))
        # Counted and taken with no await in between: concurrent requests cannot
        # both see the last free session.
        if request.path == "/":
            if self.in_use() >= self.config.max_sessions:
                return self._full()
            self._held.append(time.monotonic() + self.config.reserve_s)
        elif request.path == "/ws":
            if self.in_use() >= self.config.max_sessions and not self._held:
                return self._full()
            if self._held:
                self._held.popleft()  # a page's session: `handle_websocket` counts it open
        return await handler(request)

    def _with_cookie(self, response: web.HTTPException) -> web.HTTPException:
        assert self.config.token is not None
        response.set_cookie(
            TOKEN_COOKIE,
            self.config.token,
            httponly=True,
            samesite="Strict",
            secure=self.config.tls_cert is not None,
            path="/",
        )
        return response

    def application(self) -> web.Application:
        """The aiohttp application: textual-serve's routes behind `guard`."""
        app = web.Application(middlewares=[self.guard])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        app.on_shutdown.append(self.on_shutdown)
        return app


def ssl_context(config: WebConfig) -> ssl.SSLContext | None:
    """The TLS context of `--tls-cert/--tls-key`, or None for plain HTTP."""
    if config.tls_cert is None or config.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(config.tls_cert, config.tls_key)
    return context


async def start(config: WebConfig) -> tuple[BoardServer, web.AppRunner, str]:
    """Start serving; the server, its runner (for `cleanup()`) and the URL it is on."""
    server = BoardServer(config)
    runner = web.AppRunner(server.application(), handle_signals=False, shutdown_timeout=SHUTDOWN_S)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, ssl_context=ssl_context(config))
    await site.start()
    host, port = _bound(runner.addresses, config)
    scheme = "https" if config.tls_cert else "http"
    return server, runner, f"{scheme}://{host}:{port}/"


def _bound(addresses: list[Any], config: WebConfig) -> tuple[str, int]:
    for address in addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            host = str(address[0])
            return (f"[{host}]" if ":" in host else host), int(address[1])
    return config.host, config.port
