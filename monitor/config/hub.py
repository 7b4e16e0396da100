"""What `callboard serve --config FILE` takes from the file: `[rules]`, the alert rules
and the webhook, with the queues' service-level targets for the figures they watch."""

from __future__ import annotations

from monitor.config.models import Config
from monitor.config.options import kpi_settings
from monitor.feed.hub_alerts import HubAlerts
from monitor.feed.webhook import BACKOFF_S, WebhookSender


def hub_alerts(config: Config, backoff_s: float = BACKOFF_S) -> HubAlerts | None:
    """The hub's alerts for a config; None when it has no rules.

    `backoff_s`: the webhook's first retry delay (tests shorten it).
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
    return HubAlerts(rules, kpi_settings(config, None, {}), sender)
