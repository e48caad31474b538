"""Composition root: opens the database, wires the stages, writes the artifact, picks the exit code.

The only module that builds concrete clients (the asyncpg pool). It never prints: it returns what
happened and `cli.py` says it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import asyncpg
import orjson

from replay import __version__, artifacts, constants, preflight, pricing, source
from replay.config import DatabaseConfig, RunConfig, describe_dsn
from replay.errors import BlockedError
from replay.models import (
    SCHEMA_VERSION,
    Case,
    CaseResult,
    InputSummary,
    InvalidCase,
    PreflightEntry,
    RequestPlan,
    RunStatus,
    Selection,
    SkippedCase,
    Summary,
)
from replay.pipelines import openai as openai_pipeline
from replay.tally import Tally

if TYPE_CHECKING:
    from replay.devtools.generator import FixtureSummary

SERVER_SETTINGS = {
    # Read-only for every statement of every connection; selection adds a read-only transaction.
    "default_transaction_read_only": "on",
    "TimeZone": "UTC",
    "application_name": "draft-replay",
}


@dataclass
class Outcome:
    """What a command did, for the CLI to report."""

    exit_code: int
    artifact: Path | None = None
    status: RunStatus | None = None
    summary: Summary | None = None
    selection: Selection | None = None
    preflight: list[PreflightEntry] = field(default_factory=list)
    message: str | None = None
    """One line explaining a non-zero exit."""
    sql: list[str] = field(default_factory=list)
    """Statements for `--show-sql`."""


# --- database ------------------------------------------------------------------------------------


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(
            kind,
            schema="pg_catalog",
            encoder=lambda v: orjson.dumps(v).decode(),
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
        await conn.close()


# --- run -----------------------------------------------------------------------------------------


async def run(config: RunConfig) -> Outcome:
    """Run a dry run: preflight, selection, request rendering, estimates, artifact."""
    started = datetime.now(UTC)
    target = artifacts.target_path(config.artifacts_dir, started, config.out)
    run = _Run(config, started, target)
    try:
        artifacts.ensure_writable(target.parent)
    except BlockedError as exc:
        return Outcome(exit_code=3, message=exc.message, preflight=[preflight.failed(exc)])
    run.preflight.append(preflight.passed("artifact_dir", f"{target.parent} is writable"))
    try:
        async with connect(config.database) as conn:
            run.preflight.append(
                preflight.passed("database", f"connected to {config.database.target} read-only")
            )
            return await run.select_and_plan(conn)
    except BlockedError as exc:
        run.preflight.append(preflight.failed(exc))
        return await run.finish("blocked", 3, exc.message)


class _Run:
    """One run's state: its identity, preflight, partial log and running totals."""

    def __init__(self, config: RunConfig, started: datetime, target: Path) -> None:
        self.config = config
        self.started = started
        self.target = target
        self.run_id = f"{artifacts.stamp(started)}-{uuid.uuid4().hex[:6]}"
        self.preflight: list[PreflightEntry] = []
        self.selection: Selection | None = None
        self.tally = Tally()
        self.log: artifacts.CaseLog | None = None
        self.sql: list[str] = []

    async def select_and_plan(self, conn: asyncpg.Connection) -> Outcome:
        config = self.config
        shapes = await source.inspect(conn, config.source)
        self.preflight.append(preflight.passed("views", "every view has the contract's columns"))
        if config.show_sql:
            self.sql.append(source.plan_statement(shapes, config.selection).show())
            self.sql.append(source.thread_statement(shapes) + ";")
        known = await source.client_exists(conn, shapes, config.selection.client_id)
        if known is False:
            self.preflight.append(
                PreflightEntry(
                    check="client",
                    ok=False,
                    code="client_unknown",
                    message=f"client {config.selection.client_id!r} is not in the clients view",
                )
            )
        plan = await source.plan(conn, shapes, config.selection)
        if not plan.case_ids:
            self.selection = self._selection(plan, found=0)
            reason = (
                f"client {config.selection.client_id!r} is unknown"
                if known is False
                else "no case matched the selection"
            )
            code = 0 if config.selection.allow_empty else 4
            return await self.finish("empty", code, None if code == 0 else reason)
        self.log = await anyio.to_thread.run_sync(
            artifacts.CaseLog,
            self.target.with_name(self.target.stem + ".partial.jsonl"),
            self._header(plan),
        )
        skipped: list[SkippedCase] = []
        invalid: list[str] = []
        found = 0
        async for chunk in source.load(conn, shapes, config.selection, plan.case_ids):
            results = [self._plan_case(item) for item in chunk]
            found += len(chunk)
            for result in results:
                self.tally.add(result)
                if result.verdict == "invalid_case":
                    invalid.append(result.case_id)
                elif result.verdict == "skipped":
                    skipped.append(
                        SkippedCase(case_id=result.case_id, reason="no_recorded_request")
                    )
            await anyio.to_thread.run_sync(self.log.append, results)
        self.selection = self._selection(plan, found=found, invalid=invalid, skipped=skipped)
        return await self.finish("complete", 0, None)

    def _plan_case(self, item: Case | InvalidCase) -> CaseResult:
        if isinstance(item, InvalidCase):
            return CaseResult(
                case_id=item.case_id, verdict="invalid_case", input=InputSummary(), invalid=item
            )
        summary = _input_summary(item)
        try:
            planned = openai_pipeline.plan_request(item.input, self.config.request)
        except openai_pipeline.NoRecording:
            return CaseResult(
                case_id=item.input.case_id, verdict="skipped", input=summary, original=item.original
            )
        estimate = pricing.estimate(planned.request, item.original.draft, self.config.prices)
        plan = RequestPlan(
            source=planned.source,
            request=planned.request,
            request_hash=openai_pipeline.request_hash(planned.request),
            estimated_input_tokens=estimate.input_tokens,
            estimated_output_tokens=estimate.output_tokens,
            estimated_cost_usd=estimate.cost_usd,
        )
        return CaseResult(
            case_id=item.input.case_id,
            verdict="selected",
            input=summary,
            original=item.original,
            plan=plan,
        )

    def _selection(
        self,
        plan: source.Plan,
        *,
        found: int,
        invalid: list[str] | None = None,
        skipped: list[SkippedCase] | None = None,
    ) -> Selection:
        selection = self.config.selection
        return Selection(
            client_id=selection.client_id,
            requested=selection.limit,
            found=found,
            more_available=plan.more_available,
            filters=dict(plan.filters),
            not_found=list(plan.not_found),
            invalid=invalid or [],
            skipped=skipped or [],
            case_ids=list(plan.case_ids),
        )

    def _header(self, plan: source.Plan) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "created_at": self.started.isoformat(),
            "mode": "dry" if self.config.dry_run else "live",
            "config": self.config.redacted(),
            "case_ids": list(plan.case_ids),
        }

    async def finish(self, status: RunStatus, exit_code: int, message: str | None) -> Outcome:
        summary = self.tally.summary()
        head = {
            "schema_version": SCHEMA_VERSION,
            "kind": "run",
            "run_id": self.run_id,
            "parent_run_id": None,
            "created_at": self.started,
            "finished_at": datetime.now(UTC),
            "tool_version": __version__,
            "git_sha": await _git_sha(),
            "mode": "dry" if self.config.dry_run else "live",
            "status": status,
            "exit_code": exit_code,
            "read_only": True,
            "context_as_of": {
                "thread": "point_in_time",
                "lead": "current",
                "client_settings": "current",
            },
            "config": self.config.redacted(),
            "preflight": [entry.model_dump(mode="json") for entry in self.preflight],
            "selection": self.selection.model_dump(mode="json") if self.selection else None,
        }
        tail = {"summary": summary.model_dump(mode="json"), "gate": None, "baseline": None}
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(artifacts.finish, self.target, head, self.log, tail)
        return Outcome(
            exit_code=exit_code,
            artifact=self.target,
            status=status,
            summary=summary,
            selection=self.selection,
            preflight=self.preflight,
            message=message,
            sql=self.sql,
        )


