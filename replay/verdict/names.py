"""The check of whom a draft greets: a first name its case never gave is another person's. Pure.

Only the greeting is read (`Hi Mark,`, `Hola Marco,`, `Dear Mark Smith,`): names elsewhere in a
draft are too often a colleague, a street or a product to judge without false alarms. The name
passes when it is the lead's first name or a common nickname of it, or when the lead, the inbound,
the thread or the client settings name it anywhere: a colleague the lead mentioned, the signer of
an earlier message. Keyed by the name, so an original that greets the same stranger makes it
pre-existing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

from replay.models import CaseInput, Severity, Violation

__all__ = ["CODES", "NICKNAMES", "SEVERITY", "wrong_name"]

CODES: tuple[str, ...] = ("wrong_name",)
"""The codes of this module, in the order `checks.check` reports them."""
SEVERITY: Mapping[str, Severity] = dict.fromkeys(CODES, "critical")
"""Critical: a lead greeted by another person's name knows at once the reply was not for them."""

NICKNAMES: tuple[tuple[str, ...], ...] = (
    ("robert", "bob", "rob", "bobby"), ("william", "will", "bill", "billy"),
    ("elizabeth", "liz", "beth", "betty", "eliza"),
    ("katherine", "catherine", "kate", "katie", "cathy"), ("michael", "mike"),
    ("jennifer", "jen", "jenny"), ("alexander", "alex"), ("christopher", "chris"),
    ("daniel", "dan", "danny"), ("margaret", "maggie", "peggy"), ("richard", "rick", "dick"),
    ("james", "jim", "jimmy", "jamie"), ("joseph", "joe"), ("thomas", "tom", "tommy"),
    ("anthony", "tony"), ("nicholas", "nick"), ("samuel", "sam"), ("benjamin", "ben"),
    ("jonathan", "jon"), ("matthew", "matt"), ("andrew", "andy", "drew"),
    ("steven", "stephen", "steve"), ("patricia", "pat", "patty", "trish"),
    ("susan", "sue", "susie"), ("rebecca", "becky"), ("victoria", "vicky", "tori"),
    ("francisco", "paco"), ("jose", "pepe"), ("johannes", "hans"), ("wolfgang", "wolf"),
)  # fmt: skip
"""First names and their common short forms, folded: any two names of one group are one person."""

_GREETING = re.compile(
    r"(?i)^[\s*_>#]*(?:hi|hello|hey|hiya|howdy|dear|greetings|(?:good\s+)?morning"
    r"|good\s+(?:afternoon|evening)|hola|buen[oa]s(?:\s+(?:d[ií]as|tardes|noches))?"
    r"|querid[oa]|estimad[oa]|hallo|moin|servus|liebe[rs]?|sehr\s+geehrte[rs]?"
    r"|guten\s+(?:tag|morgen|abend)|bonjour|bonsoir|salut|cher|ch[eè]re|ciao|buongiorno"
    r"|ol[aá]|oi|good\s+to\s+hear\s+from\s+you|nice\s+to\s+hear\s+from\s+you"
    r"|thanks\s+for\s+(?:reaching\s+out|your\s+message)|gracias\s+por\s+(?:su|tu)\s+mensaje"
    r"|danke\s+f[üu]r\s+ihre\s+nachricht|merci\s+pour\s+votre\s+message)"
    r"(?P<comma>[ \t]*,)?[ \t]+"
    r"(?P<name>(?:(?:mrs?|ms|mx|dr|prof|sra?|srta|mme|mlle|m|hr|fr|dra?|d)\.[ \t]*)?"
    r"[^,!.:;?\n\u2013\u2014]+?)"
    r"(?P<end>\s*(?:[,!.:;?\u2013\u2014]|-(?=\s|$)|$))"
)
"""A greeting word or phrase, then the name (after a title's stop) up to a comma, stop, dash or
line end: `Hi Mark,`, `Hola, Ana:`, `Good to hear from you, Mark.`"""
_MAX_AFTER_COMMA = 3
"""Words a name after `Hola,` may have: more is a sentence (`Hola, Gracias por todo el …`)."""
_NAME_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
_LETTERS = re.compile(r"[^\W\d_]+")
"""Runs of letters: `Jean-Luc`, `maria.lopez` and `O'Brien` are read as their parts."""
_GENERIC = frozenset({
    "there", "team", "all", "everyone", "everybody", "folks", "friends", "guys", "sir", "madam",
    "both", "you", "again", "todos", "todas", "equipo", "amigos", "zusammen", "alle", "tout",
    "tous", "toutes", "monde", "tutti", "customer", "client", "colleagues", "neighbor",
    "neighbour", "partner", "partners", "valued",
})  # fmt: skip
"""Words a greeting may address without naming anyone."""
_TITLES = frozenset({
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "herr", "frau", "señor", "senor", "señora",
    "senora", "sr", "sra", "srta", "monsieur", "madame", "mademoiselle", "mme", "mlle", "m",
    "hr", "fr", "d", "dña", "dra", "sig", "sigra",
})  # fmt: skip
"""Titles before a surname: the name compared is the word after them."""
_UNDECOMPOSED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i",
                               "æ": "ae", "œ": "oe", "þ": "th"})  # fmt: skip
