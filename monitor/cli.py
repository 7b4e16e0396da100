"""The `callboard` command line: one subcommand per module in `monitor.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from monitor.app.launch import add_board_options

#: Subcommand modules, in the order `--help` lists them.
COMMANDS: tuple[str, ...] = (
    "monitor.commands.classify",
    "monitor.commands.schema",
    "monitor.commands.serve",
    "monitor.commands.tail",
    "monitor.commands.watch",
    "monitor.commands.replay",
    "monitor.commands.simulate",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="callboard",
        description=(
            "A live call-centre wallboard for the terminal. With no command, shows the "
            "demo: a simulated contact centre on a live board."
        ),
    )
    # With no command the demo runs: it takes the options every board takes.
    add_board_options(parser)
    parser.add_argument("--seed", type=int, default=1, help="the demo's simulator seed (default 1)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `callboard` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        from monitor.app.demo import run_demo

        return run_demo(args)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
