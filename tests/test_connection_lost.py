"""A connection lost while a view is prepared is blocked (exit 3), never the view's fault.

The kill is made deterministic with a lock: a second connection holds an ACCESS EXCLUSIVE lock
on a table the view reads, so `replay`'s prepare of the view waits for it; the test sees that
backend waiting (on a lock, with the prepare's own SQL) and terminates it with
`pg_terminate_backend`. The kill therefore always lands inside the prepare step. Every run is a
real `replay` process against the embedded Postgres.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import asyncpg
import orjson
import pytest

from replay.config.file import load_toml
from replay.config.models import DatabaseConfig, SourceConfig
from replay.config.secrets import describe_dsn
from replay.config.views import signal_views, views
from replay.devtools import pg
from replay.devtools.generator import FixtureSummary
from replay.errors import ConnectionLost
from replay.ops import signals
from replay.source import preflight, selection
from replay.source.db import connect
from tests.helpers import STARTED, run_cli

PREPARE = "SELECT * FROM (\n%"
"""How a view's prepare step (`source.views.describe`) starts in `pg_stat_activity`, which cuts
a long statement short."""
GATE = "thread_gate"
"""A table only the test's thread view reads: locking it stops `replay` at that view alone."""


def _replay(*args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "replay.cli", *args]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
    )
    STARTED.append(process)
    return process


