"""`callboard classify`: replay a log through the state machine and print a verdict per call."""

from __future__ import annotations

import argparse
import csv
import gc
import io
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol, TextIO, TypeVar

from rich.console import Console
from rich.table import Table
from rich.text import Text

from classifier.call import Call
from classifier.day import DayClock
from classifier.rules import EVENT_RULES, Rule, classify, open_record
from classifier.schema import CallEnded, Event
from classifier.tracker import CallTracker, Result
from classifier.verdict import RECORD_FIELDS, Outcome, Verdict
from monitor.commands.options import AddParser, UsageError, add_day_options, day_clock
from monitor.config.options import add_config_option, config_from, rules_from
from monitor.sources import FORMATS, FormatError, choose_format, iter_source
from monitor.sources.progress import EVERY_OTHER, EVERY_TTY, FIRST_AFTER, ReadProgress
from monitor.sources.reader import MAX_LINE, LineError, LineEvent
from monitor.text.safe_text import clean


@dataclass
class Summary:
    """What a classify run saw, for the closing table and the exit status."""

    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    rejected: int = 0
    duplicates: int = 0
    warnings: int = 0
    applied: int = 0
    open_calls: int = 0
    #: Lines a source adapter set aside (not errors): (what, why, count).
    skipped: list[tuple[str, str, int]] = field(default_factory=list)
    #: Finished calls per day they count on (`--timezone`, `--day-starts`), ISO dates.
    days: Counter[str] = field(default_factory=Counter)
    #: Whether the day was set on the command line (then the days are always listed).
    clock_given: bool = False


class RecordWriter:
    """Writes verdict records as JSON Lines or CSV."""

    def __init__(self, out: TextIO, fmt: str) -> None:
        self._out = out
        self._csv = fmt == "csv"
        if self._csv:
            csv.writer(out).writerow(RECORD_FIELDS)

    #: A record is the whole verdict.
    judge = staticmethod(classify)

    def write_all(self, verdicts: Iterable[Verdict]) -> None:
        """Records in order, handed to the output in one write.

        One write per batch rather than per record: with PYTHONUNBUFFERED set (many
        container images set it) every write to stdout is a system call of its own.
        """
        if not self._csv:
            self._out.write("".join([verdict.record_json() + "\n" for verdict in verdicts]))
            return
        rows = io.StringIO()
        writer = csv.writer(rows)
        for verdict in verdicts:
            record = verdict.record()
            row = []
            for name in RECORD_FIELDS:
                value = record[name]
                if isinstance(value, list):
                    value = ";".join(value)
                row.append("" if value is None else value)
            writer.writerow(row)
        self._out.write(rows.getvalue())


class Judged(Protocol):
    """What `classify_items` counts of a finished call for the summary."""

    @property
    def outcome(self) -> Outcome | None:
        """How the call ended."""
        ...

    @property
    def reason(self) -> str | None:
        """Why, as a reason code."""
        ...


J = TypeVar("J", bound=Judged)


class VerdictSink(Protocol[J]):
    """Where `classify_items` hands finished calls: a `RecordWriter`, or `report`'s tally.

    The sink says what it needs of each call: a record needs the whole `Verdict`
    (`classify`), a report only the `Judgement` (`judge`), which costs much less.
    """

    def judge(self, call: Call, rules: tuple[Rule, ...], /) -> J:
        """What this sink takes of a finished call, decided by `rules`."""
        ...

    def write_all(self, verdicts: Iterable[J], /) -> None:
        """Take these, in the order their calls ended."""
        ...


class TextSink(Protocol):
    """Where problems are written: a text stream, or anything with its `write`."""

    def write(self, text: str, /) -> object:
        """Write `text` (whole lines)."""
        ...


