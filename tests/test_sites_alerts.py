"""Alert rules naming a queue on the board of several sites: `queue` judges that queue at
every site (each alone), `site/queue` that site's only, as thresholds do (docs/kpi.md,
"Several sites"). The watch is the pure `AlertWatch`; the board is the real app
headless following two real hubs on loopback; a site's hub is a real hub given the
file's rules for its site, as `serve --site S --config FILE` builds them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from classifier.alerts import AlertRule, AlertState, AlertWatch, Metric
from monitor.app.alerts import BoardAlerts
from monitor.app.app import CallboardApp
from monitor.app.sites_feed import HubAddress, sites_runner
from monitor.config.hub import hub_alerts
from monitor.config.load import parse_config
from monitor.feed.hub import HubConfig, running_hub
from monitor.sim.config import SimConfig
from monitor.sim.model import simulate
from tests.app_support import until

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
#: Holds wherever the queue has a service level (never above 100 %).
SALES = AlertRule("sales SL", Metric.SERVICE_LEVEL_PCT, below=101, queue="sales")


def test_a_plain_queue_rule_judges_that_queue_at_every_site_and_a_site_rule_one_site() -> None:
    at_a = AlertRule("a sales wait", Metric.LONGEST_WAIT_S, above=10, queue="a/sales")
    plain = AlertRule("sales wait", Metric.LONGEST_WAIT_S, above=10, queue="sales")
    watch = AlertWatch((plain, at_a))
    figures = {
        "a/sales": {Metric.LONGEST_WAIT_S: 30.0},
        "b/sales": {Metric.LONGEST_WAIT_S: 40.0},
        "b/support": {Metric.LONGEST_WAIT_S: 50.0},
        "a/*": {Metric.LONGEST_WAIT_S: 50.0},
    }
    changes = watch.observe(AT, figures)
    assert [(c.rule.name, c.queue, c.state) for c in changes] == [
        ("sales wait", "a/sales", AlertState.RAISED),
        ("sales wait", "b/sales", AlertState.RAISED),
        ("a sales wait", "a/sales", AlertState.RAISED),
    ]
    # Each site's queue clears on its own.
    figures["b/sales"] = {Metric.LONGEST_WAIT_S: 5.0}
    changes = watch.observe(AT + timedelta(seconds=1), figures)
    assert [(c.rule.name, c.queue, c.state) for c in changes] == [
        ("sales wait", "b/sales", AlertState.CLEARED)
    ]
    # Where the plain queue itself has figures (one hub's board), it is judged alone.
    alone = AlertWatch((plain,))
    both = {"sales": {Metric.LONGEST_WAIT_S: 30.0}, "eu/sales": {Metric.LONGEST_WAIT_S: 30.0}}
    assert [c.queue for c in alone.observe(AT, both)] == ["sales"]


def test_a_sites_hub_judges_its_site_queue_rules_on_its_own_queue_names() -> None:
    assert SALES.for_site("a") is SALES
    at_a = AlertRule("a sales", Metric.SERVICE_LEVEL_PCT, below=80, queue="a/sales")
    assert at_a.for_site("a").queue == "sales" and at_a.for_site("b") is at_a
    config = parse_config(
        '[[alerts.rules]]\nname = "a sales"\nmetric = "service_level_pct"\nbelow = 80\n'
        'queue = "a/sales"\n',
        "callboard.toml",
    )
    alerts = hub_alerts(config, site="a")
    assert alerts is not None and [r.queue for r in alerts.watch.rules] == ["sales"]
    other = hub_alerts(config, site="b")
    assert other is not None and [r.queue for r in other.watch.rules] == ["a/sales"]


@pytest.mark.slow
async def test_a_board_of_two_hubs_raises_a_plain_queue_rule_at_each_site() -> None:
    a_events = list(simulate(SimConfig(hours=0.5, seed=3)))
    b_events = list(simulate(SimConfig(hours=0.5, seed=4)))
    now = max(e.ts for e in a_events + b_events) + timedelta(seconds=1)
    config = parse_config(
        '[[alerts.rules]]\nname = "a sales"\nmetric = "service_level_pct"\nbelow = 100\n'
        'queue = "a/sales"\n',
        "callboard.toml",
    )
    # Site a's hub judges its rule on `a/sales` against its own `sales`.
    alerts = hub_alerts(config, site="a")
    assert alerts is not None
    async with (
        running_hub(HubConfig(port=0, site="a", alerts=alerts)) as hub_a,
        running_hub(HubConfig(port=0, site="b")) as hub_b,
    ):
        for event in a_events:
            assert hub_a.publish(event).accepted
        for event in b_events:
            assert hub_b.publish(event).accepted
        assert hub_a.day.queues["sales"].offered > 0
        assert [(rule.name, queue) for rule, queue in alerts.watch.raised()] == [
            ("a sales", "sales")
        ]
        runner = sites_runner([HubAddress(hub_a.url), HubAddress(hub_b.url)])
        app = CallboardApp(runner, clock=lambda: now)
        async with app.run_test(size=(160, 50)) as pilot:
            await until(
                pilot,
                lambda: (
                    app.board.day.queues.get("a/sales") == hub_a.day.queues["sales"]
                    and app.board.day.queues.get("b/sales") == hub_b.day.queues["sales"]
                ),
            )
            board_alerts = BoardAlerts((SALES,))
            changes = board_alerts.judge(app.board, now, app)
            assert sorted((c.queue, c.state) for c in changes) == [
                ("a/sales", AlertState.RAISED),
                ("b/sales", AlertState.RAISED),
            ]
