"""An append-only index of the runs in an artifact directory (`report.trend` draws its page).

`history.jsonl` holds one JSON line per finished run, so listing runs or drawing a trend never
opens every artifact. The artifacts stay the source of truth: the index is a cache that is
rebuilt from the ``run-*.json`` files whenever it is missing or a line of it cannot be trusted.

Every run artifact is indexed, dry runs and blocked runs too, each with its `mode` and `status`:
the index answers "what ran here", and a trend filters to live runs because only they measure
drafts. Nothing here prints; the rows are plain dicts for the CLI to show.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from replay.artifacts.load import UnknownSchemaVersion, load_run
from replay.artifacts.store import atomic, dumps
from replay.errors import UsageError
from replay.models import RunArtifact, Summary

INDEX = "history.jsonl"
KEYS = tuple(
    "time finished_at run_id client_id pipeline model mode status exit_code cases by_verdict"
    " error_rate regressed similarity_to_sent_mean cost_usd cost_per_case gate_passed path".split()
)
"""Every index line has these keys (values may be null); a line without one is corrupt."""
NOT_RUN = ("selected", "skipped", "invalid_case")
"""Verdicts of cases that never reached the pipeline: rates are over the others."""


def entry_of(artifact: RunArtifact, path: Path) -> dict[str, Any]:
    """Build the index line of a run artifact stored at `path`.

    The artifact's head is enough (its cases are only counted when it has no summary), so the
    record a run keeps of itself, without its cases, indexes it as well as the file. Older
    artifacts lack `identity`, so the client and request are looked up where they live now and
    where they lived before, and are None when absent. `model` is the model the run used, as
    `model_of` reads it. `regressed`, `error_rate` and `cost_per_case` are over the cases that
    ran, and None when none did (a dry or blocked run).
    """
    config, identity, summary = artifact.config, artifact.identity, artifact.summary
    request = _section(config, "request") or _section(identity, "request")
    by_verdict = case_counts(summary)
    cases: int | None = summary.cases if summary is not None else None
    if summary is not None and by_verdict != summary.by_verdict:
        cases = sum(by_verdict.values())  # repeats: cases, not results
    if cases is None:
        cases = len(artifact.cases)
    ran = cases - sum(by_verdict.get(v, 0) for v in NOT_RUN)
    cost = summary.cost_usd if summary is not None else None
    selection = artifact.selection
    entry = {
        "time": artifact.created_at,
        "finished_at": artifact.finished_at,
        "run_id": artifact.run_id,
        "client_id": (selection.client_id if selection is not None else None)
        or _section(identity, "selection").get("client_id")
        or _section(config, "selection").get("client_id"),
        "pipeline": request.get("pipeline"),
        "model": model_of(request),
        "mode": artifact.mode,
        "status": artifact.status,
        "exit_code": artifact.exit_code,
        "cases": cases,
        "by_verdict": by_verdict,
        "error_rate": round(by_verdict.get("error", 0) / ran, 4) if ran > 0 else None,
        "regressed": by_verdict.get("regressed", 0) if ran > 0 else None,
        "similarity_to_sent_mean": summary.sent_similarity_new_mean if summary else None,
        "cost_usd": cost,
        "cost_per_case": round(cost / ran, 6) if ran > 0 and cost is not None else None,
        "gate_passed": artifact.gate.passed if artifact.gate is not None else None,
        "path": path.name,
    }
    # Through JSON and back: the entry is exactly what a reader of the index will see.
    result: dict[str, Any] = orjson.loads(dumps(entry))
    return result


def model_of(request: Mapping[str, Any]) -> str | None:
    """The model a run recorded as its own (`--model`), or None when it names none.

    With `--model` the `openai` pipeline sends every request to that model, and a run of
    another pipeline records it as the model its budget is estimated at. Without it each case
    goes to the model its own request names, which only the cases hold, and a `python:` or
    `http:` pipeline reports a model per answer: the index line says None, never a guess.
    """
    model = request.get("model")
    return model if isinstance(model, str) and model else None


def case_counts(summary: Summary | None) -> dict[str, int]:
    """Verdicts counted by case: with `--repeats`, each case once, by its majority verdict.

    Takes the run's summary, the only part of an artifact the counts come from, so a run's
    in-memory outcome and an artifact read from disk count alike. A trend that counted results
    would jump by a factor of K whenever K changed.
    """
    if summary is None:
        return {}
    return dict(summary.by_case_verdict or summary.by_verdict)


def append(directory: Path, entry: Mapping[str, Any]) -> None:
    """Add one run to the index, durably, without ever interleaving with another writer.

    The whole line goes out in one `os.write` on a file opened with O_APPEND, so concurrent runs
    each land a whole line. When there is no index yet it is first rebuilt from the artifacts
    already in `directory` (a directory from before the index existed keeps its history), and
    the entry is appended only if that rebuild did not already find its artifact.

    Raises:
        ValueError: `entry` lacks a key of `KEYS` or a parseable time (it would corrupt the index).
        OSError: the index cannot be written.
    """
    if not _valid(dict(entry)):
        raise ValueError(f"not a history entry: {entry!r}")
    index = directory / INDEX
    if not index.exists() and any(e["path"] == entry.get("path") for e in rebuild(directory)):
        return
    line = dumps(dict(entry)) + b"\n"
    fd = os.open(index, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        written = os.write(fd, line)
        if written != len(line):
            # What did land is a torn line: the next read ignores it or rebuilds from artifacts.
            raise OSError(f"wrote {written} of {len(line)} bytes to {str(index)!r}")
        os.fsync(fd)
    finally:
        os.close(fd)


def read(directory: Path) -> list[dict[str, Any]]:
    """Return the indexed runs in time order, rebuilding the index when it cannot be trusted.

    A missing index, or any complete line that is not a JSON object with every key of `KEYS`,
    means a rebuild from the artifacts. A last line without its newline is ignored, not rebuilt:
    it is most likely another run's append in flight, and replacing the file under that writer
    would lose its line. A line torn for good (a crash mid-write) is joined by the next append
    into a corrupt line, which triggers the rebuild then. When one artifact has several lines
    (a run resumed into the same file) the last one counts. If the rebuilt index cannot be
    written the entries are still returned: the index is only a cache.
    """
    index = directory / INDEX  # never removed, only replaced whole: exists() then read is safe
    entries = _parse(index.read_bytes()) if index.exists() else None
    if entries is None:
        entries = _scan(directory)
        with contextlib.suppress(OSError):
            _store(directory, entries)
    latest = {entry["path"]: entry for entry in entries}
    return ordered(latest.values())


def rebuild(directory: Path) -> list[dict[str, Any]]:
    """Rewrite the index from the run artifacts in `directory` and return its entries.

    Raises:
        OSError: the index cannot be written.
    """
    entries = _scan(directory)
    _store(directory, entries)
    return entries


def trend(
    entries: Iterable[Mapping[str, Any]], *, client_id: str | None, last: int
) -> list[dict[str, Any]]:
    """Return the last `last` live runs, of `client_id` when given, oldest first."""
    if last <= 0:
        return []
    live = [
        dict(e)
        for e in entries
        if e.get("mode") == "live" and (client_id is None or e.get("client_id") == client_id)
    ]
    return ordered(live)[-last:]


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def moment(entry: Mapping[str, Any]) -> datetime | None:
    """The entry's start time; None when it is not an ISO 8601 time."""
    value = entry.get("time")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def ordered(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sort by time, then path; parsed, as a time without microseconds sorts wrong as text."""
    floor = datetime.min.replace(tzinfo=UTC)
    return sorted(entries, key=lambda e: (moment(e) or floor, str(e.get("path"))))


def _valid(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and all(key in entry for key in KEYS)
        and isinstance(entry["path"], str)
        and moment(entry) is not None
    )


def _parse(data: bytes) -> list[dict[str, Any]] | None:
    """The entries of an index file, or None when a complete line is corrupt."""
    lines = data.split(b"\n")[:-1]  # what follows the last newline is empty or torn
    entries = []
    for line in lines:
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        if not _valid(entry):
            return None
        entries.append(entry)
    return entries


def _scan(directory: Path) -> list[dict[str, Any]]:
    """Index every run artifact in `directory`; skip files that are not one.

    The pattern already leaves out partial logs (``run-*.partial.jsonl``), compare artifacts and
    the temporary files of atomic writes (they start with a dot).

    Raises:
        UnknownSchemaVersion: an artifact of a schema version this replay cannot read; skipping
            it would drop a newer run from the index without a word.
    """
    entries = []
    for path in sorted(directory.glob("run-*.json")):
        try:
            artifact = load_run(path, role="")
        except UnknownSchemaVersion:
            raise
        except UsageError:
            continue  # unreadable, not JSON, another kind or malformed: not a run to index
        entry = entry_of(artifact, path)
        if _valid(entry):
            entries.append(entry)
    return ordered(entries)


def _store(directory: Path, entries: Sequence[Mapping[str, Any]]) -> None:
    if not directory.is_dir():
        return  # nothing to index, and reading must not create the directory
    with atomic(directory / INDEX) as handle:
        for entry in entries:
            handle.write(dumps(dict(entry)) + b"\n")


# --- the trend page ----------------------------------------------------------------------------
