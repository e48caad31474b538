"""The check of the language a draft is written in: the inbound's, or the lead cannot read it. Pure.

The reference is the inbound's language, not the conversation's first one: a lead who switches
to Spanish is answered in Spanish, so a draft that keeps to the thread's English is flagged.
Only when the inbound is too short or too ambiguous to tell ("Ok", "Gracias") do the thread's
latest inbound messages decide, newest first; without any, there is no evidence and no verdict.

A text's language is lingua's answer, restricted to the languages of `LANGUAGES` and to a
minimum relative distance between the best two, so an ambiguous text is "unknown" rather than
guessed. Capitalized words with a non-ASCII letter (`Müller`, `Wärmepumpe`) are left out first:
lingua reads such letters as a strong sign of a language, and in a name or product they are not.

Most texts are plainly in one language: when their common words are overwhelmingly its own
(`PLAIN_WORDS`), lingua is not asked, which keeps a draft's check to tens of microseconds. A
mismatch is reported only when lingua is confident of both languages.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from replay.models import CaseInput, Severity, Violation
from replay.verdict import quoting

__all__ = ["CODES", "LANGUAGES", "SEVERITY", "detected", "language_mismatch"]

CODES: tuple[str, ...] = ("language_mismatch",)
"""The codes of this module, in the order `checks.check` reports them."""
SEVERITY: Mapping[str, Severity] = dict.fromkeys(CODES, "critical")
"""Critical: a lead answered in a language they did not write in may not read the reply at all."""

LANGUAGES: tuple[Language, ...] = (
    Language.ENGLISH, Language.SPANISH, Language.GERMAN, Language.FRENCH, Language.ITALIAN,
    Language.PORTUGUESE, Language.DUTCH,
)  # fmt: skip
"""The languages told apart. Fewer candidates make short texts surer and detection cheaper; a
text in another language is read as its nearest one here, alike for inbound and draft."""
MIN_RELATIVE_DISTANCE = 0.25
"""lingua's margin between the two likeliest languages, below which it answers "unknown"."""
MIN_CONFIDENCE = 0.6
"""The confidence both texts need before a mismatch is reported."""
MIN_WORDS = 3
"""Fewer words than this are too few to tell a language by: "Ok", "Muchas gracias"."""
THREAD_MESSAGES = 3
"""How many of the thread's latest inbound messages may stand in for a too-short inbound."""
MAX_CHARS = 2000
"""Only a text's first characters are read: they tell its language, and lingua's time grows
with the length (an inbound with a pasted attachment can be megabytes)."""

_QUOTED = re.compile(rf"{quoting.QUOTED_PATTERN}|^-- ?$[\s\S]*", re.IGNORECASE | re.MULTILINE)
"""Quoted earlier messages, reply headers and what follows them, and a `-- ` signature."""
_LINK = re.compile(r"(?i)https?://\S+|www\.\S+")
_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
_NON_ASCII_WORD = re.compile(r"\b\w*[^\W\x00-\x7f]\w*")
"""A word with a letter outside ASCII: `Müller`, `Wärmepumpe`, `gracias` not."""
_WORD = re.compile(r"[^\W\d_]{2,}")

PLAIN_WORDS: Mapping[Language, frozenset[str]] = {
    language: frozenset(words.split())
    for language, words in (
        (Language.ENGLISH, "the and you your to for with we are this that would our have please "
         "thanks thank let know if any just what when how there be of it is on at can"),
        (Language.SPANISH, "el la los las que de en por para con un una es su tu nos muy gracias "
         "hola pero como más este esta del al lo se usted podemos"),
        (Language.GERMAN, "der die das und ist nicht ich sie wir mit für auf ein eine den dem zu "
         "es gerne ihr ihnen uns bitte danke auch wie noch kann können"),
        (Language.FRENCH, "le la les et est pas je vous nous avec pour sur un une des du que qui "
         "merci bonjour ce cette votre vos notre mais dans au"),
        (Language.ITALIAN, "il lo la gli le non che di per con un una sono grazie ciao ci mi ti "
         "della del nel questo anche come vostro"),
        (Language.PORTUGUESE, "os as não que de do da em para com um uma obrigado obrigada olá "
         "você nós mas como seu sua no na"),
        (Language.DUTCH, "de het een en is niet ik je jij wij we met voor op van dat die dank "
         "bedankt graag ook maar zijn hebben kunnen"),
    )
}  # fmt: skip
"""Common words of each language, some shared (`de`, `la`, `die`). A text with at least
`PLAIN_HITS` of one language's, and four times as many as of any other's, is in that language
without asking lingua: a text in another language never has so many."""
PLAIN_HITS = 4


