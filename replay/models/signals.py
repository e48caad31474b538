"""The signals artifact: job health per cohort and the canary decision drawn from it.

Not measured is not zero: a figure that a missing view or column, or too little data, cannot
produce is None, and the `not_measured` of its model says why, keyed by the field's name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from replay.models.base import (
    SCHEMA_VERSION,
    Strict,
)

# --- job signals ---------------------------------------------------------------------------------


class GroupStats(Strict):
    """Job health of one cohort × dispatch mode × job type (or of a whole cohort)."""

    cohort: str
    dispatch_mode: str | None = None
    """None on a cohort's total row."""
    job_type: str | None = None
    jobs: int
    succeeded: int
    failed: int
    """Jobs in `failed` or `dead`."""
    dead_letter: int
    """Jobs in `dead`, or that used up their attempts."""
    retried: int | None
    """None without an `attempts` column."""
    timeouts: int | None
    """Jobs whose last error mentions a timeout; None without a `last_error` column."""
    pending: int
    success_rate: float | None
    failure_rate: float | None
    retry_rate: float | None
    timeout_rate: float | None
    dispatch_p50_s: float | None = None
    """Enqueued → started, seconds; a job that started before it was enqueued is left out."""
    dispatch_p95_s: float | None = None
    dispatch_max_s: float | None = None
    processing_p50_s: float | None = None
    """Started → finished, seconds; a job that finished before it started is left out."""
    processing_p95_s: float | None = None
    not_measured: dict[str, str] = Field(default_factory=dict)
    """Why each None figure is None, by field: `{"retried": "no attempts column"}`."""


class BacklogPoint(Strict):
    """Jobs waiting to start at the end of one window."""

    window_end: datetime
    pending: int
    oldest_age_s: float | None = None
    """How long the oldest of them had waited, seconds."""


class CohortSignals(Strict):
    """What a cohort's jobs and dispatcher did over the range."""

    total: GroupStats
    duplicate_executions: int
    """Jobs beyond the first for one trigger message and job type."""
    dedupe_collisions: int | None
    """Jobs beyond the first sharing one dedupe key; None without a `dedupe_key` column."""
    duplicate_drafts: int | None
    """Drafts beyond the first for one trigger message; None without a drafts view."""
    enqueue_attempts: int | None
    """None without a dispatch view (or, when jobs are split by cohort, its cohort column)."""
    enqueue_failures: int | None
    enqueue_failure_rate: float | None
    """None also when there was no attempt."""
    inline_fallbacks: int | None
    backlog: list[BacklogPoint] = Field(default_factory=list)
    backlog_growing_windows: int | None
    """How many windows in a row, up to the last, the backlog grew; None with one window."""
    not_measured: dict[str, str] = Field(default_factory=dict)
    """Why each None figure is None, by field: `{"duplicate_drafts": "no drafts view"}`."""


class DataWarning(Strict):
    """Jobs that break an invariant of the jobs view: counted, named, left out of durations."""

    check: Literal["started_before_enqueued", "finished_before_started"]
    jobs: int
    first: list[str]
    """The first few job ids, by enqueue time."""
    message: str


class SignalsReport(Strict):
    """Operational signals of draft jobs over one time range."""

    start: datetime
    end: datetime
    window_s: float
    client_id: str | None = None
    cohort_source: Literal["column", "predicate", "none"]
    groups: list[GroupStats] = Field(default_factory=list)
    cohorts: dict[str, CohortSignals] = Field(default_factory=dict)
    warnings: list[DataWarning] = Field(default_factory=list)


class CanaryRule(Strict):
    """One stop rule of a staged rollout, with its numbers."""

    rule: str
    result: Literal["passed", "failed", "not_evaluated"]
    """Not evaluated: too little data, or a figure it needs was not measured; see `reason`."""
    required: bool = True
    """Whether "continue" needs it evaluated (`[canary] required`); a failure stops regardless."""
    value: float | None = None
    limit: float | None = None
    detail: str
    reason: str | None = None
    """Why the rule was not evaluated."""


class CanaryDecision(Strict):
    """Continue, stop, or not enough data — and why."""

    action: Literal["continue", "stop", "insufficient"]
    stage: int | None = None
    next_stage: int | None = None
    rollback: str | None = None
    rules: list[CanaryRule] = Field(default_factory=list)
    message: str


class SignalsArtifact(Strict):
    """The record of `replay signals` or `replay canary-check`."""

    schema_version: int = SCHEMA_VERSION
    kind: Literal["signals"] = "signals"
    run_id: str
    created_at: datetime
    tool_version: str
    read_only: Literal[True] = True
    exit_code: int
    config: dict[str, Any]
    current: SignalsReport
    previous: SignalsReport | None = None
    """The window before `current`, for canary-vs-itself rules."""
    decision: CanaryDecision | None = None
