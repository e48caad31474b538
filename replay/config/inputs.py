"""Files named on the command line: a manifest of case ids, a text file, a file to write later."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from replay.errors import UsageError

_EXPECTED = 'expected a JSON list of ids or {"cases": [{"id": ..., "tags": [...]}]}'


def manifest(path: Path) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """Read a manifest: a JSON list of ids, or ``{"cases": [{"id": ..., "tags": [...]}]}``.

    Returns:
        The ids in file order and the tags given per id.

    Raises:
        UsageError: the file cannot be read, is not JSON, has the wrong shape or repeats an id.
    """
    flag = f"--manifest {str(path)!r}"
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"{flag} cannot be read ({exc.strerror}); {_EXPECTED}") from None
    except orjson.JSONDecodeError:
        raise UsageError(f"{flag} is not valid JSON; {_EXPECTED}") from None
    tags: dict[str, tuple[str, ...]] = {}
    if isinstance(data, dict) and isinstance(data.get("cases"), list):
        ids = []
        for entry in data["cases"]:
            if not isinstance(entry, dict) or not _is_id(entry.get("id")):
                raise UsageError(f"{flag} has a case without an id; {_EXPECTED}")
            case_id = str(entry["id"])
            ids.append(case_id)
            entry_tags = entry.get("tags", [])
            if not isinstance(entry_tags, list) or not all(isinstance(t, str) for t in entry_tags):
                raise UsageError(f"{flag}: the tags of case {case_id!r} must be a list of strings")
            tags[case_id] = tuple(entry_tags)
    elif isinstance(data, list) and all(_is_id(item) for item in data):
        ids = [str(item) for item in data]
    else:
        raise UsageError(f"{flag} has the wrong shape; {_EXPECTED}")
    if not ids:
        raise UsageError(f"{flag} lists no case; {_EXPECTED}")
    seen: set[str] = set()
    for case_id in ids:
        if case_id in seen:
            raise UsageError(f"{flag} lists id {case_id!r} twice; expected each id once")
        seen.add(case_id)
    return tuple(ids), tags


def _is_id(value: Any) -> bool:
    return (isinstance(value, str) and bool(value.strip())) or (
        isinstance(value, int) and not isinstance(value, bool)
    )


def writable_file(flag: str, path: Path) -> Path:
    """A file the run will write at its end: its folder must exist now, not after an hour."""
    if not path.parent.is_dir():
        raise UsageError(f"{flag} {str(path)!r}: folder {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise UsageError(f"{flag} {str(path)!r} is a directory; expected a file path")
    return path


def read_text_file(flag: str, path: Path) -> str:
    """Read a UTF-8 text file given on the command line."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(
            f"{flag} {str(path)!r} cannot be read ({reason}); expected a text file"
        ) from None
