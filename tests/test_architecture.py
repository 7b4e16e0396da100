"""The classifier is the pure domain: it must never pull in the UI, the network or asyncio.

The import-linter contracts (pyproject.toml) are checked by CI (`.ci/run` runs
lint-imports); this checks what they cannot see: what importing every classifier
module really loads, by whatever path (a third-party package's imports included).
"""

from __future__ import annotations

import subprocess
import sys

from tests.cli_support import ROOT

FORBIDDEN = ("textual", "websockets", "asyncio", "monitor")


def test_importing_every_classifier_module_loads_no_forbidden_package() -> None:
    modules = sorted(
        f"classifier.{p.stem}" for p in (ROOT / "classifier").glob("*.py") if p.stem != "__init__"
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
        "print(','.join(sorted(bad)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "", f"classifier imports {done.stdout.strip()}"
