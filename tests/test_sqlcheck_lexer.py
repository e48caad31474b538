"""The view lexer: tokens end where Postgres ends them, with the parenthesis depth they sit at."""

from __future__ import annotations

import re
import time

import pytest

from replay.config.sqlcheck import Token, tokens
from replay.errors import ViewError


def kinds(sql: str) -> list[tuple[str, str, int]]:
    """The (kind, text, depth) of each token of `sql`."""
    return [(token.kind, token.text, token.depth) for token in tokens(sql, "v.sql")]


def test_each_quote_and_comment_form_is_one_token() -> None:
    """E'…', '…', "…", $tag$…$tag$, nested /* */ and -- comments end where Postgres ends them."""
    sql = "SELECT E'\\'', 'C:\\', \"a\"\"b\", $t$ $x$ $t$ /* a /* b */ c */ -- d\n;"
    assert kinds(sql) == [
        ("word", "SELECT", 0),
        ("string", "E'\\''", 0),
        ("punct", ",", 0),
        ("string", "'C:\\'", 0),
        ("punct", ",", 0),
        ("ident", '"a""b"', 0),
        ("punct", ",", 0),
        ("dollar", "$t$ $x$ $t$", 0),
        ("comment", "/* a /* b */ c */", 0),
        ("comment", "-- d", 0),
        ("punct", ";", 0),
    ]


def test_words_are_read_whole() -> None:
    """`$` inside a word, an E ending a word and a digit-led $ are not quotes."""
    assert kinds("a$b somee'x' $1$ limited") == [
        ("word", "a$b", 0),
        ("word", "somee", 0),
        ("string", "'x'", 0),
        ("param", "$1", 0),
        ("punct", "$", 0),
        ("word", "limited", 0),
    ]


def test_parentheses_sit_at_the_outer_depth() -> None:
    """Tokens inside parentheses are one deeper; a stray `)` goes below zero."""
    assert kinds("f(a, (b)) )") == [
        ("word", "f", 0),
        ("punct", "(", 0),
        ("word", "a", 1),
        ("punct", ",", 1),
        ("punct", "(", 1),
        ("word", "b", 2),
        ("punct", ")", 1),
        ("punct", ")", 0),
        ("punct", ")", -1),
    ]


def test_token_records_its_offset() -> None:
    """`pos` is the offset of the token's first character in the SQL."""
    assert list(tokens("  x\n 'y'", "v.sql")) == [
        Token("word", "x", 2, 0),
        Token("string", "'y'", 5, 0),
    ]


@pytest.mark.parametrize(
    ("sql", "what"),
    [
        pytest.param("'" + "a''" * 200_000, "string", id="string"),
        pytest.param("E'" + "\\'" * 200_000, "E'…' string", id="e-string"),
        pytest.param('"' + 'a""' * 200_000, "quoted identifier", id="identifier"),
        pytest.param("/* /*" + " */ /*" * 200_000, "/* comment", id="comment"),
        pytest.param("$a$" + "$b$" * 200_000, "dollar quote", id="dollar"),
    ],
)
def test_long_unterminated_input_fails_fast(sql: str, what: str) -> None:
    """An unclosed quote in a large file is a prompt ViewError, not a hang (linear scanning)."""
    started = time.monotonic()
    with pytest.raises(
        ViewError, match=f"^v.sql: unterminated {re.escape(what)} starting at line 1, column 1; "
    ):
        list(tokens(sql, "v.sql"))
    assert time.monotonic() - started < 5.0
