"""Checks of mistakes a model makes in the draft's own text: cut off, looped, signed wrongly. Pure.

Unlike the fact checks of `checks.py`, these read the draft's shape, not its claims: where it
stops, what it says twice, and whose name it signs with. Each keys its violation so that the same
shape in the original draft makes it pre-existing: a client whose drafts never end in a full stop
is not blamed on the change.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

from replay.models import Severity, Violation

__all__ = ["CODES", "SEVERITY", "repeated_text", "truncated", "wrong_signature"]

CODES: tuple[str, ...] = ("truncated", "repeated_text", "wrong_signature")
"""The codes of this module, in the order `checks.check` reports them."""
SEVERITY: Mapping[str, Severity] = dict.fromkeys(CODES, "critical")
"""All critical: a cut-off draft, a looped sentence and another person's name are each sent
as they are unless a human catches them. `repeated_text` stays critical by firing only on a
whole sentence of 6+ words (or a paragraph of 6+ words): shorter repeats ("Thanks!") are often
deliberate, so they are not reported at all rather than reported as noise."""

MIN_REPEATED_WORDS = 6
"""A sentence or paragraph this long said twice is a loop, not a turn of phrase. Its words are
what spaces separate that hold a letter or digit: `$2,500` is one, a lone `€` or `-` is not."""
_TOKEN = re.compile(r"[^\s\w]*\w\S*")

_CLOSERS = frozenset(".!?…)]}>\"'»”’:")
"""A last character that closes a sentence, a bracket or a quote."""
_MARKUP = "*_~ \t\r\n"
"""Markdown emphasis around the last word does not open or close anything."""
_EMOJI_TAIL = "\ufe0f\u200d"
"""Variation selector and joiner: part of the emoji before them."""
_SENTENCE_END = re.compile(r"[.!?…][\"')\]»”’]*\s")
_LINK_TAIL = re.compile(
    r"(?i)(?:https?://|www\.)\S+|[\w.%+-]+@[\w-]+(?:\.[\w-]+)+|(?:[\w-]+\.)+[a-z]{2,}(?:/\S*)?"
)
_SIGNOFF = (
    r"(?:(?:best|kind|warm|warmest|many)\s+(?:regards|wishes|thanks)|best|thanks(?:\s+again)?"
    r"|thank\s+you|regards|cheers|all\s+the\s+best|sincerely(?:\s+yours)?|yours(?:\s+truly)?"
    r"|warmly|talk\s+soon|speak\s+soon|take\s+care"
    r"|(?:un\s+)?(?:cordial\s+)?saludos?(?:\s+cordiales)?|atentamente|gracias|muchas\s+gracias"
    r"|un\s+abrazo|hasta\s+pronto"
    r"|(?:(?:danke\s+und\s+)?(?:viele|beste|liebe|freundliche)\s+)?gr[üu](?:ß|ss)e"
    r"|mit\s+freundlichen\s+gr[üu](?:ß|ss)en|danke(?:\s+sch[öo]n)?|bis\s+bald"
    r"|cordialement|bien\s+(?:[àa]\s+vous|cordialement)|merci(?:\s+beaucoup)?|belle\s+journ[ée]e"
    r"|bonne\s+journ[ée]e|[àa]\s+bient[ôo]t|sinc[èe]res\s+salutations)"
)
"""A sign-off in English, Spanish, German or French."""
_SIGNOFF_LINE = re.compile(rf"(?i)^{_SIGNOFF}\s*[,!.:\u2014\u2013-]?$")
"""A line that is only a sign-off: its name, if any, is on the next line."""
_SIGNOFF_INLINE = re.compile(rf"(?i)^{_SIGNOFF}\s*[,\u2014\u2013-]\s*(?P<name>[^.!?]+)$")
"""A sign-off and its name on one line: `Thanks, Anna`."""
_DASH_SIGNATURE = re.compile(
    r"[.!?…)\"'”’]\s+[-\u2013\u2014]\s*(?P<name>(?:[^\n.!?]|\.(?=[ \t]*[^\s.!?]))+)$"
)
"""An SMS signature after a closed sentence: `… See you then. - Anna Berg, Acme`; a stop inside
it is an abbreviation (`Praxis Dr. Weiß`). Searched in the draft's last SIGNATURE_SPAN
characters only: a signature is short, and a stop may go on, so a whole long draft of
`x. - Y. ` would take quadratic time."""
SIGNATURE_SPAN = 200
_NAME_SEGMENT = re.compile(r"\s*(?:[,;|(]|\s[-\u2013\u2014]\s)\s*")
"""Where a signature's name ends and a title, company or phone begins."""
_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE = re.compile(r"(?<=[.!?…])[ \t]+|[ \t]*\n\s*")
"""Sentences end at a stop or a line: a list item is one even without its full stop."""
_NOT_A_NAME = frozenset({
    "the", "team", "crew", "staff", "office", "support", "sales", "service", "services", "from",
    "at", "of", "and", "on", "behalf", "inc", "llc", "llp", "ltd", "co", "gmbh",
})  # fmt: skip
"""Words a sign-off may add to a name without naming anyone else."""
_PARTICLES = frozenset(
    "de del la las los y du des le les et von van der den zu und e di da".split()
)
"""The small words inside names and companies (`Cabinet Dentaire du Parc`): never a name's
first or last word, so `Merci de` stays a sentence cut short."""
_IDENTITY_KEYS = ("signature", "agent_name")
"""Client settings that say who signs: without one, `wrong_signature` has nothing to compare."""
_ALSO_KEYS = ("persona", "company", "company_name", "business_name", "name", "sender_name")
"""Client settings whose names a draft may also sign with (the company alone, say)."""
_MAX_NAME_WORDS = 6


