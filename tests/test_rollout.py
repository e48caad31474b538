"""The seeded rollout series: a shared baseline, and each incident only where it belongs."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any, NamedTuple, TypedDict

import asyncpg
import pytest

from replay.devtools import pg
from replay.devtools.generator import TABLES
from replay.devtools.rollout import INCIDENT, SCENARIOS, RolloutSummary, install_rollout
from replay.errors import UsageError

SCHEMA = resources.files("replay.devtools").joinpath("schema.sql").read_text(encoding="utf-8")
P95 = """
SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - enqueued_at))
FROM draft_jobs
WHERE client_id = $1::uuid AND cohort = $2 AND started_at IS NOT NULL
  AND enqueued_at >= $3 AND enqueued_at < $4
"""
DUPLICATE_TRIGGERS = """
SELECT trigger_message_id, count(*) AS jobs, count(DISTINCT dedupe_key) AS keys,
       array_agg(DISTINCT cohort) AS cohorts, min(enqueued_at) AS first_enqueued,
       extract(epoch FROM max(started_at) - min(started_at)) AS started_apart,
       (SELECT count(*) FROM ai_drafts AS d WHERE d.trigger_message_id = j.trigger_message_id)
           AS drafts
FROM draft_jobs AS j
WHERE client_id = $1::uuid
GROUP BY trigger_message_id, job_type
HAVING count(*) > 1
"""
ENQUEUE_ATTEMPTS = """
SELECT count(*) FILTER (WHERE kind = 'enqueue_failed') AS failed,
       count(*) FILTER (WHERE kind IN ('enqueued', 'enqueue_failed')) AS attempts
FROM dispatch_events
WHERE client_id = $1::uuid AND cohort = $2 AND occurred_at >= $3 AND occurred_at < $4
"""
PENDING_PER_WINDOW = """
SELECT w AS window_end,
       count(*) FILTER (WHERE status = 'pending' AND enqueued_at < w) AS pending,
       extract(epoch FROM w - min(enqueued_at)
                              FILTER (WHERE status = 'pending' AND enqueued_at < w)) AS oldest_s
