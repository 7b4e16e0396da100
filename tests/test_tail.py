"""`callboard serve` and `callboard tail` as processes: the same verdicts as `classify`,
through SIGKILLs of the hub, restarts and reconnects.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from classifier.schema import Event, parse_event
from tests.cli_support import callboard, start_callboard
from tests.hub_support import (
    DEADLINE,
    ServeProcess,
    StartServe,
    classify_cli,
    free_port,
    run_tail,
    wait_for_sync,
)


def test_serve_then_tail_since_0_prints_what_classify_prints(rules_log: Path) -> None:
    expected = classify_cli(rules_log)
    hub = ServeProcess([str(rules_log), "--port", "0", "--speed", "0"])
    try:
        done = run_tail(hub.url, "--since", "0", "--until-finished")
        events = run_tail(hub.url, "--since", "0", "--until-finished", "--events")
    finally:
        assert hub.terminate() == 0
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected
    assert "source finished at seq 168" in done.stderr
    printed = [parse_event(line) for line in events.stdout.splitlines()]
    from_file = [parse_event(line) for line in rules_log.read_text().splitlines() if line.strip()]
    assert [e.seq for e in printed] == list(range(1, len(from_file) + 1))

    def without_seq(event: Event) -> dict[str, object]:
        return {k: v for k, v in event.to_wire().items() if k != "seq"}

    assert [without_seq(e) for e in printed] == [without_seq(e) for e in from_file]
    assert "stopped at seq 168" in hub.drain()


@pytest.mark.slow
def test_hub_sigkilled_twice_mid_replay_loses_and_repeats_nothing(
    tmp_path: Path, rules_log: Path, serve: StartServe
) -> None:
    expected = classify_cli(rules_log)
    journal = tmp_path / "hub.journal"
    port = free_port()
    # Slow enough to kill in the middle: every gap between events is capped at 20 ms.
    args = [str(rules_log), "--port", str(port), "--speed", "1", "--max-gap", "0.02"]
    args += ["--journal", str(journal)]
    hub = serve(args)
    out = (tmp_path / "tail.out").open("w")
    err = (tmp_path / "tail.err").open("w")
    tail = start_callboard(
        "tail", hub.url, "--since", "0", "--until-finished", stdout=out, stderr=err
    )
    hub_ids = []
    try:
        for records in (40, 100):

            def journaled(records: int = records) -> bool:
                return len(journal.read_text().splitlines()) > records

            wait_for_sync(journaled, f"{records} journal records")
            hub.kill()
            hub_ids.append(json.loads(journal.read_text().splitlines()[0])["hub_id"])
            assert tail.poll() is None, "tail must survive the hub's death"
            hub = serve(args)
            assert f"hub {hub_ids[0]} listening" in hub.lines[-1]
        assert tail.wait(timeout=DEADLINE) == 0
        assert "resuming replay" in hub.drain()
    finally:
        if tail.poll() is None:
            tail.kill()
        hub.terminate()
        out.close()
        err.close()
    assert len(set(hub_ids)) == 1
    assert (tmp_path / "tail.out").read_text() == expected
    news = (tmp_path / "tail.err").read_text()
    assert "reconnecting" in news
    assert "joined hub" not in news  # never a snapshot: every (re)connect was a resume


def test_tail_refuses_a_wrong_token_clearly(tmp_path: Path) -> None:
    hub = ServeProcess(["--port", "0"], env={"CALLBOARD_TOKEN": "right"})
    try:
        refused = run_tail(hub.url, "--token", "wrong")
        anonymous = run_tail(hub.url, "--max-attempts", "1", "--since", "0", "--events")
    finally:
        hub.terminate()
    assert refused.returncode == 1
    assert "HTTP 401 wrong token" in refused.stderr
    # No token at all (none in the environment of this tail either).
    assert anonymous.returncode == 1
    assert "missing 'Authorization: Bearer" in anonymous.stderr


def test_tail_rejects_a_url_that_is_not_websocket() -> None:
    done = run_tail("http://127.0.0.1:1/events")
    assert done.returncode == 2
    assert "not a websocket URL" in done.stderr


def test_tail_says_when_its_cafile_cannot_be_used(tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    missing = tmp_path / "nope.pem"
    for cafile, reason in ((missing, "No such file or directory"), (not_pem, "no certificate")):
        done = run_tail("wss://127.0.0.1:1/events", "--cafile", str(cafile))
        assert done.returncode == 2
        assert f"callboard tail: error: --cafile {cafile}: " in done.stderr
        assert reason in done.stderr and "Traceback" not in done.stderr


def test_serve_stops_cleanly_on_sigint(tmp_path: Path, serve: StartServe) -> None:
    hub = serve(["--port", "0"])
    hub.proc.send_signal(signal.SIGINT)
    assert hub.proc.wait(timeout=DEADLINE) == 0
    assert "stopped at seq 0" in hub.drain()


def serve_to_the_end(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `callboard serve` with `args` and keep its output (for runs that end by themselves)."""
    return callboard("serve", *args, timeout=DEADLINE)


def test_serve_refuses_a_damaged_journal(tmp_path: Path) -> None:
    journal = tmp_path / "hub.journal"
    journal.write_text('{"journal": 1, "hub_id": "hub-x"}\nnot a record\n{}\n')
    done = serve_to_the_end("--port", "0", "--journal", str(journal))
    assert done.returncode == 2
    assert "hub.journal:2: damaged record" in done.stderr


def test_serve_usage_errors(tmp_path: Path) -> None:
    missing = serve_to_the_end(str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2
    assert "nope.jsonl: no such file" in missing.stderr
    backwards = serve_to_the_end("--port", "0", "--max-gap", "-1")
    assert backwards.returncode == 2
    assert "--max-gap must be 0 or more seconds" in backwards.stderr
