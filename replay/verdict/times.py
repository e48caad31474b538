"""The check of meeting times a draft proposes: a day or hour the case never offered. Pure.

A proposal is a day and/or clock time in the draft (`dates.py` reads them, in English, Spanish,
German or French), resolved relative to the inbound's `sent_at` in the lead's timezone
(`lead["timezone"]`, else UTC). A clock time always proposes; a day without one proposes only in
a sentence with a meeting word (call, demo, llamada, Termin, rendez-vous …), so "reply by Friday"
does not, and neither does a deadline ("by", "until", "bis", "avant" …) or "next week", which
names no day.

What a draft may propose is what the case offers: any day or time the inbound or the thread
states (restated in other words, "Thursday at 10" is "Thu 10:00 am"), and the windows or slots of
the client settings' availability (`availability`, `hours`, `slots`, `schedule` …). A day offered
without a time supports any time that day: the lead left the hour open. Only a case whose
settings state availability is judged: without it nothing says when the client can meet, and a
draft proposing its own times ("Would Monday at 9am work?") cannot be told wrong. A date before
the inbound's own date is wrong whatever the settings say.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import Any, NamedTuple

import orjson

from replay.models import CaseInput, Severity, Violation
from replay.verdict import dates

__all__ = ["CODES", "SEVERITY", "unoffered_time"]

CODES: tuple[str, ...] = ("unoffered_time",)
"""The codes of this module, in the order `checks.check` reports them."""
SEVERITY: Mapping[str, Severity] = dict.fromkeys(CODES, "critical")
"""Critical: a lead who accepts a slot nobody offered books the client into it. A day proposed
without a clock time is reported as a warning: "a call on Friday" may be a promise to ring
rather than a booking, and it commits the client to no slot. A past date is always critical."""

_MEETING = re.compile(
    r"\b(?:call|meet|chat|demo|appointment|visit|walk-?through|consult(?:ation|as?)\b|talk|speak|catch\s+up"
    r"|hop\s+on|stop\s+by|come\s+(?:by|out|over)|swing\s+by|drop\s+by|schedul|book|slot|session"
    r"|zoom|available|availability|free\b|works?\s+for|llamad|llamar|reuni|cita|hablar|vernos"
    r"|visita|charla|disponib|termin|gespräch|telefonat|anruf|treffen|sprechen|besprechung"
    r"|vorbei|besuch|zeit\b|rendez-vous|rdv|appel|rencontr|échanger|parler|visite|démo|créneau)",
    re.IGNORECASE,
)
"""Words of a sentence that proposes a meeting: only there does a day alone propose one."""
_NOT_PROPOSED = re.compile(
    r"(?:\b(?:(?<!stop\s)(?<!drop\s)(?<!swing\s)(?<!come\s)(?<!pop\s)by|before|until|till"
    r"|no\s+later\s+than|due|since|last|past|antes\s+del?|hasta"
    r"|desde|bis|vor|seit|letzten|avant|jusqu['’]?(?:à|au)|depuis|dernier))[\s,]*"
    r"(?:the\s+|this\s+|el\s+|zum\s+|am\s+|le\s+|ce\s+)?$",
    re.IGNORECASE,
)
"""Before a day or hour, these make it a deadline or the past, not a proposal ("stop by" and
"come by" are visits, not deadlines)."""
_SENTENCE_END = re.compile(r"[.!?\n](?=\s|$)")
SENTENCE_SPAN = 300
"""How far around a day its sentence is read for a meeting word: a long message of many days
is read in time linear in its length."""
_AVAILABILITY_KEY = re.compile(
    r"(?i)avail|hours|slots?\b|schedule|opening|horario|disponib|öffnungszeit|sprechzeit"
    r"|horaire|créneau"
)
"""Client settings that say when the client can meet: their windows and slots are offered."""
_DAY_WORD = "|".join(sorted(dates.WEEKDAY_INDEX, key=len, reverse=True))
_RANGE_WORD = r"(?:-|–|—|to|through|thru|till|until|a|al|bis|au|à|hasta)"
_DAYSET = re.compile(
    rf"\b(?P<a>{_DAY_WORD})\b\.?(?:\s*{_RANGE_WORD}\s*(?P<b>{_DAY_WORD})\b\.?)?"
    r"|\b(?P<weekdays>weekdays?|werktags|wochentags|d[ií]as\s+(?:laborables|h[áa]biles)"
    r"|en\s+semaine)\b|\b(?P<weekends>weekends?|wochenendes?|fin(?:es)?\s+de\s+semana)\b",
    re.IGNORECASE,
)
_SPAN_END = r"\d{1,2}(?:[:.h][0-5]\d)?\s*(?:[ap](?:\.\s?m\.|\s?m)(?!\w))?"
_TIMESPAN = re.compile(
    rf"(?<![\d:/-])(?P<a>{_SPAN_END})\s*(?:h\b|uhr\b)?\s*{_RANGE_WORD}\s*(?P<b>{_SPAN_END})"
    r"(?:\s*(?:h\b|uhr\b))?(?![\d/])",
    re.IGNORECASE,
)
"""A range of hours: `9am-5pm`, `09:00–17:00`, `9 to 5`, `de 9h à 17h`, `9 bis 17 Uhr`."""


class _Slot(NamedTuple):
    """A mention resolved: its date (None for a clock alone) and time."""

    text: str
    day: date | None
    clock: dates.Clock | None


class _Window(NamedTuple):
    """Weekdays (0 is Monday) and the minutes of the day within which the client meets."""

    days: frozenset[int]
    start: int
    end: int

    def holds(self, day: date | None, clock: dates.Clock | None) -> bool:
        if day is not None and day.weekday() not in self.days:
            return False
        return clock is None or any(self.start <= m < self.end for m in clock.readings())


class _Availability(NamedTuple):
    """What the client settings offer: windows, slots, and the texts they came from."""

    windows: tuple[_Window, ...]
    mentions: tuple[dates.Mention, ...]
    texts: tuple[str, ...]


# --- the check ----------------------------------------------------------------------------------


def unoffered_time(draft: str, case: CaseInput) -> Iterator[Violation]:
    """Each proposed day or time that is past, or (where availability is known) not offered.

    Keyed by the resolved date and time, so an original proposing the same slot, in whatever
    words, makes it pre-existing.
    """
    proposals = [m for m in dates.mentions(draft) if _proposes(draft, m)]
    if not proposals:
        return
    zone = dates.zone_of(case.lead.get("timezone"))
    today = _local_date(case.inbound.sent_at, zone)
    availability = _availability(orjson.dumps(case.client_settings, option=orjson.OPT_SORT_KEYS))
    judged = bool(availability.windows or availability.mentions)
    offers: list[_Slot] | None = None
    for mention in proposals:
        if not judged and not mention.calendar:
            continue  # a weekday or "tomorrow" resolves to the future: it cannot be past
        slot = _resolve(mention, today, zone)
        if slot is None:
            continue
        key = _key(slot)
        if slot.day is not None and slot.day < today:
            detail = f"{slot.day.isoformat()} is before the inbound's date, {today.isoformat()}"
            yield _violation(mention.text, key, detail, "critical")
            continue
        if not judged:
            continue
        if offers is None:
            resolved = (
                _resolve(m, on, zone) for m, on in _offered(case, availability, today, zone)
            )
            offers = [offer for offer in resolved if offer is not None]
        if _supported(slot, offers, availability.windows):
            continue
        detail = "not offered by the inbound, thread or client settings; offered: "
        detail += _listing([s.text for s in offers], availability.texts)
        severity: Severity = "critical" if slot.clock is not None else "warning"
        yield _violation(mention.text, key, detail, severity)


def _violation(evidence: str, key: str, detail: str, severity: Severity) -> Violation:
    return Violation(
        code="unoffered_time", severity=severity, evidence=evidence, key=key, detail=detail
    )


def _supported(slot: _Slot, offers: Sequence[_Slot], windows: Sequence[_Window]) -> bool:
    """Whether an offer or a window of the client's availability holds the slot."""
    return any(_holds(offer, slot) for offer in offers) or any(
        window.holds(slot.day, slot.clock) for window in windows
    )


