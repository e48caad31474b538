"""Shared fixtures: one embedded Postgres per session, a fresh database per test.

`REPLAY_TEST_DATABASE_URL` points the suite at another server (a superuser DSN); `DATABASE_URL`
is never read here, because it may point at production.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import pytest

from replay.devtools import pg
from replay.devtools.stub_model import StubOptions, StubServer, running
from tests.helpers import STUB_KEY, reap

if TYPE_CHECKING:
    from replay.devtools import generator

FIXTURE_SEED = 7
FIXTURE_CLIENTS = 3
FIXTURE_JOBS = 120
_TEMPLATE = "replay_fixture_template"
_counter = itertools.count()


@pytest.fixture(autouse=True)
def _no_production_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach a database through the user's DATABASE_URL."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pg.EmbeddedPostgres | str]:
    """The server every test database lives on: embedded, or REPLAY_TEST_DATABASE_URL."""
    external = os.environ.get("REPLAY_TEST_DATABASE_URL")
    if external:
        yield external
        return
    server = pg.start(tmp_path_factory.mktemp("pg") / "data")
    yield server
    pg.stop(server)


@pytest.fixture(scope="session")
def admin_uri(pg_server: pg.EmbeddedPostgres | str) -> str:
    """A superuser DSN on the test server."""
    return pg_server if isinstance(pg_server, str) else pg_server.uri


async def _create_database(admin: str, name: str, template: str | None = None) -> str:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        clause = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await conn.close()
    return pg.database_uri(admin, name)


@pytest.fixture(scope="session")
async def fixture_template(admin_uri: str) -> generator.FixtureSummary:
    """A template database loaded once with the seeded fixtures."""
    from replay.devtools import generator

    uri = await _create_database(admin_uri, _TEMPLATE)
    conn = await asyncpg.connect(uri)
    try:
        summary = await generator.install(
            conn, clients=FIXTURE_CLIENTS, jobs_per_client=FIXTURE_JOBS, seed=FIXTURE_SEED
        )
    finally:
        await conn.close()
    return summary


@pytest.fixture
async def empty_db(admin_uri: str) -> str:
    """DSN of a new, empty database of this test's own."""
    return await _create_database(admin_uri, f"replay_test_{os.getpid()}_{next(_counter)}")


@pytest.fixture
async def fixture_db(admin_uri: str, fixture_template: generator.FixtureSummary) -> str:
    """DSN of a new database of this test's own, copied from the fixture template."""
    name = f"replay_test_{os.getpid()}_{next(_counter)}"
    return await _create_database(admin_uri, name, template=_TEMPLATE)


@pytest.fixture
def fixtures(fixture_template: generator.FixtureSummary) -> generator.FixtureSummary:
    """What the fixture generator put into every `fixture_db`."""
    return fixture_template


@pytest.fixture
async def fixture_conn(fixture_db: str) -> AsyncIterator[asyncpg.Connection]:
    """A read-write superuser connection to `fixture_db`, for arranging test data."""
    conn = await asyncpg.connect(fixture_db)
    yield conn
    await conn.close()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test in its own directory, so `.artifacts/` and `replay.toml` are its own."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> Iterator[StubServer]:
    """The local model server, reached through OPENAI_BASE_URL and OPENAI_API_KEY."""
    with running(StubOptions(api_key=STUB_KEY)) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", STUB_KEY)
        yield server


@pytest.fixture(autouse=True)
def _reap_started() -> Iterator[None]:
    """Processes a test started are gone after it, even when an assertion stopped it early."""
    yield
    reap()
