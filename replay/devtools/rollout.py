"""A staged rollout of queued dispatch as a seeded time series, with one switchable incident.

`replay signals` and `replay canary-check` judge a canary cohort (queued dispatch) against a
control cohort (inline dispatch) window by window. Each stop rule needs a series that must trip
it and one that must not, so every scenario shares one baseline and differs from it only in the
canary cohort of the last two hours. The baseline comes from the seed alone, so two scenarios
with one seed hold the same jobs, times and outcomes before the incident; ids and texts come from
the scenario too, so any number of scenarios can share a database, with or without the normal
fixtures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import anyio
import asyncpg
import orjson

from replay.devtools import corpus
from replay.devtools.drafting import Style, draft_parts, production_request, render
from replay.devtools.generator import (
    CHANNEL_MIX,
    INTENT_MIX,
    MAX_TOKENS,
    MODEL,
    PROMPT_VERSION,
    TABLES,
    TEMPERATURE,
    THREAD_LIMIT,
    Rng,
    Row,
    Weighted,
    maybe_timestamp,
    timestamp,
)
from replay.errors import UsageError

SCENARIOS = ("clean", "duplicates", "backlog", "enqueue_outage", "p95_regression", "sparse")
CLIENT_NAME = "Rollout Test Co"
INCIDENT = timedelta(hours=2)
"""Every incident fills exactly this span before `end`."""
WINDOW = timedelta(minutes=15)
"""The backlog grows in every window of this length counted from the incident's start."""
SPARSE_JOBS_PER_HOUR = 6
"""The `sparse` scenario's rate, whatever `jobs_per_hour` says: too few jobs to judge."""
DUPLICATE_SHARE = 0.10
"""Share of canary triggers that run twice in the `duplicates` incident (all had succeeded)."""
ENQUEUE_FAILURE_SHARE = 0.30
"""Share of canary enqueue attempts that fail in the `enqueue_outage` incident."""
FALLBACK_SHARE = 0.6
"""Share of failed enqueues that the dispatcher then runs inline (`inline_emergency`)."""
SLOW_SHARE = 0.85
"""Share of canary jobs that wait 3-8 s for a worker in the `p95_regression` incident."""

_SECOND = 1_000
_HOUR = 3_600 * _SECOND
_DAY = 24 * _HOUR
_DAY_SWING = 0.6
"""Arrivals peak at (1 + swing) times the mean rate at 18:00 UTC, US midday, and dip at night."""
_EMERGENCY_SHARE = 0.02
"""Control jobs that took the emergency inline path."""
_PICKUP_MS = {"control": (50, 300, 100), "canary": (150, 800, 300)}
"""Dispatch latency (enqueued_at to started_at) per cohort: low, high, mode of a triangle."""
_OUTCOMES = Weighted.of({"succeeded": 941, "retried": 35, "failed": 20, "dead": 4})
_ERRORS = Weighted.of({"model timeout": 3, "rate limited": 2})
_MAX_ATTEMPTS = 3
_QUEUED = '{"queue": "drafts"}'
_COHORT = dict(TABLES)["draft_jobs"].index("cohort")
_ENQUEUED_AT = dict(TABLES)["draft_jobs"].index("enqueued_at")


@dataclass(frozen=True)
class RolloutSummary:
    """What `install_rollout` added."""

    scenario: str
    client_id: str
    """Uuid text of the rollout's own client; every row it added belongs to it."""
    start: datetime
    """The first `enqueued_at` of the series (UTC)."""
    end: datetime
    """Exclusive end of the series (UTC); an incident fills the `INCIDENT` span before it."""
    incident_start: datetime | None
    """`end - INCIDENT`, or None for `clean` and `sparse`."""
    jobs: int
    canary_jobs: int
    control_jobs: int


