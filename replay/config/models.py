"""The resolved configuration of a run: frozen, validated, and printable without secrets."""

from __future__ import annotations

import hashlib
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, get_args

import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from replay.config import defaults
from replay.config.secrets import describe_dsn, describe_url, safe_pipeline
from replay.models import Channel, Shard

RequestSourceChoice = Literal["auto", "recorded", "rendered"]
CacheMode = Literal["read-write", "read", "off"]


class Frozen(BaseModel):
    """Base of config models: unknown fields are an error, values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class ViewSql(Frozen):
    """One view of the case contract: its SQL and where it came from (for error messages)."""

    name: Literal["cases", "thread", "clients", "jobs", "dispatch", "drafts"]
    origin: str
    """A file path, a `replay.toml` key, or `built-in`."""
    sql: str


class SourceConfig(Frozen):
    """The views selection reads."""

    cases: ViewSql
    thread: ViewSql
    clients: ViewSql | None = None
    """Optional: without it an unknown client simply selects nothing."""


class SelectionConfig(Frozen):
    """Which cases to replay."""

    client_id: str
    limit: int = Field(gt=0)
    channel: Channel | None = None
    """None means any channel."""
    from_time: datetime | None = None
    """Inclusive lower bound on `job_created_at` (UTC when no offset was given)."""
    to_time: datetime | None = None
    """Exclusive upper bound on `job_created_at`."""
    status: str | None = None
    """Applied to `job_status` when the view has it; None means any status."""
    status_explicit: bool = False
    """The user asked for a status, so a view without `job_status` is an error, not a no-op."""
    case_ids: tuple[str, ...] | None = None
    """Exactly these cases (from `--case-ids` or `--manifest`), or None for the last N."""
    ids_origin: str | None = None
    """`--case-ids` or `--manifest FILE`, for messages."""
    case_tags: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Tags a manifest gives per case id, added to the view's own tags."""
    thread_limit: int = Field(gt=0)
    """Newest K messages before the inbound."""
    max_body_chars: int = Field(gt=0)
    allow_empty: bool = False


class RequestConfig(Frozen):
    """How the `openai` pipeline builds its request."""

    pipeline: str
    request_source: RequestSourceChoice
    model: str | None = None
    """Overrides the recorded model and the default."""
    default_model: str
    """The model of a rendered request when neither `--model` nor the case (`original_model`)
    names one."""
    temperature: float | None = Field(default=None, ge=0, le=2)
    system_prompt: str | None = None
    """Replaces the first system message (`--system-prompt-file`)."""
    system_prompt_file: str | None = None


class Price(Frozen):
    """USD per one million tokens."""

    input: float = Field(ge=0)
    """USD per one million input (prompt) tokens."""
    output: float = Field(ge=0)
    """USD per one million output (completion) tokens."""
    batch_input: float | None = Field(default=None, ge=0)
    """USD per 1M input tokens through the Batch API (default: half of `input`)."""
    batch_output: float | None = Field(default=None, ge=0)
    """USD per 1M output tokens through the Batch API (default: half of `output`)."""


class DatabaseConfig(Frozen):
    """The source database and the views read from it."""

    url: SecretStr
    source: SourceConfig
    connect_timeout_s: float = Field(gt=0)

    @property
    def dsn(self) -> str:
        """The URL itself; never logged or stored."""
        return self.url.get_secret_value()

    @property
    def target(self) -> str:
        """The URL without user, password or options: safe for messages and artifacts."""
        return describe_dsn(self.dsn)


class ModelEndpoint(Frozen):
    """Where the `openai` pipeline sends requests."""

    api_key: SecretStr | None = None
    """From OPENAI_API_KEY only; never printed or stored."""
    base_url: str | None = None
    """OPENAI_BASE_URL, or the SDK's default."""

    @property
    def target(self) -> str:
        """The base URL without user info or query: safe for messages."""
        if not self.base_url:
            return "the OpenAI API"
        return describe_url(self.base_url)


class InvariantSettings(Frozen):
    """Limits and switches of the deterministic checks (`[invariants]` in replay.toml)."""

    sms_max_chars: int = Field(default=320, gt=0)
    linkedin_max_chars: int = Field(default=1900, gt=0)
    email_max_chars: int | None = Field(default=None, gt=0)
    allowed_domains: tuple[str, ...] = ()
    """Links and emails on these domains (or their subdomains) are always supported."""
    opt_out_phrases: tuple[str, ...] = ()
    """Phrases that mean "stop", on top of the built-in ones."""
    disabled: tuple[str, ...] = ()
    """Check codes switched off."""


