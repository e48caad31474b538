"""`--via batch`: a live run's requests through the provider's Batch API, at batch prices.

The runner gathers every (case, repeat) of the run and asks the response cache first. Each
request it cannot answer goes to a `BatchQueue` as one line, `custom_id` = `CASE_ID#REPEAT`;
the queue submits them together (several batches within the provider's limits), records each
submission in the partial log at once, and polls. Each answer then goes through the same judge
and verdict as a live case and is written at once. A line answered with a retryable error
(429, 5xx) is asked again, in a later batch, while `--retries` allows. Lines a batch never
answered (it expired, failed or was cancelled) are not recorded: the run stops blocked, and
`--resume`, which re-attaches to every earlier submission, submits exactly those again.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import anyio

from replay.errors import AttemptFailed
from replay.models import Attempt, BatchRef, Case, CaseError, CaseResult, Outcome
from replay.run.answers import admitted
from replay.run.batchqueue import FINAL, BatchBlocked, BatchQueue, Unanswered, refused
from replay.run.endpoint import failed_attempt, status_failure
from replay.run.pipelines.openai import OpenAIPipeline, Prepared
from replay.run.runner import Budget, Execution, Policy, Progress, Quiet, Sink

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["BatchBlocked", "BatchRunner", "custom_id", "look"]


CONTROL_ID = "control:"
"""How the custom id of a control arm's request starts (then the candidate's id)."""


def custom_id(case_id: str, repeat: int) -> str:
    """A draft request's line id in a batch: the case id and the repeat."""
    return f"{case_id}#{repeat}"


