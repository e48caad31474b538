"""A full disk or a folder made read-only mid-run: exit 3, one line, nothing finished lost.

The faults are real: a small tmpfs that fills up, and a read-only tmpfs mounted over the
artifact folder while the run writes (the run's open partial log stays reachable to it, as on a
real volume remounted under it; every new file fails). Mounting needs root: without it these
tests skip, saying so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import StubOptions, StubServer, running
from tests.helpers import STUB_KEY, run_cli

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("mount") is None,
    reason="mounting a tmpfs needs root and mount(8); run the suite as root (CI does)",
)


def _mount(where: Path, options: str) -> None:
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], check=True)


def _umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def small_disk(workdir: Path) -> Iterator[Path]:
    """A 96 KiB tmpfs: room for a few cases of a run, not for all of them."""
    disk = workdir / "disk"
    disk.mkdir()
    _mount(disk, "size=96k,mode=0700")
    yield disk
    _umount(disk)


def _command(db: str, client: str, *args: str) -> list[str]:
    command = [sys.executable, "-m", "replay.cli", "--client-id", client, "--database-url", db]
    return [*command, "--model", "replay-original", "--quiet", "--no-gate", *args]


def _env(server: StubServer) -> dict[str, str]:
    return {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": STUB_KEY}


def _only(directory: Path, pattern: str) -> Path:
    found = sorted(directory.glob(pattern))
    assert len(found) == 1, found
    return found[0]


def _cases(artifact: Path) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = orjson.loads(artifact.read_bytes())["cases"]
    return cases


def test_a_full_disk_mid_run_is_exit_3_and_the_run_resumes_once_there_is_room(
    stub: StubServer, small_disk: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """ENOSPC while writing: exit 3 naming the path and errno; resumed, every case once."""
    client = fixtures.clients[0].id
    args = ("--limit", "60", "--artifacts-dir", str(small_disk), "--no-report")
    full = subprocess.run(
        _command(fixture_db, client, *args), capture_output=True, env=_env(stub), check=False
    )
    err = full.stderr.decode()
    assert full.returncode == 3, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "No space left on device (ENOSPC)" in err and "--resume" in err
    partial = _only(small_disk, "run-*.partial.jsonl")
    kept = len(partial.read_bytes().split(b"\n")) - 2
    assert 0 < kept < 60

    subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)
    resumed = subprocess.run(
        _command(fixture_db, client, *args, "--resume", str(partial)),
        capture_output=True,
        env=_env(stub),
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr.decode()
    ids = [case["case_id"] for case in _cases(_only(small_disk, "run-*.json"))]
    assert len(ids) == len(set(ids)) == 60


def test_a_folder_made_read_only_mid_run_keeps_the_partial_log(
    workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """The folder turns read-only as the run ends: exit 3 (EROFS), the partial log resumable."""
    folder = workdir / "out"
    folder.mkdir()
    client = fixtures.clients[0].id
    args = ("--limit", "8", "--artifacts-dir", str(folder), "--concurrency", "2")
    with running(StubOptions(api_key=STUB_KEY, latency_ms=300)) as server:
        run = subprocess.Popen(
            _command(fixture_db, client, *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(server),
        )
        try:
            deadline = time.monotonic() + 30
            while not list(folder.glob("run-*.partial.jsonl")) and time.monotonic() < deadline:
                time.sleep(0.02)
            partial = _only(folder, "run-*.partial.jsonl")
            _mount(folder, "ro,size=64k")
            _, err_bytes = run.communicate(timeout=60)
        finally:
            if run.poll() is None:
                run.kill()
                run.communicate()
            _umount(folder)
        err = err_bytes.decode()
        assert run.returncode == 3, err
        assert err.count("\n") == 1 and "Read-only file system (EROFS)" in err
        assert "Unclosed" not in err
        assert partial.exists()
        resumed = subprocess.run(
            _command(fixture_db, client, *args, "--resume", str(partial)),
            capture_output=True,
            env=_env(server),
            check=False,
        )
    assert resumed.returncode == 0, resumed.stderr.decode()
    ids = [case["case_id"] for case in _cases(_only(folder, "run-*.json"))]
    assert len(ids) == len(set(ids)) == 8


@pytest.fixture
def read_only(workdir: Path) -> Iterator[Path]:
    """A read-only tmpfs: every file made in it fails, as on a volume remounted read-only."""
    folder = workdir / "ro"
    folder.mkdir()
    _mount(folder, "ro,size=64k")
    yield folder
    _umount(folder)


def test_outputs_that_cannot_be_written_exit_3_naming_the_file(
    capsys: pytest.CaptureFixture[str],
    read_only: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
) -> None:
    """report, compare, history, --write-manifest: one line naming the file, exit 3."""
    client = fixtures.clients[0].id
    dry = run_cli(capsys, "--client-id", client, "--database-url", fixture_db, "--dry-run")
    assert dry.code == 0, dry.err
    artifact = str(_only(Path(".artifacts/ai-replay"), "run-*.json"))
    commands = {
        "report.html": ("report", artifact, "--out", "ro/report.html"),
        "compare.json": ("compare", artifact, artifact, "--out", "ro/compare.json"),
        "history.html": ("history", "--out", "ro/history.html"),
        "manifest.json": (
            "--client-id", client, "--database-url", fixture_db, "--dry-run",
            "--write-manifest", "ro/manifest.json",
        ),
    }  # fmt: skip
    for name, command in commands.items():
        result = run_cli(capsys, *command)
        assert result.code == 3, (name, result.err)
        assert result.err == f"replay: ro/{name}: Read-only file system (EROFS)\n", name
    assert list(read_only.iterdir()) == []
