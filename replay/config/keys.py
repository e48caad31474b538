"""The keys of `replay.toml`: each section, its keys, their rules, defaults and flags.

Each key is typed by the rule of its setting (`config.rules`), so a value obeys the same rule
as the flag and the variable that set the same thing, and carries a `Setting`: the flag that
sets the same value and the default that applies when neither sets it. The generated
`replay.toml` reference is rendered from these models, so it cannot drift from them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from replay.config import defaults, rules
from replay.config.models import (
    CANARY_RULES,
    CanaryThresholds,
    GateConfig,
    InvariantSettings,
    JudgeConfig,
    Price,
)


@dataclass(frozen=True)
class Setting:
    """What the reference says of a key besides its type: its flag and its default."""

    flag: str | None = None
    """The flag (and through it the variable) that sets the same value, if any."""
    default: object = None
    """The value that applies when nothing sets it; None: unset means off or none."""


class Said(str):
    """A default described in words (``the recorded model``), not a value to write."""

    __slots__ = ()


def _default(model: type[BaseModel], field: str) -> object:
    """The default a resolved config model gives `field`: one place for each default."""
    return model.model_fields[field].default


def _checked(rule: Callable[[object], Any]) -> BeforeValidator:
    """Run `rule` on a TOML value; a rejection keeps its wording for the message."""

    def check(value: object) -> Any:
        try:
            return rule(value)
        except rules.Rejected as exc:
            raise PydanticCustomError(
                "rejected", "{expected}", {"expected": exc.expected, "shown": exc.shown}
            ) from None

    return BeforeValidator(check)


Count = Annotated[int, _checked(rules.count)]
Whole = Annotated[int, _checked(rules.whole)]
Rate = Annotated[float, _checked(rules.rate)]
Seconds = Annotated[float, _checked(rules.seconds)]
Ratio = Annotated[float, _checked(rules.ratio)]
Usd = Annotated[float, _checked(rules.usd)]
Temperature = Annotated[float, _checked(rules.temperature)]
Text = Annotated[str, _checked(rules.text)]
EnvName = Annotated[str, _checked(rules.env_name)]
PipelineSpec = Annotated[str, _checked(rules.pipeline)]
HttpUrl = Annotated[str, _checked(rules.http_url)]
ClientId = Annotated[str, _checked(rules.client_id)]
ChannelChoice = Annotated[
    Literal["email", "sms", "linkedin", "any"],
    _checked(rules.choice(*defaults.CHANNELS, "any")),
]
RequestSourceChoice = Annotated[
    Literal["auto", "recorded", "rendered"], _checked(rules.choice("auto", "recorded", "rendered"))
]
CacheChoice = Annotated[Literal["read-write", "read", "off"], _checked(rules.cache_mode)]
PacingChoice = Annotated[Literal["on", "off"], _checked(rules.pacing_mode)]
ViaChoice = Annotated[Literal["live", "batch"], _checked(rules.via)]
Window = Annotated[str, _checked(rules.completion_window)]
CHECK_CODES: Final = (
    "empty_draft", "unresolved_placeholder", "channel_length", "unsupported_price",
    "unsupported_link", "unsupported_email", "unsupported_phone", "ignored_opt_out",
    "wrong_name", "language_mismatch", "unoffered_time", "unanswered_question", "truncated",
    "repeated_text", "wrong_signature",
)  # fmt: skip
"""The codes `[invariants] disabled` may name (the deterministic checks of `verdict.checks`)."""
CheckCode = Annotated[str, _checked(rules.choice(*CHECK_CODES))]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class DatabaseSection(_Section):
    """`[database]`: where the source database's URL is found; never the URL itself."""

    url_env: Annotated[EnvName | None, Setting(default="DATABASE_URL")] = None
    """Name of the environment variable that holds the source database's URL (a URL here
    would be a secret in a file). `--database-url` still wins."""
    connect_timeout: Annotated[Seconds | None, Setting(default=defaults.CONNECT_TIMEOUT_S)] = None
    """Seconds to wait for the connection before the run is blocked (exit 3)."""