"""Latin letters NFKD leaves whole, so `Łukasz` and `Lukasz` still fold alike."""
_SLOT_MARKS = "[]{}<>%"
"""A template slot (`Hi [Name],`) is `unresolved_placeholder`'s to report, not a name."""


def wrong_name(draft: str, case: CaseInput) -> Iterator[Violation]:
    """The greeting names someone who is neither the lead nor anyone the case mentions.

    Without the lead's first name there is nothing to compare with, and a greeting without a
    name ("Hi there,", "Hello all,") names no one: no evidence, no violation. Compared case and
    accent aside (NFKD, marks stripped), so `Jose` greets `José`; a name in another script
    (`Дмитрий`, `李`) is compared exactly, case aside. The lead's company and full names pass:
    every word of the lead, inbound, thread and settings is known.
    """
    lead_first = case.lead.get("first_name")
    if not isinstance(lead_first, str) or not _LETTERS.search(lead_first):
        return
    greeted = _greeted(draft)
    if greeted is None:
        return
    evidence, name = greeted
    parts = [_fold(part) for part in _LETTERS.findall(name)]
    lead_parts = {_fold(part) for part in _LETTERS.findall(lead_first)}
    if all(_aliases(part) & lead_parts for part in parts):
        return  # most drafts: the lead, by name or nickname, decided without reading the case
    known = _known(case)
    if all(_aliases(part) & known for part in parts):
        return
    detail = (
        f"greets {name}, who is not the lead ({lead_first.strip()}), "
        "nor named in the inbound, thread or settings"
    )
    yield Violation(
        code="wrong_name", severity=SEVERITY["wrong_name"], evidence=evidence,
        key=name.casefold(), detail=detail,
    )  # fmt: skip


def _greeted(draft: str) -> tuple[str, str] | None:
    """The greeting as written and the name it gives, if the draft's first line greets by name."""
    line = next((line for line in draft.splitlines() if line.strip()), "")
    match = _GREETING.match(line)
    if match is None or any(mark in match["name"] for mark in _SLOT_MARKS):
        return None
    words = _NAME_WORD.findall(match["name"])
    if match["comma"] and len(words) > _MAX_AFTER_COMMA:
        return None
    while words and _fold(words[0].rstrip(".")) in _TITLES and len(words) > 1:
        words = words[1:]
    if not words or words[0][0].islower() or _fold(words[0]) in _GENERIC:
        return None  # "Hi there", "hello and welcome", "Dear Sir or Madam"
    return line[: match.end("end")].strip(), words[0].rstrip(".'’")


def _fold(word: str) -> str:
    """Case and accents aside for Latin script; case aside only for any other."""
    folded = word.casefold()
    stripped = "".join(
        c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c)
    ).translate(_UNDECOMPOSED)
    return stripped if stripped.isascii() else folded


_GROUPS: Mapping[str, frozenset[str]] = {
    name: frozenset(group) for group in NICKNAMES for name in group
}


def _aliases(part: str) -> frozenset[str]:
    """A folded name and every name of its nickname group: Bob is Robert, Robert is Bob."""
    return _GROUPS.get(part, frozenset()) | {part}


def _known(case: CaseInput) -> set[str]:
    """Every folded word of the lead, the inbound, the thread and the client settings."""
    texts = [*_strings(case.lead), *_strings(case.client_settings)]
    texts += [case.inbound.subject or "", case.inbound.body]
    for message in case.thread:
        texts += [message.subject or "", message.body or ""]
    return {_fold(word) for word in _LETTERS.findall("\n".join(texts))}


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys aside."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
