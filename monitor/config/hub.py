"""What `callboard serve --config FILE` takes from the file: `[rules]`, the alert rules
and the webhook, with the queues' service-level targets for the figures they watch."""

from __future__ import annotations

from monitor.config.models import Config
from monitor.config.options import kpi_settings
from monitor.feed.hub_alerts import HubAlerts
from monitor.feed.webhook import BACKOFF_S, WebhookSender


def hub_alerts(
    config: Config, backoff_s: float = BACKOFF_S, site: str | None = None
) -> HubAlerts | None:
    """The hub's alerts for a config; None when it has no rules.

    `backoff_s`: the webhook's first retry delay (tests shorten it). `site`: the hub's
    site (`serve --site`), whose thresholds the hub counts with (`KpiSettings.for_site`),
    so the rules judge the hub's own day rather than count one of their own, and whose
    `site/queue` rules judge its `queue` (`AlertRule.for_site`).
    """
    rules = config.alerts.alert_rules()
    if not rules:
        return None
    hook = config.alerts.webhook
    sender = (
        None
        if hook is None
        else WebhookSender(hook.url, hook.secret, hook.timeout_s, backoff_s=backoff_s)
    )
    settings = kpi_settings(config, None, {})
    if site is None:
        return HubAlerts(rules, settings, sender)
    # A rule on `site/queue` judges this site's `queue` (docs/kpi.md, "Several sites").
    own = tuple(rule.for_site(site) for rule in rules)
    return HubAlerts(own, settings.for_site(site), sender)
