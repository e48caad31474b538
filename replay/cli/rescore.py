"""Deciding a finished run again: `rescore` (today's checks and gate) and `rejudge` (a judge)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import anyio
import typer
from pydantic import ValidationError

from replay.artifacts.load import load_run
from replay.cli.flags import (
    ArtifactsDir,
    ConfigFile,
    GateOnStats,
    JudgeBaseUrl,
    JudgeConcurrency,
    JudgeRetries,
    MaxErrorRate,
    MaxInvalidRate,
    MinEvidence,
    NoGate,
    NoJudgeCache,
    option,
)
from replay.config import resolve, rules, runflags
from replay.config.file import LoadedToml, load_toml
from replay.config.models import GateConfig, JudgeConfig
from replay.errors import UsageError
from replay.models import RunArtifact
from replay.report import text
from replay.run import app
from replay.run.finished import Finished

Artifact = Annotated[Path, typer.Argument(metavar="ARTIFACT", help="A live run artifact (.json).")]
Out = Annotated[
    Path | None, option("--out", metavar="FILE", help="New artifact path (must not exist).")
]
JudgeModel = Annotated[
    str | None,
    option(
        "--judge-model",
        rule=rules.text,
        env="REPLAY_JUDGE_MODEL",
        metavar="NAME",
        help="The judge. [default: [judge] model, else the artifact's judge]",
    ),
]


def rescore_command(
    artifact: Artifact,
    out: Out = None,
    rejudge: Annotated[
        bool,
        typer.Option("--rejudge", help="Also ask the judge again (as `replay rejudge` does)."),
    ] = False,
    judge_model: JudgeModel = None,
    judge_base_url: JudgeBaseUrl = None,
    judge_concurrency: JudgeConcurrency = None,
    judge_retries: JudgeRetries = None,
    no_judge_cache: NoJudgeCache = False,
    no_gate: NoGate = False,
    gate_on_stats: GateOnStats = False,
    max_error_rate: MaxErrorRate = None,
    max_invalid_rate: MaxInvalidRate = None,
    min_evidence: MinEvidence = None,
    artifacts_dir: ArtifactsDir = None,
    config: ConfigFile = None,
) -> int:
    """Decide a run again with today's checks, policy and gate; no model call; a new run.

    The judge is asked again only with --rejudge; otherwise its stored judgements stand.
    """
    toml = load_toml(config)
    old = load_run(artifact, role="ARTIFACT")
    judge_flags = (judge_model, judge_base_url, judge_concurrency, judge_retries)
    if not rejudge and any(value is not None for value in judge_flags):
        raise UsageError("the judge's flags go with --rejudge (rescore never asks a judge without)")
    judge = _judge(toml, old, judge_flags, no_judge_cache) if rejudge else None
    thresholds = resolve.gate(
        toml,
        max_error_rate=max_error_rate,
        max_invalid_rate=max_invalid_rate,
        min_evidence=min_evidence,
        no_gate=no_gate,
        on_stats=gate_on_stats,
    )
    return _rescore(toml, artifact, old, thresholds, judge, artifacts_dir, out)


def rejudge_command(
    artifact: Artifact,
    judge_model: JudgeModel = None,
    judge_base_url: JudgeBaseUrl = None,
    judge_concurrency: JudgeConcurrency = None,
    judge_retries: JudgeRetries = None,
    no_judge_cache: NoJudgeCache = False,
    out: Out = None,
    no_gate: NoGate = False,
    artifacts_dir: ArtifactsDir = None,
    config: ConfigFile = None,
) -> int:
    """Score a run's drafts again with a judge, without replaying; write a new, linked run.

    The gate is the one the run was made with; `replay rescore --rejudge` applies today's.
    """
    toml = load_toml(config)
    old = load_run(artifact, role="ARTIFACT")
    judge_flags = (judge_model, judge_base_url, judge_concurrency, judge_retries)
    judge = _judge(toml, old, judge_flags, no_judge_cache)
    thresholds = _run_gate(old, resolve.gate(toml, no_gate=no_gate))
    return _rescore(toml, artifact, old, thresholds, judge, artifacts_dir, out)


def _judge(
    toml: LoadedToml,
    old: RunArtifact,
    flags: tuple[str | None, str | None, int | None, int | None],
    no_cache: bool,
) -> JudgeConfig:
    """The judge to ask again: flags, else `[judge]`, else the model the run was judged by."""
    recorded = old.config.get("judge")  # `config` is free-form in the schema
    earlier = recorded.get("model") if isinstance(recorded, dict) else None
    judge = resolve.judge(toml, runflags.JudgeFlags(*flags, no_cache), fallback_model=earlier)
    if judge is None:
        raise UsageError("rejudging needs a judge: pass --judge-model NAME or set [judge] model")
    return judge


def _rescore(
    toml: LoadedToml,
    path: Path,
    old: RunArtifact,
    thresholds: GateConfig,
    judge: JudgeConfig | None,
    artifacts_dir: Path | None,
    out: Path | None,
) -> int:
    """Decide the run again, print its summary and where it went; the gate's exit code."""

    async def rescored() -> tuple[str | None, list[str], Finished]:
        # Only what is printed leaves the event loop: asyncio's runner may repr the main task's
        # result on the way out, and a 20,000-case artifact takes seconds to repr.
        done, outcome = await app.rescore_run(
            path,
            old,
            checks=resolve.checks(toml),
            thresholds=thresholds,
            judge=judge,
            artifacts_dir=resolve.artifacts_dir(toml, artifacts_dir),
            out=out,
            prices=resolve.prices(toml),
        )
        summary = done.artifact.summary  # always there: a rescored run has its totals
        said = None if summary is None else text.summary_text(summary, done.artifact.gate)
        return said, list(done.notes), outcome

    said, notes, outcome = anyio.run(rescored)
    if said is not None:
        print(said)
    print(f"artifact: {outcome.artifact}")
    if outcome.report is not None:
        print(f"report: {outcome.report}")
    for note in notes:
        print(f"replay: note: {note}", file=sys.stderr)
    for warning in outcome.warnings:
        print(f"replay: warning: {warning}", file=sys.stderr)
    return outcome.exit_code


def _run_gate(artifact: RunArtifact, fallback: GateConfig) -> GateConfig:
    """The thresholds a run was made with, so re-judging it applies the same gate."""
    recorded = artifact.config.get("gate")
    if not isinstance(recorded, dict):
        return fallback
    try:
        found = GateConfig.model_validate(recorded)
    except ValidationError:
        return fallback
    return found.model_copy(update={"enforced": fallback.enforced})  # --no-gate is this command's
