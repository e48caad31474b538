"""Faithful drafts of generated cases in every fixture language: drafts no check should flag.

Each case is read from generated rows as replay's case view reads it (the newest 20 messages
before the inbound, the lead, the client's settings), and its draft is written from the prompt
production would send for it: what a faithful model writes, stating only what the case states.
Tests and benchmarks draw thousands of them to show the checks stay quiet on honest drafts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import orjson

from replay.devtools.drafting import Style, detect_intent, production_request, write_draft
from replay.devtools.generator import MIN_JOBS_PER_CLIENT, TABLES, THREAD_LIMIT, Dataset, generate
from replay.devtools.languages import LANGUAGES
from replay.models import CaseInput, InboundMessage, ThreadMessage

_LEAD_KEYS = ("first_name", "last_name", "email", "phone", "company", "timezone", "sentiment")
"""What the case view states about a lead."""


class Faithful(NamedTuple):
    """One case, the prompt production sends for it, and the draft a faithful model writes."""

    case: CaseInput
    messages: list[dict[str, str]]
    draft: str
    language: str
    intent: str
    """What the inbound asks, as the draft writer reads it."""


def faithful_drafts(
    *,
    languages: Sequence[str] = LANGUAGES,
    per_language: int = 500,
    seed: int = 7,
    style: Style = "original",
) -> Iterator[Faithful]:
    """`per_language` faithful drafts of succeeded jobs in each language, from `seed`'s fixtures.

    Each language's cases come from four clients of that language, so every business of it is
    drawn on; the same arguments give the same drafts.
    """
    for language in languages:
        clients = 4
        # About 85% of jobs succeed with a readable inbound.
        jobs = max(MIN_JOBS_PER_CLIENT, -(-per_language * 6 // 5 // clients))
        dataset = generate(clients=clients, jobs_per_client=jobs, seed=seed, languages=(language,))
        yield from itertools.islice(cases(dataset, style=style), per_language)


def cases(dataset: Dataset, *, style: Style = "original") -> Iterator[Faithful]:
    """Every succeeded job of `dataset` with an inbound body, with its prompt and faithful draft."""
    rows = {t: [dict(zip(cols, r, strict=True)) for r in dataset.rows[t]] for t, cols in TABLES}
    settings = {c["id"]: orjson.loads(c["settings"]) for c in rows["clients"]}
    leads = {lead["id"]: lead for lead in rows["leads"]}
    by_lead: dict[str, list[dict[str, Any]]] = {}
    for message in sorted(rows["messages"], key=lambda m: m["sent_at"]):
        by_lead.setdefault(message["lead_id"], []).append(message)
    position = {m["id"]: (n, m) for thread in by_lead.values() for n, m in enumerate(thread)}
    for job in rows["draft_jobs"]:
        at, inbound = position[job["trigger_message_id"]]
        if job["status"] != "succeeded" or inbound["body"] is None:
            continue
        earlier = by_lead[job["lead_id"]][:at]
        before = [m for m in earlier if m["sent_at"] < inbound["sent_at"]][-THREAD_LIMIT:]
        lead = leads[job["lead_id"]]
        client_settings = settings[job["client_id"]]
        case = CaseInput(
            case_id=job["id"], client_id=job["client_id"], lead_id=job["lead_id"],
            channel=inbound["channel"], job_created_at=job["enqueued_at"],
            inbound=InboundMessage(id=inbound["id"], subject=inbound["subject"],
                                   body=inbound["body"], sent_at=inbound["sent_at"]),
            thread=[ThreadMessage(message_id=m["id"], direction=m["direction"],
                                  channel=m["channel"], subject=m["subject"], body=m["body"],
                                  sent_at=m["sent_at"]) for m in before],
            lead={key: lead[key] for key in _LEAD_KEYS},
            client_settings=client_settings,
        )  # fmt: skip
        request = production_request(
            client_settings=client_settings, lead=case.lead, channel=case.channel,
            thread=[m.model_dump() for m in case.thread], inbound_subject=case.inbound.subject,
            inbound_body=case.inbound.body, model="m", temperature=0.0, max_tokens=400,
        )  # fmt: skip
        messages = request["messages"]
        language = str(client_settings.get("language") or "en")
        yield Faithful(
            case=case,
            messages=messages,
            draft=write_draft(messages, style=style),
            language=language,
            intent=detect_intent(case.inbound.body, language),
        )
