"""Whether an inbound message asks to stop, and with which words. Pure.

"Stop by", "non-stop" and "stop worrying" are not opt-outs; quoted earlier messages and our own
"reply STOP to opt out" footers are text the lead did not write, so they are left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from replay.verdict import quoting

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
    r"|^\W*stop\W*$"
    # Spanish: "baja", "dame de baja", "no me escriban más", "dejen de escribirme"
    r"|^\W*baja\W*$|\b(?:darme|dame|denme|d[ée]me|solicito la|pido la) de baja\b"
    r"|\bno (?:me )?(?:vuelvan? a )?(?:escrib|contact|llam|molest)(?:an|as|a|en|es|e)\b"
    r"|\bdej(?:e|en|a) de (?:escribir|contactar|llamar|enviar|mandar|molestar)\w*"
    r"|\bno quiero (?:recibir )?m[áa]s (?:mensajes|correos|llamadas)\b"
    # German: "abmelden", "bitte keine Nachrichten mehr", "kontaktieren Sie mich nicht mehr"
    r"|\babmelden\b|\babbestellen\b|\baus (?:ihrem|dem) verteiler\b"
    r"|\bkeine (?:weiteren (?:nachrichten|e-?mails|mails|anrufe|sms)"
    r"|(?:nachrichten|e-?mails|mails|anrufe|sms|werbung) mehr)\b"
    r"|\b(?:kontaktieren|schreiben|anrufen) sie mich (?:bitte )?(?:nicht|nie) mehr\b"
    r"|\bh[öo]ren sie auf,? mir zu schreiben\b"
    # French: "désabonner", "ne plus me contacter", "arrêtez de m'écrire"
    r"|\bd[ée]sabonn|\bd[ée]sinscri|\bne plus me (?:contacter|[ée]crire|relancer|appeler)\b"
    r"|\bne me (?:contactez|[ée]crivez|relancez|appelez) plus\b"
    r"|\barr[êe]te[rz]? de m'(?:[ée]crire|envoyer|appeler|contacter)\b"
    r"|\bretirez[- ]moi\b",
    re.MULTILINE | re.IGNORECASE,
)
""""stop by", "non-stop" and "stop worrying" are not opt-outs; in Spanish, German and French
the common ways to unsubscribe or ask not to be written to again are."""


_NOT_ASKING = re.compile(
    quoting.QUOTED_PATTERN
    + r"|\b(?:reply|text|send|respond|responde|responda|envía|antworten sie|senden sie"
    r"|répondez|r[ée]pondre|envoyez)(?: with| con| mit| par)? \W?(?:stop|baja)\W?"
    r" (?:to|para|pour|um|zum)\b[^\n]*",
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


MEETING = re.compile(
    r"\b(?:calls?|meet(?:ing)?s?|(?:re)?schedul\w*|book(?:ing|ed)?|chat|demo|calendar"
    r"|appointment|walkthrough|time to talk|hop on|catch up|(?:come|drop|swing|stop) by"
    r"|llamada|videollamada|reuni[óo]n|reunirnos|agendar|cita"
    r"|termin\w*|gespr[äa]ch|telefonat|anruf|treffen|vereinbaren"
    r"|rendez-vous|appel|r[ée]union|visio|cr[ée]neau|[ée]change t[ée]l[ée]phonique)\b"
    r"|\b(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|tomorrow|today|tonight)\b[^.!?\n]{0,20}?"
    r"\b\d{1,2}(?::\d\d)?\s?(?:am|pm|a\.m\.|p\.m\.)",
    re.IGNORECASE,
)
"""A draft's meeting proposal, in English, Spanish, German or French: what a reply to an opt-out
must not make."""
NEGATION = re.compile(
    r"(?:\bno|\bnot|\bnever|n't|\bwont|\bwithout|\bany more"
    r"|\bnunca|\bsin|\bnicht|\bkein\w*|\bohne|\bne|\bn'|\bjamais|\bsans)\b",
    re.IGNORECASE,
)
"""Words before a meeting word that take the proposal back ("no more calls", "keine Anrufe")."""
