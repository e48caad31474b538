"""How well a judge's verdicts match a labelled set: proportions with 95 % Wilson intervals.

Every figure is a count of items over a count of items, so each gets the same interval; Wilson's
stays inside [0, 1] and means something at the few dozen items a team labels by hand, where the
normal approximation does not. An item the judge left unscored or could not answer counts
against agreement and recall: a judge that does not answer must not look better for it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Literal

from replay.models import Judgement, Strict
from replay.ops.judge_set import Label, LabelledItem
from replay.run.judge import CRITERIA

Z95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95 % interval."""
DIGITS = 4
VERDICTS = ("original", "new", "tie", "unscored", "error")
LABELS: tuple[Label, ...] = ("original", "new", "tie")
Side = Literal["original", "new", "tie"]


class Proportion(Strict):
    """`count` of `of` items, with its 95 % Wilson interval; no value when `of` is 0."""

    count: int
    of: int
    value: float | None
    low: float | None
    high: float | None


class Metrics(Strict):
    """The judge against the labels, over a set or one criterion of it."""

    items: int
    """Items labelled (on this criterion, for a criterion)."""
    agreement: Proportion
    """Items whose verdict is the label, of all items."""
    precision: Proportion
    """Of the items the judge said the original is better, those labelled so."""
    recall: Proportion
    """Of the items labelled "the original is better", those the judge said so of."""
    position_bias: Proportion
    """Items whose two orders disagree (the verdict flips with the order), of the items asked
    in both orders with a usable answer to each."""
    unscored: Proportion
    """Items whose answer never validated, of all items."""
    errors: Proportion
    """Items the judge could not be asked about (`judge_error`), of all items."""
    corrected: Proportion | None = None
    """Orders whose first answer was unusable and needed the corrective retry, of the orders
    asked (of items the judge answered): a judge right only when told twice costs twice."""


def wilson(count: int, of: int, z: float = Z95) -> Proportion:
    """`count` of `of` with its Wilson score interval."""
    if of == 0:
        return Proportion(count=count, of=of, value=None, low=None, high=None)
    p = count / of
    spread = z * z / of
    centre = (p + spread / 2) / (1 + spread)
    half = z * math.sqrt(p * (1 - p) / of + spread / (4 * of)) / (1 + spread)
    return Proportion(
        count=count,
        of=of,
        value=round(p, DIGITS),
        low=round(max(0.0, centre - half), DIGITS),
        high=round(min(1.0, centre + half), DIGITS),
    )


def overall(items: Sequence[LabelledItem], judged: Sequence[Judgement]) -> Metrics:
    """The judge's overall verdicts against the items' labels."""
    pairs = [(item.label, judgement.verdict) for item, judgement in zip(items, judged, strict=True)]
    answered = [judgement for judgement in judged if judgement.verdict != "error"]
    orders = sum(len(judgement.orders) for judgement in answered)
    corrected = wilson(sum(_corrections(judgement) for judgement in answered), orders)
    flips = [_flipped(judgement, None) for judgement in judged]
    return _metrics(pairs, flips).model_copy(update={"corrected": corrected})


def per_criterion(items: Sequence[LabelledItem], judged: Sequence[Judgement]) -> dict[str, Metrics]:
    """The judge's per-criterion preferences against the criteria someone labelled."""
    found: dict[str, Metrics] = {}
    for name in CRITERIA:
        labelled = [
            (item.criteria[name], judgement)
            for item, judgement in zip(items, judged, strict=True)
            if name in item.criteria
        ]
        if labelled:
            pairs = [(label, _criterion(judgement, name)) for label, judgement in labelled]
            flips = [_flipped(judgement, name) for _, judgement in labelled]
            found[name] = _metrics(pairs, flips)
    return found


def per_kind(items: Sequence[LabelledItem], judged: Sequence[Judgement]) -> dict[str, Proportion]:
    """Agreement per kind of item, for the items that name one."""
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for item, judgement in zip(items, judged, strict=True):
        if item.kind is not None:
            total[item.kind] += 1
            right[item.kind] += judgement.verdict == item.label
    return {kind: wilson(right[kind], total[kind]) for kind in sorted(total)}


def confusion(
    items: Sequence[LabelledItem], judged: Sequence[Judgement]
) -> dict[str, dict[str, int]]:
    """Label -> verdict -> items: where the disagreements are."""
    table: dict[str, dict[str, int]] = {label: dict.fromkeys(VERDICTS, 0) for label in LABELS}
    for item, judgement in zip(items, judged, strict=True):
        table[item.label][judgement.verdict] += 1
    return table


def _metrics(pairs: Sequence[tuple[str, str | None]], flips: Iterable[bool | None]) -> Metrics:
    said_original = [label for label, verdict in pairs if verdict == "original"]
    labelled_original = [verdict for label, verdict in pairs if label == "original"]
    asked = [flip for flip in flips if flip is not None]
    return Metrics(
        items=len(pairs),
        agreement=wilson(sum(label == verdict for label, verdict in pairs), len(pairs)),
        precision=wilson(said_original.count("original"), len(said_original)),
        recall=wilson(labelled_original.count("original"), len(labelled_original)),
        position_bias=wilson(sum(asked), len(asked)),
        unscored=wilson(sum(verdict == "unscored" for _, verdict in pairs), len(pairs)),
        errors=wilson(sum(verdict == "error" for _, verdict in pairs), len(pairs)),
    )


def _criterion(judgement: Judgement, name: str) -> str | None:
    """The judge's preference on one criterion; drafts alike (never asked) tie on every one."""
    if judgement.verdict in ("unscored", "error"):
        return judgement.verdict
    if not judgement.orders:
        return "tie"
    return judgement.criteria.get(name)


def _flipped(judgement: Judgement, name: str | None) -> bool | None:
    """Whether the two orders prefer different drafts (overall, or on criterion `name`).

    None when the item was not asked in both orders with a usable answer to each.
    """
    sides: list[Side] = []
    for order in judgement.orders:
        preferred = order.preferred if name is None else order.criteria.get(name)
        if preferred is None:
            return None
        if preferred == "tie":
            sides.append("tie")
        else:
            sides.append("original" if preferred == order.original_is else "new")
    return sides[0] != sides[1] if len(sides) == 2 else None


def _corrections(judgement: Judgement) -> int:
    """Orders asked twice because the first answer was unusable.

    Each order makes one successful request, and a second after an unusable answer; a
    successful attempt beyond one per order is a correction.
    """
    answered = sum(1 for attempt in judgement.attempts if attempt.error_class is None)
    return max(0, answered - len(judgement.orders))
