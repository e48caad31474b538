"""Not measured is not zero: what signals and canary-check cannot measure says so, and why.

A figure that a missing view or column, or too little data, cannot give is null in the artifact
with its reason and reads "not measured (<reason>)"; a canary rule that cannot be evaluated is
listed as "not evaluated (<reason>)" and never lets a required rule pass; data that breaks an
invariant is counted and named, and left out of the durations.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
import orjson
import pytest

from replay.artifacts.load import load_signals
from replay.config.models import CANARY_RULES, CanaryThresholds
from replay.devtools import pg
from replay.devtools.rollout import RolloutSummary, install_rollout
from replay.models import SCHEMA_VERSION, SignalsReport
from replay.ops import canary
from tests.helpers import Result, run_cli

SCHEMA = resources.files("replay.devtools").joinpath("schema.sql").read_text(encoding="utf-8")
BUILT_IN = resources.files("replay.config.sql")
SERIES_START = datetime(2026, 11, 20, tzinfo=UTC)
"""The first hour of every default rollout series: nothing is enqueued before it."""
MINIMAL_JOBS = (
    "SELECT id AS job_id, client_id, job_type, status, dispatch_mode, cohort,\n"
    "  trigger_message_id, enqueued_at, started_at, finished_at FROM draft_jobs"
)
"""A team's jobs view with the required columns and a cohort, nothing optional besides."""
ALL_REQUIRED = [name for name in CANARY_RULES if name != "p95_vs_previous"]


class Rollouts(NamedTuple):
    db: str
    summaries: Mapping[str, RolloutSummary]


@pytest.fixture(scope="module")
async def rollouts(admin_uri: str) -> AsyncIterator[Rollouts]:
    """One read-only database holding the clean and duplicates scenarios (seed 3)."""
    name = f"replay_not_measured_{os.getpid()}"
    admin = await asyncpg.connect(admin_uri)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    db = pg.database_uri(admin_uri, name)
    conn = await asyncpg.connect(db)
    try:
        await conn.execute(SCHEMA)
        summaries = {
            s: await install_rollout(conn, scenario=s, seed=3) for s in ("clean", "duplicates")
        }
    finally:
        await conn.close()
    yield Rollouts(db, summaries)


def _views(workdir: Path) -> None:
    """The built-in views as a team's files, and a jobs view without the optional columns."""
    for view in ("jobs", "dispatch", "drafts"):
        (workdir / f"{view}.sql").write_text(BUILT_IN.joinpath(f"{view}.sql").read_text())
    (workdir / "minimal.sql").write_text(MINIMAL_JOBS)


def _signals(
    capsys: pytest.CaptureFixture[str],
    rollouts: Rollouts,
    scenario: str,
    *args: str,
    command: str = "signals",
    hours: float = 2,
) -> tuple[Result, dict[str, Any]]:
    """`replay COMMAND` over the last `hours` of a scenario; its output and its artifact."""
    summary = rollouts.summaries[scenario]
    Path("signals.json").unlink(missing_ok=True)
    result = run_cli(
        capsys, command, "--database-url", rollouts.db, "--client-id", summary.client_id,
        "--from", (summary.end - timedelta(hours=hours)).isoformat(),
        "--to", summary.end.isoformat(), "--out", "signals.json", *args,
    )  # fmt: skip
    assert result.code != 70, result.err
    return result, orjson.loads(Path("signals.json").read_bytes())


def _rules(artifact: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["rule"]: rule for rule in artifact["decision"]["rules"]}


# --- signals ---------------------------------------------------------------------------------


