"""What a message quotes rather than says: earlier messages under a reply header. Pure.

One reading for every check that looks at what the lead wrote (the language of the inbound,
its questions, an opt-out): a `>` line, a reply header (`On Mon, Dana wrote:`, `El lun., Ana
<a@b> escribió:`, `Am Mo. schrieb Ana <a@b>:`) or an "original message" divider and everything
after it.
"""

from __future__ import annotations

import re

__all__ = ["QUOTED", "QUOTED_PATTERN"]

QUOTED_PATTERN = (
    r"^[ \t]*>.*$"
    r"|^[ \t]*(?:on|el|am|le|il|em|op)\b[^\n]{0,200}(?:wrote|escribió|schrieb|a écrit"
    r"|ha scritto|escreveu|schreef)[^\n]{0,100}:[\s\S]*"
    r"|^[ \t]*-{2,}[ \t]*(?:original message|mensaje original|ursprüngliche nachricht"
    r"|message d'origine)[\s\S]*"
)
"""The pattern's text, for a check that adds its own alternatives; compile it with
`re.IGNORECASE | re.MULTILINE`."""
QUOTED = re.compile(QUOTED_PATTERN, re.IGNORECASE | re.MULTILINE)
