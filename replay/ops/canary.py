"""Stop criteria for a staged dispatch rollout: continue, stop, or not enough data.

The canary is judged against the control in the same range and against its own previous range.
Rules, each with its value and limit (`[canary]` in replay.toml):

| rule | stops when |
|---|---|
| `duplicates` | the canary ran a job twice (same trigger and type, same dedupe key, two drafts) |
| `enqueue_failures` | canary enqueue failures / attempts > `max_enqueue_failure_rate` (0.01) |
| `backlog` | the canary backlog grew for `backlog_windows` (4) windows in a row |
| `p95_absolute` | canary p95 dispatch latency > `p95_limit_s` (2 s) |
| `p95_vs_control` | canary p95 > control p95 × (1 + `p95_over_control`) (0.5) and by more |
| | than `p95_min_delta_s` (1 s): a queue adds some latency by design |
| `p95_vs_previous` | the same against the canary's own previous range |
| `errors_vs_control` | canary failure rate − control failure rate > `max_error_rate_over_control` |
| `timeouts_vs_control` | the same for timeouts |

Duplicates, enqueue failures and a growing backlog stop a rollout whatever the sample size; the
latency and rate rules need `min_jobs` (30) jobs in each cohort, else the answer is "not enough
data": a p95 of three jobs says nothing.
"""

from __future__ import annotations

from replay.config.models import CanaryThresholds
from replay.models import CanaryDecision, CanaryRule, CohortSignals, SignalsReport

CANARY = "canary"
CONTROL = "control"


def decide(
    current: SignalsReport,
    previous: SignalsReport | None,
    thresholds: CanaryThresholds,
    stage: int | None,
) -> CanaryDecision:
    """Apply the rules of the module docstring."""
    canary = current.cohorts.get(CANARY)
    control = current.cohorts.get(CONTROL)
    before = previous.cohorts.get(CANARY) if previous else None
    if canary is None:
        return _insufficient(stage, [], "no canary jobs in the range")
    rules = _absolute(canary, thresholds)
    if any(not rule.passed for rule in rules):
        return _stop(stage, rules, thresholds)
    small = [
        f"{name} has {cohort.total.jobs} jobs (minimum {thresholds.min_jobs})"
        for name, cohort in ((CANARY, canary), (CONTROL, control))
        if cohort is not None and cohort.total.jobs < thresholds.min_jobs
    ]
    if control is None:
        small.append("no control jobs in the range")
    if small:
        return _insufficient(stage, rules, "not enough data: " + "; ".join(small))
    assert control is not None
    rules += _comparative(canary, control, before, thresholds)
    if any(not rule.passed for rule in rules):
        return _stop(stage, rules, thresholds)
    following = [s for s in thresholds.stages if stage is not None and s > stage]
    next_stage = following[0] if following else None
    if next_stage:
        where = f"continue to {next_stage}%"
    elif stage is None:
        where = "continue (pass --stage to be told the next stage)"
    else:
        where = "continue: the rollout is complete"
    return CanaryDecision(
        action="continue",
        stage=stage,
        next_stage=next_stage,
        rules=rules,
        message=f"{where}; every rule passed",
    )


def _absolute(canary: CohortSignals, limits: CanaryThresholds) -> list[CanaryRule]:
    duplicates = canary.duplicate_executions + canary.dedupe_collisions + canary.duplicate_drafts
    return [
        CanaryRule(
            rule="duplicates",
            passed=duplicates <= limits.max_duplicates,
            value=duplicates,
            limit=limits.max_duplicates,
            detail=f"{canary.duplicate_executions} duplicate executions, "
            f"{canary.dedupe_collisions} dedupe-key collisions, "
            f"{canary.duplicate_drafts} duplicate drafts in the canary",
        ),
        CanaryRule(
            rule="enqueue_failures",
            passed=canary.enqueue_failure_rate <= limits.max_enqueue_failure_rate,
            value=canary.enqueue_failure_rate,
            limit=limits.max_enqueue_failure_rate,
            detail=f"{canary.enqueue_failures} of {canary.enqueue_attempts} canary enqueues failed",
        ),
        CanaryRule(
            rule="backlog",
            passed=canary.backlog_growing_windows < limits.backlog_windows,
            value=canary.backlog_growing_windows,
            limit=limits.backlog_windows,
            detail=f"the canary backlog grew {canary.backlog_growing_windows} windows in a row"
            + (f", to {canary.backlog[-1].pending} waiting" if canary.backlog else ""),
        ),
    ]