async def test_without_a_drafts_view_duplicate_drafts_are_not_measured(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollouts: Rollouts
) -> None:
    """A team's jobs view and no drafts view: null and why, never 0; --drafts-sql counts them."""
    _views(workdir)
    conn = await asyncpg.connect(rollouts.db)
    try:
        extra = await conn.fetchval(
            "SELECT sum(n - 1) FROM (SELECT count(*) AS n FROM ai_drafts WHERE client_id = $1"
            " AND created_at >= $2 GROUP BY trigger_message_id HAVING count(*) > 1) AS d",
            rollouts.summaries["duplicates"].client_id,
            rollouts.summaries["duplicates"].end - timedelta(hours=2),
        )
    finally:
        await conn.close()
    assert extra > 0
    result, artifact = _signals(capsys, rollouts, "duplicates", "--jobs-sql", "jobs.sql")
    assert result.code == 0, result.err
    canary = artifact["current"]["cohorts"]["canary"]
    assert canary["duplicate_drafts"] is None
    assert canary["not_measured"]["duplicate_drafts"] == "no drafts view"
    assert "duplicate drafts not measured (no drafts view)" in result.out
    assert "duplicate drafts 0" not in result.out
    markdown, _ = _signals(capsys, rollouts, "duplicates", "--jobs-sql", "jobs.sql",
                           "--format", "markdown")  # fmt: skip
    assert "| not measured (no drafts view) |" in markdown.out
    measured, artifact = _signals(
        capsys, rollouts, "duplicates", "--jobs-sql", "jobs.sql", "--drafts-sql", "drafts.sql"
    )
    canary = artifact["current"]["cohorts"]["canary"]
    assert canary["duplicate_drafts"] == extra
    assert "duplicate_drafts" not in canary["not_measured"]
    assert f"duplicate drafts {extra} ·" in measured.out


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("variable", id="REPLAY_DRAFTS_SQL"),
        pytest.param("toml", id="drafts_sql_file"),
    ],
)
def test_the_drafts_view_comes_from_its_variable_or_replay_toml(
    capsys: pytest.CaptureFixture[str],
    workdir: Path,
    rollouts: Rollouts,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
) -> None:
    """REPLAY_DRAFTS_SQL and `[source] drafts_sql_file` give the view as --drafts-sql does."""
    _views(workdir)
    if source == "variable":
        monkeypatch.setenv("REPLAY_DRAFTS_SQL", "drafts.sql")
    else:
        (workdir / "replay.toml").write_text('[source]\ndrafts_sql_file = "drafts.sql"\n')
    _, artifact = _signals(capsys, rollouts, "duplicates", "--jobs-sql", "jobs.sql")
    assert artifact["config"]["views"]["drafts"].endswith("drafts.sql")
    assert artifact["current"]["cohorts"]["canary"]["duplicate_drafts"] > 0


