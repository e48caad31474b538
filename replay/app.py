"""Composition root: opens the database and model clients, wires the stages, writes the artifact.

The only module that builds concrete clients (asyncpg, AsyncOpenAI, the HTTP client). It never
prints: it returns what happened and `cli.py` says it.
"""

from __future__ import annotations

import signal
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import asyncpg
import httpx2
import openai
import orjson

from replay import (
    __version__,
    artifacts,
    baseline,
    compare,
    constants,
    gate,
    invariants,
    preflight,
    pricing,
    resume,
    source,
    verdict,
)
from replay.config import CompareConfig, DatabaseConfig, RunConfig, describe_dsn
from replay.errors import BlockedError, UsageError
from replay.models import (
    SCHEMA_VERSION,
    BaselineReport,
    Case,
    CaseResult,
    CompareArtifact,
    Gate,
    InputSummary,
    InvalidCase,
    PreflightEntry,
    RequestPlan,
    RunPart,
    RunStatus,
    Selection,
    SkippedCase,
    Summary,
)
from replay.pipelines import openai as openai_pipeline
from replay.pipelines import python as python_pipeline
from replay.pipelines.base import Pipeline
from replay.pipelines.http import HttpPipeline
from replay.runner import Budget, Execution, Policy, Progress, Quiet, Runner
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
    gate: Gate | None = None
    run_id: str | None = None
    mode: str | None = None
    baseline: BaselineReport | None = None


# --- database ------------------------------------------------------------------------------------


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


# --- pipelines -----------------------------------------------------------------------------------


def _pipeline(config: RunConfig) -> tuple[Pipeline, openai.AsyncOpenAI | None]:
    """Build the pipeline named by --pipeline, and the model client when it has one.

    Raises:
        UsageError: an unknown pipeline form, a python pipeline that cannot be imported, or no
            API key for the openai pipeline.
    """
    spec = config.request.pipeline
    live = config.live
    if spec == "openai":
        endpoint = live.endpoint
        if endpoint.api_key is None:
            raise UsageError("the openai pipeline needs an API key: set OPENAI_API_KEY")
        client = openai.AsyncOpenAI(
            api_key=endpoint.api_key.get_secret_value(),
            base_url=endpoint.base_url,
            max_retries=0,  # the runner retries, counts and classifies every attempt itself
            timeout=live.request_timeout_s + 5,  # the runner's own deadline fires first
        )
        return openai_pipeline.OpenAIPipeline(client, config.request), client
    if spec.startswith("python:"):
        return python_pipeline.PythonPipeline(spec, python_pipeline.load(spec)), None
    if spec.startswith(("http://", "https://")):
        limits = httpx2.Limits(max_connections=config.concurrency)
        http = httpx2.AsyncClient(timeout=live.request_timeout_s + 5, limits=limits)
        return HttpPipeline(spec, http), None
    raise UsageError(
        f"--pipeline must be openai, python:module:function or an http(s):// URL, got {spec!r}"
    )


# --- run -----------------------------------------------------------------------------------------


async def run(config: RunConfig, progress: Progress | None = None) -> Outcome:
    """Run a dry or live replay: preflight, selection, cases, artifact, exit code."""
    started = datetime.now(UTC)
    resumed = None
    if config.resume is not None:
        if config.dry_run or config.out is not None:
            flag = "--dry-run" if config.dry_run else "--out"
            raise UsageError(f"--resume continues a live run in place; it cannot take {flag}")
        resumed = resume.load(
            config.resume, identity=config.identity(), retry_errors=config.retry_errors
        )
        target = resumed.target
    else:
        target = artifacts.target_path(config.artifacts_dir, started, config.out)
    baseline_path = _baseline_path(config)
    pipeline, client = (None, None) if config.dry_run else _pipeline(config)  # exit 2 comes first
    state = _Run(config, started, target, pipeline, progress or Quiet())
    state.model_client = client
    state.baseline_path = baseline_path
    if resumed is not None:
        state.adopt(resumed)
    try:
        artifacts.ensure_writable(target.parent)
    except BlockedError as exc:
        return Outcome(exit_code=3, message=exc.message, preflight=[preflight.failed(exc)])
    state.preflight.append(preflight.passed("artifact_dir", f"{target.parent} is writable"))
    try:
        async with connect(config.database) as conn:
            state.preflight.append(
                preflight.passed("database", f"connected to {config.database.target} read-only")
            )
            return await state.execute(conn)
    except BlockedError as exc:
        state.preflight.append(preflight.failed(exc))
        return await state.finish("blocked", 3, exc.message)
    finally:
        if state.log is not None:
            state.log.close()  # after a crash the partial file stays, for --resume
        if pipeline is not None:
            with anyio.CancelScope(shield=True):
                await pipeline.aclose()


