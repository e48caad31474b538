"""The runner: every case through the pipeline, concurrency bounded in one place, nothing lost.

N workers read cases from one unbuffered stream, so at most N cases are in flight. Each case gets
a deadline (`--case-timeout`) across its attempts, each attempt its own (`--request-timeout`);
only retryable failures are retried, with exponential backoff and full jitter, honouring the
server's Retry-After up to a cap. A finished case goes to the sink at once. `stop()` (Ctrl-C)
stops feeding new cases, gives the ones in flight a grace period, then cancels them: a cancelled
case is not recorded, so a resume replays it.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterable, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from replay.config.defaults import MAX_ANSWER_CHARS
from replay.errors import AttemptFailed
from replay.models import Attempt, Case, CaseError, CaseResult, Outcome
from replay.run.answers import admitted
from replay.run.endpoint import backoff_s, failed_attempt
from replay.run.pipelines.base import Pipeline


@dataclass(frozen=True)
class Policy:
    """How hard to try, and for how long."""

    concurrency: int
    retries: int
    """Attempts after the first; 0 means none."""
    request_timeout_s: float
    case_timeout_s: float
    retry_after_cap_s: float = 60.0
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    grace_s: float = 10.0
    max_answer_chars: int = MAX_ANSWER_CHARS
    """The longest draft kept; a longer answer is an error naming its size."""


@dataclass(frozen=True)
class Execution:
    """What happened to one case: a draft or an error, and every attempt."""

    case: Case
    repeat: int
    outcome: Outcome | None
    error: CaseError | None
    attempts: tuple[Attempt, ...]
    started_at: datetime
    finished_at: datetime
    latency_ms: float | None
    control: Execution | None = None
    """With a control arm: the control pipeline's execution of the same case and repeat."""


class Sink(Protocol):
    """Receives each finished case the moment it finishes."""

    async def put(self, result: CaseResult) -> None:
        """Record one result."""
        ...


class Progress(Protocol):
    """Told about cases as they start, retry and finish (a bar, log lines, or nothing)."""

    def begin(self, total: int, done: int = 0) -> None:
        """The run will take `total` cases, `done` of them finished by earlier parts."""

    def end(self) -> None:
        """No more cases."""

    def started(self) -> None:
        """A case started."""

    def retried(self) -> None:
        """An attempt failed and will be retried."""

    def finished(self, result: CaseResult) -> None:
        """A case finished."""


class Quiet:
    """Progress that shows nothing."""

    def begin(self, total: int, done: int = 0) -> None:
        """Nothing to show."""

    def end(self) -> None:
        """Nothing to show."""

    def started(self) -> None:
        """Nothing to show."""

    def retried(self) -> None:
        """Nothing to show."""

    def finished(self, result: CaseResult) -> None:
        """Nothing to show."""


@dataclass
class Budget:
    """`--max-cost`: admit a case only while spend plus what is in flight stays under the limit."""

    limit_usd: float | None
    spent_usd: float = 0.0
    reserved_usd: float = 0.0
    exhausted: bool = False

    def admit(self, estimate_usd: float | None) -> bool:
        """Reserve the case's estimate, or refuse when it would pass the limit."""
        if self.limit_usd is None:
            return True
        cost = estimate_usd or 0.0
        if self.exhausted or self.spent_usd + self.reserved_usd + cost > self.limit_usd:
            self.exhausted = True
            return False
        self.reserved_usd += cost
        return True

    def settle(self, estimate_usd: float | None, actual_usd: float | None) -> None:
        """Replace a case's reservation by what it really cost."""
        if self.limit_usd is None:
            return
        self.reserved_usd -= estimate_usd or 0.0
        self.spent_usd += actual_usd or 0.0


