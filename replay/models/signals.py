"""The signals artifact: job health per cohort and the canary decision drawn from it."""

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
    retried: int
    timeouts: int
    """Jobs whose last error mentions a timeout."""
    pending: int
    success_rate: float
    failure_rate: float
    retry_rate: float
    timeout_rate: float
    dispatch_p50_s: float | None = None
    """Enqueued → started, seconds."""
    dispatch_p95_s: float | None = None
    dispatch_max_s: float | None = None
    processing_p50_s: float | None = None
    """Started → finished, seconds."""
    processing_p95_s: float | None = None


class BacklogPoint(Strict):
    """Jobs waiting to start at the end of one window."""

    window_end: datetime
    pending: int
    oldest_age_s: float | None = None
    """How long the oldest of them had waited, seconds."""


class CohortSignals(Strict):
    """What a cohort's jobs and dispatcher did over the range."""

    total: GroupStats
    duplicate_executions: int = 0
    """Jobs beyond the first for one trigger message and job type."""
    dedupe_collisions: int = 0
    """Jobs beyond the first sharing one dedupe key."""
    duplicate_drafts: int = 0
    """Drafts beyond the first for one trigger message."""
    enqueue_attempts: int = 0
    enqueue_failures: int = 0
    enqueue_failure_rate: float = 0.0
    inline_fallbacks: int = 0
    backlog: list[BacklogPoint] = Field(default_factory=list)
    backlog_growing_windows: int = 0
    """How many windows in a row, up to the last, the backlog grew."""


class SignalsReport(Strict):
    """Operational signals of draft jobs over one time range."""

    start: datetime
    end: datetime
    window_s: float
    client_id: str | None = None
    cohort_source: Literal["column", "predicate", "none"]
    groups: list[GroupStats] = Field(default_factory=list)
    cohorts: dict[str, CohortSignals] = Field(default_factory=dict)


class CanaryRule(Strict):
    """One stop rule of a staged rollout, with its numbers."""

    rule: str
    passed: bool
    value: float | None = None
    limit: float | None = None
    detail: str


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
