"""`--shard i/n`: a deterministic part of a selection, and the fingerprint its parts share.

The selection is made exactly as without a shard (same last N, same filters, same order); the
shard is cut from the fixed plan, never in the source query, so every part of one selection
sees the same whole. A case belongs to the part its id's SHA-256 falls in: stable from run to
run, balanced, and independent of the other ids. The fingerprint (SHA-256 of the whole ordered
selection) lets `replay merge` recognise the parts of one selection.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields, replace
from typing import Any

import orjson

from replay.models import Shard
from replay.source import selection


@dataclass(frozen=True)
class Fixed(selection.Plan):
    """A plan with what its artifact records of the whole selection it may have been cut from."""

    fingerprint: str = ""
    """SHA-256 of the whole selection's ordered case ids."""
    shard: Shard | None = None
    whole: tuple[str, ...] = ()
    """With a shard: the whole selection, in order; empty otherwise (it is `case_ids`)."""


def fingerprint(case_ids: tuple[str, ...] | list[str]) -> str:
    """SHA-256 of the ordered case ids as a JSON array: an id may hold any character."""
    return hashlib.sha256(orjson.dumps(list(case_ids))).hexdigest()


def part_of(case_id: str, count: int) -> int:
    """The part (from 1) of `count` that a case belongs to, by its id alone."""
    return int(hashlib.sha256(case_id.encode()).hexdigest(), 16) % count + 1


def cut(plan: selection.Plan, shard: Shard | None) -> Fixed:
    """The plan of one part (the whole plan without a shard), with the whole's fingerprint."""
    whole = plan.case_ids
    kept = {field.name: getattr(plan, field.name) for field in fields(selection.Plan)}
    fixed = Fixed(**kept, fingerprint=fingerprint(whole))
    if shard is None:
        return fixed
    mine = tuple(case_id for case_id in whole if part_of(case_id, shard.count) == shard.index)
    return replace(fixed, case_ids=mine, shard=shard, whole=whole)


def header_part(plan: Fixed) -> dict[str, Any]:
    """What a partial log's header keeps of the plan beside its case ids, so a resume has it."""
    return {
        "not_found": list(plan.not_found),
        "more_available": plan.more_available,
        "filters": dict(plan.filters),
        "fingerprint": plan.fingerprint,
        "shard": plan.shard.model_dump() if plan.shard is not None else None,
        "sharded_from": list(plan.whole),
    }


def from_header(header: dict[str, Any]) -> Fixed:
    """The plan an earlier part fixed, from its partial log's (or artifact's) header."""
    fixed = header.get("selection") or {}
    case_ids = tuple(header["case_ids"])
    whole = tuple(fixed.get("sharded_from") or ())
    shard = fixed.get("shard")
    return Fixed(
        case_ids=case_ids,
        not_found=tuple(fixed.get("not_found", ())),
        more_available=bool(fixed.get("more_available", False)),
        filters=fixed.get("filters", {}),
        fingerprint=fixed.get("fingerprint") or fingerprint(whole or case_ids),
        shard=Shard.model_validate(shard) if shard else None,
        whole=whole,
    )