class LineCount:
    """A text stream that counts the lines written through it (the problems so far)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lines = 0

    def write(self, text: str) -> int:
        """Write `text` to the stream and count its lines."""
        self.lines += text.count("\n")
        return self.out.write(text)


#: Finished calls classified and written together (see `CallTracker`'s `verdicts`).
VERDICT_BATCH = 64


def classify_items(
    items: Iterable[LineEvent | LineError],
    writer: VerdictSink[J],
    errors: TextSink,
    write_open: Callable[[list[Call]], object] | None = None,
    verdict_batch: int = VERDICT_BATCH,
    clock: DayClock | None = None,
    rules: tuple[Rule, ...] = EVENT_RULES,
    on_applied: Callable[[Event], object] | None = None,
    count_days: bool = True,
) -> Summary:
    """Apply every item, hand finished calls to `writer`, report bad lines on `errors`.

    Calls go out in the order they ended, `verdict_batch` calls at a time (1 for a
    live pipe, whose reader should not wait for the calls after), each as
    `writer.judge` makes it; problems are written as their lines are met. Finished
    calls are counted per day of `clock` (the centre's day: `classifier.day.DayClock`)
    in `Summary.days`. `rules`: the event rules the config's `[rules]` choose
    (`monitor.config.options.rules_from`). `on_applied` is handed every event the
    tracker applied (`report --agents` feeds its agents' day with them, as a board
    does); `write_open` the calls still open at the end (`classify --include-open`).
    `count_days=False` leaves `Summary.days` empty for a caller that does not show it.
    """
    day_of = (clock or DayClock()).day_of
    tracker = CallTracker(keep_events=False, verdicts=False)
    summary = Summary()
    # Counted in locals and stored once at the end: this loop runs once per line.
    apply = tracker.apply
    outcomes = summary.outcomes
    days = summary.days
    applied_result = Result.APPLIED
    rejected = duplicates = warned = applied_count = 0
    ended: list[Call] = []

    judge = writer.judge

    def write_ended() -> None:
        verdicts = [judge(call, rules) for call in ended]
        for call, verdict in zip(ended, verdicts, strict=True):
            outcomes[(str(verdict.outcome), str(verdict.reason))] += 1
            if count_days:
                days[day_of(call.ended.ts).isoformat()] += 1  # type: ignore[union-attr]
        writer.write_all(verdicts)
        ended.clear()

    for item in items:
        if isinstance(item, LineError):
            rejected += 1
            errors.write(f"{item}\n")
            continue
        event = item.event
        applied = apply(event)
        if applied.result is not applied_result:
            if applied.result is Result.REJECTED:
                rejected += 1
            else:
                duplicates += 1
            errors.write(f"{item.source}:{item.line}: {applied.problem}\n")
            continue
        applied_count += 1
        if on_applied is not None:
            on_applied(event)
        if applied.warnings:
            for warning in applied.warnings:
                warned += 1
                errors.write(f"{item.source}:{item.line}: warning: {warning}\n")
        if type(event) is CallEnded:
            ended.append(applied.call)  # type: ignore[arg-type]
            if len(ended) >= verdict_batch:
                write_ended()
    write_ended()
    summary.rejected = rejected
    summary.duplicates = duplicates
    summary.warnings = warned
    summary.applied = applied_count
    summary.open_calls = len(tracker)
    if write_open is not None:
        write_open(list(tracker))
    return summary


def print_summary(summary: Summary, console: Console) -> None:
    """The closing table on stderr: counts per outcome and reason, and what went wrong."""
    table = Table(title="callboard classify", show_footer=False)
    table.add_column("outcome")
    table.add_column("reason")
    table.add_column("calls", justify="right")
    for (outcome, reason), count in sorted(summary.outcomes.items()):
        table.add_row(outcome, reason, str(count))
    finished = sum(summary.outcomes.values())
    table.add_section()
    table.add_row("finished calls", "", str(finished))
    table.add_row("still open", "", str(summary.open_calls))
    table.add_row("events applied", "", str(summary.applied))
    table.add_row("lines rejected", "", str(summary.rejected))
    table.add_row("duplicates ignored", "", str(summary.duplicates))
    table.add_row("warnings", "", str(summary.warnings))
    if len(summary.days) > 1 or summary.clock_given:
        # One row per day only when there is a choice to show: a log of one day on the
        # default clock keeps the table it always had.
        table.add_section()
        for day, count in sorted(summary.days.items()):
            table.add_row(f"ended on {day}", "", str(count))
    if summary.skipped:
        table.add_section()
        table.add_row("skipped, not errors", "", str(sum(count for *_, count in summary.skipped)))
        for what, why, count in summary.skipped:
            # Event names and statuses come from the vendor's file: shown, never parsed.
            table.add_row(Text(f"skipped {clean(what)}"), Text(clean(why, None)), str(count))
    console.print(table)


def source_format(args: argparse.Namespace) -> str:
    """The format named by --from, or detected from the content (said on stderr)."""
    try:
        fmt, detected = choose_format(args.path, args.source_format)
    except FormatError as exc:
        raise UsageError(str(exc)) from None
    if detected:
        print(f"detected format: {fmt}", file=sys.stderr)
    return fmt


@contextmanager
def batch_gc() -> Iterator[None]:
    """Collect garbage rarely while a whole log is classified, as it was before afterwards.

    Every event stays alive in its call until the call ends, so the default thresholds
    have the collector walk the open calls again and again (a fifth of the CPU time of a
    long log). Nothing on this path builds reference cycles in bulk, so collecting every
    100,000 allocations instead of every 700 keeps memory the same. The objects of the
    start-up (modules, the pydantic schema) are frozen out of every collection.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def run(args: argparse.Namespace) -> int:
    """Run `callboard classify`: a record per finished call to stdout, the summary to stderr.

    Exit status 1 when any line was rejected; 0 also when the reader of stdout went
    away. A missing file or a format that cannot be told raises `UsageError` (2).
    """
    path: str = args.path
    fmt = source_format(args)
    config_from(args)  # a bad config file is a usage error before any output
    # stdin may be a live pipe (`tail -f queue_log | callboard classify -`): then each
    # record goes out as its call ends, not when a batch or an output buffer fills.
    live = path == "-"
    if live and isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    writer = RecordWriter(sys.stdout, args.format)
    errors = LineCount(sys.stderr)
    progress = ReadProgress(
        "callboard classify", clean(path, None), sys.stderr, problems=lambda: errors.lines
    )
    items = iter_source(path, fmt, progress=progress)
    # A reader of stdout that goes away (`| head`) raises BrokenPipeError out of here:
    # monitor.cli.main ends the command with 0, without the summary.
    with batch_gc():
        summary = classify_items(
            items,
            writer,
            errors,
            write_open=(
                (lambda calls: writer.write_all([open_record(call) for call in calls]))
                if args.include_open
                else None
            ),
            verdict_batch=1 if live else VERDICT_BATCH,
            clock=day_clock(args),
            rules=rules_from(config_from(args)),
        )
    summary.clock_given = day_clock(args) is not None
    summary.skipped = items.skipped.rows()
    sys.stdout.flush()
    print_summary(summary, Console(stderr=True))
    return 1 if summary.rejected else 0


def register(add_parser: AddParser) -> None:
    """Add the `callboard classify` subcommand with `add_parser` (run by `run`)."""
    parser = add_parser(
        "classify",
        help="classify every finished call of a log",
        description=(
            "Replay an event log (callboard JSON Lines, an Asterisk queue_log or Exotel "
            "call records: see --from and docs/sources.md) through the state machine and "
            "write one record per finished call to stdout, with a summary on stderr. Exit status: "
            "0 when every line was accepted, 1 when any line was rejected, 2 on usage errors. "
            f"Lines over {MAX_LINE // 1024} KiB are skipped (counted, never held: memory stays "
            "flat whatever the input) and named with their length. A read still going after "
            f"{FIRST_AFTER:g} s says how far it got on stderr, then every {EVERY_TTY:g} s on a "
            f"terminal, every {EVERY_OTHER:g} s otherwise (not for stdin)."
        ),
    )
    parser.add_argument(
        "path", help="log file (plain or .gz), an Exotel records directory, or - for stdin"
    )
    parser.add_argument(
        "--from",
        dest="source_format",
        choices=FORMATS,
        default=None,
        help="what the input is (default: detected from the content; stdin is callboard "
        "JSON Lines unless given)",
    )
    parser.add_argument(
        "--format", choices=("json", "csv"), default="json", help="output format (default json)"
    )
    parser.add_argument(
        "--include-open",
        action="store_true",
        help="also list calls still open at the end, with outcome null",
    )
    add_day_options(parser.add_argument_group("the centre's day (the summary's calls per day)"))
    add_config_option(parser)
    parser.set_defaults(func=run)
