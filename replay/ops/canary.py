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

Every rule is listed in every decision: passed, failed, or not evaluated with the reason (a
figure it needs was not measured, or a cohort has fewer than `min_jobs` (30) jobs: a p95 of
three jobs says nothing). Duplicates, enqueue failures and a growing backlog need no minimum.
A failed rule stops the rollout, whether required or not: it is evidence. "Continue" needs every
rule of `[canary] required` (default: all) evaluated and passed; a required rule not evaluated
makes the answer "not enough data", never a silent pass.
"""

from __future__ import annotations

from typing import Literal

from replay.config.models import CANARY_RULES, CanaryThresholds
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
    if canary is None:
        none = "no canary jobs in the range"
        rules = [_rule(name, thresholds, None, detail=none, missing=none) for name in CANARY_RULES]
        return _insufficient(stage, rules, f"not enough data: {none}")
    before = previous.cohorts.get(CANARY) if previous else None
    rules = _absolute(canary, thresholds)
    rules += _comparative(canary, current.cohorts.get(CONTROL), before, thresholds)
    if any(rule.result == "failed" for rule in rules):
        return _stop(stage, rules, thresholds)
    missing = [rule for rule in rules if rule.result == "not_evaluated" and rule.required]
    if missing:
        return _insufficient(
            stage, rules, "not enough data: " + _grouped(missing, " not evaluated")
        )
    following = [s for s in thresholds.stages if stage is not None and s > stage]
    next_stage = following[0] if following else None
    if next_stage:
        where = f"continue to {next_stage}%"
    elif stage is None:
        where = "continue (pass --stage to be told the next stage)"
    else:
        where = "continue: the rollout is complete"
    skipped = [rule for rule in rules if rule.result == "not_evaluated"]
    verdict = (
        f"every required rule passed; not evaluated, not required: {_grouped(skipped, '')}"
        if skipped
        else "every rule passed"
    )
    return CanaryDecision(
        action="continue",
        stage=stage,
        next_stage=next_stage,
        rules=rules,
        message=f"{where}; {verdict}",
    )


def _rule(
    name: str,
    limits: CanaryThresholds,
    failed: bool | None,
    *,
    value: float | None = None,
    limit: float | None = None,
    detail: str,
    missing: str | None = None,
) -> CanaryRule:
    """One rule's result: not evaluated when `missing` says why, else passed or failed."""
    if missing is None and (value is None or limit is None):
        missing = "a figure it needs was not measured"  # never a pass on nothing
    result: Literal["passed", "failed", "not_evaluated"] = (
        "not_evaluated" if missing is not None else "failed" if failed else "passed"
    )
    return CanaryRule(
        rule=name,
        result=result,
        required=name in limits.required,
        value=value,
        limit=limit,
        detail=detail,
        reason=missing,
    )


def _absolute(canary: CohortSignals, limits: CanaryThresholds) -> list[CanaryRule]:
    """Rules that need no minimum sample: one duplicate, a failed enqueue, a growing queue."""
    labels = {
        "duplicate_executions": "duplicate executions",
        "dedupe_collisions": "dedupe-key collisions",
        "duplicate_drafts": "duplicate drafts",
    }
    parts: dict[str, int | None] = {field: getattr(canary, field) for field in labels}
    unmeasured = "; ".join(
        f"{labels[field]} not measured: {canary.not_measured.get(field, 'no reason recorded')}"
        for field, count in parts.items()
        if count is None
    )
    duplicates = sum(count for count in parts.values() if count is not None)
    counted = ", ".join(f"{n} {labels[field]}" for field, n in parts.items() if n is not None)
    rate = canary.enqueue_failure_rate
    growing = canary.backlog_growing_windows
    waiting = f", to {canary.backlog[-1].pending} waiting" if canary.backlog else ""
    return [
        _rule(
            "duplicates",
            limits,
            duplicates > limits.max_duplicates,
            value=duplicates,
            limit=limits.max_duplicates,
            detail=f"{counted} in the canary",
            # What was counted is evidence enough to stop; only a pass needs every part.
            missing=unmeasured if unmeasured and duplicates <= limits.max_duplicates else None,
        ),
        _rule(
            "enqueue_failures",
            limits,
            rate is not None and rate > limits.max_enqueue_failure_rate,
            value=rate,
            limit=limits.max_enqueue_failure_rate,
            detail=f"{canary.enqueue_failures} of {canary.enqueue_attempts} canary enqueues failed"
            if rate is not None
            else "canary enqueue failure rate not measured",
            missing=_unmeasured(canary, "enqueue_failure_rate", "canary enqueue failure rate"),
        ),
        _rule(
            "backlog",
            limits,
            growing is not None and growing >= limits.backlog_windows,
            value=growing,
            limit=limits.backlog_windows,
            detail=f"the canary backlog grew {growing} windows in a row{waiting}"
            if growing is not None
            else "canary backlog growth not measured",
            missing=_unmeasured(canary, "backlog_growing_windows", "canary backlog growth"),
        ),
    ]


