"""Merge the typed flags of a command with `replay.toml` and the defaults into one frozen config.

Precedence: flag > its `REPLAY_*` variable (the CLI reads both) > `replay.toml` > `defaults`.
Each value was already checked by the rule of its setting where it was read (`config.rules`,
through the CLI for flags and variables, through `config.file` for the TOML file); what is left
here is how values combine: defaults, contradictions between flags, and files they name.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

from pydantic import SecretStr

from replay.config import defaults, inputs, rules
from replay.config.file import LoadedToml
from replay.config.keys import InvariantValues
from replay.config.models import (
    BatchConfig,
    CacheConfig,
    CanaryThresholds,
    ChecksConfig,
    ControlConfig,
    DatabaseConfig,
    GateConfig,
    InvariantSettings,
    JudgeConfig,
    LiveConfig,
    ModelEndpoint,
    PacingConfig,
    Price,
    RequestConfig,
    RunConfig,
    SelectionConfig,
)
from replay.config.runflags import JudgeFlags, RunFlags
from replay.config.secrets import safe_pipeline
from replay.config.views import views
from replay.errors import UsageError

T = TypeVar("T")


def first(*values: T | None) -> T | None:
    """The first value that is not None: flag, then file, then default."""
    for value in values:
        if value is not None:
            return value
    return None


def artifacts_dir(toml: LoadedToml, flag: Path | None) -> Path:
    """`--artifacts-dir`, else `[artifacts] dir`, else the default (relative paths: from here)."""
    return flag or Path(toml.config.artifacts.dir or defaults.ARTIFACTS_DIR)


def run_config(flags: RunFlags, toml: LoadedToml) -> RunConfig:
    """Combine every flag with `replay.toml` and the defaults.

    Raises:
        UsageError: flags contradict each other, or a file they name cannot be used.
    """
    file = toml.config
    if flags.client_id is None:
        raise UsageError("--client-id is required; `replay clients` lists the client ids")
    if flags.retry_errors and flags.resume is None:
        raise UsageError("--retry-errors goes with --resume PATH")
    selection = _selection(flags, toml)
    request = RequestConfig(
        pipeline=first(flags.pipeline, file.run.pipeline) or defaults.PIPELINE,
        request_source=first(flags.request_source, file.run.request_source)
        or defaults.REQUEST_SOURCE,
        model=first(flags.model, file.run.model),
        default_model=defaults.MODEL,
        temperature=first(flags.temperature, file.run.temperature),
        system_prompt=inputs.read_text_file("--system-prompt-file", flags.system_prompt_file)
        if flags.system_prompt_file
        else None,
        system_prompt_file=str(flags.system_prompt_file) if flags.system_prompt_file else None,
    )
    config = RunConfig(
        database=database(toml, flags.database_url, flags.source_sql, flags.thread_sql),
        selection=selection,
        request=request,
        prices=prices(toml),
        artifacts_dir=artifacts_dir(toml, flags.artifacts_dir),
        out=flags.out,
        dry_run=flags.dry_run,
        show_sql=flags.show_sql,
        concurrency=first(flags.concurrency, file.run.concurrency) or defaults.CONCURRENCY,
        live=live(toml, flags),
        checks=checks(toml),
        gate=gate(toml, flags),
        summary_md=inputs.writable_file("--summary-md", flags.summary_md)
        if flags.summary_md
        else None,
        baseline=flags.baseline,
        resume=flags.resume,
        retry_errors=flags.retry_errors,
        config_file=str(toml.path) if toml.path else None,
        judge=judge(toml, flags),
        report=not flags.no_report,
        write_manifest=inputs.writable_file("--write-manifest", flags.write_manifest)
        if flags.write_manifest
        else None,
        repeats=first(flags.repeats, file.run.repeats) or 1,
        shard=flags.shard,
        cache=CacheConfig(
            mode=first(flags.cache, file.run.cache) or defaults.CACHE,
            max_mb=first(flags.cache_max_mb, file.run.cache_max_mb) or defaults.CACHE_MAX_MB,
        ),
    )
    if config.cache.mode != "off" and config.repeats > 1 and not config.dry_run:
        # Every repeat sends the same request: one stored answer would stand for them all.
        raise UsageError(
            f"--repeats {config.repeats} measures the model's own noise, but with --cache "
            f"{config.cache.mode} every repeat would be the one stored answer: use --cache off"
        )
    if flags.control or any(_control_flags(flags).values()):
        config = config.model_copy(update={"control": _control(flags, config)})
    if config.live.batch is not None:
        _batchable(config)
    if flags.judge_via == "batch":
        if config.judge is None:
            raise UsageError("--judge-via batch goes with --judge-model NAME (or [judge] model)")
        if config.live.batch is None:
            raise UsageError("--judge-via batch goes with --via batch: the drafts come first")
        judging = config.judge.model_copy(update={"via": "batch"})
        config = config.model_copy(update={"judge": judging})
    if config.gate.on_stats and flags.baseline is None:
        if flags.gate_on_stats:
            raise UsageError("--gate-on-stats compares with a baseline: add --baseline PATH|latest")
        # `[gate] on_stats` is a standing setting: with nothing to compare, cases decide.
        config = config.model_copy(
            update={"gate": config.gate.model_copy(update={"on_stats": False})}
        )
    return config


def _batchable(config: RunConfig) -> None:
    """Refuse `--via batch` where the Batch API cannot carry the run.

    Raises:
        UsageError: another pipeline than `openai`, for the candidate or the control arm.
    """
    for flag, request in (
        ("--pipeline", config.request),
        ("--control-pipeline", config.control.request if config.control else None),
    ):
        if request is not None and request.pipeline != "openai":
            raise UsageError(
                f"--via batch sends the openai pipeline's requests; {flag} is "
                f"{safe_pipeline(request.pipeline)!r}: use --via live"
            )


def _control_flags(flags: RunFlags) -> dict[str, object]:
    """The control arm's flags that were given, by flag."""
    given = {
        "--control-model": flags.control_model,
        "--control-pipeline": flags.control_pipeline,
        "--control-request-source": flags.control_request_source,
        "--control-system-prompt-file": flags.control_system_prompt_file,
    }
    return {flag: value for flag, value in given.items() if value is not None}


