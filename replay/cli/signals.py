"""Rollout commands over live job health: signals, canary-check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import orjson
import typer

from replay.cli.flags import ArtifactsDir, ConfigFile, DatabaseUrl, option
from replay.config import resolve, rules, sqlcheck
from replay.config.file import load_toml
from replay.config.models import CanaryThresholds, SignalsConfig
from replay.config.views import signal_views
from replay.errors import ExitCode, UsageError
from replay.models import SignalsArtifact
from replay.ops import rollout
from replay.report import signals as signals_report

SignalClient = Annotated[
    str | None,
    option(
        "--client-id",
        rule=rules.client_id,
        env="REPLAY_CLIENT_ID",
        metavar="ID",
        help="One client. [default: every client]",
    ),
]
Since = Annotated[
    float | None,
    option(
        "--since",
        rule=rules.duration,
        metavar="DURATION",
        help="Range ending at --until: 90m, 24h, 7d.",
    ),
]
Until = Annotated[
    datetime | None,
    option("--until", rule=rules.timestamp, metavar="TIME", help="End of --since. [default: now]"),
]
From = Annotated[
    datetime | None,
    option("--from", rule=rules.timestamp, metavar="TIME", help="Range start (ISO 8601)."),
]
To = Annotated[
    datetime | None,
    option("--to", rule=rules.timestamp, metavar="TIME", help="Range end (ISO 8601)."),
]
Window = Annotated[
    float | None,
    option(
        "--window", rule=rules.duration, metavar="DURATION", help="Backlog window. [default: 15m]"
    ),
]
Canary = Annotated[
    str | None,
    option(
        "--canary",
        env="REPLAY_CANARY",
        metavar="SQL",
        help="Predicate over the jobs view marking canary jobs. [default: the cohort column]",
    ),
]
Format = Annotated[
    Literal["table", "markdown", "json"],
    typer.Option(
        "--format",
        parser=rules.choice("table", "markdown", "json"),
        metavar="table|markdown|json",
        help="Output.",
    ),
]
JobsSql = Annotated[
    Path | None,
    option("--jobs-sql", env="REPLAY_JOBS_SQL", metavar="FILE", help="Jobs view for your schema."),
]
DispatchSql = Annotated[
    Path | None,
    option(
        "--dispatch-sql",
        env="REPLAY_DISPATCH_SQL",
        metavar="FILE",
        help="Dispatch-events view for your schema.",
    ),
]
DraftsSql = Annotated[
    Path | None,
    option(
        "--drafts-sql",
        env="REPLAY_DRAFTS_SQL",
        metavar="FILE",
        help="Drafts view for your schema (without it, duplicate drafts are not measured).",
    ),
]


@dataclass(frozen=True)
class SignalFlags:
    """The flags `signals` and `canary-check` share, typed."""

    client_id: str | None
    since: float | None
    until: datetime | None
    from_: datetime | None
    to: datetime | None
    window: float | None
    canary: str | None
    database_url: str | None
    jobs_sql: Path | None
    dispatch_sql: Path | None
    drafts_sql: Path | None
    config: Path | None
    artifacts_dir: Path | None
    out: Path | None


def _signals_config(
    flags: SignalFlags,
    *,
    default_since_s: float,
    stage: int | None = None,
    thresholds: dict[str, Any] | None = None,
) -> SignalsConfig:
    toml = load_toml(flags.config)
    if (flags.from_ or flags.to) and (flags.since or flags.until):
        raise UsageError("--from/--to and --since/--until cannot be combined; pass one range")
    if flags.from_ or flags.to:
        if not (flags.from_ and flags.to):
            raise UsageError("--from and --to go together; pass both")
        start, end = flags.from_, flags.to
    else:
        end = flags.until or datetime.now(UTC)
        start = end - timedelta(seconds=flags.since or default_since_s)
    if start >= end:
        raise UsageError(f"--from {start.isoformat()!r} must be before --to {end.isoformat()!r}")
    if flags.canary is not None:
        sqlcheck.check_expression(flags.canary, origin="--canary")
    window_s = flags.window or 15 * 60.0
    canary_limits = resolve.canary_thresholds(toml, **(thresholds or {}))
    windows = -(-(end - start).total_seconds() // window_s)
    if thresholds is not None and windows <= canary_limits.backlog_windows:
        raise UsageError(
            f"--window {window_s:g}s splits the range into {windows:.0f} windows; the backlog "
            f"rule needs more than {canary_limits.backlog_windows}: widen the range or shorten "
            "--window"
        )
    return SignalsConfig(
        database=resolve.database(toml, flags.database_url, None, None),
        views=signal_views(toml, flags.jobs_sql, flags.dispatch_sql, flags.drafts_sql),
        client_id=flags.client_id,
        start=start,
        end=end,
        window_s=window_s,
        canary=flags.canary,
        artifacts_dir=resolve.artifacts_dir(toml, flags.artifacts_dir),
        out=flags.out,
        thresholds=canary_limits,
        stage=stage,
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
    out: Annotated[Path | None, option("--out", metavar="FILE", help="Artifact path.")] = None,
    database_url: DatabaseUrl = None,
    jobs_sql: JobsSql = None,
    dispatch_sql: DispatchSql = None,
    drafts_sql: DraftsSql = None,
    config: ConfigFile = None,
    artifacts_dir: ArtifactsDir = None,
) -> int:
    """Job health per cohort, dispatch mode and job type over a range (default: the last 24h)."""
    flags = SignalFlags(
        client_id, since, until, from_, to, window, canary, database_url, jobs_sql,
        dispatch_sql, drafts_sql, config, artifacts_dir, out,
    )  # fmt: skip
    signals_config = _signals_config(flags, default_since_s=24 * 3600.0)
    artifact, path = anyio.run(lambda: rollout.signals(signals_config, check=False))
    _print_signals(output, artifact, path)
    return ExitCode.OK


def canary_check_command(
    stage: Annotated[
        int | None,
        option("--stage", rule=_stage, metavar="5|25|100", help="The stage being judged."),
    ] = None,
    client_id: SignalClient = None,
    since: Since = None,
    until: Until = None,
    from_: From = None,
    to: To = None,
    window: Window = None,
    canary: Canary = None,
    p95_limit: Annotated[
        float | None,
        option(
            "--p95-limit",
            rule=rules.seconds,
            metavar="SECONDS",
            help=f"Canary p95 dispatch limit. [default: {CanaryThresholds().p95_limit_s:g}]",
        ),
    ] = None,
    min_jobs: Annotated[
        int | None,
        option(
            "--min-jobs",
            rule=rules.count,
            metavar="N",
            help=f"Jobs per cohort needed to decide. [default: {CanaryThresholds().min_jobs}]",
        ),
    ] = None,
    output: Format = "table",
    out: Annotated[Path | None, option("--out", metavar="FILE", help="Artifact path.")] = None,
    database_url: DatabaseUrl = None,
    jobs_sql: JobsSql = None,
    dispatch_sql: DispatchSql = None,
    drafts_sql: DraftsSql = None,
    config: ConfigFile = None,
    artifacts_dir: ArtifactsDir = None,
) -> int:
    """Continue or stop a staged rollout: 0 continue, 1 stop, 3 unreadable, 4 not enough data.

    4 also when a rule of [canary] required could not be evaluated (a view or column missing):
    what was not measured never passes.
    """
    flags = SignalFlags(
        client_id, since, until, from_, to, window, canary, database_url, jobs_sql,
        dispatch_sql, drafts_sql, config, artifacts_dir, out,
    )  # fmt: skip
    thresholds = {"p95_limit_s": p95_limit, "min_jobs": min_jobs}
    signals_config = _signals_config(
        flags, default_since_s=2 * 3600.0, stage=stage, thresholds=thresholds
    )
    artifact, path = anyio.run(lambda: rollout.signals(signals_config, check=True))
    _print_signals(output, artifact, path)
    return artifact.exit_code


def _stage(value: object) -> int:
    """A rollout stage: 5, 25 or 100 (percent of clients)."""
    return int(rules.choice("5", "25", "100")(value))


def _print_signals(form: str, artifact: SignalsArtifact, path: Path) -> None:
    if form == "json":
        print(orjson.dumps(artifact.model_dump(mode="json"), option=orjson.OPT_INDENT_2).decode())
        return
    if form == "markdown":
        print(signals_report.signals_markdown(artifact.current, artifact.decision))
    else:
        print(signals_report.signals_text(artifact.current))
        if artifact.decision is not None:
            print(signals_report.decision_text(artifact.decision))
    print(f"artifact: {path}")
