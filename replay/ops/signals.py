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

Not measured is not zero: a figure the views or the data cannot give (no drafts view, no job
started) is None, its reason in `not_measured`. A negative duration (a job finished before it
started) is no latency: such jobs are counted, named in a warning, left out of the durations.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple

import asyncpg

from replay.config.models import SignalsConfig, SignalViews
from replay.errors import UsageError
from replay.models import BacklogPoint, CohortSignals, GroupStats, SignalsReport
from replay.models.signals import DataWarning
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
COUNTED = ("jobs", "succeeded", "failed", "dead_letter", "retried", "timeouts", "pending")
INVALID = ("dispatch_invalid", "processing_invalid")  # jobs with a negative time, per group
RATES = (
    ("success_rate", "succeeded"), ("failure_rate", "failed"),
    ("retry_rate", "retried"), ("timeout_rate", "timeouts"),
)  # fmt: skip
UNTIMED = {"dispatch": "no job started", "processing": "no job finished"}
"""Why a latency is not measured when no job has that time at all."""
FIRST_IDS = 3
"""Job ids a data warning names."""
BROKEN: dict[Literal["dispatch", "processing"], tuple[Any, str, str, str]] = {
    "dispatch": ("started_before_enqueued", "started before it was enqueued",
                 "started before they were enqueued", "dispatch latencies"),
    "processing": ("finished_before_started", "finished before it started",
                   "finished before they started", "processing times"),
}  # fmt: skip
"""Per duration, when negative: the check it breaks, a warning's words, what it is left out of."""


class Shapes(NamedTuple):
    """The described views of one signals source."""

    jobs: Shape
    dispatch: Shape | None
    drafts: Shape | None


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
    with preflight.lost_as_blocked(conn, "reading job signals"):
        return await _collect(conn, query, config)


async def _collect(conn: asyncpg.Connection, query: _Query, config: SignalsConfig) -> SignalsReport:
    shapes = query.shapes
    rows: dict[str, list[asyncpg.Record]] = {"drafts": [], "enqueues": []}
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        # Hash aggregates over a million jobs fit in memory instead of spilling to disk.
        await conn.execute("SET LOCAL work_mem = '128MB'")
        try:
            rows["groups"] = await conn.fetch(query.groups(), *query.args)
            broken = {k: sum(row[f"{k}_invalid"] for row in rows["groups"]) for k in BROKEN}
            # Only broken data pays for this scan: its first few ids, for the warning.
            first = {
                kind: [row[0] for row in await conn.fetch(query.invalid(kind), *query.args)]
                for kind, count in broken.items()
                if count
            }
            rows["histograms"] = [
                *await conn.fetch(query.histogram("dispatch"), *query.args),
                *await conn.fetch(query.histogram("processing"), *query.args),
            ]
            rows["duplicates"] = await conn.fetch(query.duplicates(), *query.args)
            if shapes.drafts:
                rows["drafts"] = await conn.fetch(query.drafts(), *query.args)
            if query.unsplit is None:
                rows["enqueues"] = await conn.fetch(query.enqueues(), *query.args)
            rows["backlog"] = await conn.fetch(query.backlog(), *query.args, config.window_s)
        except asyncpg.InvalidTextRepresentationError:
            raise UsageError(
                f"--client-id must be a {shapes.jobs.types['client_id']} (the jobs view's "
                f"client_id type), got {config.client_id!r}"
            ) from None
        except asyncpg.PostgresError as exc:
            if preflight.connection_lost(exc, conn):
                raise
            raise UsageError(
                f"the signals query failed on the jobs view ({shapes.jobs.view.origin}) or the "
                f"--canary predicate: {preflight.reason(exc)}"
            ) from None
    source: Literal["column", "predicate", "none"] = (
        "predicate" if config.canary else "column" if "cohort" in shapes.jobs.types else "none"
    )
    absent = {
        name: f"no {column} column"
        for name, column in (("retried", "attempts"), ("timeouts", "last_error"))
        if column not in shapes.jobs.types
    }
    parsed = _with_percentiles(rows["groups"], rows["histograms"], absent)
    return SignalsReport(
        start=query.args[0],
        end=query.args[1],
        window_s=config.window_s,
        client_id=config.client_id,
        cohort_source=source,
        groups=[group for group in parsed if group.dispatch_mode is not None],
        cohorts=_cohorts(query, parsed, rows),
        warnings=[_warning(kind, broken[kind], ids) for kind, ids in first.items()],
    )


