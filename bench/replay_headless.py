"""`callboard replay LOG --speed 0`, headless: the same feed and board, no terminal.

    python -m bench.replay_headless LOG [--seconds S]

`callboard replay` opens the board on a terminal; the memory figure needs the
same path without one, so this runs `CallboardApp` with the replay command's
own runner (`monitor.commands.replay.replay_runner`: `ReplaySource` read in
the board's process) under Textual's headless `run_test` until the replay has
finished and the board applied everything, or until S seconds have passed.
Every second it prints a JSON line with the events applied so far and its RSS,
and a last line with the totals; the parent measures peak RSS with wait4.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import time
from pathlib import Path

from bench.process import sample
from monitor.app.app import CallboardApp
from monitor.app.feed import ConnectionState
from monitor.commands.replay import replay_runner

SIZE = (200, 60)


def _progress(app: CallboardApp, start: float, **extra: object) -> str:
    now = sample(os.getpid())
    return json.dumps(
        {
            "t": round(time.perf_counter() - start, 2),
            "events_applied": app.board.events_applied,
            "rss_mb": now.rss_mb if now else None,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            **extra,
        }
    )


async def replay(path: Path, seconds: float) -> None:
    """Replay `path` headless at full speed, a JSON progress line a second, for at most `seconds`.

    Stops early once the replay has finished and nothing more was applied for a
    second. Raises RuntimeError when the board's feed closed (its runner failed).
    """
    runner = replay_runner(path, speed=0)
    app = CallboardApp(runner, rate=0, source=str(path))
    start = time.perf_counter()
    async with app.run_test(size=SIZE, headless=True):
        last, still_since, finished = -1, time.monotonic(), False
        while time.perf_counter() - start < seconds:
            await asyncio.sleep(1.0)
            print(_progress(app, start), flush=True)
            applied = app.board.events_applied
            if applied != last:
                last, still_since = applied, time.monotonic()
            elif (
                app.connection.state is ConnectionState.FINISHED
                and time.monotonic() - still_since > 1.0
            ):
                finished = True
                break
            if app.connection.state is ConnectionState.CLOSED:
                raise RuntimeError(f"the board's feed closed: {app.connection.last_error}")
        print(_progress(app, start, finished=finished, frames=app.frames), flush=True)
        app.exit(0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.replay_headless")
    parser.add_argument("log", type=Path)
    parser.add_argument("--seconds", type=float, default=3600.0, help="stop after this long")
    args = parser.parse_args()
    asyncio.run(replay(args.log, args.seconds))
