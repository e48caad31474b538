"""The rule of every setting's value, whatever its source: a flag, its variable or `replay.toml`.

A rule turns a raw value (the text of a flag or an environment variable, or a TOML value) into a
typed one, or raises `Rejected` saying what form was expected. The rule never knows where the
value came from: the caller names the source (`--limit`, `REPLAY_LIMIT`,
`replay.toml [selection] limit`), so one rule gives one wording everywhere::

    --limit must be a positive integer, got '0'
    REPLAY_LIMIT must be a positive integer, got '0'
    replay.toml [selection] limit must be a positive integer, got 0
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, TypeVar
from urllib.parse import parse_qs, urlsplit

from replay.config.secrets import describe_url
from replay.models import Shard

T = TypeVar("T")

MAX_INT: Final = 2**31 - 1
"""Counts are bound to Postgres's integer: a larger one could only overflow a query."""
MAX_SECONDS: Final = 86_400.0
"""No deadline of one attempt or one case is longer than a day; more is a typo or `inf`."""
MAX_USD: Final = 1_000_000.0
"""A budget above a million dollars is a typo, not a budget."""
MAX_PORT: Final = 65_535


class Rejected(Exception):
    """A value does not have the form its setting expects.

    Attributes:
        expected: the form, worded to follow "must be" (``a positive integer``).
        shown: the value as it may be shown: never a secret (a URL loses its user info).
        template: a whole message with ``{source}`` in it, for the few rules whose wording is
            not "must be …" (a repeated id).
    """

    def __init__(self, expected: str, value: object, *, template: str | None = None) -> None:
        super().__init__(expected)
        self.expected = expected
        self.shown = value if isinstance(value, str | int | float | bool) else str(value)
        self.template = template

    def message(self, source: str) -> str:
        """The one-line error naming `source`, the value and the expected form."""
        if self.template is not None:
            return self.template.format(source=source)
        return f"{source} must be {self.expected}, got {self.shown!r}"


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else str(value)


def _integer(value: object, expected: str) -> int:
    """An int from an int or its decimal text; bools and fractions are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise Rejected(expected, value)
    if isinstance(value, int):
        return value
    text = _text(value)
    if not text.lstrip("-").isdigit() or text.startswith("+"):
        raise Rejected(expected, value)
    return int(text)


def _number(value: object, expected: str) -> float:
    """A finite float from a number or its text; bools, `inf` and `nan` are refused."""
    if isinstance(value, bool):
        raise Rejected(expected, value)
    try:
        number = float(value if isinstance(value, int | float) else _text(value))
    except ValueError:
        raise Rejected(expected, value) from None
    if not math.isfinite(number):
        raise Rejected(expected, value)
    return number


def count(value: object) -> int:
    """A positive integer that fits Postgres's integer (limits, concurrency, repeats)."""
    number = _integer(value, "a positive integer")
    if number <= 0:
        raise Rejected("a positive integer", value)
    if number > MAX_INT:
        raise Rejected(f"at most {MAX_INT:,}", value)
    return number


def whole(value: object) -> int:
    """A whole number, zero allowed (retries)."""
    number = _integer(value, "a whole number (0 or more)")
    if not 0 <= number <= MAX_INT:
        raise Rejected("a whole number (0 or more)", value)
    return number


def integer(value: object) -> int:
    """Any integer (a seed)."""
    return _integer(value, "an integer")


def rate(value: object) -> float:
    """A share from 0 to 1 (error rate, invalid rate)."""
    number = _number(value, "a number from 0 to 1")
    if not 0.0 <= number <= 1.0:
        raise Rejected("a number from 0 to 1", value)
    return number


def temperature(value: object) -> float:
    """A sampling temperature from 0 to 2."""
    number = _number(value, "a number from 0 to 2")
    if not 0.0 <= number <= 2.0:
        raise Rejected("a number from 0 to 2", value)
    return number


def seconds(value: object) -> float:
    """A positive, finite number of seconds, at most a day."""
    number = _number(value, "a positive number of seconds")
    if not number > 0:
        raise Rejected("a positive number of seconds", value)
    if number > MAX_SECONDS:
        raise Rejected(f"at most {MAX_SECONDS:,.0f} seconds", value)
    return number


def ratio(value: object) -> float:
    """A non-negative, finite factor (how far one p95 may exceed another)."""
    number = _number(value, "a number of 0 or more")
    if number < 0:
        raise Rejected("a number of 0 or more", value)
    return number


def usd(value: object) -> float:
    """A positive, finite amount of US dollars."""
    number = _number(value, "a positive number")
    if not number > 0:
        raise Rejected("a positive number", value)
    if number > MAX_USD:
        raise Rejected(f"at most {MAX_USD:,.0f} (US dollars)", value)
    return number


def shard(value: object) -> Shard:
    """`i/n`: the i-th of n parts of a selection, 1 <= i <= n."""
    expected = "i/n with 1 <= i <= n"
    if isinstance(value, Shard):
        return value
    index, slash, count = _text(value).partition("/")
    if not (slash and index.isdigit() and count.isdigit()):
        raise Rejected(expected, value)
    if not 1 <= int(index) <= int(count) <= MAX_INT:
        raise Rejected(expected, value)
    return Shard(index=int(index), count=int(count))


def choice(*allowed: str) -> Callable[[object], str]:
    """A rule accepting one of `allowed`, case-insensitively; it returns the lower-case form."""

    def rule(value: object) -> str:
        text = _text(value).lower()
        if text not in allowed:
            raise Rejected(f"one of {', '.join(allowed)}", value)
        return text

    rule.__doc__ = f"One of {', '.join(allowed)}."
    return rule


