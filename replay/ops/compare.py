"""`replay compare OLD NEW`: pair two runs case by case, gate on what got worse, write it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from replay import __version__
from replay.artifacts import store
from replay.artifacts.load import load_run
from replay.config.models import CompareConfig
from replay.errors import ExitCode
from replay.models import CompareArtifact
from replay.verdict import gate, pairing, stats


def compare_runs(old: Path, new: Path, config: CompareConfig) -> tuple[CompareArtifact, Path]:
    """`replay compare OLD NEW`: pair the cases, gate, write a compare artifact."""
    before = load_run(old, role="OLD")
    after = load_run(new, role="NEW")
    report = pairing.compare(before, after, old_path=str(old), new_path=str(new))
    report = report.model_copy(
        update={"stats": stats.paired(before.cases, after.cases, minimum=config.gate.min_paired)}
    )
    paired = {c.case_id for c in after.cases} - set(report.only_in_run)
    data = gate.GateInput()
    for case in after.cases:
        if case.case_id in paired and case.repeat == 0:
            data.add(case)
    regressions = {c.case_id for c in report.changes if c.kind == "regression"}
    data.regressed = [case_id for case_id in data.regressed if case_id in regressions]
    result = gate.apply(data, config.gate, stats=report.stats)
    created = datetime.now(UTC)
    target = store.target_path(config.artifacts_dir, created, config.out)
    if config.out is None:
        target = target.with_name(target.name.replace("run-", "compare-", 1))
    artifact = CompareArtifact(
        run_id=f"{store.stamp(created)}-{uuid.uuid4().hex[:6]}",
        created_at=created,
        tool_version=__version__,
        exit_code=ExitCode.OK if result.passed else ExitCode.GATE_FAILED,
        report=report,
        gate=result,
    )
    store.write_model(target, artifact)
    return artifact, target
