"""A live Asterisk (scripted on loopback, replaying real recordings) feeding a real hub.

`tests/ami_support.ScriptedPbx` speaks AMI over TCP: banner, Login, Ping, the
re-sync actions answered from the PBX's state, the recorded events as CRLF text.
The hub, its `AmiSource` and a websocket subscriber are the real ones; `serve --ami`
runs as a subprocess where the command line matters.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import ssl
from collections import Counter
from pathlib import Path

import pytest

from monitor.feed.client import FeedClient
from monitor.feed.hub import running_hub
from monitor.sources.ami_client import AmiConfig, AmiSource
from tests.ami_support import QUEUE_RECORDINGS, ScriptedPbx, all_queue_events
from tests.cli_support import callboard
from tests.hub_support import Follower, wait_for

CALLS = len(QUEUE_RECORDINGS)


def _config(port: int, secret: str = "s3cret", ping: float = 20.0) -> AmiConfig:
    return AmiConfig(
        host="127.0.0.1",
        port=port,
        user="callboard",
        secret=secret,
        ping_interval=ping,
        ping_timeout=ping / 2,
        backoff_min=0.05,
        backoff_max=0.2,
    )


def _expected() -> Counter[tuple[str, str]]:
    return Counter(QUEUE_RECORDINGS.values())


async def test_real_recordings_reach_a_subscriber_through_the_hub() -> None:
    problems: list[str] = []
    async with ScriptedPbx(all_queue_events()) as pbx, running_hub() as hub:
        subscriber = Follower(FeedClient(hub.url, backoff_initial=0.05, backoff_max=0.2))
        source = AmiSource(_config(pbx.port), on_problem=problems.append)
        hub.attach_source(source)
        await wait_for(lambda: len(subscriber.verdicts) >= CALLS, "every call's verdict")
        await subscriber.stop()
    outcomes = Counter((v["outcome"], v["reason"]) for v in subscriber.verdicts)
    assert outcomes == _expected()
    assert pbx.logins == 1 and pbx.resyncs == 1
    assert problems == [] and source.problems == 0
    # The chatty events were dropped and counted, not mapped or reported.
    assert source.mapper.dropped("Newchannel") > 0 and source.mapper.dropped("Hangup") > 0


#: (cut after event N, events the PBX goes on with unheard) and what the re-sync must do.
#: Event 10 rings the first call, 21 connects it, 34/36 end it; 176 rings the fourth,
#: 199 transfers it; 264 is the fifth call's abandon.
CUTS = {
    "while it rings": (15, 0, 0),
    "before it joined, ringing unheard": (5, 8, 1),  # learned from QueueStatus
    "while it talks, its end unheard": (30, 10, 0),  # ended from CoreShowChannels
    "between two calls": (88, 0, 0),
    "during a transfer": (190, 0, 0),
    "just before an abandon": (262, 0, 0),
}


@pytest.mark.parametrize("case", CUTS)
async def test_a_cut_connection_heals_and_no_call_is_lost_or_counted_twice(case: str) -> None:
    cut, gap, resynced = CUTS[case]
    events = all_queue_events()
    problems: list[str] = []
    async with ScriptedPbx(events, drop_after=[cut], gap=gap) as pbx, running_hub() as hub:
        subscriber = Follower(FeedClient(hub.url, backoff_initial=0.05, backoff_max=0.2))
        source = AmiSource(_config(pbx.port), on_problem=problems.append)
        hub.attach_source(source)
        await wait_for(lambda: pbx.finished, "the whole script to be played")
        await wait_for(
            lambda: len(subscriber.verdicts) >= CALLS and not hub.tracker.calls,
            "every call to end",
        )
        await asyncio.sleep(0.2)  # anything counted twice would arrive by now
        await subscriber.stop()
    ids = Counter(v["call_id"] for v in subscriber.verdicts)
    assert len(ids) == CALLS and set(ids.values()) == {1}, ids
    assert Counter((v["outcome"], v["reason"]) for v in subscriber.verdicts) == _expected()
    assert pbx.logins == 2 and pbx.resyncs == 2 and source.resynced == resynced
    assert source.problems == 1 and "reconnecting" in problems[0], problems
    # The subscriber was told the link was down, and then that it was back.
    details = [s.detail for s in subscriber.statuses if s.state == "running"]
    assert any(d and d.startswith("reconnecting to AMI 127.0.0.1:") for d in details), details
    assert details[-1] is None


async def test_a_stalled_pbx_is_pinged_then_left_and_reconnected() -> None:
    problems: list[str] = []
    async with ScriptedPbx(all_queue_events(), stall_after=40) as pbx, running_hub() as hub:
        subscriber = Follower(FeedClient(hub.url, backoff_initial=0.05, backoff_max=0.2))
        source = AmiSource(_config(pbx.port, ping=0.3), on_problem=problems.append)
        hub.attach_source(source)
        await wait_for(lambda: len(subscriber.verdicts) >= CALLS, "every call's verdict")
        await subscriber.stop()
    assert pbx.logins == 2
    assert any("no answer to Ping" in p for p in problems), problems
    assert len({v["call_id"] for v in subscriber.verdicts}) == CALLS


async def test_serve_exits_2_with_the_pbx_message_when_the_login_is_refused(
    tmp_path: Path,
) -> None:
    async with ScriptedPbx([], secret="right") as pbx:
        secret = tmp_path / "secret"
        secret.write_text("wrong\n")
        proc = await asyncio.create_subprocess_exec(
            *_serve_command(pbx.port, "--ami-secret-file", str(secret)),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if k != "CALLBOARD_AMI_SECRET"},
        )
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert pbx.refused == 1
    assert proc.returncode == 2
    assert "login as 'callboard' refused: Authentication failed" in err.decode()


def test_serve_ami_needs_a_user_and_a_secret_not_on_the_command_line() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CALLBOARD_AMI_SECRET"}
    done = callboard("serve", "--ami", "127.0.0.1:1", "--ami-user", "cb", env=env)
    assert done.returncode == 2 and "CALLBOARD_AMI_SECRET" in done.stderr
    done = callboard("serve", "--ami", "127.0.0.1:1", env=env)
    assert done.returncode == 2 and "--ami-user" in done.stderr
    done = callboard("serve", "--ami", "127.0.0.1:99999", "--ami-user", "cb", env=env)
    assert done.returncode == 2 and "between 1 and 65535" in done.stderr


def _serve_command(port: int, *extra: str) -> list[str]:
    from tests.cli_support import callboard_command

    return callboard_command(
        "serve", "--port", "0", "--ami", f"127.0.0.1:{port}", "--ami-user", "callboard", *extra
    )


async def test_bad_input_from_the_pbx_is_counted_and_the_hub_keeps_serving() -> None:
    problems: list[str] = []
    async with ScriptedPbx(all_queue_events()) as pbx, running_hub() as hub:
        pbx.extra = [
            b"Event: VarSet\r\nUniqueid: 1.1\r\nValue: " + b"x" * 1_000_000 + b"\r\n\r\n",
            b"Event: SomethingNew\r\nUniqueid: 1.2\r\n\r\n",
            b"Event: AgentComplete\r\nUniqueid: never.seen\r\nReason: caller\r\n\r\n",
            b"Event: QueueCallerJoin\r\nnot a header line\r\nQueue: sales\r\n\r\n",
        ]
        subscriber = Follower(FeedClient(hub.url, backoff_initial=0.05, backoff_max=0.2))
        source = AmiSource(_config(pbx.port), on_problem=problems.append)
        hub.attach_source(source)
        await wait_for(lambda: len(subscriber.verdicts) >= CALLS, "every call's verdict")
        await subscriber.stop()
    assert Counter((v["outcome"], v["reason"]) for v in subscriber.verdicts) == _expected()
    assert pbx.logins == 1  # none of it cost the connection
    assert any("a line of 1000009 bytes skipped" in p for p in problems), problems
    assert any(
        "AgentComplete: call never.seen was never seen joining a queue" in p for p in problems
    )
    assert any("QueueCallerJoin: no Uniqueid" in p for p in problems)
    assert source.mapper.dropped("SomethingNew") == 1
    assert source.problems == 3 and source.stray_lines == 1


async def test_ami_over_tls_with_the_pbx_certificate_trusted(
    self_signed_cert: tuple[Path, Path],
) -> None:
    cert, key = self_signed_cert
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    async with ScriptedPbx(all_queue_events(), tls=server) as pbx, running_hub() as hub:
        subscriber = Follower(FeedClient(hub.url, backoff_initial=0.05, backoff_max=0.2))
        trust = ssl.create_default_context(cafile=cert)
        hub.attach_source(AmiSource(dataclasses.replace(_config(pbx.port), tls=trust)))
        await wait_for(lambda: len(subscriber.verdicts) >= CALLS, "every call over TLS")
        await subscriber.stop()
        # serve --ami-tls without the PBX's CA: refused at start, exit 2, saying why.
        proc = await asyncio.create_subprocess_exec(
            *_serve_command(pbx.port, "--ami-tls"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "CALLBOARD_AMI_SECRET": "s3cret"},
        )
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert Counter((v["outcome"], v["reason"]) for v in subscriber.verdicts) == _expected()
    assert proc.returncode == 2 and "CERTIFICATE_VERIFY_FAILED" in err.decode()
