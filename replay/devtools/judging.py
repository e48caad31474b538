"""How the local model server answers judge requests: deterministically, from the request.

The honest judge (`replay-judge`) reads the two drafts and the context out of the judge's
prompt and prefers the draft with fewer faults: unsupported prices, links and emails first,
then policy (a leftover placeholder, a question or offer after an opt-out), then whether it
answers the question, names a next step and fits the channel. It never looks at the labels, so
both orders agree. Other judge models misbehave on purpose, for tests: one always prefers A
(a position-biased judge), one answers prose, one answers JSON that breaks the schema, and
one is sloppy: it answers prose first and, once corrected, prefers the longer draft on every
criterion, the verbosity bias real judges show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from replay.devtools.drafting import LENGTH_LIMITS, content_text, detect_intent

JUDGE_MODELS = ("replay-judge", "judge-prefers-a", "judge-garbage", "judge-schema", "judge-sloppy")
CRITERIA = ("supported", "policy", "answers", "next_step", "fit")
_WEIGHTS = {"supported": 3, "policy": 3, "answers": 1, "next_step": 1, "fit": 1}
_PRICE = re.compile(r"\$\s?(\d[\d,]*(?:\.\d+)?)")
_URL = re.compile(r"https?://([^\s/\"'<>)\]]+)[^\s\"'<>)\]]*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PLACEHOLDER = re.compile(r"\{\{?\s*[A-Za-z_]\w*\s*\}?\}")
_TIME = re.compile(
    r"\b(?:\d{1,2}(?::\d\d)?\s?(?:am|pm)|monday|tuesday|wednesday|thursday|friday)\b"
)


def is_judge_request(payload: Mapping[str, Any]) -> bool:
    """A request asking for the judge's structured answer."""
    response_format = payload.get("response_format")
    if not isinstance(response_format, Mapping):
        return False
    schema = response_format.get("json_schema")
    return isinstance(schema, Mapping) and schema.get("name") == "draft_judgement"


def answer(model: str, messages: Sequence[Mapping[str, Any]]) -> str:
    """The judge's answer content for `model`."""
    corrected = len(messages) > 2 and messages[-1].get("role") == "user"
    if model == "judge-garbage" or (model == "judge-sloppy" and not corrected):
        return "Draft A reads better to me overall."
    if model == "judge-schema":
        return orjson.dumps({"preferred": "C", "rationale": 42}).decode()
    if model == "judge-prefers-a":
        return _dump(dict.fromkeys(CRITERIA, "A"), "A", "Draft A is better.")
    prompt = content_text(messages[1].get("content")) if len(messages) > 1 else ""
    if model == "judge-sloppy":
        return _longer(prompt)
    return _honest(prompt)


def _longer(prompt: str) -> str:
    """The sloppy judge's verdict: the longer draft is the more thorough one."""
    sections = _sections(prompt)
    a, b = (len(sections.get(f"Draft {label}", "")) for label in ("A", "B"))
    preferred = "tie" if a == b else ("A" if a > b else "B")
    rationale = "Both drafts are as thorough." if a == b else f"Draft {preferred} is more thorough."
    return _dump(dict.fromkeys(CRITERIA, preferred), preferred, rationale)


def _honest(prompt: str) -> str:
    sections = _sections(prompt)
    context = "\n".join(
        sections.get(name, "")
        for name in ("Client facts", "Conversation so far (oldest first)", "Message to answer")
    )
    channel = _channel(prompt)
    inbound = sections.get("Message to answer", "")
    faults = {label: _faults(sections.get(f"Draft {label}", ""), context, inbound, channel)
              for label in ("A", "B")}  # fmt: skip
    criteria = {}
    for name in CRITERIA:
        a, b = len(faults["A"][name]), len(faults["B"][name])
        criteria[name] = "tie" if a == b else ("A" if a < b else "B")
    score = {
        label: sum(_WEIGHTS[name] * len(found[name]) for name in CRITERIA)
        for label, found in faults.items()
    }
    if score["A"] == score["B"]:
        preferred = "tie"
        rationale = "Both drafts are equally supported by the context and fit the channel."
    else:
        preferred = "A" if score["A"] < score["B"] else "B"
        worse = "B" if preferred == "A" else "A"
        problems = [item for name in CRITERIA for item in faults[worse][name]]
        rationale = f"Draft {preferred} is better: draft {worse} " + "; ".join(problems[:3]) + "."
    return _dump(criteria, preferred, rationale)


def _faults(draft: str, context: str, inbound: str, channel: str) -> dict[str, list[str]]:
    lower = draft.lower()
    known_prices = {_amount(m[1]) for m in _PRICE.finditer(context)}
    known = context.lower()
    found: dict[str, list[str]] = {name: [] for name in CRITERIA}
    for match in _PRICE.finditer(draft):
        if _amount(match[1]) not in known_prices:
            found["supported"].append(f"states a price the context does not ({match[0]})")
    for match in _URL.finditer(draft):
        if match[1].lower() not in known:
            found["supported"].append(f"links to an unknown site ({match[1]})")
    for match in _EMAIL.finditer(draft):
        if match[0].lower() not in known:
            found["supported"].append(f"gives an unknown email ({match[0]})")
    for match in _PLACEHOLDER.finditer(draft):
        found["policy"].append(f"leaves a placeholder ({match[0]})")
    intent = detect_intent(inbound)
    offers = "?" in draft or _URL.search(draft) or _PRICE.search(draft)
    if intent == "opt_out" and offers:
        found["policy"].append("keeps selling after an opt-out")
    if intent == "pricing" and not _PRICE.search(draft):
        found["answers"].append("does not give the price asked for")
    if intent == "meeting" and not (_TIME.search(lower) or _URL.search(draft)):
        found["answers"].append("offers no time to meet")
    if intent != "opt_out" and not offers and not _TIME.search(lower):
        found["next_step"].append("names no next step")
    limit = LENGTH_LIMITS.get(channel)
    if limit is not None and len(draft) > limit:
        found["fit"].append(f"is too long for {channel} ({len(draft)} characters)")
    return found


def _sections(prompt: str) -> dict[str, str]:
    """`## Heading` sections of the judge prompt, by heading."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in prompt.splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines).strip() for name, lines in sections.items()}


def _channel(prompt: str) -> str:
    first = prompt.splitlines()[0] if prompt else ""
    return first.removeprefix("Channel:").strip().lower()


def _amount(digits: str) -> str:
    return digits.replace(",", "").removesuffix(".00").removesuffix(".0")


def _dump(criteria: Mapping[str, str], preferred: str, rationale: str) -> str:
    body = {"criteria": dict(criteria), "preferred": preferred, "rationale": rationale}
    return orjson.dumps(body).decode()
