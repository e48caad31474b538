"""Everything a run writes is private: files 0600, the folders the tool creates 0700.

Runs hold inbound messages, lead data and drafts; on a shared CI runner or laptop nobody else
should read them.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import StubOptions, StubServer, running
from tests.helpers import STUB_KEY, run_cli

ARTIFACTS = Path(".artifacts/ai-replay")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def common_umask() -> Iterator[None]:
    """The usual umask 022, under which a plain open() would give 0644 and mkdir 0755."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_every_file_of_a_run_is_0600_and_created_folders_0700(
    capsys: pytest.CaptureFixture[str],
    common_umask: None,
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
) -> None:
    """Artifact, report, history, judge cache, manifest, JUnit and Markdown: all 0600."""
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        "--model",
        "replay-variant",
        "--judge-model",
        "replay-judge",
        "--limit",
        "3",
        "--no-gate",
        "--write-manifest",
        "pinned.json",
        "--junit",
        "cases.xml",
        "--summary-md",
        "summary.md",
    )
    assert result.code == 0, result.err
    written = [
        *ARTIFACTS.glob("run-*.json"),
        *ARTIFACTS.glob("run-*.html"),
        ARTIFACTS / "history.jsonl",
        *(ARTIFACTS / "judge-cache").rglob("*.json"),
        Path("pinned.json"),
        Path("cases.xml"),
        Path("summary.md"),
    ]
    assert len(written) >= 8
    assert {str(path): _mode(path) for path in written} == {str(path): 0o600 for path in written}
    folders = [Path(".artifacts"), ARTIFACTS, ARTIFACTS / "judge-cache"]
    assert {str(path): _mode(path) for path in folders} == {str(path): 0o700 for path in folders}


def test_the_partial_log_is_private_from_its_first_byte(
    workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """The partial log of a run in progress (inbound messages, drafts) is 0600 while it grows."""
    with running(StubOptions(api_key=STUB_KEY, latency_ms=400)) as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": STUB_KEY}
        command = [sys.executable, "-m", "replay.cli", "--client-id", fixtures.clients[0].id]
        command += ["--database-url", fixture_db, "--model", "replay-original", "--limit", "6"]
        process = subprocess.Popen(
            [*command, "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        try:
            deadline = time.monotonic() + 30
            partial = None
            while partial is None and time.monotonic() < deadline:
                partial = next(iter(ARTIFACTS.glob("run-*.partial.jsonl")), None)
                time.sleep(0.02)
            assert partial is not None, "no partial log appeared"
            assert _mode(partial) == 0o600
        finally:
            process.communicate(timeout=60)
    assert process.returncode == 0
