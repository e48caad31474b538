"""Commands over finished run artifacts: compare, report, rejudge, history."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
from pydantic import ValidationError

from replay.artifacts import history
from replay.artifacts import store as artifacts
from replay.cli.flags import (
    ArtifactsDir,
    ConfigFile,
    GateOnStats,
    JudgeBaseUrl,
    JudgeConcurrency,
    JudgeRetries,
    MaxErrorRate,
    MaxInvalidRate,
    NoGate,
    NoJudgeCache,
    SummaryMd,
)
from replay.config import defaults as constants
from replay.config import resolve as options
from replay.config import settings
from replay.config.models import CompareConfig, GateConfig
from replay.errors import ExitCode, UsageError
from replay.models import Gate, Summary
from replay.ops import compare as comparing
from replay.report import html, trend
from replay.report import text as report
from replay.run import app


def compare_command(
    old: Annotated[str, typer.Argument(metavar="OLD.json", help="The baseline run artifact.")],
    new: Annotated[str, typer.Argument(metavar="NEW.json", help="The run to judge.")],
    out: Annotated[
        str | None, typer.Option("--out", metavar="FILE", help="Compare artifact path.")
    ] = None,
    no_gate: NoGate = False,
    gate_on_stats: GateOnStats = False,
    max_error_rate: MaxErrorRate = None,
    max_invalid_rate: MaxInvalidRate = None,
    summary_md: SummaryMd = None,
    artifacts_dir: ArtifactsDir = None,
    config: ConfigFile = None,
) -> int:
    """Compare two run artifacts case by case and gate on what got worse."""
    toml = settings.load_toml(config)
    file = toml.config
    compare_config = CompareConfig(
        artifacts_dir=Path(artifacts_dir or file.artifacts.dir or constants.ARTIFACTS_DIR),
        out=Path(out) if out else None,
        gate=options.gate(
            toml, max_error_rate, max_invalid_rate, no_gate=no_gate, on_stats=gate_on_stats
        ),
    )
    markdown_path = settings.writable_file("--summary-md", summary_md) if summary_md else None
    artifact, path = comparing.compare_runs(Path(old), Path(new), compare_config)
    print(report.baseline_text(artifact.report))
    print(f"gate  {report.gate_text(artifact.gate)}")
    if markdown_path is not None:
        markdown_path.write_text(report.baseline_markdown(artifact.report, artifact.gate))
    print(f"artifact: {path}")
    return artifact.exit_code


def report_command(
    artifact: Annotated[str, typer.Argument(metavar="ARTIFACT", help="A run artifact (.json).")],
    out: Annotated[
        str | None,
        typer.Option("--out", metavar="FILE", help="Where to write. [default: beside ARTIFACT]"),
    ] = None,
) -> int:
    """Write the HTML report of a run artifact: one self-contained file that opens from disk."""
    target = settings.writable_file("--out", out) if out else None
    if target is not None and target.exists() and target.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--out {out!r} exists and is not an HTML file; name a new .html file")
    print(html.write_report(Path(artifact), target))
    return ExitCode.OK


def rejudge_command(
    artifact: Annotated[str, typer.Argument(metavar="ARTIFACT", help="A judged live run (.json).")],
    judge_model: Annotated[
        str | None,
        typer.Option(
            "--judge-model",
            envvar="REPLAY_JUDGE_MODEL",
            metavar="NAME",
            help="The judge. [default: [judge] model, else the artifact's judge]",
        ),
    ] = None,
    judge_base_url: JudgeBaseUrl = None,
    judge_concurrency: JudgeConcurrency = None,
    judge_retries: JudgeRetries = None,
    no_judge_cache: NoJudgeCache = False,
    out: Annotated[
        str | None,
        typer.Option("--out", metavar="FILE", help="New artifact path (must not exist)."),
    ] = None,
    no_gate: NoGate = False,
    artifacts_dir: ArtifactsDir = None,
    config: ConfigFile = None,
) -> int:
    """Score a run's drafts again with a judge, without replaying; write a new, linked run."""
    toml = settings.load_toml(config)
    path = Path(artifact)
    old = app.peek(path)
    earlier = ((old.get("config") or {}).get("judge") or {}).get("model")
    flags = options.JudgeFlags(
        judge_model, judge_base_url, judge_concurrency, judge_retries, no_judge_cache
    )
    judge = options.judge(toml, flags, fallback_model=earlier)
    if judge is None:
        raise UsageError("rejudge needs a judge: pass --judge-model NAME or set [judge] model")
    folder = Path(artifacts_dir or toml.config.artifacts.dir or constants.ARTIFACTS_DIR)
    data, outcome = anyio.run(
        lambda: app.rejudge_run(
            path,
            old,
            judge,
            artifacts_dir=folder,
            out=Path(out) if out else None,
            prices=settings.prices(toml),
            thresholds=_run_gate(old, options.gate(toml, None, None, no_gate=no_gate)),
        )
    )
    print(
        report.summary_text(
            Summary.model_validate(data["summary"]), Gate.model_validate(data["gate"])
        )
    )
    print(f"artifact: {outcome.artifact}")
    if outcome.report is not None:
        print(f"report: {outcome.report}")
    for warning in outcome.warnings:
        print(f"replay: warning: {warning}", file=sys.stderr)
    return outcome.exit_code


def _run_gate(artifact: dict[str, Any], fallback: GateConfig) -> GateConfig:
    """The thresholds a run was made with, so re-scoring it applies the same gate."""
    recorded = (artifact.get("config") or {}).get("gate")
    if not isinstance(recorded, dict):
        return fallback
    try:
        found = GateConfig.model_validate(recorded)
    except ValidationError:
        return fallback
    return found.model_copy(update={"enforced": fallback.enforced})  # --no-gate is this command's


def history_command(
    client_id: Annotated[
        str | None, typer.Option("--client-id", metavar="ID", help="One client's runs.")
    ] = None,
    last: Annotated[str, typer.Option("--last", metavar="N", help="How many runs.")] = "30",
    out: Annotated[
        str | None,
        typer.Option("--out", metavar="FILE", help="The trend page. [default: DIR/history.html]"),
    ] = None,
    artifacts_dir: ArtifactsDir = None,
    config: ConfigFile = None,
) -> int:
    """Print the trend of the last live runs and write a page of trend charts."""
    toml = settings.load_toml(config)
    folder = Path(artifacts_dir or toml.config.artifacts.dir or constants.ARTIFACTS_DIR)
    if artifacts_dir and not folder.is_dir():
        raise UsageError(f"--artifacts-dir {artifacts_dir!r} is not a directory of run artifacts")
    count = settings.positive_int("--last", last)
    rows = history.trend(history.read(folder), client_id=client_id, last=count)
    print(report.history_text(rows))
    title = f"replay history · {client_id}" if client_id else "replay history"
    page = settings.writable_file("--out", out) if out else folder / "history.html"
    if folder.is_dir() or out:
        with artifacts.atomic(page) as handle:
            handle.write(trend.render_html(rows, title=title).encode())
        print(f"page: {page}")
    return ExitCode.OK
