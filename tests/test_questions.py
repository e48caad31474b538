"""The check of a direct question the inbound asked and the new draft no longer answers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from replay.models import (
    CaseError,
    CaseInput,
    InboundMessage,
    InvariantChanges,
    Judgement,
    JudgeOrder,
)
from replay.verdict import policy
from replay.verdict import questions as questions_check
from replay.verdict.checks import InvariantConfig, check
from replay.verdict.questions import questions

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _case(inbound: str) -> CaseInput:
    return CaseInput(
        case_id="c1", client_id="k1", lead_id="l1", channel="email", job_created_at=T0,
        inbound=InboundMessage(id="m9", body=inbound, sent_at=T0), lead={"first_name": "Ana"},
        client_settings={"price_list": [{"item": "Inspection", "price": "$450"}],
                         "signature": "Grace Whitford, Whitford LLP"},
    )  # fmt: skip


def _unanswered(draft: str, inbound: str) -> list[str]:
    return [v.evidence for v in check(draft, _case(inbound)) if v.code == "unanswered_question"]


@pytest.mark.parametrize(
    ("inbound", "asked"),
    [
        ("Hi! How much is an inspection? Also, can we meet on Tuesday?",
         ("How much is an inspection?", "Also, can we meet on Tuesday?")),
        ("¿Cuánto cuesta la inspección? Gracias", ("¿Cuánto cuesta la inspección?",)),
        ("Ok?", ()),
        ("Thanks.\n\n> On Mon, Dana wrote:\n> Would Tuesday work for you?", ()),
        ("Was kostet die Inspektion?\n\nAm Montag schrieb Dana:\nPasst Ihnen Dienstag?",
         ("Was kostet die Inspektion?",)),
        ("Sounds good, see you then.", ()),
        ("Grazie.\n\nIl giorno lun 3 nov, Ana ha scritto:\nPuò venire martedì?", ()),
    ],
)  # fmt: skip
def test_questions_are_sentences_ending_in_a_question_mark(
    inbound: str, asked: tuple[str, ...]
) -> None:
    assert questions(inbound) == asked


@pytest.mark.parametrize(
    ("inbound", "draft"),
    [
        ("How much is an inspection?", "Hi Ana, an inspection is $450."),
        ("How much is an inspection?", "Hi Ana, pricing depends on the roof; let's talk."),
        ("¿Cuánto cuesta la inspección?", "Hola Ana, la inspección cuesta 450 $."),
        ("Was kostet die Inspektion?", "Hallo Ana, der Preis liegt bei $450."),
        ("Combien coûte l'inspection ?", "Bonjour Ana, le prix est de $450."),
        ("When can you come out?", "Hi Ana, we could come Thursday at 10am."),
        ("Can we set up a call this week?", "Hi Ana, book any slot: https://cal.example.com/x"),
        ("¿Cuándo pueden venir?", "Hola Ana, podemos ir el jueves a las 10:00."),
        ("Wann haben Sie Zeit?", "Hallo Ana, am Donnerstag um 10 Uhr."),
        ("Do you cover the Denver area?", "Hi Ana, yes, we work all over Colorado."),
        ("Do you cover the Denver area?", "Hi Ana, we serve Denver and nearby towns."),
        ("¿Trabajan con empresas pequeñas?", "Hola Ana, sí, con muchas."),
        ("What warranty comes with the repair?", "Hi Ana, every repair has a 5-year warranty."),
    ],
)  # fmt: skip
def test_an_answered_question_is_not_reported(inbound: str, draft: str) -> None:
    assert _unanswered(draft, inbound) == []


@pytest.mark.parametrize(
    ("inbound", "draft"),
    [
        ("How much is an inspection?", "Hi Ana, thanks for reaching out! Talk soon."),
        ("When can you come out?", "Hi Ana, thanks for your message."),
        ("¿Cuánto cuesta la inspección?", "Hola Ana, gracias por escribirnos."),
        ("Do you cover the Denver area?", "Hi Ana, thanks for getting in touch."),
        ("What warranty comes with the roof repair?", "Hi Ana, we can start next month."),
        # A greeting is no answer, nor is a name the question addresses (signing with it).
        ("Hallo Nadine, können Sie mir mehr über die Reinigung erzählen?",
         "Hallo Ana,\n\nIch melde mich in Kürze wieder."),
        ("Hi Grace, how long does a formation take?",
         "Hi Ana,\n\nI will get back to you shortly.\n\nBest,\nGrace Whitford, Whitford LLP"),
    ],
)  # fmt: skip
def test_an_ignored_question_is_a_warning(inbound: str, draft: str) -> None:
    found = [v for v in check(draft, _case(inbound)) if v.code == "unanswered_question"]
    assert [(v.evidence, v.severity) for v in found] == [(inbound, "warning")]


def test_a_question_the_original_left_unanswered_too_is_pre_existing() -> None:
    case = _case("What warranty comes with the roof repair?")
    found = policy.changes(check("Thanks, Ana!", case), check("Thank you, Ana.", case))
    assert found.new == [] and [v.code for v in found.pre_existing] == ["unanswered_question"]


def test_a_question_the_new_draft_drops_is_new_but_never_regresses_alone() -> None:
    case = _case("What warranty comes with the roof repair?")
    original = check("Hi Ana, every repair has a 5-year warranty.", case)
    found = policy.changes(original, check("Hi Ana, thanks for writing.", case))
    assert [(v.code, v.severity) for v in found.new] == [("unanswered_question", "warning")]
    assert policy.decide(invariants=found).verdict != "regressed"


def test_the_check_can_be_switched_off() -> None:
    config = InvariantConfig(disabled=frozenset({"unanswered_question"}))
    assert check("Thanks!", _case("How much is an inspection?"), config) == []


# --- the judge decides where it runs -------------------------------------------------------------


def _judgement(*answers: str | None, error: bool = False) -> Judgement:
    """A judgement whose orders said `answers` (per order: original, new, tie; None: unscored).

    The original is draft A in the first order and draft B in the second, as the judge asks.
    """
    orders = []
    for original_is, said in zip(("A", "B"), answers, strict=False):
        other = "B" if original_is == "A" else "A"
        label = {"original": original_is, "new": other, "tie": "tie", None: None}[said]
        orders.append(
            JudgeOrder(
                original_is=original_is,
                preferred=None if label is None else "tie",
                criteria={} if label is None else {"answers": label},
            )
        )
    return Judgement(
        model="j", rubric_version="1", rubric_hash="h", verdict="tie", orders=orders,
        error=CaseError(error_class="judge_error", message="judge unreachable") if error else None,
    )  # fmt: skip


def _dropped() -> InvariantChanges:
    case = _case("What warranty comes with the roof repair?")
    original = check("Hi Ana, every repair has a 5-year warranty.", case)
    return policy.changes(original, check("Hi Ana, thanks for writing.", case))


@pytest.mark.parametrize(
    ("judgement", "expected"),
    [
        (_judgement("original", "original"), [("unanswered_question", "critical")]),
        (_judgement("tie", "tie"), []),
        (_judgement("new", "new"), []),
        (_judgement("original", "tie"), [("unanswered_question", "warning")]),
        (_judgement("original", None), [("unanswered_question", "warning")]),
        (_judgement("original", "original", error=True), [("unanswered_question", "warning")]),
        (None, [("unanswered_question", "warning")]),
    ],
    ids=["confirmed", "answered-alike", "answered-better", "orders-disagree", "unscored",
         "judge-error", "no-judge"],
)  # fmt: skip
def test_the_judge_s_answers_criterion_decides_where_it_gives_one(
    judgement: Judgement | None, expected: list[tuple[str, str]]
) -> None:
    """Agreed in both orders the judge confirms (critical) or overrules; else the warning stands."""
    weighed = questions_check.weigh(_dropped(), judgement)
    assert [(v.code, v.severity) for v in weighed.new] == expected
    regressed = policy.decide(invariants=weighed, judgement=judgement).verdict == "regressed"
    assert regressed is (expected == [("unanswered_question", "critical")])
