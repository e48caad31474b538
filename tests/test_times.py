"""The check of meeting times: a proposed day or hour must be offered, and never past."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import dateparser
import pytest

from replay.models import CaseInput, InboundMessage, ThreadMessage
from replay.verdict import checks, policy, times
from replay.verdict.checks import InvariantConfig
from tests.helpers import check_except_questions as check

T0 = datetime(2026, 1, 8, 15, 0, tzinfo=UTC)
"""A Thursday afternoon: "Saturday" is 2026-01-10, "Thursday" a week on, 2026-01-15."""
WEEKDAYS: dict[str, Any] = {"availability": "Mon-Fri 9am-5pm"}
INBOUND = "Can we set up a call to go over the quote?"


def _case(
    settings: Mapping[str, Any] = WEEKDAYS,
    *,
    inbound: str = INBOUND,
    thread: tuple[str, ...] = (),
    timezone: str | None = "Europe/Madrid",
    sent_at: datetime = T0,
    thread_at: datetime | None = None,
) -> CaseInput:
    messages = [
        ThreadMessage(
            message_id=f"t{n}",
            direction="outbound" if n % 2 else "inbound",
            channel="email",
            body=body,
            sent_at=thread_at or sent_at,
        )  # fmt: skip
        for n, body in enumerate(thread)
    ]
    lead: dict[str, Any] = {"first_name": "Ana"} | ({"timezone": timezone} if timezone else {})
    return CaseInput(
        case_id="c1", client_id="k1", lead_id="l1", channel="email", job_created_at=sent_at,
        inbound=InboundMessage(id="m9", body=inbound, sent_at=sent_at), thread=messages,
        lead=lead, client_settings=dict(settings),
    )  # fmt: skip


def _found(draft: str, case: CaseInput | None = None) -> list[tuple[str, str, str]]:
    found = check(draft, case or _case())
    return [(v.evidence, v.key, v.severity) for v in found if v.code in times.CODES]


# --- what fires ---------------------------------------------------------------------------------

FLAGGED = [
    pytest.param("Could we meet Saturday at 8pm?", WEEKDAYS, "Saturday at 8pm",
                 "2026-01-10 20:00", "critical", id="outside-the-weekday-hours"),
    pytest.param("Would Tue 13 Jan 7:00 pm work?", WEEKDAYS, "Tue 13 Jan 7:00 pm",
                 "2026-01-13 19:00", "critical", id="a-weekday-evening"),
    pytest.param("¿Te va bien el sábado a las 10?", WEEKDAYS, "sábado a las 10",
                 "2026-01-10 10:00", "critical", id="spanish"),
    pytest.param("Passt Ihnen Samstag um 10 Uhr?", WEEKDAYS, "Samstag um 10 Uhr",
                 "2026-01-10 10:00", "critical", id="german"),
    pytest.param("On se voit samedi à 14h ?", WEEKDAYS, "samedi à 14h", "2026-01-10 14:00",
                 "critical", id="french"),
    pytest.param("Or would 7pm suit you better?", WEEKDAYS, "7pm", "19:00", "critical",
                 id="an-hour-alone"),
    pytest.param("How about a call on Saturday?", WEEKDAYS, "Saturday", "2026-01-10", "warning",
                 id="a-day-alone-is-a-warning"),
    pytest.param("Could we stop by Saturday at 3pm?", WEEKDAYS, "Saturday at 3pm",
                 "2026-01-10 15:00", "critical", id="stop-by-is-a-visit-not-a-deadline"),
    pytest.param("Can we meet on Jan 2 at 10am?", {}, "Jan 2 at 10am", "2026-01-02 10:00",
                 "critical", id="past-without-any-availability"),
    pytest.param("Let's book the inspection for January 5.", {}, "January 5", "2026-01-05",
                 "critical", id="a-past-day-alone-is-critical"),
    pytest.param("Monday at 3pm?", {"hours": {"monday": "9-12", "tuesday": "9-17"}},
                 "Monday at 3pm", "2026-01-12 15:00", "critical", id="hours-per-day"),
    pytest.param("Could we do Thursday at 10am?", {"slots": ["Tue 13 Jan 10:00",
                                                             "Wed 14 Jan 15:00"]},
                 "Thursday at 10am", "2026-01-15 10:00", "critical", id="not-one-of-the-slots"),
    pytest.param("Would Wed 14 Jan at 10am work?", {"slots": ["Wed 14 Jan 15:00"]},
                 "Wed 14 Jan at 10am", "2026-01-14 10:00", "critical",
                 id="the-slot-s-day-at-another-hour"),
]  # fmt: skip
WEDNESDAY = datetime(2026, 1, 7, 15, 0, tzinfo=UTC)
"""The day before T0: a thread message sent then says "tomorrow" of T0's Thursday."""
FROM_THE_THREAD = [
    pytest.param("¿O le vendría bien una llamada el viernes a las 7:00?",
                 _case(thread=("Lo consulto con el equipo y le digo algo mañana.",)),
                 "viernes a las 7:00", "2026-01-09 07:00", id="a-promise-to-write-offers-no-day"),
    pytest.param("Would Friday at 10am work?",
                 _case({"availability": "Tuesdays 2-4pm"},
                       thread=("", "How about tomorrow at 10am?"), thread_at=WEDNESDAY),
                 "Friday at 10am", "2026-01-09 10:00",
                 id="a-thread-s-tomorrow-is-the-day-after-it-was-sent"),
]  # fmt: skip


