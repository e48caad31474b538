"""Deterministic reply drafts written from a chat request, as the fictional production model did.

The fixture generator stores these as original drafts, and the local model server answers with
them, so re-sending a recorded request reproduces its original draft exactly: the noise-free
baseline that every comparison needs. Facts are read from the prompt itself (`prompts.py`), so a
draft never holds a price, link or name the prompt did not state, and any prompt that states them
works. Drafts are worded in the prompt's language (`phrases.py` and one module per language).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from replay.devtools.languages import NO_COMMA, WORDINGS
from replay.devtools.phrases import (
    INTENTS,
    Appointment,
    Intent,
    Wording,
    find_slots,
    guess_language,
    read_windows,
    say_list,
    say_slot,
    window_days,
)
from replay.devtools.prompts import Facts, content_text, production_request, read_facts

__all__ = [
    "INTENTS",
    "LENGTH_LIMITS",
    "DraftParts",
    "Facts",
    "Intent",
    "Style",
    "content_text",
    "detect_intent",
    "draft_parts",
    "production_request",
    "read_facts",
    "render",
    "reply_language",
    "write_draft",
]

Style = Literal["original", "variant"]
LENGTH_LIMITS: Mapping[str, int] = {"sms": 320, "linkedin": 1900}
"""Characters a draft may have per channel; email has no limit."""

_SUBJECT_LINE = re.compile(r"\A[ \t]*subject:[^\n]*\n+", re.IGNORECASE)
_OPT_OUTS = tuple(
    pattern
    for code, wording in WORDINGS.items()
    if code != "en"
    for intent, pattern in wording.intent_rules
    if intent == "opt_out"
)
"""How each language other than English asks to stop: heard in a text of unknown language."""


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


def write_draft(messages: Sequence[Mapping[str, Any]], *, style: Style = "original") -> str:
    """Write the reply draft for chat-completions `messages`.

    Same messages, same draft: the only variation comes from a hash of the messages. The
    `variant` style words the same facts differently (another greeting, other phrasing, another
    sentence order), as a second sample of the same model would.
    """
    return render(draft_parts(messages, style=style))


def draft_parts(messages: Sequence[Mapping[str, Any]], *, style: Style = "original") -> DraftParts:
    """Write the draft for `messages` as parts; `render` lays them out.

    The draft is in `reply_language`.
    """
    context, inbound, digest, offer = _read(messages)
    facts = read_facts(context)
    pick = _Picker(digest, variant=style == "variant")
    said = _SUBJECT_LINE.sub("", inbound)
    language = _language(facts, said, messages)
    wording = WORDINGS[language]
    intent = detect_intent(said, language)
    sentences = _body(intent, facts, inbound.lower(), pick, wording, offer)
    if style == "variant":
        swapped = iter([s for s in reversed(sentences) if s.movable])
        sentences = [next(swapped) if s.movable else s for s in sentences]
    name = facts.first_name
    if intent == "opt_out":
        greeting = pick.phrase(wording.greetings_opt_out if name else wording.greetings_no_name[:2])
    else:
        greeting = pick.phrase(wording.greetings if name else wording.greetings_no_name)
    parts = DraftParts(
        channel=facts.channel,
        greeting=greeting.format(n=name),
        sentences=tuple(s.text for s in sentences),
        signoff=pick.phrase(wording.signoffs),
        signature=facts.signature,
    )
    return _fit(parts, sentences)


def reply_language(messages: Sequence[Mapping[str, Any]]) -> str:
    """The language a draft for `messages` is written in.

    The one the prompt asks for, else the inbound's when its words plainly tell it, else the
    conversation's (a short "Danke, passt." tells little), else English.
    """
    context, inbound, _, _ = _read(messages)
    return _language(read_facts(context), _SUBJECT_LINE.sub("", inbound), messages)


def _language(facts: Facts, said: str, messages: Sequence[Mapping[str, Any]]) -> str:
    wordings = tuple(WORDINGS.values())
    if facts.language:
        return facts.language
    turns = (
        content_text(m.get("content"))
        for m in messages
        if m.get("role") not in ("system", "developer")
    )
    return guess_language(said, wordings) or guess_language("\n".join(turns), wordings) or "en"


def render(parts: DraftParts) -> str:
    """Lay a draft out for its channel: SMS on one line, email and LinkedIn with a sign-off."""
    body = " ".join(parts.sentences)
    if parts.channel == "sms":
        text = " ".join(p for p in (parts.greeting, body) if p)
        return f"{text} - {parts.signature}" if parts.signature else text
    if parts.channel == "email" and len(parts.sentences) > 3:
        half = (len(parts.sentences) + 1) // 2
        body = " ".join(parts.sentences[:half]) + "\n\n" + " ".join(parts.sentences[half:])
    signoff = parts.signoff if parts.signoff in NO_COMMA else f"{parts.signoff},"
    closing = f"{signoff}\n{parts.signature}" if parts.signature else signoff
    return f"{parts.greeting}\n\n{body}\n\n{closing}"


def detect_intent(text: str, language: str | None = None) -> Intent:
    """Classify an inbound message by the first intent whose wording it contains.

    In `language`'s wording; without one, in the language the text plainly is in, else English,
    and an opt-out in any language still counts as one ("Baja", "Abmelden").
    """
    lower = text.lower()
    wording = WORDINGS.get(language or guess_language(lower, tuple(WORDINGS.values())) or "en")
    for intent, pattern in (wording or WORDINGS["en"]).intent_rules:
        if pattern.search(lower):
            return intent
    if language is None and any(p.search(lower) for p in _OPT_OUTS):
        return "opt_out"
    return "other"


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


def _read(messages: Sequence[Mapping[str, Any]]) -> tuple[str, str, bytes, str]:
    """Split messages into the context (system text), the inbound, their hash, and the offer.

    The offer is our message just before the inbound, which the inbound answers: the times it
    offers are the ones the lead can take.
    """
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
    before = messages[inbound_at - 1] if inbound_at > 0 else {}
    offer = texts[inbound_at - 1] if before.get("role") == "assistant" else ""
    if not system:
        # A prompt without a system message states its facts in the other turns.
        system = [t for i, t in enumerate(texts) if i != inbound_at]
    return "\n".join(system), inbound, hasher.digest(), offer


def _body(
    intent: Intent, facts: Facts, inbound: str, pick: _Picker, wording: Wording, offer: str
) -> list[_Sentence]:
    """The sentences of a reply to an inbound of `intent`, with facts from the prompt only.

    A meeting request that takes one of the times our last message offered is confirmed;
    otherwise the offered times are restated, or times within the availability proposed.
    """
    quotes = (
        _quotes(facts, inbound, pick, wording.language)
        if intent in ("pricing", "information", "objection")
        else []
    )
    values = {"link": facts.booking_link, "service": facts.service, "times": "", "slot": "",
              "phone": facts.phone}  # fmt: skip
    lines = wording.bodies[intent]
    if intent == "meeting":
        # One time in our last message confirmed a meeting; two or more offered a choice.
        offered = find_slots(wording, offer) if facts.availability and offer else []
        offered = offered if len(offered) > 1 else []
        chosen = _chosen(offered, inbound, wording)
        if chosen is not None:
            lines = wording.bodies["confirm"]
            values["slot"] = say_slot(wording, chosen, "long" if pick.number(2) else "short")
        else:
            values["times"] = _times(facts, offered, pick, wording)
    out: list[_Sentence] = []
    for line in lines:
        prices: list[tuple[str | None, str]] = [(None, "")]
        if line.needs == "quotes":
            if not quotes:
                out.append(_Sentence(wording.no_prices))
            prices = quotes
        elif line.needs == "quote":
            prices = [q for q in quotes if q[0]][:1]
        elif (line.needs == "service" and not facts.service) or (
            line.needs == "phone" and not facts.phone
        ):
            continue
        elif line.needs in ("link", "no_link") and bool(facts.booking_link) != (
            line.needs == "link"
        ):
            continue
        for item, price in prices:
            bare = line.needs == "quotes" and item is None
            phrases = (wording.bare_price,) if bare else line.phrases
            text = pick.phrase(phrases).format(
                item=item, item_lower=item and item[0].lower() + item[1:], price=price, **values
            )
            out.append(_Sentence(text, line.required, line.movable))
    return out


def _chosen(offered: Sequence[Appointment], inbound: str, wording: Wording) -> Appointment | None:
    """The offered time the inbound takes ("el jueves a las 10 me viene bien"), if it takes one."""
    for taken in find_slots(wording, inbound) if offered else ():
        for slot in offered:
            if (slot.weekday, slot.hour % 12, slot.minute) == (
                taken.weekday, taken.hour % 12, taken.minute,
            ):  # fmt: skip
                return slot
    return None


def _times(facts: Facts, offered: Sequence[Appointment], pick: _Picker, wording: Wording) -> str:
    """The times a meeting reply proposes: those offered, else two within the availability.

    Without either, two of the wording's usual hours on two weekdays.
    """
    if offered:
        form = "long" if len(offered) <= 2 and pick.number(2) else "short"
        return say_list(wording, [say_slot(wording, slot, form) for slot in offered])
    windows = next(
        (found for w in (wording, *WORDINGS.values())
         if (found := [x for text in facts.availability for x in read_windows(w, text)])),
        [],
    )  # fmt: skip
    if windows:
        open_hours = sorted(
            {(day, h) for w in windows for day in window_days(w) for h in range(w.start, w.end)}
        )
        first = open_hours[pick.number(len(open_hours))]
        others = [slot for slot in open_hours if slot[0] != first[0]]
        chosen = sorted([first, others[pick.number(len(others))]] if others else [first])
        slots = [say_slot(wording, Appointment(day, hour), "propose") for day, hour in chosen]
        return say_list(wording, slots)
    days, hours = wording.days[:5], wording.hours
    first_day = pick.number(len(days))
    second_day = (first_day + 1 + pick.number(len(days) - 1)) % len(days)
    at = (hours[pick.number(len(hours))], hours[pick.number(len(hours))])
    form = wording.slot_forms["default"]
    return say_list(wording, [
        form.format(weekday=days[first_day], hour=at[0]),
        form.format(weekday=days[second_day], hour=at[1]),
    ])  # fmt: skip


def _quotes(
    facts: Facts, inbound: str, pick: _Picker, language: str
) -> list[tuple[str | None, str]]:
    """The prices a reply quotes: the items the lead named, else two from the list."""
    if facts.prices and facts.prices[0][0] is None:
        # Prices without items: the lowest is the honest "starts at".
        return [min(facts.prices, key=lambda p: float(p[1][1:].replace(",", "")))]
    scored = [
        (_mentions(item, inbound, language), n) for n, (item, _) in enumerate(facts.prices) if item
    ]
    named = [facts.prices[n] for score, n in sorted(scored, key=lambda s: (-s[0], s[1])) if score]
    if named or len(facts.prices) <= 2:
        return named[:2] or list(facts.prices)
    first = pick.number(len(facts.prices))
    return [facts.prices[first], facts.prices[(first + 1) % len(facts.prices)]]


def _mentions(item: str, inbound: str, language: str) -> int:
    """How many distinctive words of a price list item the inbound uses."""
    return sum(word in inbound for word in _item_words(item, language))


@lru_cache(maxsize=1024)
def _item_words(item: str, language: str) -> tuple[str, ...]:
    wording = WORDINGS[language]
    words = wording.item_word.findall(item.lower())
    return tuple(w for w in words if w not in wording.item_stopwords)


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
