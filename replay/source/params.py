"""The selection's filters against the case view's column types.

Each filter is cast to its column's own type, so predicates reach the team's indexes. That makes
two things this module's business: a filter given in the harness's words (`succeeded`, `email`)
on a column of a Postgres enum (`SUCCEEDED`, `EMAIL`), and, when a cast fails, naming the filter
whose value does not fit (with the column's type, and an enum's labels) instead of the first flag.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import asyncpg

from replay.config.models import SelectionConfig
from replay.errors import UsageError
from replay.source import preflight
from replay.source.views import Shape

_DATA_ERRORS = (asyncpg.DataError, asyncpg.InvalidTextRepresentationError)
_MAX_IDS_TRIED = 1_000
"""Case ids cast one by one to find the one that does not fit; past this, the message is general."""


class Filter(NamedTuple):
    """One parameter of the selection query: where it came from and the column it is cast to."""

    source: str
    column: str
    value: Any


async def labels(conn: asyncpg.Connection, type_name: str) -> list[str] | None:
    """The labels of an enum type in their declared order, or None when it is not an enum."""
    rows = await conn.fetch(
        "SELECT enumlabel FROM pg_enum WHERE enumtypid = to_regtype($1) ORDER BY enumsortorder",
        type_name,
    )
    return [row[0] for row in rows] or None


async def fitted(
    conn: asyncpg.Connection, cases: Shape, selection: SelectionConfig
) -> SelectionConfig:
    """The selection with `--status` and `--channel` spelled as the view's enum spells them.

    A value that matches one label apart from case (`succeeded` for `SUCCEEDED`) takes that
    label; one that matches none is refused here, naming the labels, before any query runs.

    Raises:
        UsageError: the value is not a label of the column's enum.
        ConnectionLost: the connection went away meanwhile (exit 3).
    """
    update: dict[str, str] = {}
    for name, column, value in (
        ("status", "job_status", selection.status),
        ("channel", "channel", selection.channel),
    ):
        if value is None or column not in cases.types:
            continue
        with preflight.lost_as_blocked(conn, f"reading the labels of the case view's {column}"):
            enum = await labels(conn, cases.types[column])
        if enum is None or value in enum:
            continue
        same = [label for label in enum if label.casefold() == value.casefold()]
        if len(same) == 1:
            update[name] = same[0]
            continue
        given = f"--{name} {value!r}"
        if name == "status" and not selection.status_explicit:
            given = f"the default --status {value!r}"
        raise UsageError(
            f"{given} does not fit the case view's {column} "
            f"({_enum(cases.types[column], enum)}); pass one of its labels"
            + (" or --status any" if name == "status" else "")
        )
    return selection.model_copy(update=update) if update else selection


async def blame(conn: asyncpg.Connection, cases: Shape, selection: SelectionConfig) -> str | None:
    """Name the filter whose value does not fit its column, or None when every one fits.

    Called after the selection query failed with a data error: each filter is cast alone, in the
    order a user would check them, so the message names the value that failed and why.
    """
    for item in _filters(selection):
        if item.column not in cases.types:
            continue  # a filter the query did not apply (no job_status column) cannot fail it
        type_name = cases.types[item.column]
        values = item.value if isinstance(item.value, tuple) else (item.value,)
        for value in values[:_MAX_IDS_TRIED]:
            try:
                await conn.fetchval(f"SELECT {cases.cast(item.column, '$1::text')}", value)
            except _DATA_ERRORS:
                return await _misfit(conn, item, value, type_name)
        if len(values) > _MAX_IDS_TRIED:
            return (
                f"{item.source} holds an id that may not be a {type_name} "
                f"(the case view's {item.column} type)"
            )
    return None


def _filters(selection: SelectionConfig) -> Iterator[Filter]:
    yield Filter("--client-id", "client_id", selection.client_id)
    if selection.case_ids is not None:
        yield Filter(selection.ids_origin or "--case-ids", "case_id", tuple(selection.case_ids))
    if selection.channel is not None:
        yield Filter("--channel", "channel", selection.channel)
    if selection.status is not None:
        yield Filter("--status", "job_status", selection.status)


async def _misfit(conn: asyncpg.Connection, item: Filter, value: str, type_name: str) -> str:
    enum = await labels(conn, type_name)
    if enum is not None:
        return (
            f"{item.source} {value!r} does not fit the case view's {item.column} "
            f"({_enum(type_name, enum)})"
        )
    if item.column == "case_id":
        return (
            f"{item.source} holds {value!r}, which is not a {type_name} "
            "(the case view's case_id type)"
        )
    return (
        f"{item.source} must be a {type_name} (the case view's {item.column} type), got {value!r}"
    )


def _enum(type_name: str, enum: list[str]) -> str:
    return f"enum {type_name}: {', '.join(enum)}"
