"""`replay rescore` and `replay rejudge`: decide a finished run again, without replaying it.

One path for both. Every live case's stored draft is compared and checked again with today's
checks, against the lead and client settings the run kept (artifact version 4), and its verdict
decided by today's policy; totals, repeats, the baseline's paired statistics and the gate are
worked out again from those verdicts. With a judge (`replay rejudge`, or `rescore --rejudge`)
each case whose judge context the run stored is also judged again; without one the stored
judgements stand. No pipeline request is made, ever. The result is a new run artifact whose
`parent_run_id` is the old run's.

A case from a run that did not keep its context (version 3 and older) keeps its stored
comparison and checks: checking it against an empty context would call every price invented.
Its verdict is still decided again from them, and the new artifact counts such cases.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, cast, get_args

import anyio

from replay import __version__
from replay.artifacts import store
from replay.artifacts.load import load_run
from replay.config.models import ChecksConfig, GateConfig
from replay.errors import ExitCode, UsageError
from replay.models import (
    BaselineReport,
    Case,
    CaseInput,
    CaseResult,
    Channel,
    InboundMessage,
    JudgeContext,
    Judgement,
    RunArtifact,
)
from replay.run import control, results
from replay.run import judge as judging
from replay.run.recount import recount
from replay.verdict import gate, pairing, policy, stats
from replay.verdict.checks import context_of

_REDECIDED = frozenset({"unchanged", "changed", "improved", "regressed"})


@dataclass(frozen=True)
class Rescoring:
    """What a rescore applies: today's checks and gate, and a judge when asked to judge again."""

    checks: ChecksConfig
    gate: GateConfig
    judge: judging.Judge | None = None


class Rescored(NamedTuple):
    """The new artifact, its exit code, and what the command says besides the summary."""

    artifact: RunArtifact
    exit_code: ExitCode
    notes: list[str]


async def rescore(old: RunArtifact, source: Path, how: Rescoring, *, target: Path) -> Rescored:
    """Decide every case of `old` again and write the new run to `target`.

    Raises:
        UsageError: the artifact is not a live run, or a judge is asked for and no case
            carries a judge context.
    """
    name = str(source)
    if old.mode != "live":
        raise UsageError(f"{name!r} is a {old.mode} run; rescoring needs a live run's drafts")
    judged = await _judged(old, name, how.judge)
    client_id = old.selection.client_id if old.selection is not None else ""  # no cases then
    cases: list[CaseResult] = []
    kept = 0
    for index, case in enumerate(old.cases):
        again, rechecked = _decided(case, client_id, how.checks, judged.get(index))
        cases.append(again)
        kept += not rechecked and again.verdict in _REDECIDED
    counted = recount(
        cases,
        repeats=old.noise.repeats if old.noise is not None else 1,
        min_paired=how.gate.min_paired,
        duration_s=old.summary.duration_s if old.summary else None,
    )
    data = counted.gate_input
    created = datetime.now(UTC)
    config = dict(old.config)  # `config` is free-form in the schema
    config["rescored"] = {
        "from": name,
        "checks": how.checks.model_dump(mode="json"),
        "gate": how.gate.model_dump(mode="json"),
        "checks_kept": kept,
    }
    if how.judge is not None:
        config["judge"] = {"model": how.judge.model, "rejudged_from": name}
    new = old.model_copy(
        update={
            "run_id": f"{store.stamp(created)}-{uuid.uuid4().hex[:6]}",
            "parent_run_id": old.run_id,
            "created_at": created,
            "finished_at": created,
            "tool_version": __version__,
            "config": config,
            "cases": cases,
            "summary": counted.summary,
            "noise": counted.noise,
            "baseline": None,
        }
    )
    notes: list[str] = []
    if kept:
        notes.append(
            f"{kept} case(s) kept their stored checks: {name!r} was written before runs kept "
            "each case's lead and client settings"
        )
    baseline = _baseline(old, new, target, how.gate.min_paired, notes)
    verdict_gate = gate.apply(
        data, how.gate, stats=baseline.stats if baseline is not None else None
    )
    exit_code = ExitCode.OK if verdict_gate.passed else ExitCode.GATE_FAILED
    new = new.model_copy(
        update={"gate": verdict_gate, "baseline": baseline, "exit_code": int(exit_code)}
    )
    await anyio.to_thread.run_sync(store.write_model, target, new)
    return Rescored(new, exit_code, notes)


