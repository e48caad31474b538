"""Dry runs end to end against the embedded Postgres with seeded fixtures."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from replay.devtools.generator import FixtureSummary
from replay.models import RunArtifact
from tests.helpers import only_artifact, run_cli

ARTIFACTS = Path(".artifacts/ai-replay")


def dry(
    capsys: pytest.CaptureFixture[str], db: str, client: str, *args: str
) -> tuple[int, dict[str, Any], str]:
    result = run_cli(capsys, "--client-id", client, "--dry-run", "--database-url", db, *args)
    assert result.code != 70, result.err
    return result.code, only_artifact(ARTIFACTS), result.out + result.err


def test_dry_run_selects_the_last_n_jobs(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A dry run selects N cases, plans a request each, writes a complete artifact, exits 0."""
    code, artifact, output = dry(capsys, fixture_db, fixtures.clients[0].id, "--limit", "12")
    assert code == 0
    RunArtifact.model_validate(artifact)
    assert (artifact["kind"], artifact["mode"], artifact["status"]) == ("run", "dry", "complete")
    assert artifact["exit_code"] == 0 and artifact["read_only"] is True
    assert artifact["context_as_of"] == {
        "thread": "point_in_time",
        "lead": "current",
        "client_settings": "current",
    }
    assert artifact["selection"]["found"] == 12 and artifact["selection"]["more_available"]
    assert len(artifact["cases"]) == 12
    assert {case["verdict"] for case in artifact["cases"]} == {"selected"}
    assert all(case["plan"]["estimated_input_tokens"] > 0 for case in artifact["cases"])
    assert artifact["summary"]["estimated_cost_usd"] > 0
    assert [entry["check"] for entry in artifact["preflight"]] == [
        "artifact_dir",
        "database",
        "views",
    ]
    assert "artifact: .artifacts/ai-replay/run-" in output


async def test_selection_order_is_newest_first_with_ties_by_case_id(
    capsys: pytest.CaptureFixture[str],
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
    fixture_conn: asyncpg.Connection,
) -> None:
    """Cases come in job_created_at DESC, case_id order, the same on every run."""
    client = fixtures.clients[0].id
    code, artifact, _ = dry(capsys, fixture_db, client, "--limit", "20")
    assert code == 0
    expected = await fixture_conn.fetch(
        "SELECT id::text FROM draft_jobs WHERE client_id = $1 AND status = 'succeeded' "
        "AND job_type = 'reply_draft' ORDER BY enqueued_at DESC, id LIMIT 20",
        __import__("uuid").UUID(client),
    )
    ids = [case["case_id"] for case in artifact["cases"]]
    assert ids == [row[0] for row in expected] == artifact["selection"]["case_ids"]
    first, second = fixtures.tied_case_ids
    assert ids.index(min(first, second)) + 1 == ids.index(max(first, second))


