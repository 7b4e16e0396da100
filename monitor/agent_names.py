"""Agents' display names (callboard.toml `[agents]`: `"Agent/1127" = "Priya"`).

A PBX names agents by interface or number; people on the floor by name. The board
shows the display name wherever it names an agent (the agents panel, an agent's
day, the active rows' state, a call's story, the outcome panels' reasons), and a
search finds an agent by either. The id stays the key everywhere else: the
figures, the hub, `classify` and `report` (whose records are data, not a screen)
are unchanged.

Where the board holds structured agents (an agent's row, a call's agent) the name
is looked up (`show`). The call's story and a verdict's reason are already words
("rang Agent/1127 (no answer)"), made once as the event or verdict arrives, so
`text` puts the names into a line: each configured id that stands alone, not part
of a longer id ("SIP/1127" is not "1127"), is replaced. The names are the
centre's text but are drawn as feed text is: every place that shows them cleans
them first (`monitor.text.safe_text.clean`), so a name can carry no markup or
escape to the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from monitor.story import Story

#: Characters an agent id is made of beyond letters and digits: a match must not
#: touch one of these (or a word character) on either side.
_ID_CHARS = r"\w/@-"


class AgentNames:
    """Display names by agent id; an agent without one is shown by its id."""

    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        self.names: dict[str, str] = {k: v for k, v in (names or {}).items() if k}
        self._pattern: re.Pattern[str] | None = None
        if self.names:
            # Longest first, so that an id that contains another is matched whole.
            ids = sorted(self.names, key=len, reverse=True)
            alternatives = "|".join(re.escape(agent) for agent in ids)
            self._pattern = re.compile(rf"(?<![{_ID_CHARS}])(?:{alternatives})(?![{_ID_CHARS}])")

    def __bool__(self) -> bool:
        return bool(self.names)

    def show(self, agent: str) -> str:
        """The name the board shows for an agent id."""
        return self.names.get(agent, agent)

    def text(self, line: str) -> str:
        """A line of words with each configured agent id replaced by its name."""
        if self._pattern is None:
            return line
        return self._pattern.sub(lambda match: self.names[match.group(0)], line)

    def story(self, story: Story) -> Story:
        """A call's or an agent's story with the names put in (title and every line)."""
        if self._pattern is None:
            return story
        lines = tuple(replace(line, text=self.text(line.text)) for line in story.lines)
        return replace(story, title=self.text(story.title), lines=lines)

    def search_text(self, agent: str) -> tuple[str, ...]:
        """What a search looks at for an agent: the id, and the name when there is one."""
        name = self.names.get(agent)
        return (agent,) if name is None else (agent, name)