FROM generate_series($2::timestamptz, $3::timestamptz, interval '15 minutes') AS w
CROSS JOIN draft_jobs
WHERE client_id = $1::uuid AND cohort = 'canary'
GROUP BY w
ORDER BY w
"""
TIMELINE = """
SELECT enqueued_at, cohort, dispatch_mode, status, attempts, started_at, finished_at, last_error
FROM draft_jobs
WHERE client_id = $1::uuid AND enqueued_at < $2
ORDER BY enqueued_at, started_at
"""


class SeriesSize(TypedDict):
    """The `install_rollout` arguments that size a series."""

    days: int
    jobs_per_hour: int


SMALL: SeriesSize = {"days": 1, "jobs_per_hour": 30}
"""A short series, for tests that install their own."""


class Rollouts(NamedTuple):
    conn: asyncpg.Connection
    summaries: Mapping[str, RolloutSummary]


@pytest.fixture(scope="module")
async def rollouts(admin_uri: str) -> AsyncIterator[Rollouts]:
    """One database holding every scenario with the default arguments, each as its own client."""
    name = f"replay_rollout_{os.getpid()}"
    admin = await asyncpg.connect(admin_uri)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(pg.database_uri(admin_uri, name))
    await conn.execute(SCHEMA)
    summaries = {scenario: await install_rollout(conn, scenario=scenario) for scenario in SCENARIOS}
    yield Rollouts(conn, summaries)
    await conn.close()


async def fetchval(rollouts: Rollouts, sql: str, *args: Any) -> Any:
    return await rollouts.conn.fetchval(sql, *args)


async def fetchrow(rollouts: Rollouts, sql: str, *args: Any) -> asyncpg.Record:
    """The row `sql` returns: each query here aggregates, so there always is one."""
    row = await rollouts.conn.fetchrow(sql, *args)
    assert row is not None, sql
    return row


def incident(summary: RolloutSummary) -> datetime:
    """Where the incident is, or would be: the last `INCIDENT` span."""
    return summary.end - INCIDENT


async def client_rows(conn: asyncpg.Connection, client_id: str) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = {}
    for table, columns in TABLES:
        key = "id" if table == "clients" else "client_id"
        records = await conn.fetch(
            f"SELECT {', '.join(columns)} FROM {table} WHERE {key} = $1::uuid ORDER BY id",
            client_id,
        )
        rows[table] = [tuple(r) for r in records]
    return rows


# --- arguments -------------------------------------------------------------------------------


async def test_unknown_scenario_names_the_value_and_the_choices(empty_db: str) -> None:
    """An unknown scenario is a usage error that shows it and lists the known ones."""
    conn = await asyncpg.connect(empty_db)
    try:
        with pytest.raises(UsageError) as raised:
            await install_rollout(conn, scenario="meltdown")
    finally:
        await conn.close()
    assert str(raised.value) == (
        "scenario must be one of clean, duplicates, backlog, enqueue_outage, p95_regression,"
        " sparse; got 'meltdown'"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({"days": 0}, "days must be at least 1, got 0", id="days"),
        pytest.param({"jobs_per_hour": 0}, "jobs_per_hour must be at least 1, got 0", id="rate"),
        pytest.param(
            {"canary_share": 0.0}, "canary_share must be above 0 and at most 1, got 0.0", id="share"
        ),
        pytest.param({"end": datetime(2026, 11, 22)}, "end must be timezone-aware", id="naive"),  # noqa: DTZ001
    ],
)
async def test_out_of_range_arguments_are_usage_errors(
    empty_db: str, arguments: dict[str, Any], message: str
) -> None:
    """An argument out of range is refused with its name, its value and what is expected."""
    conn = await asyncpg.connect(empty_db)
    try:
        with pytest.raises(UsageError, match=message):
            await install_rollout(conn, **arguments)
    finally:
        await conn.close()


async def test_a_database_without_the_schema_is_refused(empty_db: str) -> None:
    """Without the reference schema the error says to create it first."""
    conn = await asyncpg.connect(empty_db)
    try:
        with pytest.raises(UsageError, match="create the reference schema first"):
            await install_rollout(conn, **SMALL)
    finally:
        await conn.close()


async def test_installing_one_scenario_and_seed_twice_is_refused(rollouts: Rollouts) -> None:
    """A second install of one scenario and seed says so instead of failing on a key."""
    with pytest.raises(UsageError, match="'clean' with seed 7 is already installed"):
        await install_rollout(rollouts.conn, scenario="clean")


# --- the baseline ----------------------------------------------------------------------------


async def test_cohorts_follow_the_share_and_dispatch_modes(rollouts: Rollouts) -> None:
    """A quarter of jobs are canary and queued; control runs inline, a few in emergency mode."""
    clean = rollouts.summaries["clean"]
    modes: dict[str, int] = {
        row[0]: row[1]
        for row in await rollouts.conn.fetch(
            "SELECT cohort || '/' || dispatch_mode, count(*) FROM draft_jobs"
            " WHERE client_id = $1::uuid GROUP BY 1",
            clean.client_id,
        )
    }
    assert set(modes) == {"canary/queued", "control/inline", "control/inline_emergency"}
    assert clean.canary_jobs + clean.control_jobs == clean.jobs == sum(modes.values())
    assert 0.22 < clean.canary_jobs / clean.jobs < 0.28
    assert modes["control/inline_emergency"] / clean.control_jobs < 0.04


async def test_dispatch_events_match_the_dispatch_mode(rollouts: Rollouts) -> None:
    """A queued job has one enqueued event at enqueued_at, an emergency one a fallback."""
    mismatched = await fetchval(
        rollouts,
        """
        SELECT count(*) FROM draft_jobs AS j
        WHERE j.client_id = $1::uuid AND (
            SELECT array_agg(e.kind ORDER BY e.kind) FROM dispatch_events AS e
            WHERE e.job_id = j.id AND e.occurred_at = j.enqueued_at
              AND e.cohort = j.cohort AND e.dedupe_key = j.dedupe_key
        ) IS DISTINCT FROM CASE j.dispatch_mode
                               WHEN 'queued' THEN ARRAY['enqueued']
                               WHEN 'inline_emergency' THEN ARRAY['inline_fallback']
                           END
        """,
        rollouts.summaries["clean"].client_id,
    )
    assert mismatched == 0


async def test_each_job_answers_an_inbound_trigger_named_by_its_dedupe_key(
    rollouts: Rollouts,
) -> None:
    """The trigger is an inbound message of the job's lead, sent before it; dedupe_key names it."""
    wrong = await fetchval(
        rollouts,
        """
        SELECT count(*) FROM draft_jobs AS j JOIN messages AS m ON m.id = j.trigger_message_id
        WHERE j.client_id = $1::uuid AND NOT (
            m.direction = 'inbound' AND m.lead_id = j.lead_id AND m.client_id = j.client_id
            AND m.sent_at < j.enqueued_at AND j.dedupe_key = 'reply:' || m.id
            AND j.job_type = 'reply_draft' AND j.max_attempts = 3
        )
        """,
        rollouts.summaries["clean"].client_id,
    )
    assert wrong == 0