class SourceSection(_Section):
    """`[source]`: the views onto your schema, each as inline SQL or as a file.

    Give a view inline (`cases_sql`) or as a file (`cases_sql_file`, relative to this file),
    not both. Without them, the reference schema's views apply.
    """

    cases_sql: str | None = None
    """The case view: one row per historical draft job (a plain SELECT)."""
    thread_sql: str | None = None
    """The thread view: the messages of a lead, for the point-in-time thread."""
    clients_sql: str | None = None
    """The clients view: `client_id, name`, for `replay clients` and the client check."""
    jobs_sql: str | None = None
    """The jobs view of `replay signals` and `canary-check`."""
    dispatch_sql: str | None = None
    """The dispatcher's events view of `replay signals` and `canary-check`."""
    drafts_sql: str | None = None
    """The drafts view of `replay signals` (duplicate drafts)."""
    cases_sql_file: Annotated[str | None, Setting("--source-sql")] = None
    """File holding the case view."""
    thread_sql_file: Annotated[str | None, Setting("--thread-sql")] = None
    """File holding the thread view."""
    clients_sql_file: str | None = None
    """File holding the clients view."""
    jobs_sql_file: Annotated[str | None, Setting("--jobs-sql")] = None
    """File holding the jobs view."""
    dispatch_sql_file: Annotated[str | None, Setting("--dispatch-sql")] = None
    """File holding the dispatcher's events view."""
    drafts_sql_file: Annotated[str | None, Setting("--drafts-sql")] = None
    """File holding the drafts view."""


class SelectionSection(_Section):
    """`[selection]`: which cases a run replays."""

    limit: Annotated[Count | None, Setting("--limit", defaults.LIMIT)] = None
    """How many of the client's most recent jobs a run replays."""
    thread_limit: Annotated[Count | None, Setting("--thread-limit", defaults.THREAD_LIMIT)] = None
    """How many messages before the inbound a case's thread keeps (the newest)."""
    status: Annotated[Text | None, Setting("--status", defaults.STATUS)] = None
    """Job status to select, where the case view has `job_status`."""
    channel: Annotated[ChannelChoice | None, Setting("--channel", "any")] = None
    """Only jobs of this channel."""
    max_body_chars: Annotated[Count | None, Setting(default=defaults.MAX_BODY_CHARS)] = None
    """An inbound body longer than this makes its case invalid, not a request."""