def _comparative(
    canary: CohortSignals,
    control: CohortSignals | None,
    before: CohortSignals | None,
    limits: CanaryThresholds,
) -> list[CanaryRule]:
    """Latency and rate rules: each needs `min_jobs` in every cohort it reads."""
    small_canary = _small("canary", canary, limits, "no canary jobs in the range")
    small_control = _small("control", control, limits, "no control jobs in the range")
    small_before = _small(
        "the previous range's canary", before, limits, "no canary jobs in the previous range"
    )
    both = "; ".join(reason for reason in (small_canary, small_control) if reason) or None
    p95 = canary.total.dispatch_p95_s
    control_p95 = control.total.dispatch_p95_s if control else None
    previous_p95 = before.total.dispatch_p95_s if before else None
    allowed = f"(allowed {limits.p95_over_control:.0%} and {limits.p95_min_delta_s:g} s above)"
    p95_missing = _unmeasured(canary, "dispatch_p95_s", "canary p95")
    control_limit = _p95_limit(control_p95, limits)
    previous_limit = _p95_limit(previous_p95, limits)
    return [
        _rule(
            "p95_absolute",
            limits,
            p95 is not None and p95 > limits.p95_limit_s,
            value=p95,
            limit=limits.p95_limit_s,
            detail=f"canary p95 dispatch latency {_s(p95)} (limit {limits.p95_limit_s:g} s)",
            missing=small_canary or p95_missing,
        ),
        _rule(
            "p95_vs_control",
            limits,
            _over(p95, control_limit),
            value=p95,
            limit=control_limit,
            detail=f"canary p95 {_s(p95)} vs control {_s(control_p95)} {allowed}",
            missing=both or p95_missing or _unmeasured(control, "dispatch_p95_s", "control p95"),
        ),
        _rule(
            "p95_vs_previous",
            limits,
            _over(p95, previous_limit),
            value=p95,
            limit=previous_limit,
            detail=f"canary p95 {_s(p95)} vs {_s(previous_p95)} in the previous range {allowed}",
            missing=small_canary
            or small_before
            or p95_missing
            or _unmeasured(before, "dispatch_p95_s", "the previous range's canary p95"),
        ),
        _difference("errors_vs_control", canary, control, "failure_rate",
                    limits.max_error_rate_over_control, limits, both),
        _difference("timeouts_vs_control", canary, control, "timeout_rate",
                    limits.max_timeout_rate_over_control, limits, both),
    ]  # fmt: skip


def _small(
    name: str, cohort: CohortSignals | None, limits: CanaryThresholds, absent: str
) -> str | None:
    """Why `cohort` is too small to judge, if it is."""
    if cohort is None:
        return absent
    if cohort.total.jobs < limits.min_jobs:
        return f"{name} has {cohort.total.jobs} jobs, minimum {limits.min_jobs}"
    return None


def _unmeasured(cohort: CohortSignals | None, field: str, what: str) -> str | None:
    """`what` not measured, and why, if the cohort's (or its total's) `field` is None."""
    if cohort is None:
        return None
    for figures in (cohort.not_measured, cohort.total.not_measured):
        if field in figures:
            return f"{what} not measured: {figures[field]}"
    return None


def _p95_limit(reference: float | None, limits: CanaryThresholds) -> float | None:
    """The highest canary p95 that passes against `reference`."""
    if reference is None:
        return None
    factor = 1 + limits.p95_over_control
    return round(max(reference * factor, reference + limits.p95_min_delta_s), 3)


def _over(p95: float | None, limit: float | None) -> bool:
    return p95 is not None and limit is not None and p95 > limit


def _difference(
    rule: str,
    canary: CohortSignals,
    control: CohortSignals | None,
    field: str,
    limit: float,
    limits: CanaryThresholds,
    small: str | None,
) -> CanaryRule:
    """Canary rate minus control rate against `limit`; as shown, 0.02 over a 0.02 limit passes."""
    what = field.replace("_", " ")
    ours = getattr(canary.total, field)
    theirs = getattr(control.total, field) if control else None
    delta = None if ours is None or theirs is None else round(ours - theirs, 4)
    return _rule(
        rule,
        limits,
        delta is not None and delta > limit,
        value=delta,
        limit=limit,
        detail=f"canary {what} {_pct(ours)} vs control {_pct(theirs)}",
        missing=small
        or _unmeasured(canary, field, f"canary {what}")
        or _unmeasured(control, field, f"control {what}"),
    )


def _stop(stage: int | None, rules: list[CanaryRule], limits: CanaryThresholds) -> CanaryDecision:
    failed = [rule for rule in rules if rule.result == "failed"]
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


def _grouped(rules: list[CanaryRule], verb: str) -> str:
    """`a, b{verb} (why); c{verb} (why)`: rules not evaluated, grouped by their reason."""
    by_reason: dict[str, list[str]] = {}
    for rule in rules:
        by_reason.setdefault(rule.reason or "", []).append(rule.rule)
    return "; ".join(f"{', '.join(names)}{verb} ({why})" for why, names in by_reason.items())


def _s(seconds: float | None) -> str:
    return "not measured" if seconds is None else f"{seconds:.2f} s"


def _pct(rate: float | None) -> str:
    return "not measured" if rate is None else f"{rate:.2%}"
