"""The mistakes the local model server's `replay-variant` makes: each one a real model makes.

One draft in four carries one mistake, chosen from the request's digest so that the same request
makes the same mistake every time, and named in the `x-stub-injected` header. Each kind is made
only where the draft has a place for it and the mistake stays alone: a check that catches it
must find it and nothing else. `choose` is the server's draw; `inject_mistake` makes a chosen
kind, for tests and the judge's labelled set.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

from replay.devtools.drafting import (
    LENGTH_LIMITS,
    Facts,
    content_text,
    detect_intent,
    read_facts,
    reply_language,
)
from replay.devtools.languages import WORDINGS
from replay.devtools.phrases import (
    Appointment,
    Wording,
    guess_language,
    read_windows,
    say_slot,
    window_days,
)

__all__ = [
    "BANDS",
    "MISTAKES",
    "NAME_MISTAKES",
    "SHAPE_MISTAKES",
    "Mistake",
    "choose",
    "inject_mistake",
]

Mistake = Literal[
    "unsupported_price",
    "unresolved_placeholder",
    "channel_length",
    "unsupported_link",
    "truncated",
    "repeated_text",
    "wrong_signature",
    "wrong_name",
    "language_mismatch",
    "unoffered_time",
    "unanswered_question",
]
MISTAKES: tuple[Mistake, ...] = get_args(Mistake)
"""What `replay-variant` may put into a draft, as named by the `x-stub-injected` header."""
SHAPE_MISTAKES: tuple[Mistake, ...] = ("truncated", "repeated_text", "wrong_signature")
"""Mistakes of the draft's shape rather than its facts: one draft in 16 carries one of them."""
NAME_MISTAKES: tuple[Mistake, ...] = ("wrong_name",)
"""A greeting of someone the case never names."""
BANDS: tuple[tuple[range, tuple[Mistake, ...]], ...] = (
    (range(8, 16), ("unanswered_question",)),
    (range(16, 24), NAME_MISTAKES),
    (range(24, 32), ("language_mismatch", "unoffered_time")),
)
"""Values of a request digest's first byte (1 in 32 each) carved out of the fact mistakes'
(0-47), and the mistakes a request in one makes: a question left unanswered where the inbound
asks one; a stranger greeted where the draft greets the lead by name; a Spanish reply to a
plainly English inbound, or a meeting proposed outside the client's stated availability. A
request whose draft has no place for its band's mistake keeps the fact mistake it carried
before the band was carved out."""
BANDED: tuple[Mistake, ...] = tuple(kind for _, kinds in BANDS for kind in kinds)
_PRICE = re.compile(r"\$\s?(\d[\d,]*(?:\.\d+)?)")
_SUBJECT_LINE = re.compile(r"\A[ \t]*subject:[^\n]*\n+", re.IGNORECASE)
_PADDING: Mapping[str, tuple[str, ...]] = {
    "en": ("Thanks again for getting in touch with us.",
           "We really appreciate you taking the time to write.",
           "Everyone on our team is glad to help however we can.",
           "It is always good to hear from people in your area.",
           "We have been doing this work for many years now.",
           "Most of our customers find us through friends and neighbours.",
           "Feel free to pass this note along to anyone it may help."),
    "es": ("Gracias de nuevo por ponerse en contacto con nosotros.",
           "Agradecemos mucho que se haya tomado el tiempo de escribirnos.",
           "Todo nuestro equipo está encantado de ayudarle en lo que pueda.",
           "Siempre es un gusto saber de personas de su zona.",
           "Llevamos muchos años dedicándonos a este trabajo.",
           "La mayoría de nuestros clientes nos conocen por amigos y vecinos.",
           "No dude en compartir este mensaje con quien le pueda servir."),
    "de": ("Nochmals vielen Dank, dass Sie sich bei uns gemeldet haben.",
           "Wir freuen uns sehr, dass Sie sich die Zeit zum Schreiben genommen haben.",
           "Unser ganzes Team hilft Ihnen gern, wo immer es möglich ist.",
           "Es ist immer schön, von Menschen aus Ihrer Gegend zu hören.",
           "Wir machen diese Arbeit schon seit vielen Jahren.",
           "Die meisten unserer Kunden kommen über Freunde und Nachbarn zu uns.",
           "Geben Sie diese Nachricht gern an alle weiter, denen sie helfen kann."),
    "fr": ("Merci encore de nous avoir contactés.",
           "Nous apprécions vraiment que vous ayez pris le temps de nous écrire.",
           "Toute notre équipe est heureuse de vous aider autant que possible.",
           "C'est toujours un plaisir d'avoir des nouvelles de votre région.",
           "Nous faisons ce travail depuis de nombreuses années.",
           "La plupart de nos clients nous connaissent par des amis et des voisins.",
           "N'hésitez pas à transmettre ce message à qui pourrait en avoir besoin."),
}  # fmt: skip
"""Distinct sentences in the draft's language, together longer than an SMS: padding never says
anything twice."""
_FACT_MISTAKES = tuple(m for m in MISTAKES if m not in SHAPE_MISTAKES + BANDED)
_OTHER_SIGNERS = ("Mark Jensen", "Olivia Brandt", "Tom Fischer")
"""Names a `wrong_signature` draft signs with: the first that its prompt does not mention."""
_CUT_AFTER = re.compile(r"(?<=\s)[a-z][a-z']*(?= [a-z])")
"""A lowercase word the sentence goes on after: where a `truncated` draft stops."""
_OTHER_GREETED = ("Mark", "Olivia", "Greta", "Boris", "Nadine")
"""Names a `wrong_name` draft greets: the first that its prompt does not mention (none of them
a nickname of another first name)."""
_PROPOSALS: Mapping[str, str] = {
    "en": "Or would {slot} suit you for a call?",
    "es": "¿O le vendría bien una llamada {slot}?",
    "de": "Oder passt Ihnen ein Termin {slot}?",
    "fr": "Ou bien un appel {slot} vous conviendrait-il ?",
}
"""How an `unoffered_time` draft proposes its slot, in the draft's language."""
_OFF_HOURS = (7, 20, 21, 6, 22)
"""Hours an `unoffered_time` slot starts at: the first outside every availability window."""
_STALLS: Mapping[str, str] = {
    "en": "I will get back to you shortly.",
    "es": "Te respondo en breve.",
    "de": "Ich melde mich in Kürze wieder.",
    "fr": "Je reviens vers vous très vite.",
}
"""What an `unanswered_question` draft says instead of its body: no answer to anything, no yes
or no, no day, no price."""
_QUESTION = re.compile(r"(?:^|(?<=[.!?\n]))[^.!?\n]*\?")
_LETTERS = re.compile(r"[^\W\d_]+")
_MIN_QUESTION_WORDS = 3


