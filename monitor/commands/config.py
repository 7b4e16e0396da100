"""`callboard config`: print an example callboard.toml, or check one.

`config --example` prints the commented example (monitor/config/example.py);
`config check [PATH]` validates a file (the one the board would read when PATH is
left out) and lists every problem at once as `FILE:LINE: KEY: WHAT`, exit 1 when
there is any, 0 and a line saying what it read when there is none.
"""

from __future__ import annotations

import argparse
import sys

from monitor.commands.options import AddParser, UsageError
from monitor.config.example import EXAMPLE
from monitor.config.load import (
    CONFIG_VARIABLE,
    ConfigError,
    find_config,
    read_config,
    user_config_path,
)
from monitor.text.safe_text import clean


def run(args: argparse.Namespace) -> int:
    """Print the example or check a file; the exit status."""
    if args.example:
        if args.action is not None:
            raise UsageError("--example takes no 'check'")
        sys.stdout.write(EXAMPLE)
        return 0
    if args.action != "check":
        raise UsageError("give --example, or 'check [PATH]'")
    path = find_config(args.path)
    if path is None:
        print(f"no config file: none given, ${CONFIG_VARIABLE} unset, none at {user_config_path()}")
        return 0
    try:
        config = read_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(clean(str(problem), limit=None), file=sys.stderr)
        count = len(exc.problems)
        print(
            f"{count} problem{'s' if count != 1 else ''} in {clean(str(path), limit=None)}",
            file=sys.stderr,
        )
        return 1
    print(
        f"{clean(str(path), limit=None)}: ok ({len(config.queues)} queue tables, "
        f"{len(config.alerts.rules)} alert rules"
        f"{', a webhook' if config.alerts.webhook is not None else ''})"
    )
    return 0


def register(add_parser: AddParser) -> None:
    """Add the `callboard config` subcommand with `add_parser`."""
    parser = add_parser(
        "config",
        help="print an example callboard.toml, or check one",
        description=(
            "callboard.toml holds targets, alert rules, the webhook and board settings "
            "(docs/config.md). 'config --example' prints a commented example; "
            "'config check [PATH]' lists every problem of a file with its line."
        ),
    )
    parser.add_argument("action", nargs="?", choices=["check"], help="check a file")
    parser.add_argument(
        "path",
        nargs="?",
        help=f"the file to check (default: ${CONFIG_VARIABLE}, then the user config directory)",
    )
    parser.add_argument("--example", action="store_true", help="print a commented example")
    parser.set_defaults(func=run)
