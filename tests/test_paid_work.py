"""Paid work is never lost or paid twice: a run that stops after drafting stays resumable.

The source connection is killed for real (`pg_terminate_backend`) in the middle of a run whose
selection spans two chunks, so loading the second chunk meets a dead connection; a budget spans
a `kill -9` and a resume. Every run is a real `replay` process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import orjson
import pytest

from replay.config.secrets import describe_dsn
from replay.devtools import generator, pg
from replay.source.selection import CHUNK
from tests.helpers import STARTED, STUB_KEY

ARTIFACTS = Path(".artifacts/ai-replay")
BIG = CHUNK + 100
"""Cases of the big client: more than one chunk, so the run reads the database mid-run."""

PIPELINE = """
import time


def slow(case):
    time.sleep(0.02)
    with open("drafted.log", "a") as log:
        log.write(case.case_id + "\\n")
    return "Thanks for writing, we will get back to you today."
"""


@pytest.fixture(scope="module")
def big_db(admin_uri: str) -> Iterator[tuple[str, str]]:
    """A database with one client of `BIG` jobs; its URL and the client's id."""
    name = "replay_paid_work"
    pg.create_database(admin_uri, name)
    uri = pg.database_uri(admin_uri, name)

    async def fill() -> str:
        conn = await asyncpg.connect(uri)
        try:
            summary = await generator.install(
                conn, clients=1, jobs_per_client=BIG + 200, seed=11, reset=True
            )
        finally:
            await conn.close()
        return summary.clients[0].id

    import anyio

    yield uri, anyio.run(fill)


@pytest.fixture
def slow_pipeline(workdir: Path) -> Path:
    """A python pipeline that takes 20 ms a case and logs every case it drafts."""
    (workdir / "paidpipe.py").write_text(textwrap.dedent(PIPELINE))
    return workdir


