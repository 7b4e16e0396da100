"""Finding callboard.toml and reading it into a `Config`, or every problem it has.

Where: `--config PATH`, else `$CALLBOARD_CONFIG`, else `callboard.toml` in the user
config directory (`platformdirs`: ~/.config/callboard on Linux); none of them is
no file at all (the defaults). A path given by flag or variable must exist.

A problem is told as `FILE:LINE: KEY: WHAT` (`monitor.config.lines` finds the line),
every problem of the file at once, so one `config check` shows all there is to fix.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from pydantic import ValidationError
from typing_extensions import override

from monitor.config.lines import key_lines, line_of
from monitor.config.models import Config

#: The environment variable naming the file when `--config` is not given.
CONFIG_VARIABLE = "CALLBOARD_CONFIG"
FILE_NAME = "callboard.toml"


@dataclass(frozen=True, slots=True)
class Problem:
    """One wrong thing in a config file."""

    path: str
    line: int | None
    key: str
    message: str

    @override
    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(ValueError):
    """A config file that cannot be used; `problems` lists all of them."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def user_config_path() -> Path:
    """Where the file is looked for when neither flag nor variable names one."""
    return platformdirs.user_config_path("callboard") / FILE_NAME


def find_config(flag: str | None, environ: Mapping[str, str] = os.environ) -> Path | None:
    """The file to read: the flag's, the variable's (either must exist), or the user's if any."""
    if flag:
        return Path(flag)
    named = environ.get(CONFIG_VARIABLE)
    if named:
        return Path(named)
    default = user_config_path()
    return default if default.is_file() else None


def load_config(
    flag: str | None = None, environ: Mapping[str, str] = os.environ
) -> tuple[Config, Path | None]:
    """The config in effect, and the file it came from; raises ConfigError."""
    path = find_config(flag, environ)
    if path is None:
        return Config(), None
    return read_config(path), path


def read_config(path: Path) -> Config:
    """One file, validated; raises ConfigError with every problem found."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(shown, None, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(shown, None, "", f"cannot be read: {exc}")]) from None
    return parse_config(text, shown)


_AT_LINE = re.compile(r"\s*\(at line (\d+), column \d+\)$")


def parse_config(text: str, shown: str) -> Config:
    """A file's text, validated; `shown` names the file in problems."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = _AT_LINE.search(message)
        line = int(at.group(1)) if at else None
        message = _AT_LINE.sub("", message)
        raise ConfigError([Problem(shown, line, "", f"TOML syntax: {message}")]) from None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        lines = key_lines(text)
        problems = []
        for error in exc.errors():
            loc = error["loc"]
            key = "".join(_key_text(part) for part in loc).removeprefix(".")
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = "unknown key"
            elif message.startswith("Value error, "):
                message = message.removeprefix("Value error, ")
            problems.append(Problem(shown, line_of(lines, loc), key, message))
        problems.sort(key=lambda p: (p.line or 0, p.key))
        raise ConfigError(problems) from None
    misplaced = config.misplaced()
    if misplaced:
        lines = key_lines(text)
        raise ConfigError(
            [
                Problem(shown, line_of(lines, path), "".join(map(_key_text, path))[1:], why)
                for path, why in misplaced
            ]
        )
    return config


def _key_text(part: str | int) -> str:
    """A key path element as the file writes it: a quoted key where it is not bare."""
    if isinstance(part, int):
        return f"[{part}]"
    return "." + (part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else f'"{part}"')
