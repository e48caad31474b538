"""Data that crosses a boundary: cases read from the database, requests, outcomes, the artifact.

The JSON Schema of `RunArtifact` (``replay schema``) is generated from these models, so a field's
docstring is its documentation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SCHEMA_VERSION = 1
"""Bumped on any change that an older reader of artifacts would misread."""

Channel = Literal["email", "sms", "linkedin"]
RequestSource = Literal["recorded", "rendered"]
Verdict = Literal[
    "selected", "unchanged", "changed", "improved", "regressed", "error", "invalid_case", "skipped"
]
RunStatus = Literal["complete", "interrupted", "blocked", "empty"]
ErrorClass = Literal[
    "db",
    "model_rate_limit",
    "model_timeout",
    "model_connection",
    "model_error",
    "pipeline_error",
    "timeout",
    "judge_error",
]
ChangeClass = Literal["identical", "whitespace", "minor", "rewritten"]
Mode = Literal["dry", "live"]


class Strict(BaseModel):
    """Base of every boundary model: unknown fields are an error, values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --- the case contract -------------------------------------------------------------------------


class ChatMessage(Strict):
    """One message of a chat-completions request."""

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[dict[str, Any]]
    """Text, or a list of content parts as the chat-completions API accepts them."""
    name: str | None = None


class ChatRequest(Strict):
    """A chat-completions request, recorded by production or rendered by the tool."""

    messages: list[ChatMessage] = Field(min_length=1)
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
    """Every other request key, passed through to the API unchanged (`extra_body`)."""

    @classmethod
    def from_recorded(cls, data: Any) -> ChatRequest:
        """Build a request from a recorded chat-completions body.

        Known keys become fields; `stream` is dropped (replays never stream); every other key is
        kept in `extra`.

        Raises:
            ValueError: `data` is not a chat request (not an object, or no list of messages).
        """
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        if not isinstance(data.get("messages"), list) or not data["messages"]:
            raise ValueError("expected an object with a non-empty 'messages' list")
        known = {"messages", "model", "temperature", "max_tokens", "stream"}
        extra = {key: value for key, value in data.items() if key not in known}
        try:
            return cls(
                messages=data["messages"],
                model=data.get("model"),
                temperature=data.get("temperature"),
                max_tokens=data.get("max_tokens"),
                extra=extra,
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ValueError(f"{where}: {first['msg']}") from None

    def to_api(self) -> dict[str, Any]:
        """Return the request body as the chat-completions API takes it."""
        body: dict[str, Any] = {
            "messages": [message.model_dump(exclude_none=True) for message in self.messages],
        }
        for key in ("model", "temperature", "max_tokens"):
            value = getattr(self, key)
            if value is not None:
                body[key] = value
        return {**self.extra, **body}


class InboundMessage(Strict):
    """The message that triggered the draft job."""

    id: str
    subject: str | None = None
    body: str
    sent_at: datetime


class ThreadMessage(Strict):
    """A message of the conversation strictly before the inbound message."""

    message_id: str
    direction: Literal["inbound", "outbound"]
    channel: str
    subject: str | None = None
    body: str | None = None
    sent_at: datetime


class CaseInput(Strict):
    """What production had when it drafted: all a pipeline may see (never the answers)."""

    case_id: str
    client_id: str
    lead_id: str
    channel: Channel
    job_created_at: datetime
    inbound: InboundMessage
    thread: list[ThreadMessage] = Field(default_factory=list)
    """Newest messages before the inbound's own time, oldest first (point-in-time)."""
    lead: dict[str, Any] = Field(default_factory=dict)
    """The lead as it is today (`context_as_of: current`)."""
    client_settings: dict[str, Any] = Field(default_factory=dict)
    """The client's settings as they are today (`context_as_of: current`)."""
    original_request: ChatRequest | None = None
    """The exact request production sent, when it was recorded."""
    tags: list[str] = Field(default_factory=list)


class Original(Strict):
    """What happened in production: used for comparing, never shown to a pipeline."""

    draft: str | None = None
    model: str | None = None
    prompt_version: str | None = None
    disposition: Literal["sent_as_is", "edited", "rejected"] | None = None
    sent_reply: str | None = None
    """The reply a human actually sent, when there was one."""
    job_status: str | None = None


class Case(Strict):
    """One historical draft job: its input and what production did with it."""

    input: CaseInput
    original: Original


class InvalidCase(Strict):
    """A row that failed validation; it becomes an `invalid_case` result."""

    case_id: str
    column: str
    """The case-view column that was wrong."""
    reason: str


# --- what pipelines return -----------------------------------------------------------------------


class Usage(Strict):
    """Token counts reported by the model."""

    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)


