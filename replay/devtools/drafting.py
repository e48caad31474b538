"""Deterministic reply drafts written from a chat request, as the fictional production model did.

The fixture generator stores these as original drafts, and the local model server answers with
them, so re-sending a recorded request reproduces its original draft exactly: the noise-free
baseline that every comparison needs. Facts are read from the prompt itself, so a draft never
holds a price, link or name the prompt did not state, and any prompt that states them works.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Literal, NamedTuple

Intent = Literal[
    "pricing", "meeting", "information", "objection", "opt_out", "out_of_office", "other"
]
INTENTS: tuple[Intent, ...] = (
    "pricing", "meeting", "information", "objection", "opt_out", "out_of_office", "other",
)  # fmt: skip
Style = Literal["original", "variant"]
LENGTH_LIMITS: Mapping[str, int] = {"sms": 320, "linkedin": 1900}
"""Characters a draft may have per channel; email has no limit."""

_CHANNEL_RULES = {
    "email": "a greeting, one or two short paragraphs and a sign-off",
    "sms": "plain text, at most 320 characters",
    "linkedin": "conversational, under 1,900 characters",
}

# Checked in order: an opt-out that also objects is an opt-out, and so on down.
_INTENT_PATTERNS: tuple[tuple[Intent, str], ...] = (
    ("opt_out", r"\b(?:unsubscribe|opt[ -]?out|remove me|take me off"
                r"|do not (?:contact|text|email|message)"
                r"|don'?t (?:contact|text|email|message) me"
                r"|please stop\b(?!\s+by)"
                r"|stop (?:texting|emailing|messaging|contacting|calling|sending|reaching))"
                r"|^\W*stop\W*$"),
    ("out_of_office", r"\b(?:out of (?:the )?office|ooo|automatic reply|auto-?reply"
                      r"|on (?:leave|vacation|holiday)|away until|currently away"
                      r"|limited access to (?:e-?mail|my inbox))\b"),
    ("objection", r"\b(?:too (?:expensive|pricey)|already (?:work with|use|have)"
                  r"|happy with (?:our|them|what)"
                  r"|not (?:interested|a priority|the right time|sure (?:this|it|we))"
                  r"|no budget|bad timing|signed with|(?:don'?t|do not) (?:think we )?need"
                  r"|can'?t afford)\b"),
    ("pricing", r"\b(?:how much|prices?|pricing|costs?|charge|quotes?|rates?|fees?|budget)\b"
                r"|\$\d"),
    ("meeting", r"\b(?:call|meet|meeting|schedule|calendar|demo|are you free|stop by"
                r"|come (?:by|out)|walkthrough|talk it (?:over|through)|what times"
                r"|in person)\b"),
    ("information", r"\?|\b(?:more (?:info|information|details)|tell me more|how does|how long"
                    r"|what(?:'s| is) included|do you (?:work|cover|offer|do)"
                    r"|send (?:me )?(?:more|details|info))\b"),
)  # fmt: skip
# Matched against lower-cased text: an IGNORECASE scan costs twice as much.
_INTENT_RULES = tuple((i, re.compile(pattern, re.MULTILINE)) for i, pattern in _INTENT_PATTERNS)

_PRICE = re.compile(r"\$\d[\d,]*(?:\.\d\d)?")
_URL = re.compile(r"https?://[^\s\"'<>)\]]+")
# "- Key: value" lines, as prompts state facts; JSON dumped into a prompt is read separately.
_FIELD = re.compile(
    r"[ \t]*(?:[-*\u2022]|\d+[.)])?[ \t]*[\"']?(?P<key>[A-Za-z][^:=\"\n]{0,48}?)[\"']?[ \t]*"
    r"(?::|=|\u2014|\u2013| - )[ \t]*(?P<value>[^\n]*)"
)
_JSON_FIELD = re.compile(
    r'"(?P<key>signature|booking_link|first_name|channel|service_description)"'
    r'\s*:\s*"(?P<value>[^"\n]*)"'
)
_JSON_PRICE = re.compile(
    r'"item"\s*:\s*"(?P<item>[^"\n]+)"\s*,\s*"price"\s*:\s*"(?P<price>\$[^"\n]+)"'
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
)
_CHANNEL_NAMES = {"email": "email", "e-mail": "email", "sms": "sms", "text": "sms",
                  "linkedin": "linkedin"}  # fmt: skip
_SUBJECT_LINE = re.compile(r"\A[ \t]*subject:[^\n]*\n+", re.IGNORECASE)
_ITEM_WORDS = re.compile(r"[a-z]{4,}")
_ITEM_STOPWORDS = frozenset({"per", "month", "year", "hour", "plan", "package", "average", "home"})

_GREETINGS = ("Hi {n},", "Hello {n},", "Hey {n},", "Good to hear from you, {n}.")
_GREETINGS_NO_NAME = ("Hi there,", "Hello,", "Hey there,", "Good to hear from you.")
_GREETINGS_OPT_OUT = ("Hi {n},", "Hello {n},", "{n},")
_SIGNOFFS = ("Best", "Thanks", "Kind regards", "All the best")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_HOURS = ("9am", "10am", "11:30am", "1pm", "2pm", "3:30pm", "4pm")


class Facts(NamedTuple):
    """What a prompt states about the client, the lead and the channel."""

    prices: tuple[tuple[str | None, str], ...]
    """Price list items (None when a price stands alone) and prices as written."""
    booking_link: str | None
    signature: str | None
    first_name: str | None
    channel: str
    service: str | None


class _Sentence(NamedTuple):
    """One sentence of a draft body."""

    text: str
    required: bool = True
    """False when the sentence may be dropped to fit a channel's length limit."""
    movable: bool = False
    """True when the variant style may put it elsewhere among the other movable sentences."""


