"""Days and clock times as written in English, Spanish, German or French, and the dates they name.

"Tue 14 Jan 3:00 pm", "Thursday at 10am", "mañana a las 10", "Donnerstag um 10 Uhr" and "jeudi à
14h" are each one `Mention`: a day, a clock time, or both. Days are resolved by dateparser, with
dates in the future preferred; clock times are read here, since dateparser takes a bare hour
("a las 10", "10 Uhr") for a day of the month. Pure; parses are cached by (snippet, languages,
date, timezone), and a text without a day or clock word costs one scan and no dateparser call.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dateparser

__all__ = [
    "WEEKDAY_INDEX",
    "Clock",
    "Mention",
    "blank",
    "mentions",
    "read_clock",
    "resolve_day",
    "zone_of",
]

_WEEKDAYS: Mapping[str, tuple[str, ...]] = {
    "en": ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
    "es": ("lunes", "martes", "miércoles|miercoles", "jueves", "viernes", "sábado|sabado",
           "domingo"),
    "de": ("montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag|sonnabend",
           "sonntag"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
}  # fmt: skip
_RELATIVE: Mapping[str, str] = {
    "en": r"today|tonight|tomorrow",
    "es": r"hoy|pasado\s+mañana|(?<!la\s)(?<!esta\s)(?<!una\s)mañana",
    "de": r"heute|übermorgen|(?<!guten\s)(?<!am\s)(?<!heute\s)(?<!jeden\s)morgen(?!s)",
    "fr": r"aujourd['’]hui|après-demain|demain",
}
"""Today and tomorrow; not "la mañana", "guten Morgen" or "am Morgen", which are mornings."""
_MONTHS: Mapping[str, str] = {
    "en": r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?",
    "es": r"enero|febrero|marzo|abril|mayo|junio|julio|agosto|se?ptiembre|octubre|noviembre"
    r"|diciembre",
    "de": r"jänner|januar|februar|märz|april|mai|juni|juli|august|september|oktober|november"
    r"|dezember",
    "fr": r"janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre"
    r"|novembre|décembre|decembre",
}
_ABBREVIATED = r"(?-i:Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun)\.?(?=,?\s*\d)"
"""English short weekdays, capitalized and before a date or hour ("Tue 14 Jan", "Thu 10:00"):
elsewhere "sat", "sun" and "wed" are words."""

_WEEKDAY = "|".join(name for names in _WEEKDAYS.values() for name in names)
_MONTH = "|".join(_MONTHS.values())
_DATE = (
    rf"(?<![\d/.-])(?:\d{{1,2}}(?:st|nd|rd|th|er|º|\.)?\s*(?:de\s+)?(?:{_MONTH})\b\.?"
    rf"|(?:{_MONTH})\b\.?\s*\d{{1,2}}(?:st|nd|rd|th)?(?!\d))(?:,?\s+\d{{4}})?"
    r"|\b\d{4}-\d\d-\d\d\b"
)
_DAY = (
    rf"(?:\b(?:{_WEEKDAY}|{'|'.join(_RELATIVE.values())})\b|{_ABBREVIATED})"
    rf"(?:[\s,]+(?:the\s+|den\s+|le\s+|el\s+)?(?:{_DATE}))?|{_DATE}"
)
_CLOCK = (
    r"(?<![\d:.,/$€£-])(?:\d{1,2}(?:[:.][0-5]\d)?\s?[ap](?:\.\s?m\.|\s?m)(?!\w)"
    r"|\d{1,2}:[0-5]\d(?!\d)(?:\s?(?:uhr|h)\b)?"
    r"|\d{1,2}(?:[.:][0-5]\d)?\s?uhr\b"
    r"|\d{1,2}h[0-5]\d\b"
    r"|(?:noon|midday|mediodía|midi)\b)"
)
"""A clock time that says it is one: `3pm`, `15:00`, `10 Uhr`, `14h30`, `noon`."""
_CONNECTOR = r"(?:at|@|around|about|from|a\s+las?|sobre\s+las?|hacia\s+las?|um|gegen|ab|à|vers|dès)"
_HALF = (
    r"de\s+la\s+(?:mañana|tarde|noche)|in\s+the\s+(?:morning|afternoon|evening)"
    r"|du\s+(?:matin|soir)|de\s+l['’]après-midi|morgens|vormittags|nachmittags|abends"
)
"""Which half of the day a bare hour is in: "a las 4 de la tarde" is 16:00."""
_BARE = (
    rf"\d{{1,2}}(?:[:.h][0-5]\d)?(?:\s?(?:h|uhr|heures?|o['’]?clock)\b)?(?:\s+(?:{_HALF}))?"
    r"(?![\d%:]|[.,]\d|\s*(?:%|[-–]|(?:people|persons?|personas|leute|personnes|min\w*|hours?"
    r"|hrs?|horas?|stunden?|days?|días?|tagen?|jours?|weeks?|semanas?|wochen?|semaines?"
    r"|months?|meses|monate?n?|mois|years?|años?|jahren?|ans|units?|times?|veces|mal|fois"
    r"|dollars?|euros?|percent|por\s+ciento|prozent|pour\s+cent)\b))"
)
"""A bare hour (`10`, `10:30`) after a day and `at`/`a las`/`um`/`à`: "Thursday at 10"."""
_PERIOD = (
    r"(?:(?:in\s+the\s+|por\s+la\s+|de\s+la\s+|am\s+|en\s+)?(?:morning|afternoon|evening|mañana"
    r"|tarde|noche|vormittags?|nachmittags?|morgens|abends|matin|après-midi|soir)[\s,]*)?"
)
_MENTION = re.compile(
    rf"(?:{_DAY})(?:[\s,]*{_PERIOD}(?:{_CONNECTOR}\s*)?{_CLOCK}|[\s,]*{_PERIOD}{_CONNECTOR}\s*"
    rf"{_BARE})?|{_CLOCK}(?:\s+(?:on\s+|el\s+|am\s+|le\s+)?(?:{_DAY}))?",
    re.IGNORECASE,
)
"""A day, a clock time, or both together, in either order: one proposal."""
_DAY_PART = re.compile(_DAY, re.IGNORECASE)
_CLOCK_PART = re.compile(_CLOCK, re.IGNORECASE)
_BARE_PART = re.compile(rf"{_CONNECTOR}\s*(?P<bare>{_BARE})", re.IGNORECASE)
_CALENDAR = re.compile(_DATE, re.IGNORECASE)
_HOUR = re.compile(r"(?P<h>\d{1,2})(?:[:.h](?P<m>[0-5]\d))?", re.IGNORECASE)
_MERIDIEM = re.compile(r"(?P<x>[ap])(?:\.\s?m\.|\s?m)(?!\w)", re.IGNORECASE)
_LATE = re.compile(r"tarde|noche|afternoon|evening|soir|après-midi|nachmittags|abends")
_EARLY = re.compile(r"mañana|morning|matin|morgens|vormittags")
_DAY_CLOCK = re.compile(r"\d\s?h|uhr")
"""`10 Uhr` and `9h` count the day's hours to 24: never the evening's 10 or 9."""
_WORDS = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")

_MASKS = (
    ("://", re.compile(r"(?i)https?://\S+")),
    ("www.", re.compile(r"(?i)www\.\S+")),
    ("@", re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")),
    (">", re.compile(r"^[ \t]*>.*$", re.MULTILINE)),
)
"""Links, email addresses and quoted lines, each read only in a text with its sign: they hold
no proposal of the draft's own."""
_STARTS = (
    "mon tue wed thu fri sat sun lun mar mié mie jue vie sáb sab dom die mit don fre sam son mer "
    "jeu ven dim tod ton tom hoy pas mañ man heu übe mor auj apr dem jan feb may jun jul aug sep "
    "oct nov dec ene abr ago set dic jän mär mai okt dez fév fev avr jui aoû aou déc noo mid med"
)
"""How every day, month and noon word begins, lower-cased: where a mention may start."""
_BY_LETTER = {
    letter: "|".join(s[1:] for s in _STARTS.split() if s[0] == letter)
    for letter in dict.fromkeys(s[0] for s in _STARTS.split())
}
_ANCHOR = re.compile(
    r"(?<!\w)(?:\d|" + "|".join(f"{k}(?:{v})" for k, v in _BY_LETTER.items()) + ")"
)
"""Grouped by first letter, which makes the scan twice as fast as one long alternation."""
_ANY_ANCHOR = re.compile(_ANCHOR.pattern, re.IGNORECASE)

