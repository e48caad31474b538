"""An embedded Postgres server (the `pgserver` wheel) on a Unix socket with trust auth."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit, urlunsplit

from replay.errors import LOCAL_EXTRA, missing_extra


class EmbeddedPostgres(NamedTuple):
    """A running embedded server."""

    uri: str
    """DSN of the `postgres` database; the socket directory is its `host` query parameter."""
    pgdata: Path
    handle: Any


def start(pgdata: Path, *, keep_running: bool = False) -> EmbeddedPostgres:
    """Start (or reuse) the server whose data lives in `pgdata`.

    Args:
        pgdata: the data directory; created and initialised on first use.
        keep_running: leave the server up when this process exits (the demo's second run reuses
            it); otherwise it stops at exit.
    """
    # pgserver asks platformdirs for a runtime directory; give it one rather than a warning.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(_runtime_dir()))
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    try:
        import pgserver
    except ModuleNotFoundError as exc:
        if exc.name not in LOCAL_EXTRA:
            raise
        raise missing_extra("the embedded Postgres (scripts/demo, the tests)", exc) from None

    pgdata.mkdir(parents=True, exist_ok=True)
    cleanup = None if keep_running else "stop"
    handle = pgserver.get_server(pgdata, cleanup_mode=cleanup)  # type: ignore[attr-defined]
    return EmbeddedPostgres(uri=handle.get_uri(), pgdata=pgdata, handle=handle)


def stop(server: EmbeddedPostgres) -> None:
    """Stop the server now rather than at exit."""
    server.handle.cleanup()


def database_uri(
    uri: str, database: str | None = None, *, user: str | None = None, password: str | None = None
) -> str:
    """Return `uri` with another database, user or password."""
    parts = urlsplit(uri)
    netloc = parts.netloc
    if user is not None:
        credentials = quote(user) + (f":{quote(password)}" if password is not None else "")
        netloc = f"{credentials}@{netloc.rpartition('@')[2]}"
    path = "/" + quote(database) if database is not None else parts.path
    return urlunsplit((parts.scheme, netloc, path, parts.query, ""))


def add_hba_rule(server: EmbeddedPostgres, rule: str) -> None:
    """Put an authentication rule first in pg_hba.conf; call `reload` afterwards."""
    hba = server.pgdata / "pg_hba.conf"
    hba.write_text(rule + "\n" + hba.read_text())


def _runtime_dir() -> Path:
    path = Path(f"/tmp/runtime-{os.getuid()}")
    path.mkdir(mode=0o700, exist_ok=True)
    path.chmod(0o700)  # platformdirs refuses a runtime directory others can read
    return path


def create_database(uri: str, name: str) -> None:
    """Create database `name` on the server of `uri` unless it exists."""
    import anyio
    import asyncpg

    async def create() -> None:
        conn = await asyncpg.connect(uri)
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    anyio.run(create)