def _input_summary(case: Case) -> InputSummary:
    data = case.input
    return InputSummary(
        channel=data.channel,
        lead_id=data.lead_id,
        inbound_id=data.inbound.id,
        inbound_subject=data.inbound.subject,
        inbound_body=data.inbound.body,
        inbound_sent_at=data.inbound.sent_at,
        job_created_at=data.job_created_at,
        thread_messages=len(data.thread),
        thread_message_ids=[message.message_id for message in data.thread],
        thread_last_at=data.thread[-1].sent_at if data.thread else None,
        tags=data.tags,
    )


async def _git_sha() -> str | None:
    try:
        result = await anyio.run_process(["git", "rev-parse", "HEAD"], check=False)
    except OSError:
        return None
    return result.stdout.decode().strip() or None if result.returncode == 0 else None


# --- other commands ------------------------------------------------------------------------------


async def clients(database: DatabaseConfig) -> list[source.ClientRow]:
    """List the clients the views know, with their job counts."""
    async with connect(database) as conn:
        shapes = await source.inspect(conn, database.source)
        return await source.list_clients(conn, shapes)


async def check(database: DatabaseConfig, artifacts_dir: Path, client_id: str | None) -> Outcome:
    """Run every preflight check without selecting anything; one entry per root cause."""
    entries: list[PreflightEntry] = []
    try:
        artifacts.ensure_writable(artifacts_dir)
        entries.append(preflight.passed("artifact_dir", f"{artifacts_dir} is writable"))
    except BlockedError as exc:
        entries.append(preflight.failed(exc))
    try:
        async with connect(database) as conn:
            entries.append(
                preflight.passed("database", f"connected to {database.target} read-only")
            )
            shapes = await source.inspect(conn, database.source)
            entries.append(preflight.passed("views", "every view has the contract's columns"))
            known = (
                None if client_id is None else await source.client_exists(conn, shapes, client_id)
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
    return Outcome(exit_code=3 if blocked else 4 if unknown else 0, preflight=entries)


async def install_fixtures(
    dsn: str, *, clients: int, jobs_per_client: int, seed: int, reset: bool
) -> FixtureSummary:
    """Create the reference schema and load seeded fixtures: the only command that writes."""
    from replay.devtools import generator  # only this command needs the generator and its corpus

    target = describe_dsn(dsn)
    try:
        conn = await asyncpg.connect(dsn, timeout=constants.CONNECT_TIMEOUT_S)
    except Exception as exc:  # classified by type in preflight
        raise preflight.database_failure(exc, target, constants.CONNECT_TIMEOUT_S) from None
    try:
        return await generator.install(
            conn, clients=clients, jobs_per_client=jobs_per_client, seed=seed, reset=reset
        )
    finally:
        await conn.close()