class ChecksConfig(Frozen):
    """Check settings for every client, with per-client overrides."""

    default: InvariantSettings = InvariantSettings()
    clients: dict[str, InvariantSettings] = Field(default_factory=dict)

    def for_client(self, client_id: str) -> InvariantSettings:
        """The settings that apply to `client_id`."""
        return self.clients.get(client_id, self.default)


class GateConfig(Frozen):
    """Thresholds of the CI gate (`[gate]` in replay.toml)."""

    max_error_rate: float = Field(default=0.1, ge=0, le=1)
    max_invalid_rate: float = Field(default=0.2, ge=0, le=1)
    enforced: bool = True
    """False with --no-gate: rules are reported, the exit code ignores them."""
    on_stats: bool = False
    """`--gate-on-stats`: quality is judged by the paired statistics against the baseline,
    not case by case; new critical check failures still fail the gate."""
    min_paired: int = Field(default=10, gt=0)
    """Fewer paired cases than this and the statistics say the sample is too small."""
    min_evidence: float = Field(default=0.8, ge=0, le=1)
    """Share of selected cases that must have a comparable verdict for the gate to pass."""


class JudgeConfig(Frozen):
    """The LLM judge (`--judge-model`, `[judge]`): off unless a model is named."""

    model: str
    endpoint: ModelEndpoint = ModelEndpoint()
    """REPLAY_JUDGE_API_KEY (else OPENAI_API_KEY) and `--judge-base-url` (else the pipeline's)."""
    concurrency: int = Field(default=4, gt=0)
    retries: int = Field(default=3, ge=0)
    request_timeout_s: float = Field(default=60.0, gt=0)
    cache: bool = True
    """Reuse answers to identical requests from `<artifacts dir>/judge-cache`."""
    via: Literal["live", "batch"] = "live"  # `--judge-via batch`: through the Batch API too


class CacheConfig(Frozen):
    """The `openai` pipeline's response cache (`--cache`) and the bound of every cache folder."""

    mode: CacheMode = defaults.CACHE
    """`read-write` answers a request seen before from `<artifacts dir>/response-cache` and
    keeps each new answer; `read` only reads; `off` neither."""
    max_mb: int = Field(default=defaults.CACHE_MAX_MB, gt=0)
    """Each cache folder's bound (`--cache-max-mb`): past it, the least recently used go."""


class PacingConfig(Frozen):
    """`--pacing`, `--rpm`, `--tpm`: starts spaced under the lower of stated and given limits."""

    enabled: bool = True
    rpm: int | None = Field(default=None, gt=0)
    tpm: int | None = Field(default=None, gt=0)


class BatchConfig(Frozen):
    """`--via batch`: the `openai` pipeline's requests go through the provider's Batch API."""

    window: str = defaults.BATCH_WINDOW
    max_lines: int = Field(default=defaults.BATCH_MAX_LINES, gt=0)
    max_bytes: int = Field(default=defaults.BATCH_MAX_MB * 1024 * 1024, gt=0)


class LiveConfig(Frozen):
    """How a live run calls the pipeline."""

    retries: int = Field(ge=0)
    request_timeout_s: float = Field(gt=0)
    case_timeout_s: float = Field(gt=0)
    max_cost_usd: float | None = Field(default=None, gt=0)
    max_cost_given: bool = False
    """`--max-cost` (or its variable) was given on this command line: on a resume, a new limit
    binds the total only when asked for explicitly."""
    endpoint: ModelEndpoint = ModelEndpoint()
    grace_s: float = Field(default=10.0, ge=0)
    max_answer_chars: int = Field(default=defaults.MAX_ANSWER_CHARS, gt=0)
    """The longest draft kept (`--max-answer-chars`); a longer answer is a classified error."""
    pacing: PacingConfig = PacingConfig()
    batch: BatchConfig | None = None  # `--via batch`; None: one request per case


class SignalViews(Frozen):
    """The views `replay signals` reads: jobs, dispatcher events, drafts."""

    jobs: ViewSql
    dispatch: ViewSql | None = None
    drafts: ViewSql | None = None