def choose(
    messages: Sequence[Mapping[str, Any]], draft: str, digest: bytes
) -> tuple[str, Mistake | None]:
    """The draft `replay-variant` answers for a request of `digest`, and the mistake it carries.

    3 drafts in 16 carry a fact mistake (or their band's, see BANDS), 1 in 16 a shape mistake:
    1 in 4 in all, the same one for the same request as ever.
    """
    if digest[0] >= 64:
        return draft, None
    kinds = SHAPE_MISTAKES if digest[0] >= 48 else _FACT_MISTAKES
    preferred = next((banded for band, banded in BANDS if digest[0] in band), kinds)
    return inject_mistake(messages, draft, choice=digest[1], kinds=preferred, fallback=kinds)


def inject_mistake(
    messages: Sequence[Mapping[str, Any]],
    draft: str,
    *,
    choice: int,
    kinds: Sequence[Mistake] = MISTAKES,
    fallback: Sequence[Mistake] = (),
) -> tuple[str, Mistake]:
    """Put one mistake a real model makes into `draft`, picked by `choice` among those that apply.

    Picked among `kinds`, else among `fallback`, else among all but the banded ones (added
    later: a request that falls back makes the mistake it made before they existed).

    A price, a link or a meeting never goes into a reply to an opt-out (that would also ignore
    the opt-out: two mistakes), and a reply is lengthened only on SMS. Other edits keep the
    channel's length limit, by cutting words of the draft rather than the mistake. A cut-off,
    looped or re-signed draft applies only where the draft has a place for it (a sentence to cut
    or repeat, a signature to change) within the limit; the server answers a cut-off one with
    `finish_reason: "length"`. A stranger is greeted only where the draft greets the lead by
    name (`Hi Dan,`). A slot is proposed outside the availability only where the prompt states
    one, and a question left unanswered only where the inbound asks one.
    """
    texts = [content_text(m.get("content")) for m in messages]
    roles = [str(m.get("role", "")) for m in messages]
    inbound_at = max((i for i, role in enumerate(roles) if role == "user"), default=-1)
    context = [t for t, role in zip(texts, roles, strict=True) if role in ("system", "developer")]
    context = context or [t for i, t in enumerate(texts) if i != inbound_at]
    facts = read_facts("\n".join(context))
    inbound = texts[inbound_at] if inbound_at >= 0 else ""
    opt_out = detect_intent(_SUBJECT_LINE.sub("", inbound)) == "opt_out"
    prompt = "\n".join(texts)
    limit = LENGTH_LIMITS.get(facts.channel)
    head, tail = _split_closing(draft, facts.signature)
    wording = WORDINGS[reply_language(messages)]
    # Drafts of the mistakes that rewrite the draft, None where it offers no place for one.
    shaped: dict[Mistake, str | None] = {
        "truncated": _truncated(head),
        "repeated_text": _repeated(head, tail, limit),
        "wrong_signature": _resigned(head, tail, facts.signature, prompt, limit),
        "wrong_name": _renamed(head, tail, facts.first_name, prompt, limit, wording),
        "language_mismatch": _in_another_language(tail, facts, inbound, limit, wording),
        "unanswered_question": _stalled(head, tail, facts, inbound, wording),
    }
    proposal = _unoffered(facts, prompt, wording)
    applicable = [
        mistake
        for mistake in MISTAKES
        if (mistake != "channel_length" or facts.channel == "sms")
        and (mistake != "unoffered_time" or proposal is not None)
        and not (opt_out and mistake in ("unsupported_price", "unsupported_link", "unoffered_time"))
        and shaped.get(mistake, "") is not None
    ]
    applicable = (
        [m for m in applicable if m in kinds]
        or [m for m in applicable if m in fallback]
        or [m for m in applicable if m not in BANDED]
    )
    mistake = applicable[choice % len(applicable)]
    reshaped = shaped.get(mistake)
    if reshaped is not None:
        return reshaped, mistake
    addition = ""

    def joined() -> str:
        return f"{head} {addition}{tail}" if addition else head + tail

    if mistake == "unsupported_price":
        stated = {_amount(m[1]) for m in _PRICE.finditer(prompt)}
        price = next(
            p for p in ("$9,999", "$8,888", "$12,345", "$77,777") if _amount(p) not in stated
        )
        addition = f"We also offer a premium bundle for {price}."
    elif mistake == "unsupported_link":
        domain = next(d for d in ("promo.example.net", "offers.example.org", "deals.example.com")
                      if d not in prompt.lower())  # fmt: skip
        addition = f"See our current offer here: https://{domain}/deal"
    elif mistake == "unoffered_time":
        addition = proposal or ""
    elif mistake == "unresolved_placeholder":
        name = facts.first_name
        if name and re.search(rf"\b{re.escape(name)}\b", head):
            head = re.sub(rf"\b{re.escape(name)}\b", "{first_name}", head, count=1)
        else:
            addition = "Thanks again, {first_name}."
    else:
        limit = None
        padding = itertools.cycle(_PADDING.get(wording.language, _PADDING["en"]))
        while len(joined()) <= LENGTH_LIMITS["sms"]:
            addition = f"{addition} {next(padding)}".strip()
    while limit is not None and len(joined()) > limit and " " in head:
        head = head.rsplit(" ", 1)[0].rstrip(",;:")
    return joined(), mistake


