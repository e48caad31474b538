"""Operational signals of draft jobs: latency, failures, duplicates, backlog, enqueue failures.

Reads the jobs view (and, when present, the dispatch and drafts views) over one time range,
read-only, in four aggregate queries, so a million jobs stay a few seconds of work:

1. per cohort and per cohort × dispatch mode × job type (GROUPING SETS): counts, rates and
   dispatch / processing percentiles;
2. duplicate executions and dedupe-key collisions per cohort;
3. enqueue attempts and failures per cohort from the dispatcher's events;
4. the backlog at each window's end: only jobs whose wait crosses a window boundary produce
   rows, so this stays linear in the jobs however many windows there are.

Jobs count in the range by `enqueued_at`; a job enqueued before the range is not part of it.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Literal

import asyncpg

from replay.config.models import SignalsConfig, SignalViews
from replay.errors import UsageError
from replay.models import BacklogPoint, CohortSignals, GroupStats, SignalsReport
from replay.source import preflight, views
from replay.source.views import Shape

CONTRACT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "jobs": (
        (
            "job_id", "client_id", "job_type", "status", "dispatch_mode",
            "trigger_message_id", "enqueued_at", "started_at", "finished_at",
        ),
        ("cohort", "dedupe_key", "attempts", "max_attempts", "last_error"),
    ),
    "dispatch": (("client_id", "kind", "occurred_at"), ("job_id", "dedupe_key", "cohort")),
    "drafts": (("client_id", "trigger_message_id", "created_at"), ("job_id",)),
}  # fmt: skip


# date_part gives float8 directly; extract's numeric makes a million rows cost seconds.
DISPATCH = "date_part('epoch', started_at::timestamptz - enqueued_at::timestamptz)"
PROCESSING = "date_part('epoch', finished_at::timestamptz - started_at::timestamptz)"
BUCKET_RATIO = 1.02
"""Histogram buckets grow by 2%: a percentile is exact to within 2%, from 1 ms up."""


class Shapes:
    """The described views of one signals source."""

    def __init__(self, jobs: Shape, dispatch: Shape | None, drafts: Shape | None) -> None:
        self.jobs = jobs
        self.dispatch = dispatch
        self.drafts = drafts


async def inspect(conn: asyncpg.Connection, source: SignalViews) -> Shapes:
    """Describe the views and check their columns against the contract (missing ones named)."""
    listed = [view for view in (source.jobs, source.dispatch, source.drafts) if view is not None]
    described = {view.name: await views.describe(conn, view) for view in listed}
    views.require(described.values(), CONTRACT)
    return Shapes(described["jobs"], described.get("dispatch"), described.get("drafts"))


async def collect(
    conn: asyncpg.Connection, shapes: Shapes, config: SignalsConfig, start: datetime, end: datetime
) -> SignalsReport:
    """All signals of the range [start, end) in one read-only snapshot."""
    query = _Query(shapes, config, start, end)
    try:
        return await _collect(conn, shapes, config, query, start, end)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        if preflight.connection_lost(exc):
            raise preflight.lost("reading job signals") from None
        raise


async def _collect(
    conn: asyncpg.Connection,
    shapes: Shapes,
    config: SignalsConfig,
    query: _Query,
    start: datetime,
    end: datetime,
) -> SignalsReport:
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        # Hash aggregates over a million jobs fit in memory instead of spilling to disk.
        await conn.execute("SET LOCAL work_mem = '128MB'")
        try:
            groups = await conn.fetch(query.groups(), *query.args)
            histograms = [
                *await conn.fetch(query.histogram("dispatch"), *query.args),
                *await conn.fetch(query.histogram("processing"), *query.args),
            ]
            duplicates = await conn.fetch(query.duplicates(), *query.args)
            drafts = await conn.fetch(query.drafts(), *query.args) if shapes.drafts else []
            enqueues = await conn.fetch(query.enqueues(), *query.args) if shapes.dispatch else []
            backlog = await conn.fetch(query.backlog(), *query.args, config.window_s)
        except asyncpg.InvalidTextRepresentationError:
            raise UsageError(
                f"--client-id must be a {shapes.jobs.types['client_id']} (the jobs view's "
                f"client_id type), got {config.client_id!r}"
            ) from None
        except asyncpg.PostgresError as exc:
            if preflight.connection_lost(exc):
                raise
            raise UsageError(
                f"the signals query failed on the jobs view ({shapes.jobs.view.origin}) or the "
                f"--canary predicate: {exc.message} (SQLSTATE {exc.sqlstate})"
            ) from None
    source: Literal["column", "predicate", "none"] = (
        "predicate" if config.canary else "column" if "cohort" in shapes.jobs.types else "none"
    )
    return _report(
        config,
        start,
        end,
        source,
        query.windows,
        _with_percentiles(groups, histograms),
        duplicates,
        drafts,
        enqueues,
        backlog,
    )


class _Query:
    """The SQL of one signals read: $1 start, $2 end, [$3 client]; the backlog adds the window."""

    def __init__(self, shapes: Shapes, config: SignalsConfig, start: datetime, end: datetime):
        self.shapes = shapes
        jobs = shapes.jobs
        self.windows = max(1, int(-(-(end - start).total_seconds() // config.window_s)))
        self.args: list[Any] = [start, end]
        client = ""
        if config.client_id is not None:
            self.args.append(config.client_id)
            client = f" AND client_id = {jobs.cast('client_id', '$3::text')}"
        if config.canary is not None:
            cohort = f"CASE WHEN ({config.canary}) THEN 'canary' ELSE 'control' END"
        elif "cohort" in jobs.types:
            cohort = "coalesce(cohort::text, 'none')"
        else:
            cohort = "'all'"
        timed = (
            jobs.cast("enqueued_at", "$1::timestamptz"),
            jobs.cast("enqueued_at", "$2::timestamptz"),
        )
        self.client = client
        self.cte = (
            # Inlined, never materialized: each query scans the view itself, in parallel.
            f"WITH jobs AS NOT MATERIALIZED (\n"
            f"  SELECT *, {cohort} AS cohort_ FROM (\n{jobs.view.sql}\n) AS jobs\n"
            f"  WHERE enqueued_at >= {timed[0]} AND enqueued_at < {timed[1]}{client}\n)\n"
        )

    def groups(self) -> str:
        """Counts and maxima per cohort × dispatch mode × job type (totals are summed later)."""
        types = self.shapes.jobs.types
        dead = "status::text = 'dead'"
        if "attempts" in types and "max_attempts" in types:
            dead += " OR attempts >= max_attempts"
        retried = "attempts > 1" if "attempts" in types else "false"
        timeout = (
            "last_error::text ILIKE '%timeout%' OR last_error::text ILIKE '%timed out%'"
            if "last_error" in types
            else "false"
        )
        return (
            self.cte + "SELECT cohort_ AS cohort, dispatch_mode::text AS dispatch_mode,\n"
            "  job_type::text AS job_type, count(*) AS jobs,\n"
            "  count(*) FILTER (WHERE status::text = 'succeeded') AS succeeded,\n"
            "  count(*) FILTER (WHERE status::text IN ('failed', 'dead')) AS failed,\n"
            f"  count(*) FILTER (WHERE {dead}) AS dead_letter,\n"
            f"  count(*) FILTER (WHERE {retried}) AS retried,\n"
            f"  count(*) FILTER (WHERE {timeout}) AS timeouts,\n"
            "  count(*) FILTER (WHERE status::text = 'pending') AS pending,\n"
            f"  max({DISPATCH}) AS dispatch_max, max({PROCESSING}) AS processing_max\n"
            "FROM jobs GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        )

    def histogram(self, kind: Literal["dispatch", "processing"]) -> str:
        """Latencies in log buckets (2% wide): percentiles without sorting a million values."""
        seconds = DISPATCH if kind == "dispatch" else PROCESSING
        bucket = f"floor(ln(greatest({seconds}, 0.001) / 0.001) / ln({BUCKET_RATIO}))::int"
        return (
            self.cte + "SELECT cohort_ AS cohort, dispatch_mode::text AS dispatch_mode,\n"
            f"  job_type::text AS job_type, '{kind}' AS kind, {bucket} AS bucket, count(*) AS n\n"
            f"FROM jobs WHERE {seconds} IS NOT NULL\n"
            "GROUP BY 1, 2, 3, 5"
        )

    def duplicates(self) -> str:
        collisions = (
            "SELECT max(cohort_) AS cohort_, 'dedupe' AS kind, count(*) - 1 AS extra FROM jobs\n"
            "  WHERE dedupe_key IS NOT NULL GROUP BY dedupe_key HAVING count(*) > 1"
            if "dedupe_key" in self.shapes.jobs.types
            else "SELECT NULL::text, 'dedupe', 0 WHERE false"
        )
        return (
            self.cte + "SELECT cohort_ AS cohort, kind, sum(extra)::bigint AS extra FROM (\n"
            "  SELECT max(cohort_) AS cohort_, 'trigger' AS kind, count(*) - 1 AS extra FROM jobs\n"
            "  GROUP BY trigger_message_id, job_type HAVING count(*) > 1\n"
            f"  UNION ALL\n  {collisions}\n) AS d GROUP BY 1, 2"
        )

    def drafts(self) -> str:
        assert self.shapes.drafts is not None
        drafts = self.shapes.drafts
        return (
            self.cte
            + "SELECT t.cohort_ AS cohort, 'drafts' AS kind, sum(d.n - 1)::bigint AS extra\n"
            "FROM (\n"
            f"  SELECT trigger_message_id, count(*) AS n FROM (\n{drafts.view.sql}\n) AS drafts\n"
            f"  WHERE created_at >= {drafts.cast('created_at', '$1::timestamptz')}\n"
            "  GROUP BY 1 HAVING count(*) > 1\n"
            ") AS d\n"
            "JOIN (SELECT trigger_message_id, max(cohort_) AS cohort_ FROM jobs GROUP BY 1) AS t\n"
            "  ON t.trigger_message_id = d.trigger_message_id\n"
            "GROUP BY 1"
        )

    def enqueues(self) -> str:
        assert self.shapes.dispatch is not None
        events = self.shapes.dispatch
        cohort = "coalesce(cohort::text, 'none')" if "cohort" in events.types else "'all'"
        client = (
            f" AND client_id = {events.cast('client_id', '$3::text')}" if len(self.args) > 2 else ""
        )
        return (
            f"SELECT {cohort} AS cohort,\n"
            "  count(*) FILTER (WHERE kind::text = 'enqueued') AS enqueued,\n"
            "  count(*) FILTER (WHERE kind::text = 'enqueue_failed') AS failed,\n"
            "  count(*) FILTER (WHERE kind::text = 'inline_fallback') AS fallbacks\n"
            f"FROM (\n{events.view.sql}\n) AS events\n"
            f"WHERE occurred_at >= {events.cast('occurred_at', '$1::timestamptz')}\n"
            f"  AND occurred_at < {events.cast('occurred_at', '$2::timestamptz')}{client}\n"
            "GROUP BY 1"
        )

    def backlog(self) -> str:
        # A job is waiting at window end t_k = start + k * window when enqueued < t_k <= started.
        window = f"${len(self.args) + 1}::float8"
        offset = "date_part('epoch', {} - $1::timestamptz) / " + window
        return (
            self.cte + "SELECT cohort_ AS cohort, k, count(*) AS pending,\n"
            "  min(enqueued_at::timestamptz) AS oldest\n"
            "FROM (\n"
            "  SELECT cohort_, enqueued_at,\n"
            f"    floor({offset.format('enqueued_at::timestamptz')})::int + 1 AS first_k,\n"
            # Not started: waiting while pending; a job that ended without starting never waited.
            f"    least({self.windows}, CASE WHEN started_at IS NULL AND status::text = 'pending'\n"
            f"      THEN {self.windows} WHEN started_at IS NULL THEN 0\n"
            f"      ELSE ceil({offset.format('started_at::timestamptz')})::int - 1 END) AS last_k\n"
            "  FROM jobs\n"
            ") AS waits\n"
            "CROSS JOIN LATERAL generate_series(waits.first_k, waits.last_k) AS k\n"
            "GROUP BY 1, 2\nORDER BY 1, 2"
        )


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def _with_percentiles(
    rows: list[asyncpg.Record], histograms: list[asyncpg.Record]
) -> list[GroupStats]:
    """Group rows and each cohort's total, with percentiles read off the log histograms."""
    buckets: dict[tuple[str, str, str, str], Counter[int]] = {}
    for row in histograms:
        key = (row["cohort"], row["dispatch_mode"], row["job_type"], row["kind"])
        buckets.setdefault(key, Counter())[row["bucket"]] += row["n"]
    stats: list[GroupStats] = []
    by_cohort: dict[str, list[asyncpg.Record]] = {}
    for row in rows:
        by_cohort.setdefault(row["cohort"], []).append(row)
    counted = ("jobs", "succeeded", "failed", "dead_letter", "retried", "timeouts", "pending")
    for cohort, members in by_cohort.items():
        totals = {name: sum(row[name] for row in members) for name in counted}
        merged = {kind: Counter[int]() for kind in ("dispatch", "processing")}
        for row in members:
            for kind in merged:
                merged[kind] += buckets.get(
                    (cohort, row["dispatch_mode"], row["job_type"], kind), Counter()
                )
        maxima = {
            kind: max((row[f"{kind}_max"] for row in members if row[f"{kind}_max"] is not None),
                      default=None)
            for kind in merged
        }  # fmt: skip
        stats.append(_stats(cohort, None, None, totals, merged, maxima))
        for row in members:
            histogram = {
                kind: buckets.get((cohort, row["dispatch_mode"], row["job_type"], kind), Counter())
                for kind in merged
            }
            maxima = {kind: row[f"{kind}_max"] for kind in merged}
            values = {name: row[name] for name in counted}
            stats.append(
                _stats(cohort, row["dispatch_mode"], row["job_type"], values, histogram, maxima)
            )
    return stats


