"""Spanish, German and French fixtures, their drafts, and the checks on those drafts."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import orjson
import pytest

from replay.devtools import generator, locales, phrases
from replay.devtools.drafting import (
    INTENTS,
    Style,
    detect_intent,
    production_request,
    write_draft,
)
from replay.devtools.faithful import Faithful, cases, faithful_drafts
from replay.devtools.generator import TABLES, Dataset
from replay.devtools.languages import LOCALES, WORDINGS
from replay.errors import UsageError
from replay.models import CaseInput
from replay.verdict.checks import check

NEW = ("es", "de", "fr")
DEFAULT_DIGEST = "01473a4218e43e86201e3ee5051d2596d07caafcd41916b7c1f7a9b518d8dcc2"
"""`_digest(generate())` before other languages existed: English fixtures never change."""

# Words that mark a text's language, for the tests only: no detector, no shared list.
LANGUAGE_WORDS = {
    "en": set("the and you your please thanks what how can we is are this that with for".split()),
    "es": set(
        "el la los las de que por para con una su me le lo gracias hola usted podemos tengo "
        "estoy está estamos baja precio vale recibido perfecto mal momento sinceramente cuánto "
        "tiempo nuestra no".split()
    ),
    "de": set(
        "der die das und ist ich sie wir mit für ein eine zu bitte danke hallo uns wie gern "
        "mehr keine abmelden stopp ok notiert erhalten was können schlechter jemand ihrem um uhr "
        "passt mir".split()
    ),
    "fr": set(
        "le la les et est je vous nous avec pour un une des du merci bonjour ce votre de ne "
        "plus désabonner stop combien d'accord reçu très mauvais comment se ça me".split()
    ),
}
GREETING_WORDS = {"es": ("Hola", "Buenos días"), "de": ("Hallo", "Guten Tag"),
                  "fr": ("Bonjour", "Merci pour votre message")}  # fmt: skip
EURO = re.compile(r"€\d[\d,.]*\d|\d{1,3}(?:[. ]\d{3})*(?:,\d\d)? €")
LINK = re.compile(r"https?://\S+")
PHONE = re.compile(r"\+\d{2} \d[\d ]{6,}\d|\b0\d{2,3} \d{6,8}\b")
LEAD_PHONES = {
    "es": re.compile(r"\+34 6\d\d \d\d \d\d \d\d|\+34 9\d\d \d{3} \d{3}|6\d\d \d{3} \d{3}"),
    "de": re.compile(r"\+49 30 \d{8}|\+49 40 \d{7}|0171 \d{7}|\+49 151 \d{8}"),
    "fr": re.compile(r"(?:\+33 [167]|06)(?: \d\d){4}"),
}


def _digest(dataset: Dataset) -> str:
    digest = hashlib.sha256()
    for table, _ in TABLES:
        for row in dataset.rows[table]:
            digest.update(repr(row).encode())
    digest.update(repr(dataset.summary).encode())
    return digest.hexdigest()


def _rows(dataset: Dataset, table: str) -> list[dict[str, Any]]:
    columns = dict(TABLES)[table]
    return [dict(zip(columns, row, strict=True)) for row in dataset.rows[table]]


def _client_rows(dataset: Dataset, client_id: str) -> dict[str, list[Any]]:
    """Every row of one client, table by table."""
    return {
        table: [row for row in dataset.rows[table] if client_id in (row[0], row[1])]
        for table, _ in TABLES
    }


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", text.lower())


def _in_language(text: str, language: str) -> bool:
    """Some of the language's words, and more of them than of English's."""
    words = _words(text)
    own = sum(w in LANGUAGE_WORDS[language] for w in words)
    return own >= 1 and own > sum(w in LANGUAGE_WORDS["en"] for w in words)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generator.generate(clients=4, jobs_per_client=200, seed=3, languages=NEW + ("en",))


@pytest.fixture(scope="module")
def faithful() -> dict[str, list[Faithful]]:
    drafts: dict[str, list[Faithful]] = {}
    for draft in faithful_drafts(languages=NEW, per_language=600, seed=11):
        drafts.setdefault(draft.language, []).append(draft)
    return drafts


# --- generation ---------------------------------------------------------------------------------


def test_default_generation_is_unchanged() -> None:
    """The English fixtures every other test relies on are byte for byte what they were."""
    assert _digest(generator.generate(clients=3, jobs_per_client=400, seed=7)) == DEFAULT_DIGEST


def test_english_clients_are_the_same_beside_other_languages() -> None:
    """Clients of other languages change no English client's rows."""
    english = generator.generate(clients=3, jobs_per_client=40, seed=5)
    mixed = generator.generate(clients=3, jobs_per_client=40, seed=5, languages=("en", "es"))
    for index in (0, 2):
        client = english.summary.clients[index]
        assert mixed.summary.clients[index] == client
        assert _client_rows(mixed, client.id) == _client_rows(english, client.id)
    assert mixed.summary.clients[1] != english.summary.clients[1]


