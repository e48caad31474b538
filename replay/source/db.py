"""The one way to connect to the source database: read-only, UTC, JSON decoded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import asyncpg
import orjson

from replay.config.models import DatabaseConfig
from replay.source import preflight

SERVER_SETTINGS = {
    # Read-only for every statement of every connection; selection adds a read-only transaction.
    "default_transaction_read_only": "on",
    "TimeZone": "UTC",
    "application_name": "draft-replay",
}


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(
            kind,
            schema="pg_catalog",
            encoder=lambda value: orjson.dumps(value).decode(),
            decoder=orjson.loads,
        )


@asynccontextmanager
async def connect(database: DatabaseConfig) -> AsyncIterator[asyncpg.Connection]:
    """Open one read-only connection to the source database.

    Raises:
        DatabaseUnavailable: it cannot be reached or refuses us (message without credentials).
        UsageError: the URL is malformed.
    """
    timeout_s = database.connect_timeout_s
    try:
        with anyio.fail_after(timeout_s):
            conn = await asyncpg.connect(
                database.dsn, timeout=timeout_s, server_settings=SERVER_SETTINGS
            )
            await _init_connection(conn)
    except Exception as exc:  # classified by type in preflight; anything else is a bug there
        raise preflight.database_failure(exc, database.target, timeout_s) from None
    try:
        yield conn
    finally:
        with anyio.CancelScope(shield=True):
            await conn.close()
