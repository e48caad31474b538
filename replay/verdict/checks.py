"""Deterministic checks of a draft against what its own case showed the model. Pure.

A draft may state a price, link, email address or phone number only when the case's context
holds it: the inbound (subject and body), the point-in-time thread, the lead and the client
settings (every JSON value, recursively). Values are compared normalized (`$1,200` = `1200 USD`,
`(555) 010-2030` = `+1 555 010 2030`), so a fact restated in another format is still supported.

Each violation carries a `key` that names it across drafts: the original and the new draft are
checked alike, and only a critical violation the original lacks is a regression.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from replay.models import CaseInput, Severity, Violation
from replay.verdict import language, mistakes, money, names, questions, times
from replay.verdict.optout import MEETING, NEGATION, is_opt_out, opt_out_phrase

__all__ = ["CODES", "InvariantConfig", "Severity", "Violation", "check", "is_opt_out"]

CODES: tuple[str, ...] = (
    "empty_draft", "unresolved_placeholder", "channel_length", "unsupported_price",
    "unsupported_link", "unsupported_email", "unsupported_phone", "ignored_opt_out",
    *names.CODES, *language.CODES, *times.CODES, *questions.CODES, *mistakes.CODES,
)  # fmt: skip
"""Every check, in the order `check` reports them (`names.py`'s, `language.py`'s, `times.py`'s
and `questions.py`'s, which read the case as the fact checks do, then `mistakes.py`'s last)."""
SEVERITY: Mapping[str, Severity] = {
    **dict.fromkeys(CODES, "critical"), **names.SEVERITY, **language.SEVERITY, **times.SEVERITY,
    **questions.SEVERITY, **mistakes.SEVERITY,
}  # fmt: skip
"""Each code's severity: every check is a mistake a human would have to catch (`times.py`
reports a day proposed without an hour as a warning, and `questions.py`'s lexical reading of
"answered" is always one)."""

_CONTEXT = "the inbound, thread, lead or client settings"
_CHANNEL_NAMES = {"sms": "SMS", "linkedin": "LinkedIn", "email": "email"}

_URL_HINT = re.compile(r"(?i)https?://|www\.")
_DIGIT = re.compile(r"\d")
_BARE_AMOUNT = re.compile(rf"\s*(?:{money.NUMBER})\s*")
_URL_CHARS = r"[^\s<>\"'()\[\]{}|\\^`]"
_URL = re.compile(rf"(?i)\b(?:https?://|www\.){_URL_CHARS}+")
_DOMAIN = re.compile(
    rf"(?i)(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{{2,}}(?![\w-])(?:/{_URL_CHARS}*)?"
)
"""A link without scheme or `www.`: supports a draft's link when the context writes it so."""
_TRAILING = ".,;:!?*_~"
_EMAIL = re.compile(
    r"(?i)(?<![\w.%+-])[\w.%+-]+@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}(?![\w-])"
)
_PHONE = re.compile(
    r"(?<![\w.,/$€£+-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,15}(?:[ .-]\d{1,8}){0,5}"
    r"(?![\w+]|[.,/-]?\d)"
)
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
_YEAR = re.compile(r"(?:19|20)\d\d")
_PLACEHOLDER = re.compile(
    r"\{\{[^{}\n]{1,60}\}\}"  # {{first_name}}, {{ lead.name | default }}
    r"|\{\s*\w[\w .-]{0,40}\}"  # {first_name}, {0}
    r"|\[\s*[^\W\d_][^\W\d_ .'/-]*(?:[ .'/-]+[^\W\d_]+){0,5}\s*\](?!\s?[(\[:])"  # [Prénom]
    r"|<{1,2}[A-Z][A-Z0-9_]{1,40}>{1,2}"  # <FIRST_NAME>, <<COMPANY>>
    r"|%[A-Z][A-Z0-9_]{1,40}%"  # %FIRST_NAME%
)
_TEMPLATE_WORDS = frozenset({
    "name", "first", "last", "full", "company", "business", "date", "time", "day", "link",
    "url", "phone", "number", "email", "address", "city", "insert", "placeholder", "your",
    "client", "lead", "customer", "contact", "recipient", "price", "amount", "title",
    "nombre", "apellido", "empresa", "fecha", "hora", "enlace", "teléfono", "correo", "precio",
    "vorname", "nachname", "firma", "datum", "uhrzeit", "telefon", "preis", "kunde", "anrede",
    "prénom", "nom", "entreprise", "société", "heure", "lien", "téléphone", "prix", "adresse",
})  # fmt: skip
"""A bracketed text is a template slot only when it names one: `[Name]`, `[Nombre]`, `[Vorname]`,
`[Prénom]`; not `[sic]`."""
_HTML_TAGS = frozenset({"A", "B", "I", "U", "P", "BR", "HR", "EM", "LI", "UL", "OL", "TD", "TR",
                        "DIV", "SPAN", "BODY", "HTML", "HEAD", "STRONG", "TABLE"})  # fmt: skip

