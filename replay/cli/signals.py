"""Rollout commands over live job health: signals, canary-check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import anyio
import orjson
import typer

from replay.cli.flags import ArtifactsDir, ConfigFile, DatabaseUrl
from replay.config import defaults as constants
from replay.config import resolve as options
from replay.config import settings, sqlcheck
from replay.config.models import CanaryThresholds, SignalsConfig
from replay.errors import ExitCode, UsageError
from replay.models import SignalsArtifact
from replay.ops import rollout
from replay.report import text as report

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
Format = Annotated[str, typer.Option("--format", metavar="table|markdown|json", help="Output.")]
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
    artifact, path = anyio.run(lambda: rollout.signals(signals_config, check=False))
    _print_signals(form, artifact, path)
    return ExitCode.OK


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
        typer.Option(
            "--p95-limit",
            metavar="SECONDS",
            help=f"Canary p95 dispatch limit. [default: {CanaryThresholds().p95_limit_s:g}]",
        ),
    ] = None,
    min_jobs: Annotated[
        str | None,
        typer.Option(
            "--min-jobs",
            metavar="N",
            help=f"Jobs per cohort needed to decide. [default: {CanaryThresholds().min_jobs}]",
        ),
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
    artifact, path = anyio.run(lambda: rollout.signals(signals_config, check=True))
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