class _Run:
    """One run's state: its identity, preflight, partial log and running totals."""

    def __init__(
        self,
        config: RunConfig,
        started: datetime,
        target: Path,
        pipeline: Pipeline | None,
        progress: Progress,
    ) -> None:
        self.config = config
        self.started = started
        self.target = target
        self.pipeline = pipeline
        self.progress = progress
        self.run_id = f"{artifacts.stamp(started)}-{uuid.uuid4().hex[:6]}"
        self.preflight: list[PreflightEntry] = []
        self.selection: Selection | None = None
        self.tally = Tally()
        self.log: artifacts.CaseLog | None = None
        self.sql: list[str] = []
        self.invalid: list[str] = []
        self.skipped: list[SkippedCase] = []
        self.model_client: openai.AsyncOpenAI | None = None
        self.created = started
        self.parts: list[RunPart] = []
        self.resumed: resume.Resumed | None = None
        self.finished_here = 0
        self.gate_input = gate.GateInput()
        self.gate: Gate | None = None
        self.baseline_path: Path | None = None

    def adopt(self, resumed: resume.Resumed) -> None:
        """Continue an earlier run: its id, its start, its parts and its finished cases."""
        self.resumed = resumed
        self.run_id = resumed.run_id
        self.created = resumed.created_at
        self.parts = list(resumed.parts)
        for result in resumed.results:
            self._count(result)

    @property
    def mode(self) -> str:
        return "dry" if self.config.dry_run else "live"

    async def execute(self, conn: asyncpg.Connection) -> Outcome:
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
        if self.model_client is not None:
            message = await preflight.model_endpoint(
                self.model_client,
                config.request.model,
                config.live.endpoint.target,
                config.live.request_timeout_s,
            )
            self.preflight.append(preflight.passed("model", message))
        if self.resumed is None:
            plan = await source.plan(conn, shapes, config.selection)
            remaining: tuple[str, ...] = plan.case_ids
        else:
            plan = _plan_of(self.resumed.header)
            remaining = tuple(self.resumed.remaining)
        if not plan.case_ids:
            self.selection = self._selection(plan)
            reason = (
                f"client {config.selection.client_id!r} is unknown"
                if known is False
                else "no case matched the selection"
            )
            code = 0 if config.selection.allow_empty else 4
            return await self.finish("empty", code, None if code == 0 else reason)
        header = self._header(plan)
        if self.resumed is None:
            partial = self.target.with_name(self.target.stem + ".partial.jsonl")
            self.log = await anyio.to_thread.run_sync(artifacts.CaseLog, partial, header)
        else:
            resumed = self.resumed
            self.log = await anyio.to_thread.run_sync(
                lambda: artifacts.CaseLog(
                    resumed.partial, header, resumed.kept, replace=resumed.replace_partial
                )
            )
        cases = source.load(conn, shapes, config.selection, remaining)
        if self.pipeline is None:
            await self._dry(cases)
            self.selection = self._selection(plan)
            return await self.finish("complete", 0, None)
        runner = await self._live(self.pipeline, cases, total=len(plan.case_ids))
        self.selection = self._selection(plan)
        thresholds = config.gate
        self.gate = gate.evaluate(
            self.gate_input,
            max_error_rate=thresholds.max_error_rate,
            max_invalid_rate=thresholds.max_invalid_rate,
            enforced=thresholds.enforced,
        )
        if runner.interrupted:
            return await self.finish(
                "interrupted", 130, "interrupted; the artifact has every finished case"
            )
        if not self.gate.passed:
            return await self.finish("complete", 1, _gate_message(self.gate, runner.budget))
        return await self.finish("complete", 0, None)

    # --- dry ---

    async def _dry(self, cases: AsyncIterator[list[Case | InvalidCase]]) -> None:
        assert self.log is not None
        async for chunk in cases:
            results = [self._plan_case(item) for item in chunk]
            for result in results:
                self._count(result)
            await anyio.to_thread.run_sync(self.log.append, results)

    def _plan_case(self, item: Case | InvalidCase) -> CaseResult:
        if isinstance(item, InvalidCase):
            return _invalid(item)
        summary = _input_summary(item)
        try:
            planned = openai_pipeline.plan_request(item.input, self.config.request)
        except openai_pipeline.NoRecording:
            return _skipped(item, 0, "no_recorded_request", summary)
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

    # --- live ---

    async def _live(
        self, pipeline: Pipeline, cases: AsyncIterator[list[Case | InvalidCase]], *, total: int
    ) -> Runner:
        assert self.log is not None
        live = self.config.live
        writer = artifacts.Writer(self.log, self._count)
        runner = Runner(
            pipeline=pipeline,
            policy=Policy(
                concurrency=self.config.concurrency,
                retries=live.retries,
                request_timeout_s=live.request_timeout_s,
                case_timeout_s=live.case_timeout_s,
                grace_s=live.grace_s,
            ),
            finish=self._finish,
            skip=lambda case, repeat, reason: _skipped(case, repeat, reason, _input_summary(case)),
            sink=writer,
            estimate=self._estimate if live.max_cost_usd is not None else lambda case: None,
            budget=Budget(live.max_cost_usd),
            progress=self.progress,
        )

        request = self.config.request
        needs_recording = request.pipeline == "openai" and request.request_source == "recorded"

        async def runnable() -> AsyncIterator[tuple[Case, int]]:
            async for chunk in cases:
                for item in chunk:
                    if isinstance(item, InvalidCase):
                        await writer.put(_invalid(item))
                    elif needs_recording and item.input.original_request is None:
                        summary = _input_summary(item)
                        await writer.put(_skipped(item, 0, "no_recorded_request", summary))
                    else:
                        yield item, 0

        self.progress.begin(total)
        async with anyio.create_task_group() as group:
            group.start_soon(writer.run)
            try:
                async with anyio.create_task_group() as watch:
                    watch.start_soon(_stop_on_signal, runner)
                    await runner.run(runnable())
                    watch.cancel_scope.cancel()
            finally:
                writer.close()  # the writer drains what is queued, then returns
        self.progress.end()
        return runner

    def _estimate(self, case: Case) -> float | None:
        try:
            planned = openai_pipeline.plan_request(case.input, self.config.request)
        except openai_pipeline.NoRecording:
            return None
        return pricing.estimate(planned.request, case.original.draft, self.config.prices).cost_usd

    def _finish(self, execution: Execution) -> CaseResult:
        case, outcome = execution.case, execution.outcome
        comparison = None
        found = None
        cost = None
        if outcome is not None:
            original = case.original.draft
            signature = case.input.client_settings.get("signature")
            if original is not None:
                comparison = compare.compare(
                    original,
                    outcome.text,
                    sent_reply=case.original.sent_reply,
                    signature=signature if isinstance(signature, str) else None,
                )
            checks = self._invariants(case.input.client_id)
            found = verdict.changes(
                invariants.check(original, case.input, checks) if original is not None else [],
                invariants.check(outcome.text, case.input, checks),
            )
            if outcome.usage is not None:
                cost = pricing.cost(
                    outcome.model,
                    outcome.usage.prompt_tokens,
                    outcome.usage.completion_tokens,
                    self.config.prices,
                )
        decision = verdict.decide(errored=outcome is None, comparison=comparison, invariants=found)
        return CaseResult(
            case_id=case.input.case_id,
            repeat=execution.repeat,
            verdict=decision.verdict,
            input=_input_summary(case),
            original=case.original,
            outcome=outcome,
            comparison=comparison,
            invariants=found,
            reasons=decision.reasons,
            error=execution.error,
            attempts=list(execution.attempts),
            started_at=execution.started_at,
            finished_at=execution.finished_at,
            latency_ms=execution.latency_ms,
            cost_usd=cost,
        )

    def _invariants(self, client_id: str) -> invariants.InvariantConfig:
        settings = self.config.checks.for_client(client_id)
        return invariants.InvariantConfig(
            sms_max_chars=settings.sms_max_chars,
            linkedin_max_chars=settings.linkedin_max_chars,
            email_max_chars=settings.email_max_chars,
            allowed_domains=tuple(settings.allowed_domains),
            opt_out_phrases=tuple(settings.opt_out_phrases),
            disabled=frozenset(settings.disabled),
        )

    # --- bookkeeping ---

    def _count(self, result: CaseResult) -> None:
        self.tally.add(result)
        self.gate_input.add(result)
        self.finished_here += 1
        if result.verdict == "invalid_case":
            self.invalid.append(result.case_id)
        elif result.verdict == "skipped":
            self.skipped.append(
                SkippedCase(case_id=result.case_id, reason=result.skipped_reason or "skipped")
            )

    def _selection(self, plan: source.Plan) -> Selection:
        selection = self.config.selection
        return Selection(
            client_id=selection.client_id,
            requested=selection.limit,
            found=len(plan.case_ids),
            more_available=plan.more_available,
            filters=dict(plan.filters),
            not_found=list(plan.not_found),
            invalid=self.invalid,
            skipped=self.skipped,
            case_ids=list(plan.case_ids),
        )

    def _baseline(self, head: dict[str, Any], summary: Summary) -> BaselineReport:
        """This run (read back from its partial log) against the baseline artifact."""
        assert self.baseline_path is not None and self.log is not None
        old = baseline.load(self.baseline_path, "--baseline")
        new = {
            **orjson.loads(artifacts.dumps(head)),
            "summary": summary.model_dump(mode="json"),
            "cases": [orjson.loads(line) for line in self.log.cases()],
        }
        return baseline.compare(
            old, new, old_path=str(self.baseline_path), new_path=str(self.target)
        )

    def _header(self, plan: source.Plan) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "created_at": self.created.isoformat(),
            "mode": self.mode,
            "identity": self.config.identity(),
            "config_hash": self.config.identity_hash(),
            "config": self.config.redacted(),
            "selection": {
                "not_found": list(plan.not_found),
                "more_available": plan.more_available,
                "filters": dict(plan.filters),
            },
            "case_ids": list(plan.case_ids),
            "parts": [part.model_dump(mode="json") for part in self.parts],
        }

    async def finish(self, status: RunStatus, exit_code: int, message: str | None) -> Outcome:
        finished = datetime.now(UTC)
        before = len(self.resumed.results) if self.resumed else 0
        parts = [
            *self.parts,
            RunPart(
                started_at=self.started, finished_at=finished, cases=self.finished_here - before
            ),
        ]
        duration = sum(
            (part.finished_at - part.started_at).total_seconds()
            for part in parts
            if part.finished_at is not None
        )
        summary = self.tally.summary(duration_s=duration)
        head = {
            "schema_version": SCHEMA_VERSION,
            "kind": "run",
            "run_id": self.run_id,
            "parent_run_id": None,
            "created_at": self.created,
            "finished_at": finished,
            "tool_version": __version__,
            "git_sha": await _git_sha(),
            "mode": self.mode,
            "status": status,
            "exit_code": exit_code,
            "config_hash": self.config.identity_hash(),
            "identity": self.config.identity(),
            "parts": [part.model_dump(mode="json") for part in parts],
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
        report = None
        if self.baseline_path is not None and self.log is not None and status == "complete":
            report = await anyio.to_thread.run_sync(self._baseline, head, summary)
        tail = {
            "summary": summary.model_dump(mode="json"),
            "gate": self.gate.model_dump(mode="json") if self.gate else None,
            "baseline": report.model_dump(mode="json") if report else None,
        }
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
            gate=self.gate,
            run_id=self.run_id,
            mode=self.mode,
            baseline=report,
        )


