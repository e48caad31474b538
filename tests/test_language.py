"""The check of a draft's language: the inbound's, or the thread's when the inbound cannot tell."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from replay.models import CaseInput, InboundMessage, ThreadMessage
from replay.verdict import checks, language, names, policy, times
from replay.verdict.checks import InvariantConfig
from tests.helpers import check_except_questions as check

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
SPANISH = "Hola, ¿cuánto cuesta la inspección del techo? Queremos hacerla este mes."
ENGLISH = "Hi, how much is a roof inspection? We would like to get it done this month."
GERMAN = "Hallo, was kostet eine Dachinspektion? Wir möchten sie noch diesen Monat machen."

TO_SPANISH = (
    "Hola María,\n\nGracias por escribirnos. La inspección del techo cuesta $450 y podemos "
    "hacerla esta semana.\n\nSaludos,\nDana"
)
TO_ENGLISH = (
    "Hi Maria,\n\nThanks for reaching out. A roof inspection is $450 and we can do it this "
    "week.\n\nBest,\nDana"
)
TO_GERMAN = (
    "Hallo Maria,\n\nvielen Dank für Ihre Nachricht. Die Dachinspektion kostet $450 und wir "
    "können sie diese Woche machen.\n\nViele Grüße,\nDana"
)
TO_FRENCH = (
    "Bonjour Maria,\n\nMerci pour votre message. L'inspection du toit coûte $450 et nous pouvons "
    "la faire cette semaine.\n\nCordialement,\nDana"
)


def _case(inbound: str, *, thread: tuple[tuple[str, str], ...] = ()) -> CaseInput:
    """A case whose thread is (direction, body) pairs, oldest first."""
    messages = [
        ThreadMessage(
            message_id=f"t{n}", direction=direction, channel="email", body=body, sent_at=T0
        )  # fmt: skip
        for n, (direction, body) in enumerate(thread)
    ]
    return CaseInput(
        case_id="c1", client_id="k1", lead_id="l1", channel="email", job_created_at=T0,
        inbound=InboundMessage(id="m9", body=inbound, sent_at=T0), thread=messages,
        lead={"first_name": "María"}, client_settings={"signature": "Dana"},
    )  # fmt: skip


def _found(draft: str, case: CaseInput) -> list[tuple[str, str, str]]:
    return [(v.evidence, v.key, v.severity) for v in check(draft, case) if v.code in language.CODES]


# --- what fires ---------------------------------------------------------------------------------

FLAGGED = [
    pytest.param(TO_GERMAN, _case(SPANISH), "draft in German, inbound in Spanish", "de",
                 id="german-to-spanish"),
    pytest.param(TO_ENGLISH, _case(SPANISH), "draft in English, inbound in Spanish", "en",
                 id="english-to-spanish"),
    pytest.param(TO_SPANISH, _case(ENGLISH), "draft in Spanish, inbound in English", "es",
                 id="spanish-to-english"),
    pytest.param(TO_FRENCH, _case(GERMAN), "draft in French, inbound in German", "fr",
                 id="french-to-german"),
    pytest.param(TO_ENGLISH, _case("Gracias", thread=(("inbound", SPANISH),)),
                 "draft in English, thread in Spanish", "en",
                 id="one-word-inbound-the-thread-decides"),
    pytest.param(TO_ENGLISH, _case("Ok", thread=(("inbound", GERMAN), ("outbound", TO_ENGLISH),
                                                 ("inbound", "Sí"))),
                 "draft in English, thread in German", "en",
                 id="the-latest-inbound-that-can-tell"),
    pytest.param(TO_ENGLISH, _case(f"{SPANISH}\n\nOn Mon, 2 Nov 2026, Dana wrote:\n> {ENGLISH}"),
                 "draft in English, inbound in Spanish", "en",
                 id="the-quoted-english-reply-is-not-the-lead-s"),
    pytest.param(TO_ENGLISH, _case(SPANISH, thread=(("inbound", ENGLISH),)),
                 "draft in English, inbound in Spanish", "en",
                 id="the-lead-switched-to-spanish"),
]  # fmt: skip


@pytest.mark.parametrize(("draft", "case", "evidence", "key"), FLAGGED)
def test_flags_a_draft_in_another_language(
    draft: str, case: CaseInput, evidence: str, key: str
) -> None:
    """One critical violation: both languages named, keyed by the draft's."""
    assert _found(draft, case) == [(evidence, key, "critical")]


def test_the_detail_says_where_the_reference_came_from() -> None:
    """A reference read from the thread says so."""
    (inbound,) = [v for v in check(TO_GERMAN, _case(SPANISH)) if v.code == "language_mismatch"]
    assert inbound.detail == "the lead wrote in Spanish"
    case = _case("Gracias", thread=(("inbound", SPANISH),))
    (thread,) = [v for v in check(TO_GERMAN, case) if v.code == "language_mismatch"]
    assert thread.detail == (
        "the lead wrote in Spanish; the inbound is too short to tell, so the thread decides"
    )


# --- near-misses --------------------------------------------------------------------------------