class RunSection(_Section):
    """`[run]`: how a live run calls the pipeline."""

    concurrency: Annotated[Count | None, Setting("--concurrency", defaults.CONCURRENCY)] = None
    """Cases in flight at once."""
    pipeline: Annotated[PipelineSpec | None, Setting("--pipeline", defaults.PIPELINE)] = None
    """What drafts: `openai`, `python:module:function` or an `http(s)://` URL."""
    retries: Annotated[Whole | None, Setting("--retries", defaults.RETRIES)] = None
    """Retries of a retryable failure (rate limit, timeout, connection, 5xx) per case."""
    request_timeout: Annotated[
        Seconds | None, Setting("--request-timeout", defaults.REQUEST_TIMEOUT_S)
    ] = None
    """Seconds one attempt may take."""
    case_timeout: Annotated[Seconds | None, Setting("--case-timeout", defaults.CASE_TIMEOUT_S)] = (
        None
    )
    """Seconds one case may take across all its attempts."""
    max_cost: Annotated[Usd | None, Setting("--max-cost")] = None
    """Budget in USD: no case starts once the spend would pass it (unset: no budget)."""
    max_answer_chars: Annotated[
        Count | None, Setting("--max-answer-chars", defaults.MAX_ANSWER_CHARS)
    ] = None
    """The longest draft kept; a longer answer is a classified error."""
    model: Annotated[
        Text | None, Setting("--model", Said(f"the recorded model, else {defaults.MODEL}"))
    ] = None
    """Model of the `openai` pipeline."""
    request_source: Annotated[
        RequestSourceChoice | None, Setting("--request-source", defaults.REQUEST_SOURCE)
    ] = None
    """`recorded` re-sends each job's recorded request, `rendered` builds it from the case,
    `auto` uses the recording when there is one."""
    temperature: Annotated[
        Temperature | None, Setting("--temperature", Said("the request's own"))
    ] = None
    """Sampling temperature of the `openai` pipeline."""
    repeats: Annotated[Count | None, Setting("--repeats", 1)] = None
    """Times each case is replayed, to measure the noise."""
    cache: Annotated[CacheChoice | None, Setting("--cache", defaults.CACHE)] = None
    """The `openai` pipeline's response cache in the artifacts folder: `read-write` answers a
    request seen before from it without a model call and keeps each new answer, `read` only
    reads it, `off` neither."""
    cache_max_mb: Annotated[Count | None, Setting("--cache-max-mb", defaults.CACHE_MAX_MB)] = None
    """Bound of each cache folder (the pipeline's and the judge's), in MB: past it, the least
    recently used entries are removed."""
    pacing: Annotated[PacingChoice | None, Setting("--pacing", defaults.PACING)] = None
    """`on` spaces the `openai` pipeline's request starts under the rate limits the endpoint
    states in `x-ratelimit-*` headers (and `rpm`/`tpm`), and holds the whole run on a 429;
    `off` starts a request whenever a concurrency slot is free."""
    rpm: Annotated[Count | None, Setting("--rpm", Said("what the endpoint states"))] = None
    """Requests per minute to stay under, where the endpoint does not state its limit."""
    tpm: Annotated[Count | None, Setting("--tpm", Said("what the endpoint states"))] = None
    """Tokens per minute to stay under (input / 4 plus the output bound of each request)."""
    via: Annotated[ViaChoice | None, Setting("--via", defaults.VIA)] = None
    """`live` sends one request per case; `batch` submits the `openai` pipeline's requests
    through the provider's Batch API (half price on OpenAI, answered within the window)."""
    batch_window: Annotated[Window | None, Setting("--batch-window", defaults.BATCH_WINDOW)] = None
    """The Batch API's completion window."""
    batch_max_lines: Annotated[Count | None, Setting(default=defaults.BATCH_MAX_LINES)] = None
    """Requests per batch: a larger run is split into several batches."""
    batch_max_mb: Annotated[Count | None, Setting(default=defaults.BATCH_MAX_MB)] = None
    """Size of a batch's input file, in MB: a larger run is split into several batches."""


class GateSection(_Section):
    """`[gate]`: the CI gate's thresholds."""

    max_error_rate: Annotated[
        Rate | None, Setting("--max-error-rate", _default(GateConfig, "max_error_rate"))
    ] = None
    """Largest share of cases that may end in an error."""
    max_invalid_rate: Annotated[
        Rate | None, Setting("--max-invalid-rate", _default(GateConfig, "max_invalid_rate"))
    ] = None
    """Largest share of selected cases that may be invalid."""
    on_stats: Annotated[bool | None, Setting("--gate-on-stats", False)] = None
    """Judge quality by the paired statistics against the baseline, not case by case."""
    min_paired: Annotated[Count | None, Setting(default=_default(GateConfig, "min_paired"))] = None
    """Fewer paired cases than this and the statistics say the sample is too small."""
    min_evidence: Annotated[
        Rate | None, Setting("--min-evidence", _default(GateConfig, "min_evidence"))
    ] = None
    """Share of selected cases that must have a comparable verdict for the gate to pass."""


