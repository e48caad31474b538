"""Selection: read cases and their point-in-time threads through the team's views, read-only.

A view is a plain SELECT written for the team's own schema. The harness wraps it in its own query
(filters, ordering, limit, parameters cast to the view's column types), so selection behaves the
same on every schema and Postgres still pushes the predicates down to the indexes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg
from pydantic import ValidationError

from replay.config.models import SelectionConfig, SourceConfig, ViewSql
from replay.errors import SchemaMismatch, UsageError, ViewError
from replay.models import Case, InvalidCase, ThreadMessage
from replay.source import params, preflight, views
from replay.source.rows import CONTRACT, Row, parse
from replay.source.views import OUT_OF_RANGE, Shape, Statement, quoted

CHUNK = 500
"""Cases loaded per query: bounds memory on large runs while keeping round trips few."""


@dataclass(frozen=True)
class Shapes:
    """The shapes of the views of one source."""

    cases: Shape
    thread: Shape
    clients: Shape | None


@dataclass(frozen=True)
class Plan:
    """The ordered case ids a run will replay, fixed before any case is loaded."""

    case_ids: tuple[str, ...]
    not_found: tuple[str, ...]
    more_available: bool
    filters: Mapping[str, Any]


# --- views ---------------------------------------------------------------------------------------


async def inspect(conn: asyncpg.Connection, source: SourceConfig) -> Shapes:
    """Check every view's rules, syntax and columns against the case contract.

    Raises:
        ViewError: a view breaks the rules or does not parse (exit 2).
        SchemaMismatch: a table or contract column is missing (exit 3); the message names
            every missing column of every view.
    """
    listed = [v for v in (source.cases, source.thread, source.clients) if v is not None]
    shapes = {view.name: await views.describe(conn, view) for view in listed}
    views.require(shapes.values(), CONTRACT)
    thread = shapes["thread"]
    if "known_at" in thread.types and not thread.is_time("known_at"):
        raise ViewError(
            f"{thread.view.origin}: the thread view's known_at is a {thread.types['known_at']}; "
            "expected a timestamp (when the system stored the message)",
            view="thread",
        )
    return Shapes(shapes["cases"], shapes["thread"], shapes.get("clients"))


# --- selection -----------------------------------------------------------------------------------


def plan_statement(shapes: Shapes, selection: SelectionConfig) -> Statement:
    """Build the query that picks the ordered case ids (one more than the limit, to tell)."""
    cases = shapes.cases
    if selection.status_explicit and selection.status and "job_status" not in cases.types:
        raise UsageError(
            f"--status {selection.status!r} needs a job_status column in the case view "
            f"({cases.view.origin}); pass --status any or add the column"
        )
    where = [f"client_id = {cases.cast('client_id', '$1::text')}"]
    args: list[Any] = [selection.client_id]

    def param(value: Any, sql: str) -> None:
        args.append(value)
        where.append(sql.replace("$?", f"${len(args)}"))

    if selection.case_ids is not None:
        param(
            list(selection.case_ids),
            f"case_id = ANY({cases.cast('case_id', '$?::text[]', array=True)})",
        )
    if selection.channel is not None:
        param(selection.channel, f"channel = {cases.cast('channel', '$?::text')}")
    if selection.from_time is not None:
        param(
            selection.from_time,
            f"job_created_at >= {cases.cast('job_created_at', '$?::timestamptz')}",
        )
    if selection.to_time is not None:
        param(
            selection.to_time, f"job_created_at < {cases.cast('job_created_at', '$?::timestamptz')}"
        )
    if selection.status is not None and "job_status" in cases.types:
        param(selection.status, f"job_status = {cases.cast('job_status', '$?::text')}")
    args.append(selection.limit + 1)
    # Grouped, so a view whose join fans out (several rows per case id) still selects N
    # distinct cases; `load` reports each fanned-out case instead of replaying a guess.
    sql = (
        f"SELECT case_id::text FROM (\n{cases.view.sql}\n) AS cases\n"
        f"WHERE {' AND '.join(where)}\n"
        f"GROUP BY case_id\n"
        f"ORDER BY max(job_created_at) DESC, case_id\nLIMIT ${len(args)}"
    )
    return Statement(sql, tuple(args))


async def plan(conn: asyncpg.Connection, shapes: Shapes, selection: SelectionConfig) -> Plan:
    """Fix the ordered ids of the cases to replay, inside one read-only snapshot.

    Raises:
        UsageError: a filter's value does not fit its column's type (the message names which).
        ViewError: the view itself failed on its data.
    """
    with preflight.lost_as_blocked(conn, "selecting cases"):
        fitted = await params.fitted(conn, shapes.cases, selection)
        statement = plan_statement(shapes, fitted)
        try:
            async with conn.transaction(readonly=True, isolation="repeatable_read"):
                rows = await conn.fetch(statement.sql, *statement.args)
        except asyncpg.PostgresError as exc:
            if preflight.connection_lost(exc, conn):
                raise
            if isinstance(exc, asyncpg.InvalidTextRepresentationError | asyncpg.DataError):
                culprit = await params.blame(conn, shapes.cases, fitted)
                if culprit is not None:
                    raise UsageError(culprit) from None
            raise _view_failed(shapes.cases.view, exc) from None  # the view's own data failed
    ids = [row[0] for row in rows]
    more = len(ids) > selection.limit
    ids = ids[: selection.limit]
    if None in ids:
        # Results, resume and comparisons are all keyed by case id: a NULL one cannot be replayed
        # or reported, and dropping it would hide the view's fault.
        raise SchemaMismatch(
            f"the cases view ({shapes.cases.view.origin}) returned a row with a NULL case_id "
            f"among the last {selection.limit} of client {selection.client_id!r}; every case "
            "needs an id: fix the join or filter such rows out in the view",
            view="cases",
            code="null_case_id",
        )
    not_found: tuple[str, ...] = ()
    if selection.case_ids is not None:
        found = set(ids)
        not_found = tuple(case_id for case_id in selection.case_ids if case_id not in found)
    return Plan(tuple(ids), not_found, more, _filters(shapes, selection))


def _view_failed(view: ViewSql, exc: asyncpg.PostgresError) -> ViewError:
    """A view that parses but fails when it runs: the team's SQL, so a usage error."""
    if isinstance(exc, asyncpg.ReadOnlySQLTransactionError):
        reason = "it tried to write, and the source database is opened read-only"
    else:
        reason = preflight.reason(exc)
    return ViewError(f"{view.origin}: the {view.name} view failed: {reason}", view=view.name)