async def install_rollout(
    conn: asyncpg.Connection,
    *,
    scenario: str = "clean",
    seed: int = 7,
    days: int = 2,
    jobs_per_hour: int = 120,
    canary_share: float = 0.25,
    end: datetime = datetime(2026, 11, 22, tzinfo=UTC),
) -> RolloutSummary:
    """Add a rollout client and its series of jobs to a database with the reference schema.

    Args:
        conn: a connection to a database that has the reference schema; rows already there are
            left alone.
        scenario: one of `SCENARIOS`.
        seed: same seed and scenario, same rows.
        days: length of the series, ending at `end`.
        jobs_per_hour: mean arrival rate over a day (`sparse` uses `SPARSE_JOBS_PER_HOUR`).
        canary_share: share of triggers dispatched through the queue.
        end: exclusive end of the series; timezone-aware.

    Raises:
        UsageError: an argument is out of range, the schema is missing, or this scenario and
            seed are already installed.
    """
    _check(scenario, days, jobs_per_hour, canary_share, end)
    end = end.astimezone(UTC)
    end_ms = int(end.timestamp() * 1000)
    incident_ms = None if scenario in ("clean", "sparse") else end_ms - _ms(INCIDENT)
    # Thousands of drafts are written in Python: off the event loop, as the generator does.
    writer = await anyio.to_thread.run_sync(
        _generate, scenario, seed, days, jobs_per_hour, canary_share, end_ms, incident_ms
    )
    if await conn.fetchval("SELECT to_regclass('public.dispatch_events')") is None:
        database = await conn.fetchval("SELECT current_database()")
        raise UsageError(
            f"database {database!r} has no table public.dispatch_events; create the reference"
            " schema first (replay.devtools.generator.install or schema.sql)"
        )
    if await conn.fetchval("SELECT 1 FROM clients WHERE id = $1::uuid", writer.client_id):
        raise UsageError(
            f"the rollout of scenario {scenario!r} with seed {seed!r} is already installed"
            f" (client {writer.client_id}); pass another seed"
        )
    async with conn.transaction():
        for table, columns in TABLES:
            await conn.copy_records_to_table(
                table, records=writer.rows[table], columns=columns, schema_name="public"
            )
        # Statistics now, so the first window query after loading gets its index scans.
        await conn.execute("ANALYZE " + ", ".join(table for table, _ in TABLES))
    jobs = writer.rows["draft_jobs"]
    canary = sum(1 for job in jobs if job[_COHORT] == "canary")
    return RolloutSummary(
        scenario=scenario,
        client_id=writer.client_id,
        start=min((job[_ENQUEUED_AT] for job in jobs), default=timestamp(end_ms - days * _DAY)),
        end=end,
        incident_start=None if incident_ms is None else timestamp(incident_ms),
        jobs=len(jobs),
        canary_jobs=canary,
        control_jobs=len(jobs) - canary,
    )


def _check(scenario: str, days: int, jobs_per_hour: int, share: float, end: datetime) -> None:
    if scenario not in SCENARIOS:
        raise UsageError(f"scenario must be one of {', '.join(SCENARIOS)}; got {scenario!r}")
    if days < 1:
        raise UsageError(f"days must be at least 1, got {days!r}")
    if jobs_per_hour < 1:
        raise UsageError(f"jobs_per_hour must be at least 1, got {jobs_per_hour!r}")
    if not 0 < share <= 1:
        raise UsageError(f"canary_share must be above 0 and at most 1, got {share!r}")
    if end.tzinfo is None:
        raise UsageError(f"end must be timezone-aware, got {end!r}")


def _ms(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)


def _generate(
    scenario: str,
    seed: int,
    days: int,
    jobs_per_hour: int,
    canary_share: float,
    end: int,
    incident: int | None,
) -> _Writer:
    """Every row of the rollout: pure, the same rows for the same arguments."""
    rate = SPARSE_JOBS_PER_HOUR if scenario == "sparse" else jobs_per_hour
    # The baseline draws from the seed alone, so every scenario of one seed shares it.
    series = Rng(f"rollout-series:{seed}")
    plans = [
        _baseline(series, at, canary_share)
        for at in _arrivals(series, end - days * _DAY, end, rate)
    ]
    if incident is not None:
        _Incident(scenario, seed, incident).apply(plans)
    writer = _Writer(Rng(f"rollout:{scenario}:{seed}"), scenario, seed, end)
    for plan in plans:
        writer.trigger(plan)
    return writer


# --- the plan: when, which cohort, how each job ran ------------------------------------------


class _Run(NamedTuple):
    """How a job ran once a worker took it."""

    status: str
    """succeeded, failed or dead: the status once it finished."""
    attempts: int
    duration: int
    """Milliseconds from started_at to finished_at, retries and backoff included."""
    model_ms: int
    """The attempt that produced the draft; 0 when none did."""
    error: str | None


@dataclass(slots=True)
class _Job:
    cohort: str
    mode: str
    enqueued: int
    pickup: int | None
    """Dispatch latency in milliseconds; None: no worker ever took it."""
    run: _Run
    style: Style = "original"
    """How its draft is worded: the second run of a trigger words it as a second sample would."""


