"""Text comparison of a new draft with the original: pure functions, no I/O."""

from __future__ import annotations

import re

from rapidfuzz.distance import Indel

from replay.models import ChangeClass, Comparison

MEASURE = "rapidfuzz Indel normalized similarity on whitespace-normalized text"
MINOR_AT = 0.9
"""Similarity from which a change is `minor` rather than `rewritten`."""

_SPACE = re.compile(r"\s+")


def normalize_space(text: str) -> str:
    """Collapse every run of whitespace to one space and trim the ends."""
    return _SPACE.sub(" ", text).strip()


def compare(original: str, new: str) -> Comparison:
    """Classify how much `new` differs from `original`.

    `identical`: the same text; `whitespace`: the same once whitespace is collapsed; `minor`:
    similarity at least 0.9; `rewritten`: below that.
    """
    a, b = normalize_space(original), normalize_space(new)
    similarity = Indel.normalized_similarity(a, b)
    change: ChangeClass
    if original == new:
        change = "identical"
    elif a == b:
        change = "whitespace"
    elif similarity >= MINOR_AT:
        change = "minor"
    else:
        change = "rewritten"
    return Comparison(
        change_class=change,
        similarity=round(similarity, 4),
        measure=MEASURE,
        length_change=len(new) - len(original),
    )
