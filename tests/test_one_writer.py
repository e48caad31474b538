"""One writer per run: a second process on a run that is being written exits 2 and drafts nothing.

Every run here is a real `replay` process against the embedded Postgres and the local model
server, which counts the drafts it was asked for: a case drafted twice would show there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from replay.artifacts.lock import RunLock
from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import StubOptions, StubServer, running
from tests.helpers import STARTED, STUB_KEY, replay_to, run_cli

ARTIFACTS = Path(".artifacts/ai-replay")
CASES = 12


@pytest.fixture
def slow_stub(workdir: Path) -> Iterator[StubServer]:
    """A model server slow enough (700 ms a draft) that a second process meets a live run."""
    with running(StubOptions(api_key=STUB_KEY, latency_ms=700)) as server:
        yield server


def _start(server: StubServer, db: str, client: str, *args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "replay.cli", "--client-id", client, "--database-url", db]
    command += ["--model", "replay-original", "--limit", str(CASES), "--quiet", "--no-report"]
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": STUB_KEY}
    process = subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    STARTED.append(process)
    return process


def _partial(lines: int, pattern: str = f"{ARTIFACTS}/run-*.partial.jsonl") -> Path:
    """The partial log of the run in progress, once it holds `lines` finished cases."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for path in Path().glob(pattern):
            if len(path.read_bytes().splitlines()) >= lines + 1:
                return path
        time.sleep(0.05)
    raise AssertionError("the run wrote no partial lines in time")


def _finish(process: subprocess.Popen[bytes], timeout_s: float = 60) -> tuple[int, str]:
    _, err = process.communicate(timeout=timeout_s)
    return process.returncode, err.decode()


def _case_ids(artifact: Path) -> list[str]:
    return [case["case_id"] for case in orjson.loads(artifact.read_bytes())["cases"]]


def test_a_resume_of_a_run_in_progress_exits_2_and_drafts_nothing(
    slow_stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """`--resume` of a partial another process is writing: exit 2 naming its pid, no draft."""
    first = _start(slow_stub, fixture_db, fixtures.clients[0].id, "--concurrency", "2")
    partial = _partial(1)
    second = _start(slow_stub, fixture_db, fixtures.clients[0].id, "--resume", str(partial))
    code, err = _finish(second, timeout_s=30)
    assert code == 2
    assert f"is being written by another replay (pid {first.pid})" in err
    assert err.count("\n") == 1
    code, err = _finish(first)
    assert code == 0, err
    artifact = partial.with_name(partial.name.removesuffix(".partial.jsonl") + ".json")
    ids = _case_ids(artifact)
    assert len(ids) == len(set(ids)) == CASES
    assert slow_stub.requests == CASES  # not one draft more: the second process paid nothing


def test_two_runs_into_the_same_out_exit_2_for_the_second(
    slow_stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Two runs given the same `--out`: the second exits 2 at once; the first finishes whole."""
    client = fixtures.clients[0].id
    first = _start(slow_stub, fixture_db, client, "--out", "same.json", "--concurrency", "2")
    _partial(1, "same.partial.jsonl")
    second = _start(slow_stub, fixture_db, client, "--out", "same.json")
    code, err = _finish(second, timeout_s=30)
    assert code == 2
    assert "run 'same.json' is being written by another replay" in err
    code, err = _finish(first)
    assert code == 0, err
    assert len(_case_ids(Path("same.json"))) == CASES
    assert slow_stub.requests == CASES


def test_two_resumes_after_a_kill_finish_every_case_exactly_once(
    slow_stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """`kill -9`, then two resumes at once: one exits 2, the other ends with each case once."""
    client = fixtures.clients[0].id
    first = _start(slow_stub, fixture_db, client, "--concurrency", "2")
    partial = _partial(3)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=10)  # reaps it and closes its pipes
    drafted_before = slow_stub.requests
    resumes = [
        _start(slow_stub, fixture_db, client, "--resume", str(partial), "--concurrency", "2")
        for _ in range(2)
    ]
    ended = sorted(_finish(process) for process in resumes)
    assert [code for code, _ in ended] == [0, 2], ended
    assert "is being written by another replay (pid " in ended[1][1]
    artifact = partial.with_name(partial.name.removesuffix(".partial.jsonl") + ".json")
    ids = _case_ids(artifact)
    assert len(ids) == len(set(ids)) == CASES
    parts = orjson.loads(artifact.read_bytes())["parts"]
    assert len(parts) == 2 and sum(part["cases"] for part in parts) == CASES  # the killed one too
    # Only the cases in flight at the kill were paid twice (their answers never reached disk).
    assert slow_stub.requests - CASES <= 2
    assert slow_stub.requests - drafted_before <= CASES


def test_a_dead_holder_leaves_no_stale_lock(
    slow_stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """The kernel drops a killed process's lock: a resume goes ahead though the file stays."""
    client = fixtures.clients[0].id
    first = _start(slow_stub, fixture_db, client)
    partial = _partial(1)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=10)  # reaps it and closes its pipes
    lock = partial.with_name("." + partial.name.removesuffix(".partial.jsonl") + ".json.lock")
    assert lock.exists()
    code, err = _finish(_start(slow_stub, fixture_db, client, "--resume", str(partial)))
    assert code == 0, err
    assert not lock.exists()


def test_rejudge_into_an_out_being_written_exits_2(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """`rejudge --out X` while another process holds X: exit 2 naming it, no judge request."""
    client = fixtures.clients[0].id
    result, _ = replay_to(
        capsys, fixture_db, client, "run.json", "--model", "replay-variant", "--limit", "2"
    )
    assert result.code in (0, 1), result.err
    drafted = stub.requests
    with RunLock.acquire(Path("again.json"), what="run 'again.json'"):
        again = run_cli(
            capsys, "rejudge", "run.json", "--judge-model", "replay-judge", "--out", "again.json"
        )
    assert again.code == 2
    assert again.err == (
        f"replay: run 'again.json' is being written by another replay (pid {os.getpid()}); "
        "wait for it to finish or stop it, then try again\n"
    )
    assert stub.requests == drafted and not Path("again.json").exists()


def test_a_nightly_client_held_by_another_night_is_skipped_with_its_holder(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stub: StubServer,
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
) -> None:
    """Two nights at once: the second skips the client the first holds, naming the first."""
    a, b = fixtures.clients[0].id, fixtures.clients[1].id
    monkeypatch.setenv("NIGHTLY_DB", fixture_db)
    (workdir / "replay.toml").write_text(
        "".join(
            f'[[nightly.clients]]\nclient_id = "{client}"\ndatabase_url_env = "NIGHTLY_DB"\n'
            'limit = 2\nmodel = "replay-original"\n'
            for client in (a, b)
        )
    )
    manifests = ARTIFACTS / "manifests"
    manifests.mkdir(parents=True)
    with RunLock.acquire(manifests / f"{a}.json", what=f"client {a!r} (its nightly run)"):
        night = run_cli(capsys, "nightly")
    assert night.code == 3, night.err
    assert f"{a}  blocked: client {a!r} (its nightly run) is being written by another" in night.out
    assert f"(pid {os.getpid()})" in night.out
    assert f"{b}  passed: 2 cases" in night.out
