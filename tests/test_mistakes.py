"""Checks of a draft's shape: cut off, said twice, signed by someone else."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import openai
import pytest

from replay.devtools.drafting import production_request
from replay.devtools.stub_model import StubOptions, running
from replay.models import CaseInput, InboundMessage
from replay.verdict import checks, mistakes, policy
from replay.verdict.checks import InvariantConfig
from tests.helpers import check_except_questions as check

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
BOOKING = "https://book.example.com/brightpeak-roofing"
SETTINGS: dict[str, Any] = {
    "booking_link": BOOKING,
    "signature": "Dana Reyes, BrightPeak Roofing",
    "persona": "Dana, a friendly estimator at BrightPeak Roofing",
}
ANNA: dict[str, Any] = {"signature": "Anna Berg, Acme Roofing"}


def _case(settings: Mapping[str, Any] = SETTINGS, *, channel: str = "email") -> CaseInput:
    return CaseInput.model_validate(
        {
            "case_id": "c1",
            "client_id": "k1",
            "lead_id": "l1",
            "channel": channel,
            "job_created_at": T0,
            "inbound": InboundMessage(id="m9", body="Can you come out next week?", sent_at=T0),
            "lead": {"first_name": "Maria", "last_name": "Lopez", "company": "Acme Logistics"},
            "client_settings": dict(settings),
        }
    )


def _found(draft: str, case: CaseInput | None = None, **kwargs: Any) -> list[tuple[str, str, str]]:
    return [(v.code, v.evidence, v.key) for v in check(draft, case or _case(), **kwargs)]


# --- what fires ---------------------------------------------------------------------------------

FLAGGED = [
    pytest.param("Hi Maria,\n\nThanks for asking. An inspection takes", {}, "truncated",
                 "Thanks for asking. An inspection takes", "truncated", id="cut-mid-sentence"),
    pytest.param("Hi Maria,\n\nHappy to help with", {}, "truncated", "Happy to help with",
                 "truncated", id="cut-after-the-greeting"),
    pytest.param("Sure. We can come Monday,", {}, "truncated", "Sure. We can come Monday,",
                 "truncated", id="ends-on-a-comma"),
    pytest.param("Hi Maria, an inspection takes about an hour. We could come out on Monday or",
                 {}, "truncated", "…takes about an hour. We could come out on Monday or",
                 "truncated", id="long-tail-shortened-to-whole-words"),
    pytest.param("Hi Maria,\n\nSee you Monday.", {"finish_reason": "length"}, "truncated",
                 'finish_reason "length"', "truncated", id="finish-reason-length"),
    pytest.param("We can send a crew on Monday morning. We can send a crew on Monday morning.",
                 {}, "repeated_text", "We can send a crew on Monday morning.",
                 "we can send a crew on monday morning", id="sentence-twice"),
    pytest.param("We can send a crew on Monday morning.\n\nwe can  send a crew\non MONDAY morning!",
                 {}, "repeated_text", "We can send a crew on Monday morning.",
                 "we can send a crew on monday morning", id="case-and-whitespace-aside"),
    pytest.param("Thanks for asking. It takes about an hour.\n\nThanks for asking. It takes about "
                 "an hour.", {}, "repeated_text", "Thanks for asking. It takes about an hour.",
                 "thanks for asking. it takes about an hour", id="paragraph-twice"),
    pytest.param("See you Monday.\n\nBest,\nMark Jensen", {}, "wrong_signature", "Mark Jensen",
                 "mark jensen", id="another-person"),
    pytest.param("See you Monday.\n\nThanks,\nMark Jensen, BrightPeak Roofing", {},
                 "wrong_signature", "Mark Jensen", "mark jensen", id="another-person-same-company"),
    pytest.param("See you Monday.\n\nKind regards,\nSummit Roofing", {}, "wrong_signature",
                 "Summit Roofing", "summit roofing", id="another-company"),
    pytest.param("See you Monday.\n\nBest,\nMaria Lopez", {}, "wrong_signature", "Maria Lopez",
                 "maria lopez", id="the-lead-s-name"),
    pytest.param("See you Monday.\nThanks, Olivia", {}, "wrong_signature", "Olivia", "olivia",
                 id="sign-off-and-name-on-one-line"),
    pytest.param("Monday works. - Tom Fischer", {}, "wrong_signature", "Tom Fischer",
                 "tom fischer", id="sms-dash-signature"),
    pytest.param("See you Monday.\n\nCheers,\nDana Smith", {}, "wrong_signature", "Dana Smith",
                 "dana smith", id="right-first-name-wrong-surname"),
    pytest.param("A crew of 12 needs 3 days. A crew of 12 needs 3 days.", {},
                 "repeated_text", "A crew of 12 needs 3 days.", "a crew of 12 needs 3 days",
                 id="a-number-is-a-word"),
    pytest.param("Danke. - Mark Jensen, Praxis Dr. Weiß", {}, "wrong_signature", "Mark Jensen",
                 "mark jensen", id="an-abbreviation-in-an-sms-signature"),
    pytest.param("À lundi.\n\nCordialement,\nMark Jensen, Cabinet Dentaire du Parc", {},
                 "wrong_signature", "Mark Jensen", "mark jensen", id="a-particle-in-the-company"),
    pytest.param("Bonjour Maria,\n\nMerci de", {}, "truncated", "Merci de", "truncated",
                 id="a-particle-does-not-end-a-name"),
]  # fmt: skip


@pytest.mark.parametrize(("draft", "kwargs", "code", "evidence", "key"), FLAGGED)
def test_flags_the_mistake(
    draft: str, kwargs: dict[str, Any], code: str, evidence: str, key: str
) -> None:
    """Exactly one violation, critical, with its evidence and stable key."""
    found = check(draft, _case(), **kwargs)
    assert [(v.code, v.evidence, v.key, v.severity) for v in found] == [
        (code, evidence, key, "critical")
    ]


def test_a_signature_is_compared_with_an_agent_name_alone() -> None:
    """`agent_name` is enough to know who should sign."""
    found = _found("See you Monday.\n\nBest,\nJohn", _case({"agent_name": "Anna Berg"}))
    assert found == [("wrong_signature", "John", "john")]


def test_details_say_what_happened() -> None:
    """Each detail names the mistake in words."""
    drafts: list[tuple[str, str | None]] = [
        ("Hi Maria,\n\nThe crew is on", "length"),
        ("We can send a crew on Monday morning. We can send a crew on Monday morning.", None),
        ("See you Monday.\n\nBest,\nMark Jensen", None),
    ]
    details = {
        v.code: v.detail
        for draft, reason in drafts
        for v in check(draft, _case(), finish_reason=reason)
    }
    assert details == {
        "truncated": "the model stopped at its output token limit; "
        "the draft ends: 'The crew is on'",
        "repeated_text": "the same sentence appears twice",
        "wrong_signature": "signs as 'Mark Jensen', but the client signs as "
        "'Dana Reyes, BrightPeak Roofing'",
    }
    (cut,) = check("Hi Maria,\n\nThe crew is on", _case())
    assert cut.detail == "the draft ends without closing its sentence"


# --- near-misses --------------------------------------------------------------------------------

CLEAN = [
    pytest.param("Hi Maria,\n\nSee you Monday.\n\nBest,\nDana Reyes, BrightPeak Roofing",
                 SETTINGS, id="signature-block"),
    pytest.param("Hi Maria,\n\nSee you Monday.\n\nBest,", SETTINGS, id="sign-off-without-name"),
    pytest.param("Hi Maria,\n\nSee you Monday.\n\nThanks\nDana", SETTINGS,
                 id="sign-off-without-comma"),
    pytest.param("Hi Maria,\n\nSee you Monday.\n\nDana", SETTINGS, id="bare-name-line"),
    pytest.param(f"Hi Maria,\n\nPick a time here: {BOOKING}", SETTINGS, id="ends-with-a-url"),
    pytest.param("Happy to help. Write to dana@brightpeak.example.com", {"e": "dana@brightpeak"
                 ".example.com"}, id="ends-with-an-email"),
    pytest.param("Hi Maria,\n\nDoes Monday work for you?", SETTINGS, id="question-mark"),
    pytest.param("Hi Maria,\n\nSee you Monday. Thanks!", SETTINGS, id="thanks"),
    pytest.param("Great. See you then 🙂", SETTINGS, id="emoji"),
    pytest.param("Great. See you then 👍️", SETTINGS, id="emoji-with-variation-selector"),
    pytest.param("Great. Photos are attached (all four of them)", SETTINGS, id="parenthesis"),
    pytest.param('Great. She said it was "the best crew"', SETTINGS, id="closing-quote"),
    pytest.param("Super. Sie sagte «gern»", SETTINGS, id="guillemet"),
    pytest.param("Great. Here are the two options:", SETTINGS, id="colon"),
    pytest.param("Great. See you **Monday.**", SETTINGS, id="markdown-emphasis-after-a-stop"),
    pytest.param("Sounds good", SETTINGS, id="one-line-fragment"),
    pytest.param("\u200d\ufe0f", SETTINGS, id="only-joiners"),
    pytest.param("Hi Maria, see you Monday - Dana Reyes, BrightPeak Roofing", SETTINGS,
                 id="sms-signature-after-an-open-sentence"),
    pytest.param("Hi Maria,\n\nSee you Monday!\n\nThanks!\n\nThanks!", SETTINGS,
                 id="thanks-twice"),
    pytest.param("Hi Dana,\n\nSee you Monday.\n\nBest,\nDana", SETTINGS,
                 id="greeting-and-sign-off-share-a-name"),
    pytest.param("See you on Monday then. See you on Monday then.", SETTINGS,
                 id="five-word-sentence-twice"),
    pytest.param("Kosten: 190,00 € – pro Termin. Kosten: 190,00 € – pro Termin.", SETTINGS,
                 id="a-lone-currency-sign-or-dash-is-no-word"),
    pytest.param("Danke.\n\nCordialement,\nAmélie Rousseau, Cabinet Dentaire du Parc",
                 {"signature": "Amélie Rousseau, Cabinet Dentaire du Parc"},
                 id="the-client-s-company-with-a-particle"),
    pytest.param("Danke. - Nadine Böhm, Zahnarztpraxis Dr. Weiß",
                 {"signature": "Nadine Böhm, Zahnarztpraxis Dr. Weiß"},
                 id="the-client-s-company-with-an-abbreviation"),
    pytest.param("We offer:\n- We inspect the roof and the gutters.\n- We inspect the roof and "
                 "the chimney.", SETTINGS, id="list-items-share-a-prefix"),
    pytest.param("> Can you come out on Monday next week?\n\nCan you come out on Monday next week?"
                 " Yes.", SETTINGS, id="quoted-line"),
    pytest.param("See you Monday.\n\nBest,\nANNA", ANNA, id="name-in-another-case"),
    pytest.param("See you Monday.\n\nBest,\nAnna", ANNA, id="first-name-only"),
    pytest.param("See you Monday.\n\nBest,\nAcme Roofing", ANNA, id="company-alone"),
    pytest.param("See you Monday.\n\nBest,\nAnna B.", ANNA, id="initial-of-the-surname"),
    pytest.param("See you Monday.\n\nBest,\nThe Acme Roofing Team", ANNA, id="the-team"),
    pytest.param("See you Monday.\n\nBest,\nAnna Berg, Senior Estimator", ANNA,
                 id="title-after-the-name"),
    pytest.param("See you Monday.\n\nBest,\nAnna Berg | (303) 555-0100", ANNA | {
                 "phone": "(303) 555-0100"}, id="phone-after-the-name"),
    pytest.param("See you Monday.\n\nBest,\nDana", {"persona": "Dana at BrightPeak"},
                 id="no-signature-or-agent-name-to-compare"),
    pytest.param("See you Monday.\n\nThanks, that helps a lot.", ANNA, id="thanks-in-a-sentence"),
    pytest.param("See you Monday.\n\nBest,\n[Your Name]", ANNA, id="a-template-slot-is-not-a-name"),
]  # fmt: skip


@pytest.mark.parametrize(("draft", "settings"), CLEAN)
def test_does_not_fire(draft: str, settings: Mapping[str, Any]) -> None:
    """Closed drafts, short or deliberate repeats and the client's own names are no mistake."""
    found = [v for v in check(draft, _case(settings)) if v.code in mistakes.CODES]
    assert found == []


