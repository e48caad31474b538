"""What the run knows about one case: its plan, outcome, comparison, checks, judgement."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from replay.models.base import (
    Attribution,
    ChangeClass,
    DriftRegression,
    ErrorClass,
    RequestSource,
    Strict,
    Verdict,
)
from replay.models.case import (
    ChatRequest,
    InvalidCase,
    Original,
    Outcome,
    ThreadMessage,
    Usage,
)

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


class Shard(Strict):
    """One part of a selection split with `--shard i/n`: the cases whose id hashes to it."""

    index: int = Field(ge=1)
    """Which part, from 1."""
    count: int = Field(ge=1)
    """How many parts the selection was split into."""


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
    """Every selected case id, in run order (with `--shard`: this part's)."""
    fingerprint: str | None = None
    """SHA-256 of the whole selection's ordered case ids, before `--shard`: the parts of one
    selection share it. None in artifacts written before it was recorded."""
    shard: Shard | None = None
    """With `--shard i/n`: the part of the selection this run replayed; None otherwise."""
    sharded_from: list[str] = Field(default_factory=list)
    """With `--shard`: the whole selection's case ids, in order, the part was cut from;
    `replay merge` orders the merged cases by it. Empty otherwise."""


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
    """The newest thread message's time; always before `inbound_sent_at`."""
    thread: list[ThreadMessage] = Field(default_factory=list)
    """The point-in-time thread itself, oldest first: what the report shows beside the drafts."""
    tags: list[str] = Field(default_factory=list)
    lead: dict[str, Any] | None = None
    """The lead as the run read it (today's row), so `replay rescore` can check drafts again
    without the database; None in artifacts written before it was kept."""
    client_settings: dict[str, Any] | None = None
    """The client's settings as the run read them (today's row), for the same reason."""


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


class ControlArm(Strict):
    """The control arm's side of a case (`--control`): production's set-up, replayed now.

    Its draft is what the original set-up writes today; the case's own comparison, checks,
    judgement and verdict are the candidate's against it, so what moved without the change
    (drift) is told apart from what the change did.
    """

    plan: RequestPlan | None = None
    outcome: Outcome | None = None
    error: CaseError | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    latency_ms: float | None = None
    cost_usd: float | None = None
    """What the control's draft cost (0 for a cache hit); None when unpriced or not run."""
    cache: Literal["hit", "miss"] | None = None
    """What the response cache did for the control's request (on by default for this arm)."""
    drift: Comparison | None = None
    """The original draft against the control's: what changed without the change."""
    drift_invariants: InvariantChanges | None = None
    """Checks of the control's draft against the original's: mistakes drift alone brings."""
    verdict: Verdict | None = None
    """The control decided against the original by the same policy: what drift alone did."""


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
    """Duration of the attempt that produced the draft; for a cache hit, the read of the cache."""
    cost_usd: float | None = None
    """Actual cost from the reported usage, the judge's included; None when unpriced or not run.
    An answer from the response cache cost nothing: only its judge's cost is counted."""
    cache: Literal["hit", "miss"] | None = None
    """What the response cache (`--cache`) did for this case: `hit`, the answer came from it
    and no request reached the model; `miss`, the model was asked. None when it was off or the
    pipeline is not `openai`."""
    saved_usd: float | None = None
    """A hit: what its stored usage costs at today's prices, not paid and not in `cost_usd`;
    None for any other case, or when the answer's model has no price or it reported no usage."""
    judge: Judgement | None = None
    regression_kind: Literal["invariant", "quality"] | None = None
    """Why a `regressed` case regressed: a new critical check, or the judge's preference."""
    control: ControlArm | None = None
    """With `--control`: the control arm's draft. `comparison`, `invariants`, `judge` and
    `verdict` are then the candidate's against the control's draft, not the original's."""
    versus_original: Verdict | None = None
    """With `--control`: the candidate decided against the original, as a run without a
    control arm would decide it."""
    attribution: Attribution | None = None
    """With `--control`: where the case's difference comes from (None without a control draft)."""
    drift_regression: DriftRegression | None = None
    """With `--control`: a regression's kind: the change's, the change's hidden by drift, or
    drift alone (regressed against the original only; not gated)."""
