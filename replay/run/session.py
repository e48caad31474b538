"""One run's state and its flow: the stages in order, and the cases stage that streams.

`app.run` opens the clients and hands a connection to `Session.execute`, which runs preflight,
plan, cases, gate and write. The run-level stages are pure steps in `stages.py`; the cases
stage is here because every finished case updates what the run remembers (partial log, totals,
gate input): each case goes through execute (the runner), judge and verdict as soon as it is
ready, and is written to the partial log at once.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import asyncpg
import orjson

from replay import __version__
from replay.artifacts import store
from replay.artifacts.load import load_run
from replay.config.models import RunConfig
from replay.errors import BlockedError, ExitCode, ReplayError
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
)
from replay.run import control, results, resume, runners, shards, stages
from replay.run import judge as judging
from replay.run.batch import BatchRunner
from replay.run.finished import Finished, git_sha
from replay.run.pipelines.base import Pipeline
from replay.run.pipelines.openai import OpenAIPipeline
from replay.run.runner import Budget, Execution, Progress, Runner
from replay.run.tally import Tally
from replay.source import selection as case_selection
from replay.verdict import gate, language, noise, pairing, stats

if TYPE_CHECKING:
    import openai


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
        control: Pipeline | None = None,
    ) -> None:
        self.config = config
        self.started = started
        self.target = target
        self.pipeline = pipeline
        self.control = control
        """The control arm's pipeline (`--control`), run beside the candidate on each case."""
        self.progress = progress
        self.run_id = f"{store.stamp(started)}-{uuid.uuid4().hex[:6]}"
        self.preflight: list[PreflightEntry] = []
        self.selection: Selection | None = None
        self.plan: shards.Fixed | None = None
        """The fixed selection, once planned: an artifact written after it always names it."""
        self.tally = Tally(min_paired=config.gate.min_paired)
        self.log: store.CaseLog | None = None
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
        # A dry run plans each case once, whatever --repeats says: nothing to group.
        repeated = config.repeats > 1 and not config.dry_run
        self.repeats = noise.Repeats(config.repeats) if repeated else None
        self.runner: Runner | BatchRunner | None = None
        """The live runner while it runs: what a signal should stop."""
        self.batched: BatchRunner | None = None
        """The `--via batch` runner: its submissions are recorded in this part's `RunPart`."""

    def adopt(self, resumed: resume.Resumed) -> None:
        """Continue an earlier run: its id, its start, its parts and its finished cases."""
        self.resumed = resumed
        self.run_id = resumed.run_id
        self.created = resumed.created_at
        self.parts = list(resumed.parts)
        for result in resumed.results:
            self._count(result)

    @property
    def _spent_before(self) -> float:
        """What earlier parts of this run paid: `--max-cost` binds the total."""
        return self.resumed.spent_usd if self.resumed is not None else 0.0

    @property
    def mode(self) -> str:
        """`dry` or `live`."""
        return "dry" if self.config.dry_run else "live"

    async def execute(self, conn: asyncpg.Connection) -> Finished:
        """Run the stages in order: preflight, plan, cases, gate, and write the artifact."""
        config = self.config
        checked = await stages.preflight(
            conn, config, model_client=self.model_client, judge=self.judge
        )
        self.preflight.extend(checked.entries)
        self.sql.extend(checked.sql)
        planned = await stages.plan(
            conn, checked, config, resumed=self.resumed, started=self.started
        )
        plan = self.plan = planned.plan
        if not plan.case_ids:  # nothing selected, or a shard the hash left empty
            code, message = stages.empty(config, plan, checked.client_known)
            return await self.finish("empty", code, message)
        self.log = await self._open_log(plan)
        cases = case_selection.load(conn, checked.shapes, config.selection, planned.remaining)
        if self.pipeline is None:
            await self._dry(cases)
            # A dry run is the live run's preflight: too few cases it could compare fails here.
            self.gate = stages.decide(self.gate_input, config, None)
            if not self.gate.passed:
                message = stages.gate_message(self.gate, Budget(None))
                return await self.finish("complete", ExitCode.GATE_FAILED, message)
            return await self.finish("complete", ExitCode.OK, None)
        runner = await self._live(self.pipeline, cases, total=len(plan.case_ids) * config.repeats)
        self.selection = self._selection(plan)  # the baseline comparison reads it before `finish`
        if self.repeats is not None:
            for decided, _ in self.repeats.rest():
                self.gate_input.add(decided)
        if self.baseline_path is not None and not runner.interrupted:
            self.report = await anyio.to_thread.run_sync(self._baseline)
        self.gate = stages.decide(self.gate_input, config, self.report)
        if runner.interrupted:
            return await self.finish(
                "interrupted",
                ExitCode.INTERRUPTED,
                "interrupted; the artifact has every finished case",
            )
        if not self.gate.passed:
            message = stages.gate_message(self.gate, runner.budget)
            return await self.finish("complete", ExitCode.GATE_FAILED, message)
        return await self.finish("complete", ExitCode.OK, None)

    async def _open_log(self, plan: shards.Fixed) -> store.CaseLog:
        """Start the partial log, or rewrite a resumed one with the cases it keeps."""
        header = self._header(plan)
        resumed = self.resumed
        if resumed is None:
            partial = self.target.with_name(self.target.stem + ".partial.jsonl")
            return await anyio.to_thread.run_sync(store.CaseLog, partial, header)
        return await anyio.to_thread.run_sync(
            lambda: store.CaseLog(
                resumed.partial,
                header,
                [*resumed.kept, *resumed.batch_lines],
                replace=resumed.replace_partial,
            )
        )

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
    ) -> Runner | BatchRunner:
        assert self.log is not None
        live = self.config.live
        writer = store.Writer(self.log, self._count)
        runner: Runner | BatchRunner
        spent = self._spent_before
        if live.batch is not None:
            assert isinstance(pipeline, OpenAIPipeline) and self.model_client is not None
            batches = self.resumed.batches if self.resumed is not None else ()
            runner, self.judge = runners.batch_runner(
                self.config, pipeline, self.model_client, writer, self.log, self._finished,
                self.progress, run_id=self.run_id, attached=batches, spent_usd=spent,
                judge=self.judge, control=self.control,
            )  # fmt: skip
            self.batched = runner
        else:
            runner = runners.runner(
                self.config, pipeline, writer, self._finished, self.progress,
                control=self.control, spent_usd=spent,
            )  # fmt: skip
        done = self.resumed.done if self.resumed is not None else frozenset()

        request = self.config.request
        needs_recording = request.pipeline == "openai" and request.request_source == "recorded"

        lost: list[BlockedError] = []

        async def runnable() -> AsyncIterator[tuple[Case, int]]:
            try:
                async for chunk in cases:
                    for item in _runnable(chunk):
                        yield item
            except BlockedError as exc:
                # The source went away between chunks: start nothing more, but let the cases
                # in flight finish and be recorded; they are paid for.
                lost.append(exc)

        def _runnable(chunk: list[Case | InvalidCase]) -> list[tuple[Case, int]]:
            ready: list[tuple[Case, int]] = []
            for item in chunk:
                if isinstance(item, InvalidCase):
                    self._settled(writer, results.invalid(item))
                elif needs_recording and item.input.original_request is None:
                    self._settled(writer, results.skipped(item, 0, "no_recorded_request"))
                else:
                    repeats = range(self.config.repeats)
                    ready.extend((item, r) for r in repeats if (item.input.case_id, r) not in done)
            return ready

        # Every draft is checked: the language detector's models load in a worker, not on the
        # event loop under the first cases in flight.
        await anyio.to_thread.run_sync(language.warm)
        self.progress.begin(total, done=len(self.resumed.results) if self.resumed else 0)
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
        if lost:
            raise lost[0]
        return runner

    def _settled(self, writer: store.Writer, result: CaseResult) -> None:
        """A case decided without the pipeline (invalid, no recording): written and counted."""
        writer.put_nowait(result)
        self.progress.finished(result)

    async def _finished(self, execution: Execution) -> CaseResult:
        """A case's result, judged first when a judge is on and there are two drafts."""
        judgement = None
        case, outcome = execution.case, execution.outcome
        # Beside a control arm the candidate is judged against the control's draft.
        before = control.reference_draft(execution)
        if self.judge is not None and outcome is not None and before is not None:
            judgement = await self.judge.judge(
                case.input.case_id, judging.context_of(case.input), before, outcome.text
            )
        if execution.control is not None:
            return control.finished(execution, self.config, judgement)
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

    def _selection(self, plan: shards.Fixed) -> Selection:
        return stages.selection_of(self.config, plan, self.invalid, self.skipped)

    def _baseline(self) -> BaselineReport:
        """This run (read back from its partial log) against the baseline artifact."""
        assert self.baseline_path is not None and self.log is not None
        old = load_run(self.baseline_path, role="--baseline")
        new = pairing.Unfinished(
            run_id=self.run_id,
            config=self.config.redacted(),
            config_hash=self.config.identity_hash(),
            selection=self.selection,
            summary=self.tally.summary(live=not self.config.dry_run),
            cases=[CaseResult.model_validate_json(line) for line in self.log.cases()],
        )
        report = pairing.compare(
            old, new, old_path=str(self.baseline_path), new_path=str(self.target)
        )
        paired = stats.paired(old.cases, new.cases, minimum=self.config.gate.min_paired)
        return report.model_copy(update={"stats": paired})

    def _header(self, plan: shards.Fixed) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "created_at": self.created.isoformat(),
            "mode": self.mode,
            "identity": self.config.identity(),
            "config_hash": self.config.identity_hash(),
            "config": self.config.redacted(),
            "selection": shards.header_part(plan),
            "case_ids": list(plan.case_ids),
            "parts": [part.model_dump(mode="json") for part in self.parts],
        }

    async def finish(self, status: RunStatus, exit_code: ExitCode, message: str | None) -> Finished:
        """Write the artifact atomically from the partial log and say how the run ended."""
        if self.plan is not None:
            self.selection = self._selection(self.plan)  # every case counted so far, even now
        finished = datetime.now(UTC)
        before = len(self.resumed.results) if self.resumed else 0
        parts = [
            *self.parts,
            RunPart(
                started_at=self.started,
                finished_at=finished,
                cases=self.finished_here - before,
                duplicates_dropped=self.resumed.duplicates_dropped if self.resumed else 0,
                foreign_dropped=self.resumed.foreign_dropped if self.resumed else 0,
                batches=self.batched.batches if self.batched is not None else [],
            ),
        ]
        duration = sum(
            (part.finished_at - part.started_at).total_seconds()
            for part in parts
            if part.finished_at is not None
        )
        summary = self.tally.summary(duration_s=duration, live=not self.config.dry_run)
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
            "git_sha": await git_sha(),
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
            keep = status == "blocked" and self.finished_here > 0  # paid work: resumable
            await anyio.to_thread.run_sync(
                lambda: store.finish(self.target, head, self.log, tail, keep_partial=keep)
            )
        return Finished(
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
            record=orjson.loads(store.dumps({**head, **tail})),
        )


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
