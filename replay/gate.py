"""The CI gate: rules over a finished run, each with its threshold, value and cases.

| rule | fails when |
|---|---|
| `regressions` | any case is `regressed` |
| `error_rate` | errors / cases that ran (not skipped or invalid) > `--max-error-rate` (0.1) |
| `invalid_rate` | invalid cases / selected cases > `--max-invalid-rate` (0.2) |
| `budget` | `--max-cost` stopped the run before every case ran |

`--no-gate` still evaluates and records every rule, and passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from replay.models import CaseResult, Gate, GateRule


@dataclass
class GateInput:
    """What the gate needs, gathered case by case."""

    cases: int = 0
    ran: int = 0
    regressed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    budget_skipped: list[str] = field(default_factory=list)

    def add(self, result: CaseResult) -> None:
        """Count one finished case."""
        self.cases += 1
        if result.verdict not in ("invalid_case", "skipped"):
            self.ran += 1
        if result.verdict == "regressed":
            self.regressed.append(result.case_id)
        elif result.verdict == "error":
            self.errors.append(result.case_id)
        elif result.verdict == "invalid_case":
            self.invalid.append(result.case_id)
        elif result.verdict == "skipped" and result.skipped_reason == "budget":
            self.budget_skipped.append(result.case_id)


def evaluate(
    data: GateInput, *, max_error_rate: float, max_invalid_rate: float, enforced: bool = True
) -> Gate:
    """Evaluate every rule; the gate passes when none fails (or when not enforced)."""
    error_rate = len(data.errors) / data.ran if data.ran else 0.0
    invalid_rate = len(data.invalid) / data.cases if data.cases else 0.0
    rules = [
        GateRule(
            rule="regressions",
            threshold=0,
            value=len(data.regressed),
            passed=not data.regressed,
            cases=data.regressed,
        ),
        GateRule(
            rule="error_rate",
            threshold=max_error_rate,
            value=round(error_rate, 4),
            passed=error_rate <= max_error_rate,
            cases=data.errors,
        ),
        GateRule(
            rule="invalid_rate",
            threshold=max_invalid_rate,
            value=round(invalid_rate, 4),
            passed=invalid_rate <= max_invalid_rate,
            cases=data.invalid,
        ),
        GateRule(
            rule="budget",
            threshold=0,
            value=len(data.budget_skipped),
            passed=not data.budget_skipped,
            cases=data.budget_skipped,
        ),
    ]
    failed = [rule.rule for rule in rules if not rule.passed]
    return Gate(passed=not failed or not enforced, enforced=enforced, failed=failed, rules=rules)
