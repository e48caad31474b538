"""One run's state and its flow: selection plan, dry or live cases, gate, baseline, artifact.

`app.run` opens the clients and hands a connection to `Session.execute`; everything a run
remembers while it goes (preflight, partial log, totals, gate input) lives here.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import asyncpg
import orjson

from replay import __version__
from replay.artifacts import store as artifacts
from replay.artifacts.load import load_run
from replay.config.models import RunConfig
from replay.errors import ExitCode, ReplayError
from replay.models import (
    SCHEMA_VERSION,
    BaselineReport,
    Case,
    CaseResult,
    Gate,
    InvalidCase,
    PreflightEntry,
    RunPart,
    RunStatus,
    Selection,
    SkippedCase,
    Summary,
)
from replay.run import judge as judging
from replay.run import results, resume
from replay.run.pipelines.base import Pipeline
from replay.run.runner import Budget, Execution, Policy, Progress, Runner
from replay.run.tally import Tally
from replay.source import preflight
from replay.source import selection as source
from replay.verdict import gate, noise, stats
from replay.verdict import pairing as baseline

if TYPE_CHECKING:
    import openai


@dataclass
class Outcome:
    """What a command did, for the CLI to report."""

    exit_code: ExitCode
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
    record: dict[str, Any] | None = None
    """The artifact without its cases, as JSON data: what the history index reads."""
    report: Path | None = None
    """The HTML report written next to the artifact."""
    warnings: list[str] = field(default_factory=list)
    """Things that went wrong after the run without changing its outcome."""


class Session:
    """One run's state: its identity, preflight, partial log and running totals."""

    def __init__(
        self,
        config: RunConfig,
        started: datetime,
        target: Path,
        pipeline: Pipeline | None,
        progress: Progress,
        *,
        model_client: openai.AsyncOpenAI | None = None,
        baseline_path: Path | None = None,
        judge: judging.Judge | None = None,
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
        self.model_client = model_client
        self.created = started
        self.parts: list[RunPart] = []
        self.resumed: resume.Resumed | None = None
        self.finished_here = 0
        self.gate_input = gate.GateInput()
        self.gate: Gate | None = None
        self.baseline_path = baseline_path
        self.report: BaselineReport | None = None
        """This run against `--baseline`, once the cases are in."""
        self.judge = judge
        self.repeats = noise.Repeats(config.repeats) if config.repeats > 1 else None
        self.runner: Runner | None = None
        """The live runner while it runs: what a signal should stop."""

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
        """`dry` or `live`."""
        return "dry" if self.config.dry_run else "live"

    async def execute(self, conn: asyncpg.Connection) -> Outcome:
        """Check the views and the model, fix the selection, run the cases, finish."""
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
        if self.judge is not None and config.judge is not None:
            message = await preflight.model_endpoint(
                self.judge.client,
                self.judge.model,
                config.judge.endpoint.target,
                config.judge.request_timeout_s,
                check="judge",
            )
            self.preflight.append(preflight.passed("judge", message))
        if self.resumed is None:
            plan = await source.plan(conn, shapes, config.selection)
            remaining: tuple[str, ...] = plan.case_ids
            if config.write_manifest is not None and plan.case_ids:
                await anyio.to_thread.run_sync(
                    artifacts.write,
                    config.write_manifest,
                    manifest_of(config.selection.client_id, plan.case_ids, self.started),
                )
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
            code = ExitCode.OK if config.selection.allow_empty else ExitCode.EMPTY
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
            return await self.finish("complete", ExitCode.OK, None)
        runner = await self._live(self.pipeline, cases, total=len(plan.case_ids) * config.repeats)
        self.selection = self._selection(plan)
        if self.repeats is not None:
            for decided, _ in self.repeats.rest():
                self.gate_input.add(decided)
        if self.baseline_path is not None and not runner.interrupted:
            self.report = await anyio.to_thread.run_sync(self._baseline)
        thresholds = config.gate
        self.gate = gate.evaluate(
            self.gate_input,
            max_error_rate=thresholds.max_error_rate,
            max_invalid_rate=thresholds.max_invalid_rate,
            enforced=thresholds.enforced,
            on_stats=thresholds.on_stats,
            stats=None if self.report is None else self.report.stats,
        )
        if runner.interrupted:
            return await self.finish(
                "interrupted",
                ExitCode.INTERRUPTED,
                "interrupted; the artifact has every finished case",
            )
        if not self.gate.passed:
            return await self.finish(
                "complete", ExitCode.GATE_FAILED, _gate_message(self.gate, runner.budget)
            )
        return await self.finish("complete", ExitCode.OK, None)

    # --- dry ---

    async def _dry(self, cases: AsyncIterator[list[Case | InvalidCase]]) -> None:
        assert self.log is not None
        async for chunk in cases:
            results_ = [results.planned(item, self.config) for item in chunk]
            for result in results_:
                self._count(result)
            await anyio.to_thread.run_sync(self.log.append, results_)

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
            finish=self._finished,
            skip=results.skipped,
            sink=writer,
            estimate=(lambda case: results.estimate(case, self.config))
            if live.max_cost_usd is not None
            else lambda case: None,
            budget=Budget(live.max_cost_usd),
            progress=self.progress,
        )

        done = self.resumed.done if self.resumed is not None else frozenset()
        request = self.config.request
        needs_recording = request.pipeline == "openai" and request.request_source == "recorded"

        async def runnable() -> AsyncIterator[tuple[Case, int]]:
            async for chunk in cases:
                for item in chunk:
                    if isinstance(item, InvalidCase):
                        await writer.put(results.invalid(item))
                    elif needs_recording and item.input.original_request is None:
                        await writer.put(results.skipped(item, 0, "no_recorded_request"))
                    else:
                        for repeat in range(self.config.repeats):
                            if (item.input.case_id, repeat) not in done:
                                yield item, repeat

        self.progress.begin(total)
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(writer.run)
                try:
                    self.runner = runner  # a signal now stops it gracefully (app.run watches)
                    await runner.run(runnable())
                finally:
                    self.runner = None
                    writer.close()  # the writer drains what is queued, then returns
        except BaseExceptionGroup as group:
            raise first_replay_error(group) from None
        finally:
            self.progress.end()
        return runner

    async def _finished(self, execution: Execution) -> CaseResult:
        """A case's result, judged first when a judge is on and there are two drafts."""
        judgement = None
        case, outcome = execution.case, execution.outcome
        if self.judge is not None and outcome is not None and case.original.draft is not None:
            judgement = await self.judge.judge(
                case.input.case_id,
                judging.context_of(case.input),
                case.original.draft,
                outcome.text,
            )
        return results.finished(execution, self.config, judgement)

    # --- bookkeeping ---

    def _count(self, result: CaseResult) -> None:
        self.tally.add(result)
        self._gate_count(result)
        self.finished_here += 1
        if result.verdict == "invalid_case":
            self.invalid.append(result.case_id)
        elif result.verdict == "skipped":
            self.skipped.append(
                SkippedCase(case_id=result.case_id, reason=result.skipped_reason or "skipped")
            )

    def _gate_count(self, result: CaseResult) -> None:
        """The gate counts cases, not repeats: a repeated case once, by its majority verdict."""
        once = result.verdict == "invalid_case" or result.skipped_reason == "no_recorded_request"
        if self.repeats is None or once:
            self.gate_input.add(result)
            return
        closed = self.repeats.add(result)
        if closed is not None:
            self.gate_input.add(closed[0])

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

    def _baseline(self) -> BaselineReport:
        """This run (read back from its partial log) against the baseline artifact."""
        assert self.baseline_path is not None and self.log is not None
        old = load_run(self.baseline_path, role="--baseline")
        new = baseline.Unfinished(
            run_id=self.run_id,
            config=self.config.redacted(),
            config_hash=self.config.identity_hash(),
            selection=self.selection,
            summary=self.tally.summary(),
            cases=[CaseResult.model_validate_json(line) for line in self.log.cases()],
        )
        report = baseline.compare(
            old, new, old_path=str(self.baseline_path), new_path=str(self.target)
        )
        paired = stats.paired(old.cases, new.cases, minimum=self.config.gate.min_paired)
        return report.model_copy(update={"stats": paired})

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

    async def finish(self, status: RunStatus, exit_code: ExitCode, message: str | None) -> Outcome:
        """Write the artifact atomically from the partial log and say how the run ended."""
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
        if self.repeats is not None:
            cases = dict(sorted(self.gate_input.by_verdict.items()))
            summary = summary.model_copy(update={"by_case_verdict": cases})
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
        report = self.report
        tail = {
            "summary": summary.model_dump(mode="json"),
            "gate": self.gate.model_dump(mode="json") if self.gate else None,
            "baseline": report.model_dump(mode="json") if report else None,
            "noise": self.repeats.report().model_dump(mode="json") if self.repeats else None,
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
            record=orjson.loads(artifacts.dumps({**head, **tail})),
        )


def manifest_of(client_id: str, case_ids: tuple[str, ...], created: datetime) -> dict[str, Any]:
    """A manifest that `--manifest` reads back: the selection frozen, in order."""
    return {
        "client_id": client_id,
        "created_at": created.isoformat(),
        "cases": [{"id": case_id} for case_id in case_ids],
    }


def first_replay_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The tool's own error inside a task group's exception group, so it keeps its exit code.

    Anything else (a bug, a cancellation) is returned as the group itself, unchanged.
    """
    mine = group.subgroup(lambda exc: isinstance(exc, ReplayError))
    if mine is None:
        return group
    first: BaseException = mine
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    return first


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


async def _git_sha() -> str | None:
    try:
        result = await anyio.run_process(["git", "rev-parse", "HEAD"], check=False)
    except OSError:
        return None
    sha = result.stdout.decode().strip()
    return sha if result.returncode == 0 and sha else None