async def test_outcomes_hold_a_few_failures_retries_and_dead_jobs(rollouts: Rollouts) -> None:
    """About 2% fail with a timeout or rate limit, a few retry, dead jobs used every attempt."""
    row = await fetchrow(
        rollouts,
        """
        SELECT count(*) AS jobs,
               count(*) FILTER (WHERE status IN ('failed', 'dead')) AS failed,
               count(*) FILTER (WHERE status = 'succeeded' AND attempts = 2) AS retried,
               count(*) FILTER (WHERE status = 'dead' AND attempts <> max_attempts) AS dead_short,
               count(*) FILTER (WHERE status = 'dead') AS dead,
               count(*) FILTER (WHERE (last_error IS NOT NULL) <> (status IN ('failed', 'dead'))
                                   OR last_error NOT IN ('model timeout', 'rate limited'))
                   AS odd_errors
        FROM draft_jobs WHERE client_id = $1::uuid
        """,
        rollouts.summaries["clean"].client_id,
    )
    assert 0.015 < row["failed"] / row["jobs"] < 0.04
    assert row["retried"] > 0 and row["dead"] > 0
    assert row["dead_short"] == row["odd_errors"] == 0


async def test_each_succeeded_job_has_one_draft_and_no_other_job_has_one(
    rollouts: Rollouts,
) -> None:
    """A draft exists exactly for a succeeded job, made when it finished, from a chat request."""
    wrong = await fetchval(
        rollouts,
        """
        SELECT count(*) FROM draft_jobs AS j
        LEFT JOIN ai_drafts AS d ON d.job_id = j.id
        WHERE j.client_id = $1::uuid AND CASE WHEN j.status = 'succeeded'
            THEN d.id IS NULL OR d.created_at <> j.finished_at OR d.trigger_message_id
                 <> j.trigger_message_id OR jsonb_typeof(d.request -> 'messages') <> 'array'
                 OR d.content IS NULL OR d.latency_ms > 6000
            ELSE d.id IS NOT NULL END
        """,
        rollouts.summaries["clean"].client_id,
    )
    assert wrong == 0


async def test_baseline_latencies_stay_in_their_ranges(rollouts: Rollouts) -> None:
    """Control is picked up within 300 ms, canary within 800 ms; one attempt runs 1.5-6 s."""
    clean = rollouts.summaries["clean"]
    row = await fetchrow(
        rollouts,
        """
        SELECT max(started_at - enqueued_at) FILTER (WHERE cohort = 'control') AS control,
               max(started_at - enqueued_at) FILTER (WHERE cohort = 'canary') AS canary,
               min(finished_at - started_at) FILTER (WHERE attempts = 1) AS shortest,
               max(finished_at - started_at) FILTER (WHERE attempts = 1 AND status = 'succeeded')
                   AS longest
        FROM draft_jobs WHERE client_id = $1::uuid
        """,
        clean.client_id,
    )
    assert row["control"] <= timedelta(milliseconds=300)
    assert row["canary"] <= timedelta(milliseconds=800)
    assert timedelta(milliseconds=150) <= row["shortest"]
    assert timedelta(milliseconds=1_500) <= row["longest"] <= timedelta(seconds=6)