def test_an_unreadable_drafts_file_is_named(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    """--drafts-sql naming no file: exit 2, one line naming the flag and the file."""
    result = run_cli(capsys, "signals", "--database-url", "postgresql://u@127.0.0.1:9/x",
                     "--drafts-sql", "gone.sql")  # fmt: skip
    assert result.code == 2
    assert result.err == (
        "replay: --drafts-sql 'gone.sql' cannot be read (No such file or directory); "
        "expected a file holding a SELECT\n"
    )


def test_without_a_dispatch_view_enqueues_are_not_measured(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollouts: Rollouts
) -> None:
    """No dispatch view: every enqueue figure of every cohort is null, 'no dispatch view'."""
    _views(workdir)
    result, artifact = _signals(capsys, rollouts, "clean", "--jobs-sql", "jobs.sql")
    enqueues = ("enqueue_attempts", "enqueue_failures", "enqueue_failure_rate", "inline_fallbacks")
    for cohort in artifact["current"]["cohorts"].values():
        assert [cohort[field] for field in enqueues] == [None] * 4
        assert {cohort["not_measured"][field] for field in enqueues} == {"no dispatch view"}
    assert result.out.count("enqueue failures not measured (no dispatch view)") == 2


def test_dispatch_events_without_a_cohort_cannot_be_split_by_cohort(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollouts: Rollouts
) -> None:
    """Jobs split by cohort, events not: enqueue figures not measured, never 0 of 0."""
    _views(workdir)
    (workdir / "events.sql").write_text(
        "SELECT client_id, job_id, dedupe_key, kind, occurred_at FROM dispatch_events"
    )
    result, artifact = _signals(
        capsys, rollouts, "clean", "--jobs-sql", "jobs.sql", "--dispatch-sql", "events.sql"
    )
    canary = artifact["current"]["cohorts"]["canary"]
    assert canary["enqueue_failures"] is None
    assert canary["not_measured"]["enqueue_failures"] == "no cohort column in the dispatch view"
    assert "enqueue failures not measured (no cohort column in the dispatch view)" in result.out


def test_a_cohort_without_enqueue_attempts_has_no_failure_rate(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollouts: Rollouts
) -> None:
    """Inline control jobs are never enqueued: 0 of 0 attempts, and no rate rather than 0%."""
    _, artifact = _signals(capsys, rollouts, "clean")
    control = artifact["current"]["cohorts"]["control"]
    assert (control["enqueue_attempts"], control["enqueue_failures"]) == (0, 0)
    assert control["enqueue_failure_rate"] is None
    assert control["not_measured"] == {"enqueue_failure_rate": "no enqueue attempts"}
    canary = artifact["current"]["cohorts"]["canary"]
    assert canary["enqueue_failure_rate"] == 0.0 and canary["not_measured"] == {}


def test_a_jobs_view_without_optional_columns_measures_what_it_can(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollouts: Rollouts
) -> None:
    """No attempts, last_error or dedupe_key: retries, timeouts and collisions not measured."""
    _views(workdir)
    result, artifact = _signals(capsys, rollouts, "clean", "--jobs-sql", "minimal.sql")
    total = artifact["current"]["cohorts"]["canary"]["total"]
    assert (total["retried"], total["retry_rate"], total["timeouts"], total["timeout_rate"]) == (
        None, None, None, None,
    )  # fmt: skip
    assert total["not_measured"] == {
        "retried": "no attempts column",
        "retry_rate": "no attempts column",
        "timeouts": "no last_error column",
        "timeout_rate": "no last_error column",
    }
    assert total["success_rate"] > 0.9 and total["dead_letter"] >= 0
    cohort = artifact["current"]["cohorts"]["canary"]
    assert cohort["dedupe_collisions"] is None
    assert cohort["not_measured"]["dedupe_collisions"] == "no dedupe_key column"
    header, canary_row = result.out.splitlines()[1:3]
    assert "not measured (no attempts column)" in canary_row
    assert "not measured (no last_error column)" in canary_row
    assert "0.0%" not in canary_row.split("not measured")[1]
    assert header.split()[:4] == ["cohort", "mode", "type", "jobs"]
    assert "dedupe collisions not measured (no dedupe_key column)" in result.out


def test_latencies_of_jobs_that_never_started_are_not_measured(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollouts: Rollouts
) -> None:
    """No job started or finished: every percentile and the max are null, 'no job started'."""
    (workdir / "waiting.sql").write_text(
        MINIMAL_JOBS.replace("started_at, finished_at", "NULL::timestamptz AS started_at,\n"
                             "  NULL::timestamptz AS finished_at")
    )  # fmt: skip
    result, artifact = _signals(capsys, rollouts, "clean", "--jobs-sql", "waiting.sql")
    total = artifact["current"]["cohorts"]["canary"]["total"]
    dispatch = ("dispatch_p50_s", "dispatch_p95_s", "dispatch_max_s")
    processing = ("processing_p50_s", "processing_p95_s")
    assert [total[field] for field in (*dispatch, *processing)] == [None] * 5
    assert {field: total["not_measured"][field] for field in (*dispatch, *processing)} == {
        **dict.fromkeys(dispatch, "no job started"),
        **dict.fromkeys(processing, "no job finished"),
    }
    canary_row = result.out.splitlines()[2]
    assert canary_row.count("not measured (no job started)") == 3
    assert canary_row.count("not measured (no job finished)") == 2
    assert " s " not in canary_row + " "


def test_backlog_growth_needs_two_windows(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollouts: Rollouts
) -> None:
    """One window has nothing to grow from: growth is not measured, not 0 windows."""
    result, artifact = _signals(capsys, rollouts, "clean", "--window", "3h")
    canary = artifact["current"]["cohorts"]["canary"]
    assert len(canary["backlog"]) == 1
    assert canary["backlog_growing_windows"] is None
    assert canary["not_measured"] == {"backlog_growing_windows": "one window only"}
    assert "growing not measured (one window only)" in result.out


def test_a_range_without_jobs_says_so(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollouts: Rollouts
) -> None:
    """No job in the range: the table says so; canary-check evaluates nothing and exits 4."""
    summary = rollouts.summaries["clean"]
    args = ("--database-url", rollouts.db, "--client-id", summary.client_id,
            "--from", "2026-12-01", "--to", "2026-12-01T02:00")  # fmt: skip
    table = run_cli(capsys, "signals", *args)
    assert table.code == 0
    assert table.out.splitlines()[1] == "no jobs enqueued in the range"
    check = run_cli(capsys, "canary-check", *args, "--format", "json")
    assert check.code == 4
    decision = orjson.loads(check.out)["decision"]
    assert decision["message"] == "not enough data: no canary jobs in the range"
    assert [rule["rule"] for rule in decision["rules"]] == list(CANARY_RULES)
    assert {(rule["result"], rule["reason"]) for rule in decision["rules"]} == {
        ("not_evaluated", "no canary jobs in the range")
    }


async def test_jobs_that_break_time_order_are_named_and_left_out(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str
) -> None:
    """Finished before started, started before enqueued: counted, first ids, not in durations."""
    conn = await asyncpg.connect(fixture_db)
    try:
        summary = await install_rollout(conn, scenario="clean", seed=5, days=1, jobs_per_hour=30)
        start = summary.end - timedelta(hours=6)
        jobs = await conn.fetch(
            "SELECT id::text AS id FROM draft_jobs WHERE client_id = $1 AND cohort = 'canary'"
            " AND enqueued_at >= $2 AND finished_at IS NOT NULL ORDER BY enqueued_at, id::text",
            summary.client_id,
            start,
        )
        ids = [row["id"] for row in jobs]
        await conn.execute(
            "UPDATE draft_jobs SET finished_at = started_at - interval '120 seconds'"
            " WHERE id = ANY($1::uuid[])",
            ids[:4],
        )
        await conn.execute(
            "UPDATE draft_jobs SET started_at = enqueued_at - interval '5 seconds'"
            " WHERE id = $1::uuid",
            ids[10],
        )
        valid_max = await conn.fetchval(
            "SELECT max(extract(epoch FROM started_at - enqueued_at)) FILTER (WHERE id <> $3::uuid)"
            " FROM draft_jobs WHERE client_id = $1 AND cohort = 'canary'"
            " AND enqueued_at >= $2",
            summary.client_id,
            start,
            ids[10],
        )
    finally:
        await conn.close()
    result = run_cli(
        capsys, "signals", "--database-url", fixture_db, "--client-id", summary.client_id,
        "--from", start.isoformat(), "--to", summary.end.isoformat(), "--out", "s.json",
    )  # fmt: skip
    assert result.code == 0, result.err
    report = orjson.loads((workdir / "s.json").read_bytes())["current"]
    assert report["warnings"] == [
        {
            "check": "started_before_enqueued",
            "jobs": 1,
            "first": [ids[10]],
            "message": f"1 job started before it was enqueued (first: {ids[10]}); "
            "left out of dispatch latencies",
        },
        {
            "check": "finished_before_started",
            "jobs": 4,
            "first": ids[:3],
            "message": f"4 jobs finished before they started (first: {', '.join(ids[:3])}); "
            "left out of processing times",
        },
    ]
    assert f"warning: 4 jobs finished before they started (first: {', '.join(ids[:3])})" in (
        result.out
    )
    total = report["cohorts"]["canary"]["total"]
    assert total["dispatch_max_s"] == pytest.approx(float(valid_max), abs=0.001)
    assert total["dispatch_p50_s"] > 0.01 and total["processing_p50_s"] > 0.1
    markdown = run_cli(
        capsys, "signals", "--database-url", fixture_db, "--client-id", summary.client_id,
        "--from", start.isoformat(), "--to", summary.end.isoformat(), "--format", "markdown",
    )  # fmt: skip
    assert "> **warning:** 1 job started before it was enqueued" in markdown.out


def test_a_group_with_only_impossible_times_has_no_latency(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollouts: Rollouts
) -> None:
    """Every start before its enqueue: no valid dispatch time, rather than a 0 s latency."""
    (workdir / "early.sql").write_text(
        MINIMAL_JOBS.replace("started_at,", "enqueued_at - interval '1 second' AS started_at,")
    )
    result, artifact = _signals(capsys, rollouts, "clean", "--jobs-sql", "early.sql")
    total = artifact["current"]["cohorts"]["canary"]["total"]
    assert total["dispatch_p95_s"] is None
    assert total["not_measured"]["dispatch_p95_s"] == "no valid dispatch time"
    (warning,) = [w for w in artifact["current"]["warnings"] if w["check"].startswith("started")]
    assert warning["jobs"] == sum(
        c["total"]["jobs"] for c in artifact["current"]["cohorts"].values()
    )
    assert "not measured (no valid dispatch time)" in result.out


# --- canary-check ----------------------------------------------------------------------------


def _first_hours(
    capsys: pytest.CaptureFixture[str], rollouts: Rollouts, start: datetime, hours: float
) -> tuple[Result, dict[str, Any]]:
    """canary-check on the clean series from `start` (its previous range is before the series)."""
    summary = rollouts.summaries["clean"]
    result = run_cli(
        capsys, "canary-check", "--database-url", rollouts.db, "--client-id", summary.client_id,
        "--from", start.isoformat(), "--to", (start + timedelta(hours=hours)).isoformat(),
        "--stage", "5", "--out", "check.json",
    )  # fmt: skip
    assert result.code != 70, result.err
    return result, orjson.loads(Path("check.json").read_bytes())


def test_a_rule_without_a_previous_range_is_not_evaluated_and_blocks_continue(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollouts: Rollouts
) -> None:
    """All eight required, in the first hours of a series: p95_vs_previous not evaluated, exit 4."""
    names = ", ".join(f'"{name}"' for name in CANARY_RULES)
    (workdir / "replay.toml").write_text(f"[canary]\nrequired = [{names}]\n")
    result, artifact = _first_hours(capsys, rollouts, SERIES_START, 2)
    assert result.code == 4, result.out
    rules = _rules(artifact)
    assert list(rules) == list(CANARY_RULES)
    previous = rules["p95_vs_previous"]
    assert (previous["result"], previous["reason"], previous["required"]) == (
        "not_evaluated", "no canary jobs in the previous range", True,
    )  # fmt: skip
    assert {rule["result"] for name, rule in rules.items() if name != "p95_vs_previous"} == {
        "passed"
    }
    decision = artifact["decision"]
    assert decision["action"] == "insufficient"
    assert decision["message"] == (
        "not enough data: p95_vs_previous not evaluated (no canary jobs in the previous range)"
    )
    assert artifact["exit_code"] == 4
    assert (
        "--    p95_vs_previous      not evaluated (no canary jobs in the previous range)\n"
        in result.out
    )
    assert "every rule passed" not in result.out
    assert "INSUFFICIENT  stage 5%: not enough data: p95_vs_previous not evaluated" in result.out


def test_a_rule_left_out_of_required_lets_the_rollout_continue_and_says_so(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollouts: Rollouts
) -> None:
    """By default p95_vs_previous is not required: a first stage continues, naming it unmeasured."""
    result, artifact = _first_hours(capsys, rollouts, SERIES_START, 2)
    assert result.code == 0, result.out
    decision = artifact["decision"]
    assert decision["action"] == "continue"
    assert decision["message"] == (
        "continue to 25%; every required rule passed; not evaluated, not required: "
        "p95_vs_previous (no canary jobs in the previous range)"
    )
    previous = _rules(artifact)["p95_vs_previous"]
    assert (previous["result"], previous["required"]) == ("not_evaluated", False)
    assert artifact["config"]["thresholds"]["required"] == ALL_REQUIRED
    assert (
        "--    p95_vs_previous      not evaluated (no canary jobs in the previous range)"
        " (not required)" in result.out
    )


async def test_a_previous_range_with_too_few_jobs_is_named_with_its_count(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollouts: Rollouts
) -> None:
    """Some but too few canary jobs before: the reason gives their count and the minimum."""
    start = SERIES_START + timedelta(minutes=30)
    conn = await asyncpg.connect(rollouts.db)
    try:
        before = await conn.fetchval(
            "SELECT count(*) FROM draft_jobs WHERE client_id = $1 AND cohort = 'canary'"
            " AND enqueued_at >= $2 AND enqueued_at < $3",
            rollouts.summaries["clean"].client_id,
            start - timedelta(hours=2.5),
            start,
        )
    finally:
        await conn.close()
    assert 0 < before < 30
    result, artifact = _first_hours(capsys, rollouts, start, 2.5)
    assert result.code == 0, result.out  # not required by default: named, not blocking
    reason = f"the previous range's canary has {before} jobs, minimum 30"
    assert _rules(artifact)["p95_vs_previous"]["reason"] == reason
    assert f"p95_vs_previous      not evaluated ({reason}) (not required)" in result.out


def test_without_a_drafts_view_the_duplicates_rule_is_not_evaluated(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollouts: Rollouts
) -> None:
    """Duplicate drafts unmeasured: no pass on what was not counted; exit 4 with the reasons."""
    _views(workdir)
    result, artifact = _signals(
        capsys, rollouts, "clean", "--jobs-sql", "jobs.sql", "--stage", "5", command="canary-check"
    )
    assert result.code == 4, result.out
    rules = _rules(artifact)
    assert rules["duplicates"]["reason"] == "duplicate drafts not measured: no drafts view"
    assert rules["enqueue_failures"]["reason"] == (
        "canary enqueue failure rate not measured: no dispatch view"
    )
    assert artifact["decision"]["message"] == (
        "not enough data: duplicates not evaluated (duplicate drafts not measured: no drafts "
        "view); enqueue_failures not evaluated (canary enqueue failure rate not measured: no "
        "dispatch view)"
    )
    measured, artifact = _signals(
        capsys, rollouts, "clean", "--jobs-sql", "jobs.sql", "--drafts-sql", "drafts.sql",
        "--dispatch-sql", "dispatch.sql", "--stage", "5", command="canary-check",
    )  # fmt: skip
    assert measured.code == 0, measured.out
    assert {rule["result"] for rule in artifact["decision"]["rules"]} == {"passed"}


def test_counted_duplicates_stop_even_when_drafts_are_not_measured(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollouts: Rollouts
) -> None:
    """What was counted is evidence: duplicate executions stop the rollout without drafts."""
    _views(workdir)
    result, artifact = _signals(
        capsys, rollouts, "duplicates", "--jobs-sql", "jobs.sql", "--stage", "5",
        command="canary-check",
    )  # fmt: skip
    assert result.code == 1, result.out
    duplicates = _rules(artifact)["duplicates"]
    assert duplicates["result"] == "failed" and duplicates["reason"] is None
    assert duplicates["detail"].endswith("dedupe-key collisions in the canary")
    assert "duplicate drafts" not in duplicates["detail"]


def test_the_markdown_decision_lists_each_rule_state(
    capsys: pytest.CaptureFixture[str], workdir: Path, rollouts: Rollouts
) -> None:
    """Markdown: passed, not evaluated with its reason, and whether the rule is required."""
    summary = rollouts.summaries["clean"]
    result = run_cli(
        capsys, "canary-check", "--database-url", rollouts.db, "--client-id", summary.client_id,
        "--from", SERIES_START.isoformat(), "--to", "2026-11-20T02:00Z", "--format", "markdown",
    )  # fmt: skip
    assert result.code == 0
    lines = result.out.splitlines()
    assert "| rule | result | required | value | limit | detail |" in lines
    (previous,) = [line for line in lines if line.startswith("| p95_vs_previous |")]
    assert previous.startswith(
        "| p95_vs_previous | not evaluated (no canary jobs in the previous range) | no | "
    )
    (backlog,) = [line for line in lines if line.startswith("| backlog |")]
    assert backlog.startswith("| backlog | pass | yes | 0 | 4 |")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param('["duplicates", "p95"]', "'p95'", id="unknown-rule"),
        pytest.param("[]", "'[]'", id="empty"),
        pytest.param('"duplicates"', "'duplicates'", id="not-a-list"),
    ],
)
def test_required_names_known_rules_only(
    capsys: pytest.CaptureFixture[str], workdir: Path, value: str, shown: str
) -> None:
    """A bad `[canary] required`: exit 2, one line naming the key, the rules and the value."""
    (workdir / "replay.toml").write_text(f"[canary]\nrequired = {value}\n")
    result = run_cli(capsys, "canary-check", "--database-url", "postgresql://u@127.0.0.1:9/x")
    assert result.code == 2
    assert result.err == (
        "replay: replay.toml [canary] required must be a non-empty list of rule names "
        f"({', '.join(CANARY_RULES)}), got {shown}\n"
    )