def _filters(shapes: Shapes, selection: SelectionConfig) -> dict[str, Any]:
    status: str | None = selection.status
    if status is not None and "job_status" not in shapes.cases.types:
        status = f"not applied: the case view has no job_status column (asked {status!r})"
    return {
        "channel": selection.channel or "any",
        "from": selection.from_time.isoformat() if selection.from_time else None,
        "to": selection.to_time.isoformat() if selection.to_time else None,
        "status": status or "any",
        "case_ids": selection.ids_origin,
        "thread_limit": selection.thread_limit,
    }


async def load(
    conn: asyncpg.Connection,
    shapes: Shapes,
    selection: SelectionConfig,
    case_ids: Sequence[str],
    *,
    chunk: int = CHUNK,
) -> AsyncIterator[list[Case | InvalidCase]]:
    """Yield the planned cases in plan order, `chunk` at a time, each with its thread.

    Each chunk is read in its own read-only snapshot, so no transaction stays open on the
    source database for the length of a run.
    """
    for start in range(0, len(case_ids), chunk):
        ids = list(case_ids[start : start + chunk])
        with preflight.lost_as_blocked(conn, "loading cases"):
            async with conn.transaction(readonly=True, isolation="repeatable_read"):
                try:
                    rows = await conn.fetch(_rows_sql(shapes), selection.client_id, ids)
                except asyncpg.PostgresError as exc:
                    if preflight.connection_lost(exc, conn):
                        raise
                    raise _view_failed(shapes.cases.view, exc) from None
                by_id: dict[str, list[asyncpg.Record]] = {}
                for row in rows:
                    by_id.setdefault(str(row["case_id"]), []).append(row)
                parsed = [_one(case_id, by_id.get(case_id, []), selection) for case_id in ids]
                valid = [item for item in parsed if isinstance(item, Row)]
                try:
                    threads, broken = await _threads(conn, shapes, selection, valid)
                except asyncpg.PostgresError as exc:
                    if preflight.connection_lost(exc, conn):
                        raise
                    raise _view_failed(shapes.thread.view, exc) from None
        yield [
            (broken.get(item.case_id) or item.case(threads.get(item.case_id, [])))
            if isinstance(item, Row)
            else item
            for item in parsed
        ]


