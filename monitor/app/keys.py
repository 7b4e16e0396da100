"""Every key of the board in one table: the app's bindings, the help screen and the
palette's actions are built from it, so a key cannot be added to one and missed in
another.

A row is what the help screen shows (`keys`, `help`, in the order the help lists
them); the Textual bindings it stands for, if the app binds them (keys handled by
the tables, Textual's own Ctrl+P and the panel keys, built from the panel order in
`monitor.app.app`, have none here); and, for an action the palette offers, its name
there and a few words. The footer shows the bindings of `FOOTER_FIRST` (quit, help)
first, as a newcomer looks for them, then the others as the help lists them; the
palette lists its commands as the help does.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True, slots=True)
class Key:
    """One line of the help screen, with the bindings and palette command behind it."""

    #: The keys as the help screen writes them ("p or Space").
    keys: str
    #: What they do, on the help screen.
    help: str
    #: The app's bindings for them; none when a widget or Textual handles the keys.
    bindings: tuple[Binding, ...] = ()
    #: The palette's name for the action (empty: not in the palette) and its few words.
    command: str = ""
    command_help: str = ""

    @property
    def action(self) -> str:
        """The app action the keys run (the first binding's), or "" without a binding."""
        return self.bindings[0].action if self.bindings else ""


KEYS: tuple[Key, ...] = (
    Key("↑ ↓ PgUp PgDn", "move in the focused table (also Home, End, j, k)"),
    Key("Tab / Shift+Tab", "move between the active calls and the panels"),
    Key(
        "Enter",
        "the call's story: every event and the classifier's reasoning; on the agents "
        "panel, the agent's day (calls offered, pauses, logins)",
    ),
    Key(
        "1 … 6",
        "show the Completed, Missed, Abandoned, Voicemail, Not connected panel; 6 the agents",
    ),
    Key(
        "a or 6",
        "jump to the agents panel (tab 6 on small screens)",
        (Binding("a", "agents", "Agents"), Binding("6", "agents", "Agents", show=False)),
        "Agents panel",
        "every agent, their state and day",
    ),
    Key(
        "s",
        "next sort of active calls (longest waiting, longest call, in state, queue, caller)",
        (Binding("s", "sort", "Sort"),),
        "Sort: next order",
        "cycle the active-calls order",
    ),
    Key(
        "s on the agents panel",
        "next order of the agents (state, longest in state, name, most missed)",
    ),
    Key(
        "f",
        "filter by the next queue (cycles through queues, then all; agents: who serve it)",
        (Binding("f", "queue_filter", "Queue"),),
        "Filter: next queue",
        "cycle through queues",
    ),
    Key(
        "o",
        "filter by the next outcome (panels)",
        (Binding("o", "outcome_filter", "Outcome"),),
        "Filter: next outcome",
        "cycle through outcomes",
    ),
    Key(
        "/",
        "search caller, agent or call id (agents: name, pause reason, caller); "
        "Enter applies, Esc cancels",
        (Binding("slash", "search", "Search"),),
        "Search calls",
        "caller, agent or call id",
    ),
    Key(
        "c",
        "clear every filter and the search",
        (Binding("c", "clear_filters", "Clear", show=False),),
        "Clear filters",
        "show everything",
    ),
    Key(
        "p or Space",
        "pause the screen (the feed keeps being applied underneath)",
        (Binding("p,space", "pause", "Pause"),),
        "Pause / resume the screen",
        "the feed keeps running",
    ),
    Key(
        "m",
        "mask phone numbers",
        (Binding("m", "mask", "Mask", show=False),),
        "Mask / unmask numbers",
        "hide caller numbers",
    ),
    Key(
        "w",
        "the header and queue table count: today, the last 60 or the last 15 minutes",
        (Binding("w", "window", "Window", show=False),),
        "Window: today / last 60 / last 15 minutes",
        "what the header counts",
    ),
    Key(
        "W",
        "wall mode: big numbers for a TV across the room (W again: the board)",
        (Binding("W", "wall", "Wall"),),
        "Wall mode / board",
        "big numbers for a TV",
    ),
    Key("Ctrl+P", "command palette: every action by name"),
    Key(
        "?",
        "this help",
        (Binding("question_mark", "help", "Help"),),
        "Help: keys",
        "every key",
    ),
    Key(
        "q, Ctrl+C",
        "quit",
        (
            Binding("q", "quit", "Quit"),
            Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        ),
        "Quit",
        "leave the board",
    ),
)

#: The actions whose bindings lead the footer, in this order; the rest follow as listed.
FOOTER_FIRST = ("quit", "help")


def bindings() -> list[Binding]:
    """The app's bindings of `KEYS`: those of `FOOTER_FIRST` first, then in table order."""
    first = [key for action in FOOTER_FIRST for key in KEYS if key.action == action]
    rest = [key for key in KEYS if key.action not in FOOTER_FIRST]
    return [binding for key in (*first, *rest) for binding in key.bindings]


def commands() -> list[Key]:
    """The rows the palette offers as commands, in table order."""
    return [key for key in KEYS if key.command]