WEEKDAY_INDEX: Mapping[str, int] = {
    word: index
    for names in _WEEKDAYS.values()
    for index, alternatives in enumerate(names)
    for word in alternatives.split("|")
} | {
    word: index
    for index, words in enumerate((
        "mon mo lun", "tue tues di mar", "wed mi mer mié mie", "thu thur thurs do jeu jue",
        "fri fr ven vie", "sat sa sam sáb sab", "sun so dim dom",
    ))
    for word in words.split()
}  # fmt: skip
"""Weekday names and short forms (availability settings write `Mo-Fr`, `lun`) to 0 for Monday."""


class Clock(NamedTuple):
    """A time of day as written."""

    minutes: int
    """Minutes after midnight, as read."""
    exact: bool
    """False for an hour that may be either half of the day: `at 10`, `10:30`, `a las 4`."""

    def same(self, other: Clock) -> bool:
        """Whether the two may be one time: `10` is `10am` and `10pm`, `10am` is not `10pm`."""
        if self.exact and other.exact:
            return self.minutes == other.minutes
        return self.minutes % 720 == other.minutes % 720

    def readings(self) -> tuple[int, ...]:
        """The minutes after midnight it may mean: one, or both halves of the day."""
        return (self.minutes,) if self.exact else (self.minutes % 720, self.minutes % 720 + 720)


class Mention(NamedTuple):
    """A day and/or clock time as written, not yet resolved to a date."""

    text: str
    start: int
    day: str | None
    calendar: bool
    """The day is a calendar date (`14 Jan`), which can be in the past; a weekday cannot."""
    clock: Clock | None


