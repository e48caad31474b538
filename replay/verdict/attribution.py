"""Attribute a difference to the change or to drift, from a control arm in the same run.

A control arm replays production's own set-up (by default the recorded request with the recorded
model) beside the candidate, on the same cases and at the same time. What separates the original
draft from the control is **drift**: the provider's model moved behind the same name, sampling
noise, today's lead and settings. What separates the control from the candidate is the
**change**. A case's verdict is decided candidate against control, so drift alone never fails a
gate, and a regression that drift happens to cancel out is still caught.

Each case is decided twice by the same policy, against the original and against the control;
the pair says where a difference comes from:

| against the original | against the control | regression        | attribution |
|----------------------|---------------------|-------------------|-------------|
| regressed            | regressed           | `change`          | `change`    |
| not regressed        | regressed           | `hidden_by_drift` | `change`    |
| regressed            | not regressed       | `drift`           | as below    |
| anything             | not unchanged       |                   | `change`    |
| not unchanged        | unchanged           |                   | `drift`     |
| unchanged            | unchanged           |                   | `none`      |
"""

from __future__ import annotations

from typing import NamedTuple

from replay.models import Attribution, DriftRegression, Verdict


class Attributed(NamedTuple):
    """Where a case's difference comes from, and which kind of regression it is, if any."""

    attribution: Attribution
    regression: DriftRegression | None


def attribute(*, versus_original: Verdict, versus_control: Verdict) -> Attributed:
    """Attribute one case from its two verdicts (see the table of the module docstring)."""
    if versus_control == "regressed":
        regression: DriftRegression | None = (
            "change" if versus_original == "regressed" else "hidden_by_drift"
        )
    elif versus_original == "regressed":
        regression = "drift"
    else:
        regression = None
    if versus_control != "unchanged":
        attribution: Attribution = "change"
    elif versus_original != "unchanged":
        attribution = "drift"
    else:
        attribution = "none"
    return Attributed(attribution, regression)
