"""The verdict policy: one function, one table.

| situation (first that applies wins) | verdict |
|---|---|
| the row failed validation | `invalid_case` |
| the case was not run (budget, no recording) | `skipped` |
| no draft came back | `error` |
| a new critical violation (the original did not have it) | `regressed` (kind `invariant`) |
| the judge preferred the original in both orders | `regressed` (kind `quality`) |
| a critical violation of the original that the new draft no longer has | `improved` |
| the judge preferred the new draft in both orders | `improved` |
| change class `identical` or `whitespace` | `unchanged` |
| change class `minor` or `rewritten`, or no original to compare with | `changed` |

Warnings never decide a verdict; they are reported (an unanswered question the judge confirmed
arrives here as critical: `questions.weigh`). A case with both a new and a fixed critical
violation is `regressed`: a fix does not pay for a new failure, and neither does it pay for a
draft the judge found worse. A judge's tie (the orders disagreed), `unscored` (no valid answer)
or `error` (unreachable) leaves the deterministic verdict as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

from replay.models import Comparison, InvariantChanges, Judgement, Verdict, Violation


class Decision(NamedTuple):
    """A verdict, the reasons behind it, and what kind of regression it is."""

    verdict: Verdict
    reasons: list[str]
    kind: Literal["invariant", "quality"] | None = None


def changes(original: Sequence[Violation], new: Sequence[Violation]) -> InvariantChanges:
    """Split violations into new, fixed and pre-existing by (code, key)."""
    before = {(v.code, v.key) for v in original}
    after = {(v.code, v.key) for v in new}
    return InvariantChanges(
        new=[v for v in new if (v.code, v.key) not in before],
        fixed=[v for v in original if (v.code, v.key) not in after],
        pre_existing=[v for v in new if (v.code, v.key) in before],
    )


def decide(
    *,
    invalid: bool = False,
    skipped: bool = False,
    errored: bool = False,
    comparison: Comparison | None = None,
    invariants: InvariantChanges | None = None,
    judgement: Judgement | None = None,
) -> Decision:
    """Apply the table of the module docstring."""
    if invalid:
        return Decision("invalid_case", ["the case row failed validation"])
    if skipped:
        return Decision("skipped", ["the case was not run"])
    if errored:
        return Decision("error", ["no draft came back"])
    if invariants is not None:
        new = [v for v in invariants.new if v.severity == "critical"]
        if new:
            return Decision("regressed", [f"new {v.code}: {v.evidence}" for v in new], "invariant")
    judged = None if judgement is None else judgement.verdict
    if judged == "original":
        return Decision("regressed", [_judge_reason(judgement)], "quality")
    if invariants is not None:
        fixed = [v for v in invariants.fixed if v.severity == "critical"]
        if fixed:
            return Decision("improved", [f"fixed {v.code}: {v.evidence}" for v in fixed])
    if judged == "new":
        return Decision("improved", [_judge_reason(judgement)])
    if comparison is None:
        return Decision("changed", ["no original draft to compare with"])
    if comparison.change_class in ("identical", "whitespace"):
        return Decision("unchanged", [f"change class {comparison.change_class}"])
    return Decision(
        "changed", [f"change class {comparison.change_class} (similarity {comparison.similarity})"]
    )


def _judge_reason(judgement: Judgement | None) -> str:
    assert judgement is not None
    preferred = "the original" if judgement.verdict == "original" else "the new draft"
    return f"judge {judgement.model} preferred {preferred} in both orders"
