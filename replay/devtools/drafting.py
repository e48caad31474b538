"""Deterministic reply drafts written from a chat request, as the fictional production model wrote them.

The fixture generator stores these as original drafts, and the local model server answers with
them, so re-sending a recorded request reproduces its original draft exactly: the noise-free
baseline that every comparison needs. Facts are read from the prompt itself, so a draft never
holds a price, link or name the prompt did not state, and any prompt that states them works.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Literal, NamedTuple

Intent = Literal["pricing", "meeting", "information", "objection", "opt_out", "out_of_office", "other"]
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
_INTENT_RULES: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    ("opt_out", re.compile(
        r"\b(?:unsubscribe|opt[ -]?out|remove me|take me off|do not (?:contact|text|email|message)"
        r"|don'?t (?:contact|text|email|message) me|please stop\b(?!\s+by)"
        r"|stop (?:texting|emailing|messaging|contacting|calling|sending|reaching))"
        r"|^\W*stop\W*$",
        re.IGNORECASE | re.MULTILINE,
    )),
    ("out_of_office", re.compile(
        r"\b(?:out of (?:the )?office|ooo|automatic reply|auto-?reply|on (?:leave|vacation|holiday)"
        r"|away until|currently away|limited access to (?:e-?mail|my inbox))\b",
        re.IGNORECASE,
    )),
    ("objection", re.compile(
        r"\b(?:too (?:expensive|pricey)|already (?:work with|use|have)|happy with (?:our|them|what)"
        r"|not (?:interested|a priority|the right time|sure (?:this|it|we))|priority"
        r"|no budget|bad timing|signed with|(?:don'?t|do not) (?:think we )?need"
        r"|can'?t afford)\b",
        re.IGNORECASE,
    )),
    ("pricing", re.compile(
        r"\b(?:how much|prices?|pricing|costs?|charge|quotes?|rates?|fees?|budget)\b|\$\d",
        re.IGNORECASE,
    )),
    ("meeting", re.compile(
        r"\b(?:call|meet|meeting|schedule|calendar|demo|are you free|stop by|come (?:by|out)"
        r"|walkthrough|talk it (?:over|through)|what times|in person)\b",
        re.IGNORECASE,
    )),
    ("information", re.compile(
        r"\?|\b(?:more (?:info|information|details)|tell me more|how does|how long"
        r"|what(?:'s| is) included|do you (?:work|cover|offer|do)|send (?:me )?(?:more|details|info))\b",
        re.IGNORECASE,
    )),
)

_PRICE = r"\$\d[\d,]*(?:\.\d\d)?"
_PRICE_LINE = re.compile(
    r"^[ \t]*(?:[-*\u2022]|\d+[.)])?[ \t]*(?P<item>[^\n:$=]*?[A-Za-z][^\n:$=]*?)"
    r"[ \t]*(?::|=|\u2014|\u2013| - )[ \t]*(?P<price>" + _PRICE + ")",
    re.MULTILINE,
)
_PRICE_JSON = re.compile(r'"item"\s*:\s*"(?P<item>[^"]+)"\s*,\s*"price"\s*:\s*"(?P<price>' + _PRICE + ')"')
_PRICE_BARE = re.compile(_PRICE)
_URL = re.compile(r"https?://[^\s\"'<>)\]]+")
_BOOKING_URL = re.compile(r"book\w*[\"']?\s*[:=]?\s*[\"']?(https?://[^\s\"'<>)\]]+)", re.IGNORECASE)
_SIGNATURE = re.compile(
    r"^[ \t]*[\"']?(?:signature|sign[- ]?off|sign (?:every )?(?:reply |replies )?as)[\"']?"
    r"[ \t]*[:=][ \t]*[\"']?(?P<v>[^\n\"]+?)[\"']?,?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_SIGNATURE_JSON = re.compile(r'"signature"\s*:\s*"(?P<v>[^"\n]+)"')
_FIRST_NAME = re.compile(
    r"[\"']?first[_ ]name[\"']?\s*[:=]\s*[\"']?(?P<v>[A-Za-z][\w'-]*)"
    r"|^[ \t]*lead(?:'s)?(?: name)?[ \t]*:[ \t]*(?P<w>[A-Z][\w'-]*)",
    re.IGNORECASE | re.MULTILINE,
)
_SERVICE = re.compile(
    r"^[ \t]*[\"']?(?:service(?:[ _]description)?|about the business)[\"']?[ \t]*[:=][ \t]*"
    r"[\"']?(?P<v>[^\n\"]+?)[\"']?,?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_CHANNEL = re.compile(r"\bchannel[\"']?\s*[:=]\s*[\"']?(email|e-mail|sms|linkedin)", re.IGNORECASE)
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


class Sentence(NamedTuple):
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
            messages.append({"role": "user", "content": _with_subject(message.get("subject"), body)})
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
    sentences = _BODIES[intent](facts, inbound.lower(), pick)
    movable = [s for s in sentences if s.movable]
    if style == "variant":
        swapped = iter(reversed(movable))
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
        text = f"{parts.greeting} {body}"
        return f"{text} - {parts.signature}" if parts.signature else text
    if parts.channel == "email" and len(parts.sentences) > 3:
        half = (len(parts.sentences) + 1) // 2
        body = " ".join(parts.sentences[:half]) + "\n\n" + " ".join(parts.sentences[half:])
    closing = f"{parts.signoff},\n{parts.signature}" if parts.signature else f"{parts.signoff},"
    return f"{parts.greeting}\n\n{body}\n\n{closing}"


def detect_intent(text: str) -> Intent:
    """Classify an inbound message by the first intent whose wording it contains."""
    for intent, pattern in _INTENT_RULES:
        if pattern.search(text):
            return intent
    return "other"


@lru_cache(maxsize=4096)
def read_facts(context: str) -> Facts:
    """Read the client's and lead's facts out of prompt text (cached: a lead's jobs share one)."""
    prices: list[tuple[str | None, str]] = [
        (m["item"].strip(), m["price"]) for m in _PRICE_JSON.finditer(context)
    ]
    if not prices:
        prices = [(m["item"].strip(), m["price"]) for m in _PRICE_LINE.finditer(context)]
    if not prices:
        prices = [(None, m[0]) for m in _PRICE_BARE.finditer(context)]
    booking = _BOOKING_URL.search(context) or _URL.search(context)
    link = (booking[1] if booking.lastindex else booking[0]).rstrip(".,;") if booking else None
    signature = _SIGNATURE_JSON.search(context) or _SIGNATURE.search(context)
    name = _FIRST_NAME.search(context)
    service = _SERVICE.search(context)
    channel = _CHANNEL.search(context)
    if channel:
        found = channel[1].lower().replace("-", "")
    elif re.search(r"\bSMS\b", context):
        found = "sms"
    else:
        found = "linkedin" if re.search(r"\blinkedin\b", context, re.IGNORECASE) else "email"
    return Facts(
        prices=tuple(prices),
        booking_link=link,
        signature=signature["v"].strip() if signature else None,
        first_name=(name["v"] or name["w"]) if name else None,
        channel=found,
        service=service["v"].strip() if service else None,
    )


class _Picker:
    """Choices drawn from the hash of the messages: facts alike in both styles, wording not."""

    def __init__(self, digest: bytes, *, variant: bool) -> None:
        self._digest = digest
        self._variant = variant
        self._draws = 0

    def number(self, n: int) -> int:
        """Pick an index below `n`, the same in both styles (which items, which times)."""
        offset = (2 * self._draws) % (len(self._digest) - 1)
        self._draws += 1
        return int.from_bytes(self._digest[offset : offset + 2], "big") % n

    def phrase(self, options: Sequence[str]) -> str:
        """Pick a wording; the variant style always picks another one than the original."""
        index = self.number(len(options))
        shift = self.number(len(options) - 1) + 1 if len(options) > 1 else 0
        return options[(index + shift) % len(options)] if self._variant else options[index]


def _read(messages: Sequence[Mapping[str, Any]]) -> tuple[str, str, bytes]:
    """Split messages into the context (system text), the inbound, and their hash."""
    hasher = hashlib.blake2b()
    system: list[str] = []
    others: list[str] = []
    inbound_at = -1
    texts: list[str] = []
    for index, message in enumerate(messages):
        role = str(message.get("role", ""))
        text = _content_text(message.get("content"))
        texts.append(text)
        hasher.update(f"{role}\x1f{text}\x1e".encode())
        if role in ("system", "developer"):
            system.append(text)
        elif role == "user":
            inbound_at = index
    inbound = texts[inbound_at] if inbound_at >= 0 else ""
    if not system:
        # A prompt without a system message states its facts in the other turns.
        others = [t for i, t in enumerate(texts) if i != inbound_at]
    return "\n".join(system or others), inbound, hasher.digest()


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", "")) for part in content if isinstance(part, Mapping)
        )
    return ""