# --- across drafts ------------------------------------------------------------------------------

BOTH = [
    pytest.param("Hi Maria,\n\nWe can come on", "Hi Maria,\n\nThe crew could come", id="truncated"),
    pytest.param("We can send a crew on Monday morning. We can send a crew on Monday morning.",
                 "Sure. We can send a crew on Monday morning. We can send a crew on Monday "
                 "morning.", id="repeated_text"),
    pytest.param("See you Monday.\n\nBest,\nMark Jensen", "Monday it is.\n\nThanks,\nMark Jensen",
                 id="wrong_signature"),
]  # fmt: skip


@pytest.mark.parametrize(("original", "new"), BOTH)
def test_a_mistake_in_both_drafts_is_pre_existing(original: str, new: str) -> None:
    """The same key in the original makes the new draft's violation pre-existing, not new."""
    case = _case()
    found = policy.changes(check(original, case), check(new, case))
    assert found.new == [] and found.fixed == []
    assert [v.code for v in found.pre_existing] == [v.code for v in check(new, case)] != []


def test_a_closed_original_makes_a_cut_draft_new() -> None:
    """The original closed its sentence, the new draft does not: a new critical violation."""
    case = _case()
    found = policy.changes(
        check("Hi Maria,\n\nSee you Monday.", case), check("Hi Maria,\n\nSee you", case)
    )
    assert [v.code for v in found.new] == ["truncated"]
    assert policy.decide(invariants=found).verdict == "regressed"