async def _judged(old: RunArtifact, name: str, judge: judging.Judge | None) -> dict[int, Judgement]:
    """New judgements by case index, when a judge is given; none otherwise."""
    if judge is None:
        return {}
    if not any(_context(case) is not None for case in old.cases):
        raise UsageError(
            f"{name!r} stores no judge context (its run had no judge); "
            "replay it with --judge-model instead"
        )
    found: dict[int, Judgement] = {}

    async def score(index: int, case: CaseResult, context: JudgeContext) -> None:
        assert case.outcome is not None and case.original is not None
        before = case.original.draft
        if case.control is not None and case.control.outcome is not None:
            before = case.control.outcome.text  # beside a control arm, judged against it
        assert before is not None
        found[index] = await judge.judge(case.case_id, context, before, case.outcome.text)

    async with anyio.create_task_group() as group:
        for index, case in enumerate(old.cases):
            context = _context(case)
            if context is not None:
                group.start_soon(score, index, case, context)
    return found


def _context(case: CaseResult) -> JudgeContext | None:
    """The stored context of a case the judge can score: two drafts and what it read."""
    if case.judge is None or case.judge.context is None or case.outcome is None:
        return None
    if case.original is None or case.original.draft is None:
        return None
    return case.judge.context


def _decided(
    case: CaseResult, client_id: str, checks: ChecksConfig, judgement: Judgement | None
) -> tuple[CaseResult, bool]:
    """The case decided again, and whether its draft was checked again (not just re-decided)."""
    if case.verdict not in _REDECIDED or case.outcome is None:
        return case, False
    judgement = judgement or case.judge
    update: dict[str, Any] = {"judge": judgement, "cost_usd": _cost(case, judgement)}
    rebuilt = _case(case, client_id)
    if rebuilt is not None:
        config = results.checks_of(checks, client_id)
        context = context_of(rebuilt.input)  # each draft checked once, whatever the pairings
        arm = case.control
        if arm is not None and arm.outcome is not None:  # drift, checked again too
            drift, drifted, by_drift = results.assess(
                rebuilt,
                arm.outcome.text,
                config,
                None,
                finish_reason=arm.outcome.finish_reason,
                context=context,
            )
            arm = arm.model_copy(
                update={"drift": drift, "drift_invariants": drifted, "verdict": by_drift.verdict}
            )
        versus = control.reference(rebuilt, arm)
        comparison, found, decision = results.assess(
            versus,
            case.outcome.text,
            config,
            judgement,
            finish_reason=case.outcome.finish_reason,
            context=context,
        )
        update |= {"comparison": comparison, "invariants": found}
        if arm is not None:
            update |= control.attributed(rebuilt, case.outcome, arm, decision, config, context)
    else:
        decision = policy.decide(
            comparison=case.comparison, invariants=case.invariants, judgement=judgement
        )
    update |= {"verdict": decision.verdict, "reasons": decision.reasons}
    update["regression_kind"] = decision.kind
    return case.model_copy(update=update), rebuilt is not None


def _cost(case: CaseResult, judgement: Judgement | None) -> float | None:
    """The case's cost with a new judgement's cost in place of the old one's."""
    if case.cost_usd is None or judgement is case.judge:
        return case.cost_usd
    before = case.judge.cost_usd if case.judge is not None else None
    now = judgement.cost_usd if judgement is not None else None
    return case.cost_usd - (before or 0.0) + (now or 0.0)


def _case(case: CaseResult, client_id: str) -> Case | None:
    """The case as the checks read it, from what the run kept; None when it kept too little."""
    data = case.input
    if data.lead is None or data.client_settings is None or case.original is None:
        return None
    if data.inbound_body is None or data.inbound_sent_at is None or data.channel is None:
        return None
    if data.lead_id is None or data.inbound_id is None or data.job_created_at is None:
        return None
    if data.channel not in get_args(Channel):
        return None
    return Case.model_construct(
        input=CaseInput.model_construct(
            case_id=case.case_id,
            client_id=client_id,
            lead_id=data.lead_id,
            channel=cast(Channel, data.channel),
            job_created_at=data.job_created_at,
            inbound=InboundMessage(
                id=data.inbound_id,
                subject=data.inbound_subject,
                body=data.inbound_body,
                sent_at=data.inbound_sent_at,
            ),
            thread=data.thread,
            lead=data.lead,
            client_settings=data.client_settings,
            original_request=None,
            original_model=None,
            tags=data.tags,
        ),
        original=case.original,
    )


def _baseline(
    old: RunArtifact, new: RunArtifact, target: Path, min_paired: int, notes: list[str]
) -> BaselineReport | None:
    """The new verdicts against the baseline the run was compared with, if it still loads."""
    if old.baseline is None:
        return None
    path = Path(old.baseline.baseline)
    try:
        earlier = load_run(path, role="the run's baseline")
    except UsageError as exc:
        notes.append(f"not compared with its baseline again: {exc}")
        return None
    report = pairing.compare(earlier, new, old_path=str(path), new_path=str(target))
    return report.model_copy(
        update={"stats": stats.paired(earlier.cases, new.cases, minimum=min_paired)}
    )
