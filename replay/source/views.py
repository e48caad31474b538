"""Views: a team's plain SELECTs, described and checked against a contract before use.

Every view is wrapped in the harness's own query; its column types, read from a prepared
statement, decide how parameters are cast so predicates reach the team's indexes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import asyncpg

from replay.config import sqlcheck
from replay.config.models import ViewSql
from replay.errors import SchemaMismatch, ViewError
from replay.source import preflight


class Shape(NamedTuple):
    """The columns of a view and the SQL type name of each, as `format_type` spells it."""

    view: ViewSql
    types: dict[str, str]

    def cast(self, column: str, param: str, *, array: bool = False) -> str:
        """Return SQL that casts a text parameter to this view's type of `column`."""
        return f"CAST({param} AS {self.types[column]}{'[]' if array else ''})"

    def is_time(self, column: str) -> bool:
        """Whether `column` is a date or timestamp, which Python may fail to hold."""
        return self.types[column].startswith(("timestamp", "date"))

    def columns(self, names: Iterable[str], alias: str) -> str:
        """A select list of the `names` this view has, each readable by Python.

        A timestamp Python cannot hold (before year 1, after 9999, or ±infinity) would fail the
        whole query as it is decoded; it is read as NULL instead, beside a flag column
        `<name>__out_of_range`, so only its own case becomes invalid.
        """
        listed = []
        for name in names:
            if name not in self.types:
                continue
            column = f"{alias}.{quoted(name)}"
            if self.is_time(name):
                fits = f"{column} BETWEEN {_PYTHON_TIMES}"
                listed.append(f"CASE WHEN {fits} THEN {column} END AS {quoted(name)}")
                listed.append(
                    f"({column} IS NOT NULL AND NOT ({fits})) AS {quoted(name + OUT_OF_RANGE)}"
                )
            else:
                listed.append(f"{column} AS {quoted(name)}")
        return ", ".join(listed)


OUT_OF_RANGE = "__out_of_range"
_PYTHON_TIMES = "'0001-01-02' AND '9999-12-30'"
"""The times every Python datetime can hold in any time zone (a day inside its range)."""


def quoted(name: str) -> str:
    """`name` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


class Statement(NamedTuple):
    """SQL and its arguments; `show` renders it for `--show-sql`."""

    sql: str
    args: tuple[Any, ...]

    def show(self) -> str:
        """Return the SQL followed by its parameters, one per line."""
        params = "\n".join(f"--   ${i} = {arg!r}" for i, arg in enumerate(self.args, start=1))
        return f"{self.sql};\n{params}" if params else f"{self.sql};"


async def describe(conn: asyncpg.Connection, view: ViewSql) -> Shape:
    """Read a view's columns and their types, checking its rules and that it runs.

    Raises:
        ViewError: it breaks the view rules or does not parse (exit 2).
        SchemaMismatch: a table or column it reads is missing (exit 3).
        ConnectionLost: the connection went away meanwhile (exit 3): never the view's fault.
    """
    sqlcheck.check_view(view.sql, origin=view.origin)
    with preflight.lost_as_blocked(conn, f"preparing the {view.name} view"):
        try:
            statement = await conn.prepare(f"SELECT * FROM (\n{view.sql}\n) AS v LIMIT 0")
        except asyncpg.PostgresError as exc:
            # A killed backend answers with an error class of its own (08, 57P0x): not the view's.
            if preflight.connection_lost(exc, conn):
                raise
            raise _not_described(view, exc) from None
        attributes = statement.get_attributes()
        oids = [attribute.type.oid for attribute in attributes]
        rows = await conn.fetch(
            "SELECT oid, format_type(oid, NULL) FROM unnest($1::oid[]) oid", oids
        )
    names: dict[int, str] = {row[0]: row[1] for row in rows}
    return Shape(view, {attribute.name: names[attribute.type.oid] for attribute in attributes})


def _not_described(view: ViewSql, exc: asyncpg.PostgresError) -> ViewError | SchemaMismatch:
    """The team's SQL did not prepare: its own error (exit 2), or a missing table or column (3)."""
    said = preflight.reason(exc, sqlstate=False)
    if isinstance(exc, asyncpg.PostgresSyntaxError):
        message = f"{view.origin}: the {view.name} view has an SQL syntax error: {said}"
        return ViewError(message, view=view.name)
    if isinstance(exc, asyncpg.UndefinedTableError | asyncpg.UndefinedColumnError):
        missing = isinstance(exc, asyncpg.UndefinedTableError)
        return SchemaMismatch(
            f"{view.name} view ({view.origin}) cannot run: {said}",
            view=view.name,
            code="missing_table" if missing else "view_columns",
        )
    return ViewError(f"{view.origin}: the {view.name} view does not run: {said}", view=view.name)


def require(
    shapes: Iterable[Shape], contract: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]
) -> None:
    """Raise SchemaMismatch naming every required column missing from every view."""
    problems = []
    names = []
    for shape in shapes:
        names.append(shape.view.name)
        required, _ = contract[shape.view.name]
        missing = [column for column in required if column not in shape.types]
        if missing:
            problems.append(
                f"{shape.view.name} view ({shape.view.origin}) lacks column(s) {', '.join(missing)}"
            )
    if problems:
        raise SchemaMismatch("; ".join(problems), view=",".join(names))
