"""The built wheel, installed without extras into a fresh venv, is a working `replay`.

This is the install a team makes for production use: no embedded Postgres, no local model
server. It builds the sdist of this checkout and the wheel from that sdist (`python -m build`, so
a file the sdist forgets fails here), checks both with `twine check`, installs the wheel under
`constraints.txt`, and runs `replay --help` and a dry run against the test database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from replay.devtools.generator import FixtureSummary

ROOT = Path(__file__).parents[1]


def _run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=cwd,
        env=env,
    )


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding this checkout's sdist and the wheel built from it."""
    where = tmp_path_factory.mktemp("dist")
    built = _run(sys.executable, "-m", "build", "--outdir", where, ROOT)
    assert built.returncode == 0, built.stderr
    return where


@pytest.fixture(scope="module")
def lean(dist: Path) -> Path:
    """A fresh venv holding the wheel of this checkout and its base dependencies only."""
    (wheel,) = dist.glob("draft_replay-*.whl")
    venv = dist / "venv"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    pip: list[str | Path] = [venv / "bin" / "python", "-m", "pip", "install", "-q"]
    installed = _run(*pip, "-c", ROOT / "constraints.txt", wheel)
    assert installed.returncode == 0, installed.stderr
    return venv


@pytest.mark.timeout(600)  # the first test builds the sdist and the wheel
def test_the_sdist_and_the_wheel_pass_twine_check(dist: Path) -> None:
    """Both archives exist and their metadata (the README included) renders on an index."""
    archives = sorted(dist.glob("draft_replay-*"))
    assert sorted(path.suffix for path in archives) == [".gz", ".whl"]
    checked = _run(sys.executable, "-m", "twine", "check", "--strict", *archives)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2


@pytest.mark.timeout(600)  # builds the wheel's venv
def test_the_lean_install_leaves_out_the_local_extra(lean: Path) -> None:
    """No embedded Postgres; the project and its base dependencies are there.

    h11 stays: the HTTP client the SDK uses depends on it, so the local model server works
    from a lean install too; only the embedded Postgres is the extra's alone.
    """
    python = lean / "bin" / "python"
    listed = _run(python, "-m", "pip", "list", "--format", "freeze")
    names = {line.split("==")[0].lower() for line in listed.stdout.splitlines()}
    assert {"draft-replay", "asyncpg", "openai", "genai-prices"} <= names
    assert "pgserver" not in names


@pytest.mark.timeout(600)
def test_the_lean_install_runs_a_dry_run(
    lean: Path, fixture_db: str, fixtures: FixtureSummary, workdir: Path
) -> None:
    """`replay --help` and a dry run against a team's database work from the wheel alone."""
    replay = lean / "bin" / "replay"
    assert _run(replay, "--help").returncode == 0
    done = _run(
        replay, "--client-id", fixtures.clients[0].id, "--database-url", fixture_db,
        "--dry-run", "--limit", "5", cwd=workdir,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "5 of 5 requested" in done.stdout


@pytest.mark.timeout(600)
def test_the_lean_install_loads_fixtures(lean: Path, fixture_db: str) -> None:
    """`replay fixtures` needs only the driver: it works without the local extra."""
    replay = lean / "bin" / "replay"
    loaded = _run(
        replay, "fixtures", "--database-url", fixture_db, "--reset",
        "--clients", "1", "--jobs-per-client", "40",
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    assert ": 1 clients, 40 jobs," in loaded.stdout, loaded.stdout
