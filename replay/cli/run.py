"""`replay run`: replay a client's jobs, print the summary, write the optional renderings."""

from __future__ import annotations

import sys
from typing import Annotated

import anyio
import orjson
import typer

from replay.cli.flags import (
    ArtifactsDir,
    ConfigFile,
    DatabaseUrl,
    GateOnStats,
    JudgeBaseUrl,
    JudgeConcurrency,
    JudgeRetries,
    MaxErrorRate,
    MaxInvalidRate,
    NoGate,
    NoJudgeCache,
    SourceSql,
    SummaryMd,
    ThreadSql,
)
from replay.cli.progress import progress_for
from replay.config import defaults as constants
from replay.config import resolve as options
from replay.config import settings
from replay.models import Noise
from replay.report import junit as junit_xml
from replay.report import text as report
from replay.run import app


def run_command(
    client_id: Annotated[
        str | None,
        typer.Option(
            "--client-id",
            envvar="REPLAY_CLIENT_ID",
            metavar="ID",
            help="The client whose jobs to replay (required).",
        ),
    ] = None,
    limit: Annotated[
        str | None,
        typer.Option(
            "--limit",
            envvar="REPLAY_LIMIT",
            metavar="N",
            help=f"Replay the last N jobs. [default: {constants.LIMIT}; with ids: their count]",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Select, render and estimate; no model call.")
    ] = False,
    concurrency: Annotated[
        str | None,
        typer.Option(
            "--concurrency",
            envvar="REPLAY_CONCURRENCY",
            metavar="N",
            help=f"Cases in flight at once. [default: {constants.CONCURRENCY}]",
        ),
    ] = None,
    channel: Annotated[
        str | None,
        typer.Option(
            "--channel",
            metavar="email|sms|linkedin|any",
            help="Only jobs of this channel. [default: any]",
        ),
    ] = None,
    from_: Annotated[
        str | None,
        typer.Option(
            "--from", metavar="TIME", help="Jobs created at or after (ISO 8601; UTC if no offset)."
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to", metavar="TIME", help="Jobs created before (ISO 8601; UTC if no offset)."
        ),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            metavar="STATUS|any",
            help=f"Job status to select. [default: {constants.STATUS}]",
        ),
    ] = None,
    case_ids: Annotated[
        str | None,
        typer.Option(
            "--case-ids", metavar="A,B", help="Replay exactly these case ids (needs --client-id)."
        ),
    ] = None,
    manifest: Annotated[
        str | None,
        typer.Option(
            "--manifest",
            metavar="FILE",
            help='Replay the cases of a JSON manifest: ["id", …] or {"cases": [{"id", "tags"}]}.',
        ),
    ] = None,
    thread_limit: Annotated[
        str | None,
        typer.Option(
            "--thread-limit",
            envvar="REPLAY_THREAD_LIMIT",
            metavar="K",
            help=f"Newest K thread messages per case. [default: {constants.THREAD_LIMIT}]",
        ),
    ] = None,
    allow_empty: Annotated[
        bool, typer.Option("--allow-empty", help="Exit 0 instead of 4 when nothing is selected.")
    ] = False,
    show_sql: Annotated[
        bool, typer.Option("--show-sql", help="Print the SQL that selection runs.")
    ] = False,
    request_source: Annotated[
        str | None,
        typer.Option(
            "--request-source",
            metavar="auto|recorded|rendered",
            help="Re-send the recorded request or render the template."
            f" [default: {constants.REQUEST_SOURCE}]",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            envvar="REPLAY_MODEL",
            metavar="NAME",
            help=f"Model to replay with. [default: the recorded one, else {constants.MODEL}]",
        ),
    ] = None,
    temperature: Annotated[
        str | None,
        typer.Option(
            "--temperature",
            metavar="T",
            help="Sampling temperature, 0 to 2. [default: as recorded]",
        ),
    ] = None,
    system_prompt_file: Annotated[
        str | None,
        typer.Option(
            "--system-prompt-file", metavar="FILE", help="Replaces the first system message."
        ),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="Artifact path (must not exist). [default: DIR/run-<UTC time>.json]",
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress; print only the artifact path.")
    ] = False,
    pipeline: Annotated[
        str | None,
        typer.Option(
            "--pipeline",
            envvar="REPLAY_PIPELINE",
            metavar="openai|python:MOD:FN|URL",
            help=f"What makes the new drafts. [default: {constants.PIPELINE}]",
        ),
    ] = None,
    retries: Annotated[
        str | None,
        typer.Option(
            "--retries",
            metavar="N",
            help=f"Retries of a retryable failure; 0 for none. [default: {constants.RETRIES}]",
        ),
    ] = None,
    request_timeout: Annotated[
        str | None,
        typer.Option(
            "--request-timeout",
            metavar="SECONDS",
            help=f"Deadline of one attempt. [default: {constants.REQUEST_TIMEOUT_S:g}]",
        ),
    ] = None,
    case_timeout: Annotated[
        str | None,
        typer.Option(
            "--case-timeout",
            metavar="SECONDS",
            help=f"Deadline of a case across its attempts. [default: {constants.CASE_TIMEOUT_S:g}]",
        ),
    ] = None,
    max_cost: Annotated[
        str | None,
        typer.Option(
            "--max-cost",
            metavar="USD",
            help="Start no case once the spend would pass this; the rest are skipped (exit 1).",
        ),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume",
            metavar="PATH",
            help="Finish an interrupted run (its .partial.jsonl or interrupted .json); same flags.",
        ),
    ] = None,
    retry_errors: Annotated[
        bool,
        typer.Option("--retry-errors", help="With --resume: replay cases that ended in error."),
    ] = False,
    no_gate: NoGate = False,
    max_error_rate: MaxErrorRate = None,
    max_invalid_rate: MaxInvalidRate = None,
    summary_md: SummaryMd = None,
    junit: Annotated[
        str | None,
        typer.Option(
            "--junit", metavar="FILE", help="Also write JUnit XML: one test case per case."
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            metavar="PATH|latest",
            help="Compare with an earlier run artifact, or the latest complete one of this client.",
        ),
    ] = None,
    judge_model: Annotated[
        str | None,
        typer.Option(
            "--judge-model",
            envvar="REPLAY_JUDGE_MODEL",
            metavar="NAME",
            help="Judge each changed draft against the original with this model. [default: off]",
        ),
    ] = None,
    judge_base_url: JudgeBaseUrl = None,
    judge_concurrency: JudgeConcurrency = None,
    judge_retries: JudgeRetries = None,
    no_judge_cache: NoJudgeCache = False,
    repeats: Annotated[
        str | None,
        typer.Option(
            "--repeats",
            metavar="K",
            help="Replay each case K times to measure noise; a case regresses by majority. "
            "[default: 1]",
        ),
    ] = None,
    gate_on_stats: GateOnStats = False,
    no_report: Annotated[
        bool,
        typer.Option("--no-report", help="Write neither the HTML report nor the history line."),
    ] = False,
    write_manifest: Annotated[
        str | None,
        typer.Option(
            "--write-manifest",
            metavar="FILE",
            help="Freeze the selected case ids into a manifest for later --manifest runs.",
        ),
    ] = None,
    database_url: DatabaseUrl = None,
    source_sql: SourceSql = None,
    thread_sql: ThreadSql = None,
    config: ConfigFile = None,
    artifacts_dir: ArtifactsDir = None,
) -> int:
    """Replay the last N draft jobs of a client (or given cases), or dry-run them."""
    flags = {name: value for name, value in locals().items() if name != "junit"}
    run_config = options.run_config(options.RunFlags(**flags))  # every run flag, by name
    # JUnit XML is the CLI's own rendering of the finished artifact, not part of the run.
    junit_path = settings.writable_file("--junit", junit) if junit else None
    selection = run_config.selection
    progress = None if quiet or dry_run else progress_for(sys.stderr)
    outcome = anyio.run(app.run, run_config, progress)
    for statement in outcome.sql:
        print(statement)
    if outcome.summary is not None and outcome.mode == "live" and outcome.status != "blocked":
        if not quiet:
            print(report.summary_text(outcome.summary, outcome.gate))
            if outcome.baseline is not None:
                print(report.baseline_text(outcome.baseline))
            noise = (outcome.record or {}).get("noise")
            if noise:
                print(report.noise_text(Noise.model_validate(noise)))
        if junit_path is not None and outcome.artifact is not None:
            artifact_data = orjson.loads(outcome.artifact.read_bytes())
            junit_path.write_text(junit_xml.render(artifact_data), encoding="utf-8")
        if run_config.summary_md is not None:
            markdown = report.summary_markdown(
                run_id=outcome.run_id or "",
                client_id=selection.client_id,
                mode=outcome.mode,
                summary=outcome.summary,
                gate=outcome.gate,
            )
            run_config.summary_md.write_text(markdown, encoding="utf-8")
    if quiet:
        if outcome.artifact:
            print(outcome.artifact)
    else:
        print(
            report.run_text(
                preflight=outcome.preflight,
                selection=outcome.selection,
                summary=outcome.summary,
                artifact=outcome.artifact,
            )
        )
    if outcome.report is not None and not quiet:
        print(f"report: {outcome.report}")
    for warning in outcome.warnings:
        print(f"replay: warning: {warning}", file=sys.stderr)
    if outcome.exit_code and outcome.message:
        print(f"replay: {outcome.message}", file=sys.stderr)
    return outcome.exit_code
