"""How the deterministic drafts are worded, per language, and how they read and say meeting times.

A `Wording` holds everything a draft says in one language: greetings, sign-offs, the sentences
of each reply, the words that tell an inbound's intent, and the shapes of days and times. English
is here; Spanish, German and French each have their own module, all gathered in `languages`.
Times are said in the shapes `replay.verdict.dates` reads, so a draft that restates an offered slot
in other words still names the same day and hour.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

Intent = Literal[
    "pricing", "meeting", "information", "objection", "opt_out", "out_of_office", "other"
]
INTENTS: tuple[Intent, ...] = (
    "pricing", "meeting", "information", "objection", "opt_out", "out_of_office", "other",
)  # fmt: skip
SlotForm = Literal["offer", "pick", "short", "long"]
"""How a time is said: offered in the thread, picked by the lead, restated short or in full."""
Needs = Literal["link", "no_link", "service", "quotes", "quote", "phone"]


class Line(NamedTuple):
    """A sentence of a reply: its wordings, and the fact it needs (left out without it)."""

    phrases: tuple[str, ...]
    required: bool = True
    """False when the sentence may be dropped to fit a channel's length limit."""
    movable: bool = False
    """True when the variant style may put it elsewhere among the other movable sentences."""
    needs: Needs | None = None
    """`quotes`: one sentence per quoted price; `quote`: the first quoted item's price."""


class Appointment(NamedTuple):
    """A meeting time: a weekday and hour, with the calendar date when one was given."""

    weekday: int
    """0 is Monday."""
    hour: int
    minute: int = 0
    day: int | None = None
    month: int | None = None
    """1 is January."""


class Window(NamedTuple):
    """Weekdays (0 is Monday, both ends included) and whole hours within which a client meets."""

    first: int
    last: int
    start: int
    end: int
    """The hour the window closes: a meeting starts before it."""


@dataclass(frozen=True)
class Wording:
    """All a draft says in one language, and the words that tell what an inbound asks."""

    language: str
    """ISO 639-1 code."""
    name: str
    """The language's English name, as a prompt states it."""
    greetings: tuple[str, ...]
    greetings_no_name: tuple[str, ...]
    """The first two also open a reply to an opt-out."""
    greetings_opt_out: tuple[str, ...]
    signoffs: tuple[str, ...]
    bodies: Mapping[str, tuple[Line, ...]]
    """By `Intent`, and `confirm` for a reply that confirms the slot the lead picked.
    Placeholders: {link}, {service}, {times}, {slot}, {phone}, {item}, {item_lower}, {price}."""
    no_prices: str
    bare_price: str
    intent_rules: tuple[tuple[Intent, re.Pattern[str]], ...]
    """Checked in order against lower-cased text; the first that matches wins."""
    days: tuple[str, ...]
    """Monday to Sunday, as written in a sentence."""
    months: tuple[str, ...]
    hours: tuple[str, ...]
    """Times proposed when the prompt states no availability."""
    slot_forms: Mapping[str, str]
    """By `SlotForm`, with {weekday}, {day}, {month}, {hm} (`9:30`), {hx} (`9`, `9:30`),
    {hh} (`9h`, `9h30`) and {hhmm} (`9h00`). `propose` says a time within the client's
    availability; `default`, with {weekday} and {hour} (one of `hours`), one proposed without."""
    window_form: tuple[str, str]
    """How availability is written: a run of days, then one day; {a}, {b}, {start}, {end}."""
    connector: str
    """The word before an hour: `at`, `a las`, `um`, `à`."""
    or_word: str
    common_words: frozenset[str]
    """Frequent short words that tell the language of a text."""
    marks: re.Pattern[str] | None = None
    """Letters and punctuation only this language's text has (`¿`, `ß`, ` ?`)."""
    item_word: re.Pattern[str] = re.compile(r"[^\W\d_]{4,}")
    item_stopwords: frozenset[str] = frozenset()
    no_comma: frozenset[str] = frozenset()
    """Sign-offs written without a comma after them."""
    first_of_month: str = "1"
    """How the first day of a month is written in a date: `1er novembre`."""
    day_pattern: str = field(init=False)

    def __post_init__(self) -> None:
        names = sorted({*self.days, *(d[:3] for d in self.days)}, key=len, reverse=True)
        object.__setattr__(self, "day_pattern", "|".join(re.escape(n) for n in names))