def language_mismatch(draft: str, case: CaseInput) -> Iterator[Violation]:
    """The draft is confidently in one language and the inbound (or thread) in another.

    Keyed by the draft's language, so an original in the same wrong language makes it
    pre-existing. A mixed draft is judged by the language most of it is in.
    """
    reference = _reference(
        case.inbound.subject or "",
        case.inbound.body,
        tuple(m.body or "" for m in reversed(case.thread) if m.direction == "inbound"),
    )
    if reference is None:
        return
    language, source, read = reference
    text = _readable(draft)
    written = _language_of(text)
    if written is None or written == language:
        return
    if not _sure(text, written) or not _sure(read, language):
        return
    drafted, expected = written.name.title(), language.name.title()
    evidence = f"draft in {drafted}, {source} in {expected}"
    detail = f"the lead wrote in {expected}" + (
        "" if source == "inbound" else "; the inbound is too short to tell, so the thread decides"
    )
    yield Violation(
        code="language_mismatch", severity=SEVERITY["language_mismatch"], evidence=evidence,
        key=written.iso_code_639_1.name.lower(), detail=detail,
    )  # fmt: skip


def detected(text: str) -> Language | None:
    """The language `text` is written in, or None when it is too short or ambiguous to tell."""
    return _language_of(_readable(text))


@functools.lru_cache(maxsize=1024)
def _reference(
    subject: str, body: str, thread: tuple[str, ...]
) -> tuple[Language, str, str] | None:
    """The inbound's language, else its thread's latest inbound one's: which it was, and its text.

    Cached: a case's drafts (original, new, control) share their inbound.
    """
    for source, raw in (
        ("inbound", f"{subject}\n{body}"),
        *(("thread", t) for t in thread[:THREAD_MESSAGES]),
    ):
        text = _readable(raw)
        language = _language_of(text)
        if language is not None:
            return language, source, text
    return None


def _language_of(text: str) -> Language | None:
    """Its common words' language if plain, else lingua's answer; None below `MIN_WORDS`."""
    words = _WORD.findall(text.lower())
    if len(words) < MIN_WORDS:
        return None
    return _plain(words) or _detector().detect_language_of(text)


def _plain(words: Sequence[str]) -> Language | None:
    """The language whose common words `words` plainly are, if one's are."""
    counts = {
        language: sum(map(common.__contains__, words)) for language, common in PLAIN_WORDS.items()
    }
    best, second, *_ = sorted(counts.values(), reverse=True)
    if best < PLAIN_HITS or 4 * second > best:
        return None
    return next(language for language, count in counts.items() if count == best)


def _readable(text: str) -> str:
    """The text the author wrote: no quoted reply, signature block, link, or marked name."""
    text = _QUOTED.sub("", text[: 10 * MAX_CHARS])[:MAX_CHARS]
    if "@" in text:
        text = _EMAIL.sub(" ", text)
    if "://" in text or "www." in text.lower():
        text = _LINK.sub(" ", text)
    return text if text.isascii() else _NON_ASCII_WORD.sub(_unmark, text)


def _unmark(match: re.Match[str]) -> str:
    """A capitalized word with a non-ASCII letter is a name or a product: left out."""
    word = match[0]
    return " " if word[0].isupper() else word


def _detect(text: str) -> Language | None:
    if len(_WORD.findall(text)) < MIN_WORDS:
        return None
    return _detector().detect_language_of(text)


def _sure(text: str, language: Language) -> bool:
    """Whether `language` is sure enough for `text` to report a mismatch.

    Plainly its common words (`_plain`), or lingua confident of it: a short message with a
    few names spreads lingua's confidence over the languages, though its words are plain.
    """
    if _plain(_WORD.findall(text.lower())) == language:
        return True
    return _detector().compute_language_confidence(text, language) >= MIN_CONFIDENCE


def warm() -> None:
    """Load the detector's models now, which takes about a second.

    Called off the event loop before the first case, so no case in flight waits for it.
    """
    _detector()


@functools.cache
def _detector() -> LanguageDetector:
    """Built once per process, on first use, with every language's models loaded at once."""
    builder = LanguageDetectorBuilder.from_languages(*LANGUAGES).with_preloaded_language_models()
    return builder.with_minimum_relative_distance(MIN_RELATIVE_DISTANCE).build()