class DraftParts(NamedTuple):
    """A draft before layout, so that human edits can change one part and lay it out again."""

    channel: str
    greeting: str
    sentences: tuple[str, ...]
    signoff: str | None
    signature: str | None


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
            signature, persona.
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
        "",
        f"Lead: {_lead_line(lead)}",
        f"Channel: {channel} ({_CHANNEL_RULES.get(channel, 'plain text')})",
        "",
        "Rules: quote only prices from the price list and only the booking link above. If the "
        "lead asks to stop or unsubscribe, acknowledge it and do not ask a question, share a "
        "link or a price, or propose a meeting.",
    ]
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


def write_draft(messages: Sequence[Mapping[str, Any]], *, style: Style = "original") -> str:
    """Write the reply draft for chat-completions `messages`.

    Same messages, same draft: the only variation comes from a hash of the messages. The
    `variant` style words the same facts differently (another greeting, other phrasing, another
    sentence order), as a second sample of the same model would.
    """
    return render(draft_parts(messages, style=style))


def draft_parts(messages: Sequence[Mapping[str, Any]], *, style: Style = "original") -> DraftParts:
    """Write the draft for `messages` as parts; `render` lays them out."""
    context, inbound, digest = _read(messages)
    facts = read_facts(context)
    pick = _Picker(digest, variant=style == "variant")
    intent = detect_intent(_SUBJECT_LINE.sub("", inbound))
    sentences = _body(intent, facts, inbound.lower(), pick)
    if style == "variant":
        swapped = iter([s for s in reversed(sentences) if s.movable])
        sentences = [next(swapped) if s.movable else s for s in sentences]
    name = facts.first_name
    if intent == "opt_out":
        greeting = pick.phrase(_GREETINGS_OPT_OUT if name else _GREETINGS_NO_NAME[:2])
    else:
        greeting = pick.phrase(_GREETINGS if name else _GREETINGS_NO_NAME)
    parts = DraftParts(
        channel=facts.channel,
        greeting=greeting.format(n=name),
        sentences=tuple(s.text for s in sentences),
        signoff=pick.phrase(_SIGNOFFS),
        signature=facts.signature,
    )
    return _fit(parts, sentences)


def render(parts: DraftParts) -> str:
    """Lay a draft out for its channel: SMS on one line, email and LinkedIn with a sign-off."""
    body = " ".join(parts.sentences)
    if parts.channel == "sms":
        text = " ".join(p for p in (parts.greeting, body) if p)
        return f"{text} - {parts.signature}" if parts.signature else text
    if parts.channel == "email" and len(parts.sentences) > 3:
        half = (len(parts.sentences) + 1) // 2
        body = " ".join(parts.sentences[:half]) + "\n\n" + " ".join(parts.sentences[half:])
    closing = f"{parts.signoff},\n{parts.signature}" if parts.signature else f"{parts.signoff},"
    return f"{parts.greeting}\n\n{body}\n\n{closing}"


def detect_intent(text: str) -> Intent:
    """Classify an inbound message by the first intent whose wording it contains."""
    lower = text.lower()
    for intent, pattern in _INTENT_RULES:
        if pattern.search(lower):
            return intent
    return "other"


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
        if _PRICE.fullmatch(value):
            prices.append((key, value))
        elif value[:1].isalnum():
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
    )


