"""Turn the raw values of `replay run`'s flags into a validated, frozen RunConfig.

Precedence: flag > environment (typer reads each option's variable) > `replay.toml` > constants.
Every value is parsed here, so each bad one exits 2 with a line naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from replay.config import defaults as constants
from replay.config import settings
from replay.config.models import (
    DatabaseConfig,
    GateConfig,
    JudgeConfig,
    LiveConfig,
    ModelEndpoint,
    RequestConfig,
    RunConfig,
    SelectionConfig,
)
from replay.errors import UsageError


@dataclass(frozen=True)
class RunFlags:
    """The raw values of `replay run`'s flags, as typer hands them over."""

    client_id: str | None
    limit: str | None
    dry_run: bool
    concurrency: str | None
    channel: str | None
    from_: str | None
    to: str | None
    status: str | None
    case_ids: str | None
    manifest: str | None
    thread_limit: str | None
    allow_empty: bool
    show_sql: bool
    request_source: str | None
    model: str | None
    temperature: str | None
    system_prompt_file: str | None
    out: str | None
    quiet: bool
    pipeline: str | None
    retries: str | None
    request_timeout: str | None
    case_timeout: str | None
    max_cost: str | None
    resume: str | None
    retry_errors: bool
    no_gate: bool
    max_error_rate: str | None
    max_invalid_rate: str | None
    summary_md: str | None
    baseline: str | None
    database_url: str | None
    source_sql: str | None
    thread_sql: str | None
    config: str | None
    artifacts_dir: str | None
    judge_model: str | None = None
    judge_base_url: str | None = None
    judge_concurrency: str | None = None
    judge_retries: str | None = None
    no_judge_cache: bool = False
    repeats: str | None = None
    gate_on_stats: bool = False
    no_report: bool = False
    write_manifest: str | None = None


