"""Artifacts read back as models: the one way a run, compare or signals file comes in.

Every command that reads an artifact (`report`, `compare`, `rejudge`, `history`, `--baseline`)
goes through these loaders, so each refuses the same inputs in the same words and with exit 2:
a file that cannot be read, is not JSON, is not an object, is of another kind, has a malformed
field, or was written under a schema version this replay does not read. Past the loader,
renderers and comparers work on validated models and never guess at a key.

`role` names the input the way the user gave it (``--baseline``, ``OLD``, ``ARTIFACT``); an
empty role names the file alone, for a file the tool found itself or a command's only input.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from replay.errors import UsageError
from replay.models import SCHEMA_VERSION, CompareArtifact, RunArtifact, SignalsArtifact

Migration = Callable[[dict[str, Any]], dict[str, Any]]
"""Takes the parsed JSON of an artifact of one schema version; returns it as the next wrote it."""


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 counts the result lines a resume dropped; a version-1 run dropped none."""
    return data


def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Version 3 says what was not measured, and each canary rule's tri-state result.

    Not measured is None and a reason, never 0; a rule is passed, failed or not evaluated. A
    version-2 signals file wrote 0 for what a view it lacked could not count; its config names
    the views it read, so those figures become None and the reason. Runs gained optional fields
    only (`summary.not_measured`, a gate rule's `causes`, a live case's `plan`), so a version-2
    run reads as it is; its token counts stay as written.
    """
    if data.get("kind") != "signals":
        return data
    views = data["config"]["views"]
    for report in (data["current"], data.get("previous")):
        for group in [] if report is None else report.get("groups", []):
            _timed_v3(group)
        for cohort in [] if report is None else report.get("cohorts", {}).values():
            _timed_v3(cohort["total"])
            unmeasured: dict[str, str] = {}
            if len(cohort.get("backlog", [])) < 2:
                unmeasured["backlog_growing_windows"] = "one window only"
            if "drafts" not in views:
                unmeasured["duplicate_drafts"] = "no drafts view"
            if "dispatch" not in views:
                unmeasured |= dict.fromkeys(_ENQUEUES, "no dispatch view")
            elif not cohort.get("enqueue_attempts", 0):
                unmeasured["enqueue_failure_rate"] = "no enqueue attempts"
            cohort |= dict.fromkeys(unmeasured) | {"not_measured": unmeasured}
    for rule in data["decision"]["rules"] if data.get("decision") else []:
        rule["result"] = "passed" if rule.pop("passed") else "failed"
    return data


_ENQUEUES = ("enqueue_attempts", "enqueue_failures", "enqueue_failure_rate", "inline_fallbacks")


def _timed_v3(group: dict[str, Any]) -> None:
    """A version-2 latency was None only when no job had that time."""
    why = group.setdefault("not_measured", {})
    for field in ("dispatch_p50_s", "dispatch_p95_s", "dispatch_max_s"):
        if group.get(field) is None:
            why[field] = "no job started"
    for field in ("processing_p50_s", "processing_p95_s"):
        if group.get(field) is None:
            why[field] = "no job finished"


def _v3_to_v4(data: dict[str, Any]) -> dict[str, Any]:
    """Version 4 keeps each case's lead and client settings; a version-3 run kept neither.

    They stay None, which `replay rescore` reads as "not recorded": it keeps such a case's
    checks as they were rather than check it against a context it does not have.

    Version 4 also says what the response cache did (a case's `cache` and `saved_usd`, the
    summary's `cache_*` figures); a version-3 run had no response cache, so they stay None.
    """
    return data


def _v4_to_v5(data: dict[str, Any]) -> dict[str, Any]:
    """Version 5 records each part's Batch API submissions (`parts[].batches`).

    A version-4 run made none (`--via batch` did not exist), so its parts keep the empty list.
    """
    return data


MIGRATIONS: dict[int, Migration] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4, 4: _v4_to_v5}
"""Upgrades of older artifacts, keyed by the schema version each upgrades *from*.

`MIGRATIONS[n]` receives the raw dict of a version-`n` artifact of any kind (branch on its
`kind` when kinds differ) and returns it as version `n + 1` would have written it; the loader
chains them up to `SCHEMA_VERSION` and sets `schema_version` after each step. A change that bumps
`SCHEMA_VERSION` adds the entry for the version it leaves behind, and a test loading an artifact
of that version: every reader keeps reading older runs without a branch of its own.
"""

_Model = TypeVar("_Model", bound=BaseModel)


class UnknownSchemaVersion(UsageError):
    """An artifact of a schema version this replay cannot read: newer, or older with no migration.

    A subclass so that a reader that skips unreadable files (the history rebuild, `--baseline
    latest`) can still refuse this one: skipping it would silently drop a newer run.
    """


def load_run(path: Path, *, role: str = "ARTIFACT") -> RunArtifact:
    """Read and validate the run artifact at `path`.

    Args:
        path: the file, as the user named it (messages quote it as given).
        role: how the user gave it, e.g. ``--baseline`` or ``OLD``; empty to name the file alone.

    Raises:
        UnknownSchemaVersion: it was written under a schema version this replay cannot read.
        UsageError: it cannot be read, is not JSON, is not a run artifact or has a malformed field.
    """
    return _load(path, RunArtifact, "run", role)


def load_compare(path: Path, *, role: str = "ARTIFACT") -> CompareArtifact:
    """Read and validate the compare artifact (`replay compare`) at `path`; see `load_run`.

    Raises:
        UnknownSchemaVersion: it was written under a schema version this replay cannot read.
        UsageError: it cannot be read, is not JSON, is not a compare artifact or is malformed.
    """
    return _load(path, CompareArtifact, "compare", role)


def load_signals(path: Path, *, role: str = "ARTIFACT") -> SignalsArtifact:
    """Read and validate the signals artifact (`replay signals`, `canary-check`); see `load_run`.

    Raises:
        UnknownSchemaVersion: it was written under a schema version this replay cannot read.
        UsageError: it cannot be read, is not JSON, is not a signals artifact or is malformed.
    """
    return _load(path, SignalsArtifact, "signals", role)


def _load(path: Path, model: type[_Model], kind: str, role: str) -> _Model:
    """Read, check kind and version, migrate, validate; every refusal one line, exit 2."""
    name = repr(str(path))
    subject = f"{role} {name}" if role else name
    expected = f"expected a {kind} artifact"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if role:
            raise UsageError(f"{subject} cannot be read ({reason}); {expected}") from None
        raise UsageError(f"cannot read artifact {name}: {reason}; {expected}") from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UsageError(f"{subject} is not JSON; {expected}") from None
    if not isinstance(data, dict):
        found = type(data).__name__
        raise UsageError(f"{subject} is not a {kind} artifact: kind {found!r}, expected an object")
    if data.get("kind") != kind:
        raise UsageError(
            f"{subject} is not a {kind} artifact: kind {data.get('kind')!r}, expected {kind!r}"
        )
    malformed = f"{subject} has a malformed field; {expected} written by replay"
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise UsageError(malformed)
    try:
        data = _migrated(data, version, subject)
    except (KeyError, TypeError, ValueError):  # an old file without what its version promised
        raise UsageError(malformed) from None
    try:
        return model.model_validate(data)
    except ValidationError:
        raise UsageError(malformed) from None


def _migrated(data: dict[str, Any], version: int, subject: str) -> dict[str, Any]:
    """Upgrade `data` from `version` to `SCHEMA_VERSION` through `MIGRATIONS`.

    Raises:
        UnknownSchemaVersion: no chain of migrations leads from `version` to this one.
    """
    found = version
    while version != SCHEMA_VERSION and version in MIGRATIONS:
        data = MIGRATIONS[version](data)
        version += 1
        data["schema_version"] = version
    if version == SCHEMA_VERSION:
        return data
    advice = (
        "upgrade replay to read it"
        if found > SCHEMA_VERSION
        else "it is older than any version this replay can upgrade"
    )
    raise UnknownSchemaVersion(
        f"{subject} has schema version {found}; this replay reads schema version "
        f"{SCHEMA_VERSION} — {advice}"
    )