class Outcome(Strict):
    """A pipeline's answer for one case."""

    text: str
    model: str | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    request_hash: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


# --- the artifact -------------------------------------------------------------------------------


class PreflightEntry(Strict):
    """One preflight check, or one root cause of a failure."""

    check: str
    """`database`, `views`, `client`, `artifact_dir` or `model`."""
    ok: bool
    code: str | None = None
    """Stable cause of a failure, e.g. `db_unreachable`, `view_columns`."""
    message: str


class SkippedCase(Strict):
    """A case that was selected but not run."""

    case_id: str
    reason: str


class Selection(Strict):
    """What was asked for and what was found."""

    client_id: str
    requested: int
    """The limit, or the number of ids asked for."""
    found: int
    """Rows the case view returned (valid and invalid)."""
    more_available: bool = False
    """True when the view holds more matching cases than the limit let through."""
    filters: dict[str, Any] = Field(default_factory=dict)
    not_found: list[str] = Field(default_factory=list)
    invalid: list[str] = Field(default_factory=list)
    skipped: list[SkippedCase] = Field(default_factory=list)
    case_ids: list[str] = Field(default_factory=list)
    """Every selected case id, in run order."""


class InputSummary(Strict):
    """The shape of a case's input, enough to see what point-in-time context it had."""

    channel: str | None = None
    lead_id: str | None = None
    inbound_id: str | None = None
    inbound_subject: str | None = None
    inbound_body: str | None = None
    inbound_sent_at: datetime | None = None
    job_created_at: datetime | None = None
    thread_messages: int = 0
    thread_message_ids: list[str] = Field(default_factory=list)
    thread_last_at: datetime | None = None
    thread: list[ThreadMessage] = Field(default_factory=list)
    """The point-in-time thread itself, oldest first: what the report shows beside the drafts."""
    """The newest thread message's time; always before `inbound_sent_at`."""
    tags: list[str] = Field(default_factory=list)


class RequestPlan(Strict):
    """The request the `openai` pipeline would send, with its estimated size and cost."""

    source: RequestSource
    request: ChatRequest
    request_hash: str
    """SHA-256 of the canonical JSON of the request."""
    estimated_input_tokens: int
    """Characters / 4 of every message."""
    estimated_output_tokens: int
    """The original draft's characters / 4, capped by max_tokens, else max_tokens, else 256."""
    estimated_cost_usd: float | None
    """None when the model has no price."""


class Attempt(Strict):
    """One call of the pipeline for a case."""

    number: int
    """1 for the first attempt."""
    duration_ms: float
    error_class: ErrorClass | None = None
    """None when the attempt succeeded."""
    status: int | None = None
    """HTTP status of the response, when there was one."""
    message: str | None = None
    retry_after_s: float | None = None
    """What the server asked for in Retry-After."""
    backoff_s: float | None = None
    """How long the runner waited before the next attempt."""


class CaseError(Strict):
    """Why a case ended without a draft."""

    error_class: ErrorClass
    message: str
    status: int | None = None


class DiffSpan(Strict):
    """Words deleted from the original or inserted by the new draft."""

    op: Literal["insert", "delete"]
    text: str
    at: int
    """Word index in the original draft where the span applies."""


class Comparison(Strict):
    """The new draft against the original draft and the reply a human sent."""

    change_class: ChangeClass
    similarity: float
    """0 to 1, new draft vs original; the measure is named in `measure`."""
    measure: str
    length_change: int
    """Characters of the new draft minus characters of the original."""
    diff: list[DiffSpan] = Field(default_factory=list)
    diff_left_out: int = 0
    """Spans beyond the ones kept in `diff`."""
    sent_similarity_new: float | None = None
    """Similarity of the new draft to the reply a human sent, when there was one."""
    sent_similarity_original: float | None = None
    """Similarity of the original draft to the reply a human sent."""

    @property
    def closer_to_sent(self) -> float | None:
        """How much closer the new draft is to what the human sent (negative: further)."""
        if self.sent_similarity_new is None or self.sent_similarity_original is None:
            return None
        return round(self.sent_similarity_new - self.sent_similarity_original, 4)


Severity = Literal["critical", "warning"]


