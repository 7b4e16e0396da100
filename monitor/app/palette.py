"""The command palette offers every board action by name (Ctrl+P).

The actions come from the board's key table (`monitor.app.keys`) and run through
Textual's `run_action`, like their keys.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Provider
from textual.fuzzy import FuzzySearch

from monitor.app.keys import commands as palette_commands
from monitor.safe_text import clean

if TYPE_CHECKING:
    from monitor.app.app import CallboardApp


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
        app: CallboardApp = self.app  # type: ignore[assignment]
        commands: list[tuple[str, Callable[[], object], str]] = [
            (key.command, partial(app.run_action, key.action), key.command_help)
            for key in palette_commands()
        ]
        for number, title in enumerate(app.panel_titles(), start=1):
            commands.append(
                (f"Show panel: {title}", partial(app.action_panel, number), f"key {number}")
            )
        for queue in app.board.queues():
            commands.append(
                (
                    f"Filter: queue {clean(queue, 40)}",
                    partial(app.set_queue_filter, queue),
                    "only this queue",
                )
            )
        return commands

    async def discover(self) -> AsyncIterator[DiscoveryHit]:
        """Every command, for the palette before anything is typed."""
        for name, callback, help_text in self._commands():
            # Text, not str: a str would be read as markup, and queue names are feed text.
            yield DiscoveryHit(Text(name), callback, text=name, help=help_text)

    async def search(self, query: str) -> AsyncIterator[Hit]:
        """Commands whose names fuzzily match `query`, matched letters styled (not as markup)."""
        fuzzy = FuzzySearch()
        for name, callback, help_text in self._commands():
            score, offsets = fuzzy.match(query, name)
            if score > 0:
                yield Hit(score, highlighted(name, offsets), callback, text=name, help=help_text)
