"""The prompt the fictional production system sent, and the facts a prompt states.

`production_request` builds the chat request production recorded; `read_facts` reads a client's
prices, links, signature, phone, availability and language, and the lead's name, back out of
any prompt that states them, whether as `Key: value` lines or as JSON.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from replay.devtools.languages import WORDINGS, language_code

__all__ = ["Facts", "content_text", "production_request", "read_facts"]

_CHANNEL_RULES = {
    "email": "a greeting, one or two short paragraphs and a sign-off",
    "sms": "plain text, at most 320 characters",
    "linkedin": "conversational, under 1,900 characters",
}

_PRICE = re.compile(r"\$\d[\d,]*(?:\.\d\d)?")
_EURO = re.compile(r"€ ?\d[\d.,]*|\d{1,3}(?:[. \u00a0\u202f]\d{3})*(?:,\d\d)? ?€")
"""A euro price as a price list writes it: `€1,200`, `1.200,00 €`, `1 200 €`."""
_URL = re.compile(r"https?://[^\s\"'<>)\]]+")
# "- Key: value" lines, as prompts state facts; JSON dumped into a prompt is read separately.
# A key starts with a letter of any script (`Étude sur site`).
_FIELD = re.compile(
    r"[ \t]*(?:[-*\u2022]|\d+[.)])?[ \t]*[\"']?(?P<key>[^\W\d_][^:=\"\n]{0,48}?)[\"']?[ \t]*"
    r"(?::|=|\u2014|\u2013| - )[ \t]*(?P<value>[^\n]*)"
)
_JSON_FIELD = re.compile(
    r'"(?P<key>signature|booking_link|first_name|channel|service_description|language|phone)"'
    r'\s*:\s*"(?P<value>[^"\n]*)"'
)
_JSON_PRICE = re.compile(
    r'"item"\s*:\s*"(?P<item>[^"\n]+)"\s*,\s*"price"\s*:\s*"(?P<price>(?:\$|€)[^"\n]+|\d[^"\n]*€)"'
)
# A name starts with a letter of any script (Łukasz, 李, Émile): `[^\W\d_]` is one.
_FIRST_NAME = re.compile(
    r"first[ _]name[\"']?\s*[:=]\s*[\"']?(?P<v>[^\W\d_][\w'-]*)", re.IGNORECASE
)
_WORD = re.compile(r"[^\W\d_][\w'-]*")
# What a "Key: value" line states, by its key: tried in order, the first match wins.
_KEY_FACTS = (
    (re.compile(r"\bsign"), "signature"),  # signature, sign off with, sign-off, sign as
    (re.compile(r"book|calendar"), "booking_link"),
    (re.compile(r"^(?:service|what we offer|about)"), "service_description"),
    (re.compile(r"^lead(?:'s)?(?: name| first name)?$"), "first_name"),
    (re.compile(r"^channel$"), "channel"),
    (re.compile(r"^(?:phone|telephone|tel)\b"), "phone"),
    (re.compile(r"^(?:availability|available|office hours|opening hours)\b"), "availability"),
    (re.compile(r"^(?:reply )?language$"), "language"),
)
_CHANNEL_NAMES = {"email": "email", "e-mail": "email", "sms": "sms", "text": "sms",
                  "linkedin": "linkedin"}  # fmt: skip


class Facts(NamedTuple):
    """What a prompt states about the client, the lead and the channel."""

    prices: tuple[tuple[str | None, str], ...]
    """Price list items (None when a price stands alone) and prices as written."""
    booking_link: str | None
    signature: str | None
    first_name: str | None
    channel: str
    service: str | None
    language: str | None = None
    """The code of the language the prompt asks the reply to be in, if it names one."""
    phone: str | None = None
    availability: tuple[str, ...] = ()
    """When the client meets, as the prompt states it: windows of days and hours."""


def production_request(
    *,
    client_settings: Mapping[str, Any],
    lead: Mapping[str, Any],
    channel: str,
    thread: Sequence[Mapping[str, Any]],
    inbound_subject: str | None,
    inbound_body: str,
    model: str,
    temperature: float,
    max_tokens: int,
) -> dict[str, Any]:
    """Build the chat request the fictional production system sent and recorded.

    Args:
        client_settings: service_description, price_list [{item, price}], booking_link,
            signature, persona; where given, phone, availability (a list of windows) and
            language (an ISO 639-1 code other than `en`), each stated on a line of its own.
        lead: first_name, last_name, company.
        channel: email, sms or linkedin.
        thread: earlier messages of the lead (direction, body, optional subject), oldest first;
            a message without a body is left out, as production could not show it.
        inbound_subject: the inbound's subject, for email.
        inbound_body: the message being answered.
        model: model name recorded in the request.
        temperature: sampling temperature recorded in the request.
        max_tokens: output limit recorded in the request.
    """
    lines = [
        f"You are {client_settings.get('persona') or 'a helpful sales assistant'}. "
        "You write reply drafts to inbound messages from sales leads.",
        "",
        f"Service: {client_settings.get('service_description', '')}",
        "Price list:",
    ]
    lines += [f"- {p['item']}: {p['price']}" for p in client_settings.get("price_list") or ()]
    lines += [
        f"Booking link: {client_settings.get('booking_link', '')}",
        f"Signature: {client_settings.get('signature', '')}",
        *_optional_lines(client_settings),
        "",
        f"Lead: {_lead_line(lead)}",
        f"Channel: {channel} ({_CHANNEL_RULES.get(channel, 'plain text')})",
        *_language_lines(client_settings),
        "",
        "Rules: quote only prices from the price list and only the booking link above. If the "
        "lead asks to stop or unsubscribe, acknowledge it and do not ask a question, share a "
        "link or a price, or propose a meeting.",
    ]
    if client_settings.get("availability"):
        lines.append(
            "Propose only times within the availability above, or times offered in the thread."
        )
    messages: list[dict[str, str]] = [{"role": "system", "content": "\n".join(lines)}]
    for message in thread:
        body = message.get("body")
        if body is None:
            continue
        if message.get("direction") == "outbound":
            messages.append({"role": "assistant", "content": body})
        else:
            messages.append(
                {"role": "user", "content": _with_subject(message.get("subject"), body)}
            )
    messages.append({"role": "user", "content": _with_subject(inbound_subject, inbound_body)})
    return {
        "model": model,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "messages": messages,
    }


@lru_cache(maxsize=4096)
def read_facts(context: str) -> Facts:
    """Read the client's and lead's facts out of prompt text (cached: a lead's jobs share one)."""
    # A JSON field names its fact exactly; a "Key: value" line is read after it.
    fields = {m["key"]: m["value"] for m in _JSON_FIELD.finditer(context)}
    named = _FIRST_NAME.search(context) if "name" in context else None
    if named:
        fields["first_name"] = named["v"]
    prices: list[tuple[str | None, str]] = []
    for line in context.splitlines():
        match = _FIELD.match(line) if ":" in line or "=" in line or "$" in line else None
        if match is None:
            continue
        key, value = match["key"].strip(), match["value"].strip().strip("\"',").strip()
        if _PRICE.fullmatch(value) or _EURO.fullmatch(value):
            prices.append((key, value))
        elif value[:1].isalnum() or value[:1] == "+":
            fact = _fact_of(key)
            if fact:
                fields.setdefault(fact, value)
    if not prices:
        prices = [(m["item"], m["price"]) for m in _JSON_PRICE.finditer(context)]
    if not prices:
        prices = [(None, m[0]) for m in _PRICE.finditer(context)]
    link = _URL.search(fields.get("booking_link", "")) or _URL.search(context)
    first = _WORD.match(fields.get("first_name", ""))
    said = _WORD.match(fields.get("channel", ""))
    channel = said[0].lower() if said else ""
    if channel not in _CHANNEL_NAMES:
        channel = "sms" if re.search(r"\bSMS\b", context) else "email"
    return Facts(
        prices=tuple(prices),
        booking_link=link[0].rstrip(".,;") if link else None,
        signature=fields.get("signature"),
        first_name=first[0] if first else None,
        channel=_CHANNEL_NAMES[channel],
        service=fields.get("service_description"),
        language=language_code(fields.get("language", "")),
        phone=fields.get("phone"),
        availability=tuple(
            part.strip() for part in fields.get("availability", "").split(";") if part.strip()
        ),
    )


def content_text(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return ""


def _with_subject(subject: str | None, body: str) -> str:
    return f"Subject: {subject}\n\n{body}" if subject else body


def _optional_lines(settings: Mapping[str, Any]) -> list[str]:
    """The phone and availability lines, for settings that state them."""
    lines = [f"Phone: {settings['phone']}"] if settings.get("phone") else []
    availability = settings.get("availability")
    if availability:
        windows = [availability] if isinstance(availability, str) else availability
        lines.append(f"Availability: {'; '.join(str(w) for w in windows)}")
    return lines


def _language_lines(settings: Mapping[str, Any]) -> list[str]:
    """The reply's language, for settings in another language than English."""
    code = language_code(str(settings.get("language") or "en"))
    if code is None or code == "en":
        return []
    name = WORDINGS[code].name
    return [f"Language: {code} ({name}); write the reply in {name}."]


def _lead_line(lead: Mapping[str, Any]) -> str:
    name = " ".join(str(lead[k]) for k in ("first_name", "last_name") if lead.get(k))
    company = lead.get("company")
    return f"{name or '(name unknown)'}" + (f" ({company})" if company else "")


@lru_cache(maxsize=1024)
def _fact_of(key: str) -> str | None:
    """The fact a "Key: value" line states, if any (keys repeat across prompts: cached)."""
    lower = key.lower().replace("_", " ")
    return next((fact for pattern, fact in _KEY_FACTS if pattern.search(lower)), None)
