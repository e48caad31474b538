"""Deterministic checks of a draft against its case's own context."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from replay.devtools import corpus, faithful
from replay.devtools.drafting import Style, detect_intent, write_draft
from replay.devtools.generator import generate
from replay.devtools.mistakes import MISTAKES, inject_mistake
from replay.models import CaseInput, InboundMessage, ThreadMessage
from replay.verdict import checks
from replay.verdict.checks import CODES, InvariantConfig, check, is_opt_out

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
BOOKING = "https://book.example.com/brightpeak-roofing"
SETTINGS: dict[str, Any] = {
    "service_description": "Roof repair and replacement across the Denver metro area.",
    "price_list": [
        {"item": "Roof inspection", "price": "$450"},
        {"item": "Gutter guard install", "price": "$1,200"},
    ],
    "booking_link": BOOKING,
    "signature": "Dana Reyes, BrightPeak Roofing",
    "contact": {"phone": "(303) 555-0100", "email": "help@brightpeak.example.com"},
}
LEAD: dict[str, Any] = {
    "first_name": "Maria",
    "last_name": "Lopez",
    "email": "maria.lopez@acmelogistics.example.com",
    "phone": "+1 303 555 0142",
    "company": "Acme Logistics",
}


def _case(
    inbound: str = "Please tell me what a roof inspection costs.",
    *,
    channel: str = "email",
    thread: Sequence[str] = (),
    lead: Mapping[str, Any] = LEAD,
    settings: Mapping[str, Any] = SETTINGS,
) -> CaseInput:
    return CaseInput.model_validate(
        {
            "case_id": "c1",
            "client_id": "k1",
            "lead_id": "l1",
            "channel": channel,
            "job_created_at": T0,
            "inbound": InboundMessage(id="m9", subject="Question", body=inbound, sent_at=T0),
            "thread": [
                ThreadMessage(
                    message_id=f"m{n}", direction="outbound", channel=channel, body=body, sent_at=T0
                )
                for n, body in enumerate(thread)
            ],
            "lead": dict(lead),
            "client_settings": dict(settings),
        }
    )


# --- what each check catches --------------------------------------------------------------------

FLAGGED = [
    pytest.param("", _case(), "empty_draft", "0 characters", "empty_draft", id="empty"),
    pytest.param(" \n\t ", _case(), "empty_draft", "4 characters, all whitespace",
                 "empty_draft", id="whitespace-only"),
    pytest.param("Hi {first_name}, thanks!", _case(), "unresolved_placeholder", "{first_name}",
                 "{first_name}", id="braces"),
    pytest.param("Hi {{ First_Name }}!", _case(), "unresolved_placeholder", "{{ First_Name }}",
                 "{{ first_name }}", id="double-braces"),
    pytest.param("Hi [First Name], thanks!", _case(), "unresolved_placeholder", "[First Name]",
                 "[first name]", id="bracketed-words"),
    pytest.param("Best,\n[Your Name]", _case(), "unresolved_placeholder", "[Your Name]",
                 "[your name]", id="bracketed-signature"),
    pytest.param("Happy to help [Company].", _case(), "unresolved_placeholder", "[Company]",
                 "[company]", id="bracketed-company"),
    pytest.param("Hello <FIRST_NAME>,", _case(), "unresolved_placeholder", "<FIRST_NAME>",
                 "<first_name>", id="angle-brackets"),
    pytest.param("Dear %FIRST_NAME%,", _case(), "unresolved_placeholder", "%FIRST_NAME%",
                 "%first_name%", id="percent-signs"),
    pytest.param("x" * 321, _case(channel="sms"), "channel_length", "321 characters",
                 "channel_length", id="sms-over-320"),
    pytest.param("x" * 1901, _case(channel="linkedin"), "channel_length", "1,901 characters",
                 "channel_length", id="linkedin-over-1900"),
    pytest.param("We also offer a premium bundle for $9,999.", _case(), "unsupported_price",
                 "$9,999", "9999", id="made-up-price"),
    pytest.param("That would be USD 8888 all in.", _case(), "unsupported_price", "USD 8888",
                 "8888", id="currency-code-first"),
    pytest.param("It runs 1,500 EUR.", _case(), "unsupported_price", "1,500 EUR", "1500",
                 id="currency-code-after"),
    pytest.param("Only €77,777.50 today.", _case(), "unsupported_price", "€77,777.50",
                 "77777.5", id="euro-with-cents"),
    pytest.param("About £300 a visit.", _case(), "unsupported_price", "£300", "300",
                 id="pound-sign"),
    pytest.param("Roughly $12k for the roof.", _case(), "unsupported_price", "$12k", "12000",
                 id="thousands-suffix"),
    pytest.param("Maybe 50 bucks.", _case(), "unsupported_price", "50 bucks", "50",
                 id="money-word"),
    pytest.param("See https://promo.example.net/deal.", _case(), "unsupported_link",
                 "https://promo.example.net/deal", "promo.example.net/deal", id="made-up-link"),
    pytest.param("Visit www.Deals.example.com/Spring/ today", _case(), "unsupported_link",
                 "www.Deals.example.com/Spring/", "deals.example.com/Spring", id="bare-www"),
    pytest.param("Book at https://book.example.com/special-offer", _case(), "unsupported_link",
                 "https://book.example.com/special-offer", "book.example.com/special-offer",
                 id="known-host-made-up-path"),
    pytest.param("Write to sales@promo.example.net.", _case(), "unsupported_email",
                 "sales@promo.example.net", "sales@promo.example.net", id="made-up-email"),
    pytest.param("Call me on (720) 555-0199.", _case(), "unsupported_phone", "(720) 555-0199",
                 "7205550199", id="made-up-phone"),
    pytest.param("Our UK desk: +44 20 7946 0958", _case(), "unsupported_phone",
                 "+44 20 7946 0958", "2079460958", id="international-phone"),
    pytest.param("Text 7205550199 anytime.", _case(), "unsupported_phone", "7205550199",
                 "7205550199", id="phone-digits-only"),
    pytest.param("My direct line is 303-555-0199.", _case(), "unsupported_phone",
                 "303-555-0199", "3035550199", id="phone-sharing-the-area-code"),
    pytest.param("Sorry about that! Could we talk Monday?", _case("STOP"), "ignored_opt_out",
                 "Could we talk Monday?", "ignored_opt_out", id="opt-out-question"),
    pytest.param(f"Understood. Details: {BOOKING}", _case("Unsubscribe"), "ignored_opt_out",
                 BOOKING, "ignored_opt_out", id="opt-out-link"),
    pytest.param("Understood. An inspection is only $450.", _case("Remove me from your list."),
                 "ignored_opt_out", "$450", "ignored_opt_out", id="opt-out-price"),
    pytest.param("Understood. A quick call would still help.",
                 _case("Please stop texting me.", channel="sms"), "ignored_opt_out", "call",
                 "ignored_opt_out", id="opt-out-meeting"),
    pytest.param("Noted. I'll ring you Thursday at 3pm.", _case("Do not contact me again."),
                 "ignored_opt_out", "Thursday at 3pm", "ignored_opt_out", id="opt-out-day-time"),
    pytest.param("Of course. Let's book a demo.", _case("Not interested. Stop."),
                 "ignored_opt_out", "book", "ignored_opt_out", id="opt-out-not-interested-stop"),
]  # fmt: skip


@pytest.mark.parametrize(("draft", "case", "code", "evidence", "key"), FLAGGED)
def test_flags_the_violation(
    draft: str, case: CaseInput, code: str, evidence: str, key: str
) -> None:
    """The draft breaks exactly one rule, reported with its evidence and key."""
    found = check(draft, case)
    assert [(v.code, v.evidence, v.key, v.severity) for v in found] == [
        (code, evidence, key, "critical")
    ]


# --- what must not fire -------------------------------------------------------------------------

CLEAN = [
    pytest.param("Gutter guards are $1200.", _case(), id="price-without-comma"),
    pytest.param("Gutter guards are $1,200.00.", _case(), id="price-with-cents"),
    pytest.param("Gutter guards are 1,200 USD.", _case(), id="price-code-after"),
    pytest.param("Gutter guards are USD 1200.", _case(), id="price-code-first"),
    pytest.param("Gutter guards are $1.2k.", _case(), id="price-thousands-suffix"),
    pytest.param("That plan is $1,200.", _case(settings={"plan": {"price": 1200}}),
                 id="price-stored-as-number"),
    pytest.param("That plan is $1,200.", _case(settings={"plan": {"price": "1,200.00"}}),
                 id="price-stored-as-bare-text"),
    pytest.param("Yes, we can do it for $950.", _case("Could you do it for $950?"),
                 id="price-named-by-the-lead"),
    pytest.param("As I said, it's $2,750.", _case(thread=["The full job is $2,750."]),
                 id="price-from-the-thread"),
    pytest.param("Does Monday at 3 pm or Friday at 11:30am work?", _case(), id="times"),
    pytest.param("You get 20% off in 2026, across 3 sessions of 6 kW panels.", _case(),
                 id="percent-year-quantities"),
    pytest.param("We can start on 2026-11-20 or 11/21/2026.", _case(), id="dates"),
    pytest.param("Homes of 1200-1500 sq ft take a day.", _case(), id="number-range"),
    pytest.param("Order 12345678 has shipped.", _case(), id="short-id"),
    pytest.param(f"Pick a time: {BOOKING}", _case(), id="own-booking-link"),
    pytest.param("Pick a time: https://www.BOOK.example.com/brightpeak-roofing/?utm=sms#top",
                 _case(), id="own-booking-link-written-another-way"),
    pytest.param(f"[Book a time]({BOOKING}) whenever suits.", _case(), id="markdown-link"),
    pytest.param("As the report says [sic], see note [1].", _case(), id="brackets-not-slots"),
    pytest.param("Our <B>best</B> offer.", _case(), id="html-tag"),
    pytest.param("See book.example.com/brightpeak-roofing", _case(), id="bare-domain-in-draft"),
    pytest.param("Pick a time: https://book.example.com/brightpeak-roofing",
                 _case(settings={"note": "book.example.com/brightpeak-roofing"}),
                 id="link-written-without-scheme-in-context"),
    pytest.param("Write to Help@BrightPeak.example.com.", _case(), id="email-other-case"),
    pytest.param("I'll reply to maria.lopez@acmelogistics.example.com.", _case(),
                 id="email-of-the-lead"),
    pytest.param("Call us on 303.555.0100.", _case(), id="phone-with-dots"),
    pytest.param("Call us on +1 303 555 0100.", _case(), id="phone-with-country-code"),
    pytest.param("Call us on 3035550100.", _case(), id="phone-digits-only"),
    pytest.param("Call us on 555-0100.", _case(), id="phone-without-area-code"),
    pytest.param("I'll call you on (303) 555-0142.", _case(lead={"phone": 3035550142}),
                 id="phone-stored-as-number"),
    pytest.param("Sure, does Monday at 10am work?",
                 _case("Could I stop by your office on Monday?"), id="stop-by-the-office"),
    pytest.param("Glad to hear it! Want a quote?", _case("Non-stop rain here, so no rush."),
                 id="non-stop"),
    pytest.param("Happy to help. Shall we book a call?", _case("Stop worrying, we'll decide."),
                 id="stop-worrying"),
    pytest.param("You're unsubscribed, sorry for the bother. You won't get any more calls.",
                 _case("STOP"), id="opt-out-acknowledged"),
    pytest.param("x" * 320, _case(channel="sms"), id="sms-at-the-limit"),
    pytest.param("x" * 5000, _case(), id="email-has-no-limit"),
]  # fmt: skip


@pytest.mark.parametrize(("draft", "case"), CLEAN)
def test_does_not_fire(draft: str, case: CaseInput) -> None:
    """A draft that only restates its context, in any format, has no violation."""
    assert check(draft, case) == []


@pytest.mark.parametrize(
    ("draft", "config"),
    [
        pytest.param("Docs: https://help.example.org/faq", InvariantConfig(
            allowed_domains=("example.org",)), id="link-on-a-subdomain"),
        pytest.param("Docs: https://example.org/faq", InvariantConfig(
            allowed_domains=("https://www.Example.org/",)), id="domain-written-as-a-url"),
        pytest.param("Write to team@example.org", InvariantConfig(
            allowed_domains=("example.org",)), id="email"),
    ],
)  # fmt: skip
def test_allowed_domains_are_supported(draft: str, config: InvariantConfig) -> None:
    """Links and emails on an allowed domain or its subdomains pass."""
    assert check(draft, _case(), config) == []


def test_allowed_domain_is_not_a_suffix_match() -> None:
    """`badexample.org` is not on the allowed domain `example.org`."""
    config = InvariantConfig(allowed_domains=("example.org",))
    found = check("See https://badexample.org/x", _case(), config)
    assert [v.code for v in found] == ["unsupported_link"]


def test_made_up_path_says_the_host_is_known() -> None:
    """A known host with another path is reported as a made-up path."""
    (found,) = check("https://book.example.com/vip", _case())
    assert found.detail == "book.example.com is in the context, but not with this path"


def test_detail_names_where_it_looked() -> None:
    """A made-up price says where it was looked for."""
    (found,) = check("$9,999", _case())
    assert found.detail == "not in the inbound, thread, lead or client settings"


def test_length_limits_come_from_the_config() -> None:
    """A configured email limit applies; its detail names it."""
    (found,) = check("x" * 101, _case(), InvariantConfig(email_max_chars=100))
    assert (found.code, found.detail) == (
        "channel_length",
        "email drafts may have at most 100 characters",
    )


def test_duplicates_are_reported_once() -> None:
    """The same amount twice, written two ways, is one violation."""
    found = check("It's $9,999, yes $9999.00.", _case())
    assert [v.evidence for v in found] == ["$9,999"]


def test_violations_come_in_codes_order() -> None:
    """Violations are ordered by code as in CODES, then by position."""
    draft = "Call (720) 555-0199 or see https://x.example.net/a. $8,888, $7,777. Hi {name}"
    found = check(draft, _case())
    assert [(v.code, v.key) for v in found] == [
        ("unresolved_placeholder", "{name}"),
        ("unsupported_price", "8888"),
        ("unsupported_price", "7777"),
        ("unsupported_link", "x.example.net/a"),
        ("unsupported_phone", "7205550199"),
    ]


def test_disabled_codes_are_not_reported() -> None:
    """A disabled code is left out; the others still are."""
    config = InvariantConfig(disabled=frozenset({"unsupported_price"}))
    found = check("$9,999 for {name}", _case(), config)
    assert [v.code for v in found] == ["unresolved_placeholder"]


def test_a_shared_context_checks_each_draft_once_per_setting() -> None:
    """Through one context a draft is checked once per setting, as a fresh check would."""
    case = _case()
    context = checks.context_of(case)
    plain = check("$9,999 for {name}", case, context=context)
    assert (
        check("$9,999 for {name}", case, context=context)
        == plain
        == check("$9,999 for {name}", case)
    )
    assert len(context.checked) == 1
    off = InvariantConfig(disabled=frozenset({"unsupported_price"}))
    assert [v.code for v in check("$9,999 for {name}", case, off, context=context)] == [
        "unresolved_placeholder"
    ]
    cut = check("$9,999 for {name}", case, context=context, finish_reason="length")
    assert "truncated" in {v.code for v in cut} and len(context.checked) == 3


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        pytest.param("disabled", frozenset({"typo"}), "got 'typo'", id="unknown-code"),
        pytest.param("sms_max_chars", 0, "sms_max_chars must be a positive integer, got 0",
                     id="zero-limit"),
    ],
)  # fmt: skip
def test_config_rejects_bad_values(field: str, value: Any, message: str) -> None:
    """A config with an unknown code or a non-positive limit is refused."""
    with pytest.raises(ValueError, match=message):
        InvariantConfig(**{field: value})


def test_extra_opt_out_phrases_count() -> None:
    """A configured phrase makes an inbound an opt-out."""
    config = InvariantConfig(opt_out_phrases=("Cancel my subscription",))
    found = check("Sure, want a call?", _case("Please cancel my subscription."), config)
    assert [v.code for v in found] == ["ignored_opt_out"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *(pytest.param(t, True, id=t) for t in (
            "STOP", "stop.", "Unsubscribe", "please remove me", "Take me off your list",
            "opt out", "Opt-out please", "Don't contact me", "don\u2019t text me again",
            "Do not text/email me", "do not text or email me", "Not interested, please stop",
            "Leave me alone", "Hi Dana,\n\nSTOP\n\nThanks,\nMaria", "No more emails, thanks",
        )),
        *(pytest.param(t, False, id=t) for t in (
            "Can I stop by on Monday?", "Stop by our office anytime", "non-stop calls today",
            "Stop worrying about the price", "Not interested right now", "Please call me",
            "Where do I stop the water main?", "Monday works.\n> Reply STOP to opt out",
            "Monday works.\n\nOn Mon, Nov 2, 2026, Dana wrote:\nTo unsubscribe, click here",
        )),
    ],
)  # fmt: skip
def test_is_opt_out(text: str, expected: bool) -> None:
    """Asking to stop is an opt-out; "stop by" and the like are not."""
    assert is_opt_out(text) is expected


def test_is_opt_out_agrees_with_the_corpus() -> None:
    """Every fixture inbound template is an opt-out exactly when it is filed as one."""
    templates = [(i, t) for i, ts in corpus.INBOUND.items() for t in ts]
    templates.append((detect_intent(corpus.STOP_BY_OFFICE), corpus.STOP_BY_OFFICE))
    assert [t for i, t in templates if is_opt_out(t) != (i == "opt_out")] == []


def test_codes_are_the_designed_ones() -> None:
    """The documented check codes, each with a severity."""
    assert set(checks.SEVERITY) == set(CODES) and len(CODES) == 15


# --- drafts of generated fixtures ---------------------------------------------------------------


def _fixture_cases() -> Iterator[tuple[CaseInput, list[dict[str, Any]]]]:
    """Succeeded jobs of generated fixtures, as the case view reads them, with their prompts."""
    for item in faithful.cases(generate(clients=2, jobs_per_client=40, seed=5)):
        yield item.case, item.messages


@pytest.fixture(scope="module")
def fixture_cases() -> list[tuple[CaseInput, list[dict[str, Any]]]]:
    cases = list(_fixture_cases())
    assert len(cases) > 50
    assert any(is_opt_out(case.inbound.body) for case, _ in cases)
    return cases


@pytest.mark.parametrize("style", ["original", "variant"])
def test_faithful_drafts_pass(
    fixture_cases: list[tuple[CaseInput, list[dict[str, Any]]]], style: Style
) -> None:
    """Drafts written only from their prompt have no critical violation."""
    found = {
        case.case_id: [
            (v.code, v.evidence)
            for v in check(write_draft(msgs, style=style), case)
            if v.severity == "critical"
        ]
        for case, msgs in fixture_cases
    }
    assert {case_id: v for case_id, v in found.items() if v} == {}


@pytest.mark.parametrize("choice", range(len(MISTAKES)))
def test_injected_mistakes_are_found(
    fixture_cases: list[tuple[CaseInput, list[dict[str, Any]]]], choice: int
) -> None:
    """Each mistake the test model injects is found, under its own code and no other critical.

    An unanswered question is a warning, so it is looked for among every violation.
    """
    wrong = []
    for case, msgs in fixture_cases:
        draft, mistake = inject_mistake(msgs, write_draft(msgs, style="variant"), choice=choice)
        codes = {
            v.code for v in check(draft, case) if v.severity == "critical" or v.code == mistake
        }
        if codes != {mistake}:
            wrong.append((case.case_id, mistake, codes, draft))
    assert wrong == []
