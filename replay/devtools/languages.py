"""The languages the fixtures and the deterministic drafts speak, each by its ISO 639-1 code."""

from __future__ import annotations

from collections.abc import Mapping

from replay.devtools import corpus, french, german, locales, phrases, spanish

LANGUAGES: tuple[str, ...] = ("en", "es", "de", "fr")
WORDINGS: Mapping[str, phrases.Wording] = {
    "en": phrases.ENGLISH, "es": spanish.WORDING, "de": german.WORDING, "fr": french.WORDING,
}  # fmt: skip
"""How drafts are worded, by language."""
LOCALES: Mapping[str, locales.Locale] = {
    "en": corpus.ENGLISH, "es": spanish.LOCALE, "de": german.LOCALE, "fr": french.LOCALE,
}  # fmt: skip
"""What the fixture generator writes, by language."""
NO_COMMA: frozenset[str] = frozenset().union(*(w.no_comma for w in WORDINGS.values()))
"""Sign-offs of any language that take no comma after them."""


def language_code(text: str) -> str | None:
    """The code a prompt or setting names a language by: `es`, `Spanish`, `Deutsch`."""
    word = text.strip().split(maxsplit=1)[0].strip("()[],.;:\"'").casefold() if text else ""
    return _NAMES.get(word)


_NAMES = {
    name: code
    for code, names in (
        ("en", "en english inglés anglais englisch"),
        ("es", "es spanish español espagnol spanisch castellano"),
        ("de", "de german deutsch alemán allemand"),
        ("fr", "fr french français francais francés französisch"),
    )
    for name in names.split()
}