def run_config(flags: RunFlags) -> RunConfig:
    """Validate every flag and resolve every default.

    Raises:
        UsageError: a value is malformed or flags contradict each other.
    """
    # The flags by name, as locals: the checks below read like the flags they check.
    client_id = flags.client_id
    limit = flags.limit
    dry_run = flags.dry_run
    concurrency = flags.concurrency
    channel = flags.channel
    from_ = flags.from_
    to = flags.to
    status = flags.status
    case_ids = flags.case_ids
    manifest = flags.manifest
    thread_limit = flags.thread_limit
    allow_empty = flags.allow_empty
    show_sql = flags.show_sql
    request_source = flags.request_source
    model = flags.model
    temperature = flags.temperature
    system_prompt_file = flags.system_prompt_file
    out = flags.out
    pipeline = flags.pipeline
    retries = flags.retries
    request_timeout = flags.request_timeout
    case_timeout = flags.case_timeout
    max_cost = flags.max_cost
    resume = flags.resume
    retry_errors = flags.retry_errors
    no_gate = flags.no_gate
    max_error_rate = flags.max_error_rate
    max_invalid_rate = flags.max_invalid_rate
    summary_md = flags.summary_md
    baseline = flags.baseline
    database_url = flags.database_url
    source_sql = flags.source_sql
    thread_sql = flags.thread_sql
    config = flags.config
    artifacts_dir = flags.artifacts_dir
    toml = settings.load_toml(config)
    file = toml.config
    if client_id is None:
        raise UsageError("--client-id is required; `replay clients` lists the client ids")
    if retry_errors and resume is None:
        raise UsageError("--retry-errors goes with --resume PATH")
    ids: tuple[str, ...] | None = None
    tags: dict[str, tuple[str, ...]] = {}
    ids_origin: str | None = None
    if case_ids is not None and manifest is not None:
        raise UsageError("--case-ids and --manifest cannot be combined; pass one of them")
    if case_ids is not None:
        ids, ids_origin = settings.case_ids(case_ids), "--case-ids"
    elif manifest is not None:
        (ids, tags), ids_origin = settings.manifest(manifest), f"--manifest {manifest}"
    if ids is not None:
        for flag, value in (("--channel", channel), ("--from", from_), ("--to", to)):
            if value is not None:
                ids_flag = (ids_origin or "").split()[0]
                raise UsageError(
                    f"{ids_flag} selects exact cases; it cannot be combined with {flag}"
                )
    limit_value = settings.positive_int("--limit", limit) if limit is not None else None
    if ids is not None and limit_value is not None and limit_value < len(ids):
        ids_flag = (ids_origin or "").split()[0]
        raise UsageError(
            f"--limit {limit_value} is less than the {len(ids)} ids of {ids_flag}; "
            "drop --limit or pass fewer ids"
        )
    if ids is not None:
        limit_value = limit_value or len(ids)
    channel_text = settings.first(channel, file.selection.channel)
    channel_value = (
        settings.choice("--channel", channel_text, (*constants.CHANNELS, "any"))
        if channel_text
        else "any"
    )
    from_time = settings.timestamp("--from", from_) if from_ is not None else None
    to_time = settings.timestamp("--to", to) if to is not None else None
    if from_time and to_time and from_time >= to_time:
        raise UsageError(f"--from {from_!r} must be before --to {to!r}")
    status_value = settings.first(status, file.selection.status) or constants.STATUS
    concurrency_value = (
        settings.positive_int("--concurrency", concurrency)
        if concurrency is not None
        else file.run.concurrency or constants.CONCURRENCY
    )
    temperature_value = (
        settings.temperature("--temperature", temperature)
        if temperature is not None
        else file.run.temperature
    )
    selection = SelectionConfig(
        client_id=settings.client_id(client_id),
        limit=limit_value or file.selection.limit or constants.LIMIT,
        channel=None if channel_value == "any" else channel_value,
        from_time=from_time,
        to_time=to_time,
        status=None if status_value.lower() == "any" else status_value,
        status_explicit=status is not None or file.selection.status is not None,
        case_ids=ids,
        ids_origin=ids_origin,
        case_tags=tags,
        thread_limit=settings.positive_int("--thread-limit", thread_limit)
        if thread_limit is not None
        else file.selection.thread_limit or constants.THREAD_LIMIT,
        max_body_chars=file.selection.max_body_chars or constants.MAX_BODY_CHARS,
        allow_empty=allow_empty,
    )
    source_choice = (
        settings.first(request_source, file.run.request_source) or constants.REQUEST_SOURCE
    )
    pipeline_spec = settings.first(pipeline, file.run.pipeline) or constants.PIPELINE
    request = RequestConfig(
        pipeline=settings.pipeline_spec(pipeline_spec),
        request_source=settings.choice(
            "--request-source", source_choice, ("auto", "recorded", "rendered")
        ),
        model=settings.first(model, file.run.model),
        default_model=constants.MODEL,
        temperature=temperature_value,
        system_prompt=settings.read_text_file("--system-prompt-file", system_prompt_file)
        if system_prompt_file
        else None,
        system_prompt_file=system_prompt_file,
    )
    run_config = RunConfig(
        database=database(toml, database_url, source_sql, thread_sql),
        selection=selection,
        request=request,
        prices=settings.prices(toml),
        artifacts_dir=Path(artifacts_dir or file.artifacts.dir or constants.ARTIFACTS_DIR),
        out=Path(out) if out else None,
        dry_run=dry_run,
        show_sql=show_sql,
        concurrency=concurrency_value,
        live=_live(file, retries, request_timeout, case_timeout, max_cost),
        checks=settings.checks(toml),
        gate=gate(
            toml, max_error_rate, max_invalid_rate, no_gate=no_gate, on_stats=flags.gate_on_stats
        ),
        summary_md=settings.writable_file("--summary-md", summary_md) if summary_md else None,
        baseline=baseline,
        resume=Path(resume) if resume else None,
        retry_errors=retry_errors,
        config_file=str(toml.path) if toml.path else None,
        judge=judge(toml, flags),
        report=not flags.no_report,
        write_manifest=settings.writable_file("--write-manifest", flags.write_manifest)
        if flags.write_manifest
        else None,
        repeats=settings.positive_int("--repeats", flags.repeats)
        if flags.repeats is not None
        else file.run.repeats or 1,
    )
    if run_config.gate.on_stats and baseline is None:
        if flags.gate_on_stats:
            raise UsageError("--gate-on-stats compares with a baseline: add --baseline PATH|latest")
        # `[gate] on_stats` is a standing setting: with nothing to compare, cases decide.
        gate_config = run_config.gate.model_copy(update={"on_stats": False})
        run_config = run_config.model_copy(update={"gate": gate_config})
    prices = run_config.prices
    if run_config.live.max_cost_usd is not None and not dry_run:
        models = {request.model} if request.model else {request.default_model}
        unpriced = sorted(m for m in models if m not in prices)
        if request.pipeline == "openai" and unpriced:
            raise UsageError(
                f"--max-cost needs a price for model {unpriced[0]!r}; add "
                f'[prices."{unpriced[0]}"] input = …, output = … (USD per 1M tokens) to replay.toml'
            )
        if run_config.judge is not None and run_config.judge.model not in prices:
            name = run_config.judge.model
            raise UsageError(
                f"--max-cost needs a price for the judge model {name!r}; add "
                f'[prices."{name}"] input = …, output = … (USD per 1M tokens) to replay.toml'
            )
    return run_config


