"""A paced producer in its own process, so that feeding costs the measured app nothing.

    python -m bench.feeder PUBLISH_URL --rate R --seconds S [--open-calls N] [--seed K] [--skip M]

Publishes events `skip` .. `skip + rate*seconds` of the benchmark stream
(`bench.eventlog.generate(..., open_calls, seed)`) at `rate` per second, then
prints one JSON line: how many were acknowledged, how many went out late, and
the first and last seq. `--skip` continues a stream whose start was published
already (the prefill that puts calls in progress before a board connects).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys

from bench.eventlog import generate
from bench.publisher import publish, wire_lines


def feeder_command(
    python: str,
    publish_url: str,
    rate: float,
    seconds: float,
    open_calls: int,
    seed: int,
    skip: int,
) -> list[str]:
    """The command line that runs this feeder as its own process."""
    return [
        python, "-m", "bench.feeder", publish_url,
        "--rate", str(rate), "--seconds", str(seconds), "--open-calls", str(open_calls),
        "--seed", str(seed), "--skip", str(skip),
    ]  # fmt: skip


def stream_lines(count: int, open_calls: int, seed: int, skip: int = 0) -> list[str]:
    """Events `skip` .. `skip + count` of the benchmark stream, as producer text."""
    events = itertools.islice(generate(skip + count, open_calls, seed), skip, None)
    return wire_lines(events)


def main(argv: list[str] | None = None) -> int:
    """Publish as the module docstring says, then print the summary line; always 0.

    Events the hub refused are counted in the summary, not in the exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m bench.feeder", description=__doc__)
    parser.add_argument("url", help="the hub's /publish URL")
    parser.add_argument("--rate", type=float, required=True, help="events per second")
    parser.add_argument("--seconds", type=float, required=True, help="how long to feed")
    parser.add_argument("--open-calls", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip", type=int, default=0, help="events already published")
    args = parser.parse_args(argv)
    count = max(1, int(args.rate * args.seconds))
    lines = stream_lines(count, args.open_calls, args.seed, args.skip)
    print("ready", flush=True)
    result = asyncio.run(publish(args.url, lines, rate=args.rate))
    seqs = sorted(result.sent_at)
    summary = {
        "sent": len(lines),
        "acked": len(seqs),
        "refused": len(result.refused),
        "late": result.late,
        "first_seq": seqs[0] if seqs else None,
        "last_seq": seqs[-1] if seqs else None,
        "seconds": result.finished - result.started,
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