class _Picker:
    """Choices drawn from the hash of the messages: facts alike in both styles, wording not."""

    def __init__(self, digest: bytes, *, variant: bool) -> None:
        self._digest = digest
        self._variant = variant
        self._draws = 0

    def number(self, n: int) -> int:
        """Pick an index below `n`, the same in both styles (which items, which times)."""
        offset = self._draws % 31 * 2
        self._draws += 1
        return int.from_bytes(self._digest[offset : offset + 2], "big") % n

    def phrase(self, options: Sequence[str]) -> str:
        """Pick a wording; the variant style always picks another one than the original."""
        n = len(options)
        draw = self.number(n * n)
        if self._variant and n > 1:
            return options[(draw % n + 1 + draw // n % (n - 1)) % n]
        return options[draw % n]


def _read(messages: Sequence[Mapping[str, Any]]) -> tuple[str, str, bytes]:
    """Split messages into the context (system text), the inbound, and their hash."""
    hasher = hashlib.blake2b()
    system: list[str] = []
    inbound_at = -1
    texts: list[str] = []
    for index, message in enumerate(messages):
        role = str(message.get("role", ""))
        text = content_text(message.get("content"))
        texts.append(text)
        hasher.update(f"{role}\x1f{text}\x1e".encode())
        if role in ("system", "developer"):
            system.append(text)
        elif role == "user":
            inbound_at = index
    inbound = texts[inbound_at] if inbound_at >= 0 else ""
    if not system:
        # A prompt without a system message states its facts in the other turns.
        system = [t for i, t in enumerate(texts) if i != inbound_at]
    return "\n".join(system), inbound, hasher.digest()


def content_text(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return ""


def _with_subject(subject: str | None, body: str) -> str:
    return f"Subject: {subject}\n\n{body}" if subject else body


def _lead_line(lead: Mapping[str, Any]) -> str:
    name = " ".join(str(lead[k]) for k in ("first_name", "last_name") if lead.get(k))
    company = lead.get("company")
    return f"{name or '(name unknown)'}" + (f" ({company})" if company else "")


class _Slot(NamedTuple):
    """A sentence of a reply: its wordings, and the fact it needs (left out without it)."""

    phrases: tuple[str, ...]
    required: bool = True
    movable: bool = False
    needs: Literal["link", "no_link", "service", "quotes", "quote"] | None = None
    """`quotes`: one sentence per quoted price; `quote`: the first quoted item's price."""


# Placeholders: {link}, {service}, {times}, {item}, {item_lower}, {price}.
_BODIES: Mapping[Intent, tuple[_Slot, ...]] = {
    "pricing": (
        _Slot(("Thanks for asking about pricing.", "Happy to share our pricing.",
               "Good question on cost."), required=False),
        _Slot(("{item} is {price}.", "{item} runs {price}.", "For {item_lower}, it's {price}."),
              movable=True, needs="quotes"),
        _Slot(("When you're ready, you can pick a time here: {link}",
               "If you'd like to go ahead, grab a slot here: {link}"),
              required=False, movable=True, needs="link"),
        _Slot(("Does that fit what you had in mind?", "Want me to put together a detailed quote?"),
              required=False),
    ),
    "meeting": (
        _Slot(("Happy to set up a time.", "Glad to find a time that works.",
               "Let's get something on the calendar."), required=False),
        _Slot(("Would {times} work for you?", "I have {times} open, would either suit?",
               "How about {times}?"), movable=True),
        _Slot(("You can also pick any open slot here: {link}",
               "Any open slot on my calendar works too: {link}"), movable=True, needs="link"),
    ),
    "information": (
        _Slot(("Happy to share more.", "Good question."), required=False),
        _Slot(("{service}", "In short: {service}"), movable=True, needs="service"),
        _Slot(("{item} is {price}.", "{item} comes to {price}."),
              required=False, movable=True, needs="quote"),
        _Slot(("If it's easier, grab a time to go through it together: {link}",
               "You can book a short walkthrough here: {link}"), required=False, needs="link"),
        _Slot(("Happy to answer any other questions.",), required=False, needs="no_link"),
    ),
    "objection": (
        _Slot(("Totally fair, and thanks for being upfront.", "Completely understand.",
               "That makes sense.")),
        _Slot(("If it helps, {item_lower} is {price} with no long-term commitment.",),
              required=False, movable=True, needs="quote"),
        _Slot(("If anything changes, I'm happy to help.",
               "I'll leave the door open, no pressure at all."), movable=True),
        _Slot(("My calendar is here if you ever want a quick chat: {link}",),
              required=False, needs="link"),
    ),
    # No question, link, price or meeting: the lead asked us to stop.
    "opt_out": (
        _Slot(("Understood, and sorry for the bother.", "Got it, apologies for the interruption."),
              movable=True),
        _Slot(("I've removed you from our list, and you won't hear from us again.",
               "You're off our list and won't receive further messages from us."), movable=True),
        _Slot(("Wishing you all the best.", "Take care."), required=False),
    ),
    "out_of_office": (
        _Slot(("Thanks for the heads-up.", "Thanks for letting me know."), movable=True),
        _Slot(("I'll follow up once you're back.", "I'll check back in after you return."),
              movable=True),
        _Slot(("No rush at all.",), required=False),
    ),
    "other": (
        _Slot(("Thanks for getting back to me.", "Appreciate the reply."), movable=True),
        _Slot(("Let me know if there's anything I can help with.",
               "I'm here whenever you need anything."), movable=True),
        _Slot(("If a quick chat would help, grab a time here: {link}",),
              required=False, needs="link"),
    ),
}  # fmt: skip
_NO_PRICES = "I'll put together exact numbers for you today."
_BARE_PRICE = "Pricing starts at {price}."


def _body(intent: Intent, facts: Facts, inbound: str, pick: _Picker) -> list[_Sentence]:
    """The sentences of a reply to an inbound of `intent`, with facts from the prompt only."""
    quotes = (
        _quotes(facts, inbound, pick) if intent in ("pricing", "information", "objection") else []
    )
    values = {"link": facts.booking_link, "service": facts.service, "times": ""}
    if intent == "meeting":
        first = pick.number(len(_DAYS))
        second = (first + 1 + pick.number(len(_DAYS) - 1)) % len(_DAYS)
        hours = (_HOURS[pick.number(len(_HOURS))], _HOURS[pick.number(len(_HOURS))])
        values["times"] = f"{_DAYS[first]} at {hours[0]} or {_DAYS[second]} at {hours[1]}"
    out: list[_Sentence] = []
    for slot in _BODIES[intent]:
        prices: list[tuple[str | None, str]] = [(None, "")]
        if slot.needs == "quotes":
            if not quotes:
                out.append(_Sentence(_NO_PRICES))
            prices = quotes
        elif slot.needs == "quote":
            prices = [q for q in quotes if q[0]][:1]
        elif slot.needs == "service" and not facts.service:
            continue
        elif slot.needs in ("link", "no_link") and bool(facts.booking_link) != (
            slot.needs == "link"
        ):
            continue
        for item, price in prices:
            phrases = (_BARE_PRICE,) if slot.needs == "quotes" and item is None else slot.phrases
            text = pick.phrase(phrases).format(
                item=item, item_lower=item and item[0].lower() + item[1:], price=price, **values
            )
            out.append(_Sentence(text, slot.required, slot.movable))
    return out


def _quotes(facts: Facts, inbound: str, pick: _Picker) -> list[tuple[str | None, str]]:
    """The prices a reply quotes: the items the lead named, else two from the list."""
    if facts.prices and facts.prices[0][0] is None:
        # Prices without items: the lowest is the honest "starts at".
        return [min(facts.prices, key=lambda p: float(p[1][1:].replace(",", "")))]
    scored = [(_mentions(item, inbound), n) for n, (item, _) in enumerate(facts.prices) if item]
    named = [facts.prices[n] for score, n in sorted(scored, key=lambda s: (-s[0], s[1])) if score]
    if named or len(facts.prices) <= 2:
        return named[:2] or list(facts.prices)
    first = pick.number(len(facts.prices))
    return [facts.prices[first], facts.prices[(first + 1) % len(facts.prices)]]


@lru_cache(maxsize=1024)
def _fact_of(key: str) -> str | None:
    """The fact a "Key: value" line states, if any (keys repeat across prompts: cached)."""
    lower = key.lower().replace("_", " ")
    return next((fact for pattern, fact in _KEY_FACTS if pattern.search(lower)), None)


def _mentions(item: str, inbound: str) -> int:
    """How many distinctive words of a price list item the inbound uses."""
    return sum(word in inbound for word in _item_words(item))


@lru_cache(maxsize=1024)
def _item_words(item: str) -> tuple[str, ...]:
    return tuple(w for w in _ITEM_WORDS.findall(item.lower()) if w not in _ITEM_STOPWORDS)


def _fit(parts: DraftParts, sentences: Sequence[_Sentence]) -> DraftParts:
    """Drop optional sentences, last first, then cut words, until the channel's limit holds."""
    limit = LENGTH_LIMITS.get(parts.channel)
    if limit is None or len(render(parts)) <= limit:
        return parts
    kept = list(sentences)
    for index in range(len(kept) - 1, -1, -1):
        if not kept[index].required:
            del kept[index]
            parts = parts._replace(sentences=tuple(s.text for s in kept))
            if len(render(parts)) <= limit:
                return parts
    while parts.sentences and len(render(parts)) > limit:
        *head, last = parts.sentences
        words = last.split(" ")
        shorter = " ".join(words[:-1]).rstrip(",;:")
        parts = parts._replace(sentences=(*head, shorter) if len(words) > 1 else tuple(head))
    if len(render(parts)) > limit:
        # Only a greeting and signature longer than the limit get here.
        return parts._replace(greeting="", signature=(parts.signature or "")[: limit - 3])
    return parts
