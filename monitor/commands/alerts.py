"""`callboard alerts test --config FILE`: send one test alert to the webhook, say what came back.

The same POST the hub sends (monitor/feed/webhook.py), with the same JSON body and
secret header, so a receiver set up with it takes the hub's alerts too. Exit 0 when
the receiver answered 2xx, 1 otherwise (with its status or why there was none).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from classifier.alerts import AlertChange, AlertRule, AlertState, Metric
from monitor.commands.options import AddParser, UsageError
from monitor.config.options import add_config_option, config_from
from monitor.feed.webhook import post_json
from monitor.text.safe_text import clean

#: The rule a test alert names, so a receiver can tell it from a real one.
TEST_RULE = AlertRule("callboard test alert", Metric.LONGEST_WAIT_S, above=0.0)


def run(args: argparse.Namespace) -> int:
    """Send the test alert; 0 on a 2xx answer."""
    if args.action != "test":
        raise UsageError("give 'test'")
    config = config_from(args)
    hook = config.alerts.webhook
    if hook is None:
        raise UsageError("the config file has no [alerts.webhook] url")
    change = AlertChange(TEST_RULE, None, 0.0, AlertState.RAISED, datetime.now(UTC))
    body = change.record()
    body["text"] = "callboard test alert: this webhook receives callboard's alerts"
    answer = post_json(hook.url, body, hook.secret, hook.timeout_s)
    print(f"POST {clean(hook.url, limit=None)}: {clean(answer.describe(), limit=None)}")
    return 0 if answer.ok else 1


def register(add_parser: AddParser) -> None:
    """Add the `callboard alerts` subcommand with `add_parser`."""
    parser = add_parser(
        "alerts",
        help="send a test alert to the configured webhook",
        description=(
            "'alerts test --config FILE' POSTs one test alert to [alerts.webhook] as the hub "
            "would (docs/config.md) and prints what the receiver answered."
        ),
    )
    parser.add_argument("action", choices=["test"], help="send one test alert")
    add_config_option(parser)
    parser.set_defaults(func=run)
