"""Exotel's dialled agent numbers on the agents panel, through the real app (pilot).

Replaying fixtures/exotel/passthru_agents.jsonl (Passthru deliveries naming
DialWhomNumber) shows its two agent numbers with their day's figures; with
`--mask-numbers` they are masked in the panel as callers are, nowhere on screen in
full. Exotel's own published Call Details sample (connecting two numbers) shows
its agent, the From number dialled first.
"""

from __future__ import annotations

from datetime import UTC, datetime

from classifier.schema import event_from_dict
from monitor.app.app import CallboardApp
from monitor.app.feed import fixture_runner
from monitor.app.widgets.agents import AgentsPanel
from monitor.commands.replay import replay_runner
from monitor.text.masking import mask_number
from tests.app_support import screen_text, until
from tests.cli_support import ROOT, SHARED

PASSTHRU = ROOT / "fixtures" / "exotel" / "passthru_agents.jsonl"
REAL_SAMPLE = SHARED / "realdata" / "exotel" / "call_details_v1_sample.json"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def replay(path: object, mask: bool = False) -> CallboardApp:
    runner = replay_runner(path, speed=0, fmt="exotel")  # type: ignore[arg-type]
    return CallboardApp(runner, clock=lambda: NOW, rate=0, mask=mask)


async def _panel(app: CallboardApp, size: tuple[int, int]) -> dict[str, str]:
    """The agents panel's rows on screen, by agent (as the panel names them)."""
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.connection.state == "finished")
        await pilot.press("6")
        panel = app.query_one(AgentsPanel)
        await until(pilot, lambda: panel.display and panel.rows)
        app.repaint()
        await pilot.pause()
        region = panel.region
        lines = screen_text(app).splitlines()[region.y : region.bottom]
        text = "\n".join(line[region.x : region.right] for line in lines)
        names = [agent.name for agent in panel.rows]
        shown = [mask_number(n) if app.view.mask else n for n in names]
        rows = {}
        for name, label in zip(names, shown, strict=True):
            found = [line for line in text.splitlines() if label in line]
            assert found, (label, text)
            # From the name on: name, state, time in state, answered, missed, ...
            rows[name] = found[0][found[0].index(label) :].replace(label, "AGENT", 1)
        if app.view.mask:
            whole = screen_text(app)
            assert not any(name in whole for name in names)  # masked wherever shown
        return rows


async def test_the_numbers_exotel_dialled_are_agents_with_their_day() -> None:
    rows = await _panel(replay(PASSTHRU), (120, 40))
    # 09888000444's leg failed (never reached): no agent.
    assert set(rows) == {"09888000222", "09888000333"}
    first, second = rows["09888000222"].split(), rows["09888000333"].split()
    # name, state, time in state, answered, missed: one answered (the cancel is the
    # caller's), and one answered with a no-answer and a busy.
    assert first[:2] == ["AGENT", "available"] and first[3:5] == ["1", "0"]
    assert second[:2] == ["AGENT", "available"] and second[3:5] == ["1", "2"]


async def test_mask_numbers_masks_the_agent_numbers_too() -> None:
    rows = await _panel(replay(PASSTHRU, mask=True), (80, 24))
    assert set(rows) == {"09888000222", "09888000333"}
    assert mask_number("09888000222") != "09888000222"


async def test_exotel_s_published_sample_shows_its_agent() -> None:
    rows = await _panel(replay(REAL_SAMPLE), (120, 40))
    assert set(rows) == {"0XXXXX30240"}
    assert rows["0XXXXX30240"].split()[:2] == ["AGENT", "available"]


async def test_agent_numbers_are_masked_in_the_calls_and_their_verdicts() -> None:
    """The active table's 'talking to AGENT' and a verdict's 'answered by AGENT' too."""
    t = "2026-11-23T09:{}:00+00:00".format
    raw = [
        {"type": "call.started", "ts": t("50"), "call_id": "done", "from": "+442079460001"},
        {"type": "queue.entered", "ts": t("50"), "call_id": "done", "queue": "sales"},
        {"type": "agent.ringing", "ts": t("50"), "call_id": "done", "agent": "+919888000333"},
        {"type": "agent.answered", "ts": t("51"), "call_id": "done", "agent": "+919888000333"},
        {"type": "call.ended", "ts": t("55"), "call_id": "done", "by": "caller"},
        {"type": "call.started", "ts": t("58"), "call_id": "live", "from": "+442079460002"},
        {"type": "agent.ringing", "ts": t("58"), "call_id": "live", "agent": "+919888000222"},
        {"type": "agent.answered", "ts": t("59"), "call_id": "live", "agent": "+919888000222"},
    ]
    events = [event_from_dict(e) for e in raw]
    app = CallboardApp(fixture_runner(events, source="x"), clock=lambda: NOW, rate=0, mask=True)
    async with app.run_test(size=(200, 60)) as pilot:
        await until(pilot, lambda: app.connection.state == "finished")
        app.repaint()
        await until(pilot, lambda: "talking to +91 988" in screen_text(app))
        text = screen_text(app)
        assert f"talking to {mask_number('+919888000222')}" in text
        assert f"answered by {mask_number('+919888000333')}" in text
        assert "9888000222" not in text and "9888000333" not in text
