"""Whether an inbound message asks to stop, and with which words. Pure.

"Stop by", "non-stop" and "stop worrying" are not opt-outs; quoted earlier messages and our own
"reply STOP to opt out" footers are text the lead did not write, so they are left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_OPT_OUT = re.compile(
    r"\bunsubscrib|\bopt(?:ing)?[ -]?out\b|\btake me off\b|\bleave me alone\b|\blose my number\b"
    r"|\bremove (?:me|my (?:number|e-?mail|details|info|address|name))\b"
    r"|\bstop (?:texting|e-?mailing|messaging|contacting|calling|sending|reaching out|writing"
    r"|spamming|bugging|following up)\b"
    r"|\b(?:do not|don'?t|dont|never) (?:ever )?(?:contact|text|e-?mail|message|call|write to"
    r"|reach out to)(?: ?(?:or|and|/) ?(?:contact|text|e-?mail|message|call))? (?:me|us)\b"
    r"|\b(?:please|pls|plz|just|kindly) stop\b(?! (?:by|in|over|at)\b)|\bstop,? (?:please|now)\b"
    r"|\bnot interested\b[^\n]{0,40}?\bstop\b(?! (?:by|in|over|at)\b)"
    r"|\bno (?:more|further) (?:texts|messages|e-?mails|calls|contact)\b"
    r"|^\W*stop\W*$",
    re.MULTILINE | re.IGNORECASE,
)
""""stop by", "non-stop" and "stop worrying" are not opt-outs."""


_NOT_ASKING = re.compile(
    r"^>.*$|^on [^\n]{0,200} wrote:[\s\S]*|^-{2,} ?original message[\s\S]*"
    r"|\b(?:reply|text|send|respond)(?: with)? \W?stop\W? to\b[^\n]*",
    re.MULTILINE | re.IGNORECASE,
)
"""Quoted messages and our own "reply STOP to opt out" footers: text the lead did not ask."""


def is_opt_out(text: str, extra_phrases: Sequence[str] = ()) -> bool:
    """Whether `text` asks the sender to stop writing."""
    return opt_out_phrase(text, extra_phrases) is not None


def opt_out_phrase(text: str, extra: Sequence[str]) -> str | None:
    """The words of `text` that ask to stop, if any, as the lead wrote them.

    Matched without regard to case on a copy of `text` as long as it, with what the lead did not
    write blanked out, so a match is shown as written: `STOP`, not `stop`.
    """
    asked = _NOT_ASKING.sub(_blank, text.replace("\u2019", "'"))
    match = _OPT_OUT.search(asked) or next(
        (found for phrase in extra if (found := _said(phrase, asked))), None
    )
    return None if match is None else text[match.start() : match.end()].strip()


def _said(phrase: str, text: str) -> re.Match[str] | None:
    """Where `text` says `phrase` (its words one space apart) as whole words, in any case."""
    wanted = " ".join(phrase.replace("\u2019", "'").split())
    if not wanted:
        return None
    return re.search(rf"(?<!\w){re.escape(wanted)}(?!\w)", text, re.IGNORECASE)


def _blank(match: re.Match[str]) -> str:
    """Spaces in place of a match, its line breaks kept: the text keeps its length and lines."""
    return re.sub(r"[^\n]", " ", match[0])