async def test_only_the_newest_jobs_are_still_open(rollouts: Rollouts) -> None:
    """A handful of jobs at most is pending or running, all from the last two minutes."""
    clean = rollouts.summaries["clean"]
    row = await fetchrow(
        rollouts,
        "SELECT count(*) AS open, min(enqueued_at) AS oldest FROM draft_jobs"
        " WHERE client_id = $1::uuid AND status IN ('pending', 'running')",
        clean.client_id,
    )
    assert row["open"] <= 5
    assert row["oldest"] is None or row["oldest"] >= clean.end - timedelta(minutes=2)


async def test_the_series_spans_the_days_before_end_and_follows_the_day(
    rollouts: Rollouts,
) -> None:
    """Every time lies in [start, end); afternoons (UTC) are busier than nights."""
    clean = rollouts.summaries["clean"]
    row = await fetchrow(
        rollouts,
        """
        SELECT min(enqueued_at) AS first, max(greatest(enqueued_at, finished_at)) AS last,
               count(*) FILTER (WHERE extract(hour FROM enqueued_at AT TIME ZONE 'UTC')
                                BETWEEN 15 AND 20) AS day,
               count(*) FILTER (WHERE extract(hour FROM enqueued_at AT TIME ZONE 'UTC')
                                BETWEEN 3 AND 8) AS night
        FROM draft_jobs WHERE client_id = $1::uuid
        """,
        clean.client_id,
    )
    assert clean.end == datetime(2026, 11, 22, tzinfo=UTC)
    assert row["first"] == clean.start
    assert clean.end - timedelta(days=2) <= clean.start < clean.end - timedelta(days=2, hours=-1)
    assert row["last"] < clean.end
    assert row["day"] > 2 * row["night"]


# --- incidents -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scenario", [pytest.param(s, id=s) for s in SCENARIOS if s not in ("clean", "sparse")]
)
async def test_before_the_incident_every_scenario_is_the_clean_series(
    rollouts: Rollouts, scenario: str
) -> None:
    """Outside the last two hours a scenario's jobs ran exactly as the clean series' did."""
    summary = rollouts.summaries[scenario]
    clean = rollouts.summaries["clean"]
    assert summary.incident_start == incident(summary)
    before = incident(summary)
    ours = await rollouts.conn.fetch(TIMELINE, summary.client_id, before)
    theirs = await rollouts.conn.fetch(TIMELINE, clean.client_id, before)
    assert len(ours) > 5_000
    assert [tuple(r) for r in ours] == [tuple(r) for r in theirs]


async def test_clean_has_no_incident_signature(rollouts: Rollouts) -> None:
    """Clean: no duplicates, no failed enqueues, canary p95 under 2 s in the last two hours."""
    clean = rollouts.summaries["clean"]
    assert clean.incident_start is None
    args = (clean.client_id, "canary", incident(clean), clean.end)
    assert await rollouts.conn.fetch(DUPLICATE_TRIGGERS, clean.client_id) == []
    assert (await fetchrow(rollouts, ENQUEUE_ATTEMPTS, *args))["failed"] == 0
    assert await fetchval(rollouts, P95, *args) < 1.0
    assert await fetchval(rollouts, P95, clean.client_id, "control", *args[2:]) < 0.3