def test_generation_with_new_languages_is_deterministic() -> None:
    """One seed, one dataset, in any language; another seed, another dataset."""
    first = generator.generate(clients=3, jobs_per_client=60, seed=3, languages=NEW)
    second = generator.generate(clients=3, jobs_per_client=60, seed=3, languages=NEW)
    other = generator.generate(clients=3, jobs_per_client=60, seed=4, languages=NEW)
    assert first.rows == second.rows and first.summary == second.summary
    assert first.rows["messages"] != other.rows["messages"]


def test_an_unknown_language_is_refused() -> None:
    """Only the languages the fixtures speak; the error names them."""
    with pytest.raises(UsageError, match="languages must be among en, es, de, fr, got 'pt'"):
        generator.generate(clients=1, jobs_per_client=40, languages=("es", "pt"))


def test_client_settings_state_language_phone_availability_and_local_prices(
    dataset: Dataset,
) -> None:
    """Each new client states its language, phone and availability, and prices in euros."""
    settings = [orjson.loads(row["settings"]) for row in _rows(dataset, "clients")]
    assert [s.get("language") for s in settings] == [*NEW, None]
    for client in settings[:3]:
        assert client["phone"] and client["availability"]
        for window in client["availability"]:
            assert phrases.read_windows(WORDINGS[client["language"]], window), window
        prices = [p["price"] for p in client["price_list"]]
        assert all(EURO.fullmatch(p) for p in prices), prices
    styles = {
        locales.price_text(1200, b.price_style) for locale in LOCALES.values()
        for b in locale.businesses
    }  # fmt: skip
    assert styles == {"$1,200", "1.200 €", "1.200,00 €", "1 200 €", "1 200,00 €", "€1,200"}


def test_leads_have_local_names_phones_and_ascii_emails(dataset: Dataset) -> None:
    """Leads of new clients have names outside ASCII, local phone formats and ASCII emails."""
    clients = {row["id"]: orjson.loads(row["settings"]).get("language") for row in
               _rows(dataset, "clients")}  # fmt: skip
    for language in NEW:
        leads = [lead for lead in _rows(dataset, "leads") if clients[lead["client_id"]] == language]
        names = {lead["first_name"] for lead in leads} | {lead["last_name"] for lead in leads}
        assert {"Łukasz", "Søren"} & names and sum(not n.isascii() for n in names) > 10
        assert all(LEAD_PHONES[language].fullmatch(lead["phone"]) for lead in leads)
        assert all(lead["email"].isascii() and "@" in lead["email"] for lead in leads)
        zones = {lead["timezone"] for lead in leads}
        assert zones <= set(LOCALES[language].timezones)


def test_inbound_messages_are_in_the_clients_language(dataset: Dataset) -> None:
    """Every inbound body of a new client reads as its language by a plain word count."""
    clients = {row["id"]: orjson.loads(row["settings"]).get("language") or "en" for row in
               _rows(dataset, "clients")}  # fmt: skip
    seen: dict[str, set[str]] = {}
    for message in _rows(dataset, "messages"):
        body = message["body"]
        if (
            message["direction"] != "inbound"
            or body is None
            or clients[message["client_id"]] == "en"
        ):
            continue
        text = body.split("\n\n> [forwarded", 1)[0]
        language = clients[message["client_id"]]
        assert _in_language(text, language), (language, text)
        seen.setdefault(language, set()).add(detect_intent(text, language))
    assert all(seen[language] == set(INTENTS) for language in NEW), seen
    assert set(seen) == set(NEW)


