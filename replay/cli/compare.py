"""Commands over finished run artifacts: compare, report, history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from replay.artifacts import history, store
from replay.cli.flags import (
    ArtifactsDir,
    ConfigFile,
    GateOnStats,
    MaxErrorRate,
    MaxInvalidRate,
    MinEvidence,
    NoGate,
    SummaryMd,
    option,
)
from replay.config import inputs, resolve, rules
from replay.config.file import load_toml
from replay.config.models import CompareConfig
from replay.config.secrets import safe_pipeline
from replay.errors import ExitCode, UsageError
from replay.ops import compare
from replay.report import html, text, trend


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
