"""A production install leaves out the `local` extra (the embedded Postgres, the model server).

Each test runs `replay` in a fresh process where `h11` and `pgserver` cannot be imported, as in
`pip install draft-replay` without extras: what a team runs works, and the developer tools say
which extra they need.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from replay.devtools.generator import FixtureSummary

WITHOUT_LOCAL = (
    "import sys; sys.modules['h11'] = None; sys.modules['pgserver'] = None; "
    "from replay.cli.app import main; main(sys.argv[1:])"
)


def _replay(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", WITHOUT_LOCAL, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_help_and_a_dry_run_need_no_local_extra(
    workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """`replay --help` and a dry run against a team's database: exit 0 without the extra."""
    assert _replay("--help").returncode == 0
    done = _replay("--client-id", fixtures.clients[0].id, "--database-url", fixture_db, "--dry-run")
    assert done.returncode == 0, done.stderr
    artifact = next(Path(".artifacts/ai-replay").glob("run-*.json"))
    assert orjson.loads(artifact.read_bytes())["status"] == "complete"


def test_the_model_server_names_the_extra_it_needs(workdir: Path) -> None:
    """`replay stub-model` without h11: exit 2, one line saying what to install."""
    done = _replay("stub-model", "--port", "0")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "replay: replay stub-model needs the local extra (h11 is not installed): "
        "pip install 'draft-replay[local]'\n"
    )


def test_the_embedded_postgres_names_the_extra_it_needs(tmp_path: Path) -> None:
    """Starting the embedded Postgres without pgserver raises the same one-line usage error."""
    script = (
        "import sys; sys.modules['pgserver'] = None\n"
        "from pathlib import Path\n"
        "from replay.devtools import pg\n"
        "from replay.errors import UsageError\n"
        "try:\n"
        f"    pg.start(Path({str(tmp_path)!r}) / 'data')\n"
        "except UsageError as exc:\n"
        "    print(exc.message)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout == (
        "the embedded Postgres (scripts/demo, the tests) needs the local extra (pgserver is not "
        "installed): pip install 'draft-replay[local]'\n"
    )


def test_a_missing_module_of_our_own_is_a_bug_not_an_extra(workdir: Path) -> None:
    """Only the extra's packages are blamed on the install; our own module missing is exit 70."""
    script = (
        "import sys; sys.modules['replay.devtools.drafting'] = None; "
        "from replay.cli.app import main; main(sys.argv[1:])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "stub-model"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 70
    assert "local extra" not in done.stderr
    assert done.stderr.endswith(
        "replay: internal error (a bug in replay; the traceback above helps fix it)\n"
    )