def _stats(
    cohort: str,
    mode: str | None,
    job_type: str | None,
    counts: dict[str, int],
    histograms: dict[str, Counter[int]],
    maxima: dict[str, Any],
) -> GroupStats:
    jobs = counts["jobs"]
    return GroupStats(
        cohort=cohort,
        dispatch_mode=mode,
        job_type=job_type,
        **counts,
        success_rate=_rate(counts["succeeded"], jobs),
        failure_rate=_rate(counts["failed"], jobs),
        retry_rate=_rate(counts["retried"], jobs),
        timeout_rate=_rate(counts["timeouts"], jobs),
        dispatch_p50_s=percentile(histograms["dispatch"], 0.50),
        dispatch_p95_s=percentile(histograms["dispatch"], 0.95),
        dispatch_max_s=_seconds(maxima["dispatch"]),
        processing_p50_s=percentile(histograms["processing"], 0.50),
        processing_p95_s=percentile(histograms["processing"], 0.95),
    )


def percentile(histogram: Counter[int], fraction: float) -> float | None:
    """Nearest-rank percentile of a log histogram, at its bucket's geometric middle, seconds."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, -(-int(total * fraction * 1_000_000) // 1_000_000))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return round(0.001 * math.pow(BUCKET_RATIO, bucket + 0.5), 3)
    return None  # unreachable: the ranks add up to the total


def _report(
    config: SignalsConfig,
    start: datetime,
    end: datetime,
    source: Literal["column", "predicate", "none"],
    windows: int,
    parsed: list[GroupStats],
    duplicates: list[asyncpg.Record],
    drafts: list[asyncpg.Record],
    enqueues: list[asyncpg.Record],
    backlog: list[asyncpg.Record],
) -> SignalsReport:
    totals = {group.cohort: group for group in parsed if group.dispatch_mode is None}
    extra: dict[tuple[str, str], int] = {}
    for row in [*duplicates, *drafts]:
        extra[(row["cohort"], row["kind"])] = int(row["extra"] or 0)
    events = {row["cohort"]: row for row in enqueues}
    waits: dict[str, dict[int, asyncpg.Record]] = {}
    for row in backlog:
        waits.setdefault(row["cohort"], {})[row["k"]] = row
    cohorts = {}
    for name, total in totals.items():
        series = []
        for k in range(1, windows + 1):
            window_end = min(start + timedelta(seconds=k * config.window_s), end)
            wait = waits.get(name, {}).get(k)
            age = None if wait is None else round((window_end - wait["oldest"]).total_seconds(), 3)
            series.append(
                BacklogPoint(
                    window_end=window_end, pending=wait["pending"] if wait else 0, oldest_age_s=age
                )
            )
        event = events.get(name)
        attempts = (event["enqueued"] + event["failed"]) if event else 0
        cohorts[name] = CohortSignals(
            total=total,
            duplicate_executions=extra.get((name, "trigger"), 0),
            dedupe_collisions=extra.get((name, "dedupe"), 0),
            duplicate_drafts=extra.get((name, "drafts"), 0),
            enqueue_attempts=attempts,
            enqueue_failures=event["failed"] if event else 0,
            enqueue_failure_rate=_rate(event["failed"], attempts) if event else 0.0,
            inline_fallbacks=event["fallbacks"] if event else 0,
            backlog=series,
            backlog_growing_windows=_growing(series),
        )
    return SignalsReport(
        start=start,
        end=end,
        window_s=config.window_s,
        client_id=config.client_id,
        cohort_source=source,
        groups=[group for group in parsed if group.dispatch_mode is not None],
        cohorts=cohorts,
    )


def _growing(series: list[BacklogPoint]) -> int:
    """Windows in a row, ending with the last, whose backlog grew over the window before."""
    count = 0
    for before, after in zip(reversed(series[:-1]), reversed(series[1:]), strict=True):
        if after.pending > before.pending:
            count += 1
        else:
            break
    return count
