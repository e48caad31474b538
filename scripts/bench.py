"""Selection and dry-run timings on a 200,000-message fixture database (DESIGN.md §12).

The database is generated once and cached under .artifacts/bench-pg; later runs reuse it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import asyncpg
from pydantic import SecretStr

from replay import app, source
from replay.config import DatabaseConfig, SelectionConfig
from replay.devtools import generator, pg
from replay.settings import LoadedToml, TomlConfig, views

PGDATA = Path(".artifacts/bench-pg").resolve()
DATABASE = "replay_bench"
CLIENTS = 10
JOBS_PER_CLIENT = 9_100
SEED = 11
CASES = 1_000


async def _ensure_fixtures(uri: str) -> tuple[str, int]:
    conn = await asyncpg.connect(uri)
    try:
        ready = await conn.fetchval("SELECT to_regclass('public.draft_jobs') IS NOT NULL")
        expected = CLIENTS * JOBS_PER_CLIENT
        if ready and await conn.fetchval("SELECT count(*) FROM draft_jobs") == expected:
            client = await conn.fetchval("SELECT client_id::text FROM clients ORDER BY id LIMIT 1")
            messages = await conn.fetchval("SELECT count(*) FROM messages")
            return client, messages
        started = time.perf_counter()
        summary = await generator.install(
            conn, clients=CLIENTS, jobs_per_client=JOBS_PER_CLIENT, seed=SEED, reset=True
        )
        await conn.execute("ANALYZE")
        print(
            f"generated fixtures in {time.perf_counter() - started:.1f} s (cached for later runs)"
        )
        return summary.clients[0].id, summary.messages
    finally:
        await conn.close()


async def _selection_seconds(url: str, client: str) -> tuple[float, int, int]:
    database = DatabaseConfig(
        url=SecretStr(url),
        source=views(LoadedToml(TomlConfig(), None), None, None),
        connect_timeout_s=10,
    )
    selection = SelectionConfig(
        client_id=client, limit=CASES, status="succeeded", thread_limit=20, max_body_chars=50_000
    )
    async with app.connect(database) as conn:
        shapes = await source.inspect(conn, database.source)
        started = time.perf_counter()
        plan = await source.plan(conn, shapes, selection)
        cases = thread_messages = 0
        async for chunk in source.load(conn, shapes, selection, plan.case_ids):
            for item in chunk:
                cases += 1
                thread_messages += len(getattr(getattr(item, "input", None), "thread", []))
        return time.perf_counter() - started, cases, thread_messages


def main() -> int:
    """Print the measured numbers beside their targets."""
    server = pg.start(PGDATA, keep_running=False)
    pg.create_database(server.uri, DATABASE)
    url = pg.database_uri(server.uri, DATABASE)
    client, messages = anyio.run(_ensure_fixtures, url)
    print(f"database: {messages:,} messages; client {client}")

    best = min(anyio.run(_selection_seconds, url, client)[0] for _ in range(3))
    _, cases, thread = anyio.run(_selection_seconds, url, client)
    print(
        f"selection of {cases:,} cases with {thread:,} thread messages: {best:.3f} s "
        f"(target < 1 s: {'met' if best < 1 else 'MISSED'})"
    )

    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "DATABASE_URL": url}
        started = time.perf_counter()
        done = subprocess.run(
            [
                "replay",
                "--client-id",
                client,
                "--limit",
                str(CASES),
                "--dry-run",
                "--quiet",
                "--artifacts-dir",
                out,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        size = sum(p.stat().st_size for p in Path(out).iterdir())
    if done.returncode != 0:
        print(done.stdout + done.stderr, file=sys.stderr)
        return 1
    print(
        f"dry run of {CASES:,} cases end to end (process start to artifact): {elapsed:.2f} s, "
        f"artifact {size / 1e6:.1f} MB (target < 3 s: {'met' if elapsed < 3 else 'MISSED'})"
    )
    pg.stop(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
