"""Per-queue thresholds on the board of several sites: `queue` at every site, `site/queue`
at one site, the more specific one winning (docs/kpi.md, "Several sites").

The rule is the pure `KpiSettings.threshold` / `for_site` and `Config.queue`; the board
is the real app headless following two real hubs on loopback that count their days
with their own thresholds, its settings read by the real parser from flags and a file.
"""

from __future__ import annotations

import signal
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from classifier.day import DayState
from classifier.kpi import KpiSettings
from classifier.sites import merge_days
from monitor.app.app import CallboardApp
from monitor.app.launch import settings_from
from monitor.app.nats_sites import nats_sites_runner
from monitor.app.sites_feed import HubAddress, sites_runner
from monitor.board import Level
from monitor.cli import build_parser
from monitor.config.hub import hub_alerts
from monitor.config.load import parse_config
from monitor.config.options import kpi_settings
from monitor.feed.client import FeedClient, Snapshot
from monitor.feed.hub import HubConfig, running_hub
from monitor.feed.nats_config import NatsConfig
from monitor.sim.config import SimConfig
from monitor.sim.model import simulate
from monitor.targets import Targets
from tests.app_support import until
from tests.cli_support import start_callboard
from tests.day_support import counted_day
from tests.hub_support import free_port
from tests.nats_support import NatsServer

FILE = """
[queues."*"]
sl_threshold_s = 20
[queues.sales]
sl_threshold_s = 4
wait_warn_s = 30
label = "Sales"
[queues."a/sales"]
sl_threshold_s = 90
wait_alert_s = 300
"""


def test_a_plain_queue_applies_at_every_site_and_a_site_queue_at_its_site_only() -> None:
    args = build_parser().parse_args(
        [
            *("watch", "ws://127.0.0.1:1", "ws://127.0.0.1:2"),
            *("--queue-threshold", "sales=4", "--queue-threshold", "a/sales=90"),
            *("--queue-threshold", "Sales EU/sales=7"),
        ]
    )
    settings = settings_from(args)
    assert settings.threshold("a/sales") == 90  # the site's own wins
    assert settings.threshold("b/sales") == 4  # the plain one, at every other site
    assert settings.threshold("sales") == 4  # and on one hub's own names
    assert settings.threshold("b/support") == 20  # neither: the default
    assert settings.threshold(None) == 20
    # A name whose part before the slash cannot be a site is a queue's own name.
    assert settings.threshold("Sales EU/sales") == 7
    assert settings.threshold("Sales EU/support") == 20
    # What each site's hub counts with, on its own names, to agree with the board.
    assert settings.for_site("a").queue_service_level_s == {
        "sales": 90,
        "Sales EU/sales": 7,
    }
    assert settings.for_site("b").queue_service_level_s == {
        "sales": 4,
        "Sales EU/sales": 7,
    }


def test_the_merged_day_carries_the_boards_settings_only_when_every_site_counted_with_them() -> (
    None
):
    board = KpiSettings(queue_service_level_s={"sales": 4, "a/sales": 90})
    a_events = list(simulate(SimConfig(hours=0.3, seed=3)))
    b_events = list(simulate(SimConfig(hours=0.3, seed=4)))
    a = counted_day(a_events, KpiSettings(queue_service_level_s={"sales": 90}))
    b = counted_day(b_events, KpiSettings(queue_service_level_s={"sales": 4}))
    assert merge_days({"a": a, "b": b}, settings=board).settings == board
    # Site b's hub counted sales at the default: the board must not take the day as its.
    other = counted_day(b_events, KpiSettings())
    assert merge_days({"a": a, "b": other}, settings=board).settings == other.settings
    # Without the board's settings (as before): the first site's.
    assert merge_days({"a": a, "b": b}).settings == a.settings


