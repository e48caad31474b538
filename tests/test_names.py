"""The check of whom a draft greets: the lead, someone the case names, or a stranger."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from replay.models import CaseInput, InboundMessage, ThreadMessage
from replay.verdict import checks, names, policy
from tests.helpers import check_except_questions as check

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
SETTINGS: dict[str, Any] = {
    "signature": "Dana Reyes, BrightPeak Roofing",
    "persona": "Dana, a friendly estimator at BrightPeak Roofing",
}
ANNA: dict[str, Any] = {"first_name": "Anna", "last_name": "Berg", "company": "Acme Logistics",
                        "email": "anna.berg@acme.example.com"}  # fmt: skip
INBOUND = "Can you come out next week?\n\nThanks,\nAnna"


def _case(
    lead: Mapping[str, Any] = ANNA,
    *,
    inbound: str = INBOUND,
    thread: tuple[str, ...] = (),
    settings: Mapping[str, Any] = SETTINGS,
) -> CaseInput:
    messages = [
        ThreadMessage(
            message_id=f"t{n}", direction="inbound", channel="email", body=body, sent_at=T0
        )  # fmt: skip
        for n, body in enumerate(thread)
    ]
    return CaseInput(
        case_id="c1", client_id="k1", lead_id="l1", channel="email", job_created_at=T0,
        inbound=InboundMessage(id="m9", body=inbound, sent_at=T0), thread=messages,
        lead=dict(lead), client_settings=dict(settings),
    )  # fmt: skip


def _named(draft: str, case: CaseInput | None = None) -> list[tuple[str, str]]:
    return [(v.evidence, v.key) for v in check(draft, case or _case()) if v.code == "wrong_name"]


# --- what fires ---------------------------------------------------------------------------------

FLAGGED = [
    pytest.param("Hi Mark,\n\nSee you Monday.", "Hi Mark,", "mark", id="another-first-name"),
    pytest.param("Hello Mark! See you Monday.", "Hello Mark!", "mark", id="hello-and-a-bang"),
    pytest.param("Dear Mark Smith,\n\nSee you Monday.", "Dear Mark Smith,", "mark",
                 id="full-name-of-someone-else"),
    pytest.param("Hey Mark - see you Monday.", "Hey Mark -", "mark", id="dash-after-the-name"),
    pytest.param("Hola Marco,\n\nNos vemos el lunes.", "Hola Marco,", "marco", id="spanish"),
    pytest.param("Hallo Markus,\n\nBis Montag.", "Hallo Markus,", "markus", id="german"),
    pytest.param("Bonjour Marc,\n\nÀ lundi.", "Bonjour Marc,", "marc", id="french"),
    pytest.param("Hola, Greta:\n\nNos vemos el lunes.", "Hola, Greta:", "greta",
                 id="spanish-comma-and-colon"),
    pytest.param("Good to hear from you, Mark.\n\nSee you Monday.", "Good to hear from you, Mark.",
                 "mark", id="a-greeting-phrase"),
    pytest.param("Merci pour votre message, Marc. À lundi.", "Merci pour votre message, Marc.",
                 "marc", id="a-french-greeting-phrase"),
    pytest.param("Dear Mr. Jensen,\n\nSee you Monday.", "Dear Mr. Jensen,", "jensen",
                 id="a-title-and-a-stranger-s-surname"),
    pytest.param("Hi Дмитрий,\n\nSee you Monday.", "Hi Дмитрий,", "дмитрий",
                 id="non-latin-stranger"),
]  # fmt: skip


@pytest.mark.parametrize(("draft", "evidence", "key"), FLAGGED)
def test_flags_a_stranger_in_the_greeting(draft: str, evidence: str, key: str) -> None:
    """Exactly one `wrong_name`, critical, the greeting as evidence and the folded name as key.

    (A Spanish or French reply to this English inbound is also a `language_mismatch`.)
    """
    found = [v for v in check(draft, _case()) if v.code != "language_mismatch"]
    assert [(v.code, v.evidence, v.key, v.severity) for v in found] == [
        ("wrong_name", evidence, key, "critical")
    ]


def test_the_detail_names_the_greeted_and_the_lead() -> None:
    """The detail says whom the draft greets and who the lead is."""
    (found,) = check("Hi Mark,\n\nSee you Monday.", _case())
    assert found.detail == (
        "greets Mark, who is not the lead (Anna), nor named in the inbound, thread or settings"
    )


# --- near-misses --------------------------------------------------------------------------------

CLEAN = [
    pytest.param("Hi ANNA,\n\nSee you Monday.", _case(), id="lead-in-another-case"),
    pytest.param("Hi Jose,\n\nSee you Monday.", _case({"first_name": "José"}),
                 id="accent-stripped"),
    pytest.param("Hola José,\n\nNos vemos.", _case({"first_name": "Jose"}), id="accent-added"),
    pytest.param("Hi Lukasz,\n\nSee you Monday.", _case({"first_name": "Łukasz"}),
                 id="letter-without-a-decomposition"),
    pytest.param("Hi Bob,\n\nSee you Monday.", _case({"first_name": "Robert"}),
                 id="nickname-of-the-lead"),
    pytest.param("Hi Robert,\n\nSee you Monday.", _case({"first_name": "Bob"}),
                 id="full-form-of-the-lead-s-nickname"),
    pytest.param("Hi Pepe,\n\nSee you Monday.", _case({"first_name": "JOSÉ"}),
                 id="nickname-case-and-accents-aside"),
    pytest.param("Hi Sarah,\n\nSee you Monday.", _case(thread=("Looping in Sarah from ops.",)),
                 id="colleague-mentioned-in-the-thread"),
    pytest.param("Hi Sarah,\n\nSee you Monday.", _case(thread=("Monday works.\n\nSarah Kim",)),
                 id="colleague-who-wrote-in-the-thread"),
    pytest.param("Hi Tom,\n\nSee you Monday.", _case(inbound="Monday is fine.\n\nBest,\nTom Weber"),
                 id="the-inbound-s-signer"),
    pytest.param("Hello Acme Logistics team,\n\nSee you Monday.", _case(),
                 id="the-lead-s-company"),
    pytest.param("Hi Berg,\n\nSee you Monday.", _case(), id="the-lead-s-last-name"),
    pytest.param("Hi Anna Berg,\n\nSee you Monday.", _case(), id="the-lead-s-full-name"),
    pytest.param("Hi Dana,\n\nSee you Monday.", _case(), id="a-name-of-the-settings"),
    pytest.param("Hi there,\n\nSee you Monday.", _case(), id="hi-there"),
    pytest.param("Hi team,\n\nSee you Monday.", _case(), id="hi-team"),
    pytest.param("Hello all,\n\nSee you Monday.", _case(), id="hello-all"),
    pytest.param("Hi everyone, see you Monday.", _case(), id="hi-everyone"),
    pytest.param("Hi folks!\n\nSee you Monday.", _case(), id="hi-folks"),
    pytest.param("Dear Sir or Madam,\n\nSee you Monday.", _case(), id="dear-sir-or-madam"),
    pytest.param("See you Monday, Mark.", _case(), id="no-greeting"),
    pytest.param("Thanks for asking.\n\nHi Mark, said the crew.", _case(),
                 id="a-name-after-the-first-line"),
    pytest.param("Hi Mark,\n\nSee you Monday.", _case({"last_name": "Berg"}),
                 id="lead-without-a-first-name"),
    pytest.param("Hi Mark,\n\nSee you Monday.", _case({}, inbound="Monday?"),
                 id="no-lead-and-no-name-anywhere"),
    pytest.param("Hi 李,\n\nSee you Monday.", _case({"first_name": "李"}),
                 id="non-latin-name-matching-exactly"),
    pytest.param("Hi Дмитрий,\n\nSee you Monday.", _case({"first_name": "ДМИТРИЙ"}),
                 id="non-latin-name-case-aside"),
    pytest.param("Hi {first_name},\n\nSee you Monday.", _case(), id="a-template-slot"),
    pytest.param("Hello and welcome!\n\nSee you Monday.", _case(), id="no-name-after-hello"),
    pytest.param("Hola, Anna:\n\nNos vemos el lunes.", _case(), id="hola-comma-the-lead"),
    pytest.param("Hola, gracias por escribirnos.", _case(), id="hola-comma-a-sentence"),
    pytest.param("Hola, Muchas Gracias Por Todo Esto.", _case(), id="hola-comma-a-long-phrase"),
    pytest.param("Good to hear from you, Anna.", _case(), id="a-greeting-phrase-to-the-lead"),
]  # fmt: skip


@pytest.mark.parametrize(("draft", "case"), CLEAN)
def test_does_not_fire(draft: str, case: CaseInput) -> None:
    """The lead by any spelling or nickname, anyone the case names, and no name: no violation."""
    assert _named(draft, case) == []


def test_a_stranger_in_both_drafts_is_pre_existing() -> None:
    """The original greeting the same stranger makes the new draft's greeting pre-existing."""
    case = _case()
    original = check("Hi Mark,\n\nSee you Monday.", case)
    new = check("Hello Mark! Monday it is.", case)
    found = policy.changes(original, new)
    assert found.new == [] and [v.code for v in found.pre_existing] == ["wrong_name"]


def test_a_new_stranger_regresses() -> None:
    """The original greets the lead, the new draft a stranger: a new critical violation."""
    case = _case()
    found = policy.changes(check("Hi Anna,\n\nSee you.", case), check("Hi Mark,\n\nSee you.", case))
    assert [v.code for v in found.new] == ["wrong_name"]
    assert policy.decide(invariants=found).verdict == "regressed"


def test_the_code_is_a_critical_check_code() -> None:
    """`wrong_name` is among `checks.CODES`, critical, and can be switched off."""
    assert set(names.CODES) <= set(checks.CODES)
    assert {checks.SEVERITY[code] for code in names.CODES} == {"critical"}
    config = checks.InvariantConfig(disabled=frozenset(names.CODES))
    assert check("Hi Mark,\n\nSee you Monday.", _case(), config) == []


def test_nickname_groups_are_folded_and_disjoint() -> None:
    """Every nickname is written folded, and no name belongs to two people."""
    every = [name for group in names.NICKNAMES for name in group]
    assert every == [name.casefold() for name in every] and len(set(every)) == len(every)
