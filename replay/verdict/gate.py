"""The CI gate: rules over a finished run, each with its threshold, value and cases.

| rule | fails when |
|---|---|
| `regressions` | any case is `regressed` |
| `error_rate` | errors / cases that ran (not skipped or invalid) > `--max-error-rate` (0.1) |
| `invalid_rate` | invalid cases / selected cases > `--max-invalid-rate` (0.2) |
| `budget` | `--max-cost` stopped the run before every case ran |
| `quality_stats` | `--gate-on-stats`: the paired interval of similarity to the sent reply is < 0 |
| `min_evidence` | cases with a comparable verdict / selected cases < `--min-evidence` (0.8) |

A comparable verdict is one that compared a new draft with an original: `unchanged`, `changed`,
`improved`, `regressed`. A run that compared too few of its cases cannot pass: skipped, invalid
and errored cases are no evidence that nothing got worse.

With `--gate-on-stats` the `regressions` rule counts only new critical check failures; the
judge's per-case quality regressions are left to `quality_stats`, which passes when the sample
is too small to conclude (the baseline report says so). With `--repeats`, a case counts once,
by its majority verdict. `--no-gate` still evaluates and records every rule, and passes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from replay.config.models import GateConfig
from replay.models import CaseResult, Gate, GateRule, PairedStats

COMPARABLE = frozenset({"unchanged", "changed", "improved", "regressed"})
"""Verdicts that compared a new draft with an original: the gate's evidence."""
MIN_EVIDENCE = 0.8
"""The default share of selected cases that must have a comparable verdict."""


@dataclass
class GateInput:
    """What the gate needs, gathered case by case."""

    cases: int = 0
    ran: int = 0
    regressed: list[str] = field(default_factory=list)
    quality: list[str] = field(default_factory=list)
    """Of `regressed`, those the judge decided (kind `quality`)."""
    errors: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    budget_skipped: list[str] = field(default_factory=list)
    without_evidence: list[str] = field(default_factory=list)
    """Cases with no comparable verdict (skipped, invalid, errored, only selected)."""
    without_by_cause: Counter[str] = field(default_factory=Counter)
    """`without_evidence` by cause: the verdict, or `skipped: <reason>`."""
    runnable: list[str] = field(default_factory=list)
    """Cases a live run would send to the pipeline (a dry run's `selected`)."""
    by_verdict: Counter[str] = field(default_factory=Counter)
    """Cases by the verdict the gate counts them with (a repeated case once, by majority)."""

    def add(self, result: CaseResult) -> None:
        """Count one finished case."""
        self.cases += 1
        self.by_verdict[result.verdict] += 1
        if result.verdict not in COMPARABLE:
            self.without_evidence.append(result.case_id)
            skipped = result.verdict == "skipped"
            cause = f"skipped: {result.skipped_reason}" if skipped else str(result.verdict)
            self.without_by_cause[cause] += 1
        if result.verdict == "selected":
            self.runnable.append(result.case_id)
        if result.verdict not in ("invalid_case", "skipped"):
            self.ran += 1
        if result.verdict == "regressed":
            self.regressed.append(result.case_id)
            if result.regression_kind == "quality":
                self.quality.append(result.case_id)
        elif result.verdict == "error":
            self.errors.append(result.case_id)
        elif result.verdict == "invalid_case":
            self.invalid.append(result.case_id)
        elif result.verdict == "skipped" and result.skipped_reason == "budget":
            self.budget_skipped.append(result.case_id)


def apply(
    data: GateInput,
    thresholds: GateConfig,
    *,
    dry: bool = False,
    stats: PairedStats | None = None,
) -> Gate:
    """The gate at the thresholds of `[gate]` and its flags: a dry run's rules, or a live run's.

    The one place a run, a rescore, a merge and a compare turn thresholds into rules.
    """
    if dry:
        return evaluate_dry(
            data,
            max_invalid_rate=thresholds.max_invalid_rate,
            enforced=thresholds.enforced,
            min_evidence=thresholds.min_evidence,
        )
    return evaluate(
        data,
        max_error_rate=thresholds.max_error_rate,
        max_invalid_rate=thresholds.max_invalid_rate,
        enforced=thresholds.enforced,
        on_stats=thresholds.on_stats,
        stats=stats,
        min_evidence=thresholds.min_evidence,
    )


