"""Ctrl-C, SIGTERM, SIGKILL and --resume, against the real entry point in its own process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from replay.devtools.generator import FixtureSummary
from tests.helpers import only_artifact, run_cli

ARTIFACTS = Path(".artifacts/ai-replay")

SLOW = '''
import anyio
import os

async def slow(case):
    """Answers after a pause; the marker file counts how often each case was drafted."""
    with open("drafted.log", "a") as log:
        log.write(case.case_id + "\\n")
    await anyio.sleep(float(os.environ.get("SLOW_S", "0.3")))
    return "Thanks, " + case.inbound.body[:20] + "…"  # elided, not cut off mid-sentence


async def flaky(case):
    """Fails every case whose id starts with a digit while FLAKY is set; slow otherwise."""
    if os.environ.get("FLAKY") and case.case_id[0].isdigit():
        raise RuntimeError("down")
    await anyio.sleep(float(os.environ.get("SLOW_S", "0.3")))
    return "ok"
'''


@pytest.fixture
def slow_pipeline(workdir: Path) -> Path:
    """A pipeline module in the working directory of the child process."""
    (workdir / "slowpipe.py").write_text(textwrap.dedent(SLOW))
    return workdir


def _start(
    workdir: Path, db: str, client: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "replay.cli",
        "--client-id",
        client,
        "--database-url",
        db,
        *args,
    ]
    return subprocess.Popen(
        command,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


def _wait_for_lines(partial_dir: Path, count: int, timeout_s: float = 30) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for path in partial_dir.glob("run-*.partial.jsonl"):
            if len(path.read_bytes().splitlines()) >= count + 1:
                return path
        time.sleep(0.05)
    raise AssertionError("the run wrote no partial lines in time")


def _drafted(workdir: Path) -> list[str]:
    return (workdir / "drafted.log").read_text().split()


def _cases(artifact: dict[str, Any]) -> list[str]:
    return [case["case_id"] for case in artifact["cases"]]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_a_signal_leaves_an_interrupted_artifact_with_every_finished_case(
    slow_pipeline: Path, fixture_db: str, fixtures: FixtureSummary, sig: signal.Signals
) -> None:
    """SIGINT/SIGTERM: no new cases, in-flight ones finish in the grace period, exit 130."""
    process = _start(
        slow_pipeline,
        fixture_db,
        fixtures.clients[0].id,
        "--pipeline",
        "python:slowpipe:slow",
        "--limit",
        "30",
        "--concurrency",
        "2",
        "--quiet",
    )
    _wait_for_lines(slow_pipeline / ARTIFACTS, 2)
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err.decode()
    artifact = only_artifact(slow_pipeline / ARTIFACTS)
    assert (artifact["status"], artifact["exit_code"]) == ("interrupted", 130)
    finished = _cases(artifact)
    assert 2 <= len(finished) < 30
    assert set(finished) == set(_drafted(slow_pipeline))  # in-flight cases got their grace
    assert not list((slow_pipeline / ARTIFACTS).glob("*.partial.jsonl"))
    assert b"interrupted" in err


def test_resume_after_sigint_replays_only_the_rest(
    slow_pipeline: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Resuming an interrupted artifact runs exactly the missing cases, keeps the run id."""
    args = ("--pipeline", "python:slowpipe:slow", "--limit", "12", "--concurrency", "2", "--quiet")
    process = _start(slow_pipeline, fixture_db, fixtures.clients[0].id, *args)
    _wait_for_lines(slow_pipeline / ARTIFACTS, 2)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    first = only_artifact(slow_pipeline / ARTIFACTS)
    path = next((slow_pipeline / ARTIFACTS).glob("run-*.json"))
    monkeypatch.setenv("SLOW_S", "0.01")
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        *args,
        "--resume",
        str(path),
    )
    assert result.code == 0, result.err
    final = orjson.loads(path.read_bytes())
    assert (final["status"], final["run_id"]) == ("complete", first["run_id"])
    assert sorted(_cases(final)) == sorted(first["selection"]["case_ids"])
    drafted = _drafted(slow_pipeline)
    assert len(drafted) == len(set(drafted)) == 12  # no finished case replayed twice
    assert len(final["parts"]) == 2
    assert final["parts"][0]["cases"] + final["parts"][1]["cases"] == 12
    assert final["summary"]["cases"] == 12
    spans = [
        (datetime.fromisoformat(p["finished_at"]) - datetime.fromisoformat(p["started_at"]))
        for p in final["parts"]
    ]
    assert final["summary"]["duration_s"] == pytest.approx(
        sum(s.total_seconds() for s in spans), abs=1e-3
    )


