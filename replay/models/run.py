"""The run artifact and its run-level parts: selection, summary, gate, baseline, noise."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from replay.models.base import (
    SCHEMA_VERSION,
    Mode,
    RunStatus,
    Strict,
)
from replay.models.result import (
    CaseResult,
    PreflightEntry,
    Selection,
)


class AttributionSummary(Strict):
    """With `--control`: what drift explains and what the change did, over the run's cases."""

    by_attribution: dict[str, int] = Field(default_factory=dict)
    """Cases by where their difference comes from: `none`, `drift`, `change`."""
    regressions: dict[str, int] = Field(default_factory=dict)
    """Regressions by kind: `change`, `hidden_by_drift` (both gated), `drift` (not gated)."""
    without_control: int = 0
    """Cases whose control arm gave no draft: decided against the original, not attributed."""
    control_errors: dict[str, int] = Field(default_factory=dict)
    """The control arm's errors by class."""
    stats: PairedStats | None = None
    """The candidate against the control over the cases both drafted: McNemar on regressed
    against the original (`only_baseline` is the control's, `only_run` the candidate's) and the
    interval of the candidate's similarity to the sent reply minus the control's."""


class Summary(Strict):
    """Running totals of a run."""

    cases: int
    by_verdict: dict[str, int]
    """Results by verdict: with `--repeats`, every repeat."""
    by_case_verdict: dict[str, int] = Field(default_factory=dict)
    """With `--repeats`: cases by the majority verdict the gate counts (empty otherwise)."""
    by_channel: dict[str, int]
    by_request_source: dict[str, int]
    by_error_class: dict[str, int] = Field(default_factory=dict)
    by_change_class: dict[str, int] = Field(default_factory=dict)
    retries: int = 0
    """Attempts beyond the first, over all cases."""
    estimated_input_tokens: int
    estimated_output_tokens: int
    estimated_cost_usd: float | None
    """None when some model of the run has no price."""
    prompt_tokens: int | None = 0
    """Reported by the model, over all cases of a live run; None when no draft reported usage.
    Tokens paid for in this run only: an answer from the response cache adds none."""
    completion_tokens: int | None = 0
    cost_usd: float | None = None
    """Actual spend of a live run; None when some model has no price."""
    latency_ms_p50: float | None = None
    """Over the answers a model sent: a cache hit's latency is a disk read, so hits are left out."""
    latency_ms_p95: float | None = None
    latency_ms_max: float | None = None
    cache_hits: int | None = None
    """Cases answered from the response cache (`--cache`); None when no case used it."""
    cache_misses: int | None = None
    """Cases run while the response cache was on that it did not answer: sent to the model,
    errors included."""
    attribution: AttributionSummary | None = None
    """With `--control`: drift and change told apart; None without a control arm."""
    cache_saved_usd: float | None = None
    """What the hits' stored usage costs at today's prices: saved, not in `cost_usd`. None when
    no case used the cache, or a hit's model has no price or its answer reported no usage."""
    duration_s: float | None = None
    """Wall time of the run (of every part, when resumed)."""
    by_invariant: dict[str, dict[str, int]] = Field(default_factory=dict)
    """Per check code: how many were new, fixed and pre-existing."""
    similarity_mean: float | None = None
    """New draft vs original, over the cases with both."""
    similarity_p10: float | None = None
    similarity_p50: float | None = None
    sent_pairs: int = 0
    """Cases with a reply a human sent, compared with both drafts."""
    sent_similarity_new_mean: float | None = None
    """Mean similarity of the new drafts to what humans sent."""
    sent_similarity_original_mean: float | None = None
    """Mean similarity of the original drafts to what humans sent."""
    closer_to_sent: int = 0
    """Cases whose new draft is closer to what the human sent than the original was."""
    further_from_sent: int = 0
    unpriced_models: list[str] = Field(default_factory=list)
    by_judge: dict[str, int] = Field(default_factory=dict)
    """Judge verdicts: `original`, `new`, `tie`, `unscored`, `error`."""
    by_regression_kind: dict[str, int] = Field(default_factory=dict)
    judge_prompt_tokens: int = 0
    judge_completion_tokens: int = 0
    judge_cost_usd: float | None = None
    """Part of `cost_usd`: what the judge cost (cached answers cost nothing)."""
    not_measured: dict[str, str] = Field(default_factory=dict)
    """Why each figure above that is None could not be measured: not measured is not zero."""


class GateRule(Strict):
    """One rule of the gate."""

    rule: str
    threshold: float
    value: float
    passed: bool
    cases: list[str] = Field(default_factory=list)
    """The cases behind the value."""
    causes: dict[str, int] | None = None
    """`min_evidence`: the cases without evidence by cause (a verdict, or `skipped: <reason>`)."""


class Gate(Strict):
    """The CI gate's decision."""

    passed: bool
    enforced: bool = True
    """False with --no-gate: the rules are reported and the run passes."""
    failed: list[str] = Field(default_factory=list)
    """Names of the rules that failed."""
    rules: list[GateRule] = Field(default_factory=list)


class CaseChange(Strict):
    """A paired case whose verdict or checks moved between the baseline and the run."""

    case_id: str
    old: str
    """Verdict in the baseline."""
    new: str
    """Verdict in the run."""
    kind: Literal["regression", "infra", "recovered", "moved", "same"]
    """`infra`: it passed before and errors now; `same`: only the checks moved."""
    new_checks: list[str] = Field(default_factory=list)
    """Check codes violated now and not before."""
    gone_checks: list[str] = Field(default_factory=list)