def _one(case_id: str, rows: list[asyncpg.Record], selection: SelectionConfig) -> Row | InvalidCase:
    """The case of one planned id: its row checked, or why it cannot be replayed."""
    if not rows:
        reason = "is no longer in the case view (it was when the run started)"
        return InvalidCase(case_id=case_id, column="case_id", reason=reason)
    if len(rows) > 1:
        # Which row is the real job cannot be told: replaying either would be a guess.
        reason = f"the case view returned {len(rows)} rows for this case id: a join fans out"
        return InvalidCase(case_id=case_id, column="case_id", reason=reason)
    return parse(rows[0], selection)


def _rows_sql(shapes: Shapes) -> str:
    cases = shapes.cases
    required, optional = CONTRACT["cases"]
    return (
        f"SELECT {cases.columns((*required, *optional), 'cases')}\n"
        f"FROM (\n{cases.view.sql}\n) AS cases\n"
        f"WHERE client_id = {cases.cast('client_id', '$1::text')} "
        f"AND case_id = ANY({cases.cast('case_id', '$2::text[]', array=True)})"
    )


def thread_statement(shapes: Shapes) -> str:
    """The one batched query that loads the point-in-time thread of every case of a chunk."""
    thread = shapes.thread
    # A message is in a case's thread when it was sent before the inbound and, where the view
    # says when the system stored it (`known_at`), stored by the time the job was created: a
    # message synced late was not there for production to see.
    known = (
        f"      AND (thread.known_at IS NULL OR thread.known_at <= "
        f"{thread.cast('known_at', 'k.created')})\n"
        if "known_at" in thread.types
        else ""
    )
    flag = f"t.{quoted('sent_at' + OUT_OF_RANGE)}" if thread.is_time("sent_at") else "false"
    return (
        "SELECT k.case_id, t.message_id::text AS message_id, t.direction::text AS direction,\n"
        "       t.channel::text AS channel, t.subject::text AS subject, t.body::text AS body,\n"
        f"       t.sent_at::timestamptz AS sent_at, {flag} AS {quoted('sent_at' + OUT_OF_RANGE)}\n"
        "FROM unnest($2::text[], $3::text[], $4::timestamptz[], $6::timestamptz[])\n"
        "     AS k(case_id, lead_id, cutoff, created)\n"
        "CROSS JOIN LATERAL (\n"
        f"    SELECT {thread.columns(_THREAD_COLUMNS, 'thread')}\n"
        f"    FROM (\n{thread.view.sql}\n) AS thread\n"
        f"    WHERE thread.client_id = {thread.cast('client_id', '$1::text')}\n"
        f"      AND thread.lead_id = {thread.cast('lead_id', 'k.lead_id')}\n"
        f"      AND thread.sent_at < {thread.cast('sent_at', 'k.cutoff')}\n"
        f"{known}"
        "    ORDER BY thread.sent_at DESC, thread.message_id DESC\n"
        "    LIMIT $5\n"
        ") AS t"
    )


