"""A live queue_log, appended to and rotated by another process, reaching a hub subscriber.

The hub, the websocket client and the subscriber's tracker are the real ones;
the writer is a separate process. Only content is asserted: every call reaches
the subscriber once, with the verdict its lines call for.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Sized
from functools import partial
from pathlib import Path

from monitor.feed.client import FeedClient
from monitor.feed.hub import running_hub
from monitor.sources import FollowSource
from tests.hub_support import DEADLINE, Follower, wait_for

#: Calls in three shapes (answered; rung then abandoned; abandoned unrung), the
#: file renamed away and recreated every ROTATE calls, as logrotate does, each
#: time once the test says the board has what was written so far.
WRITER = textwrap.dedent(
    """
    import os, sys
    path, calls, rotate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    out = open(path, "ab", buffering=0)
    for n in range(calls):
        t, cid = 1763900000 + 60 * n, f"live.{n}"
        lines = [f"{t}|{cid}|sales|NONE|ENTERQUEUE||555{n:04d}|1"]
        if n % 3 == 0:
            lines += [f"{t + 4}|{cid}|sales|SIP/201|CONNECT|4|{t}.9|2",
                      f"{t + 50}|{cid}|sales|SIP/201|COMPLETEAGENT|4|46|1"]
        elif n % 3 == 1:
            lines += [f"{t + 10}|{cid}|sales|SIP/202|RINGNOANSWER|10000",
                      f"{t + 12}|{cid}|sales|NONE|ABANDON|1|1|12"]
        else:
            lines += [f"{t + 3}|{cid}|sales|NONE|ABANDON|1|1|3"]
        for line in lines:
            out.write((line + "\\n").encode())
        if (n + 1) % rotate == 0:
            sys.stdin.readline()
            out.close()
            os.rename(path, f"{path}.{n + 1}")
            out = open(path, "ab", buffering=0)
    out.close()
    """
)


async def test_a_followed_queue_log_reaches_a_subscriber_through_the_hub(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_bytes(b"1763899000|MANAGER|sales|SIP/201|ADDMEMBER|\n")
    calls, rotate = 30, 6
    problems: list[str] = []
    async with running_hub() as hub:
        subscriber = Follower(FeedClient(hub.url, backoff_initial=0.05, backoff_max=0.2))
        source = FollowSource(
            path, "asterisk-queue-log", poll_interval=0.05, on_problem=problems.append
        )
        hub.attach_source(source)
        # The follower has read the first file once the member's presence is out.
        await wait_for(lambda: source.events >= 1, "the follower to start")
        writer = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WRITER,
            str(path),
            str(calls),
            str(rotate),
            stdin=subprocess.PIPE,
        )
        assert writer.stdin is not None
        for batch in range(1, calls // rotate + 1):
            done = batch * rotate
            await wait_for(partial(_at_least, subscriber.verdicts, done), f"{done} verdicts")
            writer.stdin.write(b"rotate\n")
            await writer.stdin.drain()
        assert await asyncio.wait_for(writer.wait(), DEADLINE) == 0
        await wait_for(lambda: len(subscriber.verdicts) >= calls, "every call's verdict")
        await subscriber.stop()
    outcomes = Counter((v["outcome"], v["reason"]) for v in subscriber.verdicts)
    assert outcomes == Counter(
        {
            ("completed", "answered"): 10,
            ("missed", "agent_not_answered"): 10,
            ("abandoned", "queue_hangup"): 10,
        }
    )
    assert sorted(v["call_id"] for v in subscriber.verdicts) == sorted(
        f"live.{n}" for n in range(calls)
    )
    assert problems == [] and source.problems == 0


def _at_least(items: Sized, count: int) -> bool:
    return len(items) >= count
