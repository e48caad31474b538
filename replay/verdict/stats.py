"""Paired statistics of a run against its baseline: is a difference real or noise?

Two tests over the cases both runs have: an exact McNemar test on regressed-or-not, and a paired
bootstrap interval of the change in similarity to the reply a human sent. Pure functions of the
artifacts' case lists, exact where exactness is cheap (integer and `Fraction` arithmetic), seeded
where it is not, so the same two artifacts always give the same numbers.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import NamedTuple

from replay.models import Bootstrap, CaseResult, McNemar, PairedStats

NOT_RUN = frozenset({"invalid_case", "skipped", "selected", "error"})
"""Verdicts of a case without a draft: nothing to pair. An error counted as "not regressed"
would make a run that fails often look better; errors have their own gate rule."""
SIGNIFICANT = 0.05
"""McNemar p-value under which the conclusion names the regression counts."""
MEASURE = "sent_similarity_new"
DIGITS = 6
"""Decimals kept in reported bootstrap numbers."""


def mcnemar_exact(only_baseline: int, only_run: int, both: int, neither: int) -> McNemar:
    """Test whether regressions moved, from the discordant pairs only.

    Under no change, each discordant pair is equally likely to fall either way, so the smaller
    count is binomial(b + c, 1/2): p = min(1, 2 · Σ_{i ≤ min(b, c)} C(b + c, i) / 2^(b + c)),
    computed exactly and converted to float once (never rounded: a tiny p stays non-zero).
    """
    total = only_baseline + only_run
    if total == 0:
        p_value = 1.0
    else:
        tail = sum(math.comb(total, i) for i in range(min(only_baseline, only_run) + 1))
        p_value = float(min(Fraction(1), Fraction(2 * tail, 2**total)))
    return McNemar(
        only_baseline=only_baseline, only_run=only_run, both=both, neither=neither, p_value=p_value
    )


class Indices(NamedTuple):
    """Positions of an interval's bounds in the sorted resample means."""

    lower: int
    upper: int


def interval_indices(resamples: int, confidence: float) -> Indices:
    """Return where the percentile interval's bounds sit among `resamples` sorted means.

    With alpha = 1 − confidence: lower = floor(alpha/2 · R), upper = ceil((1 − alpha/2) · R) − 1,
    so exactly as many means lie below the interval as above it (R = 2000 at 95 %: 50 and 1949).
    The confidence is read as its decimal text (0.95 is 19/20, not the binary float) so float
    noise never moves an index.
    """
    half = (1 - Fraction(repr(confidence))) / 2
    lower = math.floor(half * resamples)
    upper = math.ceil((1 - half) * resamples) - 1
    return Indices(min(max(lower, 0), resamples - 1), min(max(upper, 0), resamples - 1))


