"""The run-level stages that need no per-case state: preflight, plan and gate.

Each takes what the stage before it returned and returns a frozen value, so the order of a run
is visible in `Session.execute`: preflight → plan → cases → gate → write. (The cases stage
streams each case through execute, judge and verdict; it lives in `session.py`.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import anyio
import asyncpg

from replay.artifacts import store
from replay.config.models import RunConfig
from replay.errors import ExitCode
from replay.models import BaselineReport, Gate, PreflightEntry, Selection, SkippedCase
from replay.run import judge as judging
from replay.run import resume, shards
from replay.run.runner import Budget
from replay.source import params, selection
from replay.source import preflight as preflight_checks
from replay.verdict import gate

if TYPE_CHECKING:
    import openai


@dataclass(frozen=True)
class Checked:
    """What preflight found: the views' shapes, whether the client is known, each passed check."""

    shapes: selection.Shapes
    client_known: bool | None
    """None when there is no clients view to ask."""
    entries: tuple[PreflightEntry, ...]
    sql: tuple[str, ...]
    """The wrapped statements, for `--show-sql`."""


async def preflight(
    conn: asyncpg.Connection,
    config: RunConfig,
    *,
    model_client: openai.AsyncOpenAI | None,
    judge: judging.Judge | None,
) -> Checked:
    """Check the views, the client, the model endpoint and the judge before any case starts.

    Raises:
        BlockedError: a view lacks a contract column, or an endpoint refuses us (exit 3).
    """
    shapes = await selection.inspect(conn, config.source)
    entries = [preflight_checks.passed("views", "every view has the contract's columns")]
    sql: tuple[str, ...] = ()
    if config.show_sql:
        fitted = await params.fitted(conn, shapes.cases, config.selection)
        sql = (
            selection.plan_statement(shapes, fitted).show(),
            selection.thread_statement(shapes) + ";",
        )
    client_id = config.selection.client_id
    known = await selection.client_exists(conn, shapes, client_id)
    if known is False:
        message = f"client {client_id!r} is not in the clients view"
        entries.append(
            PreflightEntry(check="client", ok=False, code="client_unknown", message=message)
        )
    if model_client is not None:
        live = config.live
        message = await preflight_checks.model_endpoint(
            model_client, config.request.model, live.endpoint.target, live.request_timeout_s
        )
        entries.append(preflight_checks.passed("model", message))
        control = config.control.request if config.control is not None else None
        if control is not None and control.pipeline == "openai" and control.model is not None:
            # The control is asked on the same endpoint: a model it lacks blocks the run now,
            # not as an error on every case.
            message = await preflight_checks.model_endpoint(
                model_client, control.model, live.endpoint.target, live.request_timeout_s,
                check="control",
            )  # fmt: skip
            entries.append(preflight_checks.passed("control", message))
    if judge is not None and config.judge is not None:
        endpoint, timeout_s = config.judge.endpoint, config.judge.request_timeout_s
        message = await preflight_checks.model_endpoint(
            judge.client, judge.model, endpoint.target, timeout_s, check="judge"
        )
        entries.append(preflight_checks.passed("judge", message))
    return Checked(shapes=shapes, client_known=known, entries=tuple(entries), sql=sql)


@dataclass(frozen=True)
class Planned:
    """The ordered case ids of the run, fixed once, and those still to replay."""

    plan: shards.Fixed
    remaining: tuple[str, ...]


async def plan(
    conn: asyncpg.Connection,
    checked: Checked,
    config: RunConfig,
    *,
    resumed: resume.Resumed | None,
    started: datetime,
) -> Planned:
    """Select the cases (a resumed run keeps its own plan) and freeze them when asked.

    With `--shard` the whole selection is made first and frozen (a manifest is the whole), then
    the part is cut from it: the source query never knows about shards.
    """
    if resumed is not None:
        return Planned(plan=shards.from_header(resumed.header), remaining=tuple(resumed.remaining))
    found = await selection.plan(conn, checked.shapes, config.selection)
    if config.write_manifest is not None and found.case_ids:
        manifest = manifest_of(config.selection.client_id, found.case_ids, started)
        await anyio.to_thread.run_sync(store.write, config.write_manifest, manifest)
    part = shards.cut(found, config.shard)
    return Planned(plan=part, remaining=part.case_ids)


def empty(config: RunConfig, plan: shards.Fixed, client_known: bool | None) -> Ended:
    """How a run with no case to replay ends, and why.

    A shard left empty by the hash while its selection is not is no empty selection: another
    part has the cases, so it ends 0 (its artifact still names the selection, for `merge`).
    """
    if plan.whole:
        return Ended(ExitCode.OK, None)
    client_id = config.selection.client_id
    unknown = client_known is False
    reason = f"client {client_id!r} is unknown" if unknown else "no case matched the selection"
    code = ExitCode.OK if config.selection.allow_empty else ExitCode.EMPTY
    return Ended(code, None if code == ExitCode.OK else reason)


class Ended(NamedTuple):
    """An exit code and the one line that explains it (None when there is nothing to say)."""

    code: ExitCode
    message: str | None


def selection_of(
    config: RunConfig, plan: shards.Fixed, invalid: list[str], skipped: list[SkippedCase]
) -> Selection:
    """The artifact's selection: what was asked for and found, and the part it replayed."""
    return Selection(
        client_id=config.selection.client_id,
        requested=config.selection.limit,
        found=len(plan.case_ids),
        more_available=plan.more_available,
        filters=dict(plan.filters),
        not_found=list(plan.not_found),
        invalid=invalid,
        skipped=skipped,
        case_ids=list(plan.case_ids),
        fingerprint=plan.fingerprint,
        shard=plan.shard,
        sharded_from=list(plan.whole),
    )


def manifest_of(client_id: str, case_ids: tuple[str, ...], created: datetime) -> dict[str, Any]:
    """A manifest that `--manifest` reads back: the selection frozen, in order."""
    return {
        "client_id": client_id,
        "created_at": created.isoformat(),
        "cases": [{"id": case_id} for case_id in case_ids],
    }


def decide(counted: gate.GateInput, config: RunConfig, report: BaselineReport | None) -> Gate:
    """The gate over the whole run: every rule with its threshold, value and cases."""
    stats = None if report is None else report.stats
    return gate.apply(counted, config.gate, dry=config.dry_run, stats=stats)


def gate_message(result: Gate, budget: Budget) -> str:
    """One line naming every failed rule with its value and threshold."""
    parts = []
    for rule in result.rules:
        if rule.passed:
            continue
        if rule.rule == "regressions":
            shown = ", ".join(rule.cases[:3]) + (", …" if len(rule.cases) > 3 else "")
            parts.append(f"{len(rule.cases)} regressed ({shown})")
        elif rule.rule == "budget":
            parts.append(
                f"--max-cost {budget.limit_usd:g} reached (spent ${budget.spent_usd:.4f}); "
                f"{len(rule.cases)} skipped"
            )
        elif rule.rule == "min_evidence":
            causes = ", ".join(f"{count} {cause}" for cause, count in (rule.causes or {}).items())
            count = len(rule.cases)
            parts.append(
                f"min_evidence {rule.value:g} < {rule.threshold:g} ({count} "
                f"case{'' if count == 1 else 's'} without a comparable verdict: "
                f"{causes or 'skipped, invalid or errored'})"
            )
        else:
            parts.append(f"{rule.rule} {rule.value:g} > {rule.threshold:g}")
    return "gate failed: " + "; ".join(parts)
