"""Money amounts as sales replies write them, in English and the main European ways. Pure.

`$1,200.00`, `1.200,00 €`, `1 200 €`, `€45,50`, `1.2k USD` and `EUR 1200` are all found, and
each is read as one canonical amount, so a price restated in another format is the same price:
a group of exactly three digits after a `,`, `.` or space continues the number (thousands);
one or two digits after the last `,` or `.` are its cents. Amounts need a currency: that alone
keeps times, dates, percentages and counts out.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_GROUP = "[,. \u00a0\u202f]"
NUMBER = rf"\d{{1,3}}(?:{_GROUP}\d{{3}})+(?:[.,]\d{{1,2}})?|\d+(?:[.,]\d{{1,2}})?"
"""An amount's digits: grouped by thousands (any of the separators), with optional cents."""
MONEY = re.compile(
    rf"(?:(?<![\w$])(?:US)?\$|[€£]|(?<!\w)(?i:usd|eur|gbp)[ \t]?)[ \t\u00a0]?"
    rf"(?P<pre>{NUMBER})(?P<pre_k>[kK](?!\w))?"
    rf"|(?<![\w.,$€£])(?P<post>{NUMBER})(?P<post_k>[kK])?[ \t\u00a0\u202f]?"
    rf"(?:[€£]|(?i:usd|eur|gbp|dollars?|euros?|bucks)(?!\w))"
)
HINT = re.compile(r"(?i)[$€£]|usd|eur|gbp|dollar|euro|bucks")
"""Every amount `MONEY` finds has one of these: without any, the costly scan is skipped."""
_CENTS = re.compile(r"[.,](\d{1,2})$")
_SEPARATORS = re.compile(r"[,. \u00a0\u202f]")


def amount_of(match: re.Match[str]) -> str:
    """The canonical amount of a `MONEY` match."""
    number = match["pre"] or match["post"]
    return amount(number, thousands=bool(match["pre_k"] or match["post_k"]))


def amount(number: str, *, thousands: bool = False) -> str:
    """The canonical form of an amount: `1,200.00`, `1.200,00`, `1 200` and `1.2k` are `1200`."""
    cents = _CENTS.search(number)
    whole = number[: cents.start()] if cents else number
    digits = _SEPARATORS.sub("", whole) + (f".{cents[1]}" if cents else "")
    try:
        value = Decimal(digits) * (1000 if thousands else 1)
    except InvalidOperation:
        return number
    return format(value.normalize(), "f")