async def _threads(
    conn: asyncpg.Connection, shapes: Shapes, selection: SelectionConfig, rows: list[Row]
) -> tuple[dict[str, list[ThreadMessage]], dict[str, InvalidCase]]:
    """Each case's point-in-time thread, and the cases whose thread rows break the contract."""
    if not rows:
        return {}, {}
    records = await conn.fetch(
        thread_statement(shapes),
        selection.client_id,
        [row.case_id for row in rows],
        [row.lead_id for row in rows],
        [row.cutoff for row in rows],
        selection.thread_limit,
        [row.created for row in rows],
    )
    threads: dict[str, list[ThreadMessage]] = {}
    broken: dict[str, InvalidCase] = {}
    for record in records:
        case_id = record["case_id"]
        if record["sent_at" + OUT_OF_RANGE]:
            reason = "a thread row has a sent_at outside the years 1 to 9999 (or infinite)"
            broken.setdefault(
                case_id, InvalidCase(case_id=case_id, column="sent_at", reason=reason)
            )
            continue
        try:
            message = ThreadMessage.model_validate({key: record[key] for key in _THREAD_FIELDS})
        except ValidationError as exc:
            column = str(exc.errors()[0]["loc"][0])
            reason = f"a thread row has {column} {record[column]!r}, which breaks the contract"
            broken.setdefault(case_id, InvalidCase(case_id=case_id, column=column, reason=reason))
            continue
        threads.setdefault(case_id, []).append(message)
    for case_id, messages in threads.items():
        counts = Counter(message.message_id for message in messages)
        repeated = [(m, n) for m, n in counts.items() if n > 1]
        if repeated and case_id not in broken:
            message_id, copies = repeated[0]
            reason = (
                f"the thread view returned {copies} rows for message {message_id!r}: "
                "a join fans out"
            )
            broken[case_id] = InvalidCase(case_id=case_id, column="message_id", reason=reason)
        messages.sort(key=lambda message: (message.sent_at, message.message_id))  # oldest first
    return threads, broken


_THREAD_FIELDS = ("message_id", "direction", "channel", "subject", "body", "sent_at")
_THREAD_COLUMNS = ("client_id", "lead_id", *_THREAD_FIELDS, "known_at")


# --- clients -------------------------------------------------------------------------------------


class ClientRow(NamedTuple):
    """One client as `replay clients` lists it."""

    client_id: str
    name: str | None
    jobs: int
    last_job_at: datetime | None


async def client_exists(conn: asyncpg.Connection, shapes: Shapes, client_id: str) -> bool | None:
    """Tell whether the clients view knows `client_id`; None when there is no clients view."""
    if shapes.clients is None:
        return None
    sql = (
        f"SELECT 1 FROM (\n{shapes.clients.view.sql}\n) AS clients "
        f"WHERE client_id::text = $1 LIMIT 1"
    )
    with preflight.lost_as_blocked(conn, "looking up the client in the clients view"):
        try:
            async with conn.transaction(readonly=True):
                return await conn.fetchval(sql, client_id) is not None
        except asyncpg.PostgresError as exc:
            if preflight.connection_lost(exc, conn):
                raise
            raise _view_failed(shapes.clients.view, exc) from None


async def list_clients(conn: asyncpg.Connection, shapes: Shapes) -> list[ClientRow]:
    """Every client with its number of jobs and its newest job's time, busiest first."""
    jobs = (
        "SELECT client_id::text AS client_id, count(*) AS jobs, "
        f"max(job_created_at) AS last_job_at FROM (\n{shapes.cases.view.sql}\n) AS cases GROUP BY 1"
    )
    if shapes.clients is None:
        sql = f"SELECT client_id, NULL::text AS name, jobs, last_job_at FROM ({jobs}) AS j"
    else:
        sql = (
            f"SELECT c.client_id::text AS client_id, c.name::text AS name, "
            f"coalesce(j.jobs, 0) AS jobs, j.last_job_at\n"
            f"FROM (\n{shapes.clients.view.sql}\n) AS c\n"
            f"LEFT JOIN ({jobs}) AS j ON j.client_id = c.client_id::text"
        )
    sql += "\nORDER BY jobs DESC, client_id"
    with preflight.lost_as_blocked(conn, "listing clients"):
        try:
            async with conn.transaction(readonly=True, isolation="repeatable_read"):
                rows = await conn.fetch(sql)
        except asyncpg.PostgresError as exc:
            if preflight.connection_lost(exc, conn):
                raise
            # Either view may be the one that failed; Postgres names the cause, we name both.
            views_ = [shapes.cases.view] + ([shapes.clients.view] if shapes.clients else [])
            origins = " or ".join(view.origin for view in views_)
            raise ViewError(
                f"{origins}: listing clients failed: {preflight.reason(exc)}", view="clients"
            ) from None
    return [ClientRow(r["client_id"], r["name"], r["jobs"], r["last_job_at"]) for r in rows]