MIXED = (
    "Hola María,\n\nGracias por tu mensaje. La inspección del techo cuesta $450 y dura una hora. "
    "Podemos ir el jueves o el viernes, como prefieras. Our technician speaks English too.\n\n"
    "Saludos,\nDana"
)
PRODUCT = (
    "Hi Maria,\n\nThanks for asking. Our Wärmepumpe Vitocal 250-A is a great fit for your home, "
    "and the installation takes two days.\n\nBest,\nDana"
)
NAMES = "Hi Søren,\n\nThe inspection is $450, and Jürgen can come on Monday.\n\nBest,\nZoë Groß"

CLEAN = [
    pytest.param(TO_SPANISH, _case(SPANISH), id="spanish-reply-to-spanish"),
    pytest.param(TO_GERMAN, _case(GERMAN), id="german-reply-to-german"),
    pytest.param(PRODUCT, _case(ENGLISH), id="english-quoting-a-german-product-name"),
    pytest.param(NAMES, _case(ENGLISH), id="non-ascii-names-in-an-english-draft"),
    pytest.param(MIXED, _case(SPANISH), id="mostly-spanish-with-an-english-sentence"),
    pytest.param(TO_GERMAN, _case("Ok"), id="one-word-inbound-no-thread"),
    pytest.param(TO_GERMAN, _case("Gracias"), id="gracias-no-thread"),
    pytest.param(TO_GERMAN, _case("Muchas gracias!"), id="two-word-inbound"),
    pytest.param(TO_GERMAN, _case("Gracias", thread=(("outbound", TO_SPANISH),)),
                 id="only-our-own-messages-in-the-thread"),
    pytest.param(TO_SPANISH, _case(SPANISH, thread=(("inbound", ENGLISH),)),
                 id="answered-in-the-inbound-s-language-not-the-thread-s"),
    pytest.param("¡Gracias, María!", _case(ENGLISH), id="a-draft-too-short-to-tell"),
    pytest.param(TO_SPANISH + "\n\nReserva aquí: https://book.example.com/brightpeak-roofing",
                 _case(SPANISH), id="an-english-looking-link"),
    pytest.param(TO_ENGLISH, _case(f"{ENGLISH}\n\nEl lun, 2 nov 2026, Dana escribió:\n> {SPANISH}"),
                 id="a-quoted-spanish-message-below-english"),
]  # fmt: skip


@pytest.mark.parametrize(("draft", "case"), CLEAN)
def test_does_not_fire(draft: str, case: CaseInput) -> None:
    """The same language, a foreign name or a minority sentence, or nothing to tell by."""
    assert _found(draft, case) == []


DETECTED = [
    pytest.param("Ok", None, id="ok"),
    pytest.param("Gracias", None, id="gracias"),
    pytest.param("STOP", None, id="stop"),
    pytest.param(SPANISH, "SPANISH", id="spanish"),
    pytest.param(GERMAN, "GERMAN", id="german"),
    pytest.param("Bonjour, merci pour votre message. Nous pouvons passer jeudi.", "FRENCH",
                 id="french"),
    pytest.param("Ciao, grazie per il messaggio. Possiamo passare giovedì mattina.", "ITALIAN",
                 id="italian"),
    pytest.param("Olá, obrigado pela mensagem. Podemos passar na quinta-feira de manhã.",
                 "PORTUGUESE", id="portuguese"),
    pytest.param("Hallo, bedankt voor je bericht. We kunnen donderdag langskomen.", "DUTCH",
                 id="dutch"),
    pytest.param(PRODUCT, "ENGLISH", id="a-marked-product-name-is-left-out"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "name"), DETECTED)
def test_detected(text: str, name: str | None) -> None:
    """Each of the languages told apart; too few words are no language."""
    found = language.detected(text)
    assert (found.name if found is not None else None) == name


def test_plain_words_are_words_the_check_reads() -> None:
    """Each common word is lower-case and two letters or more, as the check splits a text."""
    for words in language.PLAIN_WORDS.values():
        assert all(w == w.lower() and len(w) >= 2 and w.isalpha() for w in words)
    assert set(language.PLAIN_WORDS) == set(language.LANGUAGES)


# --- across drafts ------------------------------------------------------------------------------


def test_the_same_wrong_language_in_both_drafts_is_pre_existing() -> None:
    """An original in German makes another German draft's violation pre-existing."""
    case = _case(SPANISH)
    other = "Hallo,\n\nwir können gerne am Donnerstag vorbeikommen und uns das Dach ansehen."
    found = policy.changes(check(TO_GERMAN, case), check(other, case))
    assert found.new == [] and [v.code for v in found.pre_existing] == ["language_mismatch"]


def test_another_wrong_language_regresses() -> None:
    """The original answered in Spanish, the new draft in German: a new critical violation."""
    case = _case(SPANISH)
    found = policy.changes(check(TO_SPANISH, case), check(TO_GERMAN, case))
    assert [v.code for v in found.new] == ["language_mismatch"]
    assert policy.decide(invariants=found).verdict == "regressed"


def test_the_code_is_a_critical_check_code() -> None:
    """`language_mismatch` follows `names.py`'s codes, is critical, and can be switched off."""
    at = checks.CODES.index(names.CODES[-1]) + 1
    assert checks.CODES[at : at + 2] == (*language.CODES, *times.CODES)
    assert checks.SEVERITY["language_mismatch"] == "critical"
    config = InvariantConfig(disabled=frozenset(language.CODES))
    assert [v for v in check(TO_GERMAN, _case(SPANISH), config) if v.code in language.CODES] == []
