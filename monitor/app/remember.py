"""What the user chose on the board stays chosen: the theme, the sort and the filters.

Saved when the board ends to `board.json` in the user state directory
(`platformdirs`: ~/.local/state/callboard on Linux) and restored when the next
board starts. A `[board]` key of callboard.toml (`sort`, `theme`) wins over what was
saved, as a flag would. The file is ours but may be damaged or from another
version: one that cannot be read is left out (the board starts with its defaults
and says so among its problems) and overwritten at the end. Written to a temporary
file and renamed, so a board killed while saving leaves the old file whole.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs
from pydantic import BaseModel, ConfigDict, ValidationError

from classifier.verdict import Outcome
from monitor.app.view import ViewState
from monitor.board import Filter, SortKey
from monitor.config.models import BoardSection

STATE_FILE = "board.json"
#: The longest search text kept (the search box takes no more).
MAX_TEXT = 200


class Choices(BaseModel):
    """The saved choices; every field may be missing."""

    model_config = ConfigDict(extra="ignore")

    theme: str | None = None
    sort: SortKey | None = None
    queue: str | None = None
    outcome: Outcome | None = None
    text: str = ""


def state_path() -> Path:
    """Where the choices are kept."""
    return platformdirs.user_state_path("callboard") / STATE_FILE


def load_choices(path: Path) -> tuple[Choices, str | None]:
    """The saved choices, and a problem to show when the file could not be used."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Choices(), None
    except (OSError, UnicodeDecodeError) as exc:
        return Choices(), f"saved board choices {path} not read: {exc}"
    try:
        return Choices.model_validate_json(raw), None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the file"
        return Choices(), f"saved board choices {path} not used: {where}: {first['msg']}"


def restore(view: ViewState, saved: Choices, board: BoardSection) -> str | None:
    """Apply the saved choices to the view, the config's `[board]` over them; the theme to use."""
    sort = board.sort_key or saved.sort
    if sort is not None:
        view.sort = sort
    view.filter = Filter(saved.queue, saved.outcome, saved.text[:MAX_TEXT])
    return board.theme or saved.theme


def save_choices(path: Path, view: ViewState, theme: str) -> None:
    """Write the view's sort and filters and the theme; OSError when it cannot be written."""
    choices = Choices(
        theme=theme,
        sort=view.sort,
        queue=view.filter.queue,
        outcome=view.filter.outcome,
        text=view.filter.text[:MAX_TEXT],
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(choices.model_dump(mode="json"), indent=1) + "\n")
    os.replace(temporary, path)