CanaryRuleName = Literal[
    "duplicates", "enqueue_failures", "backlog", "p95_absolute", "p95_vs_control",
    "p95_vs_previous", "errors_vs_control", "timeouts_vs_control",
]  # fmt: skip
CANARY_RULES: tuple[CanaryRuleName, ...] = get_args(CanaryRuleName)
"""Every stop rule of `ops.canary`, in the order a decision lists them."""
DEFAULT_REQUIRED: tuple[CanaryRuleName, ...] = tuple(
    rule for rule in CANARY_RULES if rule != "p95_vs_previous"
)
"""Every rule but `p95_vs_previous`, which a first stage cannot evaluate (the canary has no
previous range yet): requiring it would answer "not enough data" to every first stage. It is
still evaluated when it can be, still stops on failure, and is named when not evaluated."""


class CanaryThresholds(Frozen):
    """Stop rules of a staged rollout (`[canary]` in replay.toml and flags)."""

    max_duplicates: int = Field(default=0, ge=0)
    """Duplicate executions the canary may show; any more stops the rollout."""
    max_enqueue_failure_rate: float = Field(default=0.01, ge=0, le=1)
    backlog_windows: int = Field(default=4, gt=0)
    """Consecutive windows of a growing canary backlog that stop the rollout."""
    p95_limit_s: float = Field(default=2.0, gt=0)
    """Absolute limit of the canary's p95 dispatch latency."""
    p95_over_control: float = Field(default=0.5, ge=0)
    """How far (as a fraction) the canary's p95 may exceed the control's..."""
    p95_min_delta_s: float = Field(default=1.0, ge=0)
    """...and by how many seconds at least, before it counts: a queue adds some latency by
    design, and sub-second differences do not delay a draft anyone waits for."""
    max_error_rate_over_control: float = Field(default=0.02, ge=0, le=1)
    max_timeout_rate_over_control: float = Field(default=0.02, ge=0, le=1)
    min_jobs: int = Field(default=30, gt=0)
    """Below this many jobs in a cohort the check says "not enough data"."""
    stages: tuple[int, ...] = (5, 25, 100)
    rollback: str = "switch the dispatch flag back to inline for every client"
    """What to pull when the check says stop."""
    required: tuple[CanaryRuleName, ...] = Field(default=DEFAULT_REQUIRED, min_length=1)
    """Rules that must be evaluated, and pass, for "continue"; one not evaluated (too little
    data, a view or column missing) makes the answer "not enough data"."""


class SignalsConfig(Frozen):
    """`replay signals` and `replay canary-check`."""

    database: DatabaseConfig
    views: SignalViews
    client_id: str | None = None
    start: datetime
    end: datetime
    window_s: float = Field(gt=0)
    canary: str | None = None
    """An SQL predicate over the jobs view that marks canary jobs (`--canary`)."""
    artifacts_dir: Path
    out: Path | None = None
    thresholds: CanaryThresholds = CanaryThresholds()
    stage: int | None = None

    def redacted(self) -> dict[str, Any]:
        """The config without the database URL's secrets."""
        data = self.model_dump(mode="json", exclude={"database", "views"})
        data["database"] = self.database.target
        data["views"] = {
            name: view.origin
            for name, view in (
                ("jobs", self.views.jobs),
                ("dispatch", self.views.dispatch),
                ("drafts", self.views.drafts),
            )
            if view is not None
        }
        return data


class CompareConfig(Frozen):
    """`replay compare`: where the compare artifact goes and how it gates."""

    artifacts_dir: Path
    out: Path | None = None
    gate: GateConfig = GateConfig()


class ControlConfig(Frozen):
    """The control arm (`--control`): production's set-up, replayed beside the candidate.

    By default the recorded request with its recorded model (a case without a recording is
    rendered with the model production used): what production did, asked again today.
    """

    request: RequestConfig
    cache: CacheMode = "read-write"
    """The control's response cache: on by default, so a control replayed on pinned cases is
    paid once; off with `--repeats`, whose every repeat must be asked."""


def _request_identity(request: RequestConfig) -> dict[str, Any]:
    """What of a request config makes two runs the same (a system prompt by its digest)."""
    found = request.model_dump(mode="json", exclude={"system_prompt"})
    found["pipeline"] = safe_pipeline(request.pipeline)
    if request.system_prompt is not None:
        digest = hashlib.sha256(request.system_prompt.encode()).hexdigest()
        found["system_prompt_sha256"] = digest
    return found


