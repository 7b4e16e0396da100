"""Where each key of a TOML file is written: the line a config problem is told at.

`tomllib` gives a line only for syntax errors; a file that parses gives plain dicts,
with no positions, and pydantic's errors name a key path (`alerts.rules.1.above`),
not a line. So we find the lines ourselves, from the file's text: each table header
(`[a.b]`, `[[a.b]]`, counting the array's tables) and each `key =` line under it
(dotted and quoted keys too) is recorded with its key path. A problem is told at the
line of its key, or of the nearest enclosing key or table that was written (a key
missing from a table is told at the table's header; one inside an inline table at
the line that opens it). Multi-line strings are skipped so that their text is never
taken for keys. This reads only what tomllib already accepted, so it needs no
grammar of its own beyond headers, keys and strings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: A bare key, or a basic or literal quoted one.
_KEY = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]\]?")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=")
_PART = re.compile(_KEY)

Path = tuple[str | int, ...]


def _parts(dotted: str) -> tuple[str, ...]:
    parts = []
    for match in _PART.finditer(dotted):
        text = match.group(0)
        if text[0] == '"':
            text = text[1:-1].encode().decode("unicode_escape")
        elif text[0] == "'":
            text = text[1:-1]
        parts.append(text)
    return tuple(parts)


def key_lines(text: str) -> dict[Path, int]:
    """Each table and key of a TOML text by its path (array tables by index): its line."""
    lines: dict[Path, int] = {}
    arrays: dict[tuple[str, ...], int] = {}
    table: Path = ()
    in_string: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string is not None:
            if in_string in line:
                in_string = None
            continue
        header = _HEADER.match(line)
        if header is not None:
            names = _parts(header.group(2))
            if header.group(1) == "[[":
                index = arrays.get(names, -1) + 1
                arrays[names] = index
                table = (*_resolve(names, arrays), index)
            else:
                table = _resolve(names, arrays)
            lines.setdefault(table, number)
            continue
        assign = _ASSIGN.match(line)
        if assign is None:
            continue
        path = (*table, *_parts(assign.group(1)))
        lines.setdefault(path, number)
        rest = line[assign.end() :]
        for quote in ('"""', "'''"):
            if rest.count(quote) == 1:
                in_string = quote
    return lines


def _resolve(names: tuple[str, ...], arrays: dict[tuple[str, ...], int]) -> Path:
    """A header's path with the index of each array of tables it lies inside."""
    path: list[str | int] = []
    for end in range(1, len(names) + 1):
        path.append(names[end - 1])
        prefix = names[:end]
        if end < len(names) and prefix in arrays:
            path.append(arrays[prefix])
    return tuple(path)


def line_of(lines: dict[Path, int], path: Sequence[str | int]) -> int | None:
    """The line of `path`, or of its nearest written ancestor; None for the top of the file."""
    key = tuple(path)
    while key:
        if key in lines:
            return lines[key]
        key = key[:-1]
    return None
