"""What a language's fixtures are made of: the businesses that speak it and what people write.

`corpus.ENGLISH` is the English one; `spanish`, `german` and `french` hold theirs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from replay.devtools.phrases import Window

PriceStyle = Literal[
    "usd", "eur_dot", "eur_dot_cents", "eur_space", "eur_space_cents", "eur_prefix"
]
"""How a client writes its prices: `$1,200`, `1.200 €`, `1.200,00 €`, `1 200 €`, `1 200,00 €`,
`€1,200`."""


@dataclass(frozen=True)
class Business:
    """A client of the drafting system, before the generator gives it an id."""

    name: str
    slug: str
    service: str
    """What leads ask about, as a noun phrase that fits "how does ... work"."""
    description: str
    persona: str
    signer: str
    prices: tuple[tuple[str, int], ...]
    """Price list items and their prices in whole dollars (or euros)."""
    price_style: PriceStyle = "usd"
    phone: str | None = None
    """The client's phone number, stated in its settings."""
    hours: tuple[Window, ...] = ()
    """When the client meets, stated in its settings as `availability`."""


def price_text(amount: int, style: PriceStyle) -> str:
    """A whole amount as a client of `style` writes it in its price list."""
    grouped = f"{amount:,}"
    if style == "usd":
        return f"${grouped}"
    if style == "eur_prefix":
        return f"€{grouped}"
    separator = "." if style.startswith("eur_dot") else " "
    number = grouped.replace(",", separator)
    return f"{number},00 €" if style.endswith("_cents") else f"{number} €"


@dataclass(frozen=True)
class Locale:
    """What leads and humans write in one language, and the businesses that work in it.

    Templates take the placeholders of their English counterparts in `corpus`. `service` is said
    as each language's templates expect: English, Spanish and French with an article, German as a
    feminine noun without one.
    """

    language: str
    """ISO 639-1 code, as a client's settings state it."""
    businesses: tuple[Business, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    companies: tuple[str, ...]
    cities: tuple[str, ...]
    timezones: tuple[str, ...]
    weekdays: tuple[str, ...]
    inbound: Mapping[str, tuple[str, ...]]
    stop_by: str
    """A meeting request that names the office: never an opt-out."""
    markup: str
    inbound_email: tuple[str, ...]
    linkedin: str
    """How a LinkedIn message greets the agent: {agent}, {core}."""
    subjects: tuple[str, ...]
    thread_subject: str
    """The subject of a thread we opened: {service} (capitalized), {company}."""
    openers: tuple[str, ...]
    follow_ups: tuple[str, ...]
    opt_out_confirmation: str
    human_replies: tuple[str, ...]
    opt_out_human_reply: str
    greeting_edits: tuple[str, ...]
    added_sentences: tuple[str, ...]
    signoff_edits: tuple[str, ...]
    persona: str
    """The persona setting: {persona}, {business}."""
    item_case: Literal["lower", "first", "keep"]
    """How an inbound names a price list item: lower-cased, first letter lowered, or as listed."""
    phones: tuple[str, ...] = ()
    """Lead phone numbers, each `#` a random digit; none: US numbers in the 555-01xx range."""
    slot_offers: tuple[str, ...] = ()
    """Outbound messages offering meeting times: {first}, {agent}, {slots}. None: no offers."""
    slot_picks: tuple[str, ...] = ()
    """Inbound messages taking one offered time: {slot}, {Slot} (capitalized)."""
