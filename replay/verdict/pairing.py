"""Compare two run artifacts case by case: what got better, what got worse, what cannot compare.

Cases pair by case id (repeat 0). Before comparing, the runs' selection, pipeline, model, request
source and config hash are checked, and every difference is said plainly; a different schema
version cannot be compared at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from replay.errors import UsageError
from replay.models import SCHEMA_VERSION, BaselineReport, CaseChange

PASSING = {"unchanged", "changed", "improved"}
"""Verdicts of a case that produced an acceptable draft."""
KEPT_CHANGES = 50
"""Largest similarity moves kept in the report."""


def load(path: Path, flag: str) -> dict[str, Any]:
    """Read a run artifact for comparison.

    Raises:
        UsageError: missing, not JSON, not a run, or of another schema version.
    """
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"{flag} {str(path)!r} cannot be read ({exc.strerror})") from None
    except orjson.JSONDecodeError:
        raise UsageError(f"{flag} {str(path)!r} is not JSON; expected a run artifact") from None
    if not isinstance(data, dict) or data.get("kind") != "run":
        raise UsageError(f"{flag} {str(path)!r} is not a run artifact")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise UsageError(
            f"{flag} {str(path)!r} has schema version {version!r}; this replay reads "
            f"version {SCHEMA_VERSION}"
        )
    return data


def latest(directory: Path, client_id: str, pipeline: str, exclude: Path | None) -> Path | None:
    """The newest complete live run of the same client and pipeline in `directory`."""
    for path in sorted(directory.glob("run-*.json"), reverse=True):
        if exclude is not None and path.resolve() == exclude.resolve():
            continue
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        config = data.get("config") or {}
        if (
            data.get("mode") == "live"
            and data.get("status") == "complete"
            and (config.get("selection") or {}).get("client_id") == client_id
            and (config.get("request") or {}).get("pipeline") == pipeline
        ):
            return path
    return None


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two runs' set-ups, in words."""
    said: list[str] = []
    old_config, new_config = old.get("config") or {}, new.get("config") or {}
    for section, keys in (
        ("selection", ("client_id", "channel", "from_time", "to_time", "status", "limit")),
        ("request", ("pipeline", "request_source", "model", "temperature", "system_prompt_file")),
    ):
        before, after = old_config.get(section) or {}, new_config.get(section) or {}
        said.extend(
            f"{section}.{key}: {before.get(key)!r} → {after.get(key)!r}"
            for key in keys
            if before.get(key) != after.get(key)
        )
    if old.get("config_hash") != new.get("config_hash") and not said:
        said.append("config hash differs (selection or request settings)")
    old_ids = set((old.get("selection") or {}).get("case_ids", []))
    new_ids = set((new.get("selection") or {}).get("case_ids", []))
    if old_ids != new_ids:
        said.append(
            f"case selection differs: {len(old_ids & new_ids)} shared, "
            f"{len(old_ids - new_ids)} only in the baseline, "
            f"{len(new_ids - old_ids)} only in the new run"
        )
    return said


def compare(
    old: dict[str, Any], new: dict[str, Any], *, old_path: str, new_path: str
) -> BaselineReport:
    """Pair cases by id and report status, similarity and invariant changes, and aggregates."""
    before = {c["case_id"]: c for c in old.get("cases", []) if c.get("repeat", 0) == 0}
    after = {c["case_id"]: c for c in new.get("cases", []) if c.get("repeat", 0) == 0}
    paired = [case_id for case_id in after if case_id in before]
    changes: list[CaseChange] = []
    moves: list[tuple[float, str, float, float]] = []
    for case_id in paired:
        a, b = before[case_id], after[case_id]
        change = _status_change(case_id, a["verdict"], b["verdict"])
        codes_before, codes_after = _invariant_codes(a), _invariant_codes(b)
        if change is not None or codes_before != codes_after:
            same = CaseChange(case_id=case_id, old=a["verdict"], new=b["verdict"], kind="same")
            changes.append(
                (change or same).model_copy(
                    update={
                        "new_checks": sorted(codes_after - codes_before),
                        "gone_checks": sorted(codes_before - codes_after),
                    }
                )
            )
        old_sim, new_sim = _similarity(a), _similarity(b)
        if old_sim is not None and new_sim is not None and old_sim != new_sim:
            moves.append((abs(new_sim - old_sim), case_id, old_sim, new_sim))
    moves.sort(reverse=True)
    return BaselineReport(
        baseline=old_path,
        run=new_path,
        baseline_run_id=old.get("run_id"),
        run_id=new.get("run_id"),
        comparable=not differences(old, new),
        differences=differences(old, new),
        paired=len(paired),
        only_in_baseline=sorted(set(before) - set(after)),
        only_in_run=sorted(set(after) - set(before)),
        changes=changes,
        similarity_moves=[
            {"case_id": case_id, "baseline": a, "run": b, "delta": round(b - a, 4)}
            for _, case_id, a, b in moves[:KEPT_CHANGES]
        ],
        aggregates=_aggregates(old, new),
    )


def _status_change(case_id: str, old: str, new: str) -> CaseChange | None:
    if old == new:
        return None
    if new == "regressed":
        kind = "regression"
    elif new == "error" and old in PASSING:
        kind = "infra"  # it passed before and now errors: never "unchanged"
    elif old in ("regressed", "error") and new in PASSING:
        kind = "recovered"
    else:
        kind = "moved"
    return CaseChange(case_id=case_id, old=old, new=new, kind=kind)


def _invariant_codes(case: dict[str, Any]) -> set[str]:
    found = case.get("invariants") or {}
    return {v["code"] for kind in ("new", "pre_existing") for v in found.get(kind, [])}


def _similarity(case: dict[str, Any]) -> float | None:
    comparison = case.get("comparison") or {}
    value = comparison.get("similarity")
    return float(value) if isinstance(value, int | float) else None


def _aggregates(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Summary numbers side by side, with deltas where both are numbers."""
    a, b = old.get("summary") or {}, new.get("summary") or {}
    keys = (
        "cases",
        "similarity_mean",
        "sent_similarity_new_mean",
        "latency_ms_p50",
        "latency_ms_p95",
        "cost_usd",
        "retries",
    )
    rows: dict[str, dict[str, Any]] = {}
    for key in keys:
        x, y = a.get(key), b.get(key)
        delta = (
            round(y - x, 4) if isinstance(x, int | float) and isinstance(y, int | float) else None
        )
        rows[key] = {"baseline": x, "run": y, "delta": delta}
    for verdict in sorted(set(a.get("by_verdict", {})) | set(b.get("by_verdict", {}))):
        x, y = a.get("by_verdict", {}).get(verdict, 0), b.get("by_verdict", {}).get(verdict, 0)
        rows[f"verdict.{verdict}"] = {"baseline": x, "run": y, "delta": y - x}
    return rows
