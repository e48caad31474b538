"""Text comparison of a new draft with the original draft and the reply a human sent. Pure.

Change classes, from the strictest:

| class | when |
|---|---|
| `identical` | the same characters |
| `whitespace` | the same once runs of whitespace are collapsed |
| `minor` | equal once normalized (case, quotes, dashes, signature block), or similarity >= 0.85 |
| `rewritten` | similarity below 0.85 |

Similarity is rapidfuzz's Indel normalized similarity (1 - insertions and deletions / total
length) on the normalized texts: 1 for equal texts, 0 for texts sharing no character in order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from rapidfuzz.distance import Indel, Levenshtein

from replay.models import ChangeClass, Comparison, DiffSpan

MEASURE = "rapidfuzz Indel normalized similarity of normalized text"
MINOR_AT = 0.85
"""Similarity from which a change is `minor` rather than `rewritten`."""
MAX_SPANS = 40
"""Diff spans kept per case; a longer diff says how many were left out."""

_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_CLOSINGS = re.compile(
    r"^(best|best regards|kind regards|warm regards|regards|thanks|thank you|many thanks|"
    r"cheers|sincerely|talk soon|all the best|speak soon)[,.!]?$",
    re.IGNORECASE,
)
_WORD = re.compile(r"\S+")


def normalize_space(text: str) -> str:
    """Collapse every run of whitespace to one space and trim the ends."""
    return _SPACE.sub(" ", text).strip()


def strip_signature(text: str, signature: str | None = None) -> str:
    """Drop a closing salutation and what follows it in the last lines, and a known signature."""
    if signature and signature.strip() and text.rstrip().endswith(signature.strip()):
        text = text.rstrip()[: -len(signature.strip())]
    lines = text.rstrip().splitlines()
    for index in range(len(lines) - 1, max(len(lines) - 5, -1), -1):
        if _CLOSINGS.match(lines[index].strip()):
            return "\n".join(lines[:index])
    return "\n".join(lines)


def normalize(text: str, signature: str | None = None) -> str:
    """Case, quotes, dashes, whitespace and signature block folded away."""
    return normalize_space(strip_signature(text, signature).translate(_QUOTES).lower())


def similarity(a: str, b: str, signature: str | None = None) -> float:
    """Indel normalized similarity of the normalized texts, rounded to 4 places."""
    return round(Indel.normalized_similarity(normalize(a, signature), normalize(b, signature)), 4)


class WordEdit(NamedTuple):
    """One block of a word-level edit script.

    Words [src_start, src_end) of the old text are kept (`equal`), dropped (`delete`) or become
    words [dest_start, dest_end) of the new one (`replace`, `insert`).
    """

    tag: str
    """`equal`, `replace`, `insert` or `delete`."""
    src_start: int
    src_end: int
    dest_start: int
    dest_end: int


def word_spans(text: str) -> list[tuple[int, int]]:
    """Where each word (a run of non-space) of `text` starts and ends, in characters."""
    return [match.span() for match in _WORD.finditer(text)]


def word_edits(old_words: Sequence[str], new_words: Sequence[str]) -> list[WordEdit]:
    """The edit script from one list of words to another, every word of both covered in order.

    The tool's one word-diff engine: the artifact's `diff` spans (`word_diff`) and the HTML
    report's marks are both drawn from it, so the report never shows a diff the artifact lacks.
    """
    return [
        WordEdit(op.tag, op.src_start, op.src_end, op.dest_start, op.dest_end)
        for op in Levenshtein.opcodes(old_words, new_words)
    ]


def word_diff(old: str, new: str) -> tuple[list[DiffSpan], int]:
    """Word-level spans deleted from `old` and inserted by `new`; and how many were left out."""
    a, b = _WORD.findall(old), _WORD.findall(new)
    spans: list[DiffSpan] = []
    for op in word_edits(a, b):
        start, end = op.src_start, op.src_end
        if op.tag in ("delete", "replace"):
            spans.append(DiffSpan(op="delete", text=" ".join(a[start:end]), at=start))
        if op.tag in ("insert", "replace"):
            inserted = " ".join(b[op.dest_start : op.dest_end])
            spans.append(DiffSpan(op="insert", text=inserted, at=start))
    return spans[:MAX_SPANS], max(len(spans) - MAX_SPANS, 0)


def compare(
    original: str, new: str, *, sent_reply: str | None = None, signature: str | None = None
) -> Comparison:
    """Compare `new` with `original` and, when there is one, with the reply a human sent."""
    # Each text is normalized once: this runs for every case, on the runner's hot path.
    a, b = normalize(original, signature), normalize(new, signature)
    similar = round(Indel.normalized_similarity(a, b), 4)
    change: ChangeClass
    if original == new:
        change = "identical"
    elif normalize_space(original) == normalize_space(new):
        change = "whitespace"
    elif similar >= MINOR_AT or a == b:
        change = "minor"
    else:
        change = "rewritten"
    spans, left_out = word_diff(original, new) if change != "identical" else ([], 0)
    sent_new = sent_original = None
    if sent_reply is not None and sent_reply.strip():
        sent = normalize(sent_reply, signature)
        sent_new = round(Indel.normalized_similarity(sent, b), 4)
        sent_original = round(Indel.normalized_similarity(sent, a), 4)
    return Comparison(
        change_class=change,
        similarity=similar,
        measure=MEASURE,
        length_change=len(new) - len(original),
        diff=spans,
        diff_left_out=left_out,
        sent_similarity_new=sent_new,
        sent_similarity_original=sent_original,
    )
