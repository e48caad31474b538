"""Commands over finished run artifacts: compare, report, rejudge, history."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import anyio
import typer
from pydantic import ValidationError

from replay.artifacts import history, store
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
    SummaryMd,
    option,
)
from replay.config import inputs, resolve, rules
from replay.config.file import load_toml
from replay.config.models import CompareConfig, GateConfig
from replay.config.secrets import safe_pipeline
from replay.errors import ExitCode, UsageError
from replay.models import RunArtifact
from replay.ops import compare
from replay.report import html, text, trend
from replay.run import app


def compare_command(
    old: Annotated[Path, typer.Argument(metavar="OLD.json", help="The baseline run artifact.")],
    new: Annotated[Path, typer.Argument(metavar="NEW.json", help="The run to judge.")],
    out: Annotated[
        Path | None, option("--out", metavar="FILE", help="Compare artifact path.")
    ] = None,
    no_gate: NoGate = False,
    gate_on_stats: GateOnStats = False,
    max_error_rate: MaxErrorRate = None,
    max_invalid_rate: MaxInvalidRate = None,
    min_evidence: MinEvidence = None,
    summary_md: SummaryMd = None,
    artifacts_dir: ArtifactsDir = None,
    config: ConfigFile = None,
) -> int:
    """Compare two run artifacts case by case and gate on what got worse."""
    toml = load_toml(config)
    compare_config = CompareConfig(
        artifacts_dir=resolve.artifacts_dir(toml, artifacts_dir),
        out=out,
        gate=resolve.gate(
            toml,
            max_error_rate=max_error_rate,
            max_invalid_rate=max_invalid_rate,
            min_evidence=min_evidence,
            no_gate=no_gate,
            on_stats=gate_on_stats,
        ),
    )
    markdown_path = inputs.writable_file("--summary-md", summary_md) if summary_md else None
    artifact, path = compare.compare_runs(old, new, compare_config)
    print(text.baseline_text(artifact.report))
    print(f"gate  {text.gate_text(artifact.gate)}")
    if markdown_path is not None:
        store.write_text(markdown_path, text.baseline_markdown(artifact.report, artifact.gate))
    print(f"artifact: {path}")
    return artifact.exit_code


def report_command(
    artifact: Annotated[Path, typer.Argument(metavar="ARTIFACT", help="A run artifact (.json).")],
    out: Annotated[
        Path | None,
        option("--out", metavar="FILE", help="Where to write. [default: beside ARTIFACT]"),
    ] = None,
) -> int:
    """Write the HTML report of a run artifact: one self-contained file that opens from disk."""
    target = inputs.writable_file("--out", out) if out else None
    if target is not None and target.exists() and target.suffix.lower() not in (".html", ".htm"):
        raise UsageError(
            f"--out {str(out)!r} exists and is not an HTML file; name a new .html file"
        )
    print(html.write_report(Path(artifact), target))
    return ExitCode.OK


def rejudge_command(
    artifact: Annotated[
        Path, typer.Argument(metavar="ARTIFACT", help="A judged live run (.json).")
    ],
    judge_model: Annotated[
        str | None,
        option(
            "--judge-model",
            rule=rules.text,
            env="REPLAY_JUDGE_MODEL",
            metavar="NAME",
            help="The judge. [default: [judge] model, else the artifact's judge]",
        ),
    ] = None,
    judge_base_url: JudgeBaseUrl = None,
    judge_concurrency: JudgeConcurrency = None,
    judge_retries: JudgeRetries = None,
    no_judge_cache: NoJudgeCache = False,
    out: Annotated[
        Path | None, option("--out", metavar="FILE", help="New artifact path (must not exist).")
    ] = None,
    no_gate: NoGate = False,
    artifacts_dir: ArtifactsDir = None,
    config: ConfigFile = None,
) -> int:
    """Score a run's drafts again with a judge, without replaying; write a new, linked run."""
    toml = load_toml(config)
    path = artifact
    old = load_run(path, role="ARTIFACT")
    recorded = old.config.get("judge")  # `config` is free-form in the schema
    earlier = recorded.get("model") if isinstance(recorded, dict) else None
    flags = resolve.JudgeFlags(
        judge_model, judge_base_url, judge_concurrency, judge_retries, no_judge_cache
    )
    judge = resolve.judge(toml, flags, fallback_model=earlier)
    if judge is None:
        raise UsageError("rejudge needs a judge: pass --judge-model NAME or set [judge] model")
    folder = resolve.artifacts_dir(toml, artifacts_dir)
    data, outcome = anyio.run(
        lambda: app.rejudge_run(
            path,
            old,
            judge,
            artifacts_dir=folder,
            out=out,
            prices=resolve.prices(toml),
            thresholds=_run_gate(old, resolve.gate(toml, no_gate=no_gate)),
        )
    )
    if data.summary is not None:  # always: a rejudged run has its totals
        print(text.summary_text(data.summary, data.gate))
    print(f"artifact: {outcome.artifact}")
    if outcome.report is not None:
        print(f"report: {outcome.report}")
    for warning in outcome.warnings:
        print(f"replay: warning: {warning}", file=sys.stderr)
    return outcome.exit_code


def _run_gate(artifact: RunArtifact, fallback: GateConfig) -> GateConfig:
    """The thresholds a run was made with, so re-scoring it applies the same gate."""
    recorded = artifact.config.get("gate")
    if not isinstance(recorded, dict):
        return fallback
    try:
        found = GateConfig.model_validate(recorded)
    except ValidationError:
        return fallback
    return found.model_copy(update={"enforced": fallback.enforced})  # --no-gate is this command's


def history_command(
    client_id: Annotated[
        str | None,
        option("--client-id", rule=rules.client_id, metavar="ID", help="One client's runs."),
    ] = None,
    last: Annotated[
        int, typer.Option("--last", parser=rules.count, metavar="N", help="How many runs.")
    ] = 30,
    out: Annotated[
        Path | None,
        option("--out", metavar="FILE", help="The trend page. [default: DIR/history.html]"),
    ] = None,
    artifacts_dir: ArtifactsDir = None,
    config: ConfigFile = None,
) -> int:
    """Print the trend of the last live runs and write a page of trend charts."""
    toml = load_toml(config)
    folder = resolve.artifacts_dir(toml, artifacts_dir)
    if artifacts_dir and not folder.is_dir():
        raise UsageError(
            f"--artifacts-dir {str(artifacts_dir)!r} is not a directory of run artifacts"
        )
    rows = history.trend(history.read(folder), client_id=client_id, last=last)
    for row in rows:  # an index line of an artifact from before pipelines were redacted
        if isinstance(row.get("pipeline"), str):
            row["pipeline"] = safe_pipeline(row["pipeline"])
    print(text.history_text(rows))
    title = f"replay history · {client_id}" if client_id else "replay history"
    page = inputs.writable_file("--out", out) if out else folder / "history.html"
    if folder.is_dir() or out:
        with store.atomic(page) as handle:
            handle.write(trend.render_html(rows, title=title).encode())
        print(f"page: {page}")
    return ExitCode.OK