@dataclass
class BatchRunner:
    """Runs a live run through the Batch API; the session sees it as it sees `Runner`."""

    pipeline: OpenAIPipeline
    queue: BatchQueue
    policy: Policy
    finish: Callable[[Execution], Awaitable[CaseResult]]
    skip: Callable[[Case, int, str], CaseResult]
    sink: Sink
    control: OpenAIPipeline | None = None
    """The control arm (`--control`): its request goes into the same batch as the candidate's."""
    also: Sequence[BatchQueue] = ()
    """Other queues the run's cases wait on (the judge's, with `--judge-via batch`)."""
    estimate: Callable[[Case], float | None] = lambda case: None
    budget: Budget = field(default_factory=lambda: Budget(None))
    progress: Progress = field(default_factory=Quiet)
    interrupted: bool = False
    unanswered: list[str] = field(default_factory=list)
    """`CASE_ID#REPEAT` of cases whose batch (the draft's or the judge's) never answered."""
    _scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)

    @property
    def batches(self) -> list[BatchRef]:
        """Every submission of the run's queues, at its last known state."""
        return [ref for queue in (self.queue, *self.also) for ref in queue.batches]

    async def run(self, cases: AsyncIterable[tuple[Case, int]]) -> None:
        """Answer every (case, repeat) not answered yet; return when each has its result."""
        with self._scope:
            async with anyio.create_task_group() as queues:
                for queue in (self.queue, *self.also):
                    queues.start_soon(queue.run)
                async with anyio.create_task_group() as lines:
                    async for case, repeat in cases:
                        lines.start_soon(self._case, case, repeat)
                queues.cancel_scope.cancel()  # nobody waits on a queue any more
        if self.unanswered and not self.interrupted:
            ended = {ref.status for ref in self.batches if ref.status in FINAL} - {"completed"}
            how = "/".join(sorted(ended)) or "ended"
            raise BatchBlocked(
                f"{len(self.unanswered)} case(s) were not answered: their batch {how}; "
                "--resume submits exactly those again",
                code="batch_unanswered",
            )

    def stop(self) -> None:
        """Stop waiting; submitted batches go on at the provider, and `--resume` re-attaches."""
        self.interrupted = True
        self._scope.cancel()

    async def _case(self, case: Case, repeat: int) -> None:
        estimate = self.estimate(case)
        if self.budget.limit_usd is not None and estimate is None:
            await self._put(self.skip(case, repeat, "unpriced_model"))
            return
        if not self.budget.admit(estimate):
            await self._put(self.skip(case, repeat, "budget"))
            return
        key = custom_id(case.input.case_id, repeat)
        self.progress.started()
        try:
            if self.control is None:
                execution = await self._execute(case, repeat, self.pipeline, key)
            else:
                # Both arms' requests go into the same batch, so drift cancels out as live.
                arms: dict[str, Execution] = {}

                async def draft(name: str, pipeline: OpenAIPipeline, line: str) -> None:
                    arms[name] = await self._execute(case, repeat, pipeline, line)

                async with anyio.create_task_group() as both:
                    both.start_soon(draft, "control", self.control, CONTROL_ID + key)
                    both.start_soon(draft, "new", self.pipeline, key)
                execution = replace(arms["new"], control=arms["control"])
            result: CaseResult | None = await self.finish(execution)  # a judge batch may raise
        except* Unanswered:  # the draft's batch, or the judge's (raised from a task group)
            result = None
        if result is None:
            self.budget.settle(estimate, None)
            self.unanswered.append(key)
            return
        spent = result.cost_usd
        if spent is None and result.outcome is not None:
            spent = estimate
        self.budget.settle(estimate, spent)
        await self._put(result)

    async def _execute(
        self, case: Case, repeat: int, pipeline: OpenAIPipeline, key: str
    ) -> Execution:
        """One arm's draft of a case: from the response cache, else through the queue."""
        started = datetime.now(UTC)
        attempts: list[Attempt] = []
        outcome: Outcome | None = None
        error: CaseError | None = None
        try:
            prepared = await pipeline.prepare(case.input)
        except AttemptFailed as failure:
            attempts.append(failed_attempt(1, 0.0, failure, None))
            error = _error(failure, 1)
        else:
            if isinstance(prepared, Outcome):  # the response cache answered it
                attempts.append(Attempt(number=1, duration_ms=0.0))
                outcome = prepared
            else:
                outcome, error = await self._answer(key, pipeline, prepared, attempts)
        return Execution(
            case=case,
            repeat=repeat,
            outcome=outcome,
            error=error,
            attempts=tuple(attempts),
            started_at=started,
            finished_at=datetime.now(UTC),
            latency_ms=None,  # a batch answers within hours: no latency of the model's
        )

    async def _answer(
        self, key: str, pipeline: OpenAIPipeline, prepared: Prepared, attempts: list[Attempt]
    ) -> tuple[Outcome | None, CaseError | None]:
        """Ask until answered, or until a failure is final; each ask is one attempt."""
        for number in range(1, self.policy.retries + 2):
            began = datetime.now(UTC)
            response = await self.queue.ask(key, prepared.body)
            duration = (datetime.now(UTC) - began).total_seconds() * 1000
            status = response.get("status_code")
            try:
                if status != 200:
                    raise status_failure(status if isinstance(status, int) else 500, None)
                outcome = await pipeline.answered(prepared, response.get("body"))
                outcome = admitted(
                    outcome, max_chars=self.policy.max_answer_chars, error_class="model_error"
                )
            except AttemptFailed as failure:
                again = failure.retryable and number <= self.policy.retries
                attempts.append(failed_attempt(number, duration, failure, 0.0 if again else None))
                if not again:
                    return None, _error(failure, number)
                self.progress.retried()
                continue
            attempts.append(Attempt(number=number, duration_ms=round(duration, 3)))
            return outcome, None
        raise AssertionError("unreachable: the last attempt returns")

    async def _put(self, result: CaseResult) -> None:
        await self.sink.put(result)
        self.progress.finished(result)


async def look(client: AsyncOpenAI, refs: Sequence[BatchRef]) -> list[BatchRef]:
    """Each submitted batch as the provider sees it now (`replay batch-status`).

    Raises:
        BatchBlocked: the provider does not answer about one of them.
    """
    seen: list[BatchRef] = []
    for ref in refs:
        if ref.id is None:
            seen.append(ref)
            continue
        try:
            batch = await client.batches.retrieve(ref.id)
        except Exception as exc:  # noqa: BLE001 - classified; never str(exc)
            raise refused(exc, f"asking about batch {ref.id}") from None
        counts = getattr(batch, "request_counts", None)
        seen.append(
            ref.model_copy(
                update={
                    "status": batch.status,
                    "completed": getattr(counts, "completed", None),
                    "failed": getattr(counts, "failed", None),
                }
            )
        )
    return seen


def _error(failure: AttemptFailed, attempts: int) -> CaseError:
    suffix = f" after {attempts} attempts" if attempts > 1 else ""
    return CaseError(
        error_class=failure.error_class, message=failure.message + suffix, status=failure.status
    )
