"""A view whose join fans out is reported, never replayed silently or doubled.

The views here are the reference views with a fan-out written in, as a team's join can: a case
row twice, every thread row twice, a thread row that breaks the contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import replay
from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import StubServer
from tests.helpers import only_artifact, run_cli

ARTIFACTS = Path(".artifacts/ai-replay")
SQL = Path(replay.__file__).parent / "config" / "sql"


def _dry(
    capsys: pytest.CaptureFixture[str], db: str, client: str, *args: str, code: int = 0
) -> tuple[str, dict[str, Any]]:
    result = run_cli(
        capsys, "--client-id", client, "--database-url", db, "--dry-run", "--limit", "6", *args
    )
    assert result.code == code, result.err
    artifact = only_artifact(ARTIFACTS)
    if code == 1:  # the dry run's gate: too many invalid cases for a live run to be evidence
        invalid = artifact["summary"]["by_verdict"]["invalid_case"]
        assert result.err.startswith("replay: gate failed: invalid_rate ")
        assert (
            f"({invalid} cases without a comparable verdict: {invalid} invalid_case)" in result.err
        )
    return result.out, artifact


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


def test_a_case_row_twice_is_one_invalid_case_and_n_distinct_cases_are_selected(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Two rows for one case id: that case is `invalid_case` naming the fan-out; 6 distinct."""
    client = fixtures.clients[0].id
    _, plain = _dry(capsys, fixture_db, client)
    newest = plain["selection"]["case_ids"][0]
    for path in ARTIFACTS.glob("run-*"):
        path.unlink()
    cases = _strip_comments((SQL / "cases.sql").read_text())
    Path("fanned.sql").write_text(
        f"SELECT * FROM ({cases}) AS c\nUNION ALL\n"
        f"SELECT * FROM ({cases}) AS d WHERE d.case_id::text = '{newest}'"
    )
    out, artifact = _dry(capsys, fixture_db, client, "--source-sql", "fanned.sql")
    ids = artifact["selection"]["case_ids"]
    assert ids == plain["selection"]["case_ids"] and len(set(ids)) == 6
    assert "6 of 6 requested" in out
    invalid = {case["case_id"]: case["invalid"] for case in artifact["cases"] if case["invalid"]}
    assert invalid[newest] == {
        "case_id": newest,
        "column": "case_id",
        "reason": "the case view returned 2 rows for this case id: a join fans out",
    }
    assert artifact["summary"]["by_verdict"]["invalid_case"] >= 1


def test_thread_rows_twice_are_reported_never_doubled(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Every thread row twice: each case with a thread is invalid on `message_id`."""
    thread = _strip_comments((SQL / "thread.sql").read_text())
    Path("thread.sql").write_text(
        f"SELECT * FROM ({thread}) AS a\nUNION ALL\nSELECT * FROM ({thread}) AS b"
    )
    _, artifact = _dry(
        capsys, fixture_db, fixtures.clients[0].id, "--thread-sql", "thread.sql", code=1
    )
    reasons = [case["invalid"] for case in artifact["cases"] if case["invalid"]]
    doubled = [r for r in reasons if r["column"] == "message_id"]
    assert doubled and all("rows for message" in r["reason"] for r in doubled)
    assert all("a join fans out" in r["reason"] for r in doubled)
    kept = [case["input"]["thread_message_ids"] for case in artifact["cases"] if case["input"]]
    assert kept and all(len(ids) == len(set(ids)) for ids in kept)  # no doubled thread kept


def test_a_thread_row_that_breaks_the_contract_is_an_invalid_case(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """`direction = 'sideways'` in a thread row: its case is invalid naming the column."""
    thread = _strip_comments((SQL / "thread.sql").read_text())
    Path("thread.sql").write_text(
        "SELECT client_id, lead_id, message_id, 'sideways' AS direction, channel, subject,"
        f" body, sent_at FROM ({thread}) AS t"
    )
    _, artifact = _dry(
        capsys, fixture_db, fixtures.clients[0].id, "--thread-sql", "thread.sql", code=1
    )
    reasons = [case["invalid"] for case in artifact["cases"] if case["invalid"]]
    sideways = [r for r in reasons if r["column"] == "direction"]
    assert sideways and all("'sideways'" in r["reason"] for r in sideways)


def test_a_gate_never_passes_on_no_evidence(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
) -> None:
    """Recorded requests asked for, none recorded: every case skipped, and the gate fails."""
    cases = _strip_comments((SQL / "cases.sql").read_text())
    columns = (
        "case_id, client_id, lead_id, channel, job_created_at, inbound_id, inbound_subject, "
        "inbound_body, inbound_sent_at, job_status, original_draft, original_model, "
        "original_prompt_version, NULL::jsonb AS original_request, disposition, sent_reply, "
        "lead, client_settings, tags"
    )
    Path("unrecorded.sql").write_text(f"SELECT {columns} FROM ({cases}) AS c")
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        "--source-sql",
        "unrecorded.sql",
        "--request-source",
        "recorded",
        "--limit",
        "5",
    )
    assert result.code == 1, result.err
    assert "min_evidence 0 < 0.8 (5 cases without a comparable verdict" in result.err
    artifact = only_artifact(ARTIFACTS)
    rule = next(r for r in artifact["gate"]["rules"] if r["rule"] == "min_evidence")
    assert (rule["passed"], rule["value"], len(rule["cases"])) == (False, 0, 5)
    assert stub.requests == 0


def test_min_evidence_is_a_threshold_a_team_can_lower(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
) -> None:
    """`[gate] min_evidence = 0` is read: a team may lower the floor on purpose."""
    Path("replay.toml").write_text("[gate]\nmin_evidence = 0\n")
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        "--request-source",
        "recorded",
        "--limit",
        "5",
        "--model",
        "replay-original",
    )
    assert result.code == 0, result.err
    rule = next(r for r in only_artifact(ARTIFACTS)["gate"]["rules"] if r["rule"] == "min_evidence")
    assert rule["threshold"] == 0
