"""`--config PATH` on the command line, and the settings it and the flags make together.

The file is read once a command starts; a problem in it is a usage error (exit 2)
naming the file, line and key of each problem. A flag given on the command line
wins over the file; a flag left out leaves the file's value (or callboard's default).
Every command that takes the file reads it (`config_from`) before it reads its day
options, so `[day]` reaches them as if given as flags.
"""

from __future__ import annotations

import argparse

from classifier.day import parse_day_starts, parse_timezone
from classifier.kpi import SERVICE_LEVEL_S, SHORT_ABANDON_S, KpiSettings
from classifier.rules import Rule, event_rules
from monitor.commands.options import UsageError
from monitor.config.load import CONFIG_VARIABLE, ConfigError, load_config
from monitor.config.models import Config


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """`--config PATH`."""
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=None,
        help=(
            f"callboard.toml to read (default: ${CONFIG_VARIABLE}, then callboard.toml in "
            "the user config directory); flags win over it. 'callboard config --example'"
        ),
    )


def config_from(args: argparse.Namespace) -> Config:
    """The config `--config` (or the environment, or the user's file) names; UsageError if bad.

    Read once per command: the result is kept on `args`.
    """
    loaded = getattr(args, "loaded_config", None)
    if isinstance(loaded, Config):
        return loaded
    try:
        config, _path = load_config(getattr(args, "config", None))
    except ConfigError as exc:
        count = len(exc.problems)
        raise UsageError(
            f"{count} problem{'s' if count != 1 else ''} in the config file:\n{exc}"
        ) from None
    args.loaded_config = config
    _fill_day(args, config)
    return config


def _fill_day(args: argparse.Namespace, config: Config) -> None:
    """`[day]` as the `--timezone`/`--day-starts` a command was not given.

    Filled in on `args` where the command has the option, so that every reader of
    the day's options (`monitor.commands.options.day_clock`: serve's hub day, the
    boards of the demo, replay and watch, classify; report's `--timezone`) sees the
    file's day without knowing of the file, and a flag, parsed first, wins.
    """
    day = config.day
    if day.timezone is not None and getattr(args, "timezone", False) is None:
        args.timezone = parse_timezone(day.timezone)
    if day.day_start is not None and getattr(args, "day_starts", False) is None:
        args.day_starts = parse_day_starts(day.day_start)


def kpi_settings(
    config: Config, service_level: float | None, queues: dict[str, float]
) -> KpiSettings:
    """KPI settings: the flags (`--service-level`, `--queue-threshold`) over the file's targets."""
    defaults = config.queues.get("*")
    default_s = service_level
    if default_s is None:
        default_s = (defaults.sl_threshold_s if defaults is not None else None) or SERVICE_LEVEL_S
    short = defaults.short_abandon_s if defaults is not None else None
    per_queue = {
        name: section.sl_threshold_s
        for name, section in config.queues.items()
        if name != "*" and section.sl_threshold_s is not None
    }
    per_queue.update(queues)
    return KpiSettings(
        service_level_s=default_s,
        short_abandon_s=SHORT_ABANDON_S if short is None else short,
        queue_service_level_s=per_queue,
    )


def rules_from(config: Config) -> tuple[Rule, ...]:
    """The event rules the file's `[rules]` choose."""
    return event_rules(config.rules.hangup_while_ringing)
