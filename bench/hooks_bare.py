"""A bare aiohttp server answering 200 on /hooks/exotel and doing nothing else.

    python -m bench.hooks_bare PORT

The baseline of the webhook intake figure: the same client, the same HTTP
library, no key check, mapping, queue or hub. Prints ``ready`` once listening.
"""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web


async def _answer(request: web.Request) -> web.Response:
    return web.json_response({"queued": 0})


async def main(port: int) -> None:
    """Serve until killed."""
    app = web.Application()
    app.router.add_get("/hooks/exotel", _answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
