"""Runs that cannot start: exit 3 with an artifact whose preflight names the root cause."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from replay.devtools import pg
from replay.devtools.generator import FixtureSummary
from tests.helpers import only_artifact, run_cli

ARTIFACTS = Path(".artifacts/ai-replay")
CLIENT = "00000000-0000-4000-8000-000000000001"
SECRET = "hunter2-Very-Secret"


def _no_secret(result_text: str, artifact_dir: Path) -> None:
    assert SECRET not in result_text
    for path in artifact_dir.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text()


def test_refused_connection(
    capsys: pytest.CaptureFixture[str], workdir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No server at the socket: exit 3, artifact blocked, message names the socket directory."""
    empty = tmp_path_factory.mktemp("nosock")
    url = f"postgresql://app:{SECRET}@/sales?host={empty}"
    result = run_cli(capsys, "--client-id", CLIENT, "--dry-run", "--database-url", url)
    assert result.code == 3
    artifact = only_artifact(ARTIFACTS)
    assert (artifact["status"], artifact["exit_code"]) == ("blocked", 3)
    entry = artifact["preflight"][-1]
    assert (entry["check"], entry["ok"], entry["code"]) == ("database", False, "db_unreachable")
    assert entry["message"] == (
        f"database postgresql:///sales (socket directory {empty}) is unreachable: "
        "connection refused or no server listening"
    )
    assert result.err == f"replay: {entry['message']}\n"
    assert "app" not in entry["message"]
    _no_secret(result.out + result.err, workdir)


def test_refused_tcp_connection_names_host_and_port(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    """A closed TCP port is reported with host, port and database, never the user."""
    url = f"postgresql://app:{SECRET}@127.0.0.1:9/sales"
    result = run_cli(capsys, "--client-id", CLIENT, "--dry-run", "--database-url", url)
    assert result.code == 3
    assert "database postgresql://127.0.0.1:9/sales is unreachable" in result.err
    _no_secret(result.out + result.err, workdir)


@pytest.fixture
async def password_user(pg_server: pg.EmbeddedPostgres | str, admin_uri: str) -> str:
    """A role that must log in with a password checked by scram-sha-256."""
    if isinstance(pg_server, str):
        pytest.skip("needs the embedded server's pg_hba.conf")
    conn = await asyncpg.connect(admin_uri)
    try:
        await conn.execute("SET password_encryption = 'scram-sha-256'")
        await conn.execute("DROP ROLE IF EXISTS replay_pw")
        await conn.execute(f"CREATE ROLE replay_pw LOGIN PASSWORD '{SECRET}'")
        if "replay_pw" not in (pg_server.pgdata / "pg_hba.conf").read_text():
            pg.add_hba_rule(pg_server, "local all replay_pw scram-sha-256")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()
    return "replay_pw"


async def test_wrong_password(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, password_user: str
) -> None:
    """A rejected password: exit 3, db_auth, and no part of either password anywhere."""
    url = pg.database_uri(fixture_db, user=password_user, password=f"wrong-{SECRET}")
    result = run_cli(capsys, "--client-id", CLIENT, "--dry-run", "--database-url", url)
    assert result.code == 3
    artifact = only_artifact(ARTIFACTS)
    assert artifact["preflight"][-1]["code"] == "db_auth"
    assert "rejected the credentials" in result.err
    assert password_user not in result.err
    _no_secret(result.out + result.err, workdir)
    assert "wrong-" not in result.out + result.err


async def test_right_password_connects(
    capsys: pytest.CaptureFixture[str],
    workdir: Path,
    fixture_db: str,
    password_user: str,
    fixtures: FixtureSummary,
) -> None:
    """The same role with its password runs, and the artifact keeps no credentials."""
    admin = await asyncpg.connect(fixture_db)
    try:
        await admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {password_user}")
    finally:
        await admin.close()
    url = pg.database_uri(fixture_db, user=password_user, password=SECRET)
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--dry-run",
        "--database-url",
        url,
        "--limit",
        "3",
    )
    assert result.code == 0, result.err
    artifact = only_artifact(ARTIFACTS)
    assert password_user not in artifact["config"]["database"]
    _no_secret(result.out + result.err, workdir)


def test_database_without_tables(
    capsys: pytest.CaptureFixture[str], workdir: Path, empty_db: str
) -> None:
    """A database without the reference tables: exit 3, the view says what is missing."""
    result = run_cli(capsys, "--client-id", CLIENT, "--dry-run", "--database-url", empty_db)
    assert result.code == 3
    entry = only_artifact(ARTIFACTS)["preflight"][-1]
    assert (entry["check"], entry["code"]) == ("views", "missing_table")
    assert entry["message"].startswith("cases view (built-in cases view) cannot run: relation ")
    assert "does not exist" in entry["message"]


def test_view_missing_a_contract_column(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str
) -> None:
    """A view without inbound_body: exit 3 naming the view, its file and the column."""
    (workdir / "cases.sql").write_text(
        "SELECT j.id AS case_id, j.client_id, j.lead_id, 'sms' AS channel, "
        "j.enqueued_at AS job_created_at, m.id AS inbound_id, m.subject AS inbound_subject, "
        "m.sent_at AS inbound_sent_at "
        "FROM draft_jobs j JOIN messages m ON m.id = j.trigger_message_id"
    )
    result = run_cli(
        capsys,
        "--client-id",
        CLIENT,
        "--dry-run",
        "--database-url",
        fixture_db,
        "--source-sql",
        "cases.sql",
    )
    assert result.code == 3
    entry = only_artifact(ARTIFACTS)["preflight"][-1]
    assert entry["code"] == "view_columns"
    assert entry["message"] == "cases view (cases.sql) lacks column(s) inbound_body"


def test_view_with_a_syntax_error(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str
) -> None:
    """A view that does not parse exits 2 naming the file."""
    (workdir / "cases.sql").write_text("SELECT id AS case_id FROMM draft_jobs")
    result = run_cli(
        capsys,
        "--client-id",
        CLIENT,
        "--dry-run",
        "--database-url",
        fixture_db,
        "--source-sql",
        "cases.sql",
    )
    assert result.code == 2
    assert result.err.startswith("replay: cases.sql: the cases view has an SQL syntax error: ")
    assert "FROMM" in result.err


def test_artifact_dir_that_cannot_exist(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str
) -> None:
    """An artifact directory under a file: exit 3, the message names it, no artifact anywhere."""
    (workdir / "plain-file").write_text("")
    result = run_cli(
        capsys,
        "--client-id",
        CLIENT,
        "--dry-run",
        "--database-url",
        fixture_db,
        "--artifacts-dir",
        "plain-file/runs",
    )
    assert result.code == 3
    assert result.err.startswith("replay: artifact directory 'plain-file/runs' is not writable")
    assert not list(workdir.rglob("run-*.json"))
