"""The verdict policy: one function, one table.

| situation (first that applies wins) | verdict |
|---|---|
| the row failed validation | `invalid_case` |
| the case was not run (budget, no recording) | `skipped` |
| no draft came back | `error` |
| a critical violation in the new draft that the original did not have | `regressed` |
| a critical violation of the original that the new draft no longer has | `improved` |
| change class `identical` or `whitespace` | `unchanged` |
| change class `minor` or `rewritten`, or no original to compare with | `changed` |

Warnings never decide a verdict; they are reported. A case with both a new and a fixed critical
violation is `regressed`: a fix does not pay for a new failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from replay.models import Comparison, InvariantChanges, Verdict, Violation


class Decision(NamedTuple):
    """A verdict and the reasons behind it."""

    verdict: Verdict
    reasons: list[str]


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
            return Decision("regressed", [f"new {v.code}: {v.evidence}" for v in new])
        fixed = [v for v in invariants.fixed if v.severity == "critical"]
        if fixed:
            return Decision("improved", [f"fixed {v.code}: {v.evidence}" for v in fixed])
    if comparison is None:
        return Decision("changed", ["no original draft to compare with"])
    if comparison.change_class in ("identical", "whitespace"):
        return Decision("unchanged", [f"change class {comparison.change_class}"])
    return Decision(
        "changed", [f"change class {comparison.change_class} (similarity {comparison.similarity})"]
    )