def _unoffered(facts: Facts, prompt: str, wording: Wording) -> str | None:
    """A sentence proposing a meeting the client's stated availability does not offer.

    A day outside every window (else any day), at an hour outside every window, the prompt
    naming neither: a day the conversation names may have been offered for any hour.
    """
    windows = [w for text in facts.availability for w in read_windows(wording, text)]
    if not windows:
        return None
    open_days = {day for window in windows for day in window_days(window)}
    open_hours = {hour for window in windows for hour in range(window.start, window.end)}
    known = prompt.casefold()
    days = sorted(range(7), key=lambda day: (day in open_days, -day))
    day = next((d for d in days if wording.days[d].casefold() not in known), None)
    hour = next((h for h in _OFF_HOURS if h not in open_hours), None)
    if day is None or hour is None:
        return None
    slot = say_slot(wording, Appointment(day, hour), "propose")
    return _PROPOSALS.get(wording.language, _PROPOSALS["en"]).format(slot=slot)


def _stalled(head: str, tail: str, facts: Facts, inbound: str, wording: Wording) -> str | None:
    """The draft's body replaced by a promise to write later, where the inbound asks a question.

    Its greeting and sign-off are kept. Only where the stall shares no word with a question:
    a shared word would read as an answer.
    """
    said = "\n".join(
        line for line in _SUBJECT_LINE.sub("", inbound).splitlines() if not line.startswith(">")
    )
    asked = [q for q in _QUESTION.findall(said) if len(_LETTERS.findall(q)) >= _MIN_QUESTION_WORDS]
    stall = _STALLS.get(wording.language, _STALLS["en"])
    if not asked or _stems(stall) & _stems(" ".join(asked)):
        return None
    greeting = _greeting(head, facts.first_name, wording)
    if facts.channel == "sms":
        return f"{greeting} {stall}{tail}" if greeting else stall + tail
    return f"{greeting}\n\n{stall}{tail}" if greeting else stall + tail


