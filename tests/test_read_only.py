"""The source database is read-only for this tool: its connection and its views cannot write."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from pydantic import SecretStr

from replay.config.models import DatabaseConfig, SourceConfig, ViewSql
from replay.devtools.generator import FixtureSummary
from replay.source import db
from tests.helpers import run_cli


def _database(url: str) -> DatabaseConfig:
    view = ViewSql(name="cases", origin="x", sql="SELECT 1")
    return DatabaseConfig(
        url=SecretStr(url),
        source=SourceConfig(cases=view, thread=view.model_copy(update={"name": "thread"})),
        connect_timeout_s=5,
    )


async def test_a_write_through_the_tool_connection_fails(fixture_db: str) -> None:
    """Every statement on the tool's connection runs in a read-only transaction."""
    async with db.connect(_database(fixture_db)) as conn:
        assert await conn.fetchval("SHOW default_transaction_read_only") == "on"
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute("UPDATE clients SET name = 'hacked'")
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute("CREATE TABLE sneaky (id int)")


async def test_a_view_that_writes_is_stopped(
    capsys: pytest.CaptureFixture[str],
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
    fixture_conn: asyncpg.Connection,
) -> None:
    """A view calling a function that writes fails the run (exit 2) and writes nothing."""
    await fixture_conn.execute(
        "CREATE FUNCTION touch(id uuid) RETURNS uuid LANGUAGE sql VOLATILE AS "
        "$$ UPDATE clients SET name = 'touched' WHERE clients.id = touch.id RETURNING id $$"
    )
    builtin = (Path(__file__).parents[1] / "replay/config/sql/cases.sql").read_text()
    (workdir / "cases.sql").write_text(
        builtin.replace("j.id               AS case_id", "touch(j.client_id) AS case_id")
    )
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--dry-run",
        "--database-url",
        fixture_db,
        "--source-sql",
        "cases.sql",
    )
    assert result.code == 2
    assert result.err == (
        "replay: cases.sql: the cases view failed: it tried to write, and the source database "
        "is opened read-only\n"
    )
    assert await fixture_conn.fetchval("SELECT count(*) FROM clients WHERE name = 'touched'") == 0


async def test_a_dry_run_changes_nothing(
    capsys: pytest.CaptureFixture[str],
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
    fixture_conn: asyncpg.Connection,
) -> None:
    """After a dry run every table has the same rows as before."""
    tables = ["clients", "leads", "messages", "draft_jobs", "dispatch_events", "ai_drafts"]

    async def snapshot() -> list[str]:
        return [
            await fixture_conn.fetchval(
                f"SELECT md5(string_agg(t::text, '' ORDER BY t::text)) FROM {name} t"
            )
            for name in tables
        ]

    before = await snapshot()
    result = run_cli(
        capsys, "--client-id", fixtures.clients[0].id, "--dry-run", "--database-url", fixture_db
    )
    assert result.code == 0
    assert await snapshot() == before