class _Query:
    """The SQL of one signals read: $1 start, $2 end, [$3 client]; the backlog adds the window."""

    def __init__(self, shapes: Shapes, config: SignalsConfig, start: datetime, end: datetime):
        self.shapes = shapes
        jobs = shapes.jobs
        self.windows = max(1, int(-(-(end - start).total_seconds() // config.window_s)))
        step = timedelta(seconds=config.window_s)
        self.ends = [min(start + k * step, end) for k in range(1, self.windows + 1)]
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
        timed = [jobs.cast("enqueued_at", f"${n}::timestamptz") for n in (1, 2)]
        # Jobs split into cohorts (not one `all`) need dispatch events split the same way.
        self.split = config.canary is not None or "cohort" in jobs.types
        self.unsplit = (
            "no dispatch view" if shapes.dispatch is None
            else "no cohort column in the dispatch view"
            if self.split and "cohort" not in shapes.dispatch.types else None
        )  # fmt: skip
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
            f"  max({DISPATCH}) FILTER (WHERE {DISPATCH} >= 0) AS dispatch_max,\n"
            f"  count(*) FILTER (WHERE {DISPATCH} < 0) AS dispatch_invalid,\n"
            f"  count(*) FILTER (WHERE {PROCESSING} < 0) AS processing_invalid\n"
            "FROM jobs GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        )

    def invalid(self, kind: Literal["dispatch", "processing"]) -> str:
        """The first jobs, by enqueue time, whose `kind` duration is negative."""
        seconds = DISPATCH if kind == "dispatch" else PROCESSING
        return (
            self.cte + f"SELECT job_id::text FROM jobs WHERE {seconds} < 0\n"
            f"ORDER BY enqueued_at, 1 LIMIT {FIRST_IDS}"
        )

    def histogram(self, kind: Literal["dispatch", "processing"]) -> str:
        """Latencies in log buckets (2% wide): percentiles without sorting a million values."""
        seconds = DISPATCH if kind == "dispatch" else PROCESSING
        bucket = f"floor(ln(greatest({seconds}, 0.001) / 0.001) / ln({BUCKET_RATIO}))::int"
        return (
            self.cte + "SELECT cohort_ AS cohort, dispatch_mode::text AS dispatch_mode,\n"
            f"  job_type::text AS job_type, '{kind}' AS kind, {bucket} AS bucket, count(*) AS n\n"
            f"FROM jobs WHERE {seconds} >= 0\n"
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
        cohort = "coalesce(cohort::text, 'none')" if self.split else "'all'"
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


def _with_percentiles(
    rows: list[asyncpg.Record], histograms: list[asyncpg.Record], absent: dict[str, str]
) -> list[GroupStats]:
    """Each cohort's total, then its group rows, with percentiles read off the log histograms."""
    buckets: dict[tuple[str, str, str, str], Counter[int]] = {}
    for row in histograms:
        key = (row["cohort"], row["dispatch_mode"], row["job_type"], row["kind"])
        buckets.setdefault(key, Counter())[row["bucket"]] += row["n"]
    by_cohort: dict[str, list[asyncpg.Record]] = {}
    for row in rows:
        by_cohort.setdefault(row["cohort"], []).append(row)
    return [
        _stats(group, buckets, absent, whole=whole)
        for members in by_cohort.values()
        for whole, group in ((True, members), *((False, [row]) for row in members))
    ]


def _stats(
    rows: list[asyncpg.Record],
    buckets: dict[tuple[str, str, str, str], Counter[int]],
    absent: dict[str, str],
    *,
    whole: bool,
) -> GroupStats:
    """The figures of `rows` together; each one the views or the data cannot give is None."""
    counts = {name: sum(row[name] for row in rows) for name in (*COUNTED, *INVALID)}
    values: dict[str, Any] = {name: counts[name] for name in COUNTED} | dict.fromkeys(absent)
    why = dict(absent)
    for rate, part in RATES:
        measured = values[part] is not None and counts["jobs"] > 0
        values[rate] = round(values[part] / counts["jobs"], 4) if measured else None
        if not measured:
            why[rate] = absent.get(part, "no jobs")
    latency = {
        kind: sum(
            (buckets.get((r["cohort"], r["dispatch_mode"], r["job_type"], kind), Counter())
             for r in rows),
            Counter[int](),
        )
        for kind in BROKEN
    }  # fmt: skip
    longest = max((row["dispatch_max"] for row in rows if row["dispatch_max"] is not None),
                  default=None)  # fmt: skip
    figures = {
        f"{kind}_{name}_s": percentile(latency[kind], fraction)
        for kind in BROKEN
        for name, fraction in (("p50", 0.50), ("p95", 0.95))
    } | {"dispatch_max_s": None if longest is None else round(float(longest), 3)}
    for name, value in figures.items():
        kind = "dispatch" if name.startswith("dispatch") else "processing"
        if value is None:
            why[name] = f"no valid {kind} time" if counts[f"{kind}_invalid"] else UNTIMED[kind]
    values |= figures
    first = rows[0]
    return GroupStats(
        cohort=first["cohort"],
        dispatch_mode=None if whole else first["dispatch_mode"],
        job_type=None if whole else first["job_type"],
        not_measured=why,
        **values,
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


def _cohorts(
    query: _Query, parsed: list[GroupStats], rows: dict[str, list[asyncpg.Record]]
) -> dict[str, CohortSignals]:
    """Each cohort's total, duplicates, enqueues and backlog; what was not measured, and why."""
    extra: dict[tuple[str, str], int] = {}
    for row in [*rows["duplicates"], *rows["drafts"]]:
        extra[(row["cohort"], row["kind"])] = int(row["extra"] or 0)
    events = {row["cohort"]: row for row in rows["enqueues"]}
    waits: dict[str, dict[int, asyncpg.Record]] = {}
    for row in rows["backlog"]:
        waits.setdefault(row["cohort"], {})[row["k"]] = row
    unsplit, types = query.unsplit, query.shapes.jobs.types
    absent = {
        "dedupe_collisions": None if "dedupe_key" in types else "no dedupe_key column",
        "duplicate_drafts": None if query.shapes.drafts else "no drafts view",
        "backlog_growing_windows": "one window only" if query.windows < 2 else None,
    } | dict.fromkeys(("enqueue_attempts", "enqueue_failures", "inline_fallbacks"), unsplit)
    cohorts = {}
    for total in (group for group in parsed if group.dispatch_mode is None):
        name = total.cohort
        series = []
        for k, window_end in enumerate(query.ends, start=1):
            wait = waits.get(name, {}).get(k)
            age = None if wait is None else round((window_end - wait["oldest"]).total_seconds(), 3)
            pending = wait["pending"] if wait else 0
            series.append(BacklogPoint(window_end=window_end, pending=pending, oldest_age_s=age))
        event = events.get(name)
        failed = event["failed"] if event else 0
        attempts = (event["enqueued"] + failed) if event else 0
        values: dict[str, Any] = {
            "duplicate_executions": extra.get((name, "trigger"), 0),
            "dedupe_collisions": extra.get((name, "dedupe"), 0),
            "duplicate_drafts": extra.get((name, "drafts"), 0),
            "enqueue_attempts": attempts,
            "enqueue_failures": failed,
            "enqueue_failure_rate": round(failed / attempts, 4) if attempts else None,
            "inline_fallbacks": event["fallbacks"] if event else 0,
            "backlog_growing_windows": _growing(series),
        }
        why = {field: reason for field, reason in absent.items() if reason is not None}
        if values["enqueue_failure_rate"] is None:
            why["enqueue_failure_rate"] = unsplit or "no enqueue attempts"
        values |= dict.fromkeys(why)
        cohorts[name] = CohortSignals(total=total, backlog=series, not_measured=why, **values)
    return cohorts


def _growing(series: list[BacklogPoint]) -> int:
    """Windows in a row, ending with the last, whose backlog grew over the window before."""
    count = 0
    while count < len(series) - 1 and series[-1 - count].pending > series[-2 - count].pending:
        count += 1
    return count


def _warning(kind: Literal["dispatch", "processing"], count: int, first: list[str]) -> DataWarning:
    """Jobs whose `kind` time is negative: how many, the first ids, what they are left out of."""
    check, one, many, figures = BROKEN[kind]
    did = f"1 job {one}" if count == 1 else f"{count} jobs {many}"
    message = f"{did} (first: {', '.join(first)}); left out of {figures}"
    return DataWarning(check=check, jobs=count, first=first, message=message)