# --- the artifact ----------------------------------------------------------------------------

V2_COHORT: dict[str, Any] = {
    "total": {
        "cohort": "canary", "dispatch_mode": None, "job_type": None, "jobs": 40,
        "succeeded": 40, "failed": 0, "dead_letter": 0, "retried": 1, "timeouts": 0,
        "pending": 0, "success_rate": 1.0, "failure_rate": 0.0, "retry_rate": 0.025,
        "timeout_rate": 0.0, "dispatch_p50_s": 0.4, "dispatch_p95_s": 0.7,
        "dispatch_max_s": 0.8, "processing_p50_s": None, "processing_p95_s": None,
    },
    "duplicate_executions": 0, "dedupe_collisions": 0, "duplicate_drafts": 0,
    "enqueue_attempts": 0, "enqueue_failures": 0, "enqueue_failure_rate": 0.0,
    "inline_fallbacks": 0,
    "backlog": [{"window_end": "2026-11-22T00:00:00Z", "pending": 0, "oldest_age_s": None}],
    "backlog_growing_windows": 0,
}  # fmt: skip
"""A cohort as version 2 wrote it: 0 for what its views could not count."""


def test_a_version_2_signals_artifact_reads_with_what_it_did_not_measure(tmp_path: Path) -> None:
    """A v2 file loads as v3: its zeros from missing views become null and why, rules a result."""
    report = {
        "start": "2026-11-21T22:00:00Z", "end": "2026-11-22T00:00:00Z", "window_s": 7200.0,
        "client_id": None, "cohort_source": "column", "groups": [],
        "cohorts": {"canary": V2_COHORT},
    }  # fmt: skip
    old = {
        "schema_version": 2, "kind": "signals", "run_id": "r", "tool_version": "0.9.0",
        "created_at": "2026-11-22T00:01:00Z", "read_only": True, "exit_code": 1,
        "config": {"views": {"jobs": "jobs.sql"}}, "current": report, "previous": None,
        "decision": {
            "action": "stop", "stage": 5, "next_stage": None, "rollback": "flip it back",
            "message": "stop: backlog",
            "rules": [
                {"rule": "duplicates", "passed": True, "value": 0, "limit": 0, "detail": "d"},
                {"rule": "backlog", "passed": False, "value": 4, "limit": 4, "detail": "b"},
            ],
        },
    }  # fmt: skip
    path = tmp_path / "signals-v2.json"
    path.write_bytes(orjson.dumps(old))
    loaded = load_signals(path)
    assert loaded.schema_version == SCHEMA_VERSION == 5
    cohort = loaded.current.cohorts["canary"]
    assert cohort.duplicate_drafts is None and cohort.enqueue_failure_rate is None
    assert cohort.backlog_growing_windows is None
    assert cohort.duplicate_executions == cohort.dedupe_collisions == 0
    assert cohort.not_measured == {
        "backlog_growing_windows": "one window only",
        "duplicate_drafts": "no drafts view",
        "enqueue_attempts": "no dispatch view",
        "enqueue_failures": "no dispatch view",
        "enqueue_failure_rate": "no dispatch view",
        "inline_fallbacks": "no dispatch view",
    }
    assert cohort.total.not_measured == {
        "processing_p50_s": "no job finished",
        "processing_p95_s": "no job finished",
    }
    assert loaded.decision is not None
    assert [(r.rule, r.result, r.required) for r in loaded.decision.rules] == [
        ("duplicates", "passed", True),
        ("backlog", "failed", True),
    ]


