"""What a running FreeSWITCH event socket tells the people watching: its trouble, its counts.

A real hub runs `EslSource` against `tests/esl_support`'s scripted event socket (the
documentation's callcenter events over TCP on loopback); a real websocket subscriber
reads the hub's status frames, as `callboard watch` does for its connection bar, and
/health is read with a real GET while the socket runs.
"""

from __future__ import annotations

from monitor.feed.client import FeedClient
from monitor.feed.hub import Hub
from monitor.sources.esl_client import EslSource
from tests.esl_support import Session, callcenter_event, event_frame, scripted_esl
from tests.hub_support import Follower, get_health, wait_for

PASSWORD = "ClueCon-test"


async def test_a_refused_password_is_the_sources_state_until_it_is_accepted(hub: Hub) -> None:
    first = Session([event_frame(callcenter_event("member-queue-start", "m1", 0))], end="drop")
    second = Session(
        [
            event_frame(callcenter_event("agent-offering", "m1", 5)),
            event_frame(callcenter_event("bridge-agent-start", "m1", 9)),
            event_frame(callcenter_event("bridge-agent-end", "m1", 90)),
            event_frame({"Event-Name": "HEARTBEAT", "Event-Info": "System Ready"}),
        ]
    )
    # The connection after the drop is refused twice (a password changed on the PBX
    # and changed back), then accepted.
    async with scripted_esl(PASSWORD, [first, second], refuse=frozenset({1, 2})) as server:
        follower = Follower(FeedClient(hub.url, backoff_initial=0.05, backoff_max=0.2))
        source = EslSource("127.0.0.1", server.port, PASSWORD, backoff_initial=0.05)
        hub.attach_source(source)
        await wait_for(lambda: len(follower.verdicts) == 1, "the call's verdict")
        await wait_for(
            lambda: bool(follower.statuses) and follower.statuses[-1].detail is None,
            "the source well again",
        )
        health = await get_health(hub.base_url)
        await follower.stop()
    details = [s.detail for s in follower.statuses if s.state == "running" and s.detail]
    prefix = f"reconnecting to FreeSWITCH 127.0.0.1:{server.port}, attempt "
    assert all(d.startswith(prefix) for d in details), details
    assert any(d.endswith("password refused: -ERR invalid") for d in details), details
    assert any(", attempt 2, next try in " in d for d in details), details
    counts = health["source"]["counts"]
    assert counts["failures"] == 3 and counts["connections"] == 2
    assert counts["set_aside"]["HEARTBEAT"] == 1
    assert counts["open_calls"] == 0 and counts["resynced_calls"] == 0