def mentions(text: str) -> list[Mention]:
    """Every day and clock time of `text`, links, addresses and quoted lines aside.

    The full pattern is tried only where a word could start one (`_ANCHOR`): scanning every
    position with it costs ten times as much.
    """
    lowered = text.lower()
    anchors = _ANCHOR.finditer(lowered) if len(lowered) == len(text) else _ANY_ANCHOR.finditer(text)
    found: list[Mention] = []
    masked, end = None, 0
    for anchor in anchors:
        if anchor.start() < end:
            continue
        if masked is None:
            masked = _masked(text)
        match = _MENTION.match(masked, anchor.start())
        if match is not None:
            found.append(_mention(match[0], match.start()))
            end = match.end()
    return found


def _masked(text: str) -> str:
    """`text` with its links, addresses and quoted lines blanked, offsets kept."""
    lowered = text.lower()
    for sign, pattern in _MASKS:
        if sign in lowered:
            text = pattern.sub(lambda m: " " * len(m[0]), text)
    return text


def _mention(text: str, start: int) -> Mention:
    day = _DAY_PART.search(text)
    rest = text if day is None else blank(text, day.start(), day.end())
    clock_match = _CLOCK_PART.search(rest)
    clock = None
    if clock_match is not None:
        clock = read_clock(clock_match[0])
    elif (bare := _BARE_PART.search(rest)) is not None:
        clock = read_clock(bare["bare"])
    day_text = day[0].strip(" ,") if day is not None else None
    calendar = day_text is not None and _CALENDAR.search(day_text) is not None
    return Mention(text.strip(), start, day_text, calendar, clock)


def blank(text: str, start: int, end: int) -> str:
    """`text` with `[start:end]` turned to spaces: what is read once is not read again."""
    return text[:start] + " " * (end - start) + text[end:]


def read_clock(text: str) -> Clock | None:
    """Minutes after midnight of `3pm`, `15:00`, `10 Uhr`, `14h30`, `noon` or a bare `10`."""
    lowered = text.lower()
    if lowered.startswith(("noon", "midday", "mediod", "midi")):
        return Clock(12 * 60, True)
    hour_match = _HOUR.search(lowered)
    if hour_match is None:
        return None
    hour, minute = int(hour_match["h"]), int(hour_match["m"] or 0)
    meridiem = _MERIDIEM.search(lowered, hour_match.end())
    if meridiem is not None:
        if not 1 <= hour <= 12:
            return None
        return Clock((hour % 12 + (12 if meridiem["x"] == "p" else 0)) * 60 + minute, True)
    if hour > 23:
        return None
    late = _LATE.search(lowered) is not None
    if 1 <= hour <= 12 and (late or _EARLY.search(lowered)):
        return Clock((hour % 12 + (12 if late else 0)) * 60 + minute, True)
    exact = hour > 12 or hour == 0 or lowered.startswith("0") or bool(_DAY_CLOCK.search(lowered))
    return Clock(hour * 60 + minute, exact)


def zone_of(name: Any) -> tzinfo:
    """The IANA zone a lead's `timezone` names; UTC when it is missing or unknown."""
    if isinstance(name, str) and name.strip():
        try:
            return ZoneInfo(name.strip())
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def resolve_day(day: str, today: date, zone: tzinfo) -> date | None:
    """The date a day as written names, seen from `today` in `zone`; None if unreadable."""
    return _parse_day(_normal(day), _languages(day), today, str(zone))


def _normal(day: str) -> str:
    """A day as dateparser reads it: `Thurs` is `Thu`; German's `Donnerstag den 12.` loses `den`."""
    day = re.sub(r"(?i)\bthu(?:rs?)\b", "Thu", day.replace("’", "'"))
    return re.sub(r"(?i)(?<=[a-zäöü])\s+den\s+(?=\d)", ", ", day)


def _languages(day: str) -> tuple[str, ...]:
    words = {w.casefold() for w in _WORDS.findall(day)}
    found = tuple(
        lang for lang in ("en", "es", "de", "fr")
        if any(_vocabulary(lang).fullmatch(w) for w in words)
    )  # fmt: skip
    return found or ("en",)


@functools.cache
def _vocabulary(lang: str) -> re.Pattern[str]:
    """A day or month word of `lang`: which languages dateparser is to read a snippet in."""
    words = (*_WEEKDAYS[lang], _RELATIVE[lang].replace(r"\s+", " "), _MONTHS[lang])
    return re.compile("|".join(words), re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def _parse_day(snippet: str, languages: tuple[str, ...], today: date, zone: str) -> date | None:
    """The date `snippet` names, seen from `today`.

    A calendar date without a year is its nearest occurrence: "Jan 2" written on Jan 8 is six
    days past, not a year ahead.
    """
    parsed = dateparser.parse(
        snippet,
        languages=list(languages),
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": datetime.combine(today, datetime.min.time()),
            "TIMEZONE": zone,
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    if parsed is None:
        return None
    day = parsed.date()
    if _CALENDAR.search(snippet) and not re.search(r"\d{4}", snippet):
        if day - today > timedelta(days=183):
            try:
                day = day.replace(year=day.year - 1)
            except ValueError:  # 29 February
                day -= timedelta(days=365)
    return day
