"""Finding the app's headless replay, which another part of the project provides."""

from __future__ import annotations

import subprocess

from bench.process import callboard


def replay_command() -> list[str] | None:
    """The `callboard` arguments that replay a log headless, or None if there is none yet."""
    try:
        help_text = subprocess.run(
            callboard("replay", "--help"), capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        return None
    if help_text.returncode != 0 or "--headless" not in help_text.stdout:
        return None
    return ["replay", "--headless"]
