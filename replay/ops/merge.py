"""`replay merge A.json B.json …`: one run artifact from the parts of a `--shard i/n` run.

A big replay is split over a matrix of CI jobs, each with `--shard i/n`; the merge job puts
the parts back together and gates once. The parts must be the whole of one run: one selection
(its fingerprint), one shard count, one set-up (the identity without the shard), every index
exactly once and no case twice; anything else is refused in one line (exit 2), since a merged
artifact with a gap would gate green on cases it never saw.

The merged artifact is what the unsharded run would have written over the same cases: the
cases in the selection's order, the summary, noise and gate counted again over them with the
thresholds the parts recorded, and the identity (and so `config_hash`) of the unsharded run.
What it cannot be is paired with a baseline: each part's `--baseline` comparison is dropped
(as `on_stats` is), and `replay compare` pairs the merged run with one.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from replay import __version__
from replay.artifacts import store
from replay.artifacts.load import load_run
from replay.config.models import GateConfig
from replay.errors import ExitCode, UsageError
from replay.models import Gate, RunArtifact, RunStatus, Selection
from replay.run import resume, shards
from replay.run.app import publish
from replay.run.finished import Finished
from replay.run.recount import recount
from replay.verdict import gate


@dataclass
class Merged:
    """The merged artifact, where it was written, and what the command says besides."""

    artifact: RunArtifact
    path: Path
    exit_code: ExitCode
    message: str | None = None
    """One line explaining a non-zero exit that is not the gate's."""
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Part:
    name: str
    artifact: RunArtifact
    selection: Selection
    index: int
    count: int


def merge(paths: list[Path], out: Path | None) -> Merged:
    """Check that `paths` are every part of one sharded run, and write their merged artifact.

    Raises:
        UsageError: a path is not a shard's run artifact, or the parts are not one whole run
            (another selection, shard count or set-up; a shard missing or given twice; a case
            in two parts).
    """
    parts = sorted((_part(path) for path in paths), key=lambda part: part.index)
    first = parts[0]
    setup = _setup(first.artifact)
    for part in parts[1:]:
        _same_run(first, setup, part)
    _whole(parts)
    whole = first.selection.sharded_from
    position = {case_id: index for index, case_id in enumerate(whole)}
    owner: dict[str, str] = {}
    for part in parts:
        for case_id in part.selection.case_ids:
            if case_id in owner:
                raise UsageError(
                    f"case {case_id!r} is in both {owner[case_id]!r} and {part.name!r}; "
                    "a case belongs to one shard"
                )
            owner[case_id] = part.name
    created = datetime.now(UTC)
    target = store.target_path(Path(first.name).parent, created, out)
    cases = sorted(
        (case for part in parts for case in part.artifact.cases),
        key=lambda case: (position.get(case.case_id, len(whole)), case.repeat),
    )
    live = first.artifact.mode == "live"
    runs = [run_part for part in parts for run_part in part.artifact.parts]
    counted = recount(
        cases,
        repeats=int(setup.get("repeats") or 1) if live else 1,
        min_paired=GateConfig.model_validate(first.artifact.config.get("gate") or {}).min_paired,
        duration_s=sum(
            (run_part.finished_at - run_part.started_at).total_seconds()
            for run_part in runs
            if run_part.finished_at is not None
        ),
        live=live,
    )
    status, message = _status(parts, bool(whole))
    decided = _gate(counted.gate_input, first.artifact, live) if whole else None
    exit_code = _exit_code(status, decided, first.artifact)
    selection = first.selection.model_copy(
        update={
            "found": len(whole),
            "invalid": _ordered(position, (i for p in parts for i in p.selection.invalid)),
            "skipped": sorted(
                (skipped for part in parts for skipped in part.selection.skipped),
                key=lambda skipped: position.get(skipped.case_id, len(whole)),
            ),
            "case_ids": list(whole),
            "shard": None,
            "sharded_from": [],
        }
    )
    config = {**first.artifact.config, "shard": None, "merged_from": [p.name for p in parts]}
    artifact = first.artifact.model_copy(
        update={
            "run_id": f"{store.stamp(created)}-{uuid.uuid4().hex[:6]}",
            "parent_run_id": None,
            "created_at": created,
            "finished_at": created,
            "tool_version": __version__,
            "status": status,
            "exit_code": int(exit_code),
            "config_hash": hashlib.sha256(
                orjson.dumps(setup, option=orjson.OPT_SORT_KEYS)
            ).hexdigest(),
            "identity": setup,
            "parts": runs,
            "config": config,
            "selection": selection,
            "cases": cases,
            "summary": counted.summary,
            "gate": decided,
            "baseline": None,
            "noise": counted.noise,
        }
    )
    store.write_model(target, artifact)
    outcome = Finished(
        exit_code=exit_code,
        artifact=target,
        record=artifact.model_dump(mode="json", exclude={"cases"}),
    )
    publish(outcome)
    return Merged(artifact, target, exit_code, message, outcome.warnings)