def test_resume_after_sigkill_from_the_partial_log(
    slow_pipeline: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGKILL loses at most the cases in flight; a torn line is dropped; resume completes it."""
    args = ("--pipeline", "python:slowpipe:slow", "--limit", "10", "--concurrency", "2", "--quiet")
    process = _start(slow_pipeline, fixture_db, fixtures.clients[0].id, *args)
    partial = _wait_for_lines(slow_pipeline / ARTIFACTS, 3)
    process.kill()
    process.communicate(timeout=30)
    with partial.open("ab") as handle:
        handle.write(b'{"case_id": "torn')  # a write cut by the kill
    kept = len(partial.read_bytes().splitlines()) - 2
    monkeypatch.setenv("SLOW_S", "0.01")
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        *args,
        "--resume",
        str(partial),
    )
    assert result.code == 0, result.err
    final = only_artifact(slow_pipeline / ARTIFACTS)
    assert final["status"] == "complete" and len(final["cases"]) == 10
    assert len(set(_cases(final))) == 10
    assert final["parts"][1]["cases"] == 10 - kept
    assert not partial.exists()


def test_resume_with_other_flags_exits_2(
    slow_pipeline: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A resume must be the same run: another limit or pipeline is refused, naming the fields."""
    args = ("--pipeline", "python:slowpipe:slow", "--limit", "6", "--concurrency", "2", "--quiet")
    process = _start(slow_pipeline, fixture_db, fixtures.clients[0].id, *args, env={"SLOW_S": "1"})
    partial = _wait_for_lines(slow_pipeline / ARTIFACTS, 1)
    process.kill()
    process.communicate(timeout=30)
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        "--pipeline",
        "python:slowpipe:slow",
        "--limit",
        "7",
        "--resume",
        str(partial),
    )
    assert result.code == 2
    assert (
        "was started with other selection or pipeline flags (selection.limit differ)" in result.err
    )


def test_resume_of_a_complete_run_exits_2(
    slow_pipeline: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A complete artifact has nothing to resume."""
    monkeypatch.setenv("SLOW_S", "0")
    args = ("--pipeline", "python:slowpipe:slow", "--limit", "2", "--quiet")
    assert (
        run_cli(
            capsys, "--client-id", fixtures.clients[0].id, "--database-url", fixture_db, *args
        ).code
        == 0
    )
    path = next(ARTIFACTS.glob("run-*.json"))
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        *args,
        "--resume",
        str(path),
    )
    assert result.code == 2
    assert result.err == (
        f"replay: --resume '{path}' is a complete run; "
        "only an interrupted or blocked run can be resumed\n"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "does not exist", id="missing"),
        pytest.param(b"not json", "is not JSON", id="not-json"),
        pytest.param(b'{"kind": "compare"}', "is not a run artifact", id="not-a-run"),
    ],
)
def test_bad_resume_path_exits_2(
    capsys: pytest.CaptureFixture[str], workdir: Path, content: bytes | None, message: str
) -> None:
    """A --resume path that is not a run says what it expected."""
    path = workdir / "x.json"
    if content is not None:
        path.write_bytes(content)
    result = run_cli(
        capsys,
        "--client-id",
        "c",
        "--database-url",
        "postgresql:///x",
        "--pipeline",
        "python:m:f",
        "--resume",
        str(path),
    )
    assert result.code == 2
    assert message in result.err


def test_retry_errors_replays_the_failed_cases(
    slow_pipeline: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Errors are kept on resume unless --retry-errors, which replays just those."""
    args = ("--pipeline", "python:slowpipe:flaky", "--limit", "12", "--concurrency", "1", "--quiet")
    process = _start(slow_pipeline, fixture_db, fixtures.clients[0].id, *args, env={"FLAKY": "1"})
    _wait_for_lines(slow_pipeline / ARTIFACTS, 4)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)
    path = next((slow_pipeline / ARTIFACTS).glob("run-*.json"))
    first = orjson.loads(path.read_bytes())
    assert first["status"] == "interrupted"
    errors = [c["case_id"] for c in first["cases"] if c["verdict"] == "error"]
    assert errors, "the fixture ids should include some starting with a digit"
    monkeypatch.setenv("SLOW_S", "0.01")
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        *args,
        "--resume",
        str(path),
        "--retry-errors",
    )
    assert result.code == 0
    final = orjson.loads(path.read_bytes())
    verdicts = {c["case_id"]: c["verdict"] for c in final["cases"]}
    assert all(verdicts[case_id] == "changed" for case_id in errors)
    assert len(final["cases"]) == 12


@pytest.mark.parametrize("delay_s", [0.05, 0.2, 0.5], ids=lambda s: f"{s:g}s")
def test_ctrl_c_at_any_moment_of_start_up_is_130_and_one_line(
    workdir: Path, fixture_db: str, fixtures: FixtureSummary, delay_s: float
) -> None:
    """SIGINT while Python loads the tool, parses flags or connects: exit 130, no traceback."""
    process = subprocess.Popen(
        [sys.executable, "-m", "replay.cli", "--client-id", fixtures.clients[0].id]
        + ["--database-url", fixture_db, "--dry-run", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(delay_s)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    if process.returncode == 0:
        pytest.skip("the dry run finished before the signal arrived")
    assert process.returncode == 130, err.decode()
    assert "Traceback" not in err.decode()
    assert err.decode().count("\n") == 1
