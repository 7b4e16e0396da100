"""`callboard simulate`: write a simulated contact centre's events as JSON Lines.

Nothing but events goes to stdout; progress and the closing summary go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import io
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from classifier.schema import CallEnded, Event
from monitor.commands.options import AddParser, UsageError, bounded
from monitor.sim.config import PRESETS, PROFILES, SimConfig, heavy_config
from monitor.sim.live import live_events
from monitor.sim.model import simulate

#: Events written per write() call: big enough to be fast, small enough for progress.
CHUNK = 2048

#: Runs expected to produce more calls than this get a summary even off a terminal.
LONG_RUN_CALLS = 20_000


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


#: The ranges of the simulator's numeric options (see `bounded`).
_count = bounded(int, 0, above=True, must="must be more than zero")
_positive = bounded(float, 0.0, above=True, must="must be more than zero")
_not_negative = bounded(float, 0.0, must="must be zero or more")


def _start(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an RFC 3339 time: {text!r} (e.g. 2025-03-03T00:00:00+01:00)"
        ) from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"needs a time zone offset, e.g. {text}+01:00")
    return value


def _hours_of_day(text: str) -> tuple[float, float]:
    def hour(part: str) -> float:
        hh, _, mm = part.strip().partition(":")
        value = int(hh) + (int(mm) if mm else 0) / 60
        if not 0 <= value <= 24:
            raise ValueError(part)
        return value

    try:
        opens, closes = (hour(p) for p in text.split("-", 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not business hours: {text!r} (e.g. 08:00-20:00, or 00:00-24:00 for always open)"
        ) from None
    if not opens < closes:
        raise argparse.ArgumentTypeError(f"opening must come before closing: {text!r}")
    return opens, closes


def _queues(text: str) -> tuple[str, ...]:
    names = tuple(q.strip() for q in text.split(","))
    if not names or any(not q for q in names):
        raise argparse.ArgumentTypeError(f"not a comma-separated list of queue names: {text!r}")
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"queue names repeat: {text!r}")
    return names


def _weights(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of numbers: {text!r} (e.g. 4,4,2)"
        ) from None
    if min(values) < 0 or not sum(values) > 0:
        raise argparse.ArgumentTypeError(f"weights must be zero or more, not all zero: {text!r}")
    return values


def config_from_args(args: argparse.Namespace) -> SimConfig:
    """The configuration the options describe: the preset, with given options on top."""
    preset = PRESETS[args.preset]
    if preset is heavy_config and args.agents is not None:
        # Fewer agents than its calls: the heavy centre keeps the rest waiting in the
        # queue (heavy_config says how), rather than losing them to queue timeouts.
        base = heavy_config(agents=args.agents)
    else:
        base = preset() if preset is not None else SimConfig()
    changes: dict[str, Any] = {}
    for name in (
        "agents",
        "queues",
        "calls_per_hour",
        "seed",
        "start",
        "profile",
        "outbound_share",
        "exotel_share",
        "exotel_outbound_share",
        "id_prefix",
        "queue_weights",
    ):
        value = getattr(args, name)
        if value is not None:
            changes[name] = value
    if args.business_hours is not None:
        changes["opens"], changes["closes"] = args.business_hours
    if args.hours is not None:
        changes["hours"] = args.hours
    elif args.live:
        changes["hours"] = None
    elif base.hours is None:
        # A file needs an end: presets made for live feeds get the default length.
        changes["hours"] = SimConfig().hours
    if args.warmup is not None:
        changes["warmup_s"] = args.warmup
    try:
        return base.with_(**changes)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


@contextmanager
def _output(path: str) -> Iterator[IO[str]]:
    """stdout for '-', a gzip stream for '.gz' (stable bytes: no name, no mtime), else a file."""
    if path == "-":
        yield sys.stdout
        return
    target = Path(path)
    if target.parent and not target.parent.is_dir():
        raise UsageError(f"{path}: no such directory {str(target.parent)!r}")
    if target.suffix == ".gz":
        with (
            open(target, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed,
            io.TextIOWrapper(packed, encoding="utf-8", newline="\n") as text,
        ):
            yield text
        return
    with open(target, "w", encoding="utf-8", newline="\n") as text:
        yield text


class Tally:
    """Counts for the closing summary."""

    def __init__(self) -> None:
        self.events = 0
        self.calls = 0
        self.truths: Counter[str] = Counter()

    def add(self, event: Event) -> None:
        """Count one event; a `call.ended` also counts its call under its `truth` ('?' if none)."""
        self.events += 1
        if isinstance(event, CallEnded):
            self.calls += 1
            self.truths[event.truth or "?"] += 1


def _write_run(config: SimConfig, out: IO[str], progress: Progress | None, tally: Tally) -> None:
    task = None
    if progress is not None and config.hours is not None:
        task = progress.add_task("simulating", total=config.hours * 3600)
    chunk: list[str] = []
    for event in simulate(config):
        tally.add(event)
        chunk.append(event.to_json())
        if len(chunk) >= CHUNK:
            out.write("\n".join(chunk) + "\n")
            chunk.clear()
            if task is not None and progress is not None:
                done = (event.ts - config.start).total_seconds()
                progress.update(task, completed=min(done, config.hours * 3600))  # type: ignore[operator]
    if chunk:
        out.write("\n".join(chunk) + "\n")
    if task is not None and progress is not None:
        progress.update(task, completed=config.hours * 3600)  # type: ignore[operator]


async def _write_live(config: SimConfig, speed: float, out: IO[str], tally: Tally) -> None:
    async for event in live_events(config, speed):
        tally.add(event)
        out.write(event.to_json() + "\n")
        out.flush()


def _summary(tally: Tally, seconds: float, target: str, console: Console) -> None:
    table = Table(title="callboard simulate", title_justify="left")
    table.add_column("truth (outcome/reason)")
    table.add_column("calls", justify="right")
    for truth, count in sorted(tally.truths.items()):
        table.add_row(truth, f"{count:,}")
    table.add_section()
    table.add_row("calls", f"{tally.calls:,}")
    table.add_row("events", f"{tally.events:,}")
    table.add_row("seconds", f"{seconds:.1f}")
    table.add_row("written to", "stdout" if target == "-" else target)
    console.print(table)


def run(args: argparse.Namespace) -> int:
    """Run `callboard simulate`: the events to the output, then a summary on stderr.

    The summary is shown on a terminal, for a long run or when writing to a file,
    never with --quiet. 0 also when the reader of stdout went away; a bad option
    value raises `UsageError` (exit status 2).
    """
    err = Console(stderr=True)
    try:
        config = config_from_args(args)
        if args.speed is not None and not args.live:
            raise UsageError("--speed only applies with --live")
        if args.warmup is not None and not args.live:
            raise UsageError("--warmup only applies with --live")
        began = time.perf_counter()
        tally = Tally()
        expected_calls = (config.hours or 0) * config.calls_per_hour
        show_bar = not args.quiet and not args.live and err.is_terminal
        with _output(args.output) as out:
            if args.live:
                asyncio.run(_write_live(config, args.speed or 1.0, out, tally))
            else:
                bar = (
                    Progress(
                        TextColumn("[progress.description]{task.description}"),
                        BarColumn(),
                        TextColumn("{task.percentage:>3.0f}% of the simulated time"),
                        TimeElapsedColumn(),
                        console=err,
                        transient=True,
                    )
                    if show_bar
                    else None
                )
                with bar if bar is not None else nullcontext():
                    _write_run(config, out, bar, tally)
            out.flush()
    except BrokenPipeError:
        raise  # the reader went away (`| head`): monitor.cli.main stops quietly with 0
    except OSError as exc:
        print(f"callboard simulate: error: {exc}", file=sys.stderr)
        return 1
    if not args.quiet and (
        err.is_terminal or expected_calls > LONG_RUN_CALLS or args.output != "-"
    ):
        _summary(tally, time.perf_counter() - began, args.output, err)
    return 0


def centre_options(title: str, description: str | None = None) -> argparse.ArgumentParser:
    """The options that describe the simulated centre, as a parent parser in one group.

    `callboard simulate` and `callboard serve --simulate` both take them through
    `parents=[...]`, each under its own `title`, so the two cannot drift. A new parser
    each call: a parent's actions are shared with every parser built from it.
    """
    defaults = SimConfig()
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group(title, description)
    group.add_argument(
        "--preset",
        choices=tuple(PRESETS),
        default="centre",
        help="starting configuration: centre (default), demo (12 agents, open all day, "
        "warm start), heavy (~5,000 calls in progress at once, for load tests)",
    )
    group.add_argument(
        "--agents",
        type=_count,
        metavar="N",
        help=f"agents in the centre (default {defaults.agents})",
    )
    group.add_argument(
        "--queues",
        type=_queues,
        metavar="LIST",
        help=f"comma-separated queue names (default {','.join(defaults.queues)})",
    )
    group.add_argument(
        "--queue-weights",
        type=_weights,
        metavar="W,W,...",
        help="relative traffic of each queue, in --queues order (default 4,4,2,2,...)",
    )
    group.add_argument(
        "--calls-per-hour",
        type=_not_negative,
        metavar="R",
        help=f"calls per hour, averaged over business hours (default {defaults.calls_per_hour:g})",
    )
    group.add_argument(
        "--hours",
        type=_positive,
        metavar="H",
        help="simulated hours of arrivals; calls in progress then finish "
        f"(default {defaults.hours:g}; with --live, forever)",
    )
    group.add_argument(
        "--seed", type=int, metavar="S", help=f"random seed (default {defaults.seed})"
    )
    group.add_argument(
        "--start",
        type=_start,
        metavar="TIME",
        help="first simulated instant, RFC 3339 with an offset "
        f"(default {defaults.start.isoformat()})",
    )
    group.add_argument(
        "--business-hours",
        type=_hours_of_day,
        metavar="HH:MM-HH:MM",
        help="opening hours; other calls take the after-hours flow (default 08:00-20:00)",
    )
    group.add_argument(
        "--profile",
        choices=PROFILES,
        help="arrival rate over the day: daily (quiet night, morning peak) or flat",
    )
    group.add_argument(
        "--outbound-share",
        type=_share,
        metavar="X",
        help=f"share of calls that are outbound (default {defaults.outbound_share:g})",
    )
    group.add_argument(
        "--exotel-share",
        type=_share,
        metavar="X",
        help="share of inbound calls through Exotel, with leg statuses "
        f"(default {defaults.exotel_share:g})",
    )
    group.add_argument(
        "--exotel-outbound-share",
        type=_share,
        metavar="X",
        help="share of outbound calls through Exotel's two outbound flows "
        f"(default {defaults.exotel_outbound_share:g})",
    )
    group.add_argument(
        "--id-prefix", metavar="P", help=f"prefix of call ids (default {defaults.id_prefix})"
    )
    group.add_argument(
        "--warmup",
        type=_not_negative,
        metavar="SECONDS",
        help="with --live: simulated seconds sent at once at the start, stamped in the past",
    )
    return parent


def register(add_parser: AddParser) -> None:
    """Add the `callboard simulate` subcommand with `add_parser` (serve shares `centre_options`)."""
    parser = add_parser(
        "simulate",
        help="write a simulated contact centre's events (JSON Lines)",
        description=(
            "Run a seeded simulation of a contact centre and write its events (schema v1,\n"
            "one JSON object per line) to stdout or a file. The same options and seed give\n"
            "byte-identical output. Every call.ended carries `truth`, the simulator's own\n"
            "outcome/reason for the call. Progress and a summary go to stderr.\n"
            "Exit status: 0 on success, 1 when the output cannot be written, 2 on bad options."
        ),
        epilog=(
            "examples:\n"
            "  callboard simulate --hours 1 | callboard classify -\n"
            "  callboard simulate --agents 40 --calls-per-hour 790 --hours 24 "
            "--start 2025-03-03T00:00:00+01:00 -o day.jsonl.gz\n"
            "  callboard simulate --live --speed 10\n"
            "  callboard simulate --preset heavy --hours 2 -o heavy.jsonl.gz"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[centre_options("the simulated centre")],
    )
    parser.add_argument(
        "-o",
        "--output",
        default="-",
        metavar="PATH",
        help="output file, '.gz' to compress, or - for stdout (default)",
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="pace events in real time, stamped with the wall clock (for demos and feeds)",
    )
    parser.add_argument(
        "--speed",
        type=_positive,
        metavar="X",
        help="with --live: simulated seconds per real second (default 1)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar and no summary on stderr"
    )
    parser.set_defaults(func=run)
