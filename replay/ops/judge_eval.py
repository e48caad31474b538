"""`replay judge-eval`: ask a judge about a labelled set, measure it, keep the calibration.

A judge gates a run only as well as it agrees with people. This asks the configured judge about
every labelled pair, exactly as a run asks it (blinded, both orders, answers validated, one
corrective retry), and writes what it got right to
`<artifacts dir>/judge-calibration/<model>-<rubric hash>.json`, one file per model and rubric:
the newest evaluation replaces the last. A later `replay run --judge-model M` records a summary
of that file in its config (`config.judge.calibration`), so a gate's judge shows its record.

The judge cache is off here: a calibration measures how the judge answers now, and a cached
answer would hide a first answer that needed correcting.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import anyio
from pydantic import ValidationError

from replay import __version__
from replay.artifacts import store
from replay.config.models import JudgeConfig, Price, RunConfig
from replay.models import Judgement, Strict
from replay.ops import judge_metrics
from replay.ops.judge_metrics import Metrics, Proportion
from replay.ops.judge_set import LabelledItem, LabelledSet
from replay.run import app
from replay.run.judge import RUBRIC_HASH, RUBRIC_VERSION, Judge
from replay.source import preflight

CALIBRATION_DIR = "judge-calibration"


class SetRef(Strict):
    """Which labelled set a calibration was measured on."""

    name: str
    source: Literal["file", "generated"]
    path: str | None
    sha256: str
    """Of the validated items: the same set digests the same however its file is laid out."""
    items: int


class Miss(Strict):
    """An item whose verdict is not its label: the ones to read first."""

    id: str
    kind: str | None
    label: str
    verdict: str


class Calibration(Strict):
    """What one judge model, under one rubric, got right on one labelled set."""

    kind: Literal["judge-calibration"] = "judge-calibration"
    created_at: datetime
    tool_version: str
    model: str
    rubric_version: str
    rubric_hash: str
    endpoint: str
    """The judge's base URL without credentials."""
    labelled_set: SetRef
    duration_s: float
    metrics: Metrics
    criteria: dict[str, Metrics]
    """Per rubric criterion, over the items labelled on it."""
    kinds: dict[str, Proportion]
    """Agreement per kind of item (a mistake's name, `rewording`)."""
    confusion: dict[str, dict[str, int]]
    """Label -> verdict -> items."""
    misses: list[Miss]


class CalibratedJudge(JudgeConfig):
    """A run's judge settings with the summary of its last calibration, for the artifact."""

    calibration: dict[str, Any] | None = None


def calibration_path(artifacts_dir: Path, model: str) -> Path:
    """Where the calibration of `model` under today's rubric is kept."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-.") or "judge"
    return artifacts_dir / CALIBRATION_DIR / f"{slug}-{RUBRIC_HASH[:12]}.json"


async def evaluate(
    labelled: LabelledSet,
    settings: JudgeConfig,
    artifacts_dir: Path,
    prices: Mapping[str, Price],
) -> tuple[Calibration, Path]:
    """Ask the judge about every item, measure it, write the calibration atomically.

    Raises:
        UsageError: no API key for the judge.
        BlockedError: the artifact directory cannot be written, or the judge endpoint is
            unreachable, refuses the key or does not list the model (exit 3).
    """
    target = calibration_path(artifacts_dir, settings.model)
    store.ensure_writable(target.parent)
    judge = app.judge_for(settings.model_copy(update={"cache": False}), artifacts_dir, prices)
    began = time.perf_counter()
    try:
        await preflight.model_endpoint(
            judge.client,
            judge.model,
            settings.endpoint.target,
            settings.request_timeout_s,
            check="judge",
        )
        judged = await _ask(judge, labelled.items, settings.concurrency)
    finally:
        with anyio.CancelScope(shield=True):
            await judge.client.close()
    record = calibration_of(
        labelled,
        judged,
        model=settings.model,
        endpoint=settings.endpoint.target,
        duration_s=time.perf_counter() - began,
    )
    await anyio.to_thread.run_sync(store.write_model, target, record)
    return record, target


def calibration_of(
    labelled: LabelledSet,
    judged: Sequence[Judgement],
    *,
    model: str,
    endpoint: str,
    duration_s: float,
) -> Calibration:
    """The calibration record of `judged`, the judgements of `labelled`'s items in order."""
    items = labelled.items
    misses = [
        Miss(id=item.id or "", kind=item.kind, label=item.label, verdict=judgement.verdict)
        for item, judgement in zip(items, judged, strict=True)
        if judgement.verdict != item.label
    ]
    return Calibration(
        created_at=datetime.now(UTC),
        tool_version=__version__,
        model=model,
        rubric_version=RUBRIC_VERSION,
        rubric_hash=RUBRIC_HASH,
        endpoint=endpoint,
        labelled_set=SetRef(
            name=labelled.name,
            source=labelled.source,
            path=labelled.path,
            sha256=labelled.sha256,
            items=len(items),
        ),
        duration_s=round(duration_s, 3),
        metrics=judge_metrics.overall(items, judged),
        criteria=judge_metrics.per_criterion(items, judged),
        kinds=judge_metrics.per_kind(items, judged),
        confusion=judge_metrics.confusion(items, judged),
        misses=misses,
    )


async def _ask(judge: Judge, items: Sequence[LabelledItem], concurrency: int) -> list[Judgement]:
    """Every item's judgement, in item order; the judge bounds its own requests in flight."""
    found: dict[int, Judgement] = {}
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(number: int, item: LabelledItem) -> None:
        async with limiter:
            found[number] = await judge.judge(item.id or "", item.context, item.original, item.new)

    async with anyio.create_task_group() as group:
        for number, item in enumerate(items):
            group.start_soon(one, number, item)
    return [found[number] for number in range(len(items))]


def last_calibration(artifacts_dir: Path, model: str) -> dict[str, Any] | None:
    """The summary of `model`'s calibration under today's rubric, if one was written.

    A file that does not read as a calibration of this model and rubric is no calibration.
    """
    path = calibration_path(artifacts_dir, model)
    try:
        record = Calibration.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None
    if record.model != model or record.rubric_hash != RUBRIC_HASH:
        return None
    metrics = record.metrics
    return {
        "path": str(path),
        "created_at": record.created_at.isoformat().replace("+00:00", "Z"),
        "set": record.labelled_set.name,
        "items": record.labelled_set.items,
        "agreement": metrics.agreement.value,
        "recall": metrics.recall.value,
        "position_bias": metrics.position_bias.value,
        "unscored": metrics.unscored.value,
    }


def calibrated(config: RunConfig) -> RunConfig:
    """`config` with its judge's last calibration, so the run's artifact records it."""
    if config.judge is None:
        return config
    summary = last_calibration(config.artifacts_dir, config.judge.model)
    if summary is None:
        return config
    judge = CalibratedJudge(**{**dict(config.judge), "calibration": summary})
    return config.model_copy(update={"judge": judge})