class JudgeSection(_Section):
    """`[judge]`: the LLM judge, off unless a model is named."""

    model: Annotated[Text | None, Setting("--judge-model")] = None
    """The judge's model; naming one turns the judge on."""
    base_url: Annotated[
        HttpUrl | None, Setting("--judge-base-url", Said("the pipeline's endpoint"))
    ] = None
    """The judge's endpoint, when it is not the pipeline's."""
    concurrency: Annotated[
        Count | None, Setting("--judge-concurrency", _default(JudgeConfig, "concurrency"))
    ] = None
    """Judge requests in flight at once."""
    retries: Annotated[
        Whole | None, Setting("--judge-retries", _default(JudgeConfig, "retries"))
    ] = None
    """Retries of a retryable judge failure."""
    request_timeout: Annotated[
        Seconds | None, Setting(default=_default(JudgeConfig, "request_timeout_s"))
    ] = None
    """Seconds one judge request may take."""
    cache: Annotated[bool | None, Setting("--no-judge-cache", True)] = None
    """Reuse answers to identical judge requests from the artifacts folder's judge cache."""


class InvariantValues(_Section):
    """The check settings one client may override."""

    sms_max_chars: Annotated[
        Count | None, Setting(default=_default(InvariantSettings, "sms_max_chars"))
    ] = None
    """Longest SMS draft before `channel_length` fails."""
    linkedin_max_chars: Annotated[
        Count | None, Setting(default=_default(InvariantSettings, "linkedin_max_chars"))
    ] = None
    """Longest LinkedIn draft before `channel_length` fails."""
    email_max_chars: Count | None = None
    """Longest email draft before `channel_length` fails (unset: no limit)."""
    allowed_domains: list[str] | None = None
    """Links and emails on these domains (or their subdomains) are always supported."""
    opt_out_phrases: list[str] | None = None
    """Phrases that mean "stop", on top of the built-in ones."""
    disabled: list[CheckCode] | None = None
    """Check codes switched off."""


class InvariantsSection(InvariantValues):
    """`[invariants]`: the deterministic checks, with `[invariants.clients."ID"]` overrides."""

    clients: dict[str, InvariantValues] = Field(default_factory=dict)
    """Per-client tables with the same keys; a client's table replaces the keys it sets."""


def _canary_rules(value: object) -> tuple[str, ...]:
    """`[canary] required`: a non-empty list of known rule names, each kept once."""
    expected = f"a non-empty list of rule names ({', '.join(CANARY_RULES)})"
    if not isinstance(value, list | tuple) or not value:
        raise rules.Rejected(expected, value)
    for name in value:
        if name not in CANARY_RULES:
            raise rules.Rejected(expected, name)
    return tuple(dict.fromkeys(value))


def _canary(field: str, flag: str | None = None) -> Setting:
    return Setting(flag, _default(CanaryThresholds, field))


class CanarySection(_Section):
    """`[canary]`: the stop rules of a staged rollout (`replay canary-check`)."""

    max_duplicates: Annotated[Whole | None, _canary("max_duplicates")] = None
    """Duplicate executions the canary may show; any more stops the rollout."""
    max_enqueue_failure_rate: Annotated[Rate | None, _canary("max_enqueue_failure_rate")] = None
    """Largest share of the canary's enqueues that may fail."""
    backlog_windows: Annotated[Count | None, _canary("backlog_windows")] = None
    """Consecutive windows of a growing canary backlog that stop the rollout."""
    p95_limit_s: Annotated[Seconds | None, _canary("p95_limit_s", "--p95-limit")] = None
    """Absolute limit of the canary's p95 dispatch latency, in seconds."""
    p95_over_control: Annotated[Ratio | None, _canary("p95_over_control")] = None
    """How far (as a fraction) the canary's p95 may exceed the control's..."""
    p95_min_delta_s: Annotated[Ratio | None, _canary("p95_min_delta_s")] = None
    """...and by how many seconds at least, before it counts."""
    max_error_rate_over_control: Annotated[Rate | None, _canary("max_error_rate_over_control")] = (
        None
    )
    """How much higher the canary's failure rate may be than the control's."""
    max_timeout_rate_over_control: Annotated[
        Rate | None, _canary("max_timeout_rate_over_control")
    ] = None
    """How much higher the canary's timeout rate may be than the control's."""
    min_jobs: Annotated[Count | None, _canary("min_jobs", "--min-jobs")] = None
    """Below this many jobs in a cohort the check says "not enough data"."""
    stages: Annotated[list[Count] | None, _canary("stages")] = None
    """The rollout's stages, in percent of traffic."""
    rollback: Annotated[Text | None, _canary("rollback")] = None
    """What to pull when the check says stop."""
    required: Annotated[
        Annotated[tuple[str, ...], _checked(_canary_rules)] | None, _canary("required")
    ] = None
    """Rules that must be evaluated, and pass, for "continue"."""


