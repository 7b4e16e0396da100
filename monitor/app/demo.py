"""The demo (`callboard` with no arguments): a simulated centre on a live board.

It starts a hub on a free loopback port, runs the simulator live as the hub's
source, and follows the hub over a real websocket, exactly as `callboard watch`
would follow a production hub.
"""

from __future__ import annotations

import argparse
import sys

from classifier.kpi import SERVICE_LEVEL_S
from monitor.app.launch import run_board


def run_demo(args: argparse.Namespace | None = None) -> int:
    """Run the demo board until the user quits; `args` carries the board options."""
    from monitor.app.hub_feed import embedded_runner

    try:
        from monitor.sim.config import demo_config
        from monitor.sim.live import live_events
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

    if args is None:
        args = argparse.Namespace(
            mask_numbers=False, service_level=SERVICE_LEVEL_S, queue_threshold=[], seed=1
        )
    config = demo_config(args.seed)

    def source(report: object) -> object:
        return live_events(config, 1.0)

    return run_board(embedded_runner(source, label="simulated centre"), args, rate=1.0)