def _control(flags: RunFlags, config: RunConfig) -> ControlConfig:
    """The control arm: production's set-up unless its flags say otherwise.

    Raises:
        UsageError: a control flag without `--control`.
    """
    if not flags.control:
        raise UsageError(f"{next(iter(_control_flags(flags)))} goes with --control")
    prompt = flags.control_system_prompt_file
    request = RequestConfig(
        pipeline=flags.control_pipeline or defaults.PIPELINE,
        request_source=flags.control_request_source or defaults.REQUEST_SOURCE,
        model=flags.control_model,
        default_model=defaults.MODEL,
        system_prompt=inputs.read_text_file("--control-system-prompt-file", prompt)
        if prompt
        else None,
        system_prompt_file=str(prompt) if prompt else None,
    )
    # Every repeat of the control must be asked, as the candidate's are: no stored answer.
    return ControlConfig(request=request, cache="off" if config.repeats > 1 else "read-write")


def _selection(flags: RunFlags, toml: LoadedToml) -> SelectionConfig:
    """Which cases: the last N of a client, or exact ids from `--case-ids` or `--manifest`."""
    file = toml.config.selection
    if flags.case_ids is not None and flags.manifest is not None:
        raise UsageError("--case-ids and --manifest cannot be combined; pass one of them")
    ids: tuple[str, ...] | None = None
    tags: dict[str, tuple[str, ...]] = {}
    ids_flag = ids_origin = None
    if flags.case_ids is not None:
        ids, ids_flag, ids_origin = flags.case_ids, "--case-ids", "--case-ids"
    elif flags.manifest is not None:
        ids, tags = inputs.manifest(flags.manifest)
        ids_flag, ids_origin = "--manifest", f"--manifest {flags.manifest}"
    limit = flags.limit
    if ids is not None:
        for flag, value in (
            ("--channel", flags.channel),
            ("--from", flags.from_),
            ("--to", flags.to),
        ):
            if value is not None:
                raise UsageError(
                    f"{ids_flag} selects exact cases; it cannot be combined with {flag}"
                )
        if limit is not None and limit < len(ids):
            raise UsageError(
                f"--limit {limit} is less than the {len(ids)} ids of {ids_flag}; "
                "drop --limit or pass fewer ids"
            )
        limit = limit or len(ids)
    if flags.from_ and flags.to and flags.from_ >= flags.to:
        raise UsageError(
            f"--from {flags.from_.isoformat()!r} must be before --to {flags.to.isoformat()!r}"
        )
    channel = first(flags.channel, file.channel) or "any"
    status = first(flags.status, file.status) or defaults.STATUS
    return SelectionConfig(
        client_id=flags.client_id or "",
        limit=limit or file.limit or defaults.LIMIT,
        channel=None if channel == "any" else channel,
        from_time=flags.from_,
        to_time=flags.to,
        status=None if status.lower() == "any" else status,
        status_explicit=flags.status is not None or file.status is not None,
        case_ids=ids,
        ids_origin=ids_origin,
        case_tags=tags,
        thread_limit=first(flags.thread_limit, file.thread_limit) or defaults.THREAD_LIMIT,
        max_body_chars=file.max_body_chars or defaults.MAX_BODY_CHARS,
        allow_empty=flags.allow_empty,
    )


