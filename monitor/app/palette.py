"""The command palette offers every board action by name (Ctrl+P).

The actions come from the board's key table (`monitor.app.keys`) and run through
Textual's `run_action`, like their keys; the panels and queues come from the app
through `PaletteHost`, so this module does not import the app (which imports it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from functools import partial
from typing import Protocol, runtime_checkable

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Provider
from textual.fuzzy import FuzzySearch
from typing_extensions import override

from monitor.app.keys import commands
from monitor.board import Board
from monitor.text.safe_text import clean


@runtime_checkable
class PaletteHost(Protocol):
    """What the palette needs of its app besides Textual's `run_action`: the panels'
    titles and the board's queues to offer, and a way to filter by one queue."""

    @property
    def board(self) -> Board:
        """The board, whose queues the palette offers as filters."""
        ...

    def panel_titles(self) -> list[str]:
        """Panel titles in key order (1..5)."""
        ...

    def set_queue_filter(self, queue: str | None) -> None:
        """Show only one queue (None: all)."""
        ...


#: How matched letters look: bold and underlined read without colour too.
MATCH_STYLE = "bold underline"


def highlighted(name: str, offsets: Sequence[int]) -> Text:
    """The command's name with the letters the query matched styled.

    Textual's own `Matcher.highlight` reads the name as markup; names here carry queue
    names from the feed, so the name stays plain text and only the offsets are styled.
    """
    text = Text(name)
    for offset in offsets:
        if not name[offset].isspace():
            text.stylize(MATCH_STYLE, offset, offset + 1)
    return text


class BoardCommands(Provider):
    """Sort, filter, pause, mask, panels, help and quit, as palette commands."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.app
        if not isinstance(app, PaletteHost):
            return []  # another app's palette: it has none of the board's commands
        found: list[tuple[str, Callable[[], object], str]] = [
            (key.command, partial(app.run_action, key.action), key.command_help)
            for key in commands()
        ]
        for number, title in enumerate(app.panel_titles(), start=1):
            found.append(
                (
                    f"Show panel: {title}",
                    partial(app.run_action, f"panel({number})"),
                    f"key {number}",
                )
            )
        for queue in app.board.queues():
            found.append(
                (
                    f"Filter: queue {clean(queue, 40)}",
                    partial(app.set_queue_filter, queue),
                    "only this queue",
                )
            )
        return found

    @override
    async def discover(self) -> AsyncIterator[DiscoveryHit]:
        """Every command, for the palette before anything is typed."""
        for name, callback, help_text in self._commands():
            # Text, not str: a str would be read as markup, and queue names are feed text.
            yield DiscoveryHit(Text(name), callback, text=name, help=help_text)

    @override
    async def search(self, query: str) -> AsyncIterator[Hit]:
        """Commands whose names fuzzily match `query`, matched letters styled (not as markup)."""
        fuzzy = FuzzySearch()
        for name, callback, help_text in self._commands():
            score, offsets = fuzzy.match(query, name)
            if score > 0:
                yield Hit(score, highlighted(name, offsets), callback, text=name, help=help_text)