class RunConfig(Frozen):
    """Everything a run needs, resolved from flags, environment, `replay.toml` and defaults."""

    database: DatabaseConfig
    selection: SelectionConfig
    request: RequestConfig
    prices: dict[str, Price]
    artifacts_dir: Path
    out: Path | None = None
    dry_run: bool = False
    show_sql: bool = False
    concurrency: int = Field(gt=0)
    live: LiveConfig
    checks: ChecksConfig = ChecksConfig()
    gate: GateConfig = GateConfig()
    summary_md: Path | None = None
    """Where to write the Markdown summary (`--summary-md`)."""
    baseline: str | None = None
    """An earlier artifact to compare with, or `latest` (`--baseline`)."""
    resume: Path | None = None
    """A partial log or interrupted artifact to finish (`--resume`)."""
    retry_errors: bool = False
    """On resume, replay cases that ended in error instead of keeping them."""
    config_file: str | None = None
    judge: JudgeConfig | None = None
    repeats: int = Field(default=1, gt=0)
    """`--repeats K`: each case is replayed K times to measure the noise."""
    cache: CacheConfig = CacheConfig()
    """The response cache: not part of `identity()`, since a hit answers the same request."""
    report: bool = True
    """Index the run and write its HTML report (`--no-report` turns both off)."""
    write_manifest: Path | None = None
    """`--write-manifest FILE`: freeze the selected case ids for later `--manifest` runs."""
    control: ControlConfig | None = None
    """`--control`: production's set-up replayed beside the candidate, on the same cases."""
    shard: Shard | None = None
    """`--shard i/n`: replay only the part of the selection whose ids hash to it."""

    @property
    def source(self) -> SourceConfig:
        """The views of the source database."""
        return self.database.source

    def identity(self) -> dict[str, Any]:
        """What makes two runs the same run: selection, pipeline, request settings, mode.

        Concurrency, timeouts, retries and paths are left out: changing them on `--resume` is
        fine; changing what is replayed or how drafts are made is not.
        """
        request = _request_identity(self.request)
        views = {
            view.name: hashlib.sha256(view.sql.encode()).hexdigest()
            for view in (self.source.cases, self.source.thread, self.source.clients)
            if view is not None
        }
        return {
            "mode": "dry" if self.dry_run else "live",
            "database": self.database.target,
            "views_sha256": views,
            "selection": self.selection.model_dump(mode="json"),
            "request": request,
            # Only when set, so runs made before these options keep their identity.
            **({"repeats": self.repeats} if self.repeats > 1 else {}),
            **({"judge_model": self.judge.model} if self.judge is not None else {}),
            **({"control": _request_identity(self.control.request)} if self.control else {}),
            **({"shard": self.shard.model_dump()} if self.shard is not None else {}),
            # A batch run's submitted requests belong to it: a live resume would pay again.
            **({"via": "batch"} if self.live.batch is not None else {}),
        }

    def identity_hash(self) -> str:
        """SHA-256 of `identity()` as canonical JSON."""
        body = orjson.dumps(self.identity(), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(body).hexdigest()

    def redacted(self) -> dict[str, Any]:
        """Return the config as JSON-able data with every secret removed."""
        data = self.model_dump(mode="json", exclude={"database", "prices", "live", "judge"})
        data["database"] = self.database.target
        data["request"]["pipeline"] = safe_pipeline(self.request.pipeline)
        data["live"] = self.live.model_dump(mode="json", exclude={"endpoint"})
        data["live"]["endpoint"] = self.live.endpoint.target
        data["connect_timeout_s"] = self.database.connect_timeout_s
        data["source"] = {
            view.name: view.origin
            for view in (self.source.cases, self.source.thread, self.source.clients)
            if view is not None
        }
        data["prices"] = {name: price.model_dump() for name, price in sorted(self.prices.items())}
        data["price_data"] = price_data()
        if self.judge is not None:
            data["judge"] = self.judge.model_dump(mode="json", exclude={"endpoint"})
            data["judge"]["endpoint"] = self.judge.endpoint.target
        if self.request.system_prompt is not None:
            data["request"]["system_prompt"] = f"<{len(self.request.system_prompt)} characters>"
        return data


def price_data() -> str:
    """Where prices not in `[prices]` come from, with its version: costs change when it does."""
    try:
        return f"genai-prices {metadata.version('genai-prices')}"
    except metadata.PackageNotFoundError:
        return "genai-prices (version unknown)"
