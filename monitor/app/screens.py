"""Screens over the board: a call's story, the help, and the search box."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static
from typing_extensions import override

from monitor.app.keys import KEYS
from monitor.story import Story
from monitor.text.masking import mask_number
from monitor.text.safe_text import clean


class StoryBody(Static):
    """The lines of a story, each kind in its own style (time, rule, skipped rule, note)."""

    DEFAULT_CSS = """
    StoryBody {
        & > .story--time { color: $text-muted; }
        & > .story--event { }
        & > .story--rule { text-style: bold; color: $success; }
        & > .story--skip { color: $text-muted; }
        & > .story--note { text-style: italic; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "story--time",
        "story--event",
        "story--rule",
        "story--skip",
        "story--note",
    }

    def __init__(self, story: Story, mask: bool) -> None:
        super().__init__(id="story-body")
        self.story = story
        self.mask = mask

    def _text(self, value: str) -> str:
        text = clean(value, 400)
        return mask_number(text) if self.mask else text

    def on_mount(self) -> None:
        """Each line: its time, then its text in its kind's style (cleaned, masked if asked)."""
        body = Text()
        time_style = self.get_component_rich_style("story--time")
        for line in self.story.lines:
            at = line.at.strftime("%H:%M:%S") if line.at is not None else "        "
            body.append(f"{at}  ", style=time_style)
            body.append(
                self._text(line.text),
                style=self.get_component_rich_style(f"story--{line.kind.value}"),
            )
            body.append("\n")
        self.update(body)


class StoryScreen(ModalScreen[None]):
    """A call's timeline: events with their times, then why it got its outcome."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,enter", "dismiss", "Close"),
    ]

    def __init__(self, story: Story, mask: bool) -> None:
        super().__init__()
        self.story = story
        self.mask = mask

    @override
    def compose(self) -> ComposeResult:
        """The title, the story's lines in a scrolling box, then the hint that Esc closes."""
        title = clean(self.story.title, 200)
        with Vertical(id="story-box"):
            yield Label(Text(mask_number(title) if self.mask else title), id="story-title")
            with VerticalScroll(id="story-scroll"):
                yield StoryBody(self.story, self.mask)
            yield Label("Esc closes", id="story-hint")


class HelpScreen(ModalScreen[None]):
    """Every key the board knows."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, repaint_hz: float = 10.0) -> None:
        super().__init__()
        self.repaint_hz = repaint_hz

    @override
    def compose(self) -> ComposeResult:
        """Title; the keys and a note on row marks and redraw rate, scrolling; the hint to close."""
        # A grid keeps each description wrapping inside its own column.
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, style="bold")  # the keys stand out, colour or not
        table.add_column(ratio=1)
        for key in KEYS:
            table.add_row(key.keys, key.help)
        note = Text(
            "\nRows marked ! wait longer than their queue's service-level threshold; "
            "!! longer than twice that.\n"
            "Agents marked ! have been paused over 15 min, in wrap-up over 2 min or "
            "ringing over 30 s; !! over twice that.\n"
            f"The screen is redrawn at most {self.repaint_hz:g} times a second "
            "(twice over SSH unless --refresh-rate says otherwise)."
        )
        with Vertical(id="help-box"):
            yield Label("callboard: keys", id="help-title")
            with VerticalScroll():
                yield Static(table, id="help-body")
                yield Static(note)
            yield Label("Esc closes", id="help-hint")


class SearchScreen(ModalScreen[str | None]):
    """A one-line search box; returns the text, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    @override
    def compose(self) -> ComposeResult:
        """A prompt above an input that starts with the current search text."""
        with Vertical(id="search-box"):
            yield Label("Search caller, agent or call id (empty shows all)")
            yield Input(value=self.current, id="search-input", max_length=128)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Close with the text entered, spaces trimmed (empty clears the search)."""
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        """Close with None: the search stays as it was."""
        self.dismiss(None)