def _start(uri: str, client: str, *args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "replay.cli", "--client-id", client, "--database-url", uri]
    command += ["--pipeline", "python:paidpipe:slow", "--quiet", "--no-report", "--no-gate"]
    process = subprocess.Popen(
        [*command, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
    )
    STARTED.append(process)
    return process


def _lines(partial: Path) -> int:
    return len(partial.read_bytes().splitlines()) - 1 if partial.exists() else 0


def _wait_for_partial(lines: int, *, drafted: bool = False) -> Path:
    """The partial log once it holds `lines` results (with `drafted`: cases that got a draft)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for path in ARTIFACTS.glob("run-*.partial.jsonl"):
            if (_drafted(path) if drafted else _lines(path)) >= lines:
                return path
        time.sleep(0.02)
    raise AssertionError("the run wrote no partial lines in time")


def _drafted(partial: Path) -> int:
    results = partial.read_bytes().split(b"\n")[1:-1]
    return sum(1 for line in results if orjson.loads(line).get("outcome") is not None)


async def _terminate(admin: str, database: str) -> int:
    conn = await asyncpg.connect(pg.database_uri(admin, database))
    try:
        killed: int = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'draft-replay' AND datname = $1",
            database,
        )
    finally:
        await conn.close()
    return killed


def _artifact(partial: Path) -> dict[str, Any]:
    target = partial.with_name(partial.name.removesuffix(".partial.jsonl") + ".json")
    data: dict[str, Any] = orjson.loads(target.read_bytes())
    return data


def test_a_lost_connection_mid_run_keeps_every_paid_draft_for_resume(
    slow_pipeline: Path, big_db: tuple[str, str], admin_uri: str
) -> None:
    """Killed mid-run: blocked (exit 3) with its selection; resume drafts only the rest, once."""
    import anyio

    uri, client = big_db
    run = _start(uri, client, "--limit", str(BIG), "--concurrency", "8")
    partial = _wait_for_partial(20)
    assert anyio.run(_terminate, admin_uri, "replay_paid_work") == 1
    _, err = run.communicate(timeout=120)
    assert run.returncode == 3, err.decode()
    assert err.decode() == (
        f"replay: the connection to the source database {describe_dsn(uri)} was lost "
        "while loading cases\n"
    )
    blocked = _artifact(partial)
    assert blocked["status"] == "blocked"
    assert blocked["selection"]["found"] == BIG and len(blocked["selection"]["case_ids"]) == BIG
    drafted_before = len(blocked["cases"])
    assert drafted_before >= CHUNK - 8  # the first chunk's cases were paid for and kept
    assert partial.exists()  # still there, for --resume

    resumed = _start(uri, client, "--limit", str(BIG), "--resume", str(partial))
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()
    final = _artifact(partial)
    ids = [case["case_id"] for case in final["cases"]]
    assert len(ids) == len(set(ids)) == BIG == final["summary"]["cases"]
    drafted = (slow_pipeline / "drafted.log").read_text().split()
    replayed = {case["case_id"] for case in final["cases"] if case["verdict"] != "invalid_case"}
    assert len(drafted) == len(set(drafted))  # no case drafted twice...
    assert set(drafted) == replayed  # ...and every valid case drafted
    assert [part["cases"] for part in final["parts"]] == [drafted_before, BIG - drafted_before]


def test_a_budget_binds_the_total_over_a_kill_and_a_resume(
    slow_pipeline: Path, big_db: tuple[str, str]
) -> None:
    """`--max-cost` is spent across parts: after a `kill -9`, the resume spends only the rest."""
    del slow_pipeline  # the stub model server drafts here; the fixture gives the working dir
    from replay.devtools.stub_model import StubOptions, running

    uri, client = big_db
    limit = "0.003"  # about a dozen drafts at these prices
    Path("replay.toml").write_text('[prices."replay-original"]\ninput = 0.1\noutput = 0.4\n')
    with running(StubOptions(api_key=STUB_KEY, latency_ms=300)) as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": STUB_KEY}
        command = [sys.executable, "-m", "replay.cli", "--client-id", client, "--database-url"]
        command += [uri, "--model", "replay-original", "--limit", "200", "--quiet"]
        command += ["--no-report", "--max-cost", limit, "--concurrency", "2"]
        first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            partial = _wait_for_partial(3, drafted=True)
        finally:
            os.kill(first.pid, signal.SIGKILL)
            first.communicate(timeout=10)
        spent_first = sum(
            orjson.loads(line).get("cost_usd") or 0
            for line in partial.read_bytes().split(b"\n")[1:-1]
        )
        assert 0 < spent_first < float(limit)
        drafted = server.requests
        silent = [c for c in command if c not in ("--max-cost", limit)] + ["--resume", str(partial)]
        changed = subprocess.run(silent, capture_output=True, env=env, timeout=60, check=False)
        assert changed.returncode == 2
        assert f"was started with --max-cost {limit}; pass --max-cost {limit} to keep it" in (
            changed.stderr.decode()
        )
        assert server.requests == drafted  # refused before any draft
        resume = [*command, "--resume", str(partial)]
        second = subprocess.run(resume, capture_output=True, env=env, timeout=120, check=False)
    assert second.returncode == 1, second.stderr.decode()
    final = _artifact(partial)
    spent = sum(case["cost_usd"] or 0 for case in final["cases"])
    assert spent_first < spent <= float(limit) + 1e-9
    assert final["summary"]["cost_usd"] == pytest.approx(spent)
    assert f"--max-cost {limit} reached (spent ${spent:.4f})" in second.stderr.decode()
    assert final["summary"]["by_verdict"].get("skipped", 0) > 0


def test_resume_keeps_a_repeated_line_once_and_drops_a_foreign_one(
    slow_pipeline: Path, big_db: tuple[str, str]
) -> None:
    """A partial log with a line twice and a case outside the run: each counted in `parts`."""
    uri, client = big_db
    first = _start(uri, client, "--limit", "30", "--concurrency", "2")
    partial = _wait_for_partial(4)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=10)
    header, *lines = partial.read_bytes().split(b"\n")
    complete = lines[:-1]  # what follows the last newline is torn by the kill, or empty
    foreign = orjson.loads(complete[0]) | {"case_id": "not-in-this-run"}
    added = [complete[0], orjson.dumps(foreign)]
    partial.write_bytes(b"\n".join([header, *complete, *added]) + b"\n")
    resumed = _start(uri, client, "--limit", "30", "--resume", str(partial))
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()
    final = _artifact(partial)
    ids = [case["case_id"] for case in final["cases"]]
    assert len(ids) == len(set(ids)) == final["summary"]["cases"] == 30
    assert "not-in-this-run" not in ids
    last = final["parts"][-1]
    assert (last["duplicates_dropped"], last["foreign_dropped"]) == (1, 1)


def test_signals_losing_its_connection_mid_query_is_blocked_not_a_crash(
    workdir: Path, fixture_db: str, admin_uri: str
) -> None:
    """`replay signals` whose backend is terminated mid-query: exit 3, one line, no traceback.

    The kill waits until the signals query itself runs (its view sleeps per row), so it never
    lands at the view's prepare step (`tests/test_connection_lost.py` kills it there).
    """
    import anyio

    builtin = Path(generator.__file__).parents[1] / "config" / "sql" / "jobs.sql"
    slow = builtin.read_text() + "WHERE pg_sleep(0.02) IS NOT NULL\n"
    Path("slow_jobs.sql").write_text(slow)
    command = [sys.executable, "-m", "replay.cli", "signals", "--database-url", fixture_db]
    command += ["--jobs-sql", "slow_jobs.sql", "--since", "3650d"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    STARTED.append(process)
    database = urlsplit(fixture_db).path.lstrip("/")
    assert anyio.run(_terminate_when_querying, admin_uri, database, process) == 1
    _, err = process.communicate(timeout=60)
    assert process.returncode == 3, err.decode()
    assert err.decode() == (
        f"replay: the connection to the source database {describe_dsn(fixture_db)} was lost "
        "while reading job signals\n"
    )


async def _terminate_when_querying(
    admin: str, database: str, process: subprocess.Popen[bytes]
) -> int:
    """Terminate `replay`'s backend once it runs the signals query (`WITH jobs AS …`)."""
    import anyio

    conn = await asyncpg.connect(pg.database_uri(admin, database))
    try:
        with anyio.fail_after(30):
            while True:
                assert process.poll() is None, process.communicate()
                killed: int = await conn.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = 'draft-replay' AND datname = $1 "
                    "AND state = 'active' AND query LIKE 'WITH jobs AS %'",
                    database,
                )
                if killed:
                    return killed
                await anyio.sleep(0.02)
    finally:
        await conn.close()
