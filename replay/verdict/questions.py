"""The check of a direct question the inbound asked and the draft leaves unanswered. Pure.

A question is a sentence of the inbound (quoted earlier messages left out) that ends with `?`
and has at least three words: deterministic, and what a lead writes when they ask. Whether a
draft answers it is decided lexically, which is why this check is a warning by default, never a
regression on its own:

- a price question ("how much", "cuánto", "wie viel", "combien", "price", "Preis", …) is
  answered by an amount with a currency or a word for price;
- a when or meeting question ("when", "are you free", "can we set up a call", "cuándo",
  "wann", "quand", …) by a day, a clock time or a booking link;
- any other question by one of its content words (four letters or more, not a stopword,
  compared by their first five letters, accents aside) in the draft, or, when a yes or a no
  answers it (it opens with no question word: "Do you cover…", "¿Tienen…", "Können Sie…"),
  by a yes or a no.

Like every check it runs on the original too: a question neither draft answers is
pre-existing, so what is reported new is a question the original answered and the new draft
does not. Where a judge runs, its `answers` criterion decides instead (`weigh`): agreed in both
orders that the original answers better, the new unanswered questions are confirmed and
critical, a regression; agreed that the drafts answer alike or the new one better, the lexical
reading is overruled and they are not reported. A judge that failed, went unscored or whose
orders disagree decides nothing, and the lexical warning stands.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator, Mapping

from replay.models import CaseInput, InvariantChanges, Judgement, Severity, Violation
from replay.verdict import quoting
from replay.verdict.money import HINT, MONEY
from replay.verdict.optout import MEETING

__all__ = ["CODES", "SEVERITY", "questions", "unanswered_question", "weigh"]

CODES: tuple[str, ...] = ("unanswered_question",)
"""The codes of this module, in the order `checks.check` reports them."""
SEVERITY: Mapping[str, Severity] = dict.fromkeys(CODES, "warning")
"""A warning: "answered" is read from words, not meaning, so it informs and never gates (unless
a judge confirms it: `weigh`)."""
MIN_WORDS = 3

_QUESTION = re.compile(r"(?:^|(?<=[.!?\n]))[^.!?\n]*\?")
_WORD = re.compile(r"[^\W\d_]+")
_PRICE = re.compile(
    r"(?i)\b(?:how much|price|pricing|prices|cost|costs|rate|rates|fee|fees|quote|cu[áa]nto"
    r"|precio|precios|cuesta|cuestan|tarifa|wie ?viel|preis|preise|kosten|kostet|combien|prix"
    r"|tarif|tarifs|co[ûu]te)\b"
)
_WHEN = re.compile(
    r"(?i)\b(?:when|what time|what times|which day|what day|free|available|availability"
    r"|cu[áa]ndo|qu[ée] d[íi]a"
    r"|a qu[ée] hora|wann|welcher tag|um wie viel uhr|quand|quel jour|quelle heure|disponible"
    r"|disponibilit[ée])\b"
)
_PRICE_ANSWER = re.compile(
    r"(?i)\b(?:price|pricing|cost|costs|rate|fee|quote|free|precio|cuesta|gratis|tarifa"
    r"|preis|kostet|kostenlos|prix|co[ûu]te|gratuit|tarif)\w*"
)
_WHEN_ANSWER = re.compile(
    r"(?i)\b(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|today|tomorrow|tonight|week|morning"
    r"|afternoon|lunes|martes|mi[ée]rcoles|jueves|viernes|s[áa]bado|domingo|hoy|mañana|semana"
    r"|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|heute|morgen|woche|lundi"
    r"|mardi|mercredi|jeudi|vendredi|samedi|dimanche|aujourd'hui|demain|semaine)\b"
    r"|\b\d{1,2}(?::\d\d)?\s?(?:am|pm|h\b|uhr)|\b\d{1,2}:\d\d\b|https?://"
)
_OPEN = re.compile(
    r"(?i)^\W*(?:(?:also|and|so|y|und|et|aussi),?\s+)?(?:what|which|who|whom|whose|why|how|where"
    r"|when|qu[ée]|cu[áa]l|cu[áa]les|cu[áa]nto|cu[áa]nta|c[óo]mo|d[óo]nde|cu[áa]ndo|qui[ée]n"
    r"|por qu[ée]|was|welche\w*|wer|wen|wem|warum|wieso|wie|wo|wann|woher|wohin|que|quel\w*"
    r"|qui|pourquoi|comment|o[ùu]|quand|combien)\b"
)
"""A question a yes or a no does not answer: every other one is a yes/no question."""
_YES_OR_NO = re.compile(
    r"(?i)\b(?:yes|no|yep|sure|absolutely|definitely|of course|certainly|s[íi]|claro|por supuesto"
    r"|ja|nein|natürlich|gerne|selbstverständlich|oui|non|bien s[ûu]r|volontiers|absolument)\b"
)
_STOPWORDS = frozenset(  # function words and greetings: neither asks nor answers
    """
    about also could does doing have just know like make more need only other some than that
    their them then there these they this those want what when where which while will with
    would your yours please thanks thank hello there could should really still very much
    para pero como este esta estos estas tiene tienen puede pueden hacer sobre quiero
    saber cuál cuáles cuando donde dónde también porque usted ustedes nuestro nuestra
    haben habe kann können könnten wäre würde möchte noch auch eine einen einem einer
    diese dieser dieses wann warum welche welcher wissen bitte danke
    avez vous votre vos nous notre peut pouvez pourriez avoir faire est-ce quel quelle
    quels quelles aussi cette dans pour avec merci bonjour savoir
    dear hola buenos buenas días dias estimado estimada querido querida hallo guten liebe lieber
    bonsoir salut
    """.split()
)


@functools.lru_cache(maxsize=4096)
def questions(inbound: str) -> tuple[str, ...]:
    """The direct questions of an inbound message, as written, its quoted parts left out."""
    text = quoting.QUOTED.sub(" ", inbound)
    found = []
    for match in _QUESTION.finditer(text):
        sentence = " ".join(match[0].split())
        if len(_WORD.findall(sentence)) >= MIN_WORDS:
            found.append(sentence)
    return tuple(found)


def unanswered_question(draft: str, case: CaseInput) -> Iterator[Violation]:
    """Each direct question of the inbound the draft does not answer (lexically)."""
    inbound = "\n".join(part for part in (case.inbound.subject, case.inbound.body) if part)
    asked = questions(inbound)
    if not asked or not draft.strip():
        return
    stems = _stems(draft)
    names = _names(case)
    for question in asked:
        if not _answers(question, draft, stems, names):
            yield Violation(
                code="unanswered_question",
                severity=SEVERITY["unanswered_question"],
                evidence=question,
                key=" ".join(question.lower().split()),
                detail="the inbound asks this and the draft's words answer it nowhere "
                "(a lexical reading: a warning)",
            )


def weigh(changes: InvariantChanges, judgement: Judgement | None) -> InvariantChanges:
    """The new unanswered questions as the judge's `answers` criterion decides them, if it does."""
    said = _judged_answers(judgement)
    if said is None or not any(v.code == "unanswered_question" for v in changes.new):
        return changes
    kept = []
    for violation in changes.new:
        if violation.code != "unanswered_question":
            kept.append(violation)
        elif said == "original":
            detail = (
                "the inbound asks this, the draft's words answer it nowhere, and the judge "
                "found the original answers better in both orders"
            )
            kept.append(violation.model_copy(update={"severity": "critical", "detail": detail}))
    return changes.model_copy(update={"new": kept})


