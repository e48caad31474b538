"""Job signals and canary decisions as terminal tables and Markdown.

A figure that was not measured reads "not measured (<reason>)", never 0 or a dash: a missing
view and a quiet system must not look alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from replay.models import CanaryDecision, CanaryRule, CohortSignals, GroupStats, SignalsReport


def measured(model: GroupStats | CohortSignals, field: str, form: Callable[[Any], str]) -> str:
    """`field` of `model` shown by `form`, or "not measured (<reason>)" when it is None."""
    value = getattr(model, field)
    if value is None:
        return f"not measured ({model.not_measured.get(field, 'no reason recorded')})"
    return form(value)


def _seconds(value: float) -> str:
    return f"{value:.2f} s"


def _percent(value: float) -> str:
    return f"{value:.1%}"


def signals_text(report: SignalsReport) -> str:
    """Per cohort, then per cohort × dispatch mode × job type: an aligned table."""
    header = (
        "cohort", "mode", "type", "jobs", "ok %", "fail %", "retry %", "timeout %",
        "dispatch p50", "p95", "max", "processing p50", "p95",
    )  # fmt: skip
    rows: list[tuple[str, ...]] = [header]
    for name, cohort in report.cohorts.items():
        rows.append(_signal_row(cohort.total, name, "all", "all"))
        rows.extend(
            _signal_row(group, name, group.dispatch_mode or "", group.job_type or "")
            for group in report.groups
            if group.cohort == name
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    table = [
        "  ".join(cell.rjust(width) if i >= 3 else cell.ljust(width) for i, (cell, width)
                  in enumerate(zip(row, widths, strict=True))).rstrip()
        for row in rows
    ]  # fmt: skip
    lines = [f"jobs enqueued {report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC"]
    lines += table if report.cohorts else ["no jobs enqueued in the range"]
    for name, cohort in report.cohorts.items():
        backlog = cohort.backlog[-1] if cohort.backlog else None
        waiting = (
            f"{backlog.pending} waiting at the end"
            + (
                f", oldest {backlog.oldest_age_s:,.0f} s"
                if backlog and backlog.oldest_age_s
                else ""
            )
            if backlog
            else "no backlog"
        )
        growing = measured(cohort, "backlog_growing_windows", lambda n: f"{n} windows")
        lines.append(
            f"{name}: duplicates {cohort.duplicate_executions} · dedupe collisions "
            f"{measured(cohort, 'dedupe_collisions', str)} · duplicate drafts "
            f"{measured(cohort, 'duplicate_drafts', str)} · enqueue failures "
            f"{_enqueues(cohort)} · dead letter {cohort.total.dead_letter} · backlog {waiting}, "
            f"growing {growing}"
        )
    lines += [f"warning: {warning.message}" for warning in report.warnings]
    return "\n".join(lines)


def _enqueues(cohort: CohortSignals) -> str:
    """Failures/attempts, or why the dispatch events could not say."""
    return measured(cohort, "enqueue_failures", lambda n: f"{n}/{cohort.enqueue_attempts}")


def _signal_row(group: GroupStats, cohort: str, mode: str, kind: str) -> tuple[str, ...]:
    figures = (
        ("success_rate", _percent), ("failure_rate", _percent), ("retry_rate", _percent),
        ("timeout_rate", _percent), ("dispatch_p50_s", _seconds), ("dispatch_p95_s", _seconds),
        ("dispatch_max_s", _seconds), ("processing_p50_s", _seconds),
        ("processing_p95_s", _seconds),
    )  # fmt: skip
    return (
        cohort, mode, kind, f"{group.jobs:,}",
        *(measured(group, field, form) for field, form in figures),
    )  # fmt: skip


def signals_markdown(report: SignalsReport, decision: CanaryDecision | None) -> str:
    """The signals (and the canary decision) as Markdown."""
    lines = [
        f"### replay signals {report.start:%Y-%m-%d %H:%M} → {report.end:%Y-%m-%d %H:%M} UTC",
        "",
    ]
    if decision is not None:
        lines += [f"**{decision.action.upper()}** — {decision.message}", ""]
        lines += [
            "| rule | result | required | value | limit | detail |",
            "|---|---|---|---|---|---|",
        ]
        for rule in decision.rules:
            lines.append(
                f"| {rule.rule} | {_result(rule, '**stop**')} | {'yes' if rule.required else 'no'}"
                f" | {_number(rule.value)} | {_number(rule.limit)} | {rule.detail} |"
            )
        lines.append("")
    lines += [f"> **warning:** {warning.message}" for warning in report.warnings]
    lines += [""] if report.warnings else []
    if not report.cohorts:
        return "\n".join([*lines, "No jobs enqueued in the range."]) + "\n"
    lines += [
        "| cohort | jobs | fail % | timeout % | dispatch p95 | duplicates | dedupe collisions "
        "| duplicate drafts | enqueue failures |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, cohort in report.cohorts.items():
        total = cohort.total
        cells = (
            name, str(total.jobs), measured(total, "failure_rate", _percent),
            measured(total, "timeout_rate", _percent),
            measured(total, "dispatch_p95_s", _seconds), str(cohort.duplicate_executions),
            measured(cohort, "dedupe_collisions", str), measured(cohort, "duplicate_drafts", str),
            _enqueues(cohort),
        )  # fmt: skip
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


def _result(rule: CanaryRule, failed: str) -> str:
    """passed, failed, or not evaluated with its reason."""
    if rule.result == "not_evaluated":
        return f"not evaluated ({rule.reason})"
    return "pass" if rule.result == "passed" else failed


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def decision_text(decision: CanaryDecision) -> str:
    """The canary decision: one line per rule, then what to do."""
    marks = {"passed": "ok  ", "failed": "STOP", "not_evaluated": "--  "}
    lines = [
        f"{marks[rule.result]}  {rule.rule:<20} "
        + (rule.detail if rule.result != "not_evaluated" else _result(rule, ""))
        + ("" if rule.required else " (not required)")
        for rule in decision.rules
    ]
    stage = f"stage {decision.stage}%: " if decision.stage else ""
    lines.append(f"{decision.action.upper()}  {stage}{decision.message}")
    return "\n".join(lines)
