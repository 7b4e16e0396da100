"""The `callboard` command line: one subcommand per module in `monitor.commands`."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from monitor.app.launch import add_board_options
from monitor.commands.options import UsageError, report_usage_error

#: Subcommand modules, in the order `--help` lists them.
COMMANDS: tuple[str, ...] = (
    "monitor.commands.classify",
    "monitor.commands.report",
    "monitor.commands.schema",
    "monitor.commands.serve",
    "monitor.commands.tail",
    "monitor.commands.watch",
    "monitor.commands.replay",
    "monitor.commands.simulate",
    "monitor.commands.config",
    "monitor.commands.alerts",
    "monitor.commands.web",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    return _parsers()[0]


def _parsers() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser, and each subcommand's parser by name (for its usage errors)."""
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
        importlib.import_module(name).register(subparsers.add_parser)
    return parser, dict(subparsers.choices)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `callboard` console script."""
    parser, commands = _parsers()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "func", None) is None:
            from monitor.app.demo import run_demo

            return run_demo(args)
        try:
            return int(args.func(args))
        except KeyboardInterrupt:
            return 130
    except UsageError as exc:
        # Found after parsing: told as argparse tells its own, by the command's parser.
        return report_usage_error(commands.get(args.command, parser), exc)
    except BrokenPipeError:
        return _reader_gone()


def _reader_gone() -> int:
    """0 after the reader of stdout went away (`callboard classify LOG | head`).

    That ends the command but is not its failure, as with other Unix tools. Python
    flushes stdout again at exit, which would fail the same way and print "Exception
    ignored": stdout is pointed at /dev/null first, as the `signal` module's docs
    advise for SIGPIPE.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 0


if __name__ == "__main__":
    sys.exit(main())