def _with_subject(subject: str | None, body: str) -> str:
    return f"Subject: {subject}\n\n{body}" if subject else body


def _lead_line(lead: Mapping[str, Any]) -> str:
    name = " ".join(str(lead[k]) for k in ("first_name", "last_name") if lead.get(k))
    company = lead.get("company")
    return f"{name or '(name unknown)'}" + (f" ({company})" if company else "")


def _chosen_prices(facts: Facts, inbound: str, pick: _Picker) -> list[tuple[str | None, str]]:
    """The prices a reply quotes: the items the lead named, else two from the list."""
    named = [
        (item, price)
        for item, price in facts.prices
        if item
        and any(
            w in inbound
            for w in _ITEM_WORDS.findall(item.lower())
            if w not in _ITEM_STOPWORDS
        )
    ]
    if named:
        return named[:2]
    if len(facts.prices) <= 2:
        return list(facts.prices)
    first = pick.number(len(facts.prices))
    return [facts.prices[first], facts.prices[(first + 1) % len(facts.prices)]]


def _price_sentence(item: str | None, price: str, pick: _Picker) -> str:
    if item is None:
        return f"Pricing starts at {price}."
    lower = item[0].lower() + item[1:]
    return pick.phrase((f"{item} is {price}.", f"{item} runs {price}.", f"For {lower}, it's {price}."))


