"""The GitHub Action (action.yml): its one script, run as a runner would run it.

Against the embedded Postgres and the local model server, the script runs replay, writes the
step summary and outputs, and exits with replay's own code.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import orjson

from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import StubServer
from tests.helpers import STUB_KEY

ROOT = Path(__file__).parents[1]
SCRIPT = ROOT / "scripts" / "ci-replay"


def _action(
    workdir: Path, db: str, stub: StubServer, **inputs: str
) -> tuple[subprocess.CompletedProcess[str], str, dict[str, str]]:
    """Run the action's step as a runner would; return it, the step summary and the outputs."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "DATABASE_URL": db,
        "OPENAI_BASE_URL": stub.base_url,
        "OPENAI_API_KEY": STUB_KEY,
        "GITHUB_STEP_SUMMARY": str(workdir / "step-summary.md"),
        "GITHUB_OUTPUT": str(workdir / "step-output.txt"),
        **{f"INPUT_{name.upper()}": value for name, value in inputs.items()},
    }
    done = subprocess.run(
        [str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=workdir,
        env=env,
    )
    summary = (workdir / "step-summary.md").read_text() if inputs else ""
    outputs_file = workdir / "step-output.txt"
    lines = outputs_file.read_text().splitlines() if outputs_file.exists() else []
    return done, summary, dict(line.split("=", 1) for line in lines)


def test_a_passing_replay_passes_the_job_with_its_summary(
    workdir: Path, stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Exit 0; the step summary is replay's Markdown; the artifact and JUnit are where it says."""
    done, summary, outputs = _action(
        workdir, fixture_db, stub, client_id=fixtures.clients[0].id, limit="6",
        args="--model replay-original",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert summary.startswith("### replay `") and "✅ gate passed" in summary
    assert outputs["exit-code"] == "0"
    artifact = workdir / outputs["artifact"]
    assert orjson.loads(artifact.read_bytes())["summary"]["cases"] == 6
    assert artifact.with_name(artifact.stem + ".junit.xml").exists()


def test_a_regression_fails_the_job_with_replays_code(
    workdir: Path, stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """The variant regresses: exit 1, the summary says the gate failed, the output says 1."""
    done, summary, outputs = _action(
        workdir, fixture_db, stub, client_id=fixtures.clients[0].id, limit="20",
        args="--model replay-variant",
    )  # fmt: skip
    assert done.returncode == 1
    assert "❌ gate failed" in summary and "| regressions |" in summary
    assert outputs["exit-code"] == "1"
    assert "replay: gate failed: " in done.stderr


def test_a_run_that_cannot_start_still_says_so_in_the_summary(
    workdir: Path, stub: StubServer, fixtures: FixtureSummary
) -> None:
    """No database: replay's exit 3 fails the job, and the summary names the code."""
    done, summary, outputs = _action(
        workdir, "postgresql://nobody@127.0.0.1:1/none", stub,
        client_id=fixtures.clients[0].id,
    )  # fmt: skip
    assert done.returncode == 3
    assert summary == "### replay: exit 3 (no summary: see the log)\n"
    assert outputs["exit-code"] == "3"


def test_every_input_the_script_reads_is_passed_by_the_action() -> None:
    """action.yml sets each INPUT_ variable the script reads, from an input it declares."""
    action = (ROOT / "action.yml").read_text()
    read = set(re.findall(r"INPUT_([A-Z_]+)", SCRIPT.read_text()))
    for name in read:
        key = name.lower().replace("_", "-")
        assert f"INPUT_{name}: ${{{{ inputs.{key} }}}}" in action, name
        assert f"\n  {key}:\n" in action, key
    assert 'run: "$GITHUB_ACTION_PATH/scripts/ci-replay"' in action


def test_extra_args_split_as_typed_and_show_sql_leaves_the_artifact_output_whole(
    workdir: Path, stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """`args` keeps a quoted name whole and expands no wildcard.

    `--show-sql` output stays in the log while the `artifact` output is still the path alone.
    """
    Path("my prompt.txt").write_text("You write short, kind replies.")
    Path("a1").write_text("")
    done, summary, outputs = _action(
        workdir, fixture_db, stub, client_id=fixtures.clients[0].id, limit="3",
        args='--model replay-original --system-prompt-file "my prompt.txt" --show-sql '
        "--thread-limit 20",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "SELECT" in done.stdout
    artifact = workdir / outputs["artifact"]
    assert "\n" not in outputs["artifact"] and artifact.exists()
    config = orjson.loads(artifact.read_bytes())["config"]
    assert config["request"]["system_prompt_file"] == "my prompt.txt"
    star, _, _ = _action(
        workdir, fixture_db, stub, client_id=fixtures.clients[0].id, args="--case-ids a*"
    )
    assert (star.returncode, star.stderr) == (  # `a*` reached replay as typed, not as `a1`
        2,
        "replay: --case-ids holds 'a*', which is not a uuid (the case view's case_id type)\n",
    )


def test_an_empty_client_id_is_a_usage_error(workdir: Path, stub: StubServer) -> None:
    """No client-id input: exit 2 (a usage error, not a failed gate) and a summary line."""
    done, summary, _ = _action(workdir, "postgresql://unused@127.0.0.1:1/x", stub, client_id="")
    assert done.returncode == 2
    assert done.stderr == (
        "replay: the action's client-id input is empty; expected the client whose jobs to replay\n"
    )
    assert summary == "### replay: exit 2 (no client-id input)\n"
