"""Our code uses only the public parts of its dependencies (issue 14, item 1).

A private name of Textual, pydantic, websockets or the standard library can go in
any release, and a `getattr(..., None)` around it hides the day it does. This reads
the source of every package we ship (and the benchmarks) and lists what reaches
into someone else's privates:

- an attribute `x._name` whose `_name` our own code never defines (so it is not
  one of ours, whatever `x` is), or the same name as a string to getattr/hasattr;
- pydantic's own dunders (`__pydantic_fields_set__`, `__pydantic_validator__`):
  pydantic's documented API (`model_fields_set`, `TypeAdapter`) says the same;
- a name imported from another package that starts with `_`, or from a module the
  standard library documents only through its package (`json.encoder`'s
  undocumented C encoder: `json` documents `JSONEncoder`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.cli_support import ROOT

PACKAGES = ("classifier", "monitor", "bench")
#: Modules whose names are documented only as their package's (`json.JSONEncoder`).
UNDOCUMENTED_MODULES = ("json.encoder", "json.decoder", "json.scanner")
ACCESSORS = ("getattr", "hasattr", "setattr", "delattr")


def sources() -> Iterator[tuple[Path, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def defined_by_us(trees: list[ast.Module]) -> set[str]:
    """Every private name our code gives a meaning to: defs, classes, assignments, parameters."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.alias):
                names.add(node.asname or node.name)
    return {name for name in names if private(name)}


def ours(module: str | None, level: int) -> bool:
    return level > 0 or (module or "").split(".")[0] in (*PACKAGES, "tests")


def reaches_in(path: Path, tree: ast.Module, own: set[str]) -> Iterator[str]:
    where = path.relative_to(ROOT)
    for node in ast.walk(tree):
        at = f"{where}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Attribute):
            theirs = private(node.attr) and node.attr not in own
            if theirs or node.attr.startswith("__pydantic"):
                yield f"{at}: .{node.attr}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ACCESSORS
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and private(node.args[1].value)
            and node.args[1].value not in own
        ):
            yield f"{at}: {node.func.id}(..., {node.args[1].value!r})"
        elif isinstance(node, ast.ImportFrom) and not ours(node.module, node.level):
            for alias in node.names:
                if node.module in UNDOCUMENTED_MODULES or private(alias.name):
                    yield f"{at}: from {node.module} import {alias.name}"


def test_no_private_name_of_a_dependency_is_used() -> None:
    found = list(sources())
    own = defined_by_us([tree for _, tree in found])
    used = [use for path, tree in found for use in reaches_in(path, tree, own)]
    assert used == [], "private names of our dependencies:\n" + "\n".join(used)


#: The standard close codes (RFC 6455 and its registry); websockets names them in CloseCode.
STANDARD_CLOSE_CODES = range(1000, 1016)


def close_code_literals(path: Path, tree: ast.Module) -> Iterator[str]:
    """`ws.close(1008, ...)` or `frame.code == 1009`: a standard close code as a bare number."""
    where = path.relative_to(ROOT)
    for node in ast.walk(tree):
        numbers: list[ast.expr] = []
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "close":
                numbers = node.args[:1] + [k.value for k in node.keywords if k.arg == "code"]
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr.endswith("code") for s in sides):
                numbers = sides
        for number in numbers:
            if isinstance(number, ast.Constant) and number.value in STANDARD_CLOSE_CODES:
                yield f"{where}:{getattr(node, 'lineno', '?')}: close code {number.value!r}"


def test_standard_close_codes_go_by_websockets_names() -> None:
    used = [use for path, tree in sources() for use in close_code_literals(path, tree)]
    assert used == [], "use websockets.frames.CloseCode:\n" + "\n".join(used)