async def _stop_on_signal(runner: Runner) -> None:
    """SIGINT or SIGTERM: stop starting cases; a second one cancels those in flight."""
    if threading.current_thread() is not threading.main_thread():
        return  # signals reach only the main thread (an embedding caller handles them)
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            runner.stop()


def _baseline_path(config: RunConfig) -> Path | None:
    """Resolve --baseline: a path that must be a run artifact, or the latest comparable run.

    Raises:
        UsageError: the path is not a readable run artifact, or `latest` finds none.
    """
    if config.baseline is None:
        return None
    if config.baseline == "latest":
        found = baseline.latest(
            config.artifacts_dir, config.selection.client_id, config.request.pipeline, None
        )
        if found is None:
            raise UsageError(
                f"--baseline latest: no complete live run of client {config.selection.client_id!r}"
                f" with pipeline {config.request.pipeline!r} in {str(config.artifacts_dir)!r}"
            )
        return found
    path = Path(config.baseline)
    baseline.load(path, "--baseline")
    return path


def compare_runs(old: Path, new: Path, config: CompareConfig) -> tuple[CompareArtifact, Path]:
    """`replay compare OLD NEW`: pair the cases, gate, write a compare artifact."""
    before = baseline.load(old, "OLD")
    after = baseline.load(new, "NEW")
    report = baseline.compare(before, after, old_path=str(old), new_path=str(new))
    paired = {c["case_id"] for c in after.get("cases", [])} - set(report.only_in_run)
    data = gate.GateInput()
    for case in after.get("cases", []):
        if case["case_id"] in paired and case.get("repeat", 0) == 0:
            data.add(CaseResult.model_validate(case))
    regressions = {c.case_id for c in report.changes if c.kind == "regression"}
    data.regressed = [case_id for case_id in data.regressed if case_id in regressions]
    result = gate.evaluate(
        data,
        max_error_rate=config.gate.max_error_rate,
        max_invalid_rate=config.gate.max_invalid_rate,
        enforced=config.gate.enforced,
    )
    created = datetime.now(UTC)
    target = artifacts.target_path(config.artifacts_dir, created, config.out)
    if config.out is None:
        target = target.with_name(target.name.replace("run-", "compare-", 1))
    artifact = CompareArtifact(
        run_id=f"{artifacts.stamp(created)}-{uuid.uuid4().hex[:6]}",
        created_at=created,
        tool_version=__version__,
        exit_code=0 if result.passed else 1,
        report=report,
        gate=result,
    )
    artifacts.write(target, artifact.model_dump(mode="json"))
    return artifact, target


