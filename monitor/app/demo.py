"""The demo (`callboard` with no arguments): a simulated centre on a live board.

It runs the simulator live in the board's own process and applies its events
with the same state machine a hub would; no hub is started, since the demo serves
only the one board on this screen (`callboard serve --simulate` and `callboard
watch` show the same centre through a hub).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Callable

from classifier.kpi import SERVICE_LEVEL_S
from classifier.schema import Event
from monitor.app.feed import FeedRunner
from monitor.app.launch import run_board
from monitor.app.view import WALL_PAGE_S


def demo_runner(seed: int = 1) -> FeedRunner:
    """The demo's feed: the simulated centre (`demo_config(seed)`) live, in-process.

    Raises ImportError when the simulator is not available.
    """
    from monitor.app.local_feed import local_runner
    from monitor.sim.config import demo_config
    from monitor.sim.live import live_events

    config = demo_config(seed)

    def source(report: Callable[[str], None]) -> AsyncIterator[Event]:
        # The simulator reads no input, so it has nothing to report.
        return live_events(config, 1.0)

    return local_runner(source, label="simulated centre")


def run_demo(args: argparse.Namespace | None = None) -> int:
    """Run the demo board until the user quits; `args` carries the board options."""
    if args is None:
        args = argparse.Namespace(
            mask_numbers=False,
            service_level=SERVICE_LEVEL_S,
            queue_threshold=[],
            seed=1,
            refresh_rate=None,
            wall=False,
            wall_page_s=WALL_PAGE_S,
        )
    try:
        runner = demo_runner(args.seed)
    except ImportError as exc:
        print(
            f"callboard: the demo needs the simulator, which is not available ({exc}).",
            file=sys.stderr,
        )
        print(
            "Try `callboard --help`, `callboard replay LOG` or `callboard watch URL`.",
            file=sys.stderr,
        )
        return 1
    return run_board(runner, args, rate=1.0, live=True)
