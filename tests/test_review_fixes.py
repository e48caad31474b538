"""Failures found in review, pinned: each was a traceback, a leak or a silent wrong answer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from replay.config.models import Price
from replay.config.secrets import describe_dsn
from replay.devtools.generator import FixtureSummary
from replay.run.pricing import price_of
from tests.helpers import only_artifact, run_cli

ARTIFACTS = Path(".artifacts/ai-replay")


def test_a_view_failing_mid_live_run_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A thread view that fails while cases run exits 2 with one line, not a traceback."""
    (workdir / "pipe.py").write_text("def ok(case):\n    return 'hi'\n")
    (workdir / "thread.sql").write_text(
        "SELECT client_id, lead_id, id AS message_id, direction, channel, subject, body, sent_at\n"
        "FROM messages WHERE 1 / (length(direction) - length(direction)) = 1"
    )
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        "--quiet",
        "--pipeline",
        "python:pipe:ok",
        "--thread-sql",
        "thread.sql",
        "--limit",
        "3",
    )
    sys.modules.pop("pipe", None)
    assert result.code == 2, result.err
    assert result.err.startswith("replay: thread.sql: the thread view failed: division by zero")
    assert result.err.count("\n") == 1


def test_a_sync_pipeline_cannot_outlive_its_deadline(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A sync function that hangs is abandoned at --case-timeout: the case is a `timeout`."""
    (workdir / "slowsync.py").write_text(
        "import time\n\ndef slow(case):\n    time.sleep(3)\n    return 'late'\n"
    )
    started = time.monotonic()
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        "--quiet",
        "--pipeline",
        "python:slowsync:slow",
        "--limit",
        "2",
        "--request-timeout",
        "0.3",
        "--case-timeout",
        "0.5",
        "--retries",
        "0",
        "--no-gate",
    )
    sys.modules.pop("slowsync", None)
    assert result.code == 0, result.err
    assert time.monotonic() - started < 2.5
    artifact = only_artifact(ARTIFACTS)
    assert {c["error"]["error_class"] for c in artifact["cases"]} <= {"model_timeout", "timeout"}


def test_a_password_with_a_slash_is_never_echoed() -> None:
    """An unencoded '/' in a password must not turn the password into the 'database'."""
    described = describe_dsn("postgresql://app:2024/Spring!@db.internal/prod")
    assert "Spring" not in described and "2024" not in described


def test_a_pipeline_url_keeps_no_credentials(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """User info and query of an http pipeline URL never reach the artifact."""
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        "--limit",
        "1",
        "--pipeline",
        "http://svc:tok3n@127.0.0.1:9/draft?api_key=SEKRET",
        "--no-gate",
    )
    assert result.code == 0
    text = next(ARTIFACTS.glob("run-*.json")).read_text()
    assert "tok3n" not in text and "SEKRET" not in text
    assert "http://127.0.0.1:9/draft" in text


def test_a_url_pasted_into_url_env_is_not_echoed(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    """[database] url_env must name a variable; a pasted URL is refused without echoing it."""
    (workdir / "replay.toml").write_text('[database]\nurl_env = "postgresql://a:S3cret@h/db"\n')
    result = run_cli(capsys, "--client-id", "c", "--dry-run")
    assert result.code == 2
    assert "S3cret" not in result.err and "[database] url_env" in result.err


def test_dated_model_snapshots_take_their_family_price() -> None:
    """gpt-4o-mini-2024-07-18 is priced as gpt-4o-mini, so --max-cost can bind."""
    prices = {"gpt-4o-mini": Price(input=0.15, output=0.6), "gpt-4o": Price(input=2.5, output=10)}
    assert price_of("gpt-4o-mini-2024-07-18", prices) == prices["gpt-4o-mini"]
    assert price_of("gpt-4o-2024-08-06", prices) == prices["gpt-4o"]
    assert price_of("o9-preview", prices) is None


def test_summary_md_in_a_missing_folder_fails_before_the_run(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    """--summary-md into a folder that does not exist exits 2 at once, not 70 at the end."""
    result = run_cli(
        capsys,
        "--client-id",
        "c",
        "--database-url",
        "postgresql:///x",
        "--summary-md",
        "nodir/s.md",
    )
    assert result.code == 2
    assert "folder 'nodir' does not exist" in result.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--limit", "9223372036854775807"], "--limit must be at most", id="huge-limit"
        ),
    ],
)
def test_huge_numbers_are_usage_errors(
    capsys: pytest.CaptureFixture[str], workdir: Path, args: list[str], message: str
) -> None:
    """Numbers past what a query can hold exit 2 naming the flag."""
    result = run_cli(capsys, "--client-id", "c", "--database-url", "postgresql:///x", *args)
    assert result.code == 2 and message in result.err


def test_huge_durations_are_usage_errors(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    """A duration too large for a date is a one-line usage error."""
    result = run_cli(capsys, "signals", "--database-url", "postgresql:///x", "--since", "3000000d")
    assert result.code == 2 and "at most ten years" in result.err


def test_canary_check_needs_more_windows_than_the_backlog_rule(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    """A range of 4 windows could never fire a 4-window backlog rule: say so."""
    result = run_cli(capsys, "canary-check", "--database-url", "postgresql:///x", "--since", "1h")
    assert result.code == 2
    assert "splits the range into 4 windows; the backlog rule needs more than 4" in result.err


def test_sigint_during_a_dry_run_leaves_an_interrupted_artifact(
    workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Ctrl-C before the live phase still writes an artifact, status interrupted, exit 130."""
    (workdir / "cases.sql").write_text(
        (Path(__file__).parents[1] / "replay/config/sql/cases.sql")
        .read_text()
        .replace(
            "WHERE j.job_type = 'reply_draft'",
            "WHERE j.job_type = 'reply_draft' AND pg_sleep(0.2) IS NOT NULL",
        )
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "replay.cli",
            "--client-id",
            fixtures.clients[0].id,
            "--dry-run",
            "--database-url",
            fixture_db,
            "--source-sql",
            "cases.sql",
            "--limit",
            "40",
        ],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    time.sleep(2.0)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err.decode()
    artifact = orjson.loads(next((workdir / ARTIFACTS).glob("run-*.json")).read_bytes())
    assert (artifact["status"], artifact["exit_code"]) == ("interrupted", 130)