@pytest.mark.parametrize("language", ("en", *NEW))
def test_inbound_templates_read_as_the_intent_they_are_filed_under(language: str) -> None:
    """Each template, with every business's items, reads as its intent; opt-outs say it locally."""
    locale = LOCALES[language]
    assert set(locale.inbound) == set(INTENTS)
    for intent, templates in locale.inbound.items():
        for template in templates:
            for business in locale.businesses:
                for item, _ in business.prices:
                    text = template.format(
                        item=item, service=business.service, company=locale.companies[0],
                        day=locale.weekdays[0], city=locale.cities[0],
                    )  # fmt: skip
                    assert detect_intent(text, language) == intent, text
                    assert detect_intent(text) == intent, text
    assert detect_intent(locale.stop_by.format(day=locale.weekdays[3]), language) == "meeting"
    opt_outs = " ".join(locale.inbound["opt_out"]).lower()
    wanted = {"en": ("unsubscribe",), "es": ("baja", "no me escriban más"),
              "de": ("abmelden", "bitte keine nachrichten mehr"),
              "fr": ("désabonner", "ne plus me contacter")}[language]  # fmt: skip
    assert all(phrase in opt_outs for phrase in wanted)


def _meeting_cases(dataset: Dataset, language: str) -> Iterator[Faithful]:
    for case in cases(dataset):
        if case.language == language and case.intent == "meeting":
            yield case


@pytest.mark.parametrize("language", NEW)
def test_meeting_threads_offer_slots_the_client_can_keep(dataset: Dataset, language: str) -> None:
    """Most meeting requests answer our offer of 2-3 times the client can keep; some take one.

    The times are within the client's hours, 1-6 days after the request, each weekday true to
    its date.
    """
    wording = WORDINGS[language]
    meetings = list(_meeting_cases(dataset, language))
    offered = taken = 0
    for case in meetings:
        offer = case.messages[-2] if len(case.messages) > 2 else {"role": "system"}
        slots = (
            phrases.find_slots(wording, offer["content"]) if offer["role"] == "assistant" else []
        )
        if len(slots) < 2:
            continue
        offered += 1
        assert len(slots) <= 3
        windows = [w for text in case.case.client_settings["availability"]
                   for w in phrases.read_windows(wording, text)]  # fmt: skip
        zone = ZoneInfo(case.case.lead["timezone"])
        today = case.case.inbound.sent_at.astimezone(zone).date()
        for slot in slots:
            assert slot.day is not None and slot.month is not None
            day = next(today + timedelta(days=n) for n in range(1, 7)
                       if (today + timedelta(days=n)).day == slot.day)  # fmt: skip
            assert (day.month, day.weekday()) == (slot.month, slot.weekday)
            assert any(slot.weekday in phrases.window_days(w) and w.start <= slot.hour < w.end
                       for w in windows)  # fmt: skip
        picked = phrases.find_slots(wording, case.case.inbound.body)
        taken += any((p.weekday, p.hour) == (s.weekday, s.hour) for p in picked for s in slots)
    assert len(meetings) > 20 and offered > len(meetings) / 2 and taken > 3


# --- faithful drafts ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", NEW)
def test_faithful_drafts_speak_the_case_language(
    faithful: dict[str, list[Faithful]], language: str
) -> None:
    """Greeted by the lead's own name the local way, signed by the client, in the language."""
    drafts = faithful[language]
    assert len(drafts) == 600 and {d.intent for d in drafts} == set(INTENTS)
    for draft in drafts:
        text, case = draft.draft, draft.case
        signature = case.client_settings["signature"]
        first_line = text.splitlines()[0]
        assert first_line.startswith((*GREETING_WORDS[language], case.lead["first_name"]))
        assert case.lead["first_name"] in first_line
        assert text.endswith(signature)
        assert _in_language(text.removesuffix(signature), language), text


@pytest.mark.parametrize("language", NEW)
def test_faithful_drafts_quote_only_what_the_prompt_states(
    faithful: dict[str, list[Faithful]], language: str
) -> None:
    """Prices as the client writes them, and links and phones, all from the prompt verbatim."""
    quoted = {"price": 0, "link": 0, "phone": 0}
    for draft in faithful[language]:
        prompt = "\n".join(m["content"] for m in draft.messages)
        for kind, pattern in (("price", EURO), ("link", LINK), ("phone", PHONE)):
            for found in pattern.findall(draft.draft):
                quoted[kind] += 1
                assert found.rstrip(".,") in prompt, (kind, found, draft.draft)
        assert "$" not in draft.draft
    assert all(count > 20 for count in quoted.values()), quoted


