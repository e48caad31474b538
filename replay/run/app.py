"""Composition root: opens the database and model clients, wires the stages, writes the artifact.

The only module that builds concrete clients (asyncpg, AsyncOpenAI, the HTTP client). It never
prints: it returns what happened and the CLI (`replay.cli`) says it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from replay.artifacts import cache, history, store
from replay.artifacts.load import load_run
from replay.artifacts.lock import RunLock
from replay.config import defaults
from replay.config.models import (
    CacheMode,
    ChecksConfig,
    GateConfig,
    JudgeConfig,
    ModelEndpoint,
    Price,
    RequestConfig,
    RunConfig,
)
from replay.errors import (
    ArtifactDirUnwritable,
    ArtifactWriteFailed,
    BlockedError,
    ExitCode,
    UsageError,
)
from replay.models import RunArtifact
from replay.report import html
from replay.run import judge as judging
from replay.run import pricing, rescore, responses, resume
from replay.run.finished import Finished
from replay.run.pacing import Pacer
from replay.run.pipelines import openai as openai_pipeline
from replay.run.pipelines import python as python_pipeline
from replay.run.pipelines.base import Pipeline
from replay.run.pipelines.http import HttpPipeline
from replay.run.runner import Progress, Quiet
from replay.run.session import Session, first_replay_error
from replay.run.stages import manifest_of
from replay.source import preflight, selection
from replay.source.db import connect
from replay.verdict import pairing

if TYPE_CHECKING:
    import openai


# --- pipelines -----------------------------------------------------------------------------------


def _pipeline(
    config: RunConfig,
    request: RequestConfig | None = None,
    cache_mode: CacheMode | None = None,
    *,
    pacer: Pacer | None = None,
) -> tuple[Pipeline, openai.AsyncOpenAI | None]:
    """Build the pipeline named by --pipeline (or the control's), and its model client if any.

    `pacer` paces the `openai` pipeline's requests; both arms of a run share one, as they
    share the endpoint's limits.

    Raises:
        UsageError: an unknown pipeline form, a python pipeline that cannot be imported, or no
            API key for the openai pipeline.
    """
    request = request or config.request
    spec = request.pipeline
    live = config.live
    import httpx2  # here, not at the top: commands that never call a model start faster

    if spec == "openai":
        if live.endpoint.api_key is None:
            raise UsageError("the openai pipeline needs an API key: set OPENAI_API_KEY")
        client = model_client(live.endpoint, live.request_timeout_s)
        mode = cache_mode or config.cache.mode
        answers = responses.for_run(config, str(client.base_url), mode)
        return openai_pipeline.OpenAIPipeline(client, request, answers, pacer), client
    if spec.startswith("python:"):
        function = python_pipeline.load(spec)
        return python_pipeline.PythonPipeline(spec, function, config.concurrency), None
    if spec.startswith(("http://", "https://")):
        limits = httpx2.Limits(max_connections=config.concurrency)
        http = httpx2.AsyncClient(timeout=live.request_timeout_s + 5, limits=limits)
        return HttpPipeline(spec, http), None
    raise UsageError(
        f"--pipeline must be openai, python:module:function or an http(s):// URL, got {spec!r}"
    )


def model_client(endpoint: ModelEndpoint, request_timeout_s: float) -> openai.AsyncOpenAI:
    """An SDK client whose attempts the caller retries, counts and times out itself.

    The SDK's own retries are off, its timeout is later than the caller's deadline, and it talks
    through the SDK's aiohttp transport: a third less CPU per request than its default pool.
    """
    import openai  # here, not at the top: commands that never call a model start faster

    assert endpoint.api_key is not None
    return openai.AsyncOpenAI(
        api_key=endpoint.api_key.get_secret_value(),
        base_url=endpoint.base_url,
        max_retries=0,
        timeout=request_timeout_s + 5,
        http_client=openai.DefaultAioHttpClient(timeout=request_timeout_s + 5),
    )


def _judge(config: RunConfig) -> judging.Judge | None:
    """The judge of a live run with `--judge-model`, on its own client and endpoint."""
    if config.judge is None or config.dry_run:
        return None
    return judge_for(
        config.judge, config.artifacts_dir, config.prices, cache_max_mb=config.cache.max_mb
    )


def judge_for(
    settings: JudgeConfig,
    artifacts_dir: Path,
    prices: Mapping[str, Price],
    *,
    cache_max_mb: int = defaults.CACHE_MAX_MB,
) -> judging.Judge:
    """A judge on its own client, caching under the artifact directory (bounded in MB).

    Raises:
        UsageError: no API key for it.
    """
    if settings.endpoint.api_key is None:
        raise UsageError("the judge needs an API key: set REPLAY_JUDGE_API_KEY or OPENAI_API_KEY")
    client = model_client(settings.endpoint, settings.request_timeout_s)
    return judging.Judge(
        client=client,
        model=settings.model,
        base_url=str(client.base_url),
        retries=settings.retries,
        request_timeout_s=settings.request_timeout_s,
        cache=cache.Store(artifacts_dir / cache.JUDGE, max_bytes=cache_max_mb * cache.MB)
        if settings.cache
        else None,
        limiter=anyio.CapacityLimiter(settings.concurrency),
        price=lambda model, usage: pricing.cost(
            model, usage.prompt_tokens, usage.completion_tokens, prices
        ),
    )


async def rescore_run(
    path: Path,
    old: RunArtifact,
    *,
    checks: ChecksConfig,
    thresholds: GateConfig,
    judge: JudgeConfig | None,
    artifacts_dir: Path,
    out: Path | None,
    prices: Mapping[str, Price],
) -> tuple[rescore.Rescored, Finished]:
    """`replay rescore` / `replay rejudge`: decide a run again and write a new, linked run.

    No pipeline request is made; the judge is asked again only when `judge` is given. Like a
    run, the result is indexed in the history and gets its HTML report.
    """
    judging_again = judge_for(judge, artifacts_dir, prices) if judge is not None else None
    created = datetime.now(UTC)
    target = store.target_path(artifacts_dir, created, out)
    try:
        store.ensure_writable(target.parent)
        with _lock(target):  # a second rescore into the same --out exits 2 before any work
            if judging_again is not None and judge is not None:
                await preflight.model_endpoint(
                    judging_again.client,
                    judging_again.model,
                    judge.endpoint.target,
                    judge.request_timeout_s,
                    check="judge",
                )
            how = rescore.Rescoring(checks=checks, gate=thresholds, judge=judging_again)
            done = await rescore.rescore(old, path, how, target=target)
            record = done.artifact.model_dump(mode="json", exclude={"cases"})
            outcome = Finished(exit_code=done.exit_code, artifact=target, record=record)
            await anyio.to_thread.run_sync(publish, outcome)
    finally:
        if judging_again is not None:
            with anyio.CancelScope(shield=True):
                await judging_again.client.close()
    return done, outcome


# --- run -----------------------------------------------------------------------------------------


async def run(config: RunConfig, progress: Progress | None = None) -> Finished:
    """Run a dry or live replay: preflight, selection, cases, artifact, exit code.

    Usage errors come first (exit 2 outranks 3); then the artifact directory and the run's lock,
    so nothing is read from a partial log or drafted unless this process alone holds the run.
    """
    started = datetime.now(UTC)
    pricing.require_for_budget(config)
    if config.resume is not None:
        if config.dry_run or config.out is not None:
            flag = "--dry-run" if config.dry_run else "--out"
            raise UsageError(f"--resume continues a live run in place; it cannot take {flag}")
        resume.require(config.resume)
        target = resume.target_of(config.resume)
    else:
        target = store.target_path(config.artifacts_dir, started, config.out)
    baseline_path = _baseline_path(config)
    paced = config.live.pacing
    pacer = Pacer(rpm=paced.rpm, tpm=paced.tpm, enabled=paced.enabled)
    pipeline, client = (None, None) if config.dry_run else _pipeline(config, pacer=pacer)
    control = None
    if config.control is not None and not config.dry_run:
        control, _ = _pipeline(config, config.control.request, config.control.cache, pacer=pacer)
    judge = _judge(config)
    try:
        try:
            store.ensure_writable(target.parent)
            lock = _lock(target)
        except BlockedError as exc:
            return Finished(
                exit_code=ExitCode.BLOCKED, message=exc.message, preflight=[preflight.failed(exc)]
            )
        with lock:
            state = Session(
                config,
                started,
                target,
                pipeline,
                progress or Quiet(),
                model_client=client,
                baseline_path=baseline_path,
                judge=judge,
                control=control,
            )
            if config.resume is not None:
                resumed = resume.load(
                    config.resume, identity=config.identity(), retry_errors=config.retry_errors
                )
                _same_budget(resumed, config)
                state.adopt(resumed)
            return await _run(state, config)
    finally:
        for built in (pipeline, control):
            if built is not None:
                with anyio.CancelScope(shield=True):
                    await built.aclose()
        if judge is not None:
            with anyio.CancelScope(shield=True):
                await judge.client.close()


def _same_budget(resumed: resume.Resumed, config: RunConfig) -> None:
    """A resume keeps the run's `--max-cost` unless a new one is given explicitly.

    Raises:
        UsageError: the limit would change silently (from `replay.toml`, or by leaving it out).
    """
    recorded = ((resumed.header.get("config") or {}).get("live") or {}).get("max_cost_usd")
    now = config.live.max_cost_usd
    if recorded == now or config.live.max_cost_given:
        return
    was = "no --max-cost" if recorded is None else f"--max-cost {recorded:g}"
    keep = "leave --max-cost out" if recorded is None else f"pass --max-cost {recorded:g}"
    raise UsageError(
        f"--resume {str(config.resume)!r} was started with {was}; {keep} to keep it, "
        "or pass --max-cost USD to set a new limit for the whole run"
    )


def _lock(target: Path) -> RunLock:
    """This process's exclusive hold on the run that writes `target`.

    Raises:
        UsageError: another live process holds it (exit 2, naming its pid).
        ArtifactDirUnwritable: the lock file cannot be created (exit 3).
    """
    try:
        return RunLock.acquire(target, what=f"run {str(target)!r}")
    except OSError as exc:
        raise ArtifactDirUnwritable.of(target.parent, exc) from None


async def _run(state: Session, config: RunConfig) -> Finished:
    """Preflight to artifact, interruptible; the partial log stays after a crash."""
    try:
        target = state.target
        state.preflight.append(preflight.passed("artifact_dir", f"{target.parent} is writable"))
        outcome = await _interruptible(state, lambda: _execute(state, config))
        if outcome is None:
            outcome = await state.finish(
                "interrupted", ExitCode.INTERRUPTED, "interrupted before the run finished"
            )
        if config.report:
            await anyio.to_thread.run_sync(publish, outcome)
        return outcome
    finally:
        if state.log is not None:
            state.log.close()  # after a crash the partial file stays, for --resume


def publish(outcome: Finished) -> None:
    """Index the run in the history and write its HTML report beside the artifact.

    Neither may change how the run ended: a failure here is a warning on the outcome. A run of
    more than `defaults.REPORT_AUTO_MAX_CASES` cases gets no automatic report, because
    rendering reads the whole artifact into memory; `replay report` makes it on demand.
    """
    path, record = outcome.artifact, outcome.record
    if path is None or record is None:
        return
    head = RunArtifact.model_validate(record)  # the artifact without its cases
    try:
        history.append(path.parent, history.entry_of(head, path))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "the entry is malformed"
        outcome.warnings.append(f"the history index was not updated: {reason}")
    except UsageError as exc:  # rebuilding a missing index met an unknown schema version
        outcome.warnings.append(f"the history index was not updated: {exc}")
    cases = head.summary.cases if head.summary is not None else 0
    if cases > defaults.REPORT_AUTO_MAX_CASES:
        outcome.warnings.append(
            f"no HTML report for {cases:,} cases (over {defaults.REPORT_AUTO_MAX_CASES:,}); "
            f"run: replay report {path}"
        )
        return
    try:
        outcome.report = html.write_report(path)
    except (OSError, UsageError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        outcome.warnings.append(f"the HTML report was not written: {reason}")


async def _execute(state: Session, config: RunConfig) -> Finished:
    try:
        async with connect(config.database) as conn:
            state.preflight.append(
                preflight.passed("database", f"connected to {config.database.target} read-only")
            )
            return await state.execute(conn)
    except BlockedError as exc:
        state.preflight.append(preflight.failed(exc))
        try:
            return await state.finish("blocked", ExitCode.BLOCKED, exc.message)
        except ArtifactWriteFailed:
            raise exc from None  # the disk is still full: say the first cause, keep the partial


async def _interruptible(
    state: Session, body: Callable[[], Awaitable[Finished]]
) -> Finished | None:
    """Run `body` while SIGINT/SIGTERM are watched; None when a signal cut it short.

    During the live phase a signal asks the runner to stop gracefully (in-flight cases get
    their grace period); before or after it, the work is cancelled at once.
    """
    outcome: Finished | None = None
    with anyio.CancelScope() as scope:
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(_watch_signals, state, scope)
                outcome = await body()
                group.cancel_scope.cancel()
        except BaseExceptionGroup as exc:
            raise first_replay_error(exc) from None
    return outcome


async def _watch_signals(state: Session, scope: anyio.CancelScope) -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # signals reach only the main thread (an embedding caller handles them)
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            if state.runner is not None:
                state.runner.stop()
            else:
                scope.cancel()


def _baseline_path(config: RunConfig) -> Path | None:
    """Resolve --baseline: a path that must be a run artifact, or the latest comparable run.

    Raises:
        UsageError: the path is not a readable run artifact, or `latest` finds none.
    """
    if config.baseline is None:
        return None
    if config.baseline == "latest":
        found = pairing.latest(
            config.artifacts_dir, config.selection.client_id, config.request.pipeline, None
        )
        if found is None:
            raise UsageError(
                f"--baseline latest: no complete live run of client {config.selection.client_id!r}"
                f" with pipeline {config.request.pipeline!r} in {str(config.artifacts_dir)!r}"
            )
        return found
    path = Path(config.baseline)
    load_run(path, role="--baseline")
    return path


async def freeze(config: RunConfig, path: Path) -> int:
    """Write the manifest of what `config` selects now, without running it; return its size.

    Raises:
        BlockedError: the database or its views cannot be read.
    """
    async with connect(config.database) as conn:
        shapes = await selection.inspect(conn, config.source)
        plan = await selection.plan(conn, shapes, config.selection)
    if not plan.case_ids:
        return 0  # an empty manifest would block every later night with a misleading error
    now = datetime.now(UTC)
    await anyio.to_thread.run_sync(
        store.write, path, manifest_of(config.selection.client_id, plan.case_ids, now)
    )
    return len(plan.case_ids)


# --- other commands ------------------------------------------------------------------------------