def test_thread_is_cut_strictly_before_each_inbound(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """No thread message is at or after its case's inbound time; threads are oldest first."""
    code, artifact, _ = dry(capsys, fixture_db, fixtures.clients[0].id, "--limit", "60")
    assert code == 0
    for case in artifact["cases"]:
        summary = case["input"]
        if summary["thread_last_at"] is not None:
            assert summary["thread_last_at"] < summary["inbound_sent_at"]
        assert summary["inbound_id"] not in summary["thread_message_ids"]


async def test_two_cases_of_one_lead_each_see_only_their_past(
    capsys: pytest.CaptureFixture[str],
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
    fixture_conn: asyncpg.Connection,
) -> None:
    """The later case sees the earlier inbound; the earlier case sees nothing of the later one."""
    earlier_id, later_id = fixtures.shared_lead_case_ids
    code, artifact, _ = dry(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--case-ids",
        f"{earlier_id},{later_id}",
        "--request-source",
        "rendered",
    )
    assert code == 0
    cases = {case["case_id"]: case for case in artifact["cases"]}
    earlier, later = cases[earlier_id]["input"], cases[later_id]["input"]
    assert earlier["inbound_sent_at"] < later["inbound_sent_at"]
    assert earlier["inbound_id"] in later["thread_message_ids"]
    assert later["inbound_id"] not in earlier["thread_message_ids"]
    rows = await fixture_conn.fetch(
        "SELECT id::text, sent_at FROM messages "
        "WHERE lead_id = (SELECT lead_id FROM draft_jobs WHERE id = $1::uuid)",
        earlier_id,
    )
    cutoff = datetime.fromisoformat(earlier["inbound_sent_at"])
    future = {row[0] for row in rows if row[1] >= cutoff}
    assert future and not future & set(earlier["thread_message_ids"])
    rendered = "\n".join(
        str(m["content"]) for m in cases[earlier_id]["plan"]["request"]["messages"]
    )
    assert later["inbound_body"] not in rendered


def test_thread_limit_keeps_the_newest_k(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """--thread-limit K keeps at most the K newest messages before the inbound."""
    code, limited, _ = dry(capsys, fixture_db, fixtures.clients[0].id, "--thread-limit", "1")
    assert code == 0
    assert max(case["input"]["thread_messages"] for case in limited["cases"]) == 1


def test_corrupt_rows_become_invalid_cases(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Each corrupt row is an invalid_case naming its column; the other cases still run."""
    code, artifact, _ = dry(capsys, fixture_db, fixtures.clients[-1].id, "--limit", "20")
    assert code == 0
    invalid = {
        case["case_id"]: case["invalid"]
        for case in artifact["cases"]
        if case["verdict"] == "invalid_case"
    }
    expected_columns = {
        "null_inbound_body": "inbound_body",
        "enormous_body": "inbound_body",
        "not_chat_request": "original_request",
        "missing_draft": "original_draft",
    }
    assert set(invalid) == set(fixtures.corrupt)
    for case_id, kind in fixtures.corrupt.items():
        assert invalid[case_id]["column"] == expected_columns[kind]
    assert sorted(artifact["selection"]["invalid"]) == sorted(fixtures.corrupt)
    assert artifact["summary"]["by_verdict"] == {"invalid_case": 4, "selected": 16}


def test_manifest_selects_exactly_its_cases_and_lists_not_found(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A manifest replays exactly its ids, carries their tags, and lists unknown ids."""
    first, second = fixtures.shared_lead_case_ids
    missing = "00000000-0000-4000-8000-0000000000aa"
    manifest = {"cases": [{"id": first, "tags": ["pricing"]}, {"id": second}, {"id": missing}]}
    (workdir / "m.json").write_text(orjson.dumps(manifest).decode())
    code, artifact, _ = dry(capsys, fixture_db, fixtures.clients[0].id, "--manifest", "m.json")
    assert code == 0
    assert sorted(case["case_id"] for case in artifact["cases"]) == sorted([first, second])
    assert artifact["selection"]["not_found"] == [missing]
    assert artifact["selection"]["requested"] == 3
    tags = {case["case_id"]: case["input"]["tags"] for case in artifact["cases"]}
    assert "pricing" in tags[first] and "pricing" not in tags[second]


def test_channel_and_window_filters(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """--channel and --from/--to narrow the selection; the artifact records the filters."""
    code, artifact, _ = dry(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--channel",
        "sms",
        "--from",
        "2026-10-01",
        "--to",
        "2026-11-20T00:00:00+00:00",
        "--limit",
        "500",
    )
    assert code == 0
    assert artifact["cases"] and {c["input"]["channel"] for c in artifact["cases"]} == {"sms"}
    for case in artifact["cases"]:
        assert "2026-10-01" <= case["input"]["job_created_at"] < "2026-11-20"
    assert artifact["selection"]["filters"]["channel"] == "sms"
    assert artifact["selection"]["filters"]["from"] == "2026-10-01T00:00:00+00:00"


def test_empty_window_exits_4_and_writes_an_empty_artifact(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Nothing in the window: exit 4 with an artifact of status empty."""
    code, artifact, output = dry(capsys, fixture_db, fixtures.clients[0].id, "--to", "2001-01-01")
    assert code == 4
    assert (artifact["status"], artifact["exit_code"], artifact["cases"]) == ("empty", 4, [])
    assert "no case matched the selection" in output


def test_allow_empty_exits_0(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """--allow-empty turns an empty selection into exit 0."""
    code, artifact, _ = dry(
        capsys, fixture_db, fixtures.clients[0].id, "--to", "2001-01-01", "--allow-empty"
    )
    assert (code, artifact["status"], artifact["exit_code"]) == (0, "empty", 0)


def test_unknown_client_exits_4_and_says_so(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str
) -> None:
    """A client the clients view does not know selects nothing: exit 4, preflight says why."""
    code, artifact, output = dry(capsys, fixture_db, "00000000-0000-4000-8000-00000000beef")
    assert code == 4
    assert artifact["preflight"][-1]["code"] == "client_unknown"
    assert "is unknown" in output


def test_malformed_client_id_for_a_uuid_view(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str
) -> None:
    """A client id that is not of the view's client_id type exits 2 naming the type."""
    result = run_cli(capsys, "--client-id", "acme", "--dry-run", "--database-url", fixture_db)
    assert result.code == 2
    assert result.err == (
        "replay: --client-id must be a uuid (the case view's client_id type), got 'acme'\n"
    )


def test_show_sql_prints_the_wrapped_queries(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """--show-sql prints the selection and thread queries with their parameters."""
    code, _, output = dry(capsys, fixture_db, fixtures.clients[0].id, "--show-sql", "--limit", "2")
    assert code == 0
    assert "GROUP BY case_id\nORDER BY max(job_created_at) DESC, case_id" in output
    assert "CROSS JOIN LATERAL" in output
    assert f"--   $1 = '{fixtures.clients[0].id}'" in output


def test_recorded_and_rendered_request_sources(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Auto mixes recorded and rendered; rendered renders every case; recorded skips the rest."""
    client = fixtures.clients[0].id
    _, auto, _ = dry(capsys, fixture_db, client, "--limit", "40")
    sources = {c["plan"]["source"] for c in auto["cases"]}
    assert sources == {"recorded", "rendered"}
    result = run_cli(
        capsys,
        "--client-id",
        client,
        "--dry-run",
        "--database-url",
        fixture_db,
        "--limit",
        "40",
        "--request-source",
        "recorded",
        "--out",
        "rec.json",
    )
    recorded = orjson.loads((workdir / "rec.json").read_bytes())
    assert result.code == 0
    skipped = [c["case_id"] for c in recorded["cases"] if c["verdict"] == "skipped"]
    assert skipped and [s["case_id"] for s in recorded["selection"]["skipped"]] == skipped
    assert {s["reason"] for s in recorded["selection"]["skipped"]} == {"no_recorded_request"}
