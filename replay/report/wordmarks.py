"""Texts as escaped HTML with words marked: `<del>`/`<ins>` for a word diff, `<mark>` for evidence.

The diff is over words (runs of non-space), not characters: a draft rewritten in places reads
as whole words struck and added. Words and edits come from `replay.verdict.textdiff`, the engine
that writes the artifact's `diff` spans, so the page and the artifact never disagree about what
changed (the artifact keeps the first `MAX_SPANS` spans; the page marks them all). Everything
between the tags is escaped.
"""

from __future__ import annotations

import html
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from replay.verdict import textdiff

_Spans = list[tuple[int, int]]
_Ranges = list[tuple[int, int, str]]


class SideBySide(NamedTuple):
    """Two drafts marked against each other."""

    original: str
    """The original with the words the new draft dropped in `<del>`."""
    new: str
    """The new draft with its added words in `<ins>` and the evidence in `<mark>`."""


def side_by_side(original: str, new: str, evidence: Iterable[str]) -> SideBySide:
    """Mark the words only `original` has, and those only `new` has and the evidence in it."""
    spans_a, spans_b, opcodes = _opcodes(original, new)
    left: _Ranges = []
    right = _evidence(new, evidence)
    for tag, i1, i2, j1, j2 in opcodes:
        if tag in ("delete", "replace"):
            left.append((spans_a[i1][0], spans_a[i2 - 1][1], "del"))
        if tag in ("insert", "replace"):
            right.append((spans_b[j1][0], spans_b[j2 - 1][1], "ins"))
    return SideBySide(_marked(original, left), _marked(new, right))


def highlighted(text: str, evidence: Iterable[str]) -> str:
    """Mark every occurrence of each piece of evidence in `text`, ignoring case."""
    return _marked(text, _evidence(text, evidence))


def inline(a: str, b: str) -> str:
    """Write `b` with the words only `a` has struck out in place and those only `b` has marked."""
    spans_a, spans_b, opcodes = _opcodes(a, b)
    out, pos = [], 0
    for tag, i1, i2, j1, j2 in opcodes:
        if tag in ("delete", "replace"):
            gone = f"<del>{_e(a[spans_a[i1][0] : spans_a[i2 - 1][1]])}</del>"
            out.append(f"{gone} " if pos == 0 else f" {gone}")
        if j2 > j1:
            start, end = spans_b[j1][0], spans_b[j2 - 1][1]
            piece = _e(b[start:end])
            out.append(_e(b[pos:start]) + (piece if tag == "equal" else f"<ins>{piece}</ins>"))
            pos = end
    return "".join(out) + _e(b[pos:])


def _opcodes(a: str, b: str) -> tuple[_Spans, _Spans, Sequence[textdiff.WordEdit]]:
    """Word spans of both texts and the word edits between them, from the artifact's engine."""
    spans_a, spans_b = textdiff.word_spans(a), textdiff.word_spans(b)
    edits = textdiff.word_edits([a[s:e] for s, e in spans_a], [b[s:e] for s, e in spans_b])
    return spans_a, spans_b, _joined(edits)


def _joined(edits: Iterable[textdiff.WordEdit]) -> list[textdiff.WordEdit]:
    """Join edits that touch into one block, so a rewritten stretch reads as one struck run.

    The engine may split a stretch into a replace and a delete side by side; joined, the same
    words are marked, in one tag instead of two.
    """
    blocks: list[textdiff.WordEdit] = []
    for edit in edits:
        last = blocks[-1] if blocks else None
        if last is None or edit.tag == "equal" or last.tag == "equal":
            blocks.append(edit)
            continue
        src, dest = edit.src_end > last.src_start, edit.dest_end > last.dest_start
        tag = "replace" if src and dest else "delete" if src else "insert"
        blocks[-1] = last._replace(tag=tag, src_end=edit.src_end, dest_end=edit.dest_end)
    return blocks


def _marked(text: str, ranges: _Ranges) -> str:
    """Escape `text` with character ranges wrapped in their tags (`ins`, `del`, `mark`).

    Ranges may overlap; each piece between two range edges is wrapped whole, so tags always nest.
    """
    edges: dict[int, Counter[str]] = {0: Counter(), len(text): Counter()}
    for start, end, tag in ranges:
        edges.setdefault(start, Counter())[tag] += 1
        edges.setdefault(end, Counter())[tag] -= 1
    depth: Counter[str] = Counter()
    out = []
    for start, end in itertools.pairwise(sorted(edges)):
        depth.update(edges[start])
        piece = _e(text[start:end])
        for tag in ("mark", "ins", "del"):
            if depth[tag] > 0:
                piece = f"<{tag}>{piece}</{tag}>"
        out.append(piece)
    return "".join(out)


def _evidence(text: str, evidence: Iterable[str]) -> _Ranges:
    ranges: _Ranges = []
    for needle in {item for item in evidence if item}:
        pattern = re.compile(re.escape(needle), re.IGNORECASE)
        ranges.extend((m.start(), m.end(), "mark") for m in pattern.finditer(text))
    return ranges


def _e(text: str) -> str:
    return html.escape(text, quote=True)
