"""`callboard web` in a real headless Chromium: the page loads, the board shows, keys work,
closing the page ends its board process.

The browser is Debian's Chromium driven by Playwright (tests/browser_support.py). The
board's output is read from the frames the page's websocket received; a failing test
keeps a screenshot of the page under its tmp dir (failure.png).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Page

from tests.browser_support import Received, chromium
from tests.hub_support import DEADLINE
from tests.web_support import WebServer, alive, wait_until

pytestmark = pytest.mark.slow


async def until(check: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


@asynccontextmanager
async def board_page(server: WebServer, tmp_path: Path) -> AsyncIterator[tuple[Page, Received]]:
    """The board's page open in Chromium at 1920x1080; a screenshot kept if the test fails."""
    async with chromium(tmp_path / "profile") as browser:
        page = await browser.new_page()
        received = Received(page)
        try:
            response = await page.goto(server.url)
            assert response is not None and response.status == 200
            yield page, received
        except BaseException:
            if not page.is_closed():
                await page.screenshot(path=str(tmp_path / "failure.png"))
            raise


async def test_the_board_in_chromium_keys_work_and_closing_ends_it(tmp_path: Path) -> None:
    server = WebServer()
    try:
        async with board_page(server, tmp_path) as (page, received):
            await until(lambda: b"Active calls" in received, "the board's first frames")
            # The terminal is on the page, sized from the browser's window.
            await page.wait_for_selector(".xterm")
            boards = server.boards()
            assert len(boards) == 1
            # A key pressed in the browser reaches the board: W brings the wall.
            await page.locator(".xterm").click()
            await page.keyboard.press("Shift+W")
            await until(lambda: b"Calls waiting" in received, "the wall after W")
            # The demo's queues, a row each (their names come as plain text).
            await until(lambda: b"billing" in received.data.split(b"Calls waiting", 1)[1], "rows")
            await asyncio.sleep(1)  # for the screenshot: a second of frames drawn
            await page.screenshot(path=str(tmp_path / "wall.png"))
            await page.close()
            await until(lambda: not alive(boards[0]), "the board to end with its page")
        assert server.boards() == []
    finally:
        server.close()


async def test_wall_mode_in_chromium(tmp_path: Path) -> None:
    server = WebServer("--wall")
    try:
        async with board_page(server, tmp_path) as (_page, received):
            for tile in (b"Calls waiting", b"Longest wait", b"Service level", b"Calls today"):
                await until(lambda tile=tile: tile in received, f"the tile {tile!r}")
            assert b"Active calls" not in received
            board = server.boards()
            assert len(board) == 1
        # The browser closed with the page still open: the session ends all the same.
        wait_until(lambda: not alive(board[0]), "the board to end with the browser")
    finally:
        server.close()


async def test_without_the_token_chromium_gets_the_401_page(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("browser-token")
    server = WebServer("--token-file", str(token_file))
    try:
        async with chromium(tmp_path / "profile") as browser:
            page = await browser.new_page()
            response = await page.goto(server.url)
            assert response is not None and response.status == 401
            assert "needs its token" in await page.inner_text("body")
            assert server.boards() == []
            received = Received(page)
            response = await page.goto(server.url + "?token=browser-token")
            assert response is not None and response.status == 200
            assert "token" not in page.url  # the token went to a cookie
            await until(lambda: b"Active calls" in received, "the board after the token")
    finally:
        server.close()