@dataclass(slots=True, eq=False)
class _Plan:
    """One trigger message and what the dispatcher did with it; equal only to itself."""

    sent_at: int
    attempt_at: int
    """When the dispatcher first tried to dispatch it."""
    jobs: list[_Job]
    enqueue_failed: bool = False


def _arrivals(rng: Rng, start: int, end: int, per_hour: int) -> list[int]:
    """Enqueue instants of a Poisson process whose rate follows the day (thinning)."""
    peak = per_hour * (1 + _DAY_SWING) / _HOUR
    arrivals: list[int] = []
    at = float(start)
    while True:
        at += rng.expovariate(peak)
        if at >= end:
            return arrivals
        hour = at % _DAY / _HOUR
        if rng.random() * (1 + _DAY_SWING) < 1 + _DAY_SWING * math.sin(math.pi * (hour - 12) / 12):
            arrivals.append(int(at))


def _baseline(rng: Rng, at: int, canary_share: float) -> _Plan:
    cohort = "canary" if rng.random() < canary_share else "control"
    emergency = rng.random() < _EMERGENCY_SHARE
    mode = "queued" if cohort == "canary" else "inline_emergency" if emergency else "inline"
    job = _Job(cohort, mode, at, _pickup(rng, cohort), _run(rng))
    return _Plan(at - rng.between(300, 4_000), at, [job])


def _pickup(rng: Rng, cohort: str) -> int:
    low, high, mode = _PICKUP_MS[cohort]
    return int(rng.triangular(low, high, mode))


def _run(rng: Rng) -> _Run:
    outcome = rng.weighted(_OUTCOMES)
    work, model = _work(rng)
    if outcome == "succeeded":
        return _Run("succeeded", 1, work, model, None)
    if outcome == "retried":
        failed = _failed_attempt(rng, rng.weighted(_ERRORS))
        return _Run("succeeded", 2, failed + rng.between(2_000, 10_000) + work, model, None)
    attempts = _MAX_ATTEMPTS if outcome == "dead" else rng.between(1, 2)
    duration = 0
    error = ""
    for attempt in range(attempts):
        error = rng.weighted(_ERRORS)
        duration += _failed_attempt(rng, error) + (rng.between(2_000, 10_000) if attempt else 0)
    return _Run(outcome, attempts, duration, 0, error)


def _failed_attempt(rng: Rng, error: str) -> int:
    return 30_000 + rng.between(0, 200) if error == "model timeout" else rng.between(150, 900)


class _Incident:
    """Changes the canary jobs of the last `INCIDENT` span; draws from its own generator."""

    def __init__(self, scenario: str, seed: int, start: int) -> None:
        self.scenario = scenario
        self.rng = Rng(f"rollout-incident:{scenario}:{seed}")
        self.start = start

    def apply(self, plans: list[_Plan]) -> None:
        hit = [p for p in plans if p.attempt_at >= self.start and p.jobs[0].cohort == "canary"]
        if self.scenario == "duplicates":
            # Both runs finish before the end of the series, so each leaves a draft.
            end = self.start + _ms(INCIDENT) - 15 * _SECOND
            succeeded = [
                p for p in hit if _finishes(p.jobs[0]) < end and p.jobs[0].run.status == "succeeded"
            ]
            for plan in self._some(succeeded, round(DUPLICATE_SHARE * len(hit))):
                self._duplicate(plan)
        elif self.scenario == "backlog":
            self._backlog(hit)
        elif self.scenario == "enqueue_outage":
            failed = self._some(hit, round(ENQUEUE_FAILURE_SHARE * len(hit)))
            fallbacks = self._some(failed, round(FALLBACK_SHARE * len(failed)))
            for plan in failed:
                self._outage(plan, fallback=plan in fallbacks)
        elif self.scenario == "p95_regression":
            for plan in self._some(hit, round(SLOW_SHARE * len(hit))):
                plan.jobs[0].pickup = self.rng.between(3_000, 8_000)

    def _some(self, plans: list[_Plan], count: int) -> list[_Plan]:
        """`count` of `plans` at random, in time order: exact shares, even in a short incident."""
        chosen = sorted(self.rng.sample(range(len(plans)), min(count, len(plans))))
        return [plans[k] for k in chosen]

    def _duplicate(self, plan: _Plan) -> None:
        """A redelivery that dedupe missed: a second job seconds later, picked up as usual."""
        rng = self.rng
        second = _Job(
            "canary", "queued", plan.jobs[0].enqueued + rng.between(2_000, 6_000),
            _pickup(rng, "canary"), _Run("succeeded", 1, *_work(rng), None), "variant",
        )  # fmt: skip
        plan.jobs.append(second)

    def _backlog(self, plans: list[_Plan]) -> None:
        """Workers skip a growing share of canary jobs, so the pending count grows every window."""
        window = _ms(WINDOW)
        windows = _ms(INCIDENT) // window
        by_window: dict[int, list[_Job]] = {}
        for plan in plans:
            job = plan.jobs[0]
            k = (job.enqueued - self.start) // window
            by_window.setdefault(k, []).append(job)
            if self.rng.random() < (k + 1) / windows:
                job.pickup = None
        # The pending count at each window's end must grow: a window adds at least one stuck job.
        for jobs in by_window.values():
            if all(job.pickup is not None for job in jobs):
                jobs[-1].pickup = None

    def _outage(self, plan: _Plan, *, fallback: bool) -> None:
        """The enqueue fails; the trigger then runs inline, or never becomes a job."""
        plan.enqueue_failed = True
        job = plan.jobs[0]
        if fallback:
            job.mode = "inline_emergency"
            job.enqueued += self.rng.between(200, 1_500)
            job.pickup = _pickup(self.rng, "control")
        else:
            plan.jobs.clear()


