"""Loading `replay.toml` (whose keys `config.keys` declares), every value checked by its rule.

A value here obeys the same rule as the flag and the variable that set the same thing
(`config.rules`), and a bad one is named by where it sits: ``replay.toml [selection] limit must
be a positive integer, got 0``. Unknown keys are an error, so a typo never goes unnoticed.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from replay.config import defaults
from replay.config.keys import TomlConfig
from replay.errors import UsageError


class LoadedToml:
    """A parsed `replay.toml` and the folder its relative paths start from."""

    def __init__(self, config: TomlConfig, path: Path | None) -> None:
        self.config = config
        self.path = path
        self.folder = path.parent if path else Path.cwd()

    def source(self, section: str, key: str) -> str:
        """How a message names a value of this file: ``replay.toml [selection] limit``."""
        return f"{self.path or defaults.CONFIG_FILE} [{section}] {key}"


def load_toml(path: Path | None, *, source: str = "--config") -> LoadedToml:
    """Load `path` (from `--config` or `REPLAY_CONFIG`), else `./replay.toml` if any, else nothing.

    Raises:
        UsageError: the file is missing, unreadable, not TOML, or has a bad value.
    """
    if path is not None:
        if path.is_dir():
            raise UsageError(f"{source} {str(path)!r} is a directory; expected a TOML file")
        if not path.is_file():
            raise UsageError(f"{source} {str(path)!r} does not exist; expected a TOML file")
    elif defaults.CONFIG_FILE.is_file():
        path = defaults.CONFIG_FILE
    else:
        return LoadedToml(TomlConfig(), None)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(f"{path} cannot be read ({reason}); expected a TOML file") from None
    try:
        return LoadedToml(TomlConfig.model_validate(data), path)
    except ValidationError as exc:
        raise UsageError(_message(path, exc.errors()[0])) from None


def _message(path: Path, error: Any) -> str:
    """One line naming the key as it sits in the file, the value and the expected form."""
    section, key = _where(error["loc"])
    place = f"{path} [{section}] {key}" if key else f"{path} [{section}]"
    # [database] values may be a URL pasted where a variable name belongs: never echo them.
    secret = error["loc"][:1] == ("database",)
    if error["type"] == "rejected":
        shown = "" if secret else f", got {error['ctx']['shown']!r}"
        return f"{place} must be {error['ctx']['expected']}{shown}"
    if error["type"] == "extra_forbidden":
        known = "key" if key else "table"
        return f"{place} is not a known {known}; check its spelling against the reference"
    value = error.get("input")
    shown = "" if isinstance(value, dict) or secret else f", got {value!r}"
    return f"{place}: {error['msg'][:1].lower()}{error['msg'][1:]}{shown}"


def _where(loc: tuple[Any, ...]) -> tuple[str, str]:
    """Split a location into its TOML table and key: `invariants.clients.acme`, `sms_max_chars`."""
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int) and parts:
            parts[-1] += f"[{part}]"
        else:
            parts.append(str(part))
    if len(parts) == 1:
        return parts[0], ""
    return ".".join(parts[:-1]), parts[-1]
