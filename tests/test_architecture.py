"""The classifier is the pure domain: it must never pull in the UI, the network or asyncio.

The import-linter contracts (pyproject.toml) are checked by CI (`.ci/run` runs
lint-imports); this checks what they cannot see: what importing every classifier
module really loads, by whatever path (a third-party package's imports included).
"""

from __future__ import annotations

from tests.cli_support import ROOT, loaded_packages

FORBIDDEN = ("textual", "websockets", "asyncio", "monitor")


def test_importing_every_classifier_module_loads_no_forbidden_package() -> None:
    modules = sorted(
        f"classifier.{p.stem}" for p in (ROOT / "classifier").glob("*.py") if p.stem != "__init__"
    )
    loaded = loaded_packages(modules, FORBIDDEN)
    assert loaded == "", f"classifier imports {loaded}"
