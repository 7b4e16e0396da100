"""Try `callboard serve --ami` without a PBX: the tests' scripted Asterisk, by hand.

    python -m tests.ami_server --port 5038            # in one terminal (from the repo root)
    CALLBOARD_AMI_SECRET=s3cret callboard serve --ami 127.0.0.1:5038 --ami-user callboard
    callboard watch ws://127.0.0.1:8765

It is `tests.ami_support.ScriptedPbx` (the AMI wire protocol on loopback: banner,
Login, Ping, QueueStatus and CoreShowChannels answered from what it has played),
replaying the real queue recordings of ../shared/realdata/asterisk-ami at a
watchable pace, `--rounds` times over with each round's Uniqueids its own. Type a
command and Enter to play the network's and the PBX admin's part:

* ``cut``: drop every client's connection (the hub reconnects and re-syncs);
* ``refuse``: from now on refuse every login ("Authentication failed"), as after a
  password change on the PBX (the board's bar says so while the hub retries);
* ``accept``: accept the password again (the next retry logs in);
* ``quit``.

A test tool, not part of callboard: it lives in tests/, never in monitor/.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from monitor.sources.ami_wire import Block
from tests.ami_support import ScriptedPbx, all_queue_events

COMMANDS = "cut, refuse, accept, quit"


def rounds_of(events: list[Block], rounds: int) -> list[Block]:
    """`events` `rounds` times, each round's Uniqueids (and linked ids) its own."""
    out: list[Block] = []
    for n in range(rounds):
        for event in events:
            out.append(
                {
                    k: f"{v}{n:03d}" if n and "uniqueid" in k.lower() and v else v
                    for k, v in event.items()
                }
            )
    return out


async def serve(args: argparse.Namespace) -> None:
    events = rounds_of(all_queue_events(), args.rounds)
    async with ScriptedPbx(events, secret=args.secret, pace=args.pace, port=args.port) as pbx:
        print(
            f"scripted Asterisk on 127.0.0.1:{pbx.port} (user any, secret {args.secret!r}):"
            f" {len(events)} recorded events, one every {args.pace:g} s once a client"
            f" logs in. Commands: {COMMANDS}",
            flush=True,
        )
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            command = line.strip()
            if not line or command == "quit":
                break
            if command == "cut":
                pbx.cut()
                print("connections cut", flush=True)
            elif command == "refuse":
                pbx.secret = "\0refused"
                print("logins refused from now on", flush=True)
            elif command == "accept":
                pbx.secret = args.secret
                print("logins accepted again", flush=True)
            elif command:
                print(f"unknown command {command!r}: {COMMANDS}", flush=True)
            print(
                f"played {pbx.sent}/{len(pbx.events)} events; logins {pbx.logins},"
                f" refused {pbx.refused}, re-syncs {pbx.resyncs}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.ami_server", description=__doc__)
    parser.add_argument("--port", type=int, default=5038, help="port on 127.0.0.1 (5038)")
    parser.add_argument("--secret", default="s3cret", help="the password it accepts (s3cret)")
    parser.add_argument("--pace", type=float, default=0.2, help="seconds between events (0.2)")
    parser.add_argument("--rounds", type=int, default=20, help="times the script plays (20)")
    args = parser.parse_args()
    if args.pace < 0 or args.rounds < 1:
        parser.error("--pace must be >= 0 and --rounds >= 1")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