async def test_duplicates_run_canary_triggers_twice_in_the_incident_only(
    rollouts: Rollouts,
) -> None:
    """About 10% of canary triggers run twice, seconds apart, with one key and two drafts."""
    summary = rollouts.summaries["duplicates"]
    duplicates = await rollouts.conn.fetch(DUPLICATE_TRIGGERS, summary.client_id)
    triggers = await fetchval(
        rollouts,
        "SELECT count(DISTINCT trigger_message_id) FROM draft_jobs"
        " WHERE client_id = $1::uuid AND cohort = 'canary' AND enqueued_at >= $2",
        summary.client_id,
        incident(summary),
    )
    assert 0.08 <= len(duplicates) / triggers <= 0.12
    for row in duplicates:
        assert (row["jobs"], row["keys"], row["cohorts"], row["drafts"]) == (2, 1, ["canary"], 2)
        assert row["first_enqueued"] >= incident(summary)
        assert 1 <= row["started_apart"] <= 10
    drafts = await fetchval(
        rollouts,
        "SELECT count(*) FROM (SELECT FROM ai_drafts WHERE client_id = $1::uuid"
        " GROUP BY trigger_message_id HAVING count(*) > 1) AS d",
        summary.client_id,
    )
    assert drafts == len(duplicates)
    # A duplicate is picked up as fast as any canary job: this incident trips one rule only.
    assert (
        await fetchval(rollouts, P95, summary.client_id, "canary", incident(summary), summary.end)
        < 1.0
    )


async def test_backlog_pending_jobs_grow_every_window_of_the_incident(rollouts: Rollouts) -> None:
    """Canary pending count and oldest pending age grow at the end of each 15-minute window."""
    summary = rollouts.summaries["backlog"]
    start = incident(summary)
    windows = await rollouts.conn.fetch(
        PENDING_PER_WINDOW, summary.client_id, start + timedelta(minutes=15), summary.end
    )
    pending = [row["pending"] for row in windows]
    oldest = [row["oldest_s"] for row in windows]
    assert len(pending) == 8
    assert pending[0] >= 1
    assert all(a < b for a, b in zip(pending, pending[1:], strict=False))
    assert all(a < b for a, b in zip(oldest, oldest[1:], strict=False))
    before = await rollouts.conn.fetch(PENDING_PER_WINDOW, summary.client_id, summary.start, start)
    assert {row["pending"] for row in before} == {0}
    stuck_control = await fetchval(
        rollouts,
        "SELECT count(*) FROM draft_jobs WHERE client_id = $1::uuid AND cohort = 'control'"
        " AND status = 'pending' AND enqueued_at < $2",
        summary.client_id,
        summary.end - timedelta(minutes=2),
    )
    assert stuck_control == 0


async def test_enqueue_outage_fails_a_third_of_canary_enqueues_in_the_incident_only(
    rollouts: Rollouts,
) -> None:
    """About 30% of canary enqueues fail there, none elsewhere; some fall back inline."""
    summary = rollouts.summaries["enqueue_outage"]
    start = incident(summary)
    during = await fetchrow(
        rollouts, ENQUEUE_ATTEMPTS, summary.client_id, "canary", start, summary.end
    )
    assert 0.25 <= during["failed"] / during["attempts"] <= 0.35
    before = await fetchrow(
        rollouts, ENQUEUE_ATTEMPTS, summary.client_id, "canary", summary.start, start
    )
    assert before["failed"] == 0 and before["attempts"] > 1_000
    control = await fetchrow(
        rollouts, ENQUEUE_ATTEMPTS, summary.client_id, "control", summary.start, summary.end
    )
    assert control["failed"] == 0
    row = await fetchrow(
        rollouts,
        """
        SELECT count(*) FILTER (WHERE f.job_id IS NOT NULL) AS with_job,
               count(j.id) AS fell_back,
               count(*) FILTER (WHERE j.id IS NULL) AS no_job
        FROM dispatch_events AS f
        LEFT JOIN draft_jobs AS j
          ON j.dedupe_key = f.dedupe_key AND j.dispatch_mode = 'inline_emergency'
             AND j.cohort = 'canary' AND j.enqueued_at > f.occurred_at
             AND EXISTS (SELECT FROM dispatch_events AS b WHERE b.job_id = j.id
                         AND b.kind = 'inline_fallback')
        WHERE f.client_id = $1::uuid AND f.kind = 'enqueue_failed'
        """,
        summary.client_id,
    )
    assert row["with_job"] == 0
    assert row["fell_back"] > 0 and row["no_job"] > 0