def _pricing(facts: Facts, inbound: str, pick: _Picker) -> list[Sentence]:
    out = [Sentence(pick.phrase(("Thanks for asking about pricing.", "Happy to share our pricing.",
                                 "Good question on cost.")), required=False)]
    chosen = _chosen_prices(facts, inbound, pick)
    if chosen and chosen[0][0] is None:
        chosen = [min(chosen, key=lambda p: float(p[1][1:].replace(",", "")))]
    out += [Sentence(_price_sentence(item, price, pick), movable=True) for item, price in chosen]
    if not chosen:
        out.append(Sentence("I'll put together exact numbers for you today."))
    if facts.booking_link:
        out.append(Sentence(pick.phrase((
            f"When you're ready, you can pick a time here: {facts.booking_link}",
            f"If you'd like to go ahead, grab a slot here: {facts.booking_link}",
        )), required=False, movable=True))
    out.append(Sentence(pick.phrase(("Does that fit what you had in mind?",
                                     "Want me to put together a detailed quote?")), required=False))
    return out


def _meeting(facts: Facts, inbound: str, pick: _Picker) -> list[Sentence]:
    first = pick.number(len(_DAYS))
    days = (_DAYS[first], _DAYS[(first + 1 + pick.number(len(_DAYS) - 1)) % len(_DAYS)])
    hours = (_HOURS[pick.number(len(_HOURS))], _HOURS[pick.number(len(_HOURS))])
    slots = f"{days[0]} at {hours[0]} or {days[1]} at {hours[1]}"
    out = [
        Sentence(pick.phrase(("Happy to set up a time.", "Glad to find a time that works.",
                              "Let's get something on the calendar.")), required=False),
        Sentence(pick.phrase((f"Would {slots} work for you?", f"I have {slots} open, would either suit?",
                              f"How about {slots}?")), movable=True),
    ]
    if facts.booking_link:
        out.append(Sentence(pick.phrase((
            f"You can also pick any open slot here: {facts.booking_link}",
            f"If neither works, my calendar is here: {facts.booking_link}",
        )), movable=True))
    return out