class Violation(Strict):
    """A deterministic check a draft failed, with the evidence."""

    code: str
    severity: Severity
    evidence: str
    """The matched text in the draft."""
    key: str
    """What makes two violations the same one (a normalized amount, URL, digits, or the code)."""
    detail: str
    """Where it was looked for and not found, or the limit it passed."""


class InvariantChanges(Strict):
    """The checks on the new draft set against the same checks on the original."""

    new: list[Violation] = Field(default_factory=list)
    """Only in the new draft: a new critical one is a regression."""
    fixed: list[Violation] = Field(default_factory=list)
    """Only in the original: a fixed critical one is an improvement."""
    pre_existing: list[Violation] = Field(default_factory=list)
    """In both."""


# --- the judge -----------------------------------------------------------------------------------

Preference = Literal["A", "B", "tie"]
JudgeVerdict = Literal["original", "new", "tie", "unscored", "error"]


class JudgeContext(Strict):
    """What the judge reads besides the two drafts: what production had when it drafted.

    Stored with every judged case so `replay rejudge` can score again without the database.
    """

    channel: str
    inbound_subject: str | None = None
    inbound_body: str
    thread: list[dict[str, str]] = Field(default_factory=list)
    """Point-in-time thread, oldest first: `direction` and `body` of each message."""
    facts: dict[str, Any] = Field(default_factory=dict)
    """Client settings and lead fields a draft may rely on (prices, links, signature, name)."""


class JudgeOrder(Strict):
    """The judge's answer for one order of the two drafts."""

    original_is: Literal["A", "B"]
    """Which label the original draft had in this order."""
    preferred: Preference | None = None
    """None when the answer never validated (then `unscored`)."""
    criteria: dict[str, Preference] = Field(default_factory=dict)
    rationale: str | None = None
    cached: bool = False
    """Served from the judge cache: no request reached the judge."""
    request_hash: str | None = None
    problem: str | None = None
    """Why the answer was not usable, when it was not."""


class Judgement(Strict):
    """A pairwise, blinded comparison of the original and the new draft, in both orders."""

    model: str
    rubric_version: str
    rubric_hash: str
    verdict: JudgeVerdict
    """`original` or `new` only when both orders agree; disagreement is a `tie`."""
    criteria: dict[str, Literal["original", "new", "tie"]] = Field(default_factory=dict)
    """Per-criterion preference, agreed across orders (else `tie`)."""
    rationale: str | None = None
    orders: list[JudgeOrder] = Field(default_factory=list)
    error: CaseError | None = None
    """A judge that could not be reached: `judge_error`; the replay result stands."""
    attempts: list[Attempt] = Field(default_factory=list)
    usage: Usage | None = None
    cost_usd: float | None = None
    context: JudgeContext | None = None


# --- results -------------------------------------------------------------------------------------


class CaseResult(Strict):
    """Everything the run knows about one case."""

    case_id: str
    repeat: int = 0
    """Which repeat of the case this is (0 unless the run repeats cases)."""
    verdict: Verdict
    input: InputSummary
    original: Original | None = None
    plan: RequestPlan | None = None
    outcome: Outcome | None = None
    comparison: Comparison | None = None
    invariants: InvariantChanges | None = None
    reasons: list[str] = Field(default_factory=list)
    """Why the verdict is what it is, one short line each."""
    error: CaseError | None = None
    invalid: InvalidCase | None = None
    skipped_reason: str | None = None
    """`budget`, `no_recorded_request`, …"""
    attempts: list[Attempt] = Field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    latency_ms: float | None = None
    """Duration of the attempt that produced the draft."""
    cost_usd: float | None = None
    """Actual cost from the reported usage, the judge's included; None when unpriced or not run."""
    judge: Judgement | None = None
    regression_kind: Literal["invariant", "quality"] | None = None
    """Why a `regressed` case regressed: a new critical check, or the judge's preference."""


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
    prompt_tokens: int = 0
    """Reported by the model, over all cases of a live run."""
    completion_tokens: int = 0
    cost_usd: float | None = None
    """Actual spend of a live run; None when some model has no price."""
    latency_ms_p50: float | None = None
    latency_ms_p95: float | None = None
    latency_ms_max: float | None = None
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


class GateRule(Strict):
    """One rule of the gate."""

    rule: str
    threshold: float
    value: float
    passed: bool
    cases: list[str] = Field(default_factory=list)
    """The cases behind the value."""


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


class RunPart(Strict):
    """One invocation that worked on a run: the first, and each `--resume`."""

    started_at: datetime
    finished_at: datetime | None = None
    cases: int = 0
    """Cases this part finished."""


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
