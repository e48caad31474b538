"""The `replay` command: parse, build a frozen config, call the app, print, exit.

The only module that prints or exits. `replay --client-id X …` means `replay run --client-id X …`.
"""

from __future__ import annotations

import sys
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import anyio
import orjson
import typer
from pydantic import ValidationError

# typer >= 0.29 carries its own copy of click; its exceptions and Context live there.
from typer._click import Context
from typer._click import exceptions as click_errors
from typer.core import TyperGroup

from replay import (
    __version__,
    app,
    artifacts,
    constants,
    history,
    html,
    nightly,
    options,
    report,
    settings,
    sqlcheck,
)
from replay import junit as junit_xml
from replay.config import (
    CompareConfig,
    GateConfig,
    SignalsConfig,
)
from replay.errors import ReplayError, UsageError
from replay.models import Gate, Noise, RunArtifact, SignalsArtifact, Summary
from replay.progress import progress_for


class _RunByDefault(TyperGroup):
    """Insert `run` when the first argument is an option, so `replay --client-id X` runs.

    A mistyped subcommand still fails (it does not start with `-`), and the run flags stay on
    `run` instead of becoming group options that every subcommand would silently accept.
    """

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if args and args[0].startswith("-") and args[0] not in ("--help", "-h", "--version"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


cli = typer.Typer(
    cls=_RunByDefault,
    name="replay",
    help="Replay historical AI draft jobs through a changed drafting system; gate on regressions.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        print(f"replay {__version__}")
        raise typer.Exit(0)


@cli.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Replay historical AI draft jobs; see `replay run --help`."""


# Options shared by the commands that read the database. Defaults are written into the help
# text from `constants`, never read from the environment (that would print a DSN).
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="DATABASE_URL",
        show_envvar=True,
        show_default=False,
        metavar="URL",
        help="Postgres URL of the source database (opened read-only).",
    ),
]
SourceSql = Annotated[
    str | None,
    typer.Option("--source-sql", metavar="FILE", help="Case view: a SELECT for your schema."),
]
ThreadSql = Annotated[
    str | None,
    typer.Option("--thread-sql", metavar="FILE", help="Thread view: a SELECT for your schema."),
]
ConfigFile = Annotated[
    str | None,
    typer.Option(
        "--config",
        envvar="REPLAY_CONFIG",
        metavar="FILE",
        help="Config file. [default: ./replay.toml]",
    ),
]
ArtifactsDir = Annotated[
    str | None,
    typer.Option(
        "--artifacts-dir",
        envvar="REPLAY_ARTIFACTS_DIR",
        metavar="DIR",
        help=f"Where artifacts go. [default: {constants.ARTIFACTS_DIR}]",
    ),
]


# Gate options, the same on `run` and `compare`.
NoGate = Annotated[bool, typer.Option("--no-gate", help="Report the gate's rules without failing.")]
JudgeBaseUrl = Annotated[
    str | None,
    typer.Option(
        "--judge-base-url",
        envvar="REPLAY_JUDGE_BASE_URL",
        metavar="URL",
        help="The judge's endpoint; its key is REPLAY_JUDGE_API_KEY. [default: the pipeline's]",
    ),
]
JudgeConcurrency = Annotated[
    str | None,
    typer.Option("--judge-concurrency", metavar="N", help="Judge requests in flight. [default: 4]"),
]
JudgeRetries = Annotated[
    str | None,
    typer.Option(
        "--judge-retries", metavar="N", help="Retries of a failed judge request. [default: 3]"
    ),
]
NoJudgeCache = Annotated[
    bool, typer.Option("--no-judge-cache", help="Ask the judge even when the answer is cached.")
]
GateOnStats = Annotated[
    bool,
    typer.Option(
        "--gate-on-stats",
        help="Against a baseline: fail on quality only when the paired interval shows it worse.",
    ),
]
MaxErrorRate = Annotated[
    str | None,
    typer.Option(
        "--max-error-rate", metavar="R", help="Gate: errors / cases run, 0 to 1. [default: 0.1]"
    ),
]
MaxInvalidRate = Annotated[
    str | None,
    typer.Option(
        "--max-invalid-rate",
        metavar="R",
        help="Gate: invalid cases / cases selected, 0 to 1. [default: 0.2]",
    ),
]
SummaryMd = Annotated[
    str | None,
    typer.Option(
        "--summary-md", metavar="FILE", help="Also write the summary as Markdown (CI, PRs)."
    ),
]


@cli.command("run")
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


@cli.command("clients")
def clients_command(
    database_url: DatabaseUrl = None,
    source_sql: SourceSql = None,
    thread_sql: ThreadSql = None,
    config: ConfigFile = None,
) -> int:
    """List client ids and names with their job counts, to find a --client-id."""
    toml = settings.load_toml(config)
    rows = anyio.run(app.clients, options.database(toml, database_url, source_sql, thread_sql))
    print(report.clients_text(rows))
    return 0


@cli.command("preflight")
def preflight_command(
    client_id: Annotated[
        str | None, typer.Option("--client-id", metavar="ID", help="Also check this client exists.")
    ] = None,
    database_url: DatabaseUrl = None,
    source_sql: SourceSql = None,
    thread_sql: ThreadSql = None,
    config: ConfigFile = None,
    artifacts_dir: ArtifactsDir = None,
) -> int:
    """Check the database, the views, the client and the artifact directory; run nothing."""
    toml = settings.load_toml(config)
    database = options.database(toml, database_url, source_sql, thread_sql)
    folder = Path(artifacts_dir or toml.config.artifacts.dir or constants.ARTIFACTS_DIR)
    outcome = anyio.run(
        app.check, database, folder, settings.client_id(client_id) if client_id else None
    )
    print(report.preflight_text(outcome.preflight))
    return outcome.exit_code


@cli.command("fixtures")
def fixtures_command(
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            metavar="URL",
            help="Database to fill (required; never read from DATABASE_URL).",
        ),
    ] = None,
    clients: Annotated[
        str, typer.Option("--clients", metavar="N", help="Number of clients.")
    ] = "3",
    jobs_per_client: Annotated[
        str, typer.Option("--jobs-per-client", metavar="N", help="Draft jobs per client.")
    ] = "400",
    seed: Annotated[str, typer.Option("--seed", metavar="N", help="Same seed, same data.")] = "7",
    reset: Annotated[
        bool, typer.Option("--reset", help="Drop every table of the database first.")
    ] = False,
) -> int:
    """Fill an empty database with the reference schema and seeded fixtures (the only writer)."""
    if not database_url:
        raise UsageError("fixtures needs --database-url (it writes, so it never uses DATABASE_URL)")
    try:
        seed_value = int(seed)
    except ValueError:
        raise UsageError(f"--seed must be an integer, got {seed!r}") from None
    summary = anyio.run(
        lambda: app.install_fixtures(
            database_url,
            clients=settings.positive_int("--clients", clients),
            jobs_per_client=settings.positive_int("--jobs-per-client", jobs_per_client),
            seed=seed_value,
            reset=reset,
        )
    )
    print(report.fixtures_text(summary))
    return 0


@cli.command(
    "stub-model",
    context_settings={
        "allow_extra_args": True,
        "ignore_unknown_options": True,
        "help_option_names": [],
    },
    add_help_option=False,
)
def stub_model_command(ctx: typer.Context) -> int:
    """Run the local OpenAI-compatible model server for demos and tests (--help for flags)."""
    from replay.devtools import stub_model  # only this command needs the server

    return stub_model.main(list(ctx.args))


@cli.command("compare")
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
    artifact, path = app.compare_runs(Path(old), Path(new), compare_config)
    print(report.baseline_text(artifact.report))
    print(f"gate  {report.gate_text(artifact.gate)}")
    if markdown_path is not None:
        markdown_path.write_text(report.baseline_markdown(artifact.report, artifact.gate))
    print(f"artifact: {path}")
    return artifact.exit_code


SignalClient = Annotated[
    str | None,
    typer.Option("--client-id", metavar="ID", help="One client. [default: every client]"),
]
Since = Annotated[
    str | None,
    typer.Option("--since", metavar="DURATION", help="Range ending at --until: 90m, 24h, 7d."),
]
Until = Annotated[
    str | None, typer.Option("--until", metavar="TIME", help="End of --since. [default: now]")
]
From = Annotated[str | None, typer.Option("--from", metavar="TIME", help="Range start (ISO 8601).")]
To = Annotated[str | None, typer.Option("--to", metavar="TIME", help="Range end (ISO 8601).")]
Window = Annotated[
    str | None, typer.Option("--window", metavar="DURATION", help="Backlog window. [default: 15m]")
]
Canary = Annotated[
    str | None,
    typer.Option(
        "--canary",
        metavar="SQL",
        help="Predicate over the jobs view marking canary jobs. [default: the cohort column]",
    ),
]
Format = Annotated[
    str, typer.Option("--format", metavar="table|markdown|json", help="Output. [default: table]")
]
JobsSql = Annotated[
    str | None, typer.Option("--jobs-sql", metavar="FILE", help="Jobs view for your schema.")
]
DispatchSql = Annotated[
    str | None,
    typer.Option("--dispatch-sql", metavar="FILE", help="Dispatch-events view for your schema."),
]


def _signals_config(
    *,
    default_since: str,
    client_id: str | None,
    since: str | None,
    until: str | None,
    from_: str | None,
    to: str | None,
    window: str | None,
    canary: str | None,
    database_url: str | None,
    jobs_sql: str | None,
    dispatch_sql: str | None,
    config: str | None,
    artifacts_dir: str | None,
    out: str | None,
    stage: str | None = None,
    thresholds: dict[str, Any] | None = None,
) -> SignalsConfig:
    toml = settings.load_toml(config)
    if (from_ or to) and (since or until):
        raise UsageError("--from/--to and --since/--until cannot be combined; pass one range")
    if from_ or to:
        if not (from_ and to):
            raise UsageError("--from and --to go together; pass both")
        start, end = settings.timestamp("--from", from_), settings.timestamp("--to", to)
    else:
        end = settings.timestamp("--until", until) if until else datetime.now(UTC)
        start = end - timedelta(seconds=settings.duration("--since", since or default_since))
    if start >= end:
        raise UsageError(f"--from {from_!r} must be before --to {to!r}")
    if canary is not None:
        sqlcheck.check_expression(canary, origin="--canary")
    window_s = settings.duration("--window", window or "15m")
    canary_limits = settings.canary_thresholds(toml, **(thresholds or {}))
    windows = -(-(end - start).total_seconds() // window_s)
    if thresholds is not None and windows <= canary_limits.backlog_windows:
        raise UsageError(
            f"--window {window or '15m'} splits the range into {windows:.0f} windows; the backlog "
            f"rule needs more than {canary_limits.backlog_windows}: widen the range or shorten "
            "--window"
        )
    stage_value = None
    if stage is not None:
        stage_value = int(settings.choice("--stage", stage, ("5", "25", "100")))
    return SignalsConfig(
        database=options.database(toml, database_url, None, None),
        views=settings.signal_views(toml, jobs_sql, dispatch_sql),
        client_id=settings.client_id(client_id) if client_id else None,
        start=start,
        end=end,
        window_s=window_s,
        canary=canary,
        artifacts_dir=Path(artifacts_dir or toml.config.artifacts.dir or constants.ARTIFACTS_DIR),
        out=Path(out) if out else None,
        thresholds=canary_limits,
        stage=stage_value,
    )


@cli.command("signals")
def signals_command(
    client_id: SignalClient = None,
    since: Since = None,
    until: Until = None,
    from_: From = None,
    to: To = None,
    window: Window = None,
    canary: Canary = None,
    output: Format = "table",
    out: Annotated[str | None, typer.Option("--out", metavar="FILE", help="Artifact path.")] = None,
    database_url: DatabaseUrl = None,
    jobs_sql: JobsSql = None,
    dispatch_sql: DispatchSql = None,
    config: ConfigFile = None,
    artifacts_dir: ArtifactsDir = None,
) -> int:
    """Job health per cohort, dispatch mode and job type over a range (default: the last 24h)."""
    form = settings.choice("--format", output, ("table", "markdown", "json"))
    signals_config = _signals_config(
        default_since="24h", client_id=client_id, since=since, until=until, from_=from_, to=to,
        window=window, canary=canary, database_url=database_url, jobs_sql=jobs_sql,
        dispatch_sql=dispatch_sql, config=config, artifacts_dir=artifacts_dir, out=out,
    )  # fmt: skip
    artifact, path = anyio.run(lambda: app.signals(signals_config, check=False))
    _print_signals(form, artifact, path)
    return 0


@cli.command("canary-check")
def canary_check_command(
    stage: Annotated[
        str | None, typer.Option("--stage", metavar="5|25|100", help="The stage being judged.")
    ] = None,
    client_id: SignalClient = None,
    since: Since = None,
    until: Until = None,
    from_: From = None,
    to: To = None,
    window: Window = None,
    canary: Canary = None,
    p95_limit: Annotated[
        str | None,
        typer.Option("--p95-limit", metavar="SECONDS", help="Canary p95 dispatch limit. [2]"),
    ] = None,
    min_jobs: Annotated[
        str | None,
        typer.Option("--min-jobs", metavar="N", help="Jobs per cohort needed to decide. [30]"),
    ] = None,
    output: Format = "table",
    out: Annotated[str | None, typer.Option("--out", metavar="FILE", help="Artifact path.")] = None,
    database_url: DatabaseUrl = None,
    jobs_sql: JobsSql = None,
    dispatch_sql: DispatchSql = None,
    config: ConfigFile = None,
    artifacts_dir: ArtifactsDir = None,
) -> int:
    """Continue or stop a staged rollout: 0 continue, 1 stop, 3 unreadable, 4 too little data."""
    form = settings.choice("--format", output, ("table", "markdown", "json"))
    thresholds = {
        "p95_limit_s": settings.positive_float("--p95-limit", p95_limit) if p95_limit else None,
        "min_jobs": settings.positive_int("--min-jobs", min_jobs) if min_jobs else None,
    }
    signals_config = _signals_config(
        default_since="2h", client_id=client_id, since=since, until=until, from_=from_, to=to,
        window=window, canary=canary, database_url=database_url, jobs_sql=jobs_sql,
        dispatch_sql=dispatch_sql, config=config, artifacts_dir=artifacts_dir, out=out,
        stage=stage, thresholds=thresholds,
    )  # fmt: skip
    artifact, path = anyio.run(lambda: app.signals(signals_config, check=True))
    _print_signals(form, artifact, path)
    return artifact.exit_code


def _print_signals(form: str, artifact: SignalsArtifact, path: Path) -> None:
    if form == "json":
        print(orjson.dumps(artifact.model_dump(mode="json"), option=orjson.OPT_INDENT_2).decode())
        return
    if form == "markdown":
        print(report.signals_markdown(artifact.current, artifact.decision))
    else:
        print(report.signals_text(artifact.current))
        if artifact.decision is not None:
            print(report.decision_text(artifact.decision))
    print(f"artifact: {path}")


@cli.command("report")
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
    return 0


@cli.command("rejudge")
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


@cli.command("nightly")
def nightly_command(
    config: ConfigFile = None,
    refresh_manifests: Annotated[
        bool,
        typer.Option("--refresh-manifests", help="Select each client's last N jobs afresh."),
    ] = False,
    retention_days: Annotated[
        str | None,
        typer.Option(
            "--retention-days",
            metavar="N",
            help="Afterwards delete artifacts older than N days (never a client's latest run).",
        ),
    ] = None,
    artifacts_dir: ArtifactsDir = None,
) -> int:
    """Replay every client of [nightly] in replay.toml against its own latest earlier run."""
    toml = settings.load_toml(config)
    if not toml.config.nightly.clients:
        where = str(toml.path) if toml.path else "replay.toml"
        raise UsageError(f"{where} lists no [[nightly.clients]]; add one per client to replay")
    days = settings.positive_int("--retention-days", retention_days) if retention_days else None
    night = anyio.run(
        lambda: nightly.run(
            toml,
            refresh_manifests=refresh_manifests,
            retention_days=days,
            artifacts_dir=Path(artifacts_dir) if artifacts_dir else None,
        )
    )
    print(nightly.text(night))
    print(f"summary: {night.summary}")
    return night.exit_code


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


@cli.command("history")
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
            handle.write(history.render_html(rows, title=title).encode())
        print(f"page: {page}")
    return 0


@cli.command("schema")
def schema_command() -> int:
    """Print the JSON Schema of run artifacts."""
    schema = RunArtifact.model_json_schema()
    print(orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
    return 0


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the command, turn errors into one line and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    try:
        code: Any = cli(args=args, prog_name="replay", standalone_mode=False)
    except click_errors.NoArgsIsHelpError as exc:
        print(exc.ctx.get_help() if exc.ctx else "usage: replay COMMAND", file=sys.stderr)
        code = 2
    except click_errors.UsageError as exc:
        print(f"replay: {exc.format_message()}", file=sys.stderr)
        code = 2
    except (typer.Abort, KeyboardInterrupt):
        print("replay: interrupted", file=sys.stderr)
        code = 130
    except ReplayError as exc:
        print(f"replay: {exc.message}", file=sys.stderr)
        code = exc.exit_code
    except click_errors.ClickException as exc:
        print(f"replay: {exc.format_message()}", file=sys.stderr)
        code = exc.exit_code
    except Exception:
        traceback.print_exc()
        print(
            "replay: internal error (a bug in replay; the traceback above helps fix it)",
            file=sys.stderr,
        )
        code = 70
    sys.exit(code if isinstance(code, int) else 0)
