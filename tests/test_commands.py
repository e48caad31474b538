"""The other subcommands: fixtures, clients, preflight, schema."""

from __future__ import annotations

import io
from pathlib import Path

import asyncpg
import orjson
import pytest

from replay.cli.progress import LineProgress
from replay.devtools.generator import FixtureSummary
from replay.models import CaseResult, InputSummary, RunArtifact
from tests.helpers import run_cli


def test_fixtures_fill_an_empty_database_and_print_client_ids(
    capsys: pytest.CaptureFixture[str], empty_db: str
) -> None:
    """`replay fixtures` loads the reference schema and names the seeded clients."""
    result = run_cli(capsys, "fixtures", "--database-url", empty_db, "--jobs-per-client", "40")
    assert result.code == 0, result.err
    assert result.out.startswith("loaded seed 7: 3 clients, 120 jobs, ")
    assert result.out.count("\nclient ") == 3


def test_fixtures_refuse_a_database_with_tables(
    capsys: pytest.CaptureFixture[str], fixture_db: str
) -> None:
    """A database that has tables is left alone unless --reset."""
    result = run_cli(capsys, "fixtures", "--database-url", fixture_db)
    assert result.code == 2
    assert "already has tables (clients, leads," in result.err
    assert result.err.rstrip().endswith("pass --reset to drop and recreate them")


def test_fixtures_reject_a_bad_count(capsys: pytest.CaptureFixture[str], empty_db: str) -> None:
    """A bad count is a one-line usage error."""
    result = run_cli(capsys, "fixtures", "--database-url", empty_db, "--clients", "zero")
    assert (result.code, result.err) == (
        2,
        "replay: --clients must be a positive integer, got 'zero'\n",
    )


async def test_fixtures_speak_the_languages_asked_for_in_turn(
    capsys: pytest.CaptureFixture[str], empty_db: str
) -> None:
    """`--languages en,es` makes every other client Spanish; its settings say so."""
    args = ("--jobs-per-client", "40", "--clients", "3", "--languages", " EN, es")
    result = run_cli(capsys, "fixtures", "--database-url", empty_db, *args)
    assert result.code == 0, result.err
    conn = await asyncpg.connect(empty_db)
    try:
        rows = await conn.fetch("SELECT name, settings FROM clients")
    finally:
        await conn.close()
    languages = sorted(orjson.loads(row["settings"]).get("language", "en") for row in rows)
    assert languages == ["en", "en", "es"]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("en,pt", "replay: --languages must be among en, es, de, fr, got 'pt'\n"),
        ("english", "replay: --languages must be comma-separated two-letter language codes, "
                    "such as en,es, got 'english'\n"),
    ],
)  # fmt: skip
def test_fixtures_reject_a_language_they_do_not_speak(
    capsys: pytest.CaptureFixture[str], empty_db: str, value: str, error: str
) -> None:
    """An unknown or malformed language is a one-line usage error, and nothing is written."""
    result = run_cli(capsys, "fixtures", "--database-url", empty_db, "--languages", value)
    assert (result.code, result.err) == (2, error)
    again = run_cli(capsys, "fixtures", "--database-url", empty_db, "--jobs-per-client", "40")
    assert again.code == 0, "the refused call left no table behind"


def test_clients_lists_every_fixture_client(
    capsys: pytest.CaptureFixture[str], fixture_db: str, fixtures: FixtureSummary
) -> None:
    """`replay clients` shows id, name and job count of each client."""
    result = run_cli(capsys, "clients", "--database-url", fixture_db)
    assert result.code == 0
    assert result.out.splitlines()[0].split() == ["client_id", "name", "jobs", "last", "job"]
    for client in fixtures.clients:
        line = next(line for line in result.out.splitlines() if line.startswith(client.id))
        assert client.name in line


def test_clients_on_an_unreachable_database_exits_3(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """No server: exit 3 with the socket directory named."""
    result = run_cli(capsys, "clients", "--database-url", f"postgresql://u:pw@/db?host={tmp_path}")
    assert result.code == 3
    assert result.err.startswith(f"replay: database postgresql:///db (socket directory {tmp_path})")


@pytest.mark.parametrize(
    ("client", "code", "last"),
    [
        pytest.param(None, 0, "views", id="no-client"),
        pytest.param("known", 0, "client", id="known-client"),
        pytest.param("00000000-0000-4000-8000-000000000009", 4, "client", id="unknown-client"),
    ],
)
def test_preflight(
    capsys: pytest.CaptureFixture[str],
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
    client: str | None,
    code: int,
    last: str,
) -> None:
    """Preflight prints one line per check and exits 0, or 4 for an unknown client."""
    args = ["preflight", "--database-url", fixture_db]
    if client is not None:
        args += ["--client-id", fixtures.clients[0].id if client == "known" else client]
    result = run_cli(capsys, *args)
    assert result.code == code
    lines = result.out.splitlines()
    assert [line.split()[1] for line in lines][-1] == last
    assert lines[0].startswith("ok    artifact_dir")


def test_preflight_names_each_root_cause(
    capsys: pytest.CaptureFixture[str], workdir: Path, empty_db: str
) -> None:
    """A database without tables: the views check fails, exit 3."""
    result = run_cli(capsys, "preflight", "--database-url", empty_db)
    assert result.code == 3
    assert "FAIL  views" in result.out


def test_schema_is_the_artifact_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """`replay schema` prints the JSON Schema generated from the artifact model."""
    result = run_cli(capsys, "schema")
    assert result.code == 0
    schema = orjson.loads(result.out)
    assert schema == orjson.loads(orjson.dumps(RunArtifact.model_json_schema()))
    assert schema["title"] == "RunArtifact"
    assert {"schema_version", "run_id", "status", "exit_code", "cases"} <= set(schema["properties"])


def test_plain_progress_prints_a_line_every_interval() -> None:
    """Without a terminal, progress is one plain line per interval and one at the end."""
    stream = io.StringIO()
    progress = LineProgress(stream, every_s=0)
    progress.begin(2)
    progress.started()
    progress.retried()
    progress.finished(CaseResult(case_id="a", verdict="changed", input=InputSummary()))
    progress.end()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("progress: 1/2 done, ")
    assert "1 retries, 0 errors" in lines[0]
    assert len(lines) == 2
