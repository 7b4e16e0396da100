"""Alert rules: raised once, cleared once, sent by the hub to a real webhook receiver.

The pure watch (classifier/alerts.py) on hand-made figures; then a real hub (in
process, and `callboard serve --config FILE` replaying a log) with a real config
file and a real HTTP receiver on loopback (tests/webhook_support.py).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from classifier.agents import AgentsDay
from classifier.alerts import (
    AlertRule,
    AlertState,
    AlertWatch,
    Metric,
    available_by_queue,
    figures_of,
)
from classifier.kpi import Kpis
from classifier.schema import parse_event
from monitor.config.hub import hub_alerts
from monitor.config.load import read_config
from monitor.feed.hub import HubConfig, running_hub
from monitor.feed.webhook import SECRET_HEADER
from tests.cli_support import callboard
from tests.hub_support import get_health
from tests.webhook_support import receiver

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LONG_WAIT = AlertRule("long wait", Metric.LONGEST_WAIT_S, above=30.0, queue="support")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def wait_figures(seconds: float) -> dict[str, dict[Metric, float | None]]:
    return {"support": {Metric.LONGEST_WAIT_S: seconds}}


def test_a_rule_raises_once_while_it_holds_and_clears_once() -> None:
    watch = AlertWatch((LONG_WAIT,))
    states = []
    for second, wait in [(0, 10), (10, 29), (20, 31), (25, 36), (30, 41), (40, 0), (50, 0)]:
        states += [
            (second, c.state, c.value) for c in watch.observe(at(second), wait_figures(wait))
        ]
    assert states == [(20, AlertState.RAISED, 31), (40, AlertState.CLEARED, 0)]


def test_for_s_waits_for_the_condition_to_hold_that_long() -> None:
    rule = AlertRule("sl low", Metric.SERVICE_LEVEL_PCT, below=80.0, for_s=60)
    watch = AlertWatch((rule,))
    sl = Metric.SERVICE_LEVEL_PCT
    seen = []
    # Breaks at 0, recovers at 30 (not raised: held 30 s), breaks again at 40, held to 100.
    for second, value in [(0, 70), (30, 85), (40, 60), (90, 65), (100, 50), (110, 90)]:
        changes = watch.observe(at(second), {"q": {sl: value}})
        seen += [(second, c.state) for c in changes]
    assert seen == [(100, AlertState.RAISED), (110, AlertState.CLEARED)]


def test_a_rule_without_a_queue_judges_each_queue_alone() -> None:
    rule = AlertRule("queue backing up", Metric.CALLS_WAITING, above=3)
    watch = AlertWatch((rule,))
    waiting = Metric.CALLS_WAITING
    changes = watch.observe(at(0), {"a": {waiting: 5}, "b": {waiting: 1}})
    assert [(c.queue, c.state) for c in changes] == [("a", AlertState.RAISED)]
    changes = watch.observe(at(1), {"a": {waiting: 5}, "b": {waiting: 4}})
    assert [(c.queue, c.state) for c in changes] == [("b", AlertState.RAISED)]
    changes = watch.observe(at(2), {"a": {waiting: 0}, "b": {waiting: 4}})
    assert [(c.queue, c.state) for c in changes] == [("a", AlertState.CLEARED)]
    # No figure (a service level before any call) never holds.
    assert not AlertRule("x", Metric.SERVICE_LEVEL_PCT, below=80).holds(None)


def test_a_queue_gone_from_the_figures_clears_with_its_last_value() -> None:
    watch = AlertWatch((AlertRule("any wait", Metric.LONGEST_WAIT_S, above=30),))
    (raised,) = watch.observe(at(0), wait_figures(45))
    assert (raised.queue, raised.state) == ("support", AlertState.RAISED)
    # A new day: no queue has figures yet. Nothing to judge, but the raised one clears.
    (cleared,) = watch.observe(at(10), {})
    assert (cleared.queue, cleared.state, cleared.value) == ("support", AlertState.CLEARED, 45)
    assert watch.observe(at(20), {}) == []


def test_the_body_is_the_issues_shape() -> None:
    watch = AlertWatch((LONG_WAIT,))
    (change,) = watch.observe(at(5), wait_figures(42))
    body = change.record()
    assert body == {
        "rule": "long wait",
        "metric": "longest_wait_s",
        "queue": "support",
        "value": 42,
        "threshold": 30.0,
        "state": "raised",
        "at": "2026-11-23T09:00:05+00:00",
        "text": "long wait: queue support longest wait 42 s is above 30 s",
    }


def waiting_log(path: Path) -> Path:
    """A caller waits 45 s in 'support' (others come and go around it), then is answered.

    Events every 2-3 s keep the hub's event clock moving; the wait passes 30 s at
    09:00:31 and ends at 09:00:46 with the answer.
    """
    lines: list[dict[str, Any]] = []

    def add(second: float, kind: str, call: str, **extra: Any) -> None:
        lines.append({"type": kind, "call_id": call, "ts": at(second).isoformat(), **extra})

    add(0, "call.started", "long", **{"from": "+14155550100"})
    add(1, "queue.entered", "long", queue="support")
    for n, start in enumerate(range(2, 70, 3)):
        call = f"short-{n}"
        add(start, "call.started", call, **{"from": "+14155550101"})
        add(start + 1, "queue.entered", call, queue="support")
        add(start + 2, "agent.answered", call, agent="Ben")
        add(start + 2.5, "call.ended", call, by="caller")
    add(46, "agent.answered", "long", agent="Ana")
    add(80, "call.ended", "long", by="caller")
    lines.sort(key=lambda line: line["ts"])
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def config_file(path: Path, url: str) -> Path:
    path.write_text(
        "[[alerts.rules]]\n"
        'name = "long wait"\n'
        'metric = "longest_wait_s"\n'
        "above = 30\n"
        'queue = "support"\n'
        "[alerts.webhook]\n"
        f'url = "{url}"\n'
        'secret = "s3cret"\n'
        "timeout_s = 2\n"
    )
    return path


@pytest.mark.slow
def test_serve_with_a_config_sends_one_raise_and_one_clear_for_a_replayed_log(
    tmp_path: Path, serve: Any
) -> None:
    with receiver() as got:
        config = config_file(tmp_path / "callboard.toml", got.url)
        log = waiting_log(tmp_path / "day.jsonl")
        hub = serve([str(log), "--port", "0", "--speed", "0", "--config", str(config)])
        bodies = got.wait_for(2)
        time.sleep(0.5)  # anything more would come right after; nothing may
        assert len(got.bodies) == 2
        raised, cleared = bodies
        assert raised["state"] == "raised" and cleared["state"] == "cleared"
        assert (raised["rule"], raised["metric"], raised["queue"]) == (
            "long wait",
            "longest_wait_s",
            "support",
        )
        assert raised["threshold"] == 30 and 30 < raised["value"] <= 33
        # Judged at least once a second of event time: the clear follows the answer at 46 s.
        cleared_at = datetime.fromisoformat(cleared["at"])
        assert datetime.fromisoformat(raised["at"]) < at(46) <= cleared_at < at(48)
        assert "longest wait" in raised["text"] and "support" in raised["text"]
        assert all(h[SECRET_HEADER] == "s3cret" for h in got.headers)
        health_url = hub.url.replace("ws://", "http://").split("/events")[0] + "/health"
        with urllib.request.urlopen(health_url, timeout=5) as response:
            health = json.loads(response.read())
        assert health["alerts"]["raised"] == 1 and health["alerts"]["cleared"] == 1
        assert health["alerts"]["webhook"]["sent"] == 2


async def test_a_failing_receiver_is_retried_counted_and_never_loses_the_clear(
    tmp_path: Path,
) -> None:
    # The receiver answers 500 twice, then 200: the raise goes on its third try.
    with receiver(statuses=[500, 500, 200]) as got:
        config = read_config(config_file(tmp_path / "c.toml", got.url))
        alerts = hub_alerts(config, backoff_s=0.05)
        async with running_hub(HubConfig(port=0, alerts=alerts)) as hub:
            for line in waiting_log(tmp_path / "day.jsonl").read_text().splitlines():
                result = hub.publish(parse_event(line))
                assert result.accepted, result.problem
            # publish never waited on the receiver: both alerts were judged already.
            health = await get_health(hub.base_url)
            assert health["alerts"]["raised"] == 1 and health["alerts"]["cleared"] == 1
            for _ in range(200):
                if len(got.bodies) == 2:
                    break
                await asyncio.sleep(0.05)
            assert [b["state"] for b in got.bodies] == ["raised", "cleared"]
            health = await get_health(hub.base_url)
            webhook = health["alerts"]["webhook"]
            assert webhook["failures"] == 2 and webhook["sent"] == 2
            assert webhook["last_problem"].startswith("HTTP 500")


async def test_a_receiver_that_hangs_never_holds_up_the_hub(tmp_path: Path) -> None:
    with receiver(hold=True) as got:
        config = read_config(config_file(tmp_path / "c.toml", got.url))
        async with running_hub(HubConfig(port=0, alerts=hub_alerts(config))) as hub:
            lines = waiting_log(tmp_path / "day.jsonl").read_text().splitlines()
            for line in lines:
                assert hub.publish(parse_event(line)).accepted
            # Every event was taken and both alerts judged while the receiver has not
            # answered the first POST: the hub never waited on it.
            health = await get_health(hub.base_url)
            assert health["seq"] == len(lines)
            assert health["alerts"]["raised"] == 1 and health["alerts"]["cleared"] == 1
            assert got.bodies == [] and health["alerts"]["webhook"]["sent"] == 0
            got.go.set()
            for _ in range(200):
                if len(got.bodies) == 2:
                    break
                await asyncio.sleep(0.05)
            assert [b["state"] for b in got.bodies] == ["raised", "cleared"]


@pytest.mark.slow
def test_alerts_test_says_what_the_receiver_answered(tmp_path: Path) -> None:
    with receiver() as got:
        config = config_file(tmp_path / "c.toml", got.url)
        run = callboard("alerts", "test", "--config", str(config))
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == f"POST {got.url}: HTTP 200: ok"
        (body,) = got.bodies
        assert body["rule"] == "callboard test alert" and body["state"] == "raised"
        assert got.headers[0][SECRET_HEADER] == "s3cret"
    with receiver(statuses=[500]) as broken:
        config = config_file(tmp_path / "c.toml", broken.url)
        run = callboard("alerts", "test", "--config", str(config))
        assert run.returncode == 1
        assert run.stdout.strip() == f"POST {broken.url}: HTTP 500: receiver broke"
    # The receiver is gone: nothing listens on its port now.
    run = callboard("alerts", "test", "--config", str(config))
    assert run.returncode == 1 and "no answer" in run.stdout


def test_agents_available_is_judged_per_queue_from_the_agents_day() -> None:
    # fixtures/agents/floor.jsonl by 09:38 (tests/test_agents_day.py works it by hand):
    # Ana and Dev available and named with sales; Cleo on a call of support; Ben offline.
    # Before, every queue was given the site's 2 available agents, so support's empty
    # floor raised nothing.
    floor = Path(__file__).parent.parent / "fixtures" / "agents" / "floor.jsonl"
    day = AgentsDay()
    for line in floor.read_text().splitlines():
        day.apply(parse_event(line))
    available = available_by_queue(day, ["sales", "support", "billing"])
    # billing: no agent was ever named with it, so it is given the site's count.
    assert available == {"sales": 2, "support": 0, "billing": 2}

    rule = AlertRule(name="nobody free", metric=Metric.AGENTS_AVAILABLE, below=1)
    watch = AlertWatch((rule,))
    kpis = Kpis(0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0, None, None, None)  # a quiet queue
    changes = watch.observe(
        datetime(2025, 3, 3, 9, 38, tzinfo=UTC),
        {queue: figures_of(kpis, available[queue]) for queue in available},
    )
    assert [(c.queue, c.state, c.value) for c in changes] == [("support", AlertState.RAISED, 0.0)]


def test_a_queue_whose_agents_all_left_has_none_available_not_the_sites() -> None:
    # Eve took billing's one call, then logged out; Fay, available, was never named with
    # a queue. Billing was served: it has 0 available, not the site's 1 (nobody can take
    # its calls: the alert is one somebody can act on).
    t = "2025-03-03T09:{}:00Z".format
    lines = [
        {"type": "agent.status", "ts": t("00"), "agent": "Eve", "status": "available"},
        {"type": "agent.status", "ts": t("00"), "agent": "Fay", "status": "available"},
        {"type": "call.started", "ts": t("01"), "call_id": "b1", "from": "+442079460001"},
        {"type": "queue.entered", "ts": t("01"), "call_id": "b1", "queue": "billing"},
        {"type": "agent.ringing", "ts": t("02"), "call_id": "b1", "agent": "Eve"},
        {"type": "agent.answered", "ts": t("03"), "call_id": "b1", "agent": "Eve"},
        {"type": "call.ended", "ts": t("05"), "call_id": "b1", "by": "caller"},
        {"type": "agent.status", "ts": t("06"), "agent": "Eve", "status": "offline"},
    ]
    day = AgentsDay()
    for line in lines:
        day.apply(parse_event(json.dumps(line)))
    staffing = day.staffing()
    assert (staffing.by_queue, staffing.served, staffing.available) == ({}, {"billing"}, 1)
    assert available_by_queue(day, ["billing", "sales"]) == {"billing": 0, "sales": 1}
