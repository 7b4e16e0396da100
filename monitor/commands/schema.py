"""`callboard schema`: print the JSON Schema of one wire event."""

from __future__ import annotations

import argparse
import json

from classifier.schema import json_schema
from monitor.commands.options import AddParser


def run(args: argparse.Namespace) -> int:
    """Print the JSON Schema of schema v1 events to stdout; always 0."""
    print(json.dumps(json_schema(), indent=2))
    return 0


def register(add_parser: AddParser) -> None:
    """Add the `callboard schema` subcommand with `add_parser`."""
    parser = add_parser(
        "schema",
        help="print the JSON Schema of a wire event",
        description="Print the JSON Schema (draft 2020-12) of schema v1 events.",
    )
    parser.set_defaults(func=run)