def _comparative(
    canary: CohortSignals,
    control: CohortSignals,
    before: CohortSignals | None,
    limits: CanaryThresholds,
) -> list[CanaryRule]:
    p95, control_p95 = canary.total.dispatch_p95_s, control.total.dispatch_p95_s
    allowed = f"(allowed {limits.p95_over_control:.0%} and {limits.p95_min_delta_s:g} s above)"
    rules = [
        CanaryRule(
            rule="p95_absolute",
            passed=p95 is None or p95 <= limits.p95_limit_s,
            value=p95,
            limit=limits.p95_limit_s,
            detail=f"canary p95 dispatch latency {_s(p95)} (limit {limits.p95_limit_s:g} s)",
        ),
        CanaryRule(
            rule="p95_vs_control",
            passed=_p95_ok(p95, control_p95, limits),
            value=p95,
            limit=_p95_limit(control_p95, limits),
            detail=f"canary p95 {_s(p95)} vs control {_s(control_p95)} {allowed}",
        ),
        _difference("errors_vs_control", canary.total.failure_rate, control.total.failure_rate,
                    limits.max_error_rate_over_control, "failure rate"),
        _difference("timeouts_vs_control", canary.total.timeout_rate, control.total.timeout_rate,
                    limits.max_timeout_rate_over_control, "timeout rate"),
    ]  # fmt: skip
    if before is not None and before.total.jobs >= limits.min_jobs:
        previous = before.total.dispatch_p95_s
        rules.append(
            CanaryRule(
                rule="p95_vs_previous",
                passed=_p95_ok(p95, previous, limits),
                value=p95,
                limit=_p95_limit(previous, limits),
                detail=f"canary p95 {_s(p95)} vs {_s(previous)} in the previous range {allowed}",
            )
        )
    return rules


def _p95_limit(reference: float | None, limits: CanaryThresholds) -> float | None:
    """The highest canary p95 that passes against `reference`."""
    if reference is None:
        return None
    factor = 1 + limits.p95_over_control
    return round(max(reference * factor, reference + limits.p95_min_delta_s), 3)


def _p95_ok(p95: float | None, reference: float | None, limits: CanaryThresholds) -> bool:
    limit = _p95_limit(reference, limits)
    return p95 is None or limit is None or p95 <= limit


def _difference(rule: str, canary: float, control: float, limit: float, what: str) -> CanaryRule:
    return CanaryRule(
        rule=rule,
        passed=round(canary - control, 4) <= limit,  # as shown: 0.02 over a 0.02 limit passes
        value=round(canary - control, 4),
        limit=limit,
        detail=f"canary {what} {canary:.2%} vs control {control:.2%}",
    )


def _stop(stage: int | None, rules: list[CanaryRule], limits: CanaryThresholds) -> CanaryDecision:
    failed = [rule for rule in rules if not rule.passed]
    reasons = "; ".join(f"{rule.rule}: {rule.detail}" for rule in failed)
    return CanaryDecision(
        action="stop",
        stage=stage,
        rollback=limits.rollback,
        rules=rules,
        message=f"stop: {reasons}. Roll back: {limits.rollback}",
    )


def _insufficient(stage: int | None, rules: list[CanaryRule], why: str) -> CanaryDecision:
    return CanaryDecision(action="insufficient", stage=stage, rules=rules, message=why)


def _s(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:.2f} s"
