"""The one way to connect to the source database: read-only, UTC, JSON decoded."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, urlsplit

import anyio
import asyncpg
import orjson

from replay.config import rules
from replay.config.models import DatabaseConfig
from replay.errors import ConnectionLost, UsageError
from replay.source import preflight

SERVER_SETTINGS = {
    # Read-only for every statement of every connection; selection adds a read-only transaction.
    "default_transaction_read_only": "on",
    "TimeZone": "UTC",
    "application_name": "draft-replay",
}
_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(
            kind,
            schema="pg_catalog",
            encoder=lambda value: orjson.dumps(value).decode(),
            decoder=orjson.loads,
        )


def _sslmode(dsn: str) -> str | None:
    """Where the driver's `sslmode` came from, for a message: the URL's, else PGSSLMODE.

    Only a known mode is named: text in the query of a URL whose password holds an unencoded
    `?` may be a piece of that password.
    """
    try:
        modes = parse_qs(urlsplit(dsn).query).get("sslmode")
    except ValueError:
        return None
    if modes:
        mode = modes[-1]  # the driver takes the last
        return f"sslmode={mode}" if mode in _SSL_MODES else None
    variable = os.environ.get("PGSSLMODE")
    return f"PGSSLMODE={variable}" if variable in _SSL_MODES else None


@asynccontextmanager
async def connect(database: DatabaseConfig) -> AsyncIterator[asyncpg.Connection]:
    """Open one read-only connection to the source database.

    Raises:
        DatabaseUnavailable: it cannot be reached or refuses us (message without credentials).
        ConnectionLost: the connection went away while the body used it; the message names the
            database by `target` (host, port, database: never the user or password).
        UsageError: the URL is malformed, or names a port that is not one (checked first: the
            driver would connect to the port modulo 65536).
    """
    try:
        rules.database_url(database.dsn)
    except rules.Rejected as exc:
        raise UsageError(exc.message("--database-url")) from None
    timeout_s = database.connect_timeout_s
    try:
        with anyio.fail_after(timeout_s):
            conn = await asyncpg.connect(
                database.dsn, timeout=timeout_s, server_settings=SERVER_SETTINGS
            )
            await _init_connection(conn)
    except Exception as exc:  # classified by type in preflight; anything else is a bug there
        sslmode = _sslmode(database.dsn)
        raise preflight.database_failure(exc, database.target, timeout_s, sslmode=sslmode) from None
    try:
        yield conn
    except ConnectionLost as exc:
        # Raised where the loss was met, which knows what it was doing but not the database.
        if exc.target is not None:
            raise
        raise ConnectionLost(exc.doing, target=database.target) from None
    except preflight.DRIVER_ERRORS:
        # A statement no caller classified: a connection that is gone is still no bug.
        if not conn.is_closed():
            raise
        raise ConnectionLost("reading from it", target=database.target) from None
    finally:
        with anyio.CancelScope(shield=True):
            await conn.close()
