"""An ORM-generated schema read through its own views (examples/prisma-schema).

Quoted CamelCase tables and columns, text ids (cuids and uuids), `timestamp(3)` without time
zone, Postgres enums, drafts keyed by their trigger message, and a message synced late. Each test
is something a team meets on such a schema, replayed through the real CLI and the embedded
Postgres.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from replay.devtools.stub_model import StubServer
from tests.helpers import Result, only_artifact, run_cli

EXAMPLE = Path(__file__).parents[1] / "examples" / "prisma-schema"
ARTIFACTS = Path(".artifacts/ai-replay")
CUID_CLIENT = "ckx1f0a2b0000qz8r5w3e7h9j"
UUID_CLIENT = "5bc8e3a4-2f1d-4c8e-9a77-0d3b6f1e2a90"


@pytest.fixture
async def prisma_db(empty_db: str) -> str:
    """A database holding the Prisma-style schema and its seed rows."""
    conn = await asyncpg.connect(empty_db)
    try:
        await conn.execute((EXAMPLE / "schema.sql").read_text())
        await conn.execute((EXAMPLE / "seed.sql").read_text())
    finally:
        await conn.close()
    return empty_db


@pytest.fixture
def example(workdir: Path, prisma_db: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example's views and replay.toml in the working directory, its database variable set."""
    for path in EXAMPLE.iterdir():
        if path.name not in ("schema.sql", "seed.sql"):
            shutil.copy(path, workdir / path.name)
    monkeypatch.setenv("APP_DATABASE_URL", prisma_db)
    return workdir


