"""The checks on Spanish, German and French drafts: prices, phones, opt-outs, placeholders."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from replay.models import CaseInput, InboundMessage
from replay.verdict.checks import check
from replay.verdict.money import MONEY, amount_of
from replay.verdict.optout import is_opt_out

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
SETTINGS: dict[str, Any] = {
    "signature": "Lucía Gómez, Clínica Sol",
    "price_list": [{"item": "Limpieza dental", "price": "1.200,00 €"}, {"item": "Revisión",
                   "price": "45 €"}],
    "phone": "+34 612 34 56 78",
}  # fmt: skip


def _case(inbound: str, settings: Mapping[str, Any] = SETTINGS) -> CaseInput:
    return CaseInput(
        case_id="c1", client_id="k1", lead_id="l1", channel="email", job_created_at=T0,
        inbound=InboundMessage(id="m9", body=inbound, sent_at=T0),
        lead={"first_name": "José"}, client_settings=dict(settings),
    )  # fmt: skip


def _codes(draft: str, inbound: str = "¿Cuánto cuesta la limpieza dental?") -> list[str]:
    return [v.code for v in check(draft, _case(inbound)) if v.severity == "critical"]


@pytest.mark.parametrize(
    ("written", "amount"),
    [
        ("1.200,00 €", "1200"), ("1 200 €", "1200"), ("1\u202f200 €", "1200"),
        ("€1,200", "1200"), ("€ 1.200", "1200"), ("45,50 €", "45.5"), ("EUR 45", "45"),
        ("12,5 EUR", "12.5"), ("$1,200.00", "1200"), ("1.2k USD", "1200"), ("£20", "20"),
        ("3 euros", "3"),
    ],
)  # fmt: skip
def test_amounts_read_alike_whatever_their_format(written: str, amount: str) -> None:
    match = MONEY.search(f"cuesta {written} al mes")
    assert match is not None and amount_of(match) == amount


@pytest.mark.parametrize(
    "draft",
    [
        "Hola José, la limpieza dental cuesta 1.200 €.",
        "Hola José, la limpieza dental cuesta 1200,00 EUR.",
        "Hola José, son 1 200 € y la revisión 45,00 €.",
        "Hola José, llámanos al 612 34 56 78.",
        "Hola José, llámanos al +34 612 345 678.",
    ],
)
def test_a_fact_restated_in_a_local_format_is_supported(draft: str) -> None:
    assert _codes(draft) == []


@pytest.mark.parametrize(
    ("draft", "code"),
    [
        ("Hola José, la limpieza dental cuesta 1.500,00 €.", "unsupported_price"),
        ("Hola José, cuesta 999 €.", "unsupported_price"),
        ("Hola José, llámanos al +34 699 99 99 99.", "unsupported_phone"),
        ("Hola [Nombre], gracias por escribir.", "unresolved_placeholder"),
        ("Hallo [Vorname], danke für Ihre Nachricht.", "unresolved_placeholder"),
        ("Bonjour [Prénom], merci pour votre message.", "unresolved_placeholder"),
    ],
)
def test_an_invented_fact_in_a_local_format_is_caught(draft: str, code: str) -> None:
    assert code in [v.code for v in check(draft, _case("Hola"))]


@pytest.mark.parametrize(
    "inbound",
    [
        "baja", "Por favor, dame de baja.", "No me escriban más, gracias.", "Dejen de escribirme.",
        "Bitte abmelden.", "Bitte keine Nachrichten mehr.", "Kontaktieren Sie mich nicht mehr.",
        "Merci de me désabonner.", "Merci de ne plus me contacter.", "Arrêtez de m'écrire.",
    ],
)  # fmt: skip
def test_opt_outs_in_spanish_german_and_french(inbound: str) -> None:
    assert is_opt_out(inbound)
    assert "ignored_opt_out" in _codes("Entendido. ¿Agendamos una llamada el jueves?", inbound)
    assert "ignored_opt_out" not in _codes("Entendido, no le escribiremos más.", inbound)


@pytest.mark.parametrize(
    "inbound",
    [
        "¿Cuánto cuesta la baja temporal del plan?", "No me llamo José, me llamo Pepe.",
        "Ich habe keine Nachrichten bekommen.", "Keine Sorge, wir sprechen morgen.",
        "Je ne peux pas me connecter.", "no me contactaron todavía",
        "Responde BAJA para no recibir más mensajes.",
    ],
)  # fmt: skip
def test_words_that_only_look_like_an_opt_out(inbound: str) -> None:
    assert not is_opt_out(inbound)


@pytest.mark.parametrize(
    ("inbound", "draft"),
    [
        ("Bitte abmelden.", "Verstanden. Sollen wir einen Termin am Donnerstag vereinbaren?"),
        ("Merci de ne plus me contacter.", "Bien noté. Un appel jeudi vous conviendrait ?"),
    ],
)
def test_a_meeting_offered_to_an_opt_out_in_another_language(inbound: str, draft: str) -> None:
    found = [v for v in check(draft, _case(inbound)) if v.code == "ignored_opt_out"]
    assert len(found) == 1