class ArtifactsSection(_Section):
    """`[artifacts]`: where artifacts go."""

    dir: Annotated[Text | None, Setting("--artifacts-dir", str(defaults.ARTIFACTS_DIR))] = None
    """Folder of run artifacts, reports, the history index and the caches."""


class NightlyClient(_Section):
    """`[[nightly.clients]]`: one client of `replay nightly`, with its own settings.

    Each key is the `replay run` flag of the same name for this client's run, with the same
    rule; unset keys fall back to the file's sections and the defaults.
    """

    client_id: ClientId
    """The client to replay."""
    database_url_env: Annotated[EnvName | None, Setting(default="DATABASE_URL")] = None
    """Name of the environment variable holding this client's database URL."""
    limit: Annotated[Count | None, Setting("--limit")] = None
    """How many of its pinned cases to replay."""
    pipeline: Annotated[PipelineSpec | None, Setting("--pipeline")] = None
    """What drafts for this client."""
    model: Annotated[Text | None, Setting("--model")] = None
    """Model of the `openai` pipeline for this client."""
    request_source: Annotated[RequestSourceChoice | None, Setting("--request-source")] = None
    """Where this client's requests come from."""
    concurrency: Annotated[Count | None, Setting("--concurrency")] = None
    """Cases of this client in flight at once."""
    max_error_rate: Annotated[Rate | None, Setting("--max-error-rate")] = None
    """This client's gate: largest share of cases that may end in an error."""
    max_invalid_rate: Annotated[Rate | None, Setting("--max-invalid-rate")] = None
    """This client's gate: largest share of cases that may be invalid."""
    judge_model: Annotated[Text | None, Setting("--judge-model")] = None
    """The judge of this client's run."""
    repeats: Annotated[Count | None, Setting("--repeats")] = None
    """Times each of this client's cases is replayed."""


class NightlySection(_Section):
    """`[nightly]`: the clients a nightly run replays."""

    manifests_dir: Annotated[
        Text | None, Setting(default=Said("`manifests/` in the artifacts folder"))
    ] = None
    """Folder of each client's pinned case list (its manifest)."""
    clients: list[NightlyClient] = Field(default_factory=list)
    """The clients, as `[[nightly.clients]]` tables."""


class TomlConfig(_Section):
    """The shape of `replay.toml`."""

    database: DatabaseSection = DatabaseSection()
    source: SourceSection = SourceSection()
    selection: SelectionSection = SelectionSection()
    run: RunSection = RunSection()
    artifacts: ArtifactsSection = ArtifactsSection()
    gate: GateSection = GateSection()
    invariants: InvariantsSection = InvariantsSection()
    canary: CanarySection = CanarySection()
    judge: JudgeSection = JudgeSection()
    nightly: NightlySection = NightlySection()
    prices: dict[str, Price] = Field(default_factory=dict)
    """`[prices."MODEL"]`: USD per one million `input` and `output` tokens; overrides and
    extends the bundled price data, and a family entry covers its dated versions."""
