"""`replay rejudge`: score an existing run again with a judge, without replaying the pipeline.

The drafts are already in the artifact; a new judge (or a new rubric) only needs them and the
context the judge read, which a judged run stores per case. The result is a new run artifact
whose `parent_run_id` is the old run's, with verdicts, totals and the gate worked out again
from the same deterministic checks and the new judgements.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio

from replay import __version__
from replay.artifacts import store
from replay.config.models import GateConfig
from replay.errors import ExitCode, UsageError
from replay.models import CaseResult, JudgeContext, Judgement, RunArtifact
from replay.run import judge as judging
from replay.run.tally import Tally
from replay.verdict import gate, noise, policy

_REDECIDED = frozenset({"unchanged", "changed", "improved", "regressed"})


async def rejudge(
    old: RunArtifact,
    source: Path,
    judge: judging.Judge,
    *,
    target: Path,
    thresholds: GateConfig,
) -> tuple[RunArtifact, ExitCode]:
    """Judge every case of `old` that has two drafts and a stored context; write the new run.

    Returns:
        The new artifact and its exit code (1 when its gate fails).

    Raises:
        UsageError: the artifact is not a live run, or no case carries a judge context.
    """
    name = str(source)
    if old.mode != "live":
        raise UsageError(f"{name!r} is a {old.mode} run; rejudge needs a live run's drafts")
    cases = old.cases
    judgeable = [case for case in cases if _context(case) is not None]
    if not judgeable:
        raise UsageError(
            f"{name!r} stores no judge context (its run had no judge); "
            "replay it with --judge-model instead"
        )
    new: dict[int, Judgement] = {}

    async def score(index: int, case: CaseResult) -> None:
        assert case.outcome is not None and case.original is not None
        assert case.original.draft is not None
        context = _context(case)
        assert context is not None
        new[index] = await judge.judge(
            case.case_id, context, case.original.draft, case.outcome.text
        )

    async with anyio.create_task_group() as group:
        for index, case in enumerate(cases):
            if _context(case) is not None:
                group.start_soon(score, index, case)
    results = [_rescored(case, new.get(index)) for index, case in enumerate(cases)]
    tally, data = Tally(), gate.GateInput()
    repeats = old.noise.repeats if old.noise is not None and old.noise.repeats > 1 else 1
    grouped = noise.Repeats(repeats) if repeats > 1 else None
    for result in results:
        tally.add(result)
        closed = grouped.add(result) if grouped is not None else (result, None)
        if closed is not None:
            data.add(closed[0])
    if grouped is not None:
        for decided, _ in grouped.rest():
            data.add(decided)
    verdict_gate = gate.evaluate(
        data,
        max_error_rate=thresholds.max_error_rate,
        max_invalid_rate=thresholds.max_invalid_rate,
        enforced=thresholds.enforced,
        min_evidence=thresholds.min_evidence,
    )
    exit_code = ExitCode.OK if verdict_gate.passed else ExitCode.GATE_FAILED
    created = datetime.now(UTC)
    config = dict(old.config)
    config["judge"] = {"model": judge.model, "rejudged_from": name}
    summary = tally.summary(duration_s=old.summary.duration_s if old.summary else None)
    if grouped is not None:
        summary = summary.model_copy(
            update={"by_case_verdict": dict(sorted(data.by_verdict.items()))}
        )
    # Everything else (mode, status, identity, selection, preflight, …) is the old run's.
    artifact = old.model_copy(
        update={
            "run_id": f"{store.stamp(created)}-{uuid.uuid4().hex[:6]}",
            "parent_run_id": old.run_id,
            "created_at": created,
            "finished_at": created,
            "tool_version": __version__,
            "exit_code": int(exit_code),
            "config": config,
            "cases": results,
            "summary": summary,
            "gate": verdict_gate,
            "baseline": None,
            "noise": grouped.report() if grouped is not None else None,
        }
    )
    await anyio.to_thread.run_sync(store.write, target, artifact.model_dump(mode="json"))
    return artifact, exit_code


def _context(case: CaseResult) -> JudgeContext | None:
    """The stored context of a case the judge can score: two drafts and what it read."""
    if case.judge is None or case.judge.context is None or case.outcome is None:
        return None
    if case.original is None or case.original.draft is None:
        return None
    return case.judge.context


def _rescored(case: CaseResult, judgement: Judgement | None) -> CaseResult:
    """The case with its new judgement, its verdict decided again, its cost corrected."""
    if judgement is None:
        return case
    old_cost = case.judge.cost_usd if case.judge is not None else None
    cost = case.cost_usd
    if cost is not None:
        cost = cost - (old_cost or 0.0) + (judgement.cost_usd or 0.0)
    update: dict[str, Any] = {"judge": judgement, "cost_usd": cost}
    if case.verdict in _REDECIDED:
        decision = policy.decide(
            comparison=case.comparison, invariants=case.invariants, judgement=judgement
        )
        update |= {
            "verdict": decision.verdict,
            "reasons": decision.reasons,
            "regression_kind": decision.kind,
        }
    return case.model_copy(update=update)
