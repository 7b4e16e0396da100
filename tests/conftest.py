"""Fixtures that several test modules share: a running hub, `callboard serve` processes, logs.

Each fixture is the set-up a test would otherwise write by hand, with its clean-up
(a hub stopped, a serve process killed) done even when the test fails. The helpers
the fixtures use, and every plain helper, live in the tests/*_support.py modules
and are imported from there by name: pytest advises against importing from a conftest.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.feed.hub import Hub, running_hub
from tests.cli_support import ROOT
from tests.hub_support import (
    ServeProcess,
    StartServe,
    make_calls,
    rule_fixture_log,
    write_log,
)
from tests.nats_support import NatsServer


@pytest.fixture(autouse=True)
def own_user_directories(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test (and every callboard it starts) has empty user config and state directories
    of its own: no callboard.toml or saved board choices of the machine's user, or of
    another test, changes what a test sees (platformdirs reads the XDG variables)."""
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.delenv("CALLBOARD_CONFIG", raising=False)


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    """An in-process hub with the default settings on a free loopback port, stopped after
    the test (a test that needs other settings starts its own with `running_hub(config)`)."""
    async with running_hub() as started:
        yield started


@pytest.fixture
def serve() -> Iterator[StartServe]:
    """Start `callboard serve ARGS` (ServeProcess's arguments) as often as a test needs;
    every process still running when the test ends is killed, passed or failed."""
    started: list[ServeProcess] = []

    def start(
        args: list[str],
        env: dict[str, str] | None = None,
        preexec_fn: Callable[[], None] | None = None,
        nofile: int | None = None,
    ) -> ServeProcess:
        process = ServeProcess(args, env, preexec_fn, nofile)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.kill()


@pytest.fixture
def rules_log(tmp_path: Path) -> Path:
    """Every per-rule fixture log, concatenated into one real file (`rule_fixture_log`)."""
    return rule_fixture_log(tmp_path)


@pytest.fixture
def calls_log(tmp_path: Path) -> Callable[[int], Path]:
    """`calls_log(n)`: a real log of `make_calls(n)` (n answered calls) in tmp_path."""

    def write(n_calls: int) -> Path:
        return write_log(tmp_path / "log.jsonl", make_calls(n_calls))

    return write


@pytest.fixture
def self_signed_cert(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files), made by openssl:
    for the hub's wss, the webhook receiver's https, `callboard web` and AMI over TLS."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A real nats-server with JetStream on a free loopback port, its store in tmp_path
    (`tests.nats_support.NatsServer`: it can be killed and started again on that store)."""
    server = NatsServer(tmp_path / "nats")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bench_smoke(tmp_path: Path) -> Callable[[str], dict[str, Any]]:
    """Run one figure of `python -m bench --smoke` in a child process, as CI does; its
    result (the figure's entry in the results file). A crashed figure fails the test."""

    def run(key: str) -> dict[str, Any]:
        out = tmp_path / f"bench-{key}.json"
        done = subprocess.run(
            [sys.executable, "-m", "bench", "--smoke", "--only", key, "--out", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        (figure,) = json.loads(out.read_text())["figures"]
        assert figure["key"] == key
        return dict(figure)

    return run
