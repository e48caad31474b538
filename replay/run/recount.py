"""Count finished cases again: the totals, the gate's input and the repeats of a new artifact.

What `rescore` and `merge` share when they assemble a run artifact from cases instead of a run:
the same counting a run does as each case finishes, so the new artifact's summary, noise and
gate input are those the run would have written over the same cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from replay.models import CaseResult, Noise, Summary
from replay.run.tally import Tally
from replay.verdict import gate, noise


@dataclass(frozen=True)
class Recounted:
    """The summary, what the gate counts, and how the repeats agreed."""

    summary: Summary
    gate_input: gate.GateInput
    noise: Noise | None
    """None without repeats."""


def recount(
    cases: Iterable[CaseResult],
    *,
    repeats: int,
    min_paired: int,
    duration_s: float | None,
    live: bool = True,
) -> Recounted:
    """Totals over every result; the gate counts a repeated case once, by its majority verdict.

    An invalid case or one without a recorded request has one result whatever the repeats, so
    it is counted as it is, as a run counts it.
    """
    tally, data = Tally(min_paired=min_paired), gate.GateInput()
    grouped = noise.Repeats(repeats) if repeats > 1 else None
    for result in cases:
        tally.add(result)
        once = result.verdict == "invalid_case" or result.skipped_reason == "no_recorded_request"
        if grouped is None or once:
            data.add(result)
            continue
        closed = grouped.add(result)
        if closed is not None:
            data.add(closed[0])
    if grouped is not None:
        for decided, _ in grouped.rest():
            data.add(decided)
    summary = tally.summary(duration_s=duration_s, live=live)
    if grouped is not None:
        summary = summary.model_copy(
            update={"by_case_verdict": dict(sorted(data.by_verdict.items()))}
        )
    return Recounted(summary, data, grouped.report() if grouped is not None else None)
