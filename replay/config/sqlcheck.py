"""The rules a view's SQL must follow before the harness wraps it.

A view is spliced into ``SELECT … FROM (<view>) AS cases WHERE … ORDER BY … LIMIT $n``, so it
may not be empty or bring its own parameters, top-level ORDER BY / LIMIT / OFFSET / FETCH, a `;`
(even a trailing one: inside the parentheses it is a syntax error, so it is named here instead),
or a `)` that closes the harness's parenthesis. ORDER BY inside parentheses (a window, an
aggregate, a LATERAL subquery) is fine. The rules are checked on tokens from `tokens`, a lexer
that follows Postgres's lexical rules (standard_conforming_strings on, the default since 9.1), so
strings, quoted identifiers, dollar quotes and comments hide what they contain.

A lexer is used rather than pglast (Postgres's own parser) because every rule here is lexical,
and pglast is a large binary dependency tied to one Postgres grammar version while views may use
newer syntax. Reserved words are matched as words, so ``SELECT 1 AS limit`` is refused too; write
``AS "limit"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal, NamedTuple

from replay.errors import ViewError

_SPACE = " \t\n\r\f\v"
_WORD = re.compile(r"[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_$\x80-\U0010ffff]*")
_PARAM = re.compile(r"\$[0-9]+")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")
_LINE_END = re.compile(r"[\n\r]")
_COMMENT_MARK = re.compile(r"/\*|\*/")
_BANNED = {"LIMIT", "OFFSET", "FETCH"}

Kind = Literal["word", "string", "ident", "dollar", "param", "comment", "punct"]


class Token(NamedTuple):
    """One piece of SQL; whitespace is not a token.

    Attributes:
        kind: ``word``, ``string`` (any '…' form), ``ident`` ("…"), ``dollar`` ($tag$…$tag$),
            ``param`` ($1), ``comment`` or ``punct`` (any other single character).
        text: the token as written, quotes and comment markers included.
        pos: its offset in the SQL.
        depth: the parenthesis depth it sits at; a ``(`` or ``)`` sits at the outer depth, so a
            ``)`` with no ``(`` before it has depth -1.
    """

    kind: Kind
    text: str
    pos: int
    depth: int


# Opener → the whole quoted token, what it is, how to close it. `*+` is possessive so that a
# failed match cannot backtrack to a shorter string that ends at a `''`.
_QUOTES: dict[str, tuple[re.Pattern[str], str, str]] = {
    "'": (re.compile(r"'(?:[^']|'')*+'"), "string", "a closing ' (a ' inside is written '')"),
    "E'": (
        re.compile(r"[eE]'(?:[^'\\]|''|\\.)*+'", re.S),
        "E'…' string",
        r"a closing ' (a ' inside is written \' or '')",
    ),
    '"': (
        re.compile(r'"(?:[^"]|"")*+"'),
        "quoted identifier",
        'a closing " (a " inside is written "")',
    ),
}


def tokens(sql: str, origin: str) -> Iterator[Token]:
    """Yield the tokens of `sql` with their parenthesis depth.

    Words are read whole, so ``a$b`` is one identifier and ``somee'x'`` is a word then a string;
    only an E standing alone before the quote makes an escape string. U&'…', B'…', X'…' and N'…'
    follow the plain '' rule, so they lex as a word then a string.

    Raises:
        ViewError: a string, quoted identifier, dollar quote or block comment is not closed.
    """
    depth, i = 0, 0
    while i < len(sql):
        if sql[i] in _SPACE:
            i += 1
            continue
        kind, end = _scan(sql, i, origin)
        text = sql[i:end]
        depth -= text == ")"  # only a punct token can be a bare parenthesis
        yield Token(kind, text, i, depth)
        depth += text == "("
        i = end


def _scan(sql: str, start: int, origin: str) -> tuple[Kind, int]:
    """Return the kind and end offset of the token that starts at `start`."""
    char = sql[start]
    if sql.startswith("--", start):
        end = _LINE_END.search(sql, start)
        return "comment", end.start() if end else len(sql)
    if sql.startswith("/*", start):
        nesting = 0  # Postgres block comments nest: /* a /* b */ c */ is one comment
        for mark in _COMMENT_MARK.finditer(sql, start):
            nesting += 1 if mark.group() == "/*" else -1
            if nesting == 0:
                return "comment", mark.end()
        raise _unterminated(sql, start, origin, "/* comment", "a closing */ (comments nest)")
    opener = "E'" if char in "eE" and sql.startswith("'", start + 1) else char
    if opener in _QUOTES:  # E'…': a backslash escapes the next character, the quote included
        pattern, what, expected = _QUOTES[opener]
        if quoted := pattern.match(sql, start):
            return ("ident" if char == '"' else "string"), quoted.end()
        raise _unterminated(sql, start, origin, what, expected)
    if match := _WORD.match(sql, start) or _PARAM.match(sql, start):
        return ("param" if char == "$" else "word"), match.end()
    if tag := _DOLLAR_TAG.match(sql, start):
        close = sql.find(tag.group(), tag.end())
        if close < 0:
            raise _unterminated(sql, start, origin, "dollar quote", f"a closing {tag.group()}")
        return "dollar", close + len(tag.group())
    return "punct", start + 1


def _unterminated(sql: str, start: int, origin: str, what: str, expected: str) -> ViewError:
    """The one-line error for a quote or comment that runs to the end of the SQL."""
    line = sql.count("\n", 0, start) + 1
    column = start - sql.rfind("\n", 0, start)
    return ViewError(
        f"{origin}: unterminated {what} starting at line {line}, column {column}; "
        f"expected {expected}",
        view=origin,
    )


def check_view(sql: str, *, origin: str) -> None:
    """Raise ViewError naming `origin` when `sql` breaks a view rule."""
    code = [token for token in tokens(sql, origin) if token.kind != "comment"]
    if not code:
        raise ViewError(f"{origin}: the view is empty; expected a SELECT", view=origin)
    previous: Token | None = None
    for token in code:
        if token.kind == "param":
            raise ViewError(
                f"{origin}: the view uses parameter {token.text}; views take no "
                "parameters (the harness adds the filters)",
                view=origin,
            )
        if token.text == ";" and token.kind == "punct":
            raise ViewError(
                f"{origin}: the view contains ';'; expected a single SELECT without ';'",
                view=origin,
            )
        clause = _top_level_clause(token, previous)
        if clause:
            raise ViewError(
                f"{origin}: the view has a top-level {clause}; remove it (the harness orders "
                "by job_created_at DESC, case_id and applies --limit)",
                view=origin,
            )
        previous = token
    if not _balanced(code):
        raise ViewError(
            f"{origin}: the view has unbalanced parentheses; expected each '(' closed by a ')' "
            "within the view",
            view=origin,
        )


def _top_level_clause(token: Token, previous: Token | None) -> str | None:
    """The clause `token` ends at depth 0 (LIMIT, OFFSET, FETCH, ORDER BY) that the harness adds."""
    if token.kind != "word" or token.depth != 0:
        return None
    word = token.text.upper()
    if word in _BANNED:
        return word
    if word == "BY" and previous and previous.kind == "word" and previous.text.upper() == "ORDER":
        return "ORDER BY"  # `previous` is at depth 0 too: only a parenthesis changes the depth
    return None


def _balanced(code: list[Token]) -> bool:
    """Whether no ``)`` closes more than was opened and every ``(`` is closed."""
    parens = [token.text for token in code if token.kind == "punct" and token.text in "()"]
    return min(token.depth for token in code) >= 0 and parens.count("(") == parens.count(")")


def check_expression(sql: str, *, origin: str) -> None:
    """Raise ViewError when a predicate given on the command line could do more than filter.

    The predicate is spliced into one line of SQL, so a ``--`` comment would hide the rest of it.
    """
    own = list(tokens(sql, origin))
    if own and not _balanced(own):
        raise ViewError(f"{origin}: unbalanced parentheses in {sql!r}", view=origin)
    if any(token.kind == "comment" and token.text.startswith("--") for token in own):
        raise ViewError(
            f"{origin}: a -- comment in {sql!r} would hide the rest of the query; use /* … */",
            view=origin,
        )
    check_view(f"SELECT 1 WHERE ({sql})", origin=origin)
