"""The escaped building blocks of the run report: values, definition lists and tables.

Artifact text is written by strangers, so each block takes any value and escapes it; a block
that takes cells takes them already escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import datetime
from typing import Any


def esc(value: object) -> str:
    """Escape anything for text or a quoted attribute; None is empty."""
    return "" if value is None else html.escape(str(value), quote=True)


def num(value: object, spec: str = ".3f", unit: str = "") -> str:
    """Format a number, or escape whatever an older artifact put there."""
    if isinstance(value, bool) or value is None:
        return "—" if value is None else esc(value)
    if isinstance(value, int | float):
        return f"{value:{spec}}{unit}"
    return esc(value)


def money(usd: object) -> str:
    """Format dollars: cents from a dollar up, four significant digits below."""
    if not isinstance(usd, int | float) or isinstance(usd, bool):
        return num(usd)
    return f"${usd:,.2f}" if usd >= 1 else f"${usd:.4g}"


def when(value: object) -> object:
    """Shorten a UTC time (or its ISO text) to the second, easier to read; anything else as it is.

    A time in another offset, or without one, is shown whole in ISO 8601, as the artifact has it.
    """
    if isinstance(value, datetime):
        value = value.isoformat()
    if isinstance(value, str) and value[10:11] == "T" and value.endswith(("Z", "+00:00")):
        return f"{value[:10]} {value[11:19]} UTC"
    return value


def ids(items: list[Any], limit: int = 10) -> str:
    """List the first `limit` items and count the rest."""
    text = ", ".join(str(item) for item in items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")


def dl(pairs: Iterable[tuple[str, object]]) -> str:
    """Build a definition list of names and escaped values, leaving out empty strings."""
    items = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in pairs if v != "")
    return f'<dl class="meta">{items}</dl>'


def table(head: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """Build a table of already-escaped cells."""
    header = "".join(f"<th>{cell}</th>" for cell in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"