_QUESTION = re.compile(r"[^.!?\n]*\?")
"""Before a meeting word, it makes an acknowledgement ("you won't get more calls")."""


@dataclass(frozen=True)
class InvariantConfig:
    """Limits and exceptions of the checks, as one client's settings resolve them."""

    sms_max_chars: int = 320
    linkedin_max_chars: int = 1900
    email_max_chars: int | None = None
    """None: an email draft may be any length."""
    allowed_domains: tuple[str, ...] = ()
    """Links and email addresses on these domains, or their subdomains, are always supported."""
    opt_out_phrases: tuple[str, ...] = ()
    """Phrases that ask to stop, on top of the built-in ones."""
    disabled: frozenset[str] = frozenset()
    """Codes not reported."""

    def __post_init__(self) -> None:
        unknown = sorted(self.disabled - set(CODES))
        if unknown:
            raise ValueError(f"disabled codes must be among {', '.join(CODES)}, got {unknown[0]!r}")
        for name in ("sms_max_chars", "linkedin_max_chars", "email_max_chars"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")


@dataclass(frozen=True)
class Facts:
    """The normalized prices, links, emails and phones some text states."""

    amounts: frozenset[str]
    links: frozenset[str]
    emails: frozenset[str]
    phones: frozenset[str]

    def __or__(self, other: Facts) -> Facts:
        return Facts(
            amounts=self.amounts | other.amounts,
            links=self.links | other.links,
            emails=self.emails | other.emails,
            phones=self.phones | other.phones,
        )


class Context:
    """The facts of a case's context, read lazily: the client's settings first.

    Drafts mostly quote what the settings hold (the price list, the booking link), and those
    facts are cached per client; the lead, the inbound and the thread (different in every case)
    are scanned only when a draft states something the settings do not.
    """

    def __init__(self, case: CaseInput) -> None:
        self._case = case
        self.shared = _json_facts(orjson.dumps(case.client_settings, option=orjson.OPT_SORT_KEYS))
        self._all: Facts | None = None
        self._opt_out: dict[tuple[str, ...], str | None] = {}
        self.checked: dict[tuple[str, InvariantConfig, str | None], list[Violation]] = {}
        """What `check` found per draft: beside a control arm a case's drafts are checked in
        three pairings, each draft once."""

    def opt_out(self, extra: Sequence[str]) -> str | None:
        """The phrase with which the inbound asks to stop, if it does (read once per case)."""
        key = tuple(extra)
        if key not in self._opt_out:
            inbound = self._case.inbound
            text = "\n".join(filter(None, (inbound.subject, inbound.body)))
            self._opt_out[key] = opt_out_phrase(text, extra)
        return self._opt_out[key]

    @property
    def all(self) -> Facts:
        """Every fact, the lead's, inbound's and thread's included (read on first use)."""
        if self._all is None:
            case = self._case
            texts = [case.inbound.subject or "", case.inbound.body]
            for message in case.thread:
                texts += [message.subject or "", message.body or ""]
            lead = _json_facts(orjson.dumps(case.lead, option=orjson.OPT_SORT_KEYS))
            self._all = self.shared | lead | _facts(texts, ())
        return self._all


def check(
    draft: str,
    case: CaseInput,
    config: InvariantConfig = InvariantConfig(),  # noqa: B008 - frozen, so a safe default
    *,
    context: Context | None = None,
    finish_reason: str | None = None,
) -> list[Violation]:
    """Every violation of `draft` against the case's own context, in CODES order.

    Deduplicated by (code, key): a price quoted twice is one violation. Pass `context`
    (`context_of(case)`) when checking several drafts of one case: reading it costs more
    than the checks. `finish_reason` is the answer's, for a draft the run received (`length`
    is a cut-off draft whatever its text); the original has none.
    """
    context = context if context is not None else context_of(case)
    memo = (draft, config, finish_reason)
    if memo in context.checked:
        return list(context.checked[memo])
    domains = tuple(_link_key(domain).partition("/")[0] for domain in config.allowed_domains)
    found = [
        *_empty(draft),
        *_placeholders(draft),
        *_length(draft, case.channel, config),
        *_prices(draft, context),
        *_links(draft, context, domains),
        *_emails(draft, context, domains),
        *_phones(draft, context),
        *_opt_out(draft, context.opt_out(config.opt_out_phrases)),
        *names.wrong_name(draft, case),
        *language.language_mismatch(draft, case),
        *times.unoffered_time(draft, case),
        *questions.unanswered_question(draft, case),
        *mistakes.truncated(draft, case.client_settings, finish_reason),
        *mistakes.repeated_text(draft),
        *mistakes.wrong_signature(draft, case.client_settings),
    ]
    seen: set[tuple[str, str]] = set()
    kept = []
    for violation in found:
        identity = (violation.code, violation.key)
        if violation.code not in config.disabled and identity not in seen:
            seen.add(identity)
            kept.append(violation)
    context.checked[memo] = kept
    return list(kept)


# --- the checks ---------------------------------------------------------------------------------


def _violation(code: str, evidence: str, key: str, detail: str) -> Violation:
    return Violation(code=code, severity=SEVERITY[code], evidence=evidence, key=key, detail=detail)


def _empty(draft: str) -> Iterator[Violation]:
    if not draft.strip():
        evidence = f"{len(draft)} characters" + (", all whitespace" if draft else "")
        yield _violation("empty_draft", evidence, "empty_draft", "the draft has no text")


def _placeholders(draft: str) -> Iterator[Violation]:
    for match in _PLACEHOLDER.finditer(draft):
        text = match[0]
        if text.startswith("[") and not _TEMPLATE_WORDS & set(text[1:-1].lower().split()):
            continue
        if text.startswith("<") and text.strip("<>") in _HTML_TAGS:
            continue
        key = " ".join(text.lower().split())
        yield _violation("unresolved_placeholder", text, key, "a template slot left unfilled")


def _length(draft: str, channel: str, config: InvariantConfig) -> Iterator[Violation]:
    limits = {"sms": config.sms_max_chars, "linkedin": config.linkedin_max_chars,
              "email": config.email_max_chars}  # fmt: skip
    limit = limits.get(channel)
    # Surrounding whitespace is never sent, so it does not count.
    length = len(draft.strip())
    if limit is not None and length > limit:
        name = _CHANNEL_NAMES.get(channel, channel)
        detail = f"{name} drafts may have at most {limit:,} characters"
        yield _violation("channel_length", f"{length:,} characters", "channel_length", detail)


def _prices(draft: str, context: Context) -> Iterator[Violation]:
    if not money.HINT.search(draft):
        return
    for match in money.MONEY.finditer(draft):
        amount = money.amount_of(match)
        if amount not in context.shared.amounts and amount not in context.all.amounts:
            yield _violation("unsupported_price", match[0].strip(), amount, f"not in {_CONTEXT}")


def _links(draft: str, context: Context, domains: Sequence[str]) -> Iterator[Violation]:
    if not _URL_HINT.search(draft):
        return
    for match in _URL.finditer(draft):
        text = match[0].rstrip(_TRAILING)
        key = _link_key(text)
        host = key.partition("/")[0]
        if key in context.shared.links or key in context.all.links or _on_domain(host, domains):
            continue
        detail = f"not in {_CONTEXT}, and {host} is not an allowed domain"
        if host in {link.partition("/")[0] for link in context.all.links}:
            detail = f"{host} is in the context, but not with this path"
        yield _violation("unsupported_link", text, key, detail)


def _emails(draft: str, context: Context, domains: Sequence[str]) -> Iterator[Violation]:
    if "@" not in draft:
        return
    for match in _EMAIL.finditer(draft):
        key = match[0].lower()
        known = key in context.shared.emails or key in context.all.emails
        if not known and not _on_domain(key.rpartition("@")[2], domains):
            detail = f"not in {_CONTEXT}, and not on an allowed domain"
            yield _violation("unsupported_email", match[0], key, detail)


def _phones(draft: str, context: Context) -> Iterator[Violation]:
    if len(_DIGIT.findall(draft)) < 7:  # a phone has at least seven digits
        return
    for text, digits in _phone_numbers(draft):
        # The last nine digits decide between forms of one number: `+33 6 12 34 56 78` is
        # `06 12 34 56 78` (country code and trunk 0 aside).
        tail = digits[-9:] if len(digits) >= 9 else digits
        if not any(known.endswith(tail) for known in context.shared.phones) and not any(
            known.endswith(tail) for known in context.all.phones
        ):
            detail = f"its last {len(digits)} digits are not in {_CONTEXT}"
            yield _violation("unsupported_phone", text, digits, detail)


def _opt_out(draft: str, phrase: str | None) -> Iterator[Violation]:
    if phrase is None:
        return
    engaged = _engagement(draft)
    if engaged is not None:
        evidence, action = engaged
        detail = f"the inbound asks to stop ({phrase!r}), yet the draft {action}"
        yield _violation("ignored_opt_out", evidence, "ignored_opt_out", detail)


# --- reading text -------------------------------------------------------------------------------


def context_of(case: CaseInput) -> Context:
    """Every price, link, email address and phone number the case's context states."""
    return Context(case)


@functools.lru_cache(maxsize=256)
def _json_facts(document: bytes) -> Facts:
    """The facts of a JSON document, cached: every case of a client shares its settings."""
    value = orjson.loads(document)
    return _facts(list(_json_texts(value)), tuple(_json_amounts(value)))


def _facts(texts: list[str], amounts: tuple[str, ...]) -> Facts:
    """The normalized facts stated by `texts`, plus amounts given without a currency.

    The texts are scanned as one, joined by newlines: no pattern matches across a line break,
    and one pass per pattern is several times cheaper than one per message.
    """
    text = "\n".join(texts)
    links = {_link_key(m[0].rstrip(_TRAILING)) for m in _URL.finditer(text)}
    links |= {_link_key(m[0].rstrip(_TRAILING)) for m in _DOMAIN.finditer(text)}
    return Facts(
        amounts=frozenset({money.amount_of(m) for m in money.MONEY.finditer(text)})
        | frozenset(amounts),
        links=frozenset(links),
        emails=frozenset(m[0].lower() for m in _EMAIL.finditer(text)),
        phones=frozenset(digits for _, digits in _phone_numbers(text)),
    )


def _json_texts(value: Any) -> Iterator[str]:
    """Every string and number in a JSON value (numbers too: a phone may be stored as one)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _json_texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _json_texts(item)


def _json_amounts(value: Any) -> Iterator[str]:
    """Amounts a JSON value states without a currency: `"price": 1200` or `"price": "1,200"`."""
    for text in _json_texts(value):
        if _BARE_AMOUNT.fullmatch(text):
            yield money.amount(text.strip())


def _link_key(url: str) -> str:
    """Host without `www.` and path without trailing slash: what makes two links the same."""
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        host = parts.hostname or ""
    except ValueError:
        return url.lower()
    return host.removeprefix("www.") + parts.path.rstrip("/")


def _on_domain(host: str, domains: Iterable[str]) -> bool:
    return any(domain and (host == domain or host.endswith(f".{domain}")) for domain in domains)


def _phone_numbers(text: str) -> Iterator[tuple[str, str]]:
    """Phone numbers in `text` and their last 10 digits, links and email addresses left out."""
    masked = _EMAIL.sub(" ", _URL.sub(" ", text))
    for match in _PHONE.finditer(masked):
        candidate = match[0]
        groups = re.findall(r"\d+", candidate)
        digits = "".join(groups)
        if not 7 <= len(digits) <= 15 or _DATE.fullmatch(candidate):
            continue
        if all(_YEAR.fullmatch(group) for group in groups):
            continue
        marked = candidate.startswith(("+", "("))
        # One run of digits is an id, not a phone, unless it has an area code's length; two
        # groups are a phone in the 555-0142 shape only, not a range like 1200-1500.
        if len(groups) == 1 and len(digits) < 10 and not marked:
            continue
        # (A European number with its trunk 0, `0171 2345678`, is one too.)
        european = groups[0].startswith("0") and len(digits) >= 9
        if len(groups) == 2 and not marked and (len(groups[0]), len(groups[1])) != (3, 4):
            if not european:
                continue
        if max(len(group) for group in groups) < 3 and len(groups) < 5:
            continue
        yield candidate, digits[-10:]


def _engagement(draft: str) -> tuple[str, str] | None:
    """The first question, link, price or meeting proposal of `draft`, and what it does."""
    found: list[tuple[int, str, str]] = []
    links = list(_URL.finditer(draft))
    found += [(m.start(), m[0].rstrip(_TRAILING), "gives a link") for m in links[:1]]
    # A `?` inside a link is not a question.
    unlinked = _URL.sub(lambda m: " " * len(m[0]), draft)
    question = _QUESTION.search(unlinked)
    if question is not None:
        found.append((question.start(), question[0].strip(), "asks a question"))
    price = money.MONEY.search(draft)
    if price is not None:
        found.append((price.start(), price[0].strip(), "gives a price"))
    for meeting in MEETING.finditer(unlinked):
        sentence_start = max(unlinked.rfind(stop, 0, meeting.start()) for stop in ".!?\n") + 1
        if not NEGATION.search(
            unlinked, max(sentence_start, meeting.start() - 40), meeting.start()
        ):
            found.append((meeting.start(), meeting[0], "proposes a meeting"))
            break
    if not found:
        return None
    _, evidence, action = min(found)
    return evidence, action