def _finishes(job: _Job) -> int:
    return job.enqueued + (job.pickup or 0) + job.run.duration


def _work(rng: Rng) -> tuple[int, int]:
    """Duration and model time of one attempt that succeeds at once."""
    model = rng.between(1_400, 5_600)
    return model + rng.between(100, 400), model


# --- rows ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Lead:
    id: str
    first: str
    last: str
    company: str
    channel: str
    subject: str | None
    history: list[dict[str, str | None]]
    """Inbound messages so far, oldest first, as `production_request` takes a thread."""


class _Writer:
    """Turns plans into rows: leads, trigger messages, jobs, dispatch events and drafts."""

    def __init__(self, rng: Rng, scenario: str, seed: int, end: int) -> None:
        self.rng = rng
        self.end = end
        self.rows: dict[str, list[Row]] = {table: [] for table, _ in TABLES}
        self.client_id = rng.uuid()
        self.business = rng.pick(corpus.BUSINESSES)
        self.agent = self.business.persona.split(",")[0]
        self.settings = {
            "service_description": self.business.description,
            "price_list": [{"item": i, "price": f"${p:,}"} for i, p in self.business.prices],
            "booking_link": "https://book.example.com/rollout-test-co",
            "signature": f"{self.agent}, {CLIENT_NAME}",
            "persona": f"{self.business.persona} at {CLIENT_NAME}",
        }
        name = f"{CLIENT_NAME} ({scenario}, seed {seed})"
        self.rows["clients"].append((self.client_id, name, orjson.dumps(self.settings).decode()))
        self.leads: list[_Lead] = []

    def trigger(self, plan: _Plan) -> None:
        """Write one trigger message with its jobs, events and drafts."""
        rng = self.rng
        lead = self._lead(plan.sent_at)
        body = self._body(lead)
        subject = (
            lead.subject if not lead.history or lead.subject is None else f"Re: {lead.subject}"
        )
        message_id = rng.uuid()
        self.rows["messages"].append((
            message_id, self.client_id, lead.id, lead.channel, "inbound", subject, body,
            timestamp(plan.sent_at), None, None,
        ))  # fmt: skip
        request = production_request(
            client_settings=self.settings, channel=lead.channel,
            lead={"first_name": lead.first, "last_name": lead.last, "company": lead.company},
            thread=lead.history[-THREAD_LIMIT:], inbound_subject=subject, inbound_body=body,
            model=MODEL, temperature=TEMPERATURE, max_tokens=MAX_TOKENS,
        )  # fmt: skip
        lead.history.append({"direction": "inbound", "subject": subject, "body": body})
        dedupe = f"reply:{message_id}"
        if plan.enqueue_failed:
            self._event(None, dedupe, "enqueue_failed", "canary", plan.attempt_at,
                        '{"error": "queue unavailable"}')  # fmt: skip
        for job in plan.jobs:
            job_id = self._job(job, lead, message_id, dedupe, request)
            if job.mode == "queued":
                self._event(job_id, dedupe, "enqueued", job.cohort, job.enqueued, _QUEUED)
            elif job.mode == "inline_emergency":
                reason = "enqueue_failed" if plan.enqueue_failed else "emergency_switch"
                self._event(job_id, dedupe, "inline_fallback", job.cohort, job.enqueued,
                            f'{{"reason": "{reason}"}}')  # fmt: skip

    def _job(
        self, job: _Job, lead: _Lead, message_id: str, dedupe: str, request: dict[str, Any]
    ) -> str:
        job_id = self.rng.uuid()
        run = job.run
        started = None if job.pickup is None else job.enqueued + job.pickup
        finished = None if started is None else started + run.duration
        status, attempts, error = run.status, run.attempts, run.error
        # Only what normal processing explains is still open at the end of the series.
        if started is None or started >= self.end:
            status, attempts, error, started, finished = "pending", 0, None, None, None
        elif finished is not None and finished >= self.end:
            status, attempts, error, finished = "running", 1, None, None
        self.rows["draft_jobs"].append((
            job_id, self.client_id, lead.id, message_id, "reply_draft", status, dedupe, attempts,
            _MAX_ATTEMPTS, job.mode, job.cohort, timestamp(job.enqueued), maybe_timestamp(started),
            maybe_timestamp(finished), error,
        ))  # fmt: skip
        if status == "succeeded" and finished is not None:
            self._draft(job, job_id, lead, message_id, request, finished)
        return job_id

    def _draft(
        self,
        job: _Job,
        job_id: str,
        lead: _Lead,
        message_id: str,
        request: dict[str, Any],
        finished: int,
    ) -> None:
        messages = request["messages"]
        content = render(draft_parts(messages, style=job.style))
        prompt_tokens = sum(len(m["content"]) for m in messages) // 4
        usage = (
            f'{{"prompt_tokens": {prompt_tokens}, "completion_tokens": {len(content) // 4 + 1}}}'
        )
        self.rows["ai_drafts"].append((
            self.rng.uuid(), job_id, self.client_id, lead.id, message_id, lead.channel, content,
            "stored", None, MODEL, PROMPT_VERSION, orjson.dumps(request).decode(), usage,
            job.run.model_ms, timestamp(finished),
        ))  # fmt: skip

    def _event(
        self, job_id: str | None, dedupe: str, kind: str, cohort: str, at: int, detail: str
    ) -> None:
        self.rows["dispatch_events"].append(
            (self.rng.uuid(), self.client_id, job_id, dedupe, kind, cohort, timestamp(at), detail)
        )

    def _lead(self, at: int) -> _Lead:
        """A new lead, or now and then one of the recent leads writing again."""
        rng = self.rng
        if self.leads and rng.random() < 0.2:
            return rng.pick(self.leads[-100:])
        first, last = rng.pick(corpus.FIRST_NAMES), rng.pick(corpus.LAST_NAMES)
        company = rng.pick(corpus.COMPANIES)
        channel: str = rng.weighted(CHANNEL_MIX)
        subject = rng.pick(corpus.SUBJECTS) if channel == "email" else None
        lead = _Lead(rng.uuid(), first, last, company, channel, subject, [])
        domain = "".join(c for c in company.lower() if c.isalnum())
        self.rows["leads"].append((
            lead.id, self.client_id, first, last, f"{first}.{last}@{domain}.example.com".lower(),
            f"+1 {rng.pick(corpus.AREA_CODES)} 555 01{rng.between(0, 99):02d}", company,
            rng.pick(corpus.TIMEZONES), "neutral", timestamp(at - rng.between(_DAY, 20 * _DAY)),
        ))  # fmt: skip
        self.leads.append(lead)
        return lead

    def _body(self, lead: _Lead) -> str:
        rng = self.rng
        intent: str = rng.weighted(INTENT_MIX)
        core = rng.pick(corpus.INBOUND[intent]).format(
            item=rng.pick(self.business.prices)[0].lower(), service=self.business.service,
            company=lead.company, day=rng.pick(corpus.WEEKDAYS), city=rng.pick(corpus.CITIES),
        )  # fmt: skip
        if lead.channel != "email":
            return core
        return rng.pick(corpus.INBOUND_EMAIL).format(
            agent=self.agent, core=core, first=lead.first, last=lead.last, company=lead.company
        )