def _greeting(head: str, first_name: str | None, wording: Wording) -> str:
    """The greeting `head` opens with, as the wording writes them, or the empty string."""
    greetings = (*wording.greetings, *wording.greetings_no_name, *wording.greetings_opt_out)
    said = (g.format(n=first_name or "") for g in greetings)
    return max((g for g in said if head.startswith(g)), key=len, default="")


def _stems(text: str) -> set[str]:
    return {word.casefold()[:5] for word in _LETTERS.findall(text) if len(word) >= 4}


def _truncated(head: str) -> str | None:
    """The draft cut off mid-sentence, after a closed sentence or line, as a token limit cuts.

    Only after a lowercase word the sentence goes on from: a cut inside a price, link or name
    would be a second mistake. The cut depends on the draft alone, as every other mistake
    does: two requests that differ only in sampling make the same mistake the same way.
    """
    points = [
        match.end()
        for match in _CUT_AFTER.finditer(head)
        if re.search(r"[.!?]\s|\n", head[: match.start()])
    ]
    return head[: points[len(points) // 2]] if points else None


def _repeated(head: str, tail: str, limit: int | None) -> str | None:
    """The draft with its last sentence of 6+ words said twice, as a looping model does.

    A word holds a letter or a digit: a lone `€` or `-` is not one.
    """
    for line in reversed(head.splitlines()):
        for sentence in reversed(re.split(r"(?<=[.!?])\s+", line)):
            words = [word for word in sentence.split() if any(c.isalnum() for c in word)]
            if len(words) >= 6 and sentence[-1:] in ".!?":
                looped = head.replace(sentence, f"{sentence} {sentence}", 1) + tail
                return looped if limit is None or len(looped) <= limit else None
    return None


def _resigned(
    head: str, tail: str, signature: str | None, prompt: str, limit: int | None
) -> str | None:
    """The draft signed by another person of the same company, where it signs at all.

    An SMS signs after a dash, which reads as a signature only after a closed sentence.
    """
    if not signature or not tail.rstrip().endswith(signature):
        return None
    if not tail.startswith("\n") and head.rstrip()[-1:] not in ".!?":
        return None
    _, comma, company = signature.partition(",")
    known = prompt.casefold()
    other = next(n for n in _OTHER_SIGNERS if not any(w.casefold() in known for w in n.split()))
    resigned = head + tail.rstrip().removesuffix(signature) + other + comma + company
    return resigned if limit is None or len(resigned) <= limit else None


def _renamed(
    head: str, tail: str, name: str | None, prompt: str, limit: int | None, wording: Wording
) -> str | None:
    """The draft greeting a first name its prompt never mentions instead of the lead's.

    Only where the draft greets the lead by name: `Hi Dan,` becomes `Hi Mark,`, `Hola, Ana:`
    becomes `Hola, Greta:`.
    """
    greeting = _greeting(head, name, wording) if name else ""
    if not name or not re.search(rf"\w\W+{re.escape(name)}\b", greeting):
        return None
    known = set(re.findall(r"\w+", prompt.casefold()))
    other = next(n for n in _OTHER_GREETED if n.casefold() not in known)
    renamed = greeting.replace(name, other, 1) + head[len(greeting) :] + tail
    return renamed if limit is None or len(renamed) <= limit else None


MIN_TOLD_WORDS = 12
_ENGLISH = frozenset(
    "the and you your to for with we are this that would our have please thanks thank let know "
    "if any just what when how there be of it is on at can".split()
)
"""English's commonest words: an inbound with four of them (counted each time) is plainly
English, as the language check reads plain text."""
_OTHER_REPLY: Mapping[str, tuple[str, str]] = {
    "es": ("Hola{n},", "Muchas gracias por tu mensaje. Nuestro equipo revisa tu consulta y te "
           "escribe muy pronto con todos los detalles que necesitas."),
    "en": ("Hi{n},", "Thank you so much for your message. Our team is looking into your request "
           "and will write back very soon with all the details you need."),
}  # fmt: skip
"""A `language_mismatch` draft's greeting and body, by the language it is wrongly written in."""


def _in_another_language(
    tail: str, facts: Facts, inbound: str, limit: int | None, wording: Wording
) -> str | None:
    """The draft answered in another language than the inbound's, its sign-off kept.

    In Spanish to an English inbound, in English to any other.

    Only an inbound of MIN_TOLD_WORDS words or more that plainly tells its language (four of
    English's commonest words; another language's words as the drafting reads them): a shorter
    one does not tell its language surely, and the check rightly stays silent on it.
    """
    said = _SUBJECT_LINE.sub("", inbound)
    words = re.findall(r"[^\W\d_]+", said.lower())
    language = wording.language
    if len(words) < MIN_TOLD_WORDS:
        return None
    if language == "en" and sum(word in _ENGLISH for word in words) < 4:
        return None
    if language != "en" and guess_language(said, tuple(WORDINGS.values())) != language:
        return None
    name = facts.first_name
    hello, body = _OTHER_REPLY["es" if language == "en" else "en"]
    hello = hello.format(n=f" {name}" if name else "")
    other = f"{hello} {body}{tail}" if tail.startswith(" - ") else f"{hello}\n\n{body}{tail}"
    return other if limit is None or len(other) <= limit else None


def _split_closing(draft: str, signature: str | None) -> tuple[str, str]:
    """Split a draft before its sign-off (email, LinkedIn) or its SMS signature."""
    if "\n\n" in draft:
        head, sep, tail = draft.rpartition("\n\n")
        return head, sep + tail
    suffix = f" - {signature}" if signature else None
    if suffix and draft.endswith(suffix):
        return draft[: -len(suffix)], suffix
    return draft, ""


def _amount(price: str) -> str:
    """A money amount without `$`, thousands separators or zero cents: `$1,200.00` is `1200`."""
    digits = price.lstrip("$ ").replace(",", "")
    return digits.removesuffix(".00").removesuffix(".0")
