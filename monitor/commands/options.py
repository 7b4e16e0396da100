"""What every `callboard` command shares about its arguments: how a usage error is told.

Most bad arguments are refused by argparse itself while parsing (`type=`, `choices`,
mutually exclusive groups), with its usage line and `PROG: error: MESSAGE`. Some can
only be known afterwards: a log that does not exist, a format that cannot be told, a
port already taken. A command raises `UsageError` for those and `monitor.cli.main`
reports it through `report_usage_error`, in argparse's own format, with exit status 2:
one way for every command instead of a `print(...); return 2` per check.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from monitor.safe_text import clean

#: The exit status of a usage error, as argparse's own `parser.error` uses.
USAGE_ERROR = 2


class UsageError(ValueError):
    """An argument found wrong after parsing; the message names the option or the file."""


def report_usage_error(
    parser: argparse.ArgumentParser, problem: object, out: TextIO | None = None
) -> int:
    """Write `problem` as `parser.error` would (usage line, `PROG: error: ...`); 2.

    Returned rather than exited, so `main()` keeps returning its status to a caller.
    The message may quote a file name or a hub's answer: cleaned for the terminal.
    """
    stream = sys.stderr if out is None else out
    parser.print_usage(stream)
    stream.write(f"{parser.prog}: error: {clean(problem, limit=None)}\n")
    return USAGE_ERROR
