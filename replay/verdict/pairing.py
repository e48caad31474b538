"""Compare two run artifacts case by case: what got better, what got worse, what cannot compare.

Cases pair by case id (repeat 0). Before comparing, the runs' selection, pipeline, model, request
source and config hash are checked, and every difference is said plainly; a different schema
version cannot be compared at all (`replay.artifacts.load` refuses it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from replay.artifacts.load import UnknownSchemaVersion, load_run
from replay.errors import UsageError
from replay.models import (
    BaselineReport,
    CaseChange,
    CaseResult,
    RunArtifact,
    Selection,
    Summary,
)

PASSING = {"unchanged", "changed", "improved"}
"""Verdicts of a case that produced an acceptable draft."""
KEPT_CHANGES = 50
"""Largest similarity moves kept in the report."""
AGGREGATED = (
    "cases",
    "similarity_mean",
    "sent_similarity_new_mean",
    "latency_ms_p50",
    "latency_ms_p95",
    "cost_usd",
    "retries",
)
"""Summary numbers set side by side in the report's aggregates."""


@dataclass(frozen=True)
class Unfinished:
    """A run whose artifact is not written yet, read back from its partial log.

    A run compares itself with `--baseline` before it finishes (the report goes into its own
    artifact), when its status and exit code are not known: so it is not a `RunArtifact`, only
    the parts of one that pairing reads.
    """

    run_id: str
    config: Mapping[str, Any]
    config_hash: str | None
    selection: Selection | None
    summary: Summary | None
    cases: Sequence[CaseResult]


Side: TypeAlias = RunArtifact | Unfinished
"""What pairing reads of one run: its artifact, or the run itself before the artifact is written."""


def latest(directory: Path, client_id: str, pipeline: str, exclude: Path | None) -> Path | None:
    """The newest complete live run of the same client and pipeline in `directory`.

    Files that are not run artifacts are passed over.

    Raises:
        UnknownSchemaVersion: a newer artifact of a schema version this replay cannot read;
            passing over it would compare with an older run without a word.
    """
    for path in sorted(directory.glob("run-*.json"), reverse=True):
        if exclude is not None and path.resolve() == exclude.resolve():
            continue
        try:
            run = load_run(path, role="--baseline latest:")
        except UnknownSchemaVersion:
            raise
        except UsageError:
            continue
        if (
            run.mode == "live"
            and run.status == "complete"
            and _section(run.config, "selection").get("client_id") == client_id
            and _section(run.config, "request").get("pipeline") == pipeline
        ):
            return path
    return None


def differences(old: Side, new: Side) -> list[str]:
    """What differs between two runs' set-ups, in words."""
    said: list[str] = []
    for section, keys in (
        ("selection", ("client_id", "channel", "from_time", "to_time", "status", "limit")),
        ("request", ("pipeline", "request_source", "model", "temperature", "system_prompt_file")),
    ):
        before, after = _section(old.config, section), _section(new.config, section)
        said.extend(
            f"{section}.{key}: {before.get(key)!r} → {after.get(key)!r}"
            for key in keys
            if before.get(key) != after.get(key)
        )
    if old.config_hash != new.config_hash and not said:
        said.append("config hash differs (selection or request settings)")
    old_ids = set(old.selection.case_ids if old.selection is not None else ())
    new_ids = set(new.selection.case_ids if new.selection is not None else ())
    if old_ids != new_ids:
        said.append(
            f"case selection differs: {len(old_ids & new_ids)} shared, "
            f"{len(old_ids - new_ids)} only in the baseline, "
            f"{len(new_ids - old_ids)} only in the new run"
        )
    return said


def compare(old: Side, new: Side, *, old_path: str, new_path: str) -> BaselineReport:
    """Pair cases by id and report status, similarity and invariant changes, and aggregates."""
    before = {c.case_id: c for c in old.cases if c.repeat == 0}
    after = {c.case_id: c for c in new.cases if c.repeat == 0}
    paired = [case_id for case_id in after if case_id in before]
    changes: list[CaseChange] = []
    moves: list[tuple[float, str, float, float]] = []
    for case_id in paired:
        a, b = before[case_id], after[case_id]
        change = _status_change(case_id, a.verdict, b.verdict)
        codes_before, codes_after = _invariant_codes(a), _invariant_codes(b)
        if change is not None or codes_before != codes_after:
            same = CaseChange(case_id=case_id, old=a.verdict, new=b.verdict, kind="same")
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
        baseline_run_id=old.run_id,
        run_id=new.run_id,
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
        aggregates=_aggregates(old.summary, new.summary),
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


def _invariant_codes(case: CaseResult) -> set[str]:
    found = case.invariants
    if found is None:
        return set()
    return {violation.code for violation in (*found.new, *found.pre_existing)}


def _similarity(case: CaseResult) -> float | None:
    return case.comparison.similarity if case.comparison is not None else None


def _section(config: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A section of a run's free-form `config` (a dict in the schema), or empty."""
    value = config.get(key)
    return value if isinstance(value, Mapping) else {}


def _aggregates(a: Summary | None, b: Summary | None) -> dict[str, dict[str, Any]]:
    """Summary numbers side by side, with deltas where both are numbers."""
    rows: dict[str, dict[str, Any]] = {}
    for key in AGGREGATED:
        x = getattr(a, key) if a is not None else None
        y = getattr(b, key) if b is not None else None
        delta = round(y - x, 4) if x is not None and y is not None else None
        rows[key] = {"baseline": x, "run": y, "delta": delta}
    by_a = a.by_verdict if a is not None else {}
    by_b = b.by_verdict if b is not None else {}
    for verdict in sorted(set(by_a) | set(by_b)):
        x, y = by_a.get(verdict, 0), by_b.get(verdict, 0)
        rows[f"verdict.{verdict}"] = {"baseline": x, "run": y, "delta": y - x}
    return rows