@pytest.mark.parametrize(("draft", "case", "evidence", "key"), FROM_THE_THREAD)
def test_a_thread_offers_what_it_proposes_on_its_own_date(
    draft: str, case: CaseInput, evidence: str, key: str
) -> None:
    """A thread day offers a meeting only where it proposes one, read from the day it was sent."""
    assert _found(draft, case) == [(evidence, key, "critical")]


@pytest.mark.parametrize(("draft", "settings", "evidence", "key", "severity"), FLAGGED)
def test_flags_an_unoffered_or_past_time(
    draft: str, settings: Mapping[str, Any], evidence: str, key: str, severity: str
) -> None:
    """One violation: the draft's words as evidence, the resolved date and time as key."""
    assert _found(draft, _case(settings)) == [(evidence, key, severity)]


def test_details_name_what_was_offered() -> None:
    """An unoffered time names the offers; a past one names the inbound's date."""
    case = _case(inbound="Are you free Friday?")
    (unoffered,) = [v for v in check("Saturday at 8pm?", case) if v.code == "unoffered_time"]
    assert unoffered.detail == (
        "not offered by the inbound, thread or client settings; offered: 'Friday', "
        "'availability: Mon-Fri 9am-5pm'"
    )
    (past,) = [v for v in check("Meet on Jan 2?", _case({})) if v.code == "unoffered_time"]
    assert past.detail == "2026-01-02 is before the inbound's date, 2026-01-08"


def test_the_lead_s_timezone_decides_the_date() -> None:
    """Late on Jan 8 in UTC is already Jan 9 in Berlin: "Jan 8" is past there, not in UTC."""
    late = datetime(2026, 1, 8, 23, 30, tzinfo=UTC)
    draft = "Can we meet on Jan 8 at 10am?"
    assert _found(draft, _case({}, timezone="UTC", sent_at=late)) == []
    assert _found(draft, _case({}, timezone=None, sent_at=late)) == []
    assert _found(draft, _case({}, timezone="Europe/Berlin", sent_at=late)) == [
        ("Jan 8 at 10am", "2026-01-08 10:00", "critical")
    ]
    assert _found(draft, _case({}, timezone="Not/AZone", sent_at=late)) == []


# --- near-misses --------------------------------------------------------------------------------

TUESDAYS = {"availability": "Tuesdays 2-4pm"}
CLEAN = [
    pytest.param("Thursday at 10 works for me.", _case(TUESDAYS, thread=("", "Thu 10:00 am?")),
                 id="a-thread-time-restated-in-other-words"),
    pytest.param("Shall we say Thu 15 Jan, 10:00?",
                 _case(TUESDAYS, thread=("", "Would Thursday at 10am work?")),
                 id="a-thread-time-restated-as-a-date"),
    pytest.param("¿Confirmamos mañana a las 10:00?",
                 _case(TUESDAYS, thread=("", "¿Te va bien mañana a las 10?")),
                 id="manana-a-las-10-offered-in-the-thread"),
    pytest.param("Great, see you today at 10am.",
                 _case(TUESDAYS, thread=("", "How about tomorrow at 10am?"), thread_at=WEDNESDAY),
                 id="a-thread-s-tomorrow-is-today-for-the-inbound"),
    pytest.param("Saturday at 11am works.", _case(TUESDAYS, inbound="Are you free Saturday?"),
                 id="a-day-the-lead-offered-at-any-hour"),
    pytest.param("Sure, 3pm works.", _case(TUESDAYS, inbound="Could we talk Saturday?"),
                 id="an-hour-alone-on-the-lead-s-day"),
    pytest.param("Saturday at 10am works.", _case({"slots": ["Sat 10 Jan 10:00"]}),
                 id="one-of-the-client-s-slots"),
    pytest.param("Would Monday at 9am or Wednesday at 2pm work?", _case(),
                 id="within-the-weekday-hours"),
    pytest.param("Could we meet Saturday at 8pm?", _case({}),
                 id="no-availability-nothing-to-judge-by"),
    pytest.param("Grab any slot here: https://book.example.com/brightpeak/2026-01-02?t=10:00",
                 _case(), id="a-booking-link-with-no-time"),
    pytest.param("Please reply by Saturday so we can hold the price.", _case(),
                 id="a-deadline-is-not-a-meeting"),
    pytest.param("I'll send the quote by Saturday at 8pm.", _case(), id="a-deadline-with-an-hour"),
    pytest.param("Our office is open until 7pm.", _case(), id="until-an-hour"),
    pytest.param("Let's talk sometime next week.", _case(), id="next-week-names-no-day"),
    pytest.param("Have a great Saturday!", _case(), id="a-day-without-a-meeting-word"),
    pytest.param("The demo last Saturday went well.", _case(), id="last-saturday"),
    pytest.param("Guten Morgen Ana, passt Ihnen ein Termin?", _case(), id="guten-morgen"),
    pytest.param("Te llamo por la mañana.", _case(), id="por-la-manana-is-a-morning"),
    pytest.param("The inspection is $450; call us at (303) 555-0100.", _case(),
                 id="a-price-and-a-phone"),
    pytest.param("> Saturday at 8pm works for me\n\nThanks, we'll confirm.", _case(),
                 id="a-quoted-line"),
    pytest.param("Could we meet Saturday at 8pm?",
                 _case({"availability": "Mon-Fri 9am-5pm, Sat 6-9pm"}),
                 id="a-second-window"),
]  # fmt: skip