def _part(path: Path) -> _Part:
    """One shard's artifact, or a usage error saying why it is not one."""
    name = str(path)
    artifact = load_run(path, role="")
    selection = artifact.selection
    if selection is None or selection.shard is None or selection.fingerprint is None:
        raise UsageError(
            f"{name!r} records no shard (run without --shard, or stopped before selecting); "
            "merge takes the parts of one --shard i/n run"
        )
    if shards.fingerprint(selection.sharded_from) != selection.fingerprint:
        raise UsageError(
            f"{name!r} lists a selection that does not match its fingerprint; "
            "it was edited or is damaged"
        )
    shard = selection.shard
    return _Part(name, artifact, selection, shard.index, shard.count)


def _setup(artifact: RunArtifact) -> dict[str, Any]:
    """The run's identity without its shard: what every part of one run shares."""
    return {key: value for key, value in artifact.identity.items() if key != "shard"}


def _same_run(first: _Part, setup: dict[str, Any], part: _Part) -> None:
    """Refuse a part of another selection, shard count or set-up than the first one."""
    ours, theirs = first.selection.fingerprint or "", part.selection.fingerprint or ""
    if theirs != ours:
        raise UsageError(
            f"{part.name!r} is a part of another selection than {first.name!r} (fingerprint "
            f"{theirs[:12]}, not {ours[:12]}); merge the parts of one selection"
        )
    if part.count != first.count:
        raise UsageError(
            f"{part.name!r} is shard {part.index}/{part.count}, not one of {first.count} like "
            f"{first.name!r}; merge the parts of one --shard i/{first.count} run"
        )
    differences = resume.differences(setup, _setup(part.artifact))
    if differences:
        raise UsageError(
            f"{part.name!r} was run with another set-up than {first.name!r} "
            f"({', '.join(differences)} differ); merge the parts of one run"
        )


def _whole(parts: list[_Part]) -> None:
    """Refuse a shard index given twice, or missing."""
    count = parts[0].count
    seen: dict[int, str] = {}
    for part in parts:
        if part.index in seen:
            raise UsageError(
                f"shard {part.index}/{count} is given twice ({seen[part.index]!r}, "
                f"{part.name!r}); pass each part once"
            )
        seen[part.index] = part.name
    missing = [f"{index}/{count}" for index in range(1, count + 1) if index not in seen]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise UsageError(
            f"shard {', '.join(missing)} {verb} missing; pass every part of the "
            f"--shard i/{count} run"
        )


def _ordered(position: dict[str, int], case_ids: Any) -> list[str]:
    return sorted(case_ids, key=lambda case_id: position.get(case_id, len(position)))


def _status(parts: list[_Part], selected: bool) -> tuple[RunStatus, str | None]:
    """Complete only when every part is (a shard the hash left empty is); else why not."""
    stops: tuple[RunStatus, ...] = ("blocked", "interrupted")
    for wanted in stops:
        stopped = [part.name for part in parts if part.artifact.status == wanted]
        if stopped:
            return wanted, (
                f"{', '.join(map(repr, stopped))} {'is' if len(stopped) == 1 else 'are'} "
                f"{wanted}: the merged run lacks their unfinished cases; resume and merge again"
            )
    return ("complete" if selected else "empty"), None


def _gate(data: gate.GateInput, first: RunArtifact, live: bool) -> Gate:
    """The gate over every case, with the thresholds the parts recorded.

    No baseline is paired here, so `on_stats` is off: the cases decide, as a run's do when
    there is nothing to compare with.
    """
    thresholds = GateConfig.model_validate(first.config.get("gate") or {})
    return gate.apply(data, thresholds.model_copy(update={"on_stats": False}), dry=not live)


def _exit_code(status: RunStatus, decided: Gate | None, first: RunArtifact) -> ExitCode:
    """The first of 3 and 130 that applies, then the gate's; an empty selection's own code."""
    if status == "blocked":
        return ExitCode.BLOCKED
    if status == "interrupted":
        return ExitCode.INTERRUPTED
    if decided is None:
        return ExitCode(first.exit_code)  # an empty selection: 4, or 0 with --allow-empty
    return ExitCode.OK if decided.passed else ExitCode.GATE_FAILED
