"""`replay signals` and `replay canary-check` against rollout fixtures with incidents."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from replay.config.models import CANARY_RULES, DEFAULT_REQUIRED
from replay.devtools.rollout import RolloutSummary, install_rollout
from tests.helpers import Result, run_cli


@pytest.fixture
async def rollout(fixture_db: str, request: pytest.FixtureRequest) -> tuple[str, RolloutSummary]:
    """The normal fixtures plus one rollout scenario (the test's `scenario` parameter)."""
    scenario = getattr(request, "param", "clean")
    conn = await asyncpg.connect(fixture_db)
    try:
        summary = await install_rollout(conn, scenario=scenario, seed=3)
    finally:
        await conn.close()
    return fixture_db, summary


def _check(
    capsys: pytest.CaptureFixture[str], db: str, summary: RolloutSummary, *args: str
) -> tuple[Result, dict[str, Any]]:
    start = (summary.end - timedelta(hours=2)).isoformat()
    result = run_cli(
        capsys,
        "canary-check",
        "--database-url",
        db,
        "--client-id",
        summary.client_id,
        "--from",
        start,
        "--to",
        summary.end.isoformat(),
        "--stage",
        "5",
        "--out",
        "check.json",
        *args,
    )
    assert result.code != 70, result.err
    return result, orjson.loads(Path("check.json").read_bytes())


def _failed(artifact: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rules = artifact["decision"]["rules"]
    return {rule["rule"]: rule for rule in rules if rule["result"] == "failed"}


@pytest.mark.parametrize("rollout", ["clean"], indirect=True)
def test_a_clean_rollout_continues_to_the_next_stage(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollout: tuple[str, RolloutSummary]
) -> None:
    """Every rule passes: exit 0 and the next stage is named."""
    result, artifact = _check(capsys, *rollout)
    assert result.code == 0, result.out
    assert artifact["decision"]["action"] == "continue"
    assert artifact["decision"]["next_stage"] == 25
    assert "CONTINUE  stage 5%: continue to 25%; every rule passed" in result.out
    assert _failed(artifact) == {}
    rules = artifact["decision"]["rules"]
    assert [(rule["rule"], rule["result"], rule["required"]) for rule in rules] == [
        (name, "passed", name in DEFAULT_REQUIRED) for name in CANARY_RULES
    ]
    assert artifact["read_only"] is True and artifact["kind"] == "signals"


@pytest.mark.parametrize("rollout", ["clean"], indirect=True)
def test_without_a_stage_continue_does_not_claim_the_rollout_is_complete(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollout: tuple[str, RolloutSummary]
) -> None:
    """No --stage, no next stage to name: the message asks for one instead of declaring done."""
    db, summary = rollout
    start = (summary.end - timedelta(hours=2)).isoformat()
    result = run_cli(
        capsys, "canary-check", "--database-url", db, "--client-id", summary.client_id,
        "--from", start, "--to", summary.end.isoformat(), "--out", "check.json",
    )  # fmt: skip
    assert result.code == 0, result.out
    decision = orjson.loads(Path("check.json").read_bytes())["decision"]
    assert decision["message"] == (
        "continue (pass --stage to be told the next stage); every rule passed"
    )


@pytest.mark.parametrize(
    ("rollout", "rule"),
    [
        pytest.param("duplicates", "duplicates", id="duplicates"),
        pytest.param("backlog", "backlog", id="backlog"),
        pytest.param("enqueue_outage", "enqueue_failures", id="enqueue-outage"),
        pytest.param("p95_regression", "p95_absolute", id="p95"),
    ],
    indirect=["rollout"],
)
def test_each_incident_stops_with_its_rule_and_numbers(
    capsys: pytest.CaptureFixture[str],
    workdir: Path,
    rollout: tuple[str, RolloutSummary],
    rule: str,
) -> None:
    """An incident in the canary: exit 1, the rule that caught it over its limit, the rollback."""
    result, artifact = _check(capsys, *rollout)
    assert result.code == 1, result.out
    failed = _failed(artifact)
    assert rule in failed
    caught = failed[rule]
    assert caught["value"] is not None and caught["limit"] is not None
    assert caught["value"] > caught["limit"] or (
        rule == "backlog" and caught["value"] >= caught["limit"]
    )
    assert f"STOP  {rule}" in result.out
    assert "Roll back: switch the dispatch flag back to inline" in result.out
    assert artifact["decision"]["rollback"]


@pytest.mark.parametrize("rollout", ["sparse"], indirect=True)
def test_too_little_data_says_so(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollout: tuple[str, RolloutSummary]
) -> None:
    """Fewer jobs than the minimum: exit 4, 'not enough data', never a pass."""
    result, artifact = _check(capsys, *rollout)
    assert result.code == 4, result.out
    assert artifact["decision"]["action"] == "insufficient"
    assert artifact["decision"]["message"].startswith("not enough data: p95_absolute")
    canary_jobs = artifact["current"]["cohorts"]["canary"]["total"]["jobs"]
    small = f"canary has {canary_jobs} jobs, minimum 30"
    states = {
        rule["rule"]: (rule["result"], rule["reason"]) for rule in artifact["decision"]["rules"]
    }
    assert states["p95_absolute"] == ("not_evaluated", small)
    assert states["errors_vs_control"][0] == "not_evaluated"
    assert states["errors_vs_control"][1].startswith(small)
    assert f"--    p95_absolute         not evaluated ({small})" in result.out


@pytest.mark.parametrize("rollout", ["p95_regression"], indirect=True)
def test_the_canary_p95_is_also_judged_against_control(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollout: tuple[str, RolloutSummary]
) -> None:
    """With the absolute limit raised, the comparison with the control still stops it."""
    result, artifact = _check(capsys, *rollout, "--p95-limit", "60")
    assert result.code == 1
    failed = _failed(artifact)
    assert "p95_absolute" not in failed and "p95_vs_control" in failed


@pytest.mark.parametrize("rollout", ["clean"], indirect=True)
def test_signals_report_every_measure(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollout: tuple[str, RolloutSummary]
) -> None:
    """Signals per cohort and per mode and job type, as a table, Markdown and JSON."""
    db, summary = rollout
    base = (
        "signals",
        "--database-url",
        db,
        "--client-id",
        summary.client_id,
        "--from",
        summary.start.isoformat(),
        "--to",
        summary.end.isoformat(),
    )
    table = run_cli(capsys, *base)
    assert table.code == 0
    assert "canary   queued" in table.out and "control  inline" in table.out
    markdown = run_cli(capsys, *base, "--format", "markdown")
    assert markdown.out.startswith("### replay signals ")
    data = orjson.loads(run_cli(capsys, *base, "--format", "json").out)
    cohorts = data["current"]["cohorts"]
    assert set(cohorts) == {"canary", "control"}
    total = cohorts["canary"]["total"]
    assert total["jobs"] == summary.canary_jobs
    assert 0 < total["dispatch_p95_s"] < 2
    assert total["success_rate"] > 0.9
    windows = -(-(summary.end - summary.start) // timedelta(minutes=15))
    assert len(cohorts["canary"]["backlog"]) == windows


@pytest.mark.parametrize("rollout", ["clean"], indirect=True)
def test_a_canary_predicate_defines_the_cohorts(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollout: tuple[str, RolloutSummary]
) -> None:
    """--canary splits jobs by a predicate instead of the cohort column."""
    db, summary = rollout
    result = run_cli(
        capsys,
        "signals",
        "--database-url",
        db,
        "--client-id",
        summary.client_id,
        "--format",
        "json",
        "--from",
        summary.start.isoformat(),
        "--to",
        summary.end.isoformat(),
        "--canary",
        "dispatch_mode = 'queued'",
    )
    data = orjson.loads(result.out)["current"]
    assert data["cohort_source"] == "predicate"
    assert {g["dispatch_mode"] for g in data["groups"] if g["cohort"] == "canary"} == {"queued"}


async def test_signals_never_write(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str
) -> None:
    """A --canary predicate that would write fails in the read-only transaction; nothing moves."""
    conn = await asyncpg.connect(fixture_db)
    try:
        await conn.execute("CREATE SEQUENCE probe")
        before = await conn.fetchval(
            "SELECT md5(string_agg(t::text, '' ORDER BY t::text)) FROM draft_jobs t"
        )
        result = run_cli(
            capsys, "signals", "--database-url", fixture_db, "--from", "2026-10-01",
            "--to", "2026-11-21", "--canary", "nextval('probe') > 0",
        )  # fmt: skip
        assert result.code == 2
        assert "cannot execute nextval() in a read-only transaction" in result.err
        after = await conn.fetchval(
            "SELECT md5(string_agg(t::text, '' ORDER BY t::text)) FROM draft_jobs t"
        )
        assert await conn.fetchval("SELECT last_value FROM probe") == 1
        assert not await conn.fetchval("SELECT is_called FROM probe")
    finally:
        await conn.close()
    assert before == after


def test_a_renamed_column_in_a_team_jobs_view_is_named(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str
) -> None:
    """A jobs view without started_at: exit 3 naming the view, its file and the column."""
    (workdir / "jobs.sql").write_text(
        "SELECT id AS job_id, client_id, job_type, status, dispatch_mode, trigger_message_id,\n"
        "  enqueued_at, started_at AS began_at, finished_at FROM draft_jobs"
    )
    result = run_cli(capsys, "signals", "--database-url", fixture_db, "--jobs-sql", "jobs.sql")
    assert result.code == 3
    assert result.err == "replay: jobs view (jobs.sql) lacks column(s) started_at\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--since", "soon"],
            "--since must be a duration such as 90s, 15m, 24h or 7d, got 'soon'",
            id="since",
        ),
        pytest.param(
            ["--from", "2026-11-01"], "--from and --to go together; pass both", id="from-alone"
        ),
        pytest.param(
            ["--since", "2h", "--from", "2026-11-01", "--to", "2026-11-02"],
            "cannot be combined",
            id="both",
        ),
        pytest.param(
            ["--canary", "true; DELETE FROM draft_jobs"], "contains ';'", id="canary-semicolon"
        ),
        pytest.param(["--canary", "true) OR (1=1"], "unbalanced parentheses", id="canary-parens"),
        pytest.param(["--window", "0m"], "--window must be a duration", id="window"),
    ],
)
def test_bad_signals_flags(
    capsys: pytest.CaptureFixture[str], workdir: Path, args: list[str], message: str
) -> None:
    """Bad ranges and predicates exit 2 with one line, before touching a database."""
    result = run_cli(capsys, "signals", "--database-url", "postgresql://u:p@127.0.0.1:9/x", *args)
    assert result.code == 2
    assert message in result.err and result.err.count("\n") == 1


def test_unreachable_database_exits_3(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    """canary-check cannot read its data: exit 3."""
    result = run_cli(capsys, "canary-check", "--database-url", "postgresql://u:p@127.0.0.1:9/x")
    assert result.code == 3
    assert "is unreachable" in result.err
