"""`replay signals` and `replay canary-check`: read job health, decide on a staged rollout."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import anyio

from replay import __version__
from replay.artifacts import store
from replay.config.models import SignalsConfig
from replay.errors import ExitCode
from replay.models import SignalsArtifact
from replay.ops import canary
from replay.ops import signals as job_signals
from replay.source.db import connect

_EXIT = {
    "continue": ExitCode.OK,
    "stop": ExitCode.GATE_FAILED,
    "insufficient": ExitCode.EMPTY,
}
"""What a canary decision exits with: stop is a failed gate; too little data, or a required rule
that could not be evaluated, is nothing to judge and never a pass."""


async def signals(config: SignalsConfig, *, check: bool) -> tuple[SignalsArtifact, Path]:
    """Read the job signals of the range (and, to check a canary, of the range before it).

    Raises:
        BlockedError: the database or a view column is missing (exit 3).
        UsageError: a view or the --canary predicate does not run (exit 2).
    """
    created = datetime.now(UTC)
    target = store.target_path(config.artifacts_dir, created, config.out)
    if config.out is None:
        target = target.with_name(target.name.replace("run-", "signals-", 1))
    store.ensure_writable(target.parent)
    previous = None
    async with connect(config.database) as conn:
        shapes = await job_signals.inspect(conn, config.views)
        current = await job_signals.collect(conn, shapes, config, config.start, config.end)
        if check:
            span = config.end - config.start
            previous = await job_signals.collect(
                conn, shapes, config, config.start - span, config.start
            )
    decision = canary.decide(current, previous, config.thresholds, config.stage) if check else None
    exit_code = _EXIT[decision.action] if decision else ExitCode.OK
    artifact = SignalsArtifact(
        run_id=f"{store.stamp(created)}-{uuid.uuid4().hex[:6]}",
        created_at=created,
        tool_version=__version__,
        exit_code=exit_code,
        config=config.redacted(),
        current=current,
        previous=previous,
        decision=decision,
    )
    await anyio.to_thread.run_sync(store.write, target, artifact.model_dump(mode="json"))
    return artifact, target