async def test_p95_regression_slows_canary_pickup_past_two_seconds(rollouts: Rollouts) -> None:
    """Canary p95 dispatch latency is over 2 s and far above control there, under 1 s before."""
    summary = rollouts.summaries["p95_regression"]
    start = incident(summary)
    canary = await fetchval(rollouts, P95, summary.client_id, "canary", start, summary.end)
    control = await fetchval(rollouts, P95, summary.client_id, "control", start, summary.end)
    before = await fetchval(rollouts, P95, summary.client_id, "canary", summary.start, start)
    assert canary > 2.0
    assert canary > 5 * control
    assert before < 1.0


async def test_sparse_never_has_thirty_canary_jobs_in_two_hours(rollouts: Rollouts) -> None:
    """Sparse holds about 6 jobs an hour: no two-hour window reaches 30 canary jobs."""
    summary = rollouts.summaries["sparse"]
    busiest = await fetchval(
        rollouts,
        """
        SELECT max((SELECT count(*) FROM draft_jobs AS o WHERE o.client_id = j.client_id
                    AND o.cohort = 'canary' AND o.enqueued_at >= j.enqueued_at
                    AND o.enqueued_at < j.enqueued_at + interval '2 hours'))
        FROM draft_jobs AS j WHERE j.client_id = $1::uuid AND j.cohort = 'canary'
        """,
        summary.client_id,
    )
    assert summary.incident_start is None
    assert 0 < busiest < 30
    assert 6 * 48 * 0.7 < summary.jobs < 6 * 48 * 1.3


# --- seeds and sharing a database ------------------------------------------------------------


async def test_every_scenario_is_its_own_client_in_one_database(rollouts: Rollouts) -> None:
    """Scenarios installed side by side keep their rows apart and their counts exact."""
    summaries = rollouts.summaries.values()
    assert len({s.client_id for s in summaries}) == len(SCENARIOS)
    counts = {
        str(r["client_id"]): (r["jobs"], r["canary"])
        for r in await rollouts.conn.fetch(
            "SELECT client_id, count(*) AS jobs, count(*) FILTER (WHERE cohort = 'canary')"
            " AS canary FROM draft_jobs GROUP BY client_id"
        )
    }
    assert counts == {s.client_id: (s.jobs, s.canary_jobs) for s in summaries}
    names = await rollouts.conn.fetch("SELECT name FROM clients ORDER BY name")
    assert [r["name"] for r in names] == sorted(
        f"Rollout Test Co ({scenario}, seed 7)" for scenario in SCENARIOS
    )
    strays = await fetchval(
        rollouts,
        "SELECT count(*) FROM messages AS m JOIN leads AS l ON l.id = m.lead_id"
        " WHERE l.client_id <> m.client_id",
    )
    assert strays == 0


async def test_one_seed_gives_the_same_rows_beside_the_normal_fixtures(
    empty_db: str, fixture_db: str
) -> None:
    """Same seed and scenario give identical rows, and the fixtures' own rows stay untouched."""
    empty = await asyncpg.connect(empty_db)
    loaded = await asyncpg.connect(fixture_db)
    try:
        await empty.execute(SCHEMA)
        before = await loaded.fetch("SELECT client_id, count(*) FROM draft_jobs GROUP BY 1")
        first = await install_rollout(empty, scenario="duplicates", seed=11, **SMALL)
        second = await install_rollout(loaded, scenario="duplicates", seed=11, **SMALL)
        other = await install_rollout(loaded, scenario="duplicates", seed=12, **SMALL)
        assert first == second
        assert await client_rows(empty, first.client_id) == await client_rows(
            loaded, second.client_id
        )
        after = await loaded.fetch(
            "SELECT client_id, count(*) FROM draft_jobs WHERE client_id <> ALL($1::uuid[])"
            " GROUP BY 1",
            [second.client_id, other.client_id],
        )
        assert sorted(after, key=tuple) == sorted(before, key=tuple)
        assert other.client_id != second.client_id
    finally:
        await empty.close()
        await loaded.close()
