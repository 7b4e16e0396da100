"""The hub's alerts across a restart on its journal, and the day they judge.

A real hub with a journal and a real config file sends to a real webhook receiver
on loopback; it is stopped while an alert holds and a new hub (a new process would
read the same file) starts on the same journal. The raise must not be sent again,
the clear must come when the condition stops, and the day's figures the rules
judge must count the calls recovered from the journal.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from classifier.schema import Event, event_from_dict
from monitor.config.hub import hub_alerts
from monitor.config.load import read_config
from monitor.config.options import kpi_settings
from monitor.feed.hub import Hub, HubConfig, running_hub
from tests.hub_support import get_health
from tests.webhook_support import Receiver, receiver

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def event(second: float, kind: str, call: str, **extra: Any) -> Event:
    return event_from_dict({"type": kind, "call_id": call, "ts": at(second), **extra})


def long_wait_events() -> list[Event]:
    """A caller waits in 'support' from 1 s to 46 s; short calls every 3 s keep time moving."""
    out = [
        event(0, "call.started", "long", **{"from": "+14155550100"}),
        event(1, "queue.entered", "long", queue="support"),
        event(46, "agent.answered", "long", agent="Ana"),
        event(80, "call.ended", "long", by="caller"),
    ]
    for n, start in enumerate(range(2, 70, 3)):
        call = f"short-{n}"
        out += [
            event(start, "call.started", call, **{"from": "+14155550101"}),
            event(start + 1, "queue.entered", call, queue="support"),
            event(start + 2, "agent.answered", call, agent="Ben"),
            event(start + 2.5, "call.ended", call, by="caller"),
        ]
    return sorted(out, key=lambda e: e.ts)


def config(path: Path, url: str, body: str) -> Path:
    path.write_text(body + f'[alerts.webhook]\nurl = "{url}"\ntimeout_s = 2\n')
    return path


async def received(got: Receiver, count: int) -> list[str]:
    for _ in range(400):
        if len(got.bodies) >= count:
            break
        await asyncio.sleep(0.05)
    return [body["state"] for body in got.bodies]


def hub_config(file: Path, journal: Path) -> HubConfig:
    """What `serve --config FILE --journal PATH` builds: each start reads the file anew."""
    return HubConfig(port=0, journal=journal, alerts=hub_alerts(read_config(file)))


async def publish(hub: Hub, events: list[Event]) -> None:
    for item in events:
        result = hub.publish(item)
        assert result.accepted, result.problem


LONG_WAIT = """\
[[alerts.rules]]
name = "long wait"
metric = "longest_wait_s"
above = 30
queue = "support"
"""


async def test_a_raise_before_a_restart_is_not_sent_again_and_its_clear_comes(
    tmp_path: Path,
) -> None:
    events = long_wait_events()
    before = [e for e in events if e.ts < T0 + timedelta(seconds=40)]
    after = events[len(before) :]
    journal = tmp_path / "hub.journal"
    with receiver() as got:
        file = config(tmp_path / "callboard.toml", got.url, LONG_WAIT)
        async with running_hub(hub_config(file, journal)) as hub:
            await publish(hub, before)
            assert await received(got, 1) == ["raised"]
        async with running_hub(hub_config(file, journal)) as hub:
            # Recovered: the alert is known to hold; nothing was sent for it.
            alerts = (await get_health(hub.base_url))["alerts"]
            assert (alerts["holding"], alerts["raised"], alerts["recovered"]) == (1, 0, 1)
            await publish(hub, after)
            assert await received(got, 2) == ["raised", "cleared"]
            await asyncio.sleep(0.3)  # anything more would have come with the clear
            assert len(got.bodies) == 2
            cleared = got.bodies[1]
            assert cleared["at"] >= at(46) and cleared["value"] < 30
            # The hub's own day: the config sets no other service-level thresholds.
            assert hub.config.alerts is not None and hub.config.alerts.own_day is None


SLOW_SERVICE = """\
[queues."*"]
sl_threshold_s = 10

[[alerts.rules]]
name = "service level low"
metric = "service_level_pct"
below = 50
queue = "sales"
"""


def answered_call(name: str, start: float, wait: float) -> list[Event]:
    """A call in 'sales' answered after `wait` seconds, ended 5 s later (events 1+ s apart)."""
    return [
        event(start, "call.started", name, **{"from": "+4420"}),
        event(start + 1, "queue.entered", name, queue="sales"),
        event(start + 1 + wait, "agent.answered", name, agent="Ann"),
        event(start + 6 + wait, "call.ended", name, by="caller"),
    ]


async def test_calls_recovered_from_the_journal_count_in_the_figures_judged(
    tmp_path: Path,
) -> None:
    # Two calls answered after 15 s (outside 10 s): SL 0%, raised. After the restart,
    # fast calls: 1 of 3 is 33%, 2 of 4 is 50%, no longer below 50: cleared at 50.
    slow = answered_call("slow-1", 0, 15) + answered_call("slow-2", 30, 15)
    fast = [e for n in range(3) for e in answered_call(f"fast-{n}", 60 + 20 * n, 2)]
    journal = tmp_path / "hub.journal"
    with receiver() as got:
        file = config(tmp_path / "callboard.toml", got.url, SLOW_SERVICE)
        async with running_hub(hub_config(file, journal)) as hub:
            await publish(hub, slow)
            assert await received(got, 1) == ["raised"]
            assert got.bodies[0]["value"] == 0
        async with running_hub(hub_config(file, journal)) as hub:
            # 10 s is not the hub's own 20 s: the alerts count a day of their own,
            # on the hub's clock, and it holds the two calls from the journal.
            alerts = hub.config.alerts
            assert alerts is not None and alerts.own_day is not None
            assert alerts.own_day.total.offered == 2
            await publish(hub, fast)
            assert await received(got, 2) == ["raised", "cleared"]
            assert got.bodies[1]["value"] == 50
            assert got.bodies[1]["at"] >= at(60 + 20 + 6 + 2)  # fast-1's end


async def test_a_checkpoint_holds_the_alerts_watch(tmp_path: Path) -> None:
    # A checkpoint is written as a new day begins; a restart from it has no records
    # before it to judge again, so the watch must travel in it.
    events = long_wait_events()
    before = [e for e in events if e.ts < T0 + timedelta(seconds=40)]
    with receiver() as got:
        file = config(tmp_path / "callboard.toml", got.url, LONG_WAIT)
        async with running_hub(hub_config(file, tmp_path / "a.journal")) as hub:
            await publish(hub, before)
            seq, state = hub.checkpoint_state()
        fresh = Hub(hub_config(file, tmp_path / "b.journal"))
        fresh.restore_checkpoint(seq, state)
        assert fresh.config.alerts is not None
        assert [(rule.name, queue) for rule, queue in fresh.config.alerts.watch.raised()] == [
            ("long wait", "support")
        ]


async def test_a_hub_counting_with_the_files_thresholds_shares_its_day(tmp_path: Path) -> None:
    with receiver() as got:
        file = read_config(config(tmp_path / "callboard.toml", got.url, SLOW_SERVICE))
        alerts = hub_alerts(file)
        # As serve --config builds it: the hub's day counts with the file's thresholds.
        settings = kpi_settings(file, None, {})
        async with running_hub(HubConfig(port=0, settings=settings, alerts=alerts)) as hub:
            await publish(hub, answered_call("slow-1", 0, 15))
            assert await received(got, 1) == ["raised"]
            assert alerts is not None and alerts.own_day is None
            assert hub.day.settings.service_level_s == 10
