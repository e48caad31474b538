"""The control arm's half of a case: its draft, what drift did, and where a difference comes from.

With `--control`, each case is drafted twice in the same run: by production's set-up (the
control) and by the candidate. The control is decided against the original draft (what drift
alone did); the candidate is decided against the control (what the change did) and, for the
record, against the original. `verdict.attribution` turns the two verdicts into one word.
A control arm that gave no draft leaves the candidate decided against the original, as a run
without one would be, and the case is not attributed.
"""

from __future__ import annotations

from typing import Any

from replay.config.models import RunConfig
from replay.models import Case, CaseResult, ControlArm, Judgement, Outcome
from replay.run import results
from replay.run.runner import Execution
from replay.verdict import attribution, policy
from replay.verdict.checks import Context, InvariantConfig, context_of


def finished(
    execution: Execution, config: RunConfig, judgement: Judgement | None = None
) -> CaseResult:
    """A case run beside a control arm: the candidate decided against the control's draft."""
    assert execution.control is not None
    case = execution.case
    checks = results.checks_for(config, case.input.client_id)
    context = context_of(case.input)  # three pairings of three drafts: each checked once
    control = arm(execution.control, config, checks, context)
    versus = reference(case, control)
    result = results.finished(execution, config, judgement, versus=versus, context=context)
    decision = policy.Decision(result.verdict, result.reasons, result.regression_kind)
    update = attributed(case, execution.outcome, control, decision, checks, context)
    update["cost_usd"] = total_cost(result.cost_usd, control)
    return result.model_copy(update=update)


def reference_draft(execution: Execution) -> str | None:
    """The draft the candidate is judged against: the control's if any, else the original."""
    control = execution.control
    if control is not None and control.outcome is not None:
        return control.outcome.text
    return execution.case.original.draft


def arm(
    execution: Execution,
    config: RunConfig,
    checks: InvariantConfig,
    context: Context | None = None,
) -> ControlArm:
    """The control's side of a case: its draft, cost, and the original against it (drift)."""
    assert config.control is not None
    case, outcome = execution.case, execution.outcome
    request = config.control.request
    mode = config.control.cache
    cache = results.cache_state(mode, request.pipeline, outcome)
    cost, _ = results.paid(outcome, cache, config)
    drift = drift_checks = verdict = None
    if outcome is not None:
        drift, drift_checks, decision = results.assess(
            case, outcome.text, checks, None, finish_reason=outcome.finish_reason, context=context
        )
        verdict = decision.verdict
    plan = results.request_plan(case, config, request) if request.pipeline == "openai" else None
    return ControlArm(
        plan=plan,
        outcome=outcome,
        error=execution.error,
        attempts=list(execution.attempts),
        latency_ms=execution.latency_ms,
        cost_usd=cost,
        cache=cache,
        drift=drift,
        drift_invariants=drift_checks,
        verdict=verdict,
    )


def reference(case: Case, control: ControlArm | None) -> Case:
    """The case as the candidate is decided on it: the control's draft in the original's place.

    Without a control draft it is the case itself: the candidate is decided against the
    original, as a run without a control arm would decide it.
    """
    if control is None or control.outcome is None:
        return case
    return case.model_copy(
        update={"original": case.original.model_copy(update={"draft": control.outcome.text})}
    )


def attributed(
    case: Case,
    outcome: Outcome | None,
    control: ControlArm,
    decision: policy.Decision,
    checks: InvariantConfig,
    context: Context | None = None,
) -> dict[str, Any]:
    """The fields a control arm adds to a case's result: its verdicts against both drafts."""
    found: dict[str, Any] = {"control": control}
    if outcome is None or control.outcome is None:
        return found
    _, _, versus_original = results.assess(
        case, outcome.text, checks, None, finish_reason=outcome.finish_reason, context=context
    )
    which = attribution.attribute(
        versus_original=versus_original.verdict, versus_control=decision.verdict
    )
    found |= {
        "versus_original": versus_original.verdict,
        "attribution": which.attribution,
        "drift_regression": which.regression,
    }
    if which.regression == "drift":
        found["reasons"] = [
            *decision.reasons,
            "regressed against the original only: the control drifted the same way (not gated)",
        ]
    return found


def total_cost(candidate: float | None, control: ControlArm) -> float | None:
    """A case's cost with its control's: unknown when a draft of either arm has no price."""
    if candidate is None:
        return None
    if control.outcome is None:
        return candidate  # no draft came back: nothing paid is known
    return None if control.cost_usd is None else candidate + control.cost_usd


def without_control(result: CaseResult) -> bool:
    """A case run beside a control arm whose control gave no draft: not attributed."""
    return result.control is not None and result.control.outcome is None
