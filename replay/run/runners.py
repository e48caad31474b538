"""The runners of a live run, built from its config: one request per case, or the Batch API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import anyio

from replay.artifacts import store
from replay.config.models import RunConfig
from replay.models import BatchRef, Case, Usage
from replay.run import pricing, results
from replay.run.batch import BatchRunner
from replay.run.batchqueue import BatchQueue
from replay.run.judge import JUDGE_ID, Judge
from replay.run.pipelines.base import Pipeline
from replay.run.pipelines.openai import OpenAIPipeline
from replay.run.runner import Budget, Execution, Policy, Progress, Runner

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from replay.models import CaseResult

Finish = Callable[[Execution], Awaitable["CaseResult"]]


def policy(config: RunConfig) -> Policy:
    """How hard a run tries each case, and for how long."""
    live = config.live
    return Policy(
        concurrency=config.concurrency,
        retries=live.retries,
        request_timeout_s=live.request_timeout_s,
        case_timeout_s=live.case_timeout_s,
        grace_s=live.grace_s,
        max_answer_chars=live.max_answer_chars,
    )


def estimate(config: RunConfig) -> Callable[[Case], float | None]:
    """A case's estimated cost for `--max-cost`; nothing to estimate without one."""
    if config.live.max_cost_usd is None:
        return lambda case: None
    return lambda case: results.estimate(case, config)


def runner(
    config: RunConfig,
    pipeline: Pipeline,
    writer: store.Writer,
    finish: Finish,
    progress: Progress,
    *,
    control: Pipeline | None,
    spent_usd: float,
) -> Runner:
    """The runner of one request per case, bounded by `--concurrency`."""
    return Runner(
        pipeline=pipeline,
        policy=policy(config),
        finish=finish,
        skip=results.skipped,
        sink=writer,
        estimate=estimate(config),
        control=control,
        budget=Budget(config.live.max_cost_usd, spent_usd=spent_usd),
        progress=progress,
    )


def batch_runner(
    config: RunConfig,
    pipeline: OpenAIPipeline,
    client: AsyncOpenAI,
    writer: store.Writer,
    log: store.CaseLog,
    finish: Finish,
    progress: Progress,
    *,
    run_id: str,
    attached: Sequence[BatchRef],
    spent_usd: float,
    judge: Judge | None = None,
    control: Pipeline | None = None,
) -> tuple[BatchRunner, Judge | None]:
    """The runner of `--via batch` (the config allows it only with the openai pipeline).

    With `--judge-via batch` the judge is returned with a queue of its own, priced at batch
    prices; earlier parts' submissions go to the queue whose ids they hold.
    """
    settings = config.live.batch
    assert settings is not None and (control is None or isinstance(control, OpenAIPipeline))

    async def note(ref: BatchRef) -> None:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(log.note_batch, ref)

    judged = [ref for ref in attached if any(i.startswith(JUDGE_ID) for i in ref.custom_ids)]
    drafts = BatchQueue(
        client, settings, note, run_id, what="draft",
        attached=[ref for ref in attached if ref not in judged], retries=config.live.retries,
    )  # fmt: skip
    also: list[BatchQueue] = []
    if judge is not None and config.judge is not None and config.judge.via == "batch":
        queue = BatchQueue(
            judge.client, settings, note, run_id, what="judge", attached=judged,
            retries=config.judge.retries,
        )  # fmt: skip
        also.append(queue)

        def price(model: str, usage: Usage) -> float | None:
            return pricing.cost(
                model, usage.prompt_tokens, usage.completion_tokens, config.prices, batch=True
            )

        judge = replace(judge, queue=queue, price=price)
    runner = BatchRunner(
        pipeline=pipeline,
        queue=drafts,
        control=control,
        also=also,
        policy=policy(config),
        finish=finish,
        skip=results.skipped,
        sink=writer,
        estimate=estimate(config),
        budget=Budget(config.live.max_cost_usd, spent_usd=spent_usd),
        progress=progress,
    )
    return runner, judge
