"""The simulator: deterministic, well-formed, complete, endless when asked, paced when live."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import pty
import re
import select
import subprocess
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifier.rules import ALL_REASONS
from classifier.schema import AgentAnswered, CallEnded, CallStarted, parse_event
from classifier.tracker import CallTracker, Result
from monitor.cli import main
from monitor.sim.config import DEFAULT_START, SimConfig, demo_config, heavy_config
from monitor.sim.flows import RECEPTION
from monitor.sim.live import live_events
from monitor.sim.model import simulate
from monitor.sim.rota import shift_length, shift_starts
from tests.cli_support import ROOT, callboard, loaded_packages, start_callboard
from tests.sim_support import IMPOSSIBLE

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")


@pytest.mark.slow
def test_same_seed_gives_byte_identical_output(tmp_path: Path) -> None:
    args = ("simulate", "--hours", "1", "--seed", "7", "--agents", "20")
    first = callboard(*args, "-o", str(tmp_path / "a.jsonl"))
    second = callboard(*args)  # stdout this time
    packed = [callboard(*args, "-o", str(tmp_path / f"{n}.jsonl.gz")) for n in "xy"]
    other = callboard("simulate", "--hours", "1", "--seed", "8", "--agents", "20")
    for done in (first, second, *packed, other):
        assert done.returncode == 0, done.stderr
    data = (tmp_path / "a.jsonl").read_text()
    assert len(data.splitlines()) > 1000
    assert second.stdout == data
    assert (tmp_path / "x.jsonl.gz").read_bytes() == (tmp_path / "y.jsonl.gz").read_bytes()
    assert gzip.decompress((tmp_path / "x.jsonl.gz").read_bytes()).decode() == data
    assert other.stdout != data


def test_stdout_holds_only_events_in_time_order_with_rfc3339_stamps() -> None:
    done = callboard("simulate", "--hours", "1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines
    previous = None
    for line in lines:
        event = parse_event(line)
        stamp = json.loads(line)["ts"]
        assert RFC3339.match(stamp) and stamp.endswith("+01:00"), stamp
        assert previous is None or event.ts >= previous
        previous = event.ts
    # A short run off a terminal says nothing at all on stderr.
    assert done.stderr == ""


def test_a_run_closes_every_call_and_classifies_cleanly() -> None:
    config = SimConfig(hours=3, seed=11, calls_per_hour=400)
    tracker = CallTracker()
    started: Counter[str] = Counter()
    ended: Counter[str] = Counter()
    for event in simulate(config):
        applied = tracker.apply(event)
        assert applied.result is Result.APPLIED, applied.problem
        assert not applied.warnings, applied.warnings
        if isinstance(event, CallStarted):
            started[event.call_id] += 1
        elif isinstance(event, CallEnded):
            ended[event.call_id] += 1
            assert applied.verdict is not None
            verdict = applied.verdict
            assert f"{verdict.outcome}/{verdict.reason}" == event.truth, event.call_id
    assert started == ended and set(started.values()) == {1}
    assert len(tracker) == 0


def test_another_seed_also_covers_every_possible_reason_in_a_day() -> None:
    config = SimConfig(
        agents=40,
        calls_per_hour=790,
        hours=24,
        seed=2,
        start=DEFAULT_START.replace(hour=0),
    )
    truths = Counter(e.truth for e in simulate(config) if isinstance(e, CallEnded))
    reasons = {str(t).split("/")[1] for t in truths}
    assert reasons == set(ALL_REASONS) - set(IMPOSSIBLE)


def test_an_endless_run_keeps_working_day_after_day() -> None:
    config = SimConfig(agents=6, calls_per_hour=40, hours=None, seed=3)
    login_days: set[str] = set()
    call_days: set[str] = set()
    limit = config.start + timedelta(days=2, hours=12)
    for event in simulate(config):
        if event.ts > limit:
            break
        day = event.ts.date().isoformat()
        if event.type == "agent.status" and event.reason == "login":  # type: ignore[union-attr]
            login_days.add(day)
        if isinstance(event, CallStarted) and not event.after_hours:
            call_days.add(day)
    assert len(login_days) == 3 and len(call_days) == 3


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--agents", "0"], "--agents"),
        (["--hours", "-1"], "--hours"),
        (["--queues", "sales,,billing"], "--queues"),
        (["--queues", "a,a"], "repeat"),
        (["--queue-weights", "1,2"], "one weight per queue"),
        (["--queue-weights", "1,x,2"], "--queue-weights"),
        (["--exotel-share", "1.5"], "between 0 and 1"),
        (["--calls-per-hour", "lots"], "not a number"),
        (["--start", "2025-01-01T00:00:00"], "offset"),
        (["--business-hours", "20:00-08:00"], "before closing"),
        (["--speed", "2"], "--live"),
        (["--warmup", "60"], "--live"),
        (["--id-prefix", "p" * 200], "prefix"),
        (["--queues", "q" * 300], "at most 256"),
        (["--live", "--speed", "0"], "--speed"),
        (["-o", "/no/such/dir/x.jsonl"], "no such directory"),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # In-process (the same `main` the console script runs): seventeen interpreter
    # start-ups would cost more than the rest of these tests.
    try:
        status = main(["simulate", *args])
    except SystemExit as exc:  # argparse rejects a value before our code runs
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert status == 2, err
    assert out == ""
    assert "error" in err and says in err, err


def test_the_model_imports_nothing_of_asyncio_textual_or_websockets() -> None:
    pure = sorted(
        f"monitor.sim.{p.stem}"
        for p in (ROOT / "monitor" / "sim").glob("*.py")
        if p.stem not in ("__init__", "live")
    )
    assert "monitor.sim.model" in pure
    assert loaded_packages(pure, ("asyncio", "textual", "websockets")) == ""


def _in_progress_at(config: SimConfig, hours: tuple[float, ...]) -> tuple[list[int], set[str]]:
    """The simulated calls in progress at each of `hours` into the simulation, and the
    agents who answered a call before the last."""
    in_progress = 0
    marks = [config.start + timedelta(hours=h) for h in hours]
    seen = []
    agents: set[str] = set()
    for event in simulate(config):
        if event.ts > marks[0]:
            seen.append(in_progress)
            marks.pop(0)
            if not marks:
                break
        if isinstance(event, CallStarted):
            in_progress += 1
        elif isinstance(event, CallEnded):
            in_progress -= 1
        elif isinstance(event, AgentAnswered):
            agents.add(event.agent)
    return seen, agents


@pytest.mark.slow
def test_heavy_config_holds_thousands_of_calls_in_progress() -> None:
    seen, _ = _in_progress_at(heavy_config(in_progress=5000), (1.5, 3))
    assert all(4500 <= n <= 5500 for n in seen), seen


def test_heavy_config_with_fewer_agents_than_calls_holds_the_rest_in_the_queue() -> None:
    # Issue 16's floor, a tenth of it: 200 agents, 500 calls in progress.
    config = heavy_config(in_progress=500, agents=200)
    seen, agents = _in_progress_at(config, (1.5, 3))
    assert all(450 <= n <= 550 for n in seen), seen
    # Every agent answers calls (the front desk, outside the queues, as well).
    assert config.agents == 200 and len(agents - {RECEPTION}) == 200


@pytest.mark.slow
def test_the_heavy_preset_with_agents_keeps_the_calls_they_cannot_take_waiting() -> None:
    # Six minutes of the heavy centre with 200 agents: the calls beyond them wait
    # (about 1,300 at once by the end); with queue timeouts they went at about 400.
    done = callboard("simulate", "--preset", "heavy", "--agents", "200", "--hours", "0.1", "-q")
    assert done.returncode == 0, done.stderr
    in_progress = peak = 0
    for line in done.stdout.splitlines():
        kind = json.loads(line)["type"]
        in_progress += (kind == "call.started") - (kind == "call.ended")
        peak = max(peak, in_progress)
    assert peak > 1000


async def test_live_events_are_restamped_to_the_wall_clock_and_never_early() -> None:
    config = SimConfig(agents=8, calls_per_hour=600, hours=0.05, seed=5, warmup_s=60)
    speed = 600.0
    expected = list(simulate(config))
    loop = asyncio.get_running_loop()
    began = loop.time()
    wall = datetime.now().astimezone()
    got = [(event, loop.time()) async for event in live_events(config, speed)]
    assert len(got) == len(expected)
    warm = 0
    for (live, arrived), simulated in zip(got, expected, strict=True):
        assert live.model_copy(update={"ts": simulated.ts}) == simulated
        offset = ((simulated.ts - config.start).total_seconds() - config.warmup_s) / speed
        # Stamped with the wall clock at the moment the event is due.
        assert abs((live.ts - wall).total_seconds() - offset) < 60
        if offset < 0:
            warm += 1
            assert live.ts < wall + timedelta(seconds=60)
        else:
            # Paced: never handed out before it is due.
            assert arrived >= began + offset - 0.05
    assert warm > 0


async def test_live_events_runs_past_the_first_day_when_endless() -> None:
    config = demo_config()
    assert config.hours is None
    first = None
    count = 0
    async for event in live_events(config, speed=1e6):
        count += 1
        if isinstance(event, CallStarted):
            first = first or event.ts
            if (event.ts - first).total_seconds() * 1e6 > 30 * 3600:
                break
    assert count > 1000


async def test_live_events_refuses_a_speed_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="speed"):
        async for _ in live_events(SimConfig(), speed=0):
            pass


def test_live_command_writes_events_stamped_now() -> None:
    before = datetime.now().astimezone()
    done = callboard(
        "simulate", "--live", "--speed", "1200", "--hours", "0.05", "--agents", "6", "-q"
    )
    assert done.returncode == 0, done.stderr
    events = [parse_event(line) for line in done.stdout.splitlines()]
    assert events
    assert all(abs((e.ts - before).total_seconds()) < 3600 for e in events)


def test_the_rota_staffs_in_proportion_to_traffic() -> None:
    config = SimConfig(agents=40, start=DEFAULT_START.replace(hour=0))
    hourly = config.hourly_profile()
    starts = shift_starts(config.agents, config.opens, config.closes, hourly)
    length = shift_length(config.opens, config.closes)

    def staff(hour: float) -> int:
        return sum(1 for s in starts if s <= hour < s + length)

    assert len(starts) == 40 and min(starts) >= config.opens - 0.25
    assert max(s + length for s in starts) <= config.closes + 0.25
    # The morning peak gets more people than the evening, roughly as traffic says.
    per_call = {h: staff(h + 0.5) / hourly[h] for h in (8, 10, 17, 19)}
    assert staff(10.5) > staff(19.5) > 0
    assert max(per_call.values()) < 2.5 * min(per_call.values()), per_call
    # Flat traffic: the starts spread out instead of piling up at opening time.
    assert len(set(shift_starts(40, 8, 20, (1.0,) * 24))) > 1


def test_a_terminal_gets_a_progress_bar_and_a_summary(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    target = tmp_path / "day.jsonl.gz"
    with start_callboard(
        "simulate",
        "--hours",
        "12",
        "-o",
        str(target),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
    ) as process:
        os.close(terminal)
        seen = b""
        while True:
            ready, _, _ = select.select([controller], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # the terminal closed with the process
                    break
                if not chunk:
                    break
                seen += chunk
            elif process.poll() is not None:
                break
        assert process.wait(timeout=120) == 0
    os.close(controller)
    text = seen.decode(errors="replace")
    assert "simulated time" in text  # the progress bar
    assert "completed/answered" in text and "events" in text  # the summary
    assert gzip.decompress(target.read_bytes()).count(b"\n") > 1000


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    agents=st.integers(1, 12),
    queues=st.integers(1, 4),
    rate=st.sampled_from([5.0, 60.0, 240.0]),
    outbound=st.sampled_from([0.0, 0.3, 1.0]),
    exotel=st.sampled_from([0.0, 0.5, 1.0]),
    exotel_outbound=st.sampled_from([0.0, 1.0]),
    hours=st.sampled_from([(8.0, 20.0), (0.0, 24.0), (9.5, 10.5)]),
    start_hour=st.sampled_from([0, 7, 19]),
    profile=st.sampled_from(["daily", "flat"]),
)
def test_any_centre_gives_calls_classify_agrees_with(
    seed: int,
    agents: int,
    queues: int,
    rate: float,
    outbound: float,
    exotel: float,
    exotel_outbound: float,
    hours: tuple[float, float],
    start_hour: int,
    profile: str,
) -> None:
    config = SimConfig(
        agents=agents,
        queues=tuple(f"q{i}" for i in range(queues)),
        calls_per_hour=rate,
        hours=2,
        seed=seed,
        start=DEFAULT_START.replace(hour=start_hour),
        opens=hours[0],
        closes=hours[1],
        profile=profile,
        outbound_share=outbound,
        exotel_share=exotel,
        exotel_outbound_share=exotel_outbound,
    )
    tracker = CallTracker()
    previous = None
    for event in simulate(config):
        assert previous is None or event.ts >= previous
        previous = event.ts
        applied = tracker.apply(event)
        assert applied.result is Result.APPLIED, applied.problem
        if applied.verdict is not None:
            verdict = applied.verdict
            assert f"{verdict.outcome}/{verdict.reason}" == event.truth, (  # type: ignore[union-attr]
                event.call_id,
                [e.to_json() for e in applied.call.events],  # type: ignore[union-attr]
            )
    assert len(tracker) == 0