async def _kill_at_prepare(
    admin: str, database: str, table: str, start: Callable[[], subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    """Start `replay` with `table` locked; terminate its backend while it prepares a view.

    Returns the process once its backend is terminated and the lock released.
    """
    uri = pg.database_uri(admin, database)
    holder = await asyncpg.connect(uri)
    watcher = await asyncpg.connect(uri)
    try:
        locked = holder.transaction()
        await locked.start()
        await holder.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
        process = start()
        deadline = time.monotonic() + 30
        pid = None
        while pid is None:
            assert time.monotonic() < deadline, "replay never waited at a view's prepare"
            assert process.poll() is None, process.communicate()
            pid = await watcher.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'draft-replay' "
                "AND datname = $1 AND wait_event_type = 'Lock' AND query LIKE $2",
                database,
                PREPARE,
            )
            if pid is None:
                await anyio.sleep(0.02)
        assert await watcher.fetchval("SELECT pg_terminate_backend($1)", pid)
        await locked.rollback()
    finally:
        await holder.close()
        await watcher.close()
    return process


def _finish(process: subprocess.Popen[bytes]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out.decode(), err.decode()


def _name(uri: str) -> str:
    return urlsplit(uri).path.lstrip("/")


def _lost(uri: str, doing: str) -> str:
    """The one line `replay` prints for a connection lost while `doing`."""
    return f"the connection to the source database {describe_dsn(uri)} was lost while {doing}"


@pytest.fixture
async def gated_thread(fixture_conn: asyncpg.Connection, workdir: Path) -> Path:
    """A thread view file that also reads `GATE`, so a lock on it stops only that view."""
    await fixture_conn.execute(f"CREATE TABLE {GATE} (id int)")
    builtin = Path(selection.__file__).parents[1] / "config" / "sql" / "thread.sql"
    path = workdir / "gated_thread.sql"
    path.write_text(builtin.read_text() + f"WHERE NOT EXISTS (SELECT 1 FROM {GATE})\n")
    return path


def test_signals_killed_while_preparing_the_jobs_view_is_blocked(
    workdir: Path, fixture_db: str, admin_uri: str
) -> None:
    """The flake made certain: killed at the jobs view's prepare, exit 3 and one line."""
    del workdir
    args = ("signals", "--database-url", fixture_db, "--since", "3650d")
    process = anyio.run(
        _kill_at_prepare, admin_uri, _name(fixture_db), "draft_jobs", lambda: _replay(*args)
    )
    code, out, err = _finish(process)
    assert (code, out) == (3, ""), err
    assert err == f"replay: {_lost(fixture_db, 'preparing the jobs view')}\n"


def test_run_killed_while_preparing_the_case_view_is_blocked(
    workdir: Path, fixture_db: str, admin_uri: str, fixtures: FixtureSummary
) -> None:
    """`replay run` killed at the case view's prepare: exit 3, one line, a blocked artifact."""
    del workdir
    client = fixtures.clients[0].id
    args = ("--client-id", client, "--database-url", fixture_db, "--dry-run", "--quiet")
    process = anyio.run(
        _kill_at_prepare, admin_uri, _name(fixture_db), "draft_jobs", lambda: _replay(*args)
    )
    code, out, err = _finish(process)
    message = _lost(fixture_db, "preparing the cases view")
    assert code == 3, err
    assert err == f"replay: {message}\n"
    artifact = orjson.loads(Path(out.strip()).read_bytes())
    assert (artifact["status"], artifact["exit_code"]) == ("blocked", 3)
    entry = artifact["preflight"][-1]
    assert (entry["check"], entry["ok"], entry["code"], entry["message"]) == (
        "database", False, "db_lost", message
    )  # fmt: skip


def test_run_killed_while_preparing_the_thread_view_is_blocked(
    fixture_db: str, admin_uri: str, fixtures: FixtureSummary, gated_thread: Path
) -> None:
    """The thread view's prepare (the case view already described): exit 3, one line."""
    client = fixtures.clients[0].id
    args: tuple[str, ...] = ("--client-id", client, "--database-url", fixture_db, "--dry-run")
    args += ("--quiet", "--thread-sql", str(gated_thread))
    process = anyio.run(
        _kill_at_prepare, admin_uri, _name(fixture_db), GATE, lambda: _replay(*args)
    )
    code, _, err = _finish(process)
    assert code == 3, err
    assert err == f"replay: {_lost(fixture_db, 'preparing the thread view')}\n"


def test_clients_killed_while_preparing_the_case_view_is_blocked(
    workdir: Path, fixture_db: str, admin_uri: str
) -> None:
    """`replay clients` killed at the case view's prepare: exit 3, one line."""
    del workdir
    args = ("clients", "--database-url", fixture_db)
    process = anyio.run(
        _kill_at_prepare, admin_uri, _name(fixture_db), "draft_jobs", lambda: _replay(*args)
    )
    code, out, err = _finish(process)
    assert (code, out) == (3, ""), err
    assert err == f"replay: {_lost(fixture_db, 'preparing the cases view')}\n"


def test_preflight_killed_while_preparing_the_case_view_is_blocked(
    workdir: Path, fixture_db: str, admin_uri: str, fixtures: FixtureSummary
) -> None:
    """`replay preflight` killed at the case view's prepare: exit 3, the entry names the loss."""
    del workdir
    client = fixtures.clients[0].id
    args = ("preflight", "--database-url", fixture_db, "--client-id", client)
    process = anyio.run(
        _kill_at_prepare, admin_uri, _name(fixture_db), "draft_jobs", lambda: _replay(*args)
    )
    code, out, err = _finish(process)
    assert (code, err) == (3, ""), err
    failed = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert failed == [f"FAIL  database     {_lost(fixture_db, 'preparing the cases view')}"]


@pytest.mark.parametrize(
    ("sql", "code", "message"),
    [
        (
            "SELECT id AS job_id FROM draft_jobs WHERE",
            2,
            'jobs.sql: the jobs view has an SQL syntax error: syntax error at or near ")"',
        ),
        (
            "SELECT id AS job_id, nope FROM draft_jobs",
            3,
            'jobs view (jobs.sql) cannot run: column "nope" does not exist',
        ),
        (
            "SELECT 1 AS job_id FROM no_such_table",
            3,
            'jobs view (jobs.sql) cannot run: relation "no_such_table" does not exist',
        ),
        (
            "SELECT no_such_function(id) AS job_id FROM draft_jobs",
            2,
            "jobs.sql: the jobs view does not run: function no_such_function(uuid) does not exist",
        ),
    ],
    ids=["syntax-42601", "column-42703", "table-42P01", "function-42883"],
)
def test_the_views_own_sql_error_at_prepare_stays_the_views(
    capsys: pytest.CaptureFixture[str],
    workdir: Path,
    fixture_db: str,
    sql: str,
    code: int,
    message: str,
) -> None:
    """A real SQL error of the view is still named as the view's, with its own exit code."""
    (workdir / "jobs.sql").write_text(sql + "\n")
    args = ("signals", "--database-url", fixture_db, "--jobs-sql", "jobs.sql", "--since", "3650d")
    result = run_cli(capsys, *args)
    assert (result.code, result.out, result.err) == (code, "", f"replay: {message}\n")


# --- a connection gone before the prepare is sent -------------------------------------------------


async def _terminated(admin: str, conn: asyncpg.Connection) -> None:
    """Terminate `conn`'s backend and wait until the server and the driver both know it."""
    watcher = await asyncpg.connect(admin)
    try:
        pid = conn.get_server_pid()
        assert await watcher.fetchval("SELECT pg_terminate_backend($1)", pid)
        with anyio.fail_after(10):
            while True:
                there = await watcher.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid
                )
                if not there and conn.is_closed():
                    break
                await anyio.sleep(0.01)
    finally:
        await watcher.close()


def _database(uri: str, source: SourceConfig) -> DatabaseConfig:
    return DatabaseConfig(url=uri, source=source, connect_timeout_s=10)


@pytest.mark.parametrize("command", ["signals", "run", "clients"])
async def test_a_connection_terminated_before_the_prepare_is_blocked(
    workdir: Path, fixture_db: str, admin_uri: str, command: str
) -> None:
    """Terminated while idle, just before the first view is prepared: the same blocked error."""
    del workdir
    source = views(load_toml(None), None, None)
    database = _database(fixture_db, source)
    with pytest.raises(ConnectionLost) as raised:
        async with connect(database) as conn:
            await _terminated(pg.database_uri(admin_uri, _name(fixture_db)), conn)
            if command == "signals":
                await signals.inspect(conn, signal_views(load_toml(None), None, None))
            elif command == "run":
                await selection.inspect(conn, source)
            else:
                await selection.list_clients(conn, await selection.inspect(conn, source))
    view = "jobs" if command == "signals" else "cases"
    assert raised.value.exit_code == 3
    assert raised.value.message == _lost(fixture_db, f"preparing the {view} view")
    assert (raised.value.check, raised.value.code) == ("database", "db_lost")


async def test_a_statement_no_caller_classified_is_still_blocked(
    workdir: Path, fixture_db: str, admin_uri: str
) -> None:
    """`connect` itself turns a driver error on a connection that is gone into the blocked one."""
    del workdir
    with pytest.raises(ConnectionLost) as raised:
        async with connect(_database(fixture_db, views(load_toml(None), None, None))) as conn:
            await _terminated(pg.database_uri(admin_uri, _name(fixture_db)), conn)
            await conn.fetchval("SELECT 1")
    assert raised.value.message == _lost(fixture_db, "reading from it")


async def test_an_os_error_on_a_live_connection_is_not_called_a_lost_one(
    workdir: Path, fixture_db: str
) -> None:
    """A file the body cannot write while the connection is fine stays that error."""
    del workdir
    full = OSError(28, "No space left on device", "partial.jsonl")
    with pytest.raises(OSError) as raised:
        async with connect(_database(fixture_db, views(load_toml(None), None, None))):
            raise full
    assert raised.value is full


# --- classification: by type and SQLSTATE, never by text ------------------------------------------


def _postgres(kind: type[asyncpg.PostgresError], message: str | None = None) -> BaseException:
    """A driver error as asyncpg makes it: from the server's fields, or bare (no message)."""
    if message is None:
        return kind()
    return kind.new({"M": message, "C": kind.sqlstate, "S": "ERROR"})


LOST: list[BaseException] = [
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.exceptions.ConnectionDoesNotExistError(),  # no message at all
    asyncpg.InterfaceError("cannot perform operation: connection is closed"),
    asyncpg.PostgresConnectionError(),
    asyncpg.exceptions.ConnectionFailureError(),
    _postgres(asyncpg.AdminShutdownError, "terminating connection due to administrator command"),
    asyncpg.AdminShutdownError(),
    asyncpg.exceptions.CrashShutdownError(),
    asyncpg.exceptions.IdleSessionTimeoutError(),
    ConnectionResetError(),
    BrokenPipeError(),
    OSError(),
]
KEPT: list[BaseException] = [
    _postgres(asyncpg.PostgresSyntaxError, 'syntax error at or near "FORM"'),
    _postgres(asyncpg.UndefinedColumnError, 'column "x" does not exist'),
    _postgres(asyncpg.UndefinedTableError, 'relation "x" does not exist'),
    _postgres(asyncpg.QueryCanceledError, "canceling statement due to statement timeout"),
    asyncpg.exceptions._base.DataError("invalid input for query argument $1"),
    asyncpg.exceptions.InternalClientError("an asyncpg bug"),
    ValueError(),
]


@pytest.mark.parametrize("exc", LOST, ids=lambda exc: type(exc).__name__)
def test_connection_class_failures_are_a_lost_connection(exc: BaseException) -> None:
    """Class 08, 57P0x, asyncpg's connection errors and socket errors: the connection is gone."""
    assert preflight.connection_lost(exc)


@pytest.mark.parametrize("exc", KEPT, ids=lambda exc: type(exc).__name__)
def test_errors_of_the_sql_or_the_tool_are_not_a_lost_connection(exc: BaseException) -> None:
    """A view's own SQL error, a cancelled statement, a bad argument: never "lost"."""
    assert not preflight.connection_lost(exc)


def test_a_postgres_error_without_a_message_is_named_by_its_class() -> None:
    """No message never prints as `None`: the class and SQLSTATE say what it was."""
    bare = asyncpg.exceptions.UnknownPostgresError()
    assert preflight.reason(bare) == "UnknownPostgresError (no message from the server)"
    said = _postgres(asyncpg.UndefinedColumnError, 'column "x" does not exist')
    assert isinstance(said, asyncpg.PostgresError)
    assert preflight.reason(said) == 'column "x" does not exist (SQLSTATE 42703)'
