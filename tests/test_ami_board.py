"""What a running AMI link tells the people watching: /health and the board.

A real hub runs `AmiSource` against `tests/ami_support.ScriptedPbx` (AMI over TCP on
loopback, replaying real recordings); /health is read with a real GET while the link
is still up, since a PBX link never ends and its counts must not wait for it to.
"""

from __future__ import annotations

from monitor.feed.client import FeedClient
from monitor.feed.hub import running_hub
from monitor.sources.ami_client import AmiConfig, AmiSource
from tests.ami_support import QUEUE_RECORDINGS, ScriptedPbx, all_queue_events
from tests.hub_support import Follower, get_health, wait_for

CALLS = len(QUEUE_RECORDINGS)


def ami_config(port: int, secret: str = "s3cret") -> AmiConfig:
    return AmiConfig(
        host="127.0.0.1",
        port=port,
        user="callboard",
        secret=secret,
        backoff_min=0.05,
        backoff_max=0.2,
    )


async def test_a_running_links_problem_counts_are_on_health_while_it_runs() -> None:
    async with ScriptedPbx(all_queue_events()) as pbx, running_hub() as hub:
        pbx.extra = [
            b"Event: VarSet\r\nUniqueid: 1.1\r\nValue: " + b"x" * 1_000_000 + b"\r\n\r\n",
            b"Event: Newexten\r\nUniqueid: 1.3\r\nAppData: " + b"y" * 10_000 + b"\r\n\r\n",
            b"Event: SomethingNew\r\nUniqueid: 1.2\r\n\r\n",
            b"Event: AgentComplete\r\nUniqueid: never.seen\r\nReason: caller\r\n\r\n",
            b"Event: QueueCallerJoin\r\nnot a header line\r\nQueue: sales\r\n\r\n",
        ]
        subscriber = Follower(FeedClient(hub.url, backoff_initial=0.05, backoff_max=0.2))
        source = AmiSource(ami_config(pbx.port))
        hub.attach_source(source)
        await wait_for(lambda: len(subscriber.verdicts) >= CALLS, "every call's verdict")
        health = await get_health(hub.base_url)
        await subscriber.stop()
        assert not hub.source.finished  # the link is still up: counted while it runs
    status = health["source"]
    assert status["state"] == "running" and status["kind"] == "ami"
    assert status["problems"] == 4 and health["counters"]["source_problems"] == 4
    counts = status["counts"]
    assert counts["long_lines"] == 1  # the 1 MB value
    assert counts["broken_blocks"] == 1  # the 10 kB value, cut
    assert counts["unseen_calls"] == 1  # AgentComplete for a call never seen
    assert counts["unmapped"] == 1  # a join naming no Uniqueid
    assert counts["disconnects"] == 0 and counts["invalid"] == 0
    assert counts["stray_lines"] == 1 and counts["connections"] == 1
    assert counts["dropped_by_name"]["SomethingNew"] == 1
    assert counts["dropped_events"] >= counts["dropped_by_name"]["Newchannel"] > 0
