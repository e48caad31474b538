"""`--resume`: pick up an interrupted or killed run where it stopped.

The header of the partial log (or the interrupted artifact) fixes the run: its id, its ordered
case ids and what it was started with. A resume replays exactly the cases of that list without a
result (never a new "last N"), keeps every finished case, and refuses to mix runs made with other
selection or pipeline flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from replay.artifacts.load import load_run
from replay.artifacts.store import BATCH_LINE
from replay.errors import UsageError
from replay.models import BatchRef, CaseResult, RunPart

_EXPECTED = "expected a run-….partial.jsonl or an interrupted or blocked run-….json"
RESUMABLE = ("interrupted", "blocked")
"""What a run that stopped with paid work left: interrupted by a signal, or blocked (its database
or model went away mid-run). A crash leaves its partial log, resumable as well."""


@dataclass(frozen=True)
class Resumed:
    """What an earlier part left behind."""

    run_id: str
    created_at: datetime
    header: dict[str, Any]
    kept: list[bytes]
    """Result lines to keep, as written."""
    results: list[CaseResult]
    """The same results, parsed (for the running totals)."""
    remaining: list[str]
    """Case ids of the header, in order, that still need a result (for some repeat)."""
    done: frozenset[tuple[str, int]]
    """(case id, repeat) pairs that have a result to keep."""
    duplicates_dropped: int
    """Lines repeating a (case id, repeat) already kept: the first is kept."""
    foreign_dropped: int
    """Lines of cases outside the run's selection."""
    spent_usd: float
    """What the kept results cost: `--max-cost` binds the total over every part."""
    parts: list[RunPart]
    partial: Path
    """The partial log this resume continues."""
    target: Path
    """The final artifact of the run."""
    replace_partial: bool
    """The partial exists and is rewritten (torn line and retried errors dropped)."""
    batches: list[BatchRef]
    """The run's Batch API submissions (`--via batch`), the latest record of each."""
    batch_lines: list[bytes]
    """Those records as partial log lines, kept when the partial is rewritten."""


def require(path: Path) -> None:
    """Refuse a `--resume` path that is not a run's partial log or interrupted artifact.

    Checked before anything else of the run (a usage error outranks the rest) and before the
    run's lock is taken; `load` reads it again under the lock, to use it.
    """
    flag = f"--resume {str(path)!r}"
    if not path.is_file():
        raise UsageError(f"{flag} does not exist; {_EXPECTED}")
    if path.name.endswith(".partial.jsonl"):
        with path.open("rb") as handle:
            _header(handle.readline(), flag)  # the lines are read once, under the lock
    else:
        _read_artifact(path, flag)


def target_of(path: Path) -> Path:
    """The final artifact of the run that `path` (its partial log or its artifact) belongs to."""
    if path.name.endswith(".partial.jsonl"):
        return path.with_name(path.name.removesuffix(".partial.jsonl") + ".json")
    return path


def load(path: Path, *, identity: dict[str, Any], retry_errors: bool) -> Resumed:
    """Read a partial log or an interrupted artifact and decide what is left to run.

    Raises:
        UsageError: the path is missing or not a run, the run is complete, or it was started
            with other selection or pipeline flags.
    """
    flag = f"--resume {str(path)!r}"
    if not path.is_file():
        raise UsageError(f"{flag} does not exist; {_EXPECTED}")
    if path.name.endswith(".partial.jsonl"):
        header, lines = _read_partial(path, flag)
        target = target_of(path)
        partial, replace = path, True
    else:
        header, lines = _read_artifact(path, flag)
        target = path
        partial = path.with_name(path.stem + ".partial.jsonl")
        replace = partial.exists()
    differing = differences(header.get("identity", {}), identity)
    if differing:
        raise UsageError(
            f"{flag} was started with other selection or pipeline flags ({', '.join(differing)} "
            "differ); rerun the original command with --resume"
        )
    batches = _batches(header, lines)
    lines = [line for line in lines if not line.startswith(BATCH_LINE)]
    kept: list[bytes] = []
    results: list[CaseResult] = []
    done: set[tuple[str, int]] = set()
    selected = set(header["case_ids"])
    duplicates = foreign = 0
    for line in lines:
        try:
            result = CaseResult.model_validate_json(line)
        except ValidationError:
            raise UsageError(
                f"{flag} holds a case line that is not a case result; {_EXPECTED}"
            ) from None
        if result.case_id not in selected:
            foreign += 1
            continue
        if (result.case_id, result.repeat) in done:
            duplicates += 1
            continue
        if retry_errors and result.verdict == "error":
            continue
        kept.append(line)
        results.append(result)
        done.add((result.case_id, result.repeat))
    repeats = int(header.get("identity", {}).get("repeats") or 1)
    # An invalid row or a case without a recording gets one result, whatever the repeats.
    once = {
        result.case_id
        for result in results
        if result.verdict == "invalid_case" or result.skipped_reason == "no_recorded_request"
    }
    remaining = [
        case_id
        for case_id in header["case_ids"]
        if case_id not in once and any((case_id, r) not in done for r in range(repeats))
    ]
    parts = [RunPart.model_validate(part) for part in header.get("parts", [])]
    unrecorded = results[sum(part.cases for part in parts) :]
    if unrecorded:
        # A part that was killed never wrote its own entry: its results are the log's last lines.
        began = min((r.started_at for r in unrecorded if r.started_at), default=None)
        finished = max((r.finished_at for r in unrecorded if r.finished_at), default=None)
        start = began or (parts[-1].finished_at if parts else None) or header["created_at"]
        parts.append(RunPart(started_at=start, finished_at=finished, cases=len(unrecorded)))
    return Resumed(
        run_id=header["run_id"],
        created_at=datetime.fromisoformat(header["created_at"]),
        header=header,
        kept=kept,
        results=results,
        remaining=remaining,
        done=frozenset(done),
        duplicates_dropped=duplicates,
        foreign_dropped=foreign,
        spent_usd=sum(result.cost_usd or 0.0 for result in results),
        parts=parts,
        partial=partial,
        target=target,
        replace_partial=replace,
        batches=batches,
        batch_lines=[BATCH_LINE + ref.model_dump_json().encode() + b"}" for ref in batches],
    )