def _gate_message(result: Gate, budget: Budget) -> str:
    """One line naming every failed rule with its value and threshold."""
    parts = []
    for rule in result.rules:
        if rule.passed:
            continue
        if rule.rule == "regressions":
            shown = ", ".join(rule.cases[:3]) + (", …" if len(rule.cases) > 3 else "")
            parts.append(f"{len(rule.cases)} regressed ({shown})")
        elif rule.rule == "budget":
            parts.append(
                f"--max-cost {budget.limit_usd:g} reached (spent ${budget.spent_usd:.4f}); "
                f"{len(rule.cases)} skipped"
            )
        else:
            parts.append(f"{rule.rule} {rule.value:g} > {rule.threshold:g}")
    return "gate failed: " + "; ".join(parts)


def _plan_of(header: dict[str, Any]) -> source.Plan:
    """The selection an earlier part fixed, from its header."""
    selection = header.get("selection") or {}
    return source.Plan(
        case_ids=tuple(header["case_ids"]),
        not_found=tuple(selection.get("not_found", ())),
        more_available=bool(selection.get("more_available", False)),
        filters=selection.get("filters", {}),
    )


def _invalid(item: InvalidCase) -> CaseResult:
    decision = verdict.decide(invalid=True)
    return CaseResult(
        case_id=item.case_id,
        verdict=decision.verdict,
        input=InputSummary(),
        invalid=item,
        reasons=[f"{item.column} {item.reason}"],
    )


def _skipped(case: Case, repeat: int, reason: str, summary: InputSummary) -> CaseResult:
    return CaseResult(
        case_id=case.input.case_id,
        repeat=repeat,
        verdict=verdict.decide(skipped=True).verdict,
        input=summary,
        original=case.original,
        skipped_reason=reason,
        reasons=[f"skipped: {reason}"],
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
    sha = result.stdout.decode().strip()
    return sha if result.returncode == 0 and sha else None


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
