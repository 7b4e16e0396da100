"""Placeholder while written."""

from __future__ import annotations

from typing import Any

from bench.report import Figure, Pending
from bench.scale import Scale

KEY = "wallboard_load"
TITLE = "wallboard_load"


def run(scale: Scale, shared: dict[str, Any]) -> Figure:
    raise Pending("not written yet")