def test_only_the_new_draft_gets_a_finish_reason() -> None:
    """A length-stopped new draft regresses beside an original checked from its text alone."""
    case = _case()
    original = check("Hi Maria,\n\nSee you Monday.", case)
    new = check("Hi Maria,\n\nSee you Monday.", case, finish_reason="length")
    assert [v.code for v in policy.changes(original, new).new] == ["truncated"]
    assert check("Hi Maria,\n\nSee you Monday.", case, finish_reason="stop") == []


@pytest.mark.parametrize("code", mistakes.CODES)
def test_disabled_codes_are_not_reported(code: str) -> None:
    """`[invariants] disabled` switches each of them off; the others still fire."""
    draft = (
        "We can send a crew on Monday morning. We can send a crew on Monday morning.\n\n"
        "Best,\nMark Jensen\n\nP.S. The crew is on"
    )
    everything = {v.code for v in check(draft, _case())}
    assert everything == set(mistakes.CODES)
    config = InvariantConfig(disabled=frozenset({code}))
    assert {v.code for v in check(draft, _case(), config)} == everything - {code}


def test_codes_are_checks_codes_and_critical() -> None:
    """The codes are among `checks.CODES`, last, each critical."""
    assert checks.CODES[-len(mistakes.CODES) :] == mistakes.CODES
    assert {checks.SEVERITY[code] for code in mistakes.CODES} == {"critical"}


# --- the model server ---------------------------------------------------------------------------


def test_the_model_server_says_a_truncated_draft_stopped_at_the_length_limit() -> None:
    """`replay-variant` answers `finish_reason: length` exactly when it cut the draft off."""
    seen: dict[str, set[str]] = {}
    with (
        running(StubOptions()) as server,
        openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client,
    ):
        for n in range(400):
            request = production_request(
                client_settings=SETTINGS, lead={"first_name": f"Lead{n}"}, channel="email",
                thread=[], inbound_subject=None, inbound_body="Can you come out next week?",
                model="replay-variant", temperature=0.4, max_tokens=400,
            )  # fmt: skip
            raw = client.chat.completions.with_raw_response.create(
                model="replay-variant", messages=request["messages"]
            )
            reason = raw.parse().choices[0].finish_reason
            seen.setdefault(raw.headers["x-stub-injected"], set()).add(reason)
    assert seen["truncated"] == {"length"}
    assert {r for mistake, reasons in seen.items() if mistake != "truncated" for r in reasons} == {
        "stop"
    }