class BaselineReport(Strict):
    """A run set against an earlier one."""

    baseline: str
    run: str
    baseline_run_id: str | None = None
    run_id: str | None = None
    comparable: bool
    differences: list[str] = Field(default_factory=list)
    """What differs between the two set-ups, in words."""
    paired: int
    only_in_baseline: list[str] = Field(default_factory=list)
    only_in_run: list[str] = Field(default_factory=list)
    changes: list[CaseChange] = Field(default_factory=list)
    similarity_moves: list[dict[str, Any]] = Field(default_factory=list)
    """The largest similarity changes, biggest first."""
    aggregates: dict[str, dict[str, Any]] = Field(default_factory=dict)
    stats: PairedStats | None = None


class McNemar(Strict):
    """Exact McNemar test on the paired regressed-or-not outcome."""

    only_baseline: int
    """Pairs regressed in the baseline and not in the run (b)."""
    only_run: int
    """Pairs regressed in the run and not in the baseline (c)."""
    both: int
    neither: int
    p_value: float
    """Two-sided exact binomial p-value of b against c."""


class Bootstrap(Strict):
    """Paired bootstrap interval of the mean difference (run − baseline) of a per-case number."""

    measure: str
    pairs: int
    mean_difference: float | None
    low: float | None
    high: float | None
    confidence: float = 0.95
    resamples: int
    seed: int


class PairedStats(Strict):
    """Paired statistics of a run against its baseline over the cases both have."""

    paired: int
    minimum: int
    """Fewer paired cases than this: the sample is too small to conclude."""
    enough: bool
    mcnemar: McNemar | None = None
    similarity_to_sent: Bootstrap | None = None
    worse: bool | None = None
    """The interval excludes zero in the worse direction; None when too small to tell."""
    conclusion: str


class CompareArtifact(Strict):
    """The record of `replay compare OLD NEW`."""

    schema_version: int = SCHEMA_VERSION
    kind: Literal["compare"] = "compare"
    run_id: str
    created_at: datetime
    tool_version: str
    status: Literal["complete"] = "complete"
    exit_code: int
    report: BaselineReport
    gate: Gate


class RepeatAgreement(Strict):
    """How one case's repeats agreed with each other."""

    case_id: str
    repeats: int
    verdicts: list[str]
    verdict: str
    """The majority verdict; `regressed` only when most repeats regressed."""
    flaky: bool
    """The repeats disagree on the verdict."""
    self_similarity: float | None = None
    """Mean pairwise similarity of the repeats' drafts."""
    same_change_class: bool
    same_invariants: bool
    same_judge: bool | None = None


class Noise(Strict):
    """The run's own noise, measured by `--repeats K`."""

    repeats: int
    cases: int
    flaky: list[str] = Field(default_factory=list)
    flaky_rate: float
    self_similarity_mean: float | None = None
    change_class_agreement: float
    invariant_agreement: float
    judge_agreement: float | None = None
    per_case: list[RepeatAgreement] = Field(default_factory=list)


class BatchRef(Strict):
    """One Batch API submission of a `--via batch` run: enough to find it again on `--resume`.

    Recorded in the partial log once its input file is uploaded and again once the batch
    exists, so a run killed at any point re-attaches to what it paid for instead of paying
    again. `custom_ids` are `CASE_ID#REPEAT`, the lines of its input file.
    """

    input_file_id: str
    id: str | None = None
    """None while only the input file exists."""
    status: str | None = None
    """The provider's last word: `validating`, `in_progress`, `completed`, `expired`, …"""
    custom_ids: list[str] = Field(default_factory=list)
    submitted_at: datetime | None = None
    finished_at: datetime | None = None
    completed: int | None = None
    """Lines answered (the provider's request count), once known."""
    failed: int | None = None
    """Lines the provider answered with an error, once known."""


class RunPart(Strict):
    """One invocation that worked on a run: the first, and each `--resume`."""

    started_at: datetime
    finished_at: datetime | None = None
    cases: int = 0
    """Cases this part finished."""
    duplicates_dropped: int = 0
    """Result lines of the resumed partial log repeating a (case, repeat) already kept: the
    first is kept, each repeat dropped (a second writer's trace)."""
    foreign_dropped: int = 0
    """Result lines of the resumed partial log for cases outside the run's selection: dropped."""
    batches: list[BatchRef] = Field(default_factory=list)
    """The Batch API submissions this part made or re-attached to (`--via batch`)."""


class RunArtifact(Strict):
    """The record of one run: one JSON file, written atomically."""

    schema_version: int = SCHEMA_VERSION
    kind: Literal["run"] = "run"
    run_id: str
    parent_run_id: str | None = None
    created_at: datetime
    finished_at: datetime | None = None
    tool_version: str
    git_sha: str | None = None
    """The commit of the working directory the run started in, when it is a git checkout."""
    mode: Mode
    status: RunStatus
    exit_code: int
    config_hash: str | None = None
    """SHA-256 of `identity`."""
    identity: dict[str, Any] = Field(default_factory=dict)
    """What makes runs comparable: selection, pipeline, request settings, mode."""
    parts: list[RunPart] = Field(default_factory=list)
    """Each invocation of this run: more than one when it was resumed."""
    read_only: Literal[True] = True
    """The source database was opened read-only; always true."""
    context_as_of: dict[str, str] = Field(
        default_factory=lambda: {
            "thread": "point_in_time",
            "lead": "current",
            "client_settings": "current",
        }
    )
    config: dict[str, Any]
    """The resolved configuration, secrets removed."""
    preflight: list[PreflightEntry] = Field(default_factory=list)
    selection: Selection | None = None
    cases: list[CaseResult] = Field(default_factory=list)
    summary: Summary | None = None
    gate: Gate | None = None
    baseline: BaselineReport | None = None
    noise: Noise | None = None
