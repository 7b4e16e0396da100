"""The Textual we declare is the one the tests run on, and an upgrade past it is a choice.

Textual's major versions change its API (the row views lean on its line API and
scrollbars): pyproject.toml bounds it above by the next major after the one the
tests ran on, so `pip install` never brings an untested major in by accident.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import version

from packaging.requirements import Requirement
from packaging.version import Version

from tests.cli_support import ROOT


def declared(name: str) -> Requirement:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    (found,) = [r for r in map(Requirement, project["dependencies"]) if r.name == name]
    return found


def test_textual_is_bounded_above_by_the_next_major_after_the_one_installed() -> None:
    installed = Version(version("textual"))
    specifier = declared("textual").specifier
    assert installed in specifier, f"textual {installed} is outside {specifier}"
    assert Version(f"{installed.major + 1}") not in specifier, f"no upper bound in {specifier}"