def _replay(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    return run_cli(capsys, "--client-id", CUID_CLIENT, *args)


def _cases(artifact: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {case["case_id"]: case for case in artifact["cases"]}


def _view(name: str, old: str, new: str) -> str:
    """A copy of one of the example's views with `old` replaced, written beside it."""
    text = (EXAMPLE / name).read_text()
    assert old in text, old
    Path(f"changed-{name}").write_text(text.replace(old, new))
    return f"changed-{name}"


def test_the_worked_example_selects_by_enum_and_cuts_each_thread_in_time(
    capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    """The enum label selects; a failed attempt and another job type stay out; threads are right."""
    result = _replay(capsys, "--dry-run")
    assert result.code == 0, result.err
    assert "3 of 20 requested; selected 3 [email 2, sms 1]" in result.out
    cases = _cases(only_artifact(ARTIFACTS))
    assert list(cases) == ["cjob0004", "cjob0002", "cjob0001"]  # newest first; cjob0003 FAILED
    assert cases["cjob0001"]["input"]["thread_message_ids"] == []
    # cmsg0009 was sent before the inbound but stored after the job: production never saw it.
    assert cases["cjob0002"]["input"]["thread_message_ids"] == ["cmsg0001", "cmsg0002"]
    assert cases["cjob0002"]["original"]["disposition"] == "sent_as_is"
    assert cases["cjob0001"]["original"]["disposition"] == "edited"
    assert cases["cjob0004"]["original"]["job_status"] == "SUCCEEDED"
    messages = cases["cjob0001"]["plan"]["request"]["messages"]
    assert "Łukasz" in " ".join(str(message["content"]) for message in messages)


def test_without_known_at_a_late_synced_message_reaches_the_thread(
    capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    """The same view without `known_at` cuts by `sent_at` only: why a team maps the column."""
    view = _view("thread.sql", ',\n    "createdAt"                AS known_at', "")
    result = _replay(capsys, "--dry-run", "--thread-sql", view)
    assert result.code == 0, result.err
    thread = _cases(only_artifact(ARTIFACTS))["cjob0002"]["input"]["thread_message_ids"]
    assert thread == ["cmsg0001", "cmsg0002", "cmsg0009"]


def test_a_null_known_at_counts_as_known(capsys: pytest.CaptureFixture[str], example: Path) -> None:
    """A message without a stored time (legacy rows) is cut by `sent_at` alone, as documented."""
    view = _view(
        "thread.sql",
        '"createdAt"                AS known_at',
        'CASE WHEN "id" = \'cmsg0009\' THEN NULL ELSE "createdAt" END AS known_at',
    )
    result = _replay(capsys, "--dry-run", "--thread-sql", view)
    assert result.code == 0, result.err
    thread = _cases(only_artifact(ARTIFACTS))["cjob0002"]["input"]["thread_message_ids"]
    assert thread == ["cmsg0001", "cmsg0002", "cmsg0009"]


def test_a_known_at_that_is_not_a_time_is_refused(
    capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    """`known_at` compares with the job's creation: a text column is a mistake, named as one."""
    view = _view("thread.sql", '"createdAt"                AS known_at', '"id" AS known_at')
    result = _replay(capsys, "--dry-run", "--thread-sql", view)
    assert result.code == 2
    assert result.err == (
        f"replay: {view}: the thread view's known_at is a text; expected a timestamp "
        "(when the system stored the message)\n"
    )


@pytest.mark.parametrize("status", ["succeeded", "SUCCEEDED", "Succeeded"])
def test_a_status_in_any_case_takes_the_enum_label(
    capsys: pytest.CaptureFixture[str], example: Path, status: str
) -> None:
    """`--status succeeded` on an enum of `SUCCEEDED`: the one label it matches is used."""
    result = _replay(capsys, "--dry-run", "--status", status)
    assert result.code == 0, result.err
    assert [case["case_id"] for case in only_artifact(ARTIFACTS)["cases"]] == [
        "cjob0004",
        "cjob0002",
        "cjob0001",
    ]


def test_a_status_the_enum_lacks_names_its_labels(
    capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    """Exit 2 naming the flag, the column, the enum and its labels; not a bad --client-id."""
    result = _replay(capsys, "--dry-run", "--status", "done")
    assert result.code == 2
    assert result.err == (
        "replay: --status 'done' does not fit the case view's job_status "
        '(enum "BackgroundJobStatus": PENDING, RUNNING, SUCCEEDED, FAILED); '
        "pass one of its labels or --status any\n"
    )


def test_the_default_status_on_an_enum_without_it_says_it_is_the_default(
    capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    """No --status given and the enum has no `succeeded`: the message says the default failed."""
    view = _view(
        "cases.sql", 'j."status"                 AS job_status', 'm."direction" AS job_status'
    )
    Path("replay.toml").write_text(Path("replay.toml").read_text().replace('status = "', "# "))
    result = _replay(capsys, "--dry-run", "--source-sql", view)
    assert result.code == 2
    assert result.err.startswith(
        "replay: the default --status 'succeeded' does not fit the case view's job_status "
        '(enum "MessageDirection": INBOUND, OUTBOUND)'
    )


def test_a_channel_on_an_enum_column_takes_its_label(
    capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    """A view that leaves `channel` an enum: `--channel sms` selects the `SMS` cases."""
    view = _view("cases.sql", 'lower(m."channel"::text)   AS channel', 'm."channel" AS channel')
    result = _replay(capsys, "--dry-run", "--source-sql", view, "--channel", "sms")
    assert result.code == 0, result.err
    assert [case["case_id"] for case in only_artifact(ARTIFACTS)["cases"]] == ["cjob0004"]


def test_a_client_id_that_fits_is_never_blamed_for_another_filter(
    capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    """The failing cast is in the view's own data: the view is named, not --client-id."""
    view = _view("cases.sql", "WHERE j.\"type\" = 'GENERATE_AI_DRAFT'", 'WHERE j."id"::int > 0')
    result = _replay(capsys, "--dry-run", "--source-sql", view)
    assert result.code == 2
    assert result.err.startswith(f"replay: {view}: the cases view failed: invalid input syntax")
    assert "--client-id" not in result.err


def test_a_uuid_client_column_names_the_client_id(
    capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    """A view of the uuid workspaces with a uuid client_id: a cuid client id is what misfits."""
    text = (EXAMPLE / "cases.sql").read_text()
    text = text.replace(
        'j."workspaceId"            AS client_id', 'j."workspaceId"::uuid AS client_id'
    ).replace("WHERE j.\"type\" = 'GENERATE_AI_DRAFT'", "WHERE j.\"workspaceId\" LIKE '%-%'")
    Path("uuid-cases.sql").write_text(text)
    ok = run_cli(capsys, "--client-id", UUID_CLIENT, "--dry-run", "--source-sql", "uuid-cases.sql")
    assert ok.code == 0, ok.err
    assert "1 of 20 requested" in ok.out
    result = _replay(capsys, "--dry-run", "--source-sql", "uuid-cases.sql")
    assert result.code == 2
    assert result.err == (
        "replay: --client-id must be a uuid (the case view's client_id type), "
        f"got {CUID_CLIENT!r}\n"
    )


def test_a_cast_that_fails_on_the_views_own_rows_names_the_view(
    capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    """Casting every workspace id to uuid fails on the cuid rows: the view's data, not a flag."""
    view = _view(
        "cases.sql", 'j."workspaceId"            AS client_id', 'j."workspaceId"::uuid AS client_id'
    )
    result = run_cli(capsys, "--client-id", UUID_CLIENT, "--dry-run", "--source-sql", view)
    assert result.code == 2
    assert result.err == (
        f"replay: {view}: the cases view failed: invalid input syntax for type uuid: "
        f'"{CUID_CLIENT}" (SQLSTATE 22P02)\n'
    )


def test_a_null_case_id_blocks_the_run_naming_the_view(
    capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    """Exit 3 and a blocked artifact: results are keyed by case id, so none can be made up."""
    view = _view(
        "cases.sql",
        'j."id"                     AS case_id',
        "NULLIF(j.\"id\", 'cjob0001') AS case_id",
    )
    result = _replay(capsys, "--dry-run", "--source-sql", view)
    assert result.code == 3
    assert result.err == (
        f"replay: the cases view ({view}) returned a row with a NULL case_id among the last 20 "
        f"of client {CUID_CLIENT!r}; every case needs an id: fix the join or filter such rows "
        "out in the view\n"
    )
    assert only_artifact(ARTIFACTS)["status"] == "blocked"


def test_timestamps_python_cannot_hold_make_only_their_case_invalid(
    capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    """A BC inbound time and an infinite thread time: two invalid cases, the third replayed."""
    view = _view(
        "cases.sql",
        'm."sentAt"                 AS inbound_sent_at',
        "CASE WHEN j.\"id\" = 'cjob0001' THEN '4713-01-01 BC'::timestamp ELSE m.\"sentAt\" END "
        "AS inbound_sent_at",
    )
    thread = _view(
        "thread.sql",
        '"sentAt"                   AS sent_at',
        "CASE WHEN \"id\" = 'cmsg0001' THEN '-infinity'::timestamp ELSE \"sentAt\" END AS sent_at",
    )
    result = _replay(capsys, "--dry-run", "--source-sql", view, "--thread-sql", thread, "--no-gate")
    assert result.code == 0, result.err
    cases = _cases(only_artifact(ARTIFACTS))
    assert cases["cjob0001"]["invalid"] == {
        "case_id": "cjob0001",
        "column": "inbound_sent_at",
        "reason": "is outside the years 1 to 9999 (or infinite)",
    }
    assert cases["cjob0002"]["invalid"] == {
        "case_id": "cjob0002",
        "column": "sent_at",
        "reason": "a thread row has a sent_at outside the years 1 to 9999 (or infinite)",
    }
    assert cases["cjob0004"]["verdict"] == "selected"


async def test_a_draft_joined_to_every_job_of_its_message_is_reported_not_replayed(
    capsys: pytest.CaptureFixture[str], example: Path, prisma_db: str
) -> None:
    """The naive join (draft by trigger message, no LATERAL) fans out: that case is invalid."""
    view = _view(
        "cases.sql",
        'ORDER BY dd."createdAt"\n    LIMIT 1',
        'ORDER BY dd."createdAt"',
    )
    extra = (
        "INSERT INTO \"AiDraft\" VALUES ('cdraft0005', 'ckx1f0a2b0000qz8r5w3e7h9j', 'cmsg0003', "
        "'A second draft', 'gpt-4o-mini', 'REJECTED', '2026-11-03 10:00:30')"
    )
    conn = await asyncpg.connect(prisma_db)
    try:
        await conn.execute(extra)
    finally:
        await conn.close()
    result = _replay(capsys, "--dry-run", "--source-sql", view)
    assert result.code == 1  # one of three invalid: the dry run's gate says a live run is short
    assert "invalid_rate 0.3333 > 0.2" in result.err
    assert "3 of 20 requested" in result.out
    assert _cases(only_artifact(ARTIFACTS))["cjob0002"]["invalid"] == {
        "case_id": "cjob0002",
        "column": "case_id",
        "reason": "the case view returned 2 rows for this case id: a join fans out",
    }


def test_a_dry_run_without_recorded_requests_fails_as_the_live_run_would(
    capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    """`--request-source recorded` on a schema that records none: exit 1 with the count by cause."""
    result = _replay(capsys, "--dry-run", "--request-source", "recorded")
    assert result.code == 1
    assert result.err == (
        "replay: gate failed: min_evidence 0 < 0.8 (3 cases without a comparable verdict: "
        "3 skipped: no_recorded_request)\n"
    )
    gate = only_artifact(ARTIFACTS)["gate"]
    assert [rule["rule"] for rule in gate["rules"]] == ["invalid_rate", "min_evidence"]
    assert gate["rules"][1]["causes"] == {"skipped: no_recorded_request": 3}


def test_a_live_case_keeps_the_request_it_sent(
    capsys: pytest.CaptureFixture[str], example: Path, stub: StubServer
) -> None:
    """Every live case holds its request whole; its hash is the outcome's; the report shows it."""
    result = _replay(capsys, "--model", "replay-original")
    assert result.code in (0, 1), result.err
    artifact = only_artifact(ARTIFACTS)
    for case in artifact["cases"]:
        plan, outcome = case["plan"], case["outcome"]
        assert plan is not None and outcome is not None
        assert plan["request_hash"] == outcome["request_hash"]
        assert plan["request"]["model"] == "replay-original"
    report = next(ARTIFACTS.glob("run-*.html")).read_text()
    assert report.count("<h3>Request sent</h3>") == len(artifact["cases"])


def test_a_clients_view_that_fails_on_its_rows_names_itself(
    capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    """A clients view that parses but fails as it runs: exit 2 naming it, in every command."""
    Path("clients.sql").write_text(
        'SELECT "id" AS client_id, "name" FROM "Workspace" '
        'WHERE 1 / (length("name") - length("name")) = 0'
    )
    listing = run_cli(capsys, "clients")
    assert (listing.code, listing.out) == (2, "")
    assert listing.err.startswith("replay: cases.sql or clients.sql: listing clients failed: ")
    assert listing.err.endswith("division by zero (SQLSTATE 22012)\n")
    for command in (("preflight", "--client-id", CUID_CLIENT), ("--client-id", CUID_CLIENT)):
        result = run_cli(capsys, *command, *(("--dry-run",) if command[0] != "preflight" else ()))
        assert result.code == 2, result.err
        assert result.err == (
            "replay: clients.sql: the clients view failed: division by zero (SQLSTATE 22012)\n"
        )


def test_a_view_failing_on_its_rows_is_named_even_when_a_label_was_fitted(
    capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    """`--channel email` fitted to `EMAIL`, then the view's own cast fails: the view is named."""
    view = _view(
        "cases.sql",
        'lower(m."channel"::text)   AS channel',
        'm."channel" AS channel',
    )
    Path(view).write_text(
        Path(view)
        .read_text()
        .replace(
            "WHERE j.\"type\" = 'GENERATE_AI_DRAFT'",
            "WHERE (j.\"payload\" ->> 'messageId')::int > 0",
        )
    )
    result = _replay(capsys, "--dry-run", "--source-sql", view, "--channel", "email")
    assert result.code == 2
    assert result.err.startswith(f"replay: {view}: the cases view failed: invalid input syntax")


def test_a_view_without_job_status_failing_on_its_rows_is_named(
    capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    """The default status is not applied without a job_status column, so it is never blamed."""
    view = _view("cases.sql", 'j."status"                 AS job_status,\n', "")
    Path(view).write_text(
        Path(view)
        .read_text()
        .replace(
            "WHERE j.\"type\" = 'GENERATE_AI_DRAFT'",
            "WHERE (j.\"payload\" ->> 'messageId')::int > 0",
        )
    )
    Path("replay.toml").write_text(Path("replay.toml").read_text().replace('status = "', "# "))
    result = _replay(capsys, "--dry-run", "--source-sql", view)
    assert result.code == 2, result.err
    assert result.err.startswith(f"replay: {view}: the cases view failed: invalid input syntax")


def test_a_dry_run_with_repeats_plans_each_case_once_and_passes(
    capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    """`--repeats` is for live runs: a dry run plans each case once and its gate counts them."""
    result = _replay(capsys, "--dry-run", "--repeats", "3")
    assert result.code == 0, result.err
    gate = only_artifact(ARTIFACTS)["gate"]
    assert gate["passed"] and gate["rules"][1] == {
        "rule": "min_evidence",
        "threshold": 0.8,
        "value": 1.0,
        "passed": True,
        "cases": [],
        "causes": {},
    }


def test_show_sql_prints_the_label_the_query_used(
    capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    """`--show-sql` shows what ran: `SUCCEEDED`, the enum's label, not the `succeeded` asked."""
    result = _replay(capsys, "--dry-run", "--show-sql", "--status", "succeeded")
    assert result.code == 0, result.err
    assert "--   $2 = 'SUCCEEDED'" in result.out


def test_a_control_arm_and_a_rescore_on_the_orm_schema(
    capsys: pytest.CaptureFixture[str], example: Path, stub: StubServer
) -> None:
    """A control run over enums, text ids and naive times, then decided again: same verdicts."""
    result = _replay(
        capsys, "--model", "replay-variant", "--no-gate", "--quiet", "--out", "run.json",
        "--control", "--control-model", "replay-original", "--status", "any",
    )  # fmt: skip
    assert result.code == 0, result.err
    first = orjson.loads(Path("run.json").read_bytes())
    drafted = [case for case in first["cases"] if case["outcome"] is not None]
    assert drafted and all(case["control"]["outcome"] is not None for case in drafted)
    assert all(case["attribution"] in ("none", "drift", "change") for case in drafted)
    assert all(case["input"]["lead"] is not None for case in drafted)
    sent = stub.requests
    again = run_cli(capsys, "rescore", "run.json", "--out", "again.json", "--no-gate")
    assert again.code == 0, again.err
    assert stub.requests == sent
    rescored = _cases(orjson.loads(Path("again.json").read_bytes()))
    for case in first["cases"]:
        assert rescored[case["case_id"]]["verdict"] == case["verdict"]
        assert rescored[case["case_id"]]["attribution"] == case["attribution"]
