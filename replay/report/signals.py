"""Job signals and canary decisions as terminal tables and Markdown."""

from __future__ import annotations

from replay.models import CanaryDecision, GroupStats, SignalsReport


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
    lines = [
        f"jobs enqueued {report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC",
        *table,
    ]
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
        lines.append(
            f"{name}: duplicates {cohort.duplicate_executions} · dedupe collisions "
            f"{cohort.dedupe_collisions} · duplicate drafts {cohort.duplicate_drafts} · enqueue "
            f"failures {cohort.enqueue_failures}/{cohort.enqueue_attempts} · dead letter "
            f"{cohort.total.dead_letter} · backlog {waiting}, growing "
            f"{cohort.backlog_growing_windows} windows"
        )
    return "\n".join(lines)


def _signal_row(group: GroupStats, cohort: str, mode: str, kind: str) -> tuple[str, ...]:
    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f} s"

    return (
        cohort, mode, kind, f"{group.jobs:,}", f"{group.success_rate:.1%}",
        f"{group.failure_rate:.1%}", f"{group.retry_rate:.1%}", f"{group.timeout_rate:.1%}",
        seconds(group.dispatch_p50_s), seconds(group.dispatch_p95_s), seconds(group.dispatch_max_s),
        seconds(group.processing_p50_s), seconds(group.processing_p95_s),
    )  # fmt: skip


def signals_markdown(report: SignalsReport, decision: CanaryDecision | None) -> str:
    """The signals (and the canary decision) as Markdown."""
    lines = [
        f"### replay signals {report.start:%Y-%m-%d %H:%M} → {report.end:%Y-%m-%d %H:%M} UTC",
        "",
    ]
    if decision is not None:
        lines += [f"**{decision.action.upper()}** — {decision.message}", ""]
        lines += ["| rule | result | value | limit | detail |", "|---|---|---|---|---|"]
        for rule in decision.rules:
            result = "pass" if rule.passed else "**stop**"
            lines.append(
                f"| {rule.rule} | {result} | {rule.value} | {rule.limit} | {rule.detail} |"
            )
        lines.append("")
    lines += [
        "| cohort | jobs | fail % | timeout % | dispatch p95 | duplicates | enqueue failures |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, cohort in report.cohorts.items():
        total = cohort.total
        p95 = "-" if total.dispatch_p95_s is None else f"{total.dispatch_p95_s:.2f} s"
        lines.append(
            f"| {name} | {total.jobs} | {total.failure_rate:.1%} | {total.timeout_rate:.1%} | "
            f"{p95} | {cohort.duplicate_executions + cohort.dedupe_collisions} | "
            f"{cohort.enqueue_failures}/{cohort.enqueue_attempts} |"
        )
    return "\n".join(lines) + "\n"


def decision_text(decision: CanaryDecision) -> str:
    """The canary decision: one line per rule, then what to do."""
    lines = [
        f"{'ok  ' if rule.passed else 'STOP'}  {rule.rule:<20} {rule.detail}"
        for rule in decision.rules
    ]
    stage = f"stage {decision.stage}%: " if decision.stage else ""
    lines.append(f"{decision.action.upper()}  {stage}{decision.message}")
    return "\n".join(lines)
