"""The view rules: what a view may not contain before the harness wraps it."""

from __future__ import annotations

from importlib import resources

import pytest

from replay.config.sqlcheck import check_view
from replay.errors import ViewError


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        pytest.param("SELECT * FROM t WHERE a = $1", "uses parameter $1", id="parameter"),
        pytest.param("SELECT * FROM t;", "contains ';'", id="semicolon"),
        pytest.param("SELECT * FROM t ORDER BY a", "top-level ORDER BY", id="order-by"),
        pytest.param("SELECT * FROM t order\n  by a", "top-level ORDER BY", id="order-by-split"),
        pytest.param("SELECT * FROM t LIMIT 5", "top-level LIMIT", id="limit"),
        pytest.param("SELECT * FROM t OFFSET 5", "top-level OFFSET", id="offset"),
        pytest.param("SELECT a FROM t UNION SELECT b FROM u ORDER BY 1", "ORDER BY", id="union"),
        pytest.param("   \n", "the view is empty", id="empty"),
    ],
)
def test_rule_breaking_view_is_rejected_naming_the_file(sql: str, fragment: str) -> None:
    """A view with parameters, ';', top-level ORDER BY/LIMIT/OFFSET is refused, naming its file."""
    with pytest.raises(ViewError) as caught:
        check_view(sql, origin="views/cases.sql")
    assert str(caught.value).startswith("views/cases.sql: ")
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param("SELECT 'a; $1 ORDER BY x LIMIT 1' AS s FROM t", id="in-string"),
        pytest.param('SELECT 1 AS "limit" FROM t', id="quoted-identifier"),
        pytest.param("SELECT 1 -- ORDER BY x; LIMIT 2\nFROM t", id="line-comment"),
        pytest.param("SELECT 1 /* ; $2 LIMIT */ FROM t", id="block-comment"),
        pytest.param("SELECT $fn$ ; ORDER BY $fn$ AS body", id="dollar-quote"),
        pytest.param("SELECT row_number() OVER (ORDER BY a) FROM t", id="window"),
        pytest.param("SELECT array_agg(a ORDER BY a) FROM t", id="aggregate"),
        pytest.param(
            "SELECT * FROM t LEFT JOIN LATERAL (SELECT 1 FROM u ORDER BY x LIMIT 1) AS l ON true",
            id="lateral",
        ),
        pytest.param("SELECT 'it''s; LIMIT' FROM t", id="escaped-quote"),
    ],
)
def test_allowed_view_passes(sql: str) -> None:
    """ORDER BY, LIMIT, ';' and $n inside strings, comments or parentheses are fine."""
    check_view(sql, origin="v.sql")


@pytest.mark.parametrize("name", ["cases", "thread", "clients"])
def test_built_in_views_follow_the_rules(name: str) -> None:
    """The reference schema's own views pass the rules they enforce."""
    sql = resources.files("replay.config.sql").joinpath(f"{name}.sql").read_text()
    check_view(sql, origin=name)