def judge(
    toml: LoadedToml, flags: JudgeFlags, *, fallback_model: str | None = None
) -> JudgeConfig | None:
    """The judge, on when `--judge-model` (else `[judge] model`, else `fallback_model`) names one.

    Its key comes only from the environment: REPLAY_JUDGE_API_KEY, else OPENAI_API_KEY.
    """
    file = toml.config.judge
    model = first(flags.judge_model, file.model, fallback_model)
    if not model:
        for flag, value in (
            ("--judge-base-url", flags.judge_base_url),
            ("--judge-concurrency", flags.judge_concurrency),
            ("--judge-retries", flags.judge_retries),
        ):
            if value is not None:
                raise UsageError(f"{flag} goes with --judge-model NAME (or [judge] model)")
        return None
    key = env("REPLAY_JUDGE_API_KEY") or env("OPENAI_API_KEY")
    defaults_ = JudgeConfig(model=model)
    return JudgeConfig(
        model=model,
        endpoint=ModelEndpoint(
            api_key=SecretStr(key) if key else None,
            base_url=first(flags.judge_base_url, file.base_url) or env("OPENAI_BASE_URL"),
        ),
        concurrency=first(flags.judge_concurrency, file.concurrency) or defaults_.concurrency,
        retries=first(flags.judge_retries, file.retries, defaults_.retries) or 0,
        request_timeout_s=file.request_timeout or defaults_.request_timeout_s,
        cache=not flags.no_judge_cache and first(file.cache, True) is True,
    )


def database(
    toml: LoadedToml, url: str | None, cases_sql: Path | None, thread_sql: Path | None
) -> DatabaseConfig:
    """The source database: its URL (flag, DATABASE_URL, or [database] url_env) and views."""
    url_env = toml.config.database.url_env
    resolved = url or (env(url_env) if url_env else None)
    if not resolved:
        where = f" or ${url_env} ([database] url_env)" if url_env else ""
        raise UsageError(f"no database URL: pass --database-url or set DATABASE_URL{where}")
    if not url:  # a flag or DATABASE_URL was checked as it was parsed; name this source
        try:
            rules.database_url(resolved)
        except rules.Rejected as exc:
            raise UsageError(exc.message(f"${url_env} ([database] url_env)")) from None
    return DatabaseConfig(
        url=SecretStr(resolved),
        source=views(toml, cases_sql, thread_sql),
        connect_timeout_s=toml.config.database.connect_timeout or defaults.CONNECT_TIMEOUT_S,
    )