CACHE_MODES: Final = ("read-write", "read", "off")
cache_mode = choice(*CACHE_MODES)
"""`--cache`: read and keep answers, only read them, or neither."""
PACING_MODES: Final = ("on", "off")
pacing_mode = choice(*PACING_MODES)
"""`--pacing`: space request starts under the endpoint's stated rate limits, or not."""
VIA_MODES: Final = ("live", "batch")
via = choice(*VIA_MODES)
"""`--via`: one request per case now, or the provider's Batch API (cheaper, later)."""


def completion_window(value: object) -> str:
    """A Batch API completion window in whole hours, such as `24h`."""
    text = _text(value).strip().lower()
    if not re.fullmatch(r"[1-9]\d{0,3}h", text):
        raise Rejected("a whole number of hours such as 24h", value)
    return text


def timestamp(value: object) -> datetime:
    """An ISO 8601 time; one without an offset is UTC."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(_text(value))
        except ValueError:
            raise Rejected(
                "an ISO 8601 time such as 2026-11-01 or 2026-11-01T08:00:00+01:00", value
            ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(value: object) -> float:
    """`90s`, `15m`, `24h` or `7d`, as seconds; at most ten years."""
    text = _text(value).lower()
    expected = "a duration such as 90s, 15m, 24h or 7d"
    try:
        amount = float(text[:-1])
    except ValueError:
        amount = 0.0
    if not text or text[-1] not in _UNITS or not 0 < amount < math.inf:
        raise Rejected(expected, value)
    total = amount * _UNITS[text[-1]]
    if total > 3650 * 86400:
        raise Rejected("at most ten years", value)
    return total


def client_id(value: object) -> str:
    """A non-empty id without spaces or control characters; its type is checked by the view."""
    text = _text(value)
    if not text or any(char.isspace() or not char.isprintable() for char in text):
        raise Rejected("a client id without spaces", value)
    return text


class CaseIds(tuple[str, ...]):
    """Case ids in the order given.

    Its own type, because the CLI reads a plain tuple annotation as an option taking several
    values.
    """


def case_ids(value: object) -> CaseIds:
    """`a,b,c`: non-empty ids, each once."""
    ids = tuple(part.strip() for part in _text(value).split(","))
    if not ids or any(not part for part in ids):
        raise Rejected("a comma-separated list of ids", value)
    repeated = next((case_id for index, case_id in enumerate(ids) if case_id in ids[:index]), None)
    if repeated is not None:
        template = f"{{source}} lists id {repeated!r} twice; expected each id once"
        raise Rejected("each id once", value, template=template)
    return CaseIds(ids)


def pipeline(value: object) -> str:
    """`openai`, `python:module:function` or an http(s) URL."""
    text = _text(value)
    if text == "openai" or text.startswith(("http://", "https://")):
        return text
    parts = text.split(":")
    if len(parts) == 3 and parts[0] == "python" and all(parts[1:]):
        return text
    raise Rejected("openai, python:module:function or an http(s):// URL", value)


def http_url(value: object) -> str:
    """An http(s) URL with a host; a wrong one is shown without its user info."""
    text = _text(value)
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host:
        shown = describe_url(text) if "@" in text else text  # never a user or password
        raise Rejected("an http(s):// URL with a host", shown)
    return text


def language_codes(value: object) -> str:
    """Comma-separated two-letter language codes (`en,es`), normalized: lowercase, no spaces."""
    codes = [code.strip().lower() for code in _text(value).split(",")]
    if not codes or not all(len(code) == 2 and code.isascii() and code.isalpha() for code in codes):
        raise Rejected("comma-separated two-letter language codes, such as en,es", value)
    return ",".join(codes)


def database_url(value: object) -> str:
    """A Postgres URL whose ports are TCP ports; a wrong one is shown alone, never the URL.

    The driver would wrap a port past 65535 around (99999 is 34463) and connect elsewhere.
    """
    text = _text(value)
    for port in _ports(text):
        if not 1 <= int(port) <= MAX_PORT:
            template = f"{{source}} port must be 1–{MAX_PORT}, got {port}"
            raise Rejected(f"a port from 1 to {MAX_PORT}", port, template=template)
    return text


def _ports(url: str) -> list[str]:
    """The numeric ports of a URL's hosts (`h1:5432,h2:5433`) and of its `port` parameter.

    None of a URL whose user or password holds an unencoded `/`, `?` or `#`: what a parser
    takes for its port may then be a piece of the password.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    if "#" in url or "@" in parts.path + parts.query:
        return []
    hosts = [host.rpartition("]")[2] for host in parts.netloc.rpartition("@")[2].split(",")]
    found = [host.rpartition(":")[2] for host in hosts if ":" in host]
    found += [port for ports in parse_qs(parts.query).get("port", []) for port in ports.split(",")]
    return [port for port in found if port.isascii() and port.isdigit()]


def env_name(value: object) -> str:
    """The name of an environment variable (never its value: a URL would be a secret)."""
    text = _text(value)
    if not text or not (text[0].isalpha() or text[0] == "_"):
        raise Rejected("the name of an environment variable", "…")
    if not all(char.isalnum() or char == "_" for char in text) or not text.isascii():
        raise Rejected("the name of an environment variable", "…")
    return text


def toml_file(value: object) -> Path:
    """An existing file to read `replay.toml` settings from."""
    path = Path(_text(value))
    if path.is_dir():
        raise Rejected("a TOML file, not a directory", value)
    if not path.is_file():
        raise Rejected("a TOML file that exists", value)
    return path


def text(value: object) -> str:
    """Any non-empty text (a model name, a status)."""
    if not isinstance(value, str) or not value.strip():
        raise Rejected("a non-empty text", value)
    return value.strip()