@pytest.mark.parametrize(("draft", "case"), CLEAN)
def test_does_not_fire(draft: str, case: CaseInput) -> None:
    """Offered in any words, inside a window, or no proposal at all: no violation."""
    assert _found(draft, case) == []


AVAILABILITY = [
    pytest.param("Mon–Fri 09:00–17:00", id="24-hour-clock"),
    pytest.param("weekdays 9-5", id="weekdays-9-5"),
    pytest.param("Monday to Friday, 9am to 5pm", id="spelled-out"),
    pytest.param("lunes a viernes de 9 a 17", id="spanish"),
    pytest.param("Mo-Fr 9-17 Uhr", id="german"),
    pytest.param("du lundi au vendredi de 9h à 17h", id="french"),
    pytest.param(["Mon 9-17", "Tue 9-17", "Wed 9-17", "Thu 9-17", "Fri 9-17"], id="a-list"),
]  # fmt: skip


@pytest.mark.parametrize("availability", AVAILABILITY)
def test_availability_windows(availability: Any) -> None:
    """Inside the window passes; a weekend or an evening does not."""
    case = _case({"availability": availability})
    assert _found("Would Tuesday at 10am work?", case) == []
    assert _found("Would Tuesday at 4:30pm work?", case) == []
    assert [key for _, key, _ in _found("Would Saturday at 10am work?", case)] == [
        "2026-01-10 10:00"
    ]
    assert [key for _, key, _ in _found("Would Tuesday at 7pm work?", case)] == ["2026-01-13 19:00"]


# --- cost ---------------------------------------------------------------------------------------


def test_no_dateparser_call_without_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a day or hour, or with only weekdays and nothing to judge by, no parse is made."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("dateparser was called")

    monkeypatch.setattr(dateparser, "parse", refuse)
    drafts = ["Thanks Ana! The inspection is $450; book here: https://book.example.com/x",
              "Hola Ana, gracias. La inspección cuesta 450 € y dura 2 horas."]  # fmt: skip
    for draft in drafts:
        assert _found(draft) == []
    assert _found("Would Saturday at 8pm work?", _case({})) == []


# --- across drafts ------------------------------------------------------------------------------


def test_the_same_slot_in_both_drafts_is_pre_existing() -> None:
    """Saturday at 8pm and Sat 10 Jan, 8:00 pm are one slot: pre-existing, not new."""
    case = _case()
    found = policy.changes(check("Saturday at 8pm?", case), check("Sat 10 Jan, 8:00 pm?", case))
    assert found.new == [] and [v.code for v in found.pre_existing] == ["unoffered_time"]


def test_a_new_unoffered_time_regresses_and_a_new_day_alone_does_not() -> None:
    """A new critical violation regresses; a day proposed without an hour is only a warning."""
    case = _case()
    original = check("Would Monday at 9am work?", case)
    hour = policy.changes(original, check("Would Saturday at 8pm work?", case))
    assert [v.code for v in hour.new] == ["unoffered_time"]
    assert policy.decide(invariants=hour).verdict == "regressed"
    day = policy.changes(original, check("Could we chat on Saturday?", case))
    assert [v.severity for v in day.new] == ["warning"]
    assert policy.decide(invariants=day).verdict != "regressed"


def test_the_code_is_a_check_code() -> None:
    """`unoffered_time` is among `checks.CODES`, critical at most, and can be switched off."""
    assert set(times.CODES) <= set(checks.CODES)
    assert checks.SEVERITY["unoffered_time"] == "critical"
    config = InvariantConfig(disabled=frozenset(times.CODES))
    assert [v for v in check("Saturday at 8pm?", _case(), config) if v.code in times.CODES] == []
