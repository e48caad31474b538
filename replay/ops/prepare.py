"""Before a run: list the clients, check everything a run needs, load the demo fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg

from replay.artifacts import store
from replay.config import defaults
from replay.config.models import DatabaseConfig
from replay.config.secrets import describe_dsn
from replay.errors import BlockedError, ExitCode
from replay.models import PreflightEntry
from replay.run.finished import Finished
from replay.source import preflight, selection
from replay.source.db import connect

if TYPE_CHECKING:
    from replay.devtools.generator import FixtureSummary


async def clients(database: DatabaseConfig) -> list[selection.ClientRow]:
    """List the clients the views know, with their job counts."""
    async with connect(database) as conn:
        shapes = await selection.inspect(conn, database.source)
        return await selection.list_clients(conn, shapes)


async def check(database: DatabaseConfig, artifacts_dir: Path, client_id: str | None) -> Finished:
    """Run every preflight check without selecting anything; one entry per root cause."""
    entries: list[PreflightEntry] = []
    try:
        store.ensure_writable(artifacts_dir)
        entries.append(preflight.passed("artifact_dir", f"{artifacts_dir} is writable"))
    except BlockedError as exc:
        entries.append(preflight.failed(exc))
    try:
        async with connect(database) as conn:
            entries.append(
                preflight.passed("database", f"connected to {database.target} read-only")
            )
            shapes = await selection.inspect(conn, database.source)
            entries.append(preflight.passed("views", "every view has the contract's columns"))
            known = (
                None
                if client_id is None
                else await selection.client_exists(conn, shapes, client_id)
            )
            if known is not None:
                verdict = "is in the clients view" if known else "is not in the clients view"
                entries.append(
                    PreflightEntry(
                        check="client",
                        ok=known,
                        code=None if known else "client_unknown",
                        message=f"client {client_id!r} {verdict}",
                    )
                )
    except BlockedError as exc:
        entries.append(preflight.failed(exc))
    blocked = any(not entry.ok and entry.check != "client" for entry in entries)
    unknown = any(not entry.ok and entry.check == "client" for entry in entries)
    code = ExitCode.BLOCKED if blocked else ExitCode.EMPTY if unknown else ExitCode.OK
    return Finished(exit_code=code, preflight=entries)


async def install_fixtures(
    dsn: str,
    *,
    clients: int,
    jobs_per_client: int,
    seed: int,
    languages: tuple[str, ...] = ("en",),
    reset: bool,
) -> FixtureSummary:
    """Create the reference schema and load seeded fixtures: the only command that writes."""
    from replay.devtools import generator  # only this command needs the generator and its corpus

    target = describe_dsn(dsn)
    try:
        conn = await asyncpg.connect(dsn, timeout=defaults.CONNECT_TIMEOUT_S)
    except Exception as exc:  # classified by type in preflight
        raise preflight.database_failure(exc, target, defaults.CONNECT_TIMEOUT_S) from None
    try:
        return await generator.install(
            conn,
            clients=clients,
            jobs_per_client=jobs_per_client,
            seed=seed,
            languages=languages,
            reset=reset,
        )
    finally:
        await conn.close()