def test_the_files_queue_tables_apply_at_every_site_and_a_sites_table_wins_key_by_key() -> None:
    targets = Targets(parse_config(FILE, "callboard.toml"))
    a, b = targets.of("a/sales"), targets.of("b/sales")
    assert (a.sl_threshold_s, a.wait_warn_s, a.wait_alert_s) == (90, 30, 300)
    assert (b.sl_threshold_s, b.wait_warn_s, b.wait_alert_s) == (4, 30, 120)
    # The plain table's label, with the site: two sites' sales are told apart.
    assert (targets.label("a/sales"), targets.label("b/sales")) == ("a/Sales", "b/Sales")
    assert targets.label("sales") == "Sales" and targets.label("b/support") == "b/support"
    assert targets.wait_level(200, "a/sales") is Level.WARN
    assert targets.wait_level(200, "b/sales") is Level.ALERT


@pytest.mark.slow
async def test_a_board_of_two_hubs_counts_each_sites_queue_at_its_threshold(
    tmp_path: Path,
) -> None:
    config = tmp_path / "callboard.toml"
    config.write_text(FILE)
    args = build_parser().parse_args(
        ["watch", "ws://127.0.0.1:1", "ws://127.0.0.1:2", "--config", str(config)]
    )
    settings = settings_from(args)
    # Each hub counts its own `sales`: site a's at 90 s, site b's at 4 s, as the board's
    # file says of a/sales and of sales.
    hub_a_settings = KpiSettings(queue_service_level_s={"sales": 90})
    hub_b_settings = KpiSettings(queue_service_level_s={"sales": 4})
    a_events = list(simulate(SimConfig(hours=0.5, seed=3)))
    b_events = list(simulate(SimConfig(hours=0.5, seed=4)))
    # The thresholds decide calls here: counted at the default, sales differs at both.
    for events, own in ((a_events, hub_a_settings), (b_events, hub_b_settings)):
        assert (
            counted_day(events, own).queues["sales"].answered_in_threshold
            != counted_day(events, KpiSettings()).queues["sales"].answered_in_threshold
        )
    now = max(e.ts for e in a_events + b_events) + timedelta(seconds=1)
    async with (
        running_hub(HubConfig(port=0, site="a", settings=hub_a_settings)) as hub_a,
        running_hub(HubConfig(port=0, site="b", settings=hub_b_settings)) as hub_b,
    ):
        for event in a_events[: len(a_events) // 2]:
            assert hub_a.publish(event).accepted
        for event in b_events[: len(b_events) // 2]:
            assert hub_b.publish(event).accepted
        runner = sites_runner([HubAddress(hub_a.url), HubAddress(hub_b.url)], settings=settings)
        app = CallboardApp(runner, settings=settings, clock=lambda: now)
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: [s.state for s in app.connection.sites] == ["live"] * 2)
            # The hubs' days fit the board's thresholds as they apply to each site.
            assert app.board.day_refused is None
            assert app.board.day.settings == settings
            # The rest of the day arrives live: the board counts it itself.
            for event in a_events[len(a_events) // 2 :]:
                assert hub_a.publish(event).accepted
            for event in b_events[len(b_events) // 2 :]:
                assert hub_b.publish(event).accepted
            await until(
                pilot,
                lambda: (
                    app.board.day.queues.get("a/sales") == hub_a.day.queues["sales"]
                    and app.board.day.queues.get("b/sales") == hub_b.day.queues["sales"]
                ),
            )
            assert app.board.day_refused is None
            # Waits in the table are judged by the same rule.
            board = app.board
            assert board.wait_level(10, "a/sales") is Level.OK
            assert board.wait_level(10, "b/sales") is Level.ALERT
            assert board.wait_level(10, "b/support") is Level.OK


@pytest.mark.slow
async def test_a_board_on_nats_gives_each_sites_viewer_hub_its_sites_thresholds(
    nats_server: NatsServer,
) -> None:
    settings = KpiSettings(queue_service_level_s={"sales": 4, "a/sales": 90})
    a_events = list(simulate(SimConfig(hours=0.3, seed=3)))
    b_events = list(simulate(SimConfig(hours=0.3, seed=4)))
    now = max(e.ts for e in a_events + b_events) + timedelta(seconds=1)
    # No checkpoint before the board joins: each viewer hub counts its site's whole day
    # from the stream, with the thresholds the board gives it (a checkpoint's day
    # carries the writing hub's).
    nats_config = NatsConfig(url=nats_server.url, checkpoint_every=1_000_000)
    own = {site: settings.for_site(site) for site in ("a", "b")}
    async with (
        running_hub(HubConfig(port=0, site="a", nats=nats_config, settings=own["a"])) as hub_a,
        running_hub(HubConfig(port=0, site="b", nats=nats_config, settings=own["b"])) as hub_b,
    ):
        for event in a_events[: len(a_events) // 2]:
            await hub_a.submit(event)
        for event in b_events[: len(b_events) // 2]:
            await hub_b.submit(event)
        board_hubs = HubConfig(settings=settings)
        runner = nats_sites_runner(NatsConfig(url=nats_server.url), ["a", "b"], board_hubs)
        app = CallboardApp(runner, settings=settings, clock=lambda: now)
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: [s.state for s in app.connection.sites] == ["live"] * 2)
            assert app.board.day_refused is None
            for event in a_events[len(a_events) // 2 :]:
                await hub_a.submit(event)
            for event in b_events[len(b_events) // 2 :]:
                await hub_b.submit(event)
            await until(
                pilot,
                lambda: (
                    app.board.day.queues.get("a/sales") == hub_a.day.queues["sales"]
                    and app.board.day.queues.get("b/sales") == hub_b.day.queues["sales"]
                ),
            )
            assert app.board.day_refused is None
            # The agents of both sites too, labelled, through the viewer hubs.
            assert set(app.board.agents.agents) == {f"a/{n}" for n in hub_a.agents.agents} | {
                f"b/{n}" for n in hub_b.agents.agents
            }


@pytest.mark.slow
async def test_one_file_for_every_sites_hub_and_the_board(tmp_path: Path) -> None:
    # `callboard serve --site S --config FILE`, as a user runs it: each hub counts its
    # own queues with the file's thresholds as they apply to its site, which is what the
    # board given the same file takes the sites' days at.
    config = tmp_path / "callboard.toml"
    config.write_text(FILE)
    board = settings_from(build_parser().parse_args(["watch", "ws://h:1", "--config", str(config)]))
    ports = {"a": free_port(), "b": free_port()}
    hubs = [
        start_callboard(
            *("serve", "--simulate", "--preset", "demo", "--site", site),
            *("--port", str(port), "--config", str(config)),
            stderr=subprocess.DEVNULL,
        )
        for site, port in ports.items()
    ]
    try:
        for site, port in ports.items():
            client = FeedClient(f"ws://127.0.0.1:{port}", backoff_initial=0.1)
            async for item in client:
                if isinstance(item, Snapshot):
                    break
            await client.close()
            assert isinstance(item, Snapshot) and item.day is not None
            counted_with = DayState.from_dict(item.day).settings
            assert counted_with == board.for_site(site)
        assert board.for_site("a").threshold("sales") == 90
        assert board.for_site("b").threshold("sales") == 4
    finally:
        for hub in hubs:
            hub.send_signal(signal.SIGTERM)
            hub.wait(30)


async def test_a_sites_hub_judges_its_alert_rules_on_its_own_day_with_the_sites_thresholds() -> (
    None
):
    config = parse_config(
        FILE + '[[alerts.rules]]\nname = "sl"\nmetric = "service_level_pct"\nbelow = 80\n',
        "callboard.toml",
    )
    settings = kpi_settings(config, None, {}).for_site("a")
    alerts = hub_alerts(config, site="a")
    assert alerts is not None and alerts.settings == settings
    async with running_hub(HubConfig(port=0, site="a", settings=settings, alerts=alerts)) as hub:
        for event in simulate(SimConfig(hours=0.2, seed=3)):
            assert hub.publish(event).accepted
        # One count of the day: the rules' thresholds are the hub's, no second day kept.
        assert alerts.day_of(hub.day) is hub.day and alerts.own_day is None