def live(toml: LoadedToml, flags: RunFlags) -> LiveConfig:
    """How a live run calls the pipeline: retries, deadlines, budget and endpoint."""
    run = toml.config.run
    return LiveConfig(
        retries=first(flags.retries, run.retries, defaults.RETRIES) or 0,
        request_timeout_s=first(flags.request_timeout, run.request_timeout)
        or defaults.REQUEST_TIMEOUT_S,
        case_timeout_s=first(flags.case_timeout, run.case_timeout) or defaults.CASE_TIMEOUT_S,
        max_cost_usd=first(flags.max_cost, run.max_cost),
        max_cost_given=flags.max_cost is not None,
        max_answer_chars=first(flags.max_answer_chars, run.max_answer_chars)
        or defaults.MAX_ANSWER_CHARS,
        pacing=PacingConfig(
            enabled=first(flags.pacing, run.pacing, defaults.PACING) == "on",
            rpm=first(flags.rpm, run.rpm),
            tpm=first(flags.tpm, run.tpm),
        ),
        batch=BatchConfig(
            window=first(flags.batch_window, run.batch_window) or defaults.BATCH_WINDOW,
            max_lines=run.batch_max_lines or defaults.BATCH_MAX_LINES,
            max_bytes=(run.batch_max_mb or defaults.BATCH_MAX_MB) * 1024 * 1024,
        )
        if first(flags.via, run.via, defaults.VIA) == "batch"
        else None,
        endpoint=model_endpoint(),
    )


def model_endpoint() -> ModelEndpoint:
    """The model endpoint of OPENAI_API_KEY and OPENAI_BASE_URL, as the SDK itself reads them."""
    api_key = env("OPENAI_API_KEY")
    return ModelEndpoint(
        api_key=SecretStr(api_key) if api_key else None, base_url=env("OPENAI_BASE_URL")
    )


def gate(
    toml: LoadedToml,
    flags: RunFlags | None = None,
    *,
    max_error_rate: float | None = None,
    max_invalid_rate: float | None = None,
    min_evidence: float | None = None,
    no_gate: bool = False,
    on_stats: bool = False,
) -> GateConfig:
    """The gate's thresholds: flag, else `[gate]`, else the defaults (0 is a real threshold)."""
    if flags is not None:
        max_error_rate, max_invalid_rate = flags.max_error_rate, flags.max_invalid_rate
        min_evidence = flags.min_evidence
        no_gate, on_stats = flags.no_gate, flags.gate_on_stats
    file = toml.config.gate
    defaults_ = GateConfig()
    return GateConfig(
        max_error_rate=first(max_error_rate, file.max_error_rate, defaults_.max_error_rate) or 0.0,
        max_invalid_rate=first(max_invalid_rate, file.max_invalid_rate, defaults_.max_invalid_rate)
        or 0.0,
        enforced=not no_gate,
        on_stats=on_stats or bool(file.on_stats),
        min_paired=file.min_paired or defaults_.min_paired,
        min_evidence=first(min_evidence, file.min_evidence, defaults_.min_evidence) or 0.0,
    )


def env(name: str) -> str | None:
    """An environment variable, with empty meaning unset."""
    value = os.environ.get(name)
    return value if value else None


def checks(toml: LoadedToml) -> ChecksConfig:
    """`[invariants]` for every client, merged with `[invariants.clients."ID"]` overrides."""
    section = toml.config.invariants

    def merged(base: dict[str, Any], values: InvariantValues) -> dict[str, Any]:
        return {**base, **values.model_dump(exclude_none=True)}

    default = merged({}, section)
    default.pop("clients", None)
    return ChecksConfig(
        default=InvariantSettings.model_validate(default),
        clients={
            client: InvariantSettings.model_validate(merged(default, values))
            for client, values in section.clients.items()
        },
    )


def prices(toml: LoadedToml) -> dict[str, Price]:
    """`[prices."MODEL"]`: what overrides and extends the prices `genai-prices` ships."""
    return dict(toml.config.prices)


def canary_thresholds(toml: LoadedToml, **flags: Any) -> CanaryThresholds:
    """`[canary]` over the defaults, and flags over both."""
    values = toml.config.canary.model_dump(exclude_none=True)
    values |= {key: value for key, value in flags.items() if value is not None}
    return CanaryThresholds.model_validate(values)