def paired_bootstrap(
    differences: Sequence[float],
    *,
    measure: str,
    resamples: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Bootstrap:
    """Estimate a percentile interval of the mean paired difference (run − baseline).

    Each resample draws len(differences) pairs with replacement, index floor(random() · n) from
    `random.Random(seed)`: `random()` is the one sequence Python promises to keep for a seed, so
    an interval never changes with the interpreter. Bounds follow `interval_indices`.

    Raises:
        ValueError: `resamples` is not positive or `confidence` is not strictly between 0 and 1.
    """
    if resamples < 1:
        raise ValueError(f"resamples must be a positive integer, got {resamples!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    count = len(differences)
    if count == 0:
        return Bootstrap(
            measure=measure,
            pairs=0,
            mean_difference=None,
            low=None,
            high=None,
            confidence=confidence,
            resamples=resamples,
            seed=seed,
        )
    values = [float(d) for d in differences]
    draw = random.Random(seed).random
    means = sorted(
        math.fsum(values[int(draw() * count)] for _ in range(count)) / count
        for _ in range(resamples)
    )
    bounds = interval_indices(resamples, confidence)
    return Bootstrap(
        measure=measure,
        pairs=count,
        mean_difference=_rounded(math.fsum(values) / count),
        low=_rounded(means[bounds.lower]),
        high=_rounded(means[bounds.upper]),
        confidence=confidence,
        resamples=resamples,
        seed=seed,
    )


class _Side(NamedTuple):
    """One case of one run, its repeats folded together."""

    regressed: bool
    similarity: float | None


def paired(
    baseline_cases: Iterable[CaseResult],
    run_cases: Iterable[CaseResult],
    *,
    minimum: int = 10,
    resamples: int = 2000,
    seed: int = 0,
) -> PairedStats:
    """Compare two runs' `cases` lists over the cases that ran in both.

    A case ran when its verdict is not in `NOT_RUN` (an `error` has no draft, so it pairs with
    nothing). Repeats
    fold into one side per case: regressed when more than half of the repeats that ran regressed,
    similarity the mean of the repeats that have one. Pairs are taken in case-id order, so the
    bootstrap does not depend on the order of the artifact's lines.
    """
    return _compared(
        _fold(baseline_cases), _fold(run_cases), minimum=minimum, resamples=resamples, seed=seed
    )


class ArmPair(NamedTuple):
    """One case (one repeat) drafted by both arms of a run with a control arm."""

    case_id: str
    control_regressed: bool
    """The control's draft regressed against the original."""
    candidate_regressed: bool
    """The candidate's draft regressed against the original."""
    control_similarity: float | None
    """The control's draft's similarity to the sent reply."""
    candidate_similarity: float | None


def arms(pairs: Iterable[ArmPair], *, minimum: int = 10, seed: int = 0) -> PairedStats:
    """The candidate against the control over the cases both drafted, as `paired` does runs.

    The control stands where a baseline would: McNemar's `only_baseline` counts cases that
    regressed against the original only with the control, `only_run` only with the candidate;
    the interval is of the candidate's similarity to the sent reply minus the control's. Both
    drafts were written at the same time from the same cases, so drift cancels out.
    """
    groups: dict[str, list[ArmPair]] = {}
    for pair in pairs:
        groups.setdefault(pair.case_id, []).append(pair)
    control = {key: _side([(p.control_regressed, p.control_similarity) for p in group])
               for key, group in groups.items()}  # fmt: skip
    candidate = {key: _side([(p.candidate_regressed, p.candidate_similarity) for p in group])
                 for key, group in groups.items()}  # fmt: skip
    return _compared(
        control,
        candidate,
        minimum=minimum,
        seed=seed,
        names=("with the candidate", "with the control"),
    )


def _side(repeats: Sequence[tuple[bool, float | None]]) -> _Side:
    """Fold the repeats of one case: regressed by majority, similarity their mean."""
    similarities = [similarity for _, similarity in repeats if similarity is not None]
    return _Side(
        regressed=2 * sum(regressed for regressed, _ in repeats) > len(repeats),
        similarity=math.fsum(similarities) / len(similarities) if similarities else None,
    )


def _compared(
    before: dict[str, _Side],
    after: dict[str, _Side],
    *,
    minimum: int,
    resamples: int = 2000,
    seed: int = 0,
    names: tuple[str, str] = ("in the run", "in the baseline"),
) -> PairedStats:
    """McNemar and the paired bootstrap over the cases both sides have."""
    ids = sorted(set(before) & set(after))
    enough = len(ids) >= minimum
    if not ids:
        said = "no case ran in both runs" if enough else _too_small(0, minimum)
        return PairedStats(paired=0, minimum=minimum, enough=enough, conclusion=said)
    pairs = [(before[i], after[i]) for i in ids]
    mcnemar = mcnemar_exact(
        only_baseline=sum(a.regressed and not b.regressed for a, b in pairs),
        only_run=sum(b.regressed and not a.regressed for a, b in pairs),
        both=sum(a.regressed and b.regressed for a, b in pairs),
        neither=sum(not a.regressed and not b.regressed for a, b in pairs),
    )
    differences = [
        b.similarity - a.similarity
        for a, b in pairs
        if a.similarity is not None and b.similarity is not None
    ]
    bootstrap = paired_bootstrap(differences, measure=MEASURE, resamples=resamples, seed=seed)
    worse = None
    if enough and len(differences) >= minimum and bootstrap.high is not None:
        # The interval needs as many pairs as the verdicts: one sent reply decides nothing.
        worse = bootstrap.high < 0
    said = _conclusion(mcnemar, bootstrap, names) if enough else _too_small(len(ids), minimum)
    if enough and 0 < len(differences) < minimum:
        said = (
            f"too few cases with a sent reply in both runs to conclude on similarity: "
            f"{len(differences)}, at least {minimum} needed; " + said.rsplit("; ", 1)[-1]
        )
    return PairedStats(
        paired=len(ids),
        minimum=minimum,
        enough=enough,
        mcnemar=mcnemar,
        similarity_to_sent=bootstrap,
        worse=worse,
        conclusion=said,
    )


def _fold(cases: Iterable[CaseResult]) -> dict[str, _Side]:
    """Group the repeats that ran by case id and fold each group into one side."""
    groups: dict[str, list[CaseResult]] = {}
    for case in cases:
        if case.verdict not in NOT_RUN:
            groups.setdefault(case.case_id, []).append(case)
    return {
        case_id: _side([(r.verdict == "regressed", _similarity(r)) for r in repeats])
        for case_id, repeats in groups.items()
    }


def _similarity(case: CaseResult) -> float | None:
    """The measure the bootstrap pairs: similarity of the new draft to what a human sent."""
    return case.comparison.sent_similarity_new if case.comparison is not None else None


def _too_small(count: int, minimum: int) -> str:
    noun = "case" if count == 1 else "cases"
    return f"sample too small to conclude: {count} paired {noun}, at least {minimum} needed"


def _conclusion(mcnemar: McNemar, bootstrap: Bootstrap, names: tuple[str, str]) -> str:
    """Say in one sentence what the two tests found; `names` are the after and before sides."""
    p = mcnemar.p_value
    p_text = "p < 0.001" if p < 0.001 else f"p = {p:.3g}"
    significant = p < SIGNIFICANT
    regressions = (
        f"{mcnemar.only_run} cases regressed only {names[0]} and {mcnemar.only_baseline} "
        f"only {names[1]} (McNemar {p_text})"
        if significant
        else f"McNemar {p_text}"
    )
    mean, low, high = bootstrap.mean_difference, bootstrap.low, bootstrap.high
    if mean is None or low is None or high is None:
        return f"no case has a sent reply in both runs to compare similarity; {regressions}"
    interval = (
        f"({bootstrap.confidence * 100:g}% CI {_number(low, signed=False)} to "
        f"{_number(high, signed=False)})"
    )
    if high < 0:
        return (
            f"similarity to the sent reply fell by {_number(abs(mean), signed=False)} "
            f"{interval}: worse; {regressions}"
        )
    if low > 0:
        return (
            f"similarity to the sent reply rose by {_number(abs(mean), signed=False)} "
            f"{interval}: better; {regressions}"
        )
    subject = "" if not significant else " in similarity to the sent reply"
    return (
        f"no significant change{subject}: mean difference {_number(mean, signed=True)} "
        f"{interval}; {regressions}"
    )


def _number(value: float, *, signed: bool) -> str:
    """Three decimals with a real minus sign; a value that rounds to zero has no sign."""
    text = f"{value:+.3f}" if signed else f"{value:.3f}"
    if float(text) == 0:
        text = "+0.000" if signed else "0.000"
    return text.replace("-", "\N{MINUS SIGN}")


def _rounded(value: float) -> float:
    """Round for the artifact; adding 0.0 turns a rounded −0.0 into 0.0."""
    return round(value, DIGITS) + 0.0
