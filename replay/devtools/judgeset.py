"""The built-in labelled set of `replay judge-eval`: pairs whose better draft is known by making.

Cases come from the seeded fixture generator, drafts from the local drafting the model server
uses. A faithful draft against the same draft with one mistake of the model server's kinds
(`stub_model.inject_mistake`) is a pair with a known winner, in either seat: the mistake goes
into the new draft (label `original`) or, one pair in four, into the original (label `new`),
so a judge that always prefers the original cannot score well. A faithful draft against a
faithful rewording (the `variant` style, the same facts) is a `tie`. Items are plain data in
the labelled set's file format, so the built-in set is validated like a team's own.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson

from replay.devtools import generator
from replay.devtools.drafting import write_draft
from replay.devtools.mistakes import MISTAKES, inject_mistake

SEED = 7
"""The fixture seed of the built-in set: the same N gives the same items."""
CRITERION_OF: Mapping[str, str] = {
    "unsupported_price": "supported",
    "unsupported_link": "supported",
    "unresolved_placeholder": "policy",
    "channel_length": "fit",
}
"""The rubric criterion a mistake breaks, where one criterion plainly owns it."""
_LAYOUT = ("original", "original", "new", "tie")
"""Labels in the order items take them: half `original`, a quarter each `new` and `tie`."""
_CLIENTS = 3


def generated(count: int) -> dict[str, Any]:
    """`count` labelled items built from the fixtures, as a labelled set file holds them."""
    items = []
    made: Counter[str] = Counter()  # each kind of mistake gets its share of the pairs
    for number, case in enumerate(itertools.islice(_cases(count), count)):
        label = _LAYOUT[number % len(_LAYOUT)]
        item: dict[str, Any] = {"id": f"gen-{number + 1:04d}", "context": case["context"]}
        if label == "tie":
            item |= _reworded(case["messages"])
        else:
            pair = _mistaken(case["messages"], label, made, number)
            made[pair["kind"]] += 1
            item |= pair
        items.append(item)
    return {"name": f"generated-{count}", "items": items}


def _reworded(messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A faithful draft and its faithful rewording: the same facts, no fault either way."""
    return {
        "original": write_draft(messages),
        "new": write_draft(messages, style="variant"),
        "label": "tie",
        "kind": "rewording",
        "criteria": dict.fromkeys(("supported", "policy"), "tie"),
    }


def _mistaken(
    messages: Sequence[Mapping[str, Any]], label: str, made: Counter[str], number: int
) -> dict[str, Any]:
    """A faithful draft and the same draft with the least made mistake it has a place for.

    The mistake goes into the draft that `label` says is the worse one.
    """
    faithful = write_draft(messages)
    for kind in sorted(MISTAKES, key=lambda kind: (made[kind], MISTAKES.index(kind))):
        mistaken, kind_made = inject_mistake(messages, faithful, choice=number, kinds=(kind,))
        if kind_made == kind:
            break
    original, new = (faithful, mistaken) if label == "original" else (mistaken, faithful)
    criterion = CRITERION_OF.get(kind_made)
    criteria = {criterion: label} if criterion else {}
    pair = {"original": original, "new": new, "label": label, "kind": kind_made}
    return pair | {"criteria": criteria}


def _cases(count: int) -> Iterator[dict[str, Any]]:
    """Recorded chat requests with their judge context, the clients taking turns."""
    jobs = max(generator.MIN_JOBS_PER_CLIENT, -(-count * 3 // (2 * _CLIENTS)) + generator.TAIL_JOBS)
    dataset = generator.generate(clients=_CLIENTS, jobs_per_client=jobs, seed=SEED)
    tables = {
        table: [dict(zip(columns, row, strict=True)) for row in dataset.rows[table]]
        for table, columns in generator.TABLES
    }
    settings = {row["id"]: orjson.loads(row["settings"]) for row in tables["clients"]}
    leads = {row["id"]: row for row in tables["leads"]}
    messages = {row["id"]: row for row in tables["messages"]}
    by_lead: dict[str, list[dict[str, Any]]] = {}
    for row in tables["messages"]:
        by_lead.setdefault(row["lead_id"], []).append(row)
    per_client: dict[str, list[dict[str, Any]]] = {}
    for draft in tables["ai_drafts"]:
        request = orjson.loads(draft["request"]) if draft["request"] else None
        inbound = messages[draft["trigger_message_id"]]
        if not isinstance(request, dict) or "messages" not in request or inbound["body"] is None:
            continue  # a corrupt fixture row: no recorded chat request or no inbound
        lead = leads[draft["lead_id"]]
        thread = [
            {"direction": row["direction"], "body": row["body"] or ""}
            for row in by_lead[draft["lead_id"]]
            if row["sent_at"] < inbound["sent_at"]
        ][-generator.THREAD_LIMIT :]
        context = {
            "channel": draft["channel"],
            "inbound_subject": inbound["subject"],
            "inbound_body": inbound["body"],
            "thread": thread,
            "facts": {
                "client": settings[draft["client_id"]],
                "lead": {key: lead[key] for key in ("first_name", "last_name", "company")},
            },
        }
        case = {"messages": request["messages"], "context": context}
        per_client.setdefault(draft["client_id"], []).append(case)
    yield from _alternate(list(per_client.values()))


def _alternate(groups: Sequence[list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    """One item of each group in turn, until every group is spent."""
    for round_ in itertools.zip_longest(*groups):
        yield from (case for case in round_ if case is not None)
