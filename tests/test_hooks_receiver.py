"""The webhook receiver's doors: the hooks key, body limits, counters on /health, and serve.

Real HTTP to a real receiver and hub; `callboard serve --hooks` as a real process.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from monitor.feed.client import FeedClient
from monitor.feed.hub import HubConfig, running_hub
from monitor.hooks.config import HooksConfig, is_loopback
from monitor.hooks.server import AMAZON_PATH, EXOTEL_PATH, HookReceiver
from tests.cli_support import ROOT, callboard
from tests.hooks_support import KEY, hooks_hub
from tests.hub_support import (
    DEADLINE,
    Follower,
    ServeProcess,
    StartServe,
    free_port,
    get_health,
    wait_for,
    wait_for_sync,
)

PASSTHRU = {
    "CallSid": "door-1",
    "From": "09999000111",
    "Direction": "incoming",
    "StartTime": "2026-12-05 20:10:00",
    "CurrentTime": "2026-12-05 20:11:30",
    "DialCallStatus": "busy",
}


async def test_the_hooks_key_is_needed_by_query_or_basic_auth() -> None:
    async with hooks_hub() as hooks:
        query = "?" + urlencode(PASSTHRU)
        bare = hooks.receiver.base_url + EXOTEL_PATH + query
        assert (await hooks.http.get(bare)).status == 403
        assert (await hooks.http.get(bare + "&key=wrong")).status == 403
        basic = {"Authorization": aiohttp.encode_basic_auth("exotel", "wrong")}
        assert (await hooks.http.get(bare, headers=basic)).status == 403
        assert hooks.hub.seq == 0
        ok = {"Authorization": aiohttp.encode_basic_auth("exotel", KEY)}
        assert (await hooks.http.get(bare, headers=ok)).status == 200
        await hooks.settled()
        assert hooks.hub.seq == 2
        health = await get_health(hooks.hub.base_url)
        assert health["hooks"]["unauthorized"] == 3 and health["hooks"]["queued"] == 1
        assert health["hooks"]["received"] == 4


async def test_bodies_over_the_limit_are_413_with_or_without_a_length() -> None:
    async with hooks_hub(max_body=1024) as hooks:
        url = hooks.url(EXOTEL_PATH)
        big = {**PASSTHRU, "CustomField": "x" * 2000}
        assert (await hooks.http.post(url, json=big)).status == 413

        async def chunks():  # no Content-Length: the limit holds while reading
            for _ in range(4):
                yield b"CustomField=" + b"x" * 500 + b"&"

        response = await hooks.http.post(
            url, data=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert response.status == 413
        assert hooks.hub.stats()["hooks"]["too_large"] == 2
        assert hooks.hub.seq == 0


async def test_malformed_bodies_are_400_naming_the_field() -> None:
    async with hooks_hub() as hooks:
        url = hooks.url(EXOTEL_PATH)
        cases = {
            "Direction": PASSTHRU | {"Direction": "sideways"},
            "StartTime": PASSTHRU | {"StartTime": "yesterday", "CurrentTime": "today"},
            "DialCallStatus": PASSTHRU | {"DialCallStatus": "exploded"},
            "CallSid": {k: v for k, v in PASSTHRU.items() if k != "CallSid"},
        }
        for field, params in cases.items():
            response = await hooks.http.post(url, data=params)
            assert response.status == 400
            assert field in (await response.json())["error"], field
        response = await hooks.http.post(
            url, data=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert response.status == 400 and "not JSON" in (await response.json())["error"]
        response = await hooks.http.post(
            hooks.url(AMAZON_PATH),
            data=b"[1, 2]",
            headers={"X-Callboard-Secret": "test-amazon-secret"},
        )
        assert response.status == 400 and "JSON object" in (await response.json())["error"]
        assert hooks.hub.stats()["hooks"]["malformed"] == 6
        assert hooks.hub.seq == 0


def test_only_loopback_may_go_without_a_key() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    assert HooksConfig(host="0.0.0.0").problem() is not None
    assert HooksConfig(host="0.0.0.0", key="k").problem() is None


@pytest.mark.slow
def test_serve_refuses_hooks_off_loopback_without_a_key() -> None:
    done = callboard("serve", "--hooks", "0.0.0.0:0", env={**os.environ, "CALLBOARD_HOOKS_KEY": ""})
    assert done.returncode == 2
    assert "needs a hooks key" in done.stderr
    done = callboard("serve", "--hooks-public-url", "https://example.com")
    assert done.returncode == 2 and "needs --hooks" in done.stderr


@pytest.mark.slow
def test_serve_with_hooks_takes_a_passthru_and_shows_counters() -> None:
    port, hooks_port = free_port(), free_port()
    serve = ServeProcess(
        ["--port", str(port), "--hooks", f":{hooks_port}"],
        env={"CALLBOARD_HOOKS_KEY": KEY},
    )
    try:
        url = f"http://127.0.0.1:{hooks_port}{EXOTEL_PATH}?key={KEY}&" + urlencode(PASSTHRU)

        def delivered() -> bool:
            try:
                with urllib.request.urlopen(url, timeout=DEADLINE) as response:
                    return bool(response.status == 200)
            except urllib.error.URLError:
                return False  # the receiver starts just after the hub

        wait_for_sync(delivered, "the receiver to answer")

        def health() -> dict[str, int]:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=DEADLINE) as r:
                return dict(json.loads(r.read())["hooks"])

        wait_for_sync(lambda: health()["events_accepted"] == 2, "the call to reach the hub")
        forged = f"http://127.0.0.1:{hooks_port}{EXOTEL_PATH}?" + urlencode(PASSTHRU)
        try:
            urllib.request.urlopen(forged, timeout=DEADLINE)
            raise AssertionError("a delivery without the key was answered")
        except urllib.error.HTTPError as exc:
            assert exc.code == 403
        assert health()["unauthorized"] == 1
        basic = base64.b64encode(f"x:{KEY}".encode()).decode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{hooks_port}{EXOTEL_PATH}",
            data=urlencode(PASSTHRU | {"CallSid": "door-2"}).encode(),
            headers={"Authorization": f"Basic {basic}"},
        )
        with urllib.request.urlopen(request, timeout=DEADLINE) as response:
            assert response.status == 200
        wait_for_sync(lambda: health()["events_accepted"] == 4, "the second call")
    finally:
        assert serve.terminate() == 0, serve.drain()
    assert "webhooks on http://127.0.0.1:" in serve.drain()


async def test_webhooks_over_tls_with_the_hub_s_certificate(
    self_signed_cert: tuple[Path, Path],
) -> None:
    cert, key = self_signed_cert
    async with hooks_hub(tls_cert=cert, tls_key=key) as hooks:
        assert hooks.receiver.base_url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(cert))
        response = await hooks.http.post(hooks.url(EXOTEL_PATH), data=PASSTHRU, ssl=context)
        assert response.status == 200
        await hooks.settled()
        assert hooks.hub.seq == 2
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await hooks.http.post(hooks.url(EXOTEL_PATH), data=PASSTHRU)


async def test_a_full_queue_answers_503_and_applies_nothing() -> None:
    async with hooks_hub(max_pending=0) as hooks:
        response = await hooks.http.post(hooks.url(EXOTEL_PATH), data=PASSTHRU)
        assert response.status == 503 and "retry" in (await response.json())["error"]
        assert hooks.hub.stats()["hooks"]["busy"] == 1
        assert hooks.hub.seq == 0


async def test_a_port_in_use_is_an_error_naming_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with running_hub(HubConfig(port=0)) as hub:
            receiver = HookReceiver(hub, HooksConfig(port=port))
            with pytest.raises(OSError, match=str(port)):
                await receiver.start()
            await receiver.stop()
            assert hub.hooks is None


def test_building_the_command_line_does_not_load_the_receiver() -> None:
    # Every command builds serve's parser; aiohttp and twilio cost a third of a second.
    code = (
        "import sys\n"
        "from monitor.cli import build_parser\n"
        "build_parser()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aiohttp', 'twilio')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "[]"


async def test_the_answer_comes_before_the_hub_applies() -> None:
    async with hooks_hub() as hooks:
        url = hooks.url(EXOTEL_PATH) + "&" + urlencode(PASSTHRU)
        # A blocking request from the hub's own thread: the hub's loop cannot run until
        # it returns, so whatever answers it answered before anything was applied.
        with urllib.request.urlopen(url, timeout=DEADLINE) as response:
            assert response.status == 200
            assert json.loads(response.read()) == {"queued": 2}
        assert hooks.hub.seq == 0
        assert hooks.receiver.counters["pending"] == 1
        await hooks.settled()
        assert hooks.hub.seq == 2
        assert hooks.hub.stats()["hooks"]["pending"] == 0


async def test_vendor_routes_without_their_secret_configured_refuse_everything() -> None:
    async with hooks_hub(twilio_token=None, amazon_secret=None) as hooks:
        response = await hooks.http.post(
            hooks.url("/hooks/twilio/voice"),
            data={"CallSid": "CA1"},
            headers={"X-Twilio-Signature": "anything"},
        )
        assert response.status == 403
        assert "CALLBOARD_TWILIO_AUTH_TOKEN" in (await response.json())["error"]
        response = await hooks.http.post(
            hooks.url(AMAZON_PATH), json={}, headers={"X-Callboard-Secret": ""}
        )
        assert response.status == 403
        assert "CALLBOARD_AMAZON_SECRET" in (await response.json())["error"]
        assert hooks.hub.stats()["hooks"]["unauthorized"] == 2


async def test_a_burst_of_concurrent_deliveries_is_all_applied() -> None:
    # The receiver wakes the applier once per burst, not once per delivery: deliveries
    # that arrive while it drains, or while a wake-up is on its way, must still be
    # applied (none left waiting for a wake-up that never comes).
    count = 400
    async with hooks_hub() as hooks:
        limit = asyncio.Semaphore(50)

        async def deliver(i: int) -> int:
            async with limit:
                params = urlencode(PASSTHRU | {"CallSid": f"burst-{i}"})
                async with hooks.http.get(hooks.url(EXOTEL_PATH) + "&" + params) as response:
                    return response.status

        statuses = await asyncio.gather(*(deliver(i) for i in range(count)))
        assert statuses == [200] * count
        await hooks.settled()
        assert hooks.hub.seq == 2 * count  # a start and an end each
        health = hooks.hub.stats()["hooks"]
        assert health["queued"] == count and health["pending"] == 0
        assert len(hooks.follower.verdicts) == count


def readme_receiver_example() -> list[str]:
    """The README's webhook example ("Live from the cloud: webhooks"), one command a line."""
    text = (ROOT / "README.md").read_text()
    section = text.split("### Live from the cloud: webhooks", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    joined = block.replace("\\\n", " ")
    return [line for line in joined.splitlines() if line.strip() and not line.startswith("#")]


async def test_the_readme_receiver_example_is_true(serve: StartServe) -> None:
    # Its commands as written, on free ports instead of 8765 and 8780 (the machine is
    # shared); the board is a real subscriber here, the curls run in bash.
    export, start, watch, post, health = readme_receiver_example()
    key = export.split("CALLBOARD_HOOKS_KEY=", 1)[1].split()[0]
    assert start.split("#")[0].split() == ["callboard", "serve", "--hooks", ":8780"]
    assert watch.split("#")[0].split() == ["callboard", "watch", "ws://127.0.0.1:8765"]
    port, hooks_port = free_port(), free_port()
    hub = serve(["--port", str(port), "--hooks", f":{hooks_port}"], {"CALLBOARD_HOOKS_KEY": key})
    board = Follower(FeedClient(hub.url, max_attempts=3))

    def bash(command: str) -> str:
        command = command.replace(":8780", f":{hooks_port}").replace(":8765", f":{port}")
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=True)
        return done.stdout

    try:
        await wait_for(lambda: len(board.snapshots) == 1, "the board to join")
        await wait_for(lambda: _answers(f"http://127.0.0.1:{hooks_port}/"), "the receiver")
        assert json.loads(bash(post)) == {"queued": 4}
        await wait_for(lambda: len(board.verdicts) == 1, "the call on the board")
        verdict = board.verdicts[0]
        assert verdict["call_id"] == "exotel:c1" and verdict["outcome"] == "completed"
        assert verdict["talk_s"] == 40.0 and verdict["agents_rung"] == ["asha"]
        hooks = json.loads(bash(health))["hooks"]
        assert hooks["received"] == 1 and hooks["queued"] == 1
    finally:
        await board.stop()


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=DEADLINE).close()
    except urllib.error.HTTPError:
        return True
    except urllib.error.URLError:
        return False
    return True
