"""Placeholder while written."""

from __future__ import annotations

from typing import Any

from bench.report import Figure, Pending
from bench.scale import Scale

KEY = "terminal_bandwidth"
TITLE = "terminal_bandwidth"


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    raise Pending("not written yet")
