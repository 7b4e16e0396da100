"""Hysteresis: a raised alert clears only once its condition has stopped holding for
`clear_for_s` (issue 17: a 30 s longest-wait rule flapped 229 times over a day).

The pure watch on hand-made figures; then a real hub with a real config file and a
real webhook receiver on loopback, fed a log in which the longest wait passes 30 s,
dips for 24 s when the longest caller is answered, passes 30 s again, and ends.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from classifier.alerts import AlertRule, AlertState, AlertWatch, Metric
from classifier.schema import parse_event
from monitor.config.hub import hub_alerts
from monitor.config.load import read_config
from monitor.feed.hub import HubConfig, running_hub
from tests.hub_support import get_health
from tests.webhook_support import Receiver, receiver

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_dip_shorter_than_clear_for_s_is_the_same_spell() -> None:
    rule = AlertRule("long wait", Metric.LONGEST_WAIT_S, above=30.0, clear_for_s=20)
    watch = AlertWatch((rule,))
    seen = []
    # Holds at 10, dips at 20 for 15 s, holds again at 35, good from 50: cleared at 70.
    for second, wait in [(0, 5), (10, 31), (20, 3), (30, 20), (35, 31), (50, 0), (60, 0), (70, 0)]:
        changes = watch.observe(at(second), {"q": {Metric.LONGEST_WAIT_S: wait}})
        seen += [(second, c.state, c.value) for c in changes]
    assert seen == [(10, AlertState.RAISED, 31), (70, AlertState.CLEARED, 0)]
    # Without clear_for_s the same figures raise and clear twice.
    watch = AlertWatch((AlertRule("long wait", Metric.LONGEST_WAIT_S, above=30.0),))
    flaps = []
    for second, wait in [(0, 5), (10, 31), (20, 3), (30, 20), (35, 31), (50, 0), (60, 0), (70, 0)]:
        changes = watch.observe(at(second), {"q": {Metric.LONGEST_WAIT_S: wait}})
        flaps += [(second, c.state) for c in changes]
    assert flaps == [
        (10, AlertState.RAISED),
        (20, AlertState.CLEARED),
        (35, AlertState.RAISED),
        (50, AlertState.CLEARED),
    ]


def dipping_log(path: Path) -> Path:
    """Caller A waits in 'support' from 1 s and is answered at 46 s; B waits from 40 s
    and is answered at 84 s. The longest wait is over 30 s from 31 s to 46 s, dips to
    B's few seconds until 70 s, is over 30 s again until 84 s, then nobody waits.
    Short calls every 3 s to 150 s keep the hub's event clock moving."""
    lines: list[dict[str, Any]] = []

    def add(second: float, kind: str, call: str, **extra: Any) -> None:
        lines.append({"type": kind, "call_id": call, "ts": at(second).isoformat(), **extra})

    for call, enters, answered in (("a", 1, 46), ("b", 40, 84)):
        add(enters - 0.5, "call.started", call, **{"from": "+14155550100"})
        add(enters, "queue.entered", call, queue="support")
        add(answered, "agent.answered", call, agent="Ana")
        add(answered + 10, "call.ended", call, by="caller")
    for n, start in enumerate(range(2, 150, 3)):
        call = f"short-{n}"
        add(start, "call.started", call, **{"from": "+14155550101"})
        add(start + 0.5, "queue.entered", call, queue="support")
        add(start + 1, "agent.answered", call, agent="Ben")
        add(start + 1.5, "call.ended", call, by="caller")
    lines.sort(key=lambda line: line["ts"])
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def config_file(path: Path, url: str, clear_for_s: float | None) -> Path:
    text = (
        "[[alerts.rules]]\n"
        'name = "long wait"\n'
        'metric = "longest_wait_s"\n'
        "above = 30\n"
        'queue = "support"\n'
    )
    if clear_for_s is not None:
        text += f"clear_for_s = {clear_for_s:g}\n"
    path.write_text(text + f'[alerts.webhook]\nurl = "{url}"\ntimeout_s = 2\n')
    return path


async def received(got: Receiver, count: int) -> list[dict[str, Any]]:
    """The bodies once `count` came (polled without blocking the hub's loop)."""
    for _ in range(400):
        if len(got.bodies) >= count:
            break
        await asyncio.sleep(0.05)
    return list(got.bodies)


async def replay_through_hub(tmp_path: Path, clear_for_s: float | None) -> list[dict[str, Any]]:
    """The dipping log through a real hub with the rule; the webhook bodies it sent."""
    with receiver() as got:
        config = read_config(config_file(tmp_path / "callboard.toml", got.url, clear_for_s))
        async with running_hub(HubConfig(port=0, alerts=hub_alerts(config))) as hub:
            for line in dipping_log(tmp_path / "day.jsonl").read_text().splitlines():
                assert hub.publish(parse_event(line)).accepted
            # Judged as each event was applied: the tally is final here.
            tally = (await get_health(hub.base_url))["alerts"]
            bodies = await received(got, tally["raised"] + tally["cleared"])
            assert len(bodies) == tally["raised"] + tally["cleared"]
            return bodies


async def test_a_replayed_dip_neither_clears_nor_raises_again(tmp_path: Path) -> None:
    bodies = await replay_through_hub(tmp_path, clear_for_s=30)
    assert [b["state"] for b in bodies] == ["raised", "cleared"]
    raised, cleared = (datetime.fromisoformat(b["at"]) for b in bodies)
    assert at(31) <= raised < at(33)
    # B was answered at 84 s; the clear waits 30 s of good figures after that.
    assert at(84 + 30) <= cleared < at(84 + 32)
    assert bodies[1]["value"] == 0


async def test_without_clear_for_s_the_same_log_flaps(tmp_path: Path) -> None:
    bodies = await replay_through_hub(tmp_path, clear_for_s=None)
    assert [b["state"] for b in bodies] == ["raised", "cleared", "raised", "cleared"]
