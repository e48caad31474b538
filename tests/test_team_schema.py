"""A team's own schema, read through its own views (examples/team-schema)."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg
import pytest

from tests.helpers import only_artifact, run_cli

EXAMPLE = Path(__file__).parents[1] / "examples" / "team-schema"
ARTIFACTS = Path(".artifacts/ai-replay")


@pytest.fixture
async def team_db(empty_db: str) -> str:
    """A database holding the example team schema and its seed rows."""
    conn = await asyncpg.connect(empty_db)
    try:
        await conn.execute((EXAMPLE / "schema.sql").read_text())
        await conn.execute((EXAMPLE / "seed.sql").read_text())
    finally:
        await conn.close()
    return empty_db


def test_custom_views_by_flag(
    capsys: pytest.CaptureFixture[str], workdir: Path, team_db: str
) -> None:
    """--source-sql and --thread-sql read a schema with bigint ids and naive timestamps."""
    result = run_cli(
        capsys,
        "--client-id",
        "1",
        "--dry-run",
        "--database-url",
        team_db,
        "--source-sql",
        str(EXAMPLE / "cases.sql"),
        "--thread-sql",
        str(EXAMPLE / "thread.sql"),
    )
    assert result.code == 0, result.err
    artifact = only_artifact(ARTIFACTS)
    cases = {case["case_id"]: case for case in artifact["cases"]}
    assert list(cases) == ["1002", "1001", "1000"]
    assert cases["1001"]["input"]["thread_message_ids"] == ["100", "101", "102"]
    assert cases["1000"]["input"]["thread_message_ids"] == ["100"]
    assert cases["1000"]["plan"]["source"] == "recorded"
    assert cases["1001"]["plan"]["source"] == "rendered"
    assert cases["1001"]["original"]["disposition"] == "edited"
    assert artifact["config"]["source"]["cases"].endswith("cases.sql")


def test_custom_views_by_replay_toml(
    capsys: pytest.CaptureFixture[str], workdir: Path, team_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """replay.toml names the views, the URL's variable, limits and prices."""
    for name in ("cases.sql", "thread.sql", "clients.sql", "replay.toml"):
        shutil.copy(EXAMPLE / name, workdir / name)
    monkeypatch.setenv("SALES_DATABASE_URL", team_db)
    result = run_cli(capsys, "--client-id", "1", "--dry-run")
    assert result.code == 0, result.err
    artifact = only_artifact(ARTIFACTS)
    assert artifact["config"]["selection"]["limit"] == 10
    assert {case["plan"]["request"]["model"] for case in artifact["cases"]} == {"gpt-4.1-mini"}
    assert artifact["summary"]["estimated_cost_usd"] > 0
    listing = run_cli(capsys, "clients")
    assert listing.code == 0
    assert "Northwind Dental" in listing.out and "3" in listing.out


def test_unknown_client_of_a_bigint_view(
    capsys: pytest.CaptureFixture[str], workdir: Path, team_db: str
) -> None:
    """A non-numeric id for a bigint client_id column exits 2 naming the type."""
    result = run_cli(
        capsys,
        "--client-id",
        "north",
        "--dry-run",
        "--database-url",
        team_db,
        "--source-sql",
        str(EXAMPLE / "cases.sql"),
        "--thread-sql",
        str(EXAMPLE / "thread.sql"),
    )
    assert result.code == 2
    assert (
        result.err
        == "replay: --client-id must be a bigint (the case view's client_id type), got 'north'\n"
    )
