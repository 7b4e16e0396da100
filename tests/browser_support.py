"""A real browser for the `callboard web` tests: Debian's Chromium, headless, driven by Playwright.

The browser is the system's (`/usr/bin/chromium`, Debian's `chromium` package, which
`.ci/run` installs when it is missing), never one `playwright install` downloads. A
missing browser fails the test with what to install: a browser test that skips would
pass without testing anything.

textual-serve draws the board with xterm.js on a canvas, so the page's text is not in
its DOM: what the board sent is read from the page's own websocket (the frames the
browser received), and what it drew is kept as a screenshot when a test fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import BrowserContext, Page, WebSocket, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
#: The flags the browser runs with: headless, no sandbox (containers), and nothing
#: that reaches the network on its own or writes outside its fresh profile.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> Path:
    """The browser's executable; fails (never skips) naming the package when it is missing."""
    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; "
        ".ci/run does) to run the browser tests"
    )
    return CHROMIUM


@asynccontextmanager
async def chromium(
    profile: Path, width: int = 1920, height: int = 1080
) -> AsyncIterator[BrowserContext]:
    """A headless Chromium with a fresh profile in `profile` and a window of this size."""
    executable = require_chromium()
    async with async_playwright() as playwright:
        # A fresh --user-data-dir: Playwright takes it as the persistent context's directory.
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(executable),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": width, "height": height},
        )
        try:
            yield context
        finally:
            await context.close()


class Received:
    """Everything the page's websockets received, as bytes (the board's output)."""

    def __init__(self, page: Page) -> None:
        self.data = bytearray()
        self.sockets: list[WebSocket] = []
        page.on("websocket", self._opened)

    def _opened(self, socket: WebSocket) -> None:
        self.sockets.append(socket)
        socket.on("framereceived", self._frame)

    def _frame(self, payload: str | bytes) -> None:
        self.data += payload if isinstance(payload, bytes) else payload.encode()

    def __contains__(self, text: bytes) -> bool:
        return text in self.data