def evaluate(
    data: GateInput,
    *,
    max_error_rate: float,
    max_invalid_rate: float,
    enforced: bool = True,
    on_stats: bool = False,
    stats: PairedStats | None = None,
    min_evidence: float = MIN_EVIDENCE,
) -> Gate:
    """Evaluate every rule; the gate passes when none fails (or when not enforced)."""
    regressed = data.regressed
    if on_stats:
        quality = set(data.quality)
        regressed = [case_id for case_id in regressed if case_id not in quality]
    error_rate = len(data.errors) / data.ran if data.ran else 0.0
    rules = [
        GateRule(
            rule="regressions",
            threshold=0,
            value=len(regressed),
            passed=not regressed,
            cases=regressed,
        ),
        GateRule(
            rule="error_rate",
            threshold=max_error_rate,
            value=round(error_rate, 4),
            passed=error_rate <= max_error_rate,
            cases=data.errors,
        ),
        _invalid_rate(data, max_invalid_rate),
        GateRule(
            rule="budget",
            threshold=0,
            value=len(data.budget_skipped),
            passed=not data.budget_skipped,
            cases=data.budget_skipped,
        ),
    ]
    compared = data.cases - len(data.without_evidence)
    rules.append(_evidence(data, min_evidence, compared, data.without_evidence))
    if on_stats:
        worse = stats is not None and stats.worse is True
        rules.append(
            GateRule(
                rule="quality_stats",
                threshold=0,
                value=1 if worse else 0,
                passed=not worse,
                cases=data.quality,
            )
        )
    return _decided(rules, enforced)


def evaluate_dry(
    data: GateInput,
    *,
    max_invalid_rate: float,
    enforced: bool = True,
    min_evidence: float = MIN_EVIDENCE,
) -> Gate:
    """The gate of a dry run: would a live run of this selection have enough to compare?

    Only the rules a dry run can measure: `invalid_rate`, and `min_evidence` over the cases a
    live run would send to the pipeline (a case without the recorded request `--request-source
    recorded` needs is no evidence). Regressions, errors and budget are not measured, so they
    are not listed rather than shown as passed.
    """
    runnable = set(data.runnable)
    without = [case_id for case_id in data.without_evidence if case_id not in runnable]
    rules = [
        _invalid_rate(data, max_invalid_rate),
        _evidence(data, min_evidence, len(data.runnable), without),
    ]
    return _decided(rules, enforced)


def _invalid_rate(data: GateInput, threshold: float) -> GateRule:
    rate = len(data.invalid) / data.cases if data.cases else 0.0
    return GateRule(
        rule="invalid_rate",
        threshold=threshold,
        value=round(rate, 4),
        passed=rate <= threshold,
        cases=data.invalid,
    )


def _evidence(data: GateInput, threshold: float, compared: int, without: list[str]) -> GateRule:
    """`min_evidence`: `compared` of the selected cases count; no case is no evidence (0)."""
    share = compared / data.cases if data.cases else 0.0
    causes = {cause: n for cause, n in data.without_by_cause.most_common() if cause != "selected"}
    return GateRule(
        rule="min_evidence",
        threshold=threshold,
        value=round(share, 4),
        passed=share >= threshold,
        cases=without,
        causes=causes,
    )


def _decided(rules: list[GateRule], enforced: bool) -> Gate:
    """The gate passes when no rule fails, or when it is not enforced (`--no-gate`)."""
    failed = [rule.rule for rule in rules if not rule.passed]
    return Gate(passed=not failed or not enforced, enforced=enforced, failed=failed, rules=rules)
