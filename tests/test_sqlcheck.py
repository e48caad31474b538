"""The view rules: what a view may not contain before the harness wraps it."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from replay.config.sqlcheck import check_expression, check_view
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


ORIGIN = "views/cases.sql"
TOP_LEVEL = (
    "views/cases.sql: the view has a top-level {}; remove it (the harness orders by "
    "job_created_at DESC, case_id and applies --limit)"
)


@pytest.mark.parametrize(
    ("sql", "clause"),
    [
        pytest.param(
            r"SELECT E'\'' AS a FROM t ORDER BY a LIMIT 1", "ORDER BY", id="e-escaped-quote"
        ),
        pytest.param(r"SELECT e'\\' AS a FROM t LIMIT 1", "LIMIT", id="e-lower-escaped-backslash"),
        pytest.param(r"SELECT somee'\' AS a FROM t LIMIT 1", "LIMIT", id="e-inside-a-word"),
        pytest.param(r"SELECT 'C:\' AS path FROM t LIMIT 1", "LIMIT", id="plain-backslash"),
        pytest.param("SELECT 'a''' AS q FROM t OFFSET 1", "OFFSET", id="doubled-quote-at-end"),
        pytest.param('SELECT "a""b" FROM t FETCH FIRST 1 ROW ONLY', "FETCH", id="doubled-ident"),
        pytest.param("SELECT 1 FROM t LiMiT ALL", "LIMIT", id="limit-all-any-case"),
        pytest.param(
            "SELECT 1 FROM t oRdEr /* c */ -- x\n bY 1", "ORDER BY", id="order-comment-by"
        ),
        pytest.param("SELECT 1 FROM t -- note\rLIMIT 1", "LIMIT", id="comment-ends-at-cr"),
        pytest.param("SELECT $a$ $b$ ; $a$ FROM t LIMIT 1", "LIMIT", id="dollar-other-tag"),
        pytest.param("SELECT 1 /* a /* b */ c */ FROM t OFFSET 2", "OFFSET", id="after-nested"),
    ],
)
def test_clause_after_a_quote_or_comment_is_still_top_level(sql: str, clause: str) -> None:
    """Quotes and comments end where Postgres ends them, so a clause after them is still seen."""
    with pytest.raises(ViewError, match=f"^{re.escape(TOP_LEVEL.format(clause))}$"):
        check_view(sql, origin=ORIGIN)


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param(r"SELECT E'it\'s' AS a, 'a;b' AS b FROM t", id="e-string"),
        pytest.param(r"SELECT e'\'; LIMIT 1' AS a FROM t", id="e-lower"),
        pytest.param(r"SELECT 'C:\' AS path FROM t WHERE note <> 'LIMIT 1'", id="plain-backslash"),
        pytest.param("SELECT U&'it''s; LIMIT' AS u, B'1010', X'1F', N'n' FROM t", id="prefixed"),
        pytest.param("SELECT date'2024-01-01' AS d FROM t", id="typed-literal"),
        pytest.param('SELECT "Message"."leadId", "a""b", "LIMIT" FROM "Message"', id="idents"),
        pytest.param('SELECT 1 AS "a"" LIMIT 1" FROM t', id="ident-doubled-quote"),
        pytest.param("SELECT $$;$1 LIMIT 'x$$ AS a, $t_1$ $$ ORDER BY $t_1$ AS b", id="dollar"),
        pytest.param("SELECT a$b, x$1 FROM t", id="dollar-in-identifier"),
        pytest.param("SELECT 1 /* a /* b */ LIMIT 1 */ FROM t", id="nested-comment"),
        pytest.param("SELECT 1 FROM t -- ; LIMIT 1", id="comment-to-end"),
        pytest.param(
            "SELECT limited, offset_days, order_by_col, fetcher FROM t", id="not-keywords"
        ),
        pytest.param("SELECT 1 FROM t WHERE note = ')' AND x = '('", id="parens-in-strings"),
    ],
)
def test_lexically_hidden_rule_words_pass(sql: str) -> None:
    """';', $n, LIMIT and parentheses inside any Postgres quote or comment are not seen."""
    check_view(sql, origin=ORIGIN)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        pytest.param(
            "SELECT 'abc FROM t",
            "unterminated string starting at line 1, column 8; "
            "expected a closing ' (a ' inside is written '')",
            id="string",
        ),
        pytest.param(
            "SELECT\n  'a''",
            "unterminated string starting at line 2, column 3; "
            "expected a closing ' (a ' inside is written '')",
            id="string-ending-in-doubled-quote",
        ),
        pytest.param(
            r"SELECT E'it\' FROM t",
            "unterminated E'…' string starting at line 1, column 8; "
            r"expected a closing ' (a ' inside is written \' or '')",
            id="e-string",
        ),
        pytest.param(
            'SELECT "abc FROM t',
            "unterminated quoted identifier starting at line 1, column 8; "
            'expected a closing " (a " inside is written "")',
            id="identifier",
        ),
        pytest.param(
            "SELECT 1\n/* a /* b */ FROM t",
            "unterminated /* comment starting at line 2, column 1; "
            "expected a closing */ (comments nest)",
            id="nested-comment",
        ),
        pytest.param(
            "SELECT $fn$ body $fn FROM t",
            "unterminated dollar quote starting at line 1, column 8; expected a closing $fn$",
            id="dollar",
        ),
    ],
)
def test_unterminated_quote_or_comment_is_one_clear_line(sql: str, message: str) -> None:
    """A quote or comment left open names the file, where it starts and how to close it."""
    with pytest.raises(ViewError, match=f"^{re.escape(f'{ORIGIN}: {message}')}$"):
        check_view(sql, origin=ORIGIN)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        pytest.param(
            "SELECT $12 FROM t",
            "the view uses parameter $12; views take no parameters (the harness adds the filters)",
            id="parameter",
        ),
        pytest.param(
            "SELECT $1$ FROM t",
            "the view uses parameter $1; views take no parameters (the harness adds the filters)",
            id="digit-is-no-tag",
        ),
        pytest.param(
            "SELECT $$x$$ WHERE a = $1",
            "the view uses parameter $1; views take no parameters (the harness adds the filters)",
            id="after-dollar-quote",
        ),
        pytest.param(
            "SELECT 1 FROM t;  -- done\n/* end */\n",
            "the view contains ';'; expected a single SELECT without ';'",
            id="trailing-semicolon",
        ),
        pytest.param(
            "-- nothing here\n/* or here */\n",
            "the view is empty; expected a SELECT",
            id="only-comments",
        ),
        pytest.param(
            "SELECT 1 FROM t) AS x CROSS JOIN (SELECT 2",
            "the view has unbalanced "
            "parentheses; expected each '(' closed by a ')' within the view",
            id="closes-the-wrapper",
        ),
        pytest.param(
            "SELECT (1 FROM t",
            "the view has unbalanced parentheses; expected each "
            "'(' closed by a ')' within the view",
            id="unclosed",
        ),
    ],
)
def test_other_rules_name_the_file_exactly(sql: str, message: str) -> None:
    """Parameters, any ';' (a trailing one too), emptiness and stray parentheses are refused."""
    with pytest.raises(ViewError, match=f"^{re.escape(f'{ORIGIN}: {message}')}$"):
        check_view(sql, origin=ORIGIN)


@pytest.mark.parametrize(
    ("predicate", "message"),
    [
        pytest.param("(true", "--canary: unbalanced parentheses in '(true'", id="unclosed"),
        pytest.param(
            "true) OR (1=1", "--canary: unbalanced parentheses in 'true) OR (1=1'", id="reopened"
        ),
        pytest.param(
            "true -- all",
            "--canary: a -- comment in 'true -- all' would hide the rest of the query; use /* … */",
            id="line-comment",
        ),
        pytest.param(
            "cohort = 'b",
            "--canary: unterminated string starting at line 1, column 10; "
            "expected a closing ' (a ' inside is written '')",
            id="unterminated",
        ),
        pytest.param(
            "true; DELETE FROM t",
            "--canary: the view contains ';'; expected a single SELECT without ';'",
            id="semicolon",
        ),
    ],
)
def test_bad_predicate_is_refused(predicate: str, message: str) -> None:
    """A --canary predicate must stay one balanced boolean expression on one line."""
    with pytest.raises(ViewError, match=f"^{re.escape(message)}$"):
        check_expression(predicate, origin="--canary")


@pytest.mark.parametrize(
    "predicate",
    [
        pytest.param("note = ')' OR tag = '('", id="parens-in-strings"),
        pytest.param("cohort = 'b' /* the new pipeline */", id="block-comment"),
        pytest.param("(a OR b) AND c", id="grouped"),
    ],
)
def test_good_predicate_passes(predicate: str) -> None:
    """Parentheses inside strings do not count and block comments are harmless."""
    check_expression(predicate, origin="--canary")
