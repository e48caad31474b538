"""Plain-text renderings of what a command did, for the terminal."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from replay.models import PreflightEntry, Selection, Summary

if TYPE_CHECKING:
    from pathlib import Path

    from replay.devtools.generator import FixtureSummary
    from replay.source import ClientRow


def run_text(
    *,
    preflight: Iterable[PreflightEntry],
    selection: Selection | None,
    summary: Summary | None,
    artifact: Path | None,
) -> str:
    """A few lines: what was selected, what it would cost, where the artifact is."""
    lines = [f"preflight {entry.check}: {entry.message}" for entry in preflight if not entry.ok]
    if selection is not None and summary is not None:
        counts = ", ".join(f"{verdict} {count}" for verdict, count in summary.by_verdict.items())
        channels = ", ".join(f"{name} {count}" for name, count in summary.by_channel.items())
        more = " (more match: raise --limit to see them)" if selection.more_available else ""
        lines.append(
            f"client {selection.client_id}: {summary.cases} of {selection.requested} requested"
            f"{more}; {counts or 'nothing selected'}" + (f" [{channels}]" if channels else "")
        )
        if selection.not_found:
            lines.append(f"not found: {', '.join(selection.not_found)}")
        if summary.prompt_tokens or summary.by_error_class or summary.by_change_class:
            lines.extend(_live_lines(summary))
        elif summary.by_request_source:
            sources = ", ".join(f"{n} {k}" for k, n in summary.by_request_source.items())
            cost = (
                f"${summary.estimated_cost_usd:.4f}"
                if summary.estimated_cost_usd is not None
                else f"unknown (no price for {', '.join(summary.unpriced_models)})"
            )
            lines.append(
                f"requests: {sources}; estimated {summary.estimated_input_tokens:,} input + "
                f"{summary.estimated_output_tokens:,} output tokens; estimated cost {cost}"
            )
    if artifact is not None:
        lines.append(f"artifact: {artifact}")
    return "\n".join(lines)


def _live_lines(summary: Summary) -> list[str]:
    changes = ", ".join(f"{name} {count}" for name, count in summary.by_change_class.items())
    errors = ", ".join(f"{name} {count}" for name, count in summary.by_error_class.items())
    cost = (
        f"${summary.cost_usd:.4f}"
        if summary.cost_usd is not None
        else f"unknown (no price for {', '.join(summary.unpriced_models)})"
    )
    latency = (
        f"latency p50 {summary.latency_ms_p50:.0f} ms, p95 {summary.latency_ms_p95:.0f} ms"
        if summary.latency_ms_p50 is not None and summary.latency_ms_p95 is not None
        else "no latency measured"
    )
    duration = f" in {summary.duration_s:.1f} s" if summary.duration_s is not None else ""
    return [
        f"changes: {changes or 'none'}; errors: {errors or 'none'}; retries {summary.retries}",
        f"tokens: {summary.prompt_tokens:,} prompt + {summary.completion_tokens:,} completion; "
        f"cost {cost}; {latency}{duration}",
    ]


def preflight_text(entries: Iterable[PreflightEntry]) -> str:
    """One line per check: ok or FAIL, the check, what it found."""
    return "\n".join(
        f"{'ok  ' if entry.ok else 'FAIL'}  {entry.check:<12} {entry.message}" for entry in entries
    )


def clients_text(rows: Sequence[ClientRow]) -> str:
    """An aligned table of client ids, names and job counts."""
    if not rows:
        return "no clients found"
    header = ("client_id", "name", "jobs", "last job")
    body = [
        (
            row.client_id,
            row.name or "",
            str(row.jobs),
            row.last_job_at.isoformat(timespec="seconds") if row.last_job_at else "",
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in (header, *body)) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (header, *body)
    )


def fixtures_text(summary: FixtureSummary) -> str:
    """The loaded fixtures: counts and the client ids to pass to --client-id."""
    lines = [
        f"loaded seed {summary.seed}: {len(summary.clients)} clients, {summary.jobs} jobs, "
        f"{summary.messages} messages, {summary.drafts} drafts"
    ]
    lines.extend(
        f"client {client.id}  {client.name}  ({client.jobs} jobs)" for client in summary.clients
    )
    return "\n".join(lines)
