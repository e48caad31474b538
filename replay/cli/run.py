"""`replay run`: replay a client's jobs, print the summary, write the optional renderings."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import anyio
import typer

from replay.artifacts import store
from replay.artifacts.load import load_run
from replay.cli.flags import (
    ArtifactsDir,
    BatchWindow,
    ConfigFile,
    Control,
    ControlModel,
    ControlPipeline,
    ControlRequestSource,
    ControlSystemPromptFile,
    DatabaseUrl,
    GateOnStats,
    JudgeBaseUrl,
    JudgeConcurrency,
    JudgeRetries,
    JudgeVia,
    MaxErrorRate,
    MaxInvalidRate,
    MinEvidence,
    NoGate,
    NoJudgeCache,
    Pacing,
    Rpm,
    SourceSql,
    SummaryMd,
    ThreadSql,
    Tpm,
    Via,
    option,
)
from replay.cli.progress import progress_for
from replay.config import defaults, inputs, rules
from replay.config.file import load_toml
from replay.config.models import CacheMode, RequestSourceChoice
from replay.config.resolve import run_config
from replay.config.runflags import ChannelChoice, RunFlags
from replay.models import Noise, Shard
from replay.ops.judge_eval import calibrated
from replay.report import junit as junit_xml
from replay.report import text
from replay.run import app


def run_command(
    client_id: Annotated[
        str | None,
        option(
            "--client-id",
            rule=rules.client_id,
            env="REPLAY_CLIENT_ID",
            metavar="ID",
            help="The client whose jobs to replay (required).",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        option(
            "--limit",
            rule=rules.count,
            env="REPLAY_LIMIT",
            metavar="N",
            help=f"Replay the last N jobs. [default: {defaults.LIMIT}; with ids: their count]",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Select, render and estimate; no model call.")
    ] = False,
    concurrency: Annotated[
        int | None,
        option(
            "--concurrency",
            rule=rules.count,
            env="REPLAY_CONCURRENCY",
            metavar="N",
            help=f"Cases in flight at once. [default: {defaults.CONCURRENCY}]",
        ),
    ] = None,
    channel: Annotated[
        ChannelChoice | None,
        option(
            "--channel",
            rule=rules.choice(*defaults.CHANNELS, "any"),
            env="REPLAY_CHANNEL",
            metavar="email|sms|linkedin|any",
            help="Only jobs of this channel. [default: any]",
        ),
    ] = None,
    from_: Annotated[
        datetime | None,
        option(
            "--from",
            rule=rules.timestamp,
            metavar="TIME",
            help="Jobs created at or after (ISO 8601; UTC if no offset).",
        ),
    ] = None,
    to: Annotated[
        datetime | None,
        option(
            "--to",
            rule=rules.timestamp,
            metavar="TIME",
            help="Jobs created before (ISO 8601; UTC if no offset).",
        ),
    ] = None,
    status: Annotated[
        str | None,
        option(
            "--status",
            rule=rules.text,
            env="REPLAY_STATUS",
            metavar="STATUS|any",
            help=f"Job status to select. [default: {defaults.STATUS}]",
        ),
    ] = None,
    case_ids: Annotated[
        rules.CaseIds | None,
        option(
            "--case-ids",
            rule=rules.case_ids,
            metavar="A,B",
            help="Replay exactly these case ids (needs --client-id).",
        ),
    ] = None,
    manifest: Annotated[
        Path | None,
        option(
            "--manifest",
            env="REPLAY_MANIFEST",
            metavar="FILE",
            help='Replay the cases of a JSON manifest: ["id", …] or {"cases": [{"id", "tags"}]}.',
        ),
    ] = None,
    thread_limit: Annotated[
        int | None,
        option(
            "--thread-limit",
            rule=rules.count,
            env="REPLAY_THREAD_LIMIT",
            metavar="K",
            help=f"Newest K thread messages per case. [default: {defaults.THREAD_LIMIT}]",
        ),
    ] = None,
    allow_empty: Annotated[
        bool, typer.Option("--allow-empty", help="Exit 0 instead of 4 when nothing is selected.")
    ] = False,
    shard: Annotated[
        Shard | None,
        option(
            "--shard",
            rule=rules.shard,
            env="REPLAY_SHARD",
            metavar="i/n",
            help="Replay only part i of n of the selection (by case id hash); see `replay merge`.",
        ),
    ] = None,
    show_sql: Annotated[
        bool, typer.Option("--show-sql", help="Print the SQL that selection runs.")
    ] = False,
    request_source: Annotated[
        RequestSourceChoice | None,
        option(
            "--request-source",
            rule=rules.choice("auto", "recorded", "rendered"),
            env="REPLAY_REQUEST_SOURCE",
            metavar="auto|recorded|rendered",
            help="Re-send the recorded request or render the template."
            f" [default: {defaults.REQUEST_SOURCE}]",
        ),
    ] = None,
    model: Annotated[
        str | None,
        option(
            "--model",
            rule=rules.text,
            env="REPLAY_MODEL",
            metavar="NAME",
            help="Model to replay with. [default: the recorded request's, else the case's "
            f"original_model, else {defaults.MODEL}]",
        ),
    ] = None,
    temperature: Annotated[
        float | None,
        option(
            "--temperature",
            rule=rules.temperature,
            env="REPLAY_TEMPERATURE",
            metavar="T",
            help="Sampling temperature, 0 to 2. [default: as recorded]",
        ),
    ] = None,
    system_prompt_file: Annotated[
        Path | None,
        option(
            "--system-prompt-file",
            env="REPLAY_SYSTEM_PROMPT_FILE",
            metavar="FILE",
            help="Replaces the first system message.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        option(
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
        option(
            "--pipeline",
            rule=rules.pipeline,
            env="REPLAY_PIPELINE",
            metavar="openai|python:MOD:FN|URL",
            help=f"What makes the new drafts. [default: {defaults.PIPELINE}]",
        ),
    ] = None,
    retries: Annotated[
        int | None,
        option(
            "--retries",
            rule=rules.whole,
            env="REPLAY_RETRIES",
            metavar="N",
            help=f"Retries of a retryable failure; 0 for none. [default: {defaults.RETRIES}]",
        ),
    ] = None,
    request_timeout: Annotated[
        float | None,
        option(
            "--request-timeout",
            rule=rules.seconds,
            env="REPLAY_REQUEST_TIMEOUT",
            metavar="SECONDS",
            help=f"Deadline of one attempt. [default: {defaults.REQUEST_TIMEOUT_S:g}]",
        ),
    ] = None,
    case_timeout: Annotated[
        float | None,
        option(
            "--case-timeout",
            rule=rules.seconds,
            env="REPLAY_CASE_TIMEOUT",
            metavar="SECONDS",
            help=f"Deadline of a case across its attempts. [default: {defaults.CASE_TIMEOUT_S:g}]",
        ),
    ] = None,
    max_cost: Annotated[
        float | None,
        option(
            "--max-cost",
            rule=rules.usd,
            env="REPLAY_MAX_COST",
            metavar="USD",
            help="Start no case once the spend would pass this; the rest are skipped (exit 1).",
        ),
    ] = None,
    max_answer_chars: Annotated[
        int | None,
        option(
            "--max-answer-chars",
            rule=rules.count,
            env="REPLAY_MAX_ANSWER_CHARS",
            metavar="N",
            help="Longer answers are a model_error naming their size, never kept. "
            f"[default: {defaults.MAX_ANSWER_CHARS:,}]",
        ),
    ] = None,
    cache: Annotated[
        CacheMode | None,
        option(
            "--cache",
            rule=rules.cache_mode,
            env="REPLAY_CACHE",
            metavar="read-write|read|off",
            help="Answer a request seen before from DIR/response-cache without a model call "
            "(read-write keeps new answers, read does not). [default: off]",
        ),
    ] = None,
    cache_max_mb: Annotated[
        int | None,
        option(
            "--cache-max-mb",
            rule=rules.count,
            env="REPLAY_CACHE_MAX_MB",
            metavar="MB",
            help="Bound of each cache folder; the least recently used entries go first. "
            f"[default: {defaults.CACHE_MAX_MB}]",
        ),
    ] = None,
    pacing: Pacing = None,
    rpm: Rpm = None,
    tpm: Tpm = None,
    via: Via = None,
    batch_window: BatchWindow = None,
    judge_via: JudgeVia = None,
    resume: Annotated[
        Path | None,
        option(
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
    min_evidence: MinEvidence = None,
    summary_md: SummaryMd = None,
    junit: Annotated[
        Path | None,
        option(
            "--junit",
            env="REPLAY_JUNIT",
            metavar="FILE",
            help="Also write JUnit XML: one test case per case.",
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        option(
            "--baseline",
            env="REPLAY_BASELINE",
            metavar="PATH|latest",
            help="Compare with an earlier run artifact, or the latest complete one of this client.",
        ),
    ] = None,
    judge_model: Annotated[
        str | None,
        option(
            "--judge-model",
            rule=rules.text,
            env="REPLAY_JUDGE_MODEL",
            metavar="NAME",
            help="Judge each changed draft against the original with this model. [default: off]",
        ),
    ] = None,
    judge_base_url: JudgeBaseUrl = None,
    judge_concurrency: JudgeConcurrency = None,
    judge_retries: JudgeRetries = None,
    no_judge_cache: NoJudgeCache = False,
    repeats: Annotated[
        int | None,
        option(
            "--repeats",
            rule=rules.count,
            env="REPLAY_REPEATS",
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
        Path | None,
        option(
            "--write-manifest",
            metavar="FILE",
            help="Freeze the selected case ids into a manifest for later --manifest runs.",
        ),
    ] = None,
    control: Control = False,
    control_model: ControlModel = None,
    control_pipeline: ControlPipeline = None,
    control_request_source: ControlRequestSource = None,
    control_system_prompt_file: ControlSystemPromptFile = None,
    database_url: DatabaseUrl = None,
    source_sql: SourceSql = None,
    thread_sql: ThreadSql = None,
    config: ConfigFile = None,
    artifacts_dir: ArtifactsDir = None,
) -> int:
    """Replay the last N draft jobs of a client (or given cases), or dry-run them."""
    flags = RunFlags(**{name: value for name, value in locals().items() if name != "junit"})
    config_ = calibrated(run_config(flags, load_toml(config)))  # the judge's last calibration
    # JUnit XML is the CLI's own rendering of the finished artifact, not part of the run.
    junit_path = inputs.writable_file("--junit", junit) if junit else None
    selection = config_.selection
    progress = None if quiet or dry_run else progress_for(sys.stderr)
    outcome = anyio.run(app.run, config_, progress)
    for statement in outcome.sql:
        print(statement)
    if outcome.summary is not None and outcome.mode == "live" and outcome.status != "blocked":
        if not quiet:
            print(text.summary_text(outcome.summary, outcome.gate))
            if outcome.baseline is not None:
                print(text.baseline_text(outcome.baseline))
            noise = (outcome.record or {}).get("noise")
            if noise:
                print(text.noise_text(Noise.model_validate(noise)))
        if junit_path is not None and outcome.artifact is not None:
            written = load_run(outcome.artifact, role="")
            store.write_text(junit_path, junit_xml.render(written))
        if config_.summary_md is not None:
            markdown = text.summary_markdown(
                run_id=outcome.run_id or "",
                client_id=selection.client_id,
                mode=outcome.mode,
                summary=outcome.summary,
                gate=outcome.gate,
            )
            store.write_text(config_.summary_md, markdown)
    if quiet:
        if outcome.artifact:
            print(outcome.artifact)
    else:
        print(
            text.run_text(
                preflight=outcome.preflight,
                selection=outcome.selection,
                summary=outcome.summary,
                artifact=outcome.artifact,
                dry=outcome.mode == "dry",
            )
        )
    if outcome.report is not None and not quiet:
        print(f"report: {outcome.report}")
    for warning in outcome.warnings:
        print(f"replay: warning: {warning}", file=sys.stderr)
    if outcome.exit_code and outcome.message:
        print(f"replay: {outcome.message}", file=sys.stderr)
    return outcome.exit_code