def _holds(offer: _Slot, slot: _Slot) -> bool:
    """An offered day holds any hour of it, an offered hour that hour on any day.

    A clock time proposed alone takes its day from elsewhere in the draft: any offered day
    holds it, as does the same hour offered.
    """
    if offer.day is not None and slot.day is not None and offer.day != slot.day:
        return False
    if offer.clock is None or slot.clock is None:
        return offer.day is not None
    return offer.clock.same(slot.clock)


def _proposes(draft: str, mention: dates.Mention) -> bool:
    """A clock time proposes; a day alone only beside a meeting word; neither after `by`."""
    if _NOT_PROPOSED.search(draft, max(0, mention.start - 24), mention.start):
        return False
    if mention.clock is not None:
        return True
    after = mention.start + len(mention.text)
    low, high = max(0, mention.start - SENTENCE_SPAN), min(len(draft), after + SENTENCE_SPAN)
    stops = [m.end() for m in _SENTENCE_END.finditer(draft, low, mention.start)]
    start = stops[-1] if stops else low
    end_match = _SENTENCE_END.search(draft, after, high)
    end = end_match.start() if end_match else high
    return _MEETING.search(draft, start, end) is not None


def _key(slot: _Slot) -> str:
    parts = [slot.day.isoformat()] if slot.day is not None else []
    if slot.clock is not None:
        parts.append(f"{slot.clock.minutes // 60:02d}:{slot.clock.minutes % 60:02d}")
    return " ".join(parts)