# --- English ------------------------------------------------------------------------------------

_ENGLISH_RULES: tuple[tuple[Intent, str], ...] = (
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


def rules(patterns: Sequence[tuple[Intent, str]]) -> tuple[tuple[Intent, re.Pattern[str]], ...]:
    """Compile intent patterns for lower-cased text: an IGNORECASE scan costs twice as much."""
    return tuple((intent, re.compile(pattern, re.MULTILINE)) for intent, pattern in patterns)


ENGLISH = Wording(
    language="en",
    name="English",
    greetings=("Hi {n},", "Hello {n},", "Hey {n},", "Good to hear from you, {n}."),
    greetings_no_name=("Hi there,", "Hello,", "Hey there,", "Good to hear from you."),
    greetings_opt_out=("Hi {n},", "Hello {n},", "{n},"),
    signoffs=("Best", "Thanks", "Kind regards", "All the best"),
    bodies={
        "pricing": (
            Line(("Thanks for asking about pricing.", "Happy to share our pricing.",
                  "Good question on cost."), required=False),
            Line(("{item} is {price}.", "{item} runs {price}.", "For {item_lower}, it's {price}."),
                 movable=True, needs="quotes"),
            Line(("When you're ready, you can pick a time here: {link}",
                  "If you'd like to go ahead, grab a slot here: {link}"),
                 required=False, movable=True, needs="link"),
            Line(("Does that fit what you had in mind?",
                  "Want me to put together a detailed quote?"), required=False),
        ),
        "meeting": (
            Line(("Happy to set up a time.", "Glad to find a time that works.",
                  "Let's get something on the calendar."), required=False),
            Line(("Would {times} work for you?", "I have {times} open, would either suit?",
                  "How about {times}?"), movable=True),
            Line(("You can also pick any open slot here: {link}",
                  "Any open slot on my calendar works too: {link}"), movable=True, needs="link"),
        ),
        "confirm": (
            Line(("Great, {slot} it is.", "Perfect, I've got you down for {slot}.")),
            Line(("I'll send the invite shortly.", "An invite is on its way."), required=False),
            Line(("If you need to move it, pick another slot here: {link}",),
                 required=False, needs="link"),
        ),
        "information": (
            Line(("Happy to share more.", "Good question."), required=False),
            Line(("{service}", "In short: {service}"), movable=True, needs="service"),
            Line(("{item} is {price}.", "{item} comes to {price}."),
                 required=False, movable=True, needs="quote"),
            Line(("If it's easier, grab a time to go through it together: {link}",
                  "You can book a short walkthrough here: {link}"), required=False, needs="link"),
            Line(("Happy to answer any other questions.",), required=False, needs="no_link"),
        ),
        "objection": (
            Line(("Totally fair, and thanks for being upfront.", "Completely understand.",
                  "That makes sense.")),
            Line(("If it helps, {item_lower} is {price} with no long-term commitment.",),
                 required=False, movable=True, needs="quote"),
            Line(("If anything changes, I'm happy to help.",
                  "I'll leave the door open, no pressure at all."), movable=True),
            Line(("My calendar is here if you ever want a quick chat: {link}",),
                 required=False, needs="link"),
        ),
        # No question, link, price or meeting: the lead asked us to stop.
        "opt_out": (
            Line(("Understood, and sorry for the bother.",
                  "Got it, apologies for the interruption."), movable=True),
            Line(("I've removed you from our list, and you won't hear from us again.",
                  "You're off our list and won't receive further messages from us."),
                 movable=True),
            Line(("Wishing you all the best.", "Take care."), required=False),
        ),
        "out_of_office": (
            Line(("Thanks for the heads-up.", "Thanks for letting me know."), movable=True),
            Line(("I'll follow up once you're back.", "I'll check back in after you return."),
                 movable=True),
            Line(("No rush at all.",), required=False),
        ),
        "other": (
            Line(("Thanks for getting back to me.", "Appreciate the reply."), movable=True),
            Line(("Let me know if there's anything I can help with.",
                  "I'm here whenever you need anything."), movable=True),
            Line(("If a quick chat would help, grab a time here: {link}",),
                 required=False, needs="link"),
        ),
    },
    no_prices="I'll put together exact numbers for you today.",
    bare_price="Pricing starts at {price}.",
    intent_rules=rules(_ENGLISH_RULES),
    days=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    months=("January", "February", "March", "April", "May", "June", "July", "August",
            "September", "October", "November", "December"),
    hours=("9am", "10am", "11:30am", "1pm", "2pm", "3:30pm", "4pm"),
    slot_forms={
        "offer": "{weekday} {day} {month} at {hm}",
        "pick": "{weekday} at {hx}",
        "short": "{weekday} at {hm}",
        "long": "{weekday}, {month} {day} at {hm}",
        "propose": "{weekday} at {hm}",
        "default": "{weekday} at {hour}",
    },
    window_form=("{a}-{b} {start:02d}:00-{end:02d}:00", "{a} {start:02d}:00-{end:02d}:00"),
    connector="at",
    or_word="or",
    common_words=frozenset(
        "the and you your to for with we are this that is it of on can what how do please "
        "thanks would our have if any just when there be".split()
    ),
    item_word=re.compile(r"[a-z]{4,}"),
    item_stopwords=frozenset(
        {"per", "month", "year", "hour", "plan", "package", "average", "home"}
    ),
)  # fmt: skip


# --- meeting times ------------------------------------------------------------------------------


def say_slot(wording: Wording, slot: Appointment, form: str) -> str:
    """A meeting time as `wording` writes it in `form` (a `SlotForm`, or `propose`).

    A form that names the date says the short form for a time given without one.
    """
    template = wording.slot_forms[form]
    if slot.day is None and "{day}" in template:
        template = wording.slot_forms["short"]
    minutes = f"{slot.minute:02d}"
    month = wording.months[slot.month - 1] if slot.month else ""
    return template.format(
        weekday=wording.days[slot.weekday], month=month,
        day=wording.first_of_month if slot.day == 1 else slot.day or "",
        hm=f"{slot.hour}:{minutes}", hx=f"{slot.hour}:{minutes}" if slot.minute else slot.hour,
        hh=f"{slot.hour}h{minutes}" if slot.minute else f"{slot.hour}h",
        hhmm=f"{slot.hour}h{minutes}",
    )  # fmt: skip


def say_list(wording: Wording, items: Sequence[str]) -> str:
    """`a, b or c` in the language."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {wording.or_word} {items[-1]}"


def find_slots(wording: Wording, text: str) -> list[Appointment]:
    """The meeting times `text` names, each a weekday and an hour, with its date if given."""
    return [_appointment(wording, m) for m in _slot_pattern(wording).finditer(text)]


def say_window(wording: Wording, window: Window) -> str:
    """One availability window, as the client's settings write it."""
    form = wording.window_form[0 if window.first != window.last else 1]
    return form.format(
        a=wording.days[window.first], b=wording.days[window.last], start=window.start,
        end=window.end,
    )  # fmt: skip


def read_windows(wording: Wording, text: str) -> list[Window]:
    """The availability windows `text` states: a day or run of days, then a range of hours."""
    found = []
    for match in _window_pattern(wording).finditer(text):
        first = _weekday(wording, match["a"])
        last = _weekday(wording, match["b"]) if match["b"] else first
        start, end = int(match["start"]), int(match["end"])
        if start < end <= 24:
            found.append(Window(first, last, start, end))
    return found


def window_days(window: Window) -> range:
    """The weekdays a window covers."""
    return range(window.first, window.last + 1)


_SLOT_PATTERNS: dict[str, re.Pattern[str]] = {}
_WINDOW_PATTERNS: dict[str, re.Pattern[str]] = {}


def _slot_pattern(wording: Wording) -> re.Pattern[str]:
    if wording.language not in _SLOT_PATTERNS:
        months = "|".join(re.escape(m) for m in wording.months)
        _SLOT_PATTERNS[wording.language] = re.compile(
            rf"(?<!\w)(?P<weekday>{wording.day_pattern})\.?(?!\w)"
            rf"(?:,?\s+(?:den\s+|le\s+|el\s+)?(?P<day>\d{{1,2}})(?:er|\.)?\s+(?:de\s+)?(?P<month>{months})"
            rf"|,?\s+(?P<month2>{months})\s+(?P<day2>\d{{1,2}}))?"
            rf",?\s+{re.escape(wording.connector)}\s+(?P<hour>\d{{1,2}})(?:[:h](?P<minute>\d\d))?",
            re.IGNORECASE,
        )
    return _SLOT_PATTERNS[wording.language]


def _window_pattern(wording: Wording) -> re.Pattern[str]:
    if wording.language not in _WINDOW_PATTERNS:
        day = wording.day_pattern
        _WINDOW_PATTERNS[wording.language] = re.compile(
            rf"(?<!\w)(?P<a>{day})(?!\w)(?:\s*(?:-|–|to|a|bis|au)\s*(?P<b>{day})(?!\w))?"
            r"[\s,]*(?:de\s+|von\s+)?(?P<start>\d{1,2})(?::00|h)?\s*(?:uhr\s*)?"
            r"(?:-|–|to|a|à|bis)\s*(?P<end>\d{1,2})(?::00|h)?",
            re.IGNORECASE,
        )
    return _WINDOW_PATTERNS[wording.language]


def _appointment(wording: Wording, match: re.Match[str]) -> Appointment:
    month_name = match["month"] or match["month2"]
    month = None
    if month_name:
        month = [m.casefold() for m in wording.months].index(month_name.casefold()) + 1
    day = match["day"] or match["day2"]
    return Appointment(
        weekday=_weekday(wording, match["weekday"]), hour=int(match["hour"]),
        minute=int(match["minute"] or 0), day=int(day) if day else None, month=month,
    )  # fmt: skip


def _weekday(wording: Wording, name: str) -> int:
    folded = name.casefold().rstrip(".")
    return next(i for i, d in enumerate(wording.days) if d.casefold().startswith(folded))


# --- which language -----------------------------------------------------------------------------

_WORDS = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_NAME = re.compile(r"\b[^\W\d_a-z]\w*[^\W\x00-\x7f]\w*|\b[^\W\d_a-z][^\W\x00-\x7f]\w*")
"""A capitalized word with a letter outside ASCII: a name (`Müller`, `Łukasz`), not a sign."""


def guess_language(text: str, wordings: Sequence[Wording]) -> str | None:
    """The language `text` plainly is in, or None when it does not tell.

    Each common word of a language scores 1, and its marks 2 (names aside): a language wins
    with 2 or more and more than twice any other's score. English text has no marks and few
    Spanish, German or French words, so English prompts stay English.
    """
    head = text[:4000]
    head = head if head.isascii() else _NAME.sub(" ", head)
    words = _WORDS.findall(head.lower())
    counts = sorted(
        (
            sum(w in wording.common_words for w in words)
            + (2 if wording.marks is not None and wording.marks.search(head) else 0),
            wording.language,
        )
        for wording in wordings
    )[::-1]
    (best, language), (second, _) = counts[0], counts[1]
    return language if best >= 2 and best > 2 * second else None
