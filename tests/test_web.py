"""`callboard web`: real server processes, real HTTP and websocket sessions, real board processes.

Each session must be a board process of its own that ends when the session ends,
when the server is stopped, and when the server is killed outright (its pipes
close). A browser without the token gets 401 and starts nothing; past
--max-sessions a clear 503 page, and no process. Options that cannot work are
usage errors. The same in a real Chromium: tests/test_web_browser.py.
"""

from __future__ import annotations

import os
import signal
import ssl
from pathlib import Path

import aiohttp
import pytest

from tests.cli_support import callboard
from tests.web_support import WebServer, alive, read_until, session, wait_until

pytestmark = pytest.mark.slow

TOKEN = "s3cret-token"


@pytest.fixture
def servers() -> object:
    started: list[WebServer] = []

    def start(*args: str, env: dict[str, str] | None = None) -> WebServer:
        server = WebServer(*args, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


async def test_a_session_is_a_board_process_that_ends_with_the_session(servers) -> None:  # type: ignore[no-untyped-def]
    server = servers()
    assert "127.0.0.1" in server.url and "at most 20 sessions" in server.banner
    async with aiohttp.ClientSession() as client, client.get(server.url) as page:
        assert page.status == 200
        html = await page.text()
    assert f"{server.ws_url}" in html  # the page's websocket is on the address used
    assert server.boards() == []  # a page alone starts nothing
    async with session(server) as ws:
        await read_until(ws, b"Active calls")
        boards = server.boards()
        assert len(boards) == 1
    wait_until(lambda: not alive(boards[0]), "the board to end with its session")
    assert server.boards() == []


async def test_the_wall_is_served_with_its_tiles(servers) -> None:  # type: ignore[no-untyped-def]
    server = servers("--wall")
    async with session(server, 240, 64) as ws:
        await read_until(ws, b"Calls waiting")
        await read_until(ws, b"Agents available")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_stopping_the_server_ends_every_board(servers, sig) -> None:  # type: ignore[no-untyped-def]
    server = servers()
    async with session(server) as first, session(server) as second:
        await read_until(first, b"Active calls")
        await read_until(second, b"Active calls")
        boards = server.boards()
        assert len(boards) == 2
        code, err = server.stop(sig)
    assert code == 0, err
    assert "stopping (2 sessions open)" in err and "stopped" in err
    wait_until(lambda: not any(alive(pid) for pid in boards), "every board to end")


async def test_a_killed_server_leaves_no_board_behind(servers) -> None:  # type: ignore[no-untyped-def]
    server = servers()
    async with session(server) as ws:
        await read_until(ws, b"Active calls")
        boards = server.boards()
        assert len(boards) == 1
        server.proc.kill()  # no clean-up: the board only sees its pipes close
        server.proc.wait()
        # The board's pipes close with the server: it leaves within a few seconds
        # instead of running on, orphaned.
        wait_until(lambda: not alive(boards[0]), "the orphaned board to leave")


async def test_without_the_token_401_and_no_process(servers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    token_file = tmp_path / "web.token"
    token_file.write_text(TOKEN + "\n")
    server = servers("--token-file", str(token_file))
    assert "token required" in server.banner
    async with aiohttp.ClientSession() as client:
        for path, headers in [
            ("", {}),
            ("ws", {}),
            ("static/js/textual.js", {}),
            ("", {"Authorization": "Bearer wrong"}),
            ("?token=wrong", {}),
            ("", {"Cookie": "callboard_token=wrong"}),
        ]:
            async with client.get(server.url + path, headers=headers) as response:
                assert response.status == 401, path
                assert response.headers["WWW-Authenticate"] == "Bearer"
                assert "needs its token" in await response.text()
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect(server.ws_url)
        assert refused.value.status == 401
    assert server.boards() == []
    # The token once in the address: a cookie, and the same page without it. (The
    # client's jar keeps cookies of an IP address only when told to; browsers do.)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        async with client.get(server.url + "?token=" + TOKEN, allow_redirects=False) as answer:
            assert answer.status == 303
            assert "token" not in answer.headers["Location"]
            cookie = answer.cookies["callboard_token"]
            assert cookie.value == TOKEN and cookie["httponly"] and cookie["samesite"] == "Strict"
        async with client.get(server.url + "?token=" + TOKEN) as page:
            assert page.status == 200 and "token=" not in str(page.url)
        async with client.ws_connect(server.ws_url + "?width=80&height=24") as ws:
            await read_until(ws, b"Active calls")
    # A script may send the header instead.
    async with session(server, headers={"Authorization": f"Bearer {TOKEN}"}) as ws:
        await read_until(ws, b"Active calls")


async def test_past_max_sessions_a_clear_page_and_no_process(servers) -> None:  # type: ignore[no-untyped-def]
    server = servers("--max-sessions", "1")
    async with session(server) as ws:
        await read_until(ws, b"Active calls")
        assert len(server.boards()) == 1
        async with aiohttp.ClientSession() as client:
            async with client.get(server.url) as page:
                assert page.status == 503
                text = await page.text()
                assert "every board session is in use" in text and "at most 1 boards" in text
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await client.ws_connect(server.ws_url)
            assert refused.value.status == 503
        assert len(server.boards()) == 1
    wait_until(lambda: not server.boards(), "the first board to end")
    async with aiohttp.ClientSession() as client, client.get(server.url) as page:
        assert page.status == 200


async def test_https_with_tls_cert_and_key(servers, self_signed_cert: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    cert, key = self_signed_cert
    server = servers("--tls-cert", str(cert), "--tls-key", str(key))
    assert server.url.startswith("https://127.0.0.1:")
    context = ssl.create_default_context(cafile=str(cert))
    async with (
        aiohttp.ClientSession() as client,
        client.get(server.url, ssl=context) as page,
    ):
        assert page.status == 200
        assert "wss://127.0.0.1:" in await page.text()
        async with client.ws_connect(
            "wss" + server.url.removeprefix("https") + "ws?width=80&height=24", ssl=context
        ) as ws:
            await read_until(ws, b"Active calls")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "--host 0.0.0.0 lets other machines in: give a token"),
        (["--tls-cert", "c.pem"], "--tls-cert and --tls-key go together"),
        (["--max-sessions", "0"], "--max-sessions: must be 1 or more"),
        (["classify", "fixtures/board/board.jsonl"], "not 'classify'"),
        (["replay", "no-such.log"], "no-such.log"),
        (["watch", "http://127.0.0.1:1/"], "watch: "),
    ],
)
def test_options_that_cannot_work_are_usage_errors(args: list[str], message: str) -> None:
    env = {name: value for name, value in os.environ.items() if name != "CALLBOARD_TOKEN"}
    done = callboard("web", *args, env=env)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