def _listing(offered: Sequence[str], available: Sequence[str]) -> str:
    """What was offered, for the detail: days and times as written, then availability settings.

    A slot read from an availability setting is named by the setting, not again on its own.
    """
    texts = [t for t in offered if not any(t in a for a in available)] + list(available)
    unique = list(dict.fromkeys(" ".join(t.split()) for t in texts))
    if not unique:
        return "nothing"
    return ", ".join(repr(t) for t in unique[:4]) + (", …" if len(unique) > 4 else "")


# --- reading mentions ---------------------------------------------------------------------------


def _resolve(mention: dates.Mention, today: date, zone: tzinfo) -> _Slot | None:
    """The mention's date and time; None when its day is not one dateparser can read."""
    day = None
    if mention.day is not None:
        day = dates.resolve_day(mention.day, today, zone)
        if day is None:
            return None
    return _Slot(mention.text, day, mention.clock)


# --- what the case offers -----------------------------------------------------------------------


def _local_date(at: datetime, zone: tzinfo) -> date:
    """The lead's date at `at`; a timestamp without a zone is UTC, as the source reads it."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(zone).date()


def _offered(
    case: CaseInput, availability: _Availability, today: date, zone: tzinfo
) -> Iterator[tuple[dates.Mention, date]]:
    """Every day and time the inbound and the client settings state, and the thread offers.

    Each with the date it is read from: a thread message's "tomorrow" is the day after it was
    sent, not the day after the inbound. The lead's inbound offers every day it names; an
    earlier message offers what it proposes, read as a draft is ("I'll get back to you
    tomorrow" offers no meeting tomorrow).
    """
    for text in (case.inbound.subject or "", case.inbound.body):
        yield from ((mention, today) for mention in dates.mentions(text))
    for message in case.thread:
        sent = _local_date(message.sent_at, zone)
        for text in (message.subject or "", message.body or ""):
            yield from ((m, sent) for m in dates.mentions(text) if _proposes(text, m))
    yield from ((mention, today) for mention in availability.mentions)


@functools.lru_cache(maxsize=256)
def _availability(document: bytes) -> _Availability:
    """The windows and slots of a client's settings, cached: every case of a client shares them.

    Every string of the settings may offer a day or time; windows are read only from values
    under an availability key, around its slots: `Wed 14 Jan 15:00` is that hour, not all of
    Wednesday.
    """
    settings = orjson.loads(document)
    available = [text for key, value in _items(settings) if _AVAILABILITY_KEY.search(key)
                 for text in _strings(value, key)]  # fmt: skip
    windows: list[_Window] = []
    slots = 0
    for text in available:
        found = [m for m in dates.mentions(_unranged(text)) if m.calendar or m.clock is not None]
        slots += len(found)
        for mention in found:
            text = dates.blank(text, mention.start, mention.start + len(mention.text))
        windows += _windows(text)
    if not windows and not slots:
        return _Availability((), (), ())
    mentions = tuple(m for text in _strings(settings) for m in dates.mentions(_unranged(text)))
    return _Availability(tuple(windows), mentions, tuple(available))


def _items(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) of a JSON value, at any depth."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key), item
            yield from _items(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _items(item)


def _strings(value: Any, prefix: str = "") -> Iterator[str]:
    """Every string of a JSON value, each after the keys above it (`monday 9-17`)."""
    if isinstance(value, str):
        yield f"{prefix}: {value}" if prefix else value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{prefix} {key}".strip() if prefix else "")
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item, prefix)


def _unranged(text: str) -> str:
    """The text without its ranges of days and hours: `Mon-Fri 9am-5pm` offers no `Fri 9am`."""
    text = _TIMESPAN.sub(lambda m: " " * len(m[0]), text)
    return _DAYSET.sub(lambda m: " " * len(m[0]) if m["b"] else m[0], text)


def _windows(text: str) -> Iterator[_Window]:
    """The windows an availability text states: each run of days with the hours after it.

    `Mon-Fri 9am-5pm, Sat 10-2` is two windows; days without hours are whole days, hours
    without days are every day.
    """
    groups: list[tuple[set[int], list[tuple[int, int]]]] = [(set(), [])]
    tokens = sorted(
        [(m.start(), "days", m) for m in _DAYSET.finditer(text)]
        + [(m.start(), "hours", m) for m in _TIMESPAN.finditer(text)],
        key=lambda t: t[0],
    )
    for _, kind, match in tokens:
        days, spans = groups[-1]
        if kind == "days":
            if spans:
                groups.append((set(), []))
                days = groups[-1][0]
            days |= _dayset(match)
        elif (span := _span(match)) is not None:
            spans.append(span)
    for days, spans in groups:
        if not days and not spans:
            continue
        for start, end in spans or [(0, 24 * 60)]:
            yield _Window(frozenset(days or range(7)), start, end)


def _dayset(match: re.Match[str]) -> set[int]:
    if match["weekdays"]:
        return set(range(5))
    if match["weekends"]:
        return {5, 6}
    first = dates.WEEKDAY_INDEX[match["a"].casefold()]
    if not match["b"]:
        return {first}
    last = dates.WEEKDAY_INDEX[match["b"].casefold()]
    return {(first + n) % 7 for n in range((last - first) % 7 + 1)}


def _span(match: re.Match[str]) -> tuple[int, int] | None:
    """The minutes a range of hours covers; `9-5` is read as 9:00 to 17:00."""
    start, end = dates.read_clock(match["a"]), dates.read_clock(match["b"])
    if start is None or end is None:
        return None
    a, b = start.minutes, end.minutes
    if not start.exact and end.exact and a + 720 < b:
        a += 720  # 1-5pm is 13:00 to 17:00
    if b <= a and not end.exact:
        b += 720
    return (a, b) if a < b else None
