"""The rules a view's SQL must follow before the harness wraps it.

A view is spliced into ``SELECT … FROM (<view>) AS cases WHERE … ORDER BY … LIMIT $n``, so it
may not bring its own parameters, top-level ORDER BY / LIMIT / OFFSET / FETCH, or a `;`. Strings,
quoted identifiers, dollar quotes and comments are skipped, and ORDER BY inside parentheses (a
window, an aggregate, a LATERAL subquery) is allowed.
"""

from __future__ import annotations

import re

from replay.errors import ViewError

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_PARAM = re.compile(r"\$[0-9]+")
_TOP_LEVEL_BANNED = {"LIMIT": "LIMIT", "OFFSET": "OFFSET", "FETCH": "FETCH"}


def check_view(sql: str, *, origin: str) -> None:
    """Raise ViewError naming `origin` when `sql` breaks a view rule."""
    if not sql.strip():
        raise ViewError(f"{origin}: the view is empty; expected a SELECT", view=origin)
    depth = 0
    previous_word = ""
    i = 0
    n = len(sql)
    while i < n:
        char = sql[i]
        if char == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if char == "/" and sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if char in "'\"":
            i = _skip_quoted(sql, i, char)
            continue
        if char == "$":
            param = _PARAM.match(sql, i)
            if param:
                raise ViewError(
                    f"{origin}: the view uses parameter {param.group()}; views take no "
                    "parameters (the harness adds the filters)",
                    view=origin,
                )
            tag = _DOLLAR_TAG.match(sql, i)
            if tag:
                end = sql.find(tag.group(), tag.end())
                i = n if end < 0 else end + len(tag.group())
                continue
        if char == ";":
            raise ViewError(
                f"{origin}: the view contains ';'; expected a single SELECT without ';'",
                view=origin,
            )
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        word = _WORD.match(sql, i)
        if word:
            upper = word.group().upper()
            if depth == 0 and (
                upper in _TOP_LEVEL_BANNED or (upper == "BY" and previous_word == "ORDER")
            ):
                clause = "ORDER BY" if upper == "BY" else upper
                raise ViewError(
                    f"{origin}: the view has a top-level {clause}; remove it (the harness orders "
                    "by job_created_at DESC, case_id and applies --limit)",
                    view=origin,
                )
            previous_word = upper
            i = word.end()
            continue
        if not char.isspace():
            previous_word = ""
        i += 1


def _skip_quoted(sql: str, start: int, quote: str) -> int:
    """Return the index after the quoted token starting at `start` ('' and "" escape)."""
    i = start + 1
    while i < len(sql):
        if sql[i] == quote:
            if i + 1 < len(sql) and sql[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return i


def check_expression(sql: str, *, origin: str) -> None:
    """Raise ViewError when a predicate given on the command line could do more than filter."""
    check_view(f"SELECT 1 WHERE ({sql})", origin=origin)
    depth = 0
    for char in sql:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise ViewError(f"{origin}: unbalanced parentheses in {sql!r}", view=origin)