def judge(
    toml: settings.LoadedToml,
    flags: RunFlags | JudgeFlags,
    *,
    fallback_model: str | None = None,
) -> JudgeConfig | None:
    """The judge, on when `--judge-model` (else `[judge] model`, else `fallback_model`) names one.

    Its key comes only from the environment: REPLAY_JUDGE_API_KEY, else OPENAI_API_KEY.
    """
    file = toml.config.judge
    model = settings.first(flags.judge_model, file.model, fallback_model)
    if not model:
        for flag, value in (
            ("--judge-base-url", flags.judge_base_url),
            ("--judge-concurrency", flags.judge_concurrency),
            ("--judge-retries", flags.judge_retries),
        ):
            if value is not None:
                raise UsageError(f"{flag} goes with --judge-model NAME (or [judge] model)")
        return None
    base_url = settings.first(flags.judge_base_url, file.base_url)
    if base_url is not None:
        settings.http_url("--judge-base-url", base_url)
    key = settings.env("REPLAY_JUDGE_API_KEY") or settings.env("OPENAI_API_KEY")
    defaults = JudgeConfig(model=model)
    return JudgeConfig(
        model=model,
        endpoint=ModelEndpoint(
            api_key=SecretStr(key) if key else None,
            base_url=base_url or settings.env("OPENAI_BASE_URL"),
        ),
        concurrency=settings.positive_int("--judge-concurrency", flags.judge_concurrency)
        if flags.judge_concurrency is not None
        else file.concurrency or defaults.concurrency,
        retries=settings.non_negative_int("--judge-retries", flags.judge_retries)
        if flags.judge_retries is not None
        else settings.first(file.retries, defaults.retries),
        request_timeout_s=file.request_timeout or defaults.request_timeout_s,
        cache=not flags.no_judge_cache and settings.first(file.cache, True),
    )


@dataclass(frozen=True)
class JudgeFlags:
    """The judge's flags alone, for `replay rejudge`."""

    judge_model: str | None
    judge_base_url: str | None
    judge_concurrency: str | None
    judge_retries: str | None
    no_judge_cache: bool


def database(
    toml: settings.LoadedToml, url: str | None, cases_sql: str | None, thread_sql: str | None
) -> DatabaseConfig:
    """The source database: its URL (flag, DATABASE_URL, or [database] url_env) and views."""
    url_env = toml.config.database.url_env
    resolved = url or (settings.env(url_env) if url_env else None)
    if not resolved:
        where = f" or ${url_env} ([database] url_env)" if url_env else ""
        raise UsageError(f"no database URL: pass --database-url or set DATABASE_URL{where}")
    return DatabaseConfig(
        url=SecretStr(resolved),
        source=settings.views(toml, cases_sql, thread_sql),
        connect_timeout_s=toml.config.database.connect_timeout or constants.CONNECT_TIMEOUT_S,
    )


def _live(
    file: settings.TomlConfig,
    retries: str | None,
    request_timeout: str | None,
    case_timeout: str | None,
    max_cost: str | None,
) -> LiveConfig:
    run = file.run
    retries_value = (
        settings.non_negative_int("--retries", retries) if retries is not None else run.retries
    )
    api_key = settings.env("OPENAI_API_KEY")
    return LiveConfig(
        retries=constants.RETRIES if retries_value is None else retries_value,
        request_timeout_s=settings.positive_float("--request-timeout", request_timeout)
        if request_timeout is not None
        else run.request_timeout or constants.REQUEST_TIMEOUT_S,
        case_timeout_s=settings.positive_float("--case-timeout", case_timeout)
        if case_timeout is not None
        else run.case_timeout or constants.CASE_TIMEOUT_S,
        max_cost_usd=settings.positive_float("--max-cost", max_cost)
        if max_cost is not None
        else run.max_cost,
        endpoint=ModelEndpoint(
            api_key=SecretStr(api_key) if api_key else None,
            base_url=settings.env("OPENAI_BASE_URL"),
        ),
    )


def gate(
    toml: settings.LoadedToml,
    max_error_rate: str | None,
    max_invalid_rate: str | None,
    *,
    no_gate: bool,
    on_stats: bool = False,
) -> GateConfig:
    """The gate's thresholds: flag, else `[gate]`, else the defaults (0 is a real threshold)."""
    file = toml.config.gate
    defaults = GateConfig()
    error_rate = settings.rate("--max-error-rate", max_error_rate) if max_error_rate else None
    invalid_rate = (
        settings.rate("--max-invalid-rate", max_invalid_rate) if max_invalid_rate else None
    )
    return GateConfig(
        max_error_rate=settings.first(error_rate, file.max_error_rate, defaults.max_error_rate),
        max_invalid_rate=settings.first(
            invalid_rate, file.max_invalid_rate, defaults.max_invalid_rate
        ),
        enforced=not no_gate,
        on_stats=on_stats or bool(file.on_stats),
        min_paired=file.min_paired or defaults.min_paired,
    )