@pytest.mark.parametrize("language", NEW)
def test_meeting_drafts_restate_the_offered_times_or_confirm_the_one_taken(
    faithful: dict[str, list[Faithful]], language: str
) -> None:
    """A reply to our offer names the offered times in other words, or the one the lead took."""
    wording = WORDINGS[language]
    confirmed = restated = 0
    for draft in faithful[language]:
        offer = draft.messages[-2]
        slots = (
            phrases.find_slots(wording, offer["content"]) if offer["role"] == "assistant" else []
        )
        if draft.intent != "meeting" or len(slots) < 2:
            continue
        named = {
            (s.weekday, s.hour % 12, s.minute) for s in phrases.find_slots(wording, draft.draft)
        }
        offered = {(s.weekday, s.hour % 12, s.minute) for s in slots}
        picked = phrases.find_slots(wording, draft.case.inbound.body)
        taken = {(s.weekday, s.hour % 12, s.minute) for s in picked} & offered
        assert named == (taken or offered), (draft.draft, offer["content"])
        restated += not taken
        confirmed += bool(taken)
        for slot in slots:
            if slot.day is not None:  # offered with its date, restated in other words
                assert phrases.say_slot(wording, slot, "offer") not in draft.draft
    assert confirmed > 3 and restated > 3


def test_a_prompt_without_a_language_line_is_answered_in_the_inbound_language() -> None:
    """An English client's lead who writes German gets a German reply, with the client's facts."""
    settings = {"signature": "Dana Reyes, BrightPeak Roofing", "booking_link":
                "https://book.example.com/brightpeak"}  # fmt: skip
    request = production_request(
        client_settings=settings, lead={"first_name": "Jürgen"}, channel="email", thread=[],
        inbound_subject=None, inbound_body="Können wir diese Woche telefonieren?", model="m",
        temperature=0.0, max_tokens=400,
    )  # fmt: skip
    draft = write_draft(request["messages"])
    assert draft.startswith(("Hallo Jürgen", "Guten Tag Jürgen")) and " um " in draft
    assert draft.endswith("Dana Reyes, BrightPeak Roofing")


# --- the checks on faithful drafts --------------------------------------------------------------


@pytest.mark.parametrize("style", ["original", "variant"])
@pytest.mark.parametrize("language", ("en", *NEW))
def test_checks_find_nothing_critical_in_faithful_drafts(language: str, style: Style) -> None:
    """2,000 drafts written only from their prompt, per language: no critical violation."""
    count = 0
    found = []
    for draft in faithful_drafts(languages=(language,), per_language=2000, seed=7, style=style):
        count += 1
        found += [(v.code, v.evidence, draft.draft) for v in check(draft.draft, draft.case)
                  if v.severity == "critical"]  # fmt: skip
    assert count == 2000
    assert found == []


@pytest.mark.parametrize(
    "language",
    ["en", "es", "de", "fr"],
)
def test_checks_find_nothing_critical_in_faithful_unsigned_drafts(language: str) -> None:
    """A client without a signature: the draft ends on its sign-off line alone, as 'Best,'."""
    found = []
    for draft in faithful_drafts(languages=(language,), per_language=300, seed=5):
        settings = {k: v for k, v in draft.case.client_settings.items() if k != "signature"}
        case = draft.case.model_copy(update={"client_settings": settings})
        request = production_request(
            client_settings=settings, lead=case.lead, channel=case.channel,
            thread=[m.model_dump() for m in case.thread], inbound_subject=case.inbound.subject,
            inbound_body=case.inbound.body, model="m", temperature=0.0, max_tokens=400,
        )  # fmt: skip
        text = write_draft(request["messages"])
        found += [(v.code, v.evidence) for v in check(text, case) if v.severity == "critical"]
    assert found == []


# --- the checks on legitimate local writing ----------------------------------------------------

T0 = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
SIGNED = {"signature": "Lucía Fernández, Reformas Albero"}
HOURS_DE = {"availability": ["Montag bis Freitag 9 bis 10 Uhr"]}
OFFER_DE = (
    "Ausnahmsweise könnte ich Donnerstag den 12. November um 18:00 Uhr oder Freitag den "
    "13. November um 18:30 Uhr anbieten."
)


def _case(settings: dict[str, Any], inbound: str, thread: tuple[str, ...] = ()) -> CaseInput:
    return CaseInput.model_validate({
        "case_id": "c1", "client_id": "k1", "lead_id": "l1", "channel": "email",
        "job_created_at": T0, "inbound": {"id": "m9", "body": inbound, "sent_at": T0},
        "thread": [{"message_id": f"t{n}", "direction": "outbound", "channel": "email",
                    "body": body, "sent_at": T0 - timedelta(hours=n + 1)}
                   for n, body in enumerate(thread)],
        "lead": {"first_name": "Jürgen", "last_name": "Müller", "company": "Autohaus Köhler",
                 "timezone": "Europe/Berlin"},
        "client_settings": SIGNED | settings,
    })  # fmt: skip