# --- truncated ----------------------------------------------------------------------------------


def truncated(
    draft: str, settings: Mapping[str, Any], finish_reason: str | None = None
) -> Iterator[Violation]:
    """The draft stops mid-sentence, or its model said it stopped at the token limit.

    `finish_reason` is known only for a draft the run received; the original is checked
    without it, so its text alone decides. A one-line fragment without a closed sentence is
    not judged: there is no sign that more was meant to follow.
    """
    open_tail = _open_tail(draft, settings)
    if finish_reason == "length":
        detail = "the model stopped at its output token limit"
        if open_tail is not None:
            detail += f"; the draft ends: {open_tail!r}"
        yield _violation("truncated", 'finish_reason "length"', "truncated", detail)
    elif open_tail is not None:
        detail = "the draft ends without closing its sentence"
        yield _violation("truncated", open_tail, "truncated", detail)


def _open_tail(draft: str, settings: Mapping[str, Any]) -> str | None:
    """The unclosed end of `draft` (at most its last 60 characters), or None if it closes."""
    text = draft.rstrip(_MARKUP)
    if not text.rstrip(_EMOJI_TAIL):
        return None  # nothing but markup and joiners: nothing was said, so nothing was cut
    last = text.rstrip(_EMOJI_TAIL)[-1]
    if last in _CLOSERS or unicodedata.category(last) in ("So", "Sk"):
        return None
    head, _, last_line = text.rpartition("\n")
    if not head.strip() and not _SENTENCE_END.search(text):
        return None  # one unpunctuated line: a fragment, not a draft that stopped
    line = last_line.strip()
    tokens = text.split()
    if _LINK_TAIL.fullmatch(tokens[-1].lstrip("(<[\"'")):
        return None
    if _SIGNOFF_LINE.match(line) or _signs_off(_SIGNOFF_INLINE.match(line)):
        return None
    if _signs_off(_DASH_SIGNATURE.search(text[-SIGNATURE_SPAN:])):
        return None
    if head.strip() and _is_name_line(line):
        return None
    lowered = text.casefold()
    if any(lowered.endswith(name.casefold()) for name in _identities(settings)):
        return None
    if len(line) <= 60:
        return line
    return "…" + line[-59:].partition(" ")[2]  # whole words: the evidence is read, not parsed


def _signs_off(match: re.Match[str] | None) -> bool:
    """A sign-off or dash match whose name part is a name, not the rest of a sentence."""
    return match is not None and _is_name_line(match["name"])


def _is_name_line(line: str) -> bool:
    """A short line of capitalized words: `Anna Berg`, `Anna Berg, Acme Roofing`.

    Not one ending in a comma: that is a greeting (`Hi Anna,`) or a sentence going on.
    """
    words = _WORD.findall(line)
    if not words or len(words) > _MAX_NAME_WORDS or line.rstrip()[-1:] in ".!?,":
        return False
    inner = {word.casefold() for word in words[1:-1]} & _PARTICLES
    return all(not w[0].islower() or w.casefold() in _NOT_A_NAME | inner for w in words)


# --- repeated_text ------------------------------------------------------------------------------


def repeated_text(draft: str) -> Iterator[Violation]:
    """A paragraph or sentence of 6+ words said twice (case and whitespace aside).

    A repeated paragraph is reported once, not again for each of its sentences. Quoted lines
    (`> …`) are left out: quoting the lead's message is not saying it twice.
    """
    folded = draft.casefold()
    if _all_distinct(_PARAGRAPH.split(folded)) and _all_distinct(_SENTENCE.split(folded)):
        return  # most drafts: nothing said twice, decided without the full reading
    blocks = _PARAGRAPH.split(draft)
    paragraphs = [
        "\n".join(line for line in block.splitlines() if not line.lstrip().startswith(">"))
        for block in blocks
    ]
    reported: set[str] = set()
    for unit in _repeats(p for p in paragraphs if p.strip()):
        reported |= {_normal(s) for s in _sentences(unit)} | {_normal(unit)}
        yield _repeated(unit)
    for unit in _repeats(s for p in paragraphs for s in _sentences(p)):
        if _normal(unit) not in reported:
            yield _repeated(unit)