def _judged_answers(judgement: Judgement | None) -> str | None:
    """Which draft the judge found answers better in both orders (`tie`: alike), else None."""
    if judgement is None or judgement.error is not None or not judgement.orders:
        return None
    said = set()
    for order in judgement.orders:
        preference = order.criteria.get("answers")
        if order.preferred is None or preference is None:
            return None  # an unscored order: no decision
        said.add("tie" if preference == "tie" else
                 "original" if preference == order.original_is else "new")  # fmt: skip
    return said.pop() if len(said) == 1 else None


def _answers(question: str, draft: str, stems: frozenset[str], names: frozenset[str]) -> bool:
    if _PRICE.search(question):
        return bool(HINT.search(draft) and MONEY.search(draft)) or bool(_PRICE_ANSWER.search(draft))
    if _WHEN.search(question) or MEETING.search(question):
        return bool(_WHEN_ANSWER.search(draft))
    wanted = _stems(question) - names
    if not wanted or wanted & stems:
        return True
    return not _OPEN.search(question) and bool(_YES_OR_NO.search(draft))


def _names(case: CaseInput) -> frozenset[str]:
    """The lead's and the signer's names and companies: no question asks about them.

    "Hi Grace, how long…" asks nothing about Grace, and a draft signed by Grace answers nothing
    by her name.
    """
    said = [case.lead.get(key) for key in ("first_name", "last_name", "company")]
    said.append(case.client_settings.get("signature"))
    return _stems(" ".join(text for text in said if isinstance(text, str)))


def _stems(text: str) -> frozenset[str]:
    """Content words' first five letters, folded: `delivery` and `delivered` meet at `deliv`."""
    return frozenset(
        _fold(word)[:5]
        for word in _WORD.findall(text)
        if len(word) >= 4 and word.lower() not in _STOPWORDS
    )


@functools.lru_cache(maxsize=65536)
def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))