@dataclass
class Runner:
    """Runs cases with bounded concurrency; see the module docstring."""

    pipeline: Pipeline
    policy: Policy
    finish: Callable[[Execution], Awaitable[CaseResult]]
    """Turns an execution into a result (judge, comparison, verdict, cost): the app's business."""
    skip: Callable[[Case, int, str], CaseResult]
    """Builds the result of a case that was not run, with its reason."""
    sink: Sink
    estimate: Callable[[Case], float | None] = lambda case: None
    """A case's estimated cost, both arms included when there is a control arm."""
    control: Pipeline | None = None
    """The control arm: run on the same case just before the candidate, in the same slot, so
    `--concurrency` still bounds the requests in flight."""
    budget: Budget = field(default_factory=lambda: Budget(None))
    progress: Progress = field(default_factory=Quiet)
    interrupted: bool = False
    _rng: random.Random = field(default_factory=random.Random)
    _group: TaskGroup | None = None
    _feeding: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    _working: anyio.CancelScope = field(default_factory=anyio.CancelScope)

    async def run(self, cases: AsyncIterable[tuple[Case, int]]) -> None:
        """Run every (case, repeat) the iterable yields, until it ends or `stop()` is called."""
        send, receive = anyio.create_memory_object_stream[tuple[Case, int]](0)
        async with anyio.create_task_group() as group:
            self._group = group
            group.start_soon(self._feed, cases, send)
            with self._working:
                async with anyio.create_task_group() as workers, receive:
                    for _ in range(self.policy.concurrency):
                        workers.start_soon(self._work, receive.clone())
            group.cancel_scope.cancel()  # ends a pending grace timer

    def stop(self) -> None:
        """Start no new case; cancel those in flight after the grace period (at once if again)."""
        if self.interrupted:
            self._working.cancel()
            return
        self.interrupted = True
        self._feeding.cancel()
        if self._group is not None:
            self._group.start_soon(self._grace)

    async def _grace(self) -> None:
        await anyio.sleep(self.policy.grace_s)
        self._working.cancel()

    async def _feed(
        self,
        cases: AsyncIterable[tuple[Case, int]],
        send: MemoryObjectSendStream[tuple[Case, int]],
    ) -> None:
        with self._feeding, send:
            async with aclosing(aiter(cases)) as iterator:  # type: ignore[type-var]
                async for item in iterator:
                    await send.send(item)

    async def _work(self, receive: MemoryObjectReceiveStream[tuple[Case, int]]) -> None:
        async with receive:
            async for case, repeat in receive:
                estimate = self.estimate(case)
                if self.budget.limit_usd is not None and estimate is None:
                    # No price, no bound: running it could spend any amount unseen.
                    result = self.skip(case, repeat, "unpriced_model")
                elif not self.budget.admit(estimate):
                    result = self.skip(case, repeat, "budget")
                else:
                    self.progress.started()
                    control = None
                    if self.control is not None:
                        control = await self._attempts(case, repeat, self.control)
                    execution = await self._attempts(case, repeat, self.pipeline)
                    if control is not None:
                        execution = replace(execution, control=control)
                    result = await self.finish(execution)
                    spent = result.cost_usd
                    if spent is None and result.outcome is not None:
                        spent = estimate  # a draft came back but its cost is unknown: assume it
                    self.budget.settle(estimate, spent)
                await self.sink.put(result)
                self.progress.finished(result)

    async def _attempts(self, case: Case, repeat: int, pipeline: Pipeline) -> Execution:
        policy = self.policy
        started = datetime.now(UTC)
        attempts: list[Attempt] = []
        outcome: Outcome | None = None
        error: CaseError | None = None
        latency: float | None = None
        with anyio.move_on_after(policy.case_timeout_s) as deadline:
            admit = getattr(pipeline, "admit", None)
            for number in range(1, policy.retries + 2):
                if admit is not None:
                    await admit(case.input)  # the pacer's wait is no part of the attempt
                began = time.perf_counter()
                try:
                    with anyio.fail_after(policy.request_timeout_s):
                        answer = await pipeline.draft(case.input)
                    outcome = admitted(
                        answer,
                        max_chars=policy.max_answer_chars,
                        error_class=pipeline.malformed,
                    )
                except TimeoutError:
                    failure = AttemptFailed(
                        "model_timeout",
                        f"no answer within --request-timeout {policy.request_timeout_s:g} s",
                        retryable=True,
                    )
                except AttemptFailed as caught:
                    failure = caught
                else:
                    latency = (time.perf_counter() - began) * 1000
                    attempts.append(Attempt(number=number, duration_ms=round(latency, 3)))
                    break
                duration = (time.perf_counter() - began) * 1000
                last = number > policy.retries or not failure.retryable
                backoff = None if last else self._backoff(number, failure.retry_after_s)
                attempts.append(failed_attempt(number, duration, failure, backoff))
                if backoff is None:
                    error = CaseError(
                        error_class=failure.error_class,
                        message=failure.message
                        + (f" after {number} attempts" if number > 1 else ""),
                        status=failure.status,
                    )
                    break
                self.progress.retried()
                await anyio.sleep(backoff)
        if deadline.cancelled_caught:
            outcome = None
            error = CaseError(
                error_class="timeout",
                message=f"the case passed --case-timeout {policy.case_timeout_s:g} s "
                f"after {len(attempts) + 1} attempt(s)",
            )
        return Execution(
            case=case,
            repeat=repeat,
            outcome=outcome,
            error=error,
            attempts=tuple(attempts),
            started_at=started,
            finished_at=datetime.now(UTC),
            latency_ms=None if latency is None else round(latency, 3),
        )

    def _backoff(self, number: int, retry_after_s: float | None) -> float:
        policy = self.policy
        return backoff_s(
            number,
            retry_after_s,
            rng=self._rng,
            base_s=policy.backoff_base_s,
            cap_s=policy.backoff_cap_s,
            retry_after_cap_s=policy.retry_after_cap_s,
        )
