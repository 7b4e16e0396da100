"""`callboard web --max-sessions`: many browsers opening at once, counted at our gate.

A page served holds a session until its websocket comes, so when more browsers
than the limit open the board together, the ones that do not fit get our 503 page,
never a page whose websocket is then refused (textual-serve's page shows that as
its own "disconnected"). Real HTTP requests sent concurrently on loopback: to the
server in process (pages only: no board is started), then to `callboard web` in a
subprocess with real board sessions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from monitor.web.server import BoardServer, WebConfig, start
from tests.web_support import WebServer, read_until, session, wait_until

FULL = "every board session is in use"


@pytest.fixture
async def gate() -> AsyncIterator[tuple[BoardServer, str]]:
    """The web server in process, two sessions at most, a page holding one for 0.5 s."""
    server, runner, url = await start(
        WebConfig(command="false", port=0, max_sessions=2, reserve_s=0.5)
    )
    try:
        yield server, url
    finally:
        await runner.cleanup()


async def pages(url: str, count: int) -> list[tuple[int, str]]:
    """`count` page requests sent at once; each one's status and text."""
    async with aiohttp.ClientSession() as client:

        async def one() -> tuple[int, str]:
            async with client.get(url) as response:
                return response.status, await response.text()

        return list(await asyncio.gather(*(one() for _ in range(count))))


async def test_pages_opened_at_once_beyond_the_limit_get_our_page(
    gate: tuple[BoardServer, str],
) -> None:
    server, url = gate
    answers = await pages(url, 6)
    assert sorted(status for status, _ in answers) == [200, 200, 503, 503, 503, 503]
    assert all(FULL in text and "at most 2 boards" in text for s, text in answers if s == 503)
    assert server.in_use() == 2 and server.sessions == 0 and server.refused_full == 4
    # A page whose websocket never comes lets its session go after reserve_s.
    await asyncio.sleep(0.6)
    assert server.in_use() == 0
    assert sorted(status for status, _ in await pages(url, 3)) == [200, 200, 503]


@pytest.mark.slow
async def test_browsers_opening_at_once_get_a_board_or_our_page() -> None:
    server = WebServer("--max-sessions", "2")
    try:
        answers = await pages(server.url, 5)
        assert sorted(status for status, _ in answers) == [200, 200, 503, 503, 503]
        assert all(FULL in text for status, text in answers if status == 503)
        # The two pages' websockets come: each takes its page's session and a board.
        async with session(server) as first, session(server) as second:
            await read_until(first, b"Active calls")
            await read_until(second, b"Active calls")
            assert len(server.boards()) == 2
            async with aiohttp.ClientSession() as client:
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await client.ws_connect(server.ws_url)
                assert refused.value.status == 503
            assert len(server.boards()) == 2
        wait_until(lambda: not server.boards(), "the boards to end with their sessions")
    finally:
        server.close()
