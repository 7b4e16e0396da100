"""The FreeSWITCH event socket source against a scripted event socket on loopback.

A real hub runs the `EslSource`; a real subscriber (`Follower`) applies what the hub
sends, as a board does. The scripted server (tests/esl_support.py) speaks
mod_event_socket's wire protocol and plays the documentation's mod_callcenter events:
a whole call, a connection dropped mid-call and healed by a re-sync, a stalled server,
broken frames, and, through the real `callboard serve`, a refused password.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
from pathlib import Path
from typing import Any

import pytest

from monitor.feed.client import FeedClient
from monitor.feed.hub import Hub
from monitor.sources.esl_client import MAX_BODY, EslSource
from tests.cli_support import callboard, start_callboard
from tests.esl_support import (
    BASE,
    Session,
    ThreadedEsl,
    agent_list,
    callcenter_event,
    event_frame,
    member_list,
    scripted_esl,
)
from tests.hub_support import DEADLINE, Follower, StartServe, wait_for

PASSWORD = "ClueCon-test"


def call_answered(member: str, t: int) -> list[bytes]:
    return [
        event_frame(callcenter_event("member-queue-start", member, t)),
        event_frame(callcenter_event("agent-offering", member, t + 5)),
        event_frame(callcenter_event("bridge-agent-start", member, t + 9)),
        event_frame(callcenter_event("member-queue-end", member, t + 10, cause="Terminated")),
        event_frame(callcenter_event("bridge-agent-end", member, t + 200)),
    ]


def outcomes(follower: Follower) -> dict[str, tuple[Any, Any]]:
    return {str(v["call_id"]): (v["outcome"], v["reason"]) for v in follower.verdicts}


def follow(hub: Hub) -> Follower:
    return Follower(FeedClient(hub.url, backoff_initial=0.05, backoff_max=0.2))


async def test_the_documented_events_reach_a_subscriber_as_verdicts(hub: Hub) -> None:
    frames = [
        event_frame(callcenter_event("agent-status-change", "", 0)),
        *call_answered("m1", 1),
        event_frame(callcenter_event("member-queue-start", "m2", 20)),
        event_frame(callcenter_event("members-count", "", 20)),
        event_frame(
            callcenter_event(
                "member-queue-end", "m2", 80, cause="Cancel", CC_Cancel_Reason="TIMEOUT"
            )
        ),
    ]
    async with scripted_esl(PASSWORD, [Session(frames)]) as server:
        follower = follow(hub)
        source = EslSource("127.0.0.1", server.port, PASSWORD)
        hub.attach_source(source)
        await wait_for(lambda: len(follower.verdicts) == 2, "two verdicts")
        assert outcomes(follower) == {
            "m1": ("completed", "answered"),
            "m2": ("missed", "no_agent_available"),
        }
        assert hub.tracker.presence["1000@default"].status.value == "available"
        assert server.commands[:4] == [
            f"auth {PASSWORD}",
            "event plain CUSTOM callcenter::info",
            "api callcenter_config member list",
            "api callcenter_config agent list",
        ]
        assert source.problems == 0
        # members-count, and the Terminated member-queue-end (the call ends later).
        assert len(source.mapper.skipped) == 2
        await follower.stop()


async def test_a_connection_dropped_mid_call_heals_and_no_call_is_lost_or_doubled(
    hub: Hub,
) -> None:
    # First connection: m1 queued and offered, m2 queued, m3 answered; then the
    # connection drops. While it is down m1 is answered, m2 leaves and m4 queues.
    first = Session(
        [
            event_frame(callcenter_event("member-queue-start", "m1", 0)),
            event_frame(callcenter_event("agent-offering", "m1", 5)),
            event_frame(callcenter_event("member-queue-start", "m2", 6)),
            *call_answered("m3", 7)[:3],
        ],
        end="drop",
    )
    answered = {
        "queue": "support@default",
        "uuid": "m1",
        "state": "Answered",
        "joined_epoch": str(BASE),
        "bridge_epoch": str(BASE + 12),
        "serving_agent": "AgentNameHere",
    }
    waiting = {"queue": "support@default", "uuid": "m4", "state": "Waiting"}
    waiting["joined_epoch"] = str(BASE + 30)
    # m3 is still talking but left the queue (Terminated): not in the list.
    second = Session(
        [
            # FreeSWITCH sends nothing of what happened while the socket was down;
            # m1's and m3's talks end, m4 gives up.
            event_frame(callcenter_event("bridge-agent-end", "m1", 60)),
            event_frame(callcenter_event("member-queue-end", "m3", 61, cause="Terminated")),
            event_frame(callcenter_event("bridge-agent-end", "m3", 62)),
            event_frame(
                callcenter_event(
                    "member-queue-end", "m4", 70, cause="Cancel", CC_Cancel_Reason="BREAK_OUT"
                )
            ),
        ],
        members=member_list(answered, waiting),
        agents=agent_list({"name": "AgentNameHere", "status": "Available", "state": "Waiting"}),
    )
    async with scripted_esl(PASSWORD, [first, second]) as server:
        follower = follow(hub)
        source = EslSource("127.0.0.1", server.port, PASSWORD)
        hub.attach_source(source)
        await wait_for(lambda: len(follower.verdicts) == 4, "four verdicts")
        assert server.connections == 2
        assert sorted(v["call_id"] for v in follower.verdicts) == ["m1", "m2", "m3", "m4"]
        assert outcomes(follower) == {
            # Answered while the socket was down: the re-sync's serving agent says so.
            "m1": ("completed", "answered"),
            # Gone from the list: ended, how unknown; the system ended it as far as
            # callboard can tell (rule 10), the cause says so.
            "m2": ("missed", "no_agent_available"),
            "m3": ("completed", "answered"),
            # Learned from the re-sync, then BREAK_OUT before any offer: rule 8.
            "m4": ("abandoned", "queue_hangup"),
        }
        m2 = next(v for v in follower.verdicts if v["call_id"] == "m2")
        assert "event socket was down" in str(m2["detail"])
        assert hub.counters["duplicates"] == 0
        assert source.mapper.resynced == 1  # m4; m1 was known, its answer came from the list
        await follower.stop()


async def test_a_stalled_server_is_left_and_connected_again(hub: Hub) -> None:
    first = Session([event_frame(callcenter_event("member-queue-start", "m1", 0))], end="stall")
    second = Session(
        [
            event_frame(
                callcenter_event(
                    "member-queue-end", "m1", 50, cause="Cancel", CC_Cancel_Reason="BREAK_OUT"
                )
            )
        ],
        members=member_list(
            {
                "queue": "support@default",
                "uuid": "m1",
                "state": "Waiting",
                "joined_epoch": str(BASE),
            }
        ),
    )
    async with scripted_esl(PASSWORD, [first, second]) as server:
        follower = follow(hub)
        source = EslSource("127.0.0.1", server.port, PASSWORD, keepalive=0.2)
        hub.attach_source(source)
        await wait_for(lambda: len(follower.verdicts) == 1, "the call's verdict")
        assert server.connections >= 2
        # The stalled connection got a keep-alive, never answered.
        assert "api status" in server.commands
        assert outcomes(follower) == {"m1": ("abandoned", "queue_hangup")}
        assert source.failures >= 1
        await follower.stop()


async def test_a_password_refused_later_is_retried_with_backoff(hub: Hub) -> None:
    first = Session([event_frame(callcenter_event("member-queue-start", "m1", 0))], end="drop")
    second = Session(
        [event_frame(callcenter_event("bridge-agent-end", "m1", 90))],
        members=member_list(
            {
                "queue": "support@default",
                "uuid": "m1",
                "state": "Answered",
                "joined_epoch": str(BASE),
                "bridge_epoch": str(BASE + 30),
                "serving_agent": "1000@default",
            }
        ),
    )
    # The connection after the drop is refused twice, then accepted again.
    async with scripted_esl(PASSWORD, [first, second], refuse=frozenset({1, 2})) as server:
        follower = follow(hub)
        source = EslSource("127.0.0.1", server.port, PASSWORD, backoff_initial=0.05)
        hub.attach_source(source)
        await wait_for(lambda: len(follower.verdicts) == 1, "the call's verdict")
        assert server.connections == 4
        assert source.failures == 3  # the drop and the two refusals
        assert outcomes(follower) == {"m1": ("completed", "answered")}
        assert hub.stats()["source"]["state"] == "running"
        await follower.stop()


async def test_broken_frames_unknown_events_and_a_huge_value_are_counted(hub: Hub) -> None:
    huge = callcenter_event("member-queue-start", "big", 0, CC_Member_CID_Name="x" * 1_000_000)
    frames = [
        b"this is not a header\n\n",
        b"Content-Length: twelve\nContent-Type: text/event-plain\n\n",
        event_frame(huge),
        event_frame(
            {
                "Event-Name": "CUSTOM",
                "Event-Subclass": "callcenter::info",
                "CC-Action": "agent-offering",
            }
        ),
        event_frame({"Event-Name": "HEARTBEAT", "Event-Info": "System Ready"}),
        b"Content-Type: text/unheard-of\n\n",
        *call_answered("ok", 10),
    ]
    assert len(event_frame(huge)) > MAX_BODY
    async with scripted_esl(PASSWORD, [Session(frames)]) as server:
        follower = follow(hub)
        source = EslSource("127.0.0.1", server.port, PASSWORD)
        hub.attach_source(source)
        await wait_for(lambda: len(follower.verdicts) == 1, "the good call's verdict")
        assert outcomes(follower) == {"ok": ("completed", "answered")}
        # Garbage, a bad Content-Length, the 1 MB body, the offer without a member,
        # the unknown Content-Type: five problems. The heartbeat is set aside.
        assert source.problems == 5
        assert ("HEARTBEAT", "not a callcenter::info event") in source.mapper.skipped.counts
        assert server.connections == 1  # none of it cost the connection
        status = hub.stats()["source"]
        assert status["kind"] == "freeswitch-esl"
        await follower.stop()


def test_a_refused_password_at_start_exits_2_with_the_servers_answer() -> None:
    with ThreadedEsl(PASSWORD, [Session()]) as server:
        done = callboard(
            "serve",
            "--port",
            "0",
            "--esl",
            f"127.0.0.1:{server.port}",
            env={**os.environ, "CALLBOARD_ESL_PASSWORD": "wrong"},
            timeout=60,
        )
    assert done.returncode == 2, done.stderr
    assert (
        f"FreeSWITCH at 127.0.0.1:{server.port} refused the password: -ERR invalid" in done.stderr
    )
    assert server.commands == ["auth wrong"]


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--esl", "127.0.0.1"], {}, "--esl needs the event socket's password"),
        (["--esl", "127.0.0.1:99999"], {}, "port '99999' is not between 1 and 65535"),
        (["--esl-password-file", "/dev/null"], {}, "is empty"),
        (["--esl", "h", "--simulate"], {}, "not allowed with argument"),
        (
            ["--esl", "127.0.0.1:1"],
            {"CALLBOARD_ESL_PASSWORD": "pw\napi shutdown"},
            "the event socket's password holds a line break",
        ),
    ],
)
def test_esl_option_mistakes_are_usage_errors(
    args: list[str], env: dict[str, str], message: str
) -> None:
    environ = {k: v for k, v in os.environ.items() if k != "CALLBOARD_ESL_PASSWORD"}
    done = callboard("serve", *args, env={**environ, **env}, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr


def test_serve_on_esl_publishes_to_a_subscriber(serve: StartServe, tmp_path: Path) -> None:
    password_file = tmp_path / "esl-password"
    password_file.write_text(PASSWORD + "\n")
    with ThreadedEsl(PASSWORD, [Session(call_answered("cli", 0))]) as server:
        address = f"127.0.0.1:{server.port}"
        process = serve(
            ["--port", "0", "--esl", address, "--esl-password-file", str(password_file)]
        )
        assert PASSWORD not in " ".join(map(str, process.proc.args))  # type: ignore[arg-type]
        tail = start_callboard(
            "tail", process.url, "--since", "0", stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        try:
            assert tail.stdout is not None
            ready, _, _ = select.select([tail.stdout], [], [], DEADLINE)
            assert ready, "no verdict from tail"
            record = json.loads(tail.stdout.readline())
        finally:
            tail.kill()
            tail.wait(DEADLINE)
        assert (record["call_id"], record["outcome"]) == ("cli", "completed")
        assert server.logins == 2  # serve's check at start, then the source's session