LEGITIMATE = [
    pytest.param("Hallo Herr Müller,\n\nDanke für Ihre Nachricht.\n\nViele Grüße", {},
                 "Danke, angekommen.", (), id="de-formal-greeting"),
    pytest.param("Sehr geehrter Herr Müller,\n\nvielen Dank.\n\nMit freundlichen Grüßen", {},
                 "Danke, angekommen.", (), id="de-formal-greeting-sehr-geehrter"),
    pytest.param("Bonjour Monsieur Müller,\n\nMerci pour votre message.\n\nCordialement,", {},
                 "Merci, bien reçu.", (), id="fr-formal-greeting"),
    pytest.param("Estimado Sr. Müller:\n\nGracias por su mensaje.\n\nUn saludo,", {},
                 "Gracias, recibido.", (), id="es-formal-greeting"),
    pytest.param("Bonjour M. Müller,\n\nMerci pour votre message.\n\nCordialement,", {},
                 "Merci, bien reçu.", (), id="fr-greeting-m-dot"),
    pytest.param("Hallo Hr. Müller,\n\nDanke für Ihre Nachricht.\n\nViele Grüße", {},
                 "Danke, angekommen.", (), id="de-greeting-hr-dot"),
    pytest.param("Bonjour Jürgen,\n\nLa pose est à 1.200 €.\n\nCordialement,",
                 {"price_list": [{"item": "Pose", "price": "1 200,00 €"}]},
                 "Combien coûte la pose ?", (), id="price-restated-in-another-local-format"),
    pytest.param("Bonjour Jürgen,\n\nAppelez-moi au 06 12 34 56 78.\n\nCordialement,",
                 {"phone": "+33 6 12 34 56 78"}, "Merci, bien reçu.", (),
                 id="fr-phone-in-national-format"),
    pytest.param("Hallo Jürgen,\n\nRufen Sie mich unter 030 12345678 an.\n\nViele Grüße",
                 {"phone": "+49 30 12345678"}, "Danke, angekommen.", (),
                 id="de-phone-in-national-format"),
    pytest.param("Hallo Jürgen,\n\nPerfekt, dann halten wir Freitag um 18.30 Uhr fest.\n\n"
                 "Viele Grüße", HOURS_DE, "Der zweite Termin passt mir gut.",
                 (OFFER_DE.replace(" den ", ", ").replace(" um", ", um"),),
                 id="de-offered-time-restated"),
    pytest.param("Hallo Jürgen,\n\nPerfekt, dann halten wir Donnerstag um 18 Uhr fest.\n\n"
                 "Viele Grüße", HOURS_DE, "Der erste Termin passt mir gut.", (OFFER_DE,),
                 id="de-offered-time-written-with-den"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "settings", "inbound", "thread"), LEGITIMATE)
def test_checks_accept_legitimate_local_writing(
    body: str, settings: dict[str, Any], inbound: str, thread: tuple[str, ...]
) -> None:
    """Titles, prices and phones restated the local way, offered times: nothing critical."""
    draft = f"{body}\nLucía Fernández, Reformas Albero"
    found = check(draft, _case(settings, inbound, thread))
    assert [(v.code, v.evidence) for v in found if v.severity == "critical"] == []


# --- install ------------------------------------------------------------------------------------


async def test_install_loads_the_new_languages_as_generated(empty_db: str) -> None:
    """Names, prices and messages outside ASCII reach Postgres as generated."""
    expected = generator.generate(clients=3, jobs_per_client=40, seed=9, languages=NEW)
    conn = await asyncpg.connect(empty_db)
    try:
        summary = await generator.install(
            conn, clients=3, jobs_per_client=40, seed=9, languages=NEW
        )
        assert summary == expected.summary
        bodies = await conn.fetch("SELECT id::text, body FROM messages")
        assert {tuple(r) for r in bodies} == {(m[0], m[6]) for m in expected.rows["messages"]}
        settings = await conn.fetch("SELECT settings FROM clients ORDER BY name")
        assert {orjson.loads(r[0])["language"] for r in settings} == set(NEW)
    finally:
        await conn.close()


def test_weekday_names_of_every_wording_start_on_monday() -> None:
    """Slots are said and read with Monday as day 0, in every language."""
    monday = date(2026, 11, 16)
    for wording in WORDINGS.values():
        slot = phrases.Appointment(weekday=monday.weekday(), hour=9, day=16, month=11)
        said = phrases.say_slot(wording, slot, "offer")
        assert phrases.find_slots(wording, said) == [slot], said