def _information(facts: Facts, inbound: str, pick: _Picker) -> list[Sentence]:
    out = [Sentence(pick.phrase(("Happy to share more.", "Good question.")), required=False)]
    if facts.service:
        out.append(Sentence(pick.phrase((facts.service, f"In short: {facts.service}")), movable=True))
    named = [p for p in _chosen_prices(facts, inbound, pick) if p[0]]
    if named:
        item, price = named[0]
        out.append(Sentence(f"{item} is {price}.", required=False, movable=True))
    if facts.booking_link:
        out.append(Sentence(pick.phrase((
            f"If it's easier, grab a time to go through it together: {facts.booking_link}",
            f"You can book a short walkthrough here: {facts.booking_link}",
        )), required=False))
    else:
        out.append(Sentence("Happy to answer any other questions.", required=False))
    return out


def _objection(facts: Facts, inbound: str, pick: _Picker) -> list[Sentence]:
    out = [Sentence(pick.phrase(("Totally fair, and thanks for being upfront.", "Completely understand.",
                                 "That makes sense.")))]
    named = [p for p in facts.prices if p[0]]
    if named:
        item, price = named[pick.number(len(named))]
        lower = item[0].lower() + item[1:]
        out.append(Sentence(f"If it helps, {lower} is {price} with no long-term commitment.",
                            required=False, movable=True))
    out.append(Sentence(pick.phrase(("If anything changes, I'm happy to help.",
                                     "I'll leave the door open, no pressure at all.")), movable=True))
    if facts.booking_link:
        out.append(Sentence(f"My calendar is here if you ever want a quick chat: {facts.booking_link}",
                            required=False))
    return out


def _opt_out(facts: Facts, inbound: str, pick: _Picker) -> list[Sentence]:
    # No question, link, price or meeting: the lead asked us to stop.
    return [
        Sentence(pick.phrase(("Understood, and sorry for the bother.",
                              "Got it, apologies for the interruption.")), movable=True),
        Sentence(pick.phrase((
            "I've removed you from our list, and you won't hear from us again.",
            "You're off our list and won't receive further messages from us.",
        )), movable=True),
        Sentence(pick.phrase(("Wishing you all the best.", "Take care.")), required=False),
    ]


def _out_of_office(facts: Facts, inbound: str, pick: _Picker) -> list[Sentence]:
    return [
        Sentence(pick.phrase(("Thanks for the heads-up.", "Thanks for letting me know.")),
                 movable=True),
        Sentence(pick.phrase(("I'll follow up once you're back.",
                              "I'll check back in after you return.")), movable=True),
        Sentence("No rush at all.", required=False),
    ]


def _other(facts: Facts, inbound: str, pick: _Picker) -> list[Sentence]:
    out = [
        Sentence(pick.phrase(("Thanks for getting back to me.", "Appreciate the reply.")),
                 movable=True),
        Sentence(pick.phrase(("Let me know if there's anything I can help with.",
                              "I'm here whenever you need anything.")), movable=True),
    ]
    if facts.booking_link:
        out.append(Sentence(f"If a quick chat would help, grab a time here: {facts.booking_link}",
                            required=False))
    return out


_BODIES: Mapping[Intent, Callable[[Facts, str, _Picker], list[Sentence]]] = {
    "pricing": _pricing,
    "meeting": _meeting,
    "information": _information,
    "objection": _objection,
    "opt_out": _opt_out,
    "out_of_office": _out_of_office,
    "other": _other,
}


def _fit(parts: DraftParts, sentences: Sequence[Sentence]) -> DraftParts:
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
        # Only a signature longer than the limit gets here.
        return parts._replace(greeting="", sentences=(), signature=(parts.signature or "")[: limit - 4])
    return parts