def _batches(header: dict[str, Any], lines: list[bytes]) -> list[BatchRef]:
    """The latest record of each Batch API submission: earlier parts', then the log's lines."""
    latest: dict[str, BatchRef] = {}
    try:
        for part in header.get("parts", []):
            for ref in RunPart.model_validate(part).batches:
                latest[ref.input_file_id] = ref
        for line in lines:
            if line.startswith(BATCH_LINE):
                ref = BatchRef.model_validate_json(line[len(BATCH_LINE) : -1])
                latest[ref.input_file_id] = ref
    except ValidationError:
        raise UsageError(
            "--resume holds a batch record that is not one; expected the run's own partial log"
        ) from None
    return list(latest.values())


def batches_of(path: Path, flag: str) -> list[BatchRef]:
    """The Batch API submissions of a run, from its partial log or its artifact (any status).

    Raises:
        UsageError: the path is not a run's partial log or artifact.
    """
    if not path.is_file():
        raise UsageError(f"{flag} does not exist; expected a run-….partial.jsonl or a run-….json")
    if path.name.endswith(".partial.jsonl"):
        header, lines = _read_partial(path, flag)
    else:
        artifact = load_run(path, role=flag)
        header = {"parts": [part.model_dump(mode="json") for part in artifact.parts]}
        lines = []
    return _batches(header, lines)


def _read_partial(path: Path, flag: str) -> tuple[dict[str, Any], list[bytes]]:
    with path.open("rb") as handle:
        header = _header(handle.readline(), flag)
        lines = [line.rstrip(b"\n") for line in handle if line.endswith(b"\n")]  # torn: dropped
    return header, lines


def _header(first: bytes, flag: str) -> dict[str, Any]:
    """The run header a partial log starts with."""
    try:
        header = orjson.loads(first)["header"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise UsageError(f"{flag} has no run header; {_EXPECTED}") from None
    if not isinstance(header, dict) or "case_ids" not in header or "run_id" not in header:
        raise UsageError(f"{flag} has no run header; {_EXPECTED}")
    return header


def _read_artifact(path: Path, flag: str) -> tuple[dict[str, Any], list[bytes]]:
    """The header and case lines of an interrupted artifact, read like any other artifact."""
    artifact = load_run(path, role="--resume")
    if artifact.status not in RESUMABLE:
        raise UsageError(
            f"{flag} is a {artifact.status} run; only an interrupted or blocked run can be resumed"
        )
    selection = artifact.selection.model_dump(mode="json") if artifact.selection else {}
    header = {
        "run_id": artifact.run_id,
        "created_at": artifact.created_at.isoformat(),
        "mode": artifact.mode,
        "identity": artifact.identity,
        "selection": selection,
        "case_ids": selection.get("case_ids", []),
        "parts": [part.model_dump(mode="json") for part in artifact.parts],
    }
    lines = [case.model_dump_json().encode() for case in artifact.cases]
    return header, lines


def differences(before: dict[str, Any], now: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted names of the fields whose values differ."""
    names: list[str] = []
    for key in sorted(set(before) | set(now)):
        a, b = before.get(key), now.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            names.extend(differences(a, b, f"{prefix}{key}."))
        elif a != b:
            names.append(f"{prefix}{key}")
    return names