def test_a_version_2_artifact_with_every_view_keeps_its_counts(tmp_path: Path) -> None:
    """With every view read, a v2 zero was measured and stays; 0 attempts gives no rate."""
    report = {
        "start": "2026-11-21T22:00:00Z", "end": "2026-11-22T00:00:00Z", "window_s": 900.0,
        "cohort_source": "column",
        "cohorts": {"canary": V2_COHORT | {"backlog": V2_COHORT["backlog"] * 2}},
    }  # fmt: skip
    old = {
        "schema_version": 2, "kind": "signals", "run_id": "r", "tool_version": "0.9.0",
        "created_at": "2026-11-22T00:01:00Z", "exit_code": 0, "current": report,
        "config": {"views": {"jobs": "j", "dispatch": "d", "drafts": "a"}},
    }  # fmt: skip
    path = tmp_path / "signals-v2.json"
    path.write_bytes(orjson.dumps(old))
    cohort = load_signals(path).current.cohorts["canary"]
    assert (cohort.duplicate_drafts, cohort.enqueue_attempts, cohort.backlog_growing_windows) == (
        0, 0, 0,
    )  # fmt: skip
    assert cohort.not_measured == {"enqueue_failure_rate": "no enqueue attempts"}


def test_a_null_figure_without_a_reason_still_never_passes() -> None:
    """A report read from elsewhere with a null p95 and no reason: not evaluated, not a pass."""
    total = V2_COHORT["total"] | {"dispatch_p95_s": None}
    cohort = V2_COHORT | {"total": total, "backlog": V2_COHORT["backlog"] * 5}
    report = SignalsReport.model_validate(
        {
            "start": "2026-11-21T22:00:00Z",
            "end": "2026-11-22T00:00:00Z",
            "window_s": 900.0,
            "cohort_source": "column",
            "cohorts": {
                "canary": cohort,
                "control": cohort | {"total": V2_COHORT["total"] | {"cohort": "control"}},
            },
        }  # fmt: skip
    )
    decision = canary.decide(report, report, CanaryThresholds(), 5)
    rules = {rule.rule: rule for rule in decision.rules}
    assert (rules["p95_absolute"].result, rules["p95_absolute"].reason) == (
        "not_evaluated", "a figure it needs was not measured",
    )  # fmt: skip
    assert decision.action == "insufficient"