def _all_distinct(folded: list[str]) -> bool:
    """Whether no two of these case-folded units are the same, whitespace aside."""
    keys = [" ".join(unit.split()).rstrip(".!?… ") for unit in folded]
    keys = [key for key in keys if key]
    return len(set(keys)) == len(keys)


def _repeats(units: Iterator[str]) -> Iterator[str]:
    """Each unit of 6+ words met a second time, as first written, once."""
    first: dict[str, str] = {}
    done: set[str] = set()
    for unit in units:
        key = _normal(unit)
        if len(_TOKEN.findall(key)) < MIN_REPEATED_WORDS or key in done:
            continue
        if key in first:
            done.add(key)
            yield first[key]
        else:
            first[key] = unit.strip()


def _sentences(paragraph: str) -> list[str]:
    return _SENTENCE.split(paragraph)


def _normal(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(".!?… ")


def _repeated(unit: str) -> Violation:
    kind = "paragraph" if "\n" in unit or len(_sentences(unit)) > 1 else "sentence"
    detail = f"the same {kind} appears twice"
    return _violation("repeated_text", " ".join(unit.split()), _normal(unit), detail)


# --- wrong_signature ----------------------------------------------------------------------------


def wrong_signature(draft: str, settings: Mapping[str, Any]) -> Iterator[Violation]:
    """The sign-off names someone the client settings do not: another person or company.

    Compared only when the settings give a `signature` or an `agent_name`: without one there is
    no evidence of who should sign, so nothing is reported. The name is the first line after a
    sign-off (`Best,` / `Thanks,` …), the rest of a `Thanks, Anna` line, or an SMS's `- Anna`
    after its last sentence, up to a comma or bar (a title or phone may follow). It passes when
    each of its words, case aside, is a word of those settings or the initial of one.
    """
    identities = _identities(settings)
    if not identities:
        return
    name = _signed_name(draft)
    if name is None:
        return
    known = _known_words(tuple(_known_texts(settings)))
    words = [w for w in _WORD.findall(name) if w.casefold() not in _NOT_A_NAME]
    unknown = [w for w in words if not _is_known(w, known)]
    if unknown:
        detail = f"signs as {name!r}, but the client signs as {identities[0]!r}"
        key = " ".join(w.casefold() for w in words)
        yield _violation("wrong_signature", name, key, detail)


def _signed_name(draft: str) -> str | None:
    """The name a draft signs with, if it signs with one."""
    lines = [line.strip() for line in draft.rstrip().splitlines() if line.strip()]
    # Never the first line: a draft opens with a greeting (`Thanks, Anna!`), not a sign-off.
    for index in range(len(lines) - 1, max(len(lines) - 5, 0), -1):
        line = lines[index]
        inline = _SIGNOFF_INLINE.match(line)
        if inline is not None and _signs_off(inline):
            return _name_segment(inline["name"])
        if _SIGNOFF_LINE.match(line):
            after = lines[index + 1] if index + 1 < len(lines) else ""
            return _name_segment(after) if after and _is_name_line(after) else None
    dashed = _DASH_SIGNATURE.search(draft.rstrip()[-SIGNATURE_SPAN:])
    if dashed is not None and _signs_off(dashed):
        return _name_segment(dashed["name"])
    return None


def _name_segment(line: str) -> str | None:
    """The name part of a signature line; None for a template slot (`unresolved_placeholder`)."""
    if any(mark in line for mark in "[]{}<>%"):
        return None
    segment = _NAME_SEGMENT.split(line.strip(), maxsplit=1)[0].strip()
    return segment if _WORD.search(segment) else None


@functools.lru_cache(maxsize=256)
def _known_words(texts: tuple[str, ...]) -> frozenset[str]:
    """The words of a client's names, cached: every case of a client shares its settings."""
    return frozenset(w.casefold().rstrip(".") for text in texts for w in _WORD.findall(text))


def _is_known(word: str, known: frozenset[str]) -> bool:
    folded = word.casefold().rstrip(".")
    if folded in known:
        return True
    return len(folded) == 1 and any(k.startswith(folded) for k in known)  # an initial: `Anna B.`


def _identities(settings: Mapping[str, Any]) -> list[str]:
    """The settings' `signature` and `agent_name`, where given."""
    values = (settings.get(key) for key in _IDENTITY_KEYS)
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def _known_texts(settings: Mapping[str, Any]) -> list[str]:
    values = (settings.get(key) for key in (*_IDENTITY_KEYS, *_ALSO_KEYS))
    return [v for v in values if isinstance(v, str)]


def _violation(code: str, evidence: str, key: str, detail: str) -> Violation:
    return Violation(code=code, severity=SEVERITY[code], evidence=evidence, key=key, detail=detail)
