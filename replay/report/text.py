"""Plain-text renderings of what a command did, for the terminal."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from replay.models import (
    AttributionSummary,
    BaselineReport,
    Gate,
    GateRule,
    Noise,
    PreflightEntry,
    Selection,
    Summary,
)

if TYPE_CHECKING:
    from pathlib import Path

    from replay.devtools.generator import FixtureSummary
    from replay.source.selection import ClientRow


def run_text(
    *,
    preflight: Iterable[PreflightEntry],
    selection: Selection | None,
    summary: Summary | None,
    artifact: Path | None,
    dry: bool = False,
) -> str:
    """A few lines: what was selected, what it would cost, where the artifact is."""
    lines = [f"preflight {entry.check}: {entry.message}" for entry in preflight if not entry.ok]
    if selection is not None and summary is not None:
        counts = ", ".join(f"{verdict} {count}" for verdict, count in summary.by_verdict.items())
        channels = ", ".join(f"{name} {count}" for name, count in summary.by_channel.items())
        more = " (more match: raise --limit to see them)" if selection.more_available else ""
        done = f"{summary.cases} of {selection.requested} requested"
        if summary.cases > selection.found:  # --repeats: results, not cases
            done = f"{selection.found} of {selection.requested} requested, {summary.cases} results"
        lines.append(
            f"client {selection.client_id}: {done}"
            f"{more}; {counts or _nothing(selection)}" + (f" [{channels}]" if channels else "")
        )
        if selection.not_found:
            lines.append(f"not found: {', '.join(selection.not_found)}")
        if dry and summary.by_request_source:
            sources = ", ".join(f"{n} {k}" for k, n in summary.by_request_source.items())
            cost = (
                f"${summary.estimated_cost_usd:.4f}"
                if summary.estimated_cost_usd is not None
                else f"unknown ({summary.not_measured.get('estimated_cost_usd', 'no price')})"
            )
            lines.append(
                f"requests: {sources}; estimated {summary.estimated_input_tokens:,} input + "
                f"{summary.estimated_output_tokens:,} output tokens; estimated cost {cost}"
                + (" (both arms)" if summary.attribution is not None else "")
            )
    if artifact is not None:
        lines.append(f"artifact: {artifact}")
    return "\n".join(lines)


def _nothing(selection: Selection) -> str:
    """Why a run has no result: nothing matched, or it stopped before a case finished."""
    return "nothing selected" if selection.found == 0 else "no case finished"


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


def _counts(counts: dict[str, int]) -> str:
    return " · ".join(f"{name} {count}" for name, count in counts.items()) or "none"


_JUDGE_LABELS = {
    "original": "prefers original",
    "new": "prefers new",
    "tie": "tie",
    "unscored": "unscored",
    "error": "judge error",
}


def noise_text(noise: Noise) -> str:
    """The run's own noise, from `--repeats`."""
    similarity = (
        f"{noise.self_similarity_mean:.2f}" if noise.self_similarity_mean is not None else "n/a"
    )
    line = (
        f"noise     {noise.repeats} repeats of {noise.cases} cases · self-similarity {similarity}"
        f" · flaky {len(noise.flaky)} ({noise.flaky_rate:.0%})"
    )
    if noise.flaky:
        shown = ", ".join(noise.flaky[:5]) + (" …" if len(noise.flaky) > 5 else "")
        line += (
            f"\n  flaky (repeats disagree; one fails the gate only when most of its repeats "
            f"regressed): {shown}"
        )
    return line


def summary_lines(summary: Summary, gate: Gate | None) -> list[tuple[str, str]]:
    """The summary of a live run as (label, text) rows, shared by the terminal and Markdown."""
    rows = [
        ("verdicts", _counts(summary.by_verdict)),
        ("changes", _counts(summary.by_change_class)),
    ]
    if summary.attribution is not None:
        rows += attribution_lines(summary.attribution)
    checks = [
        f"{code} " + " ".join(f"{kind.replace('_', '-')} {n}" for kind, n in counts.items() if n)
        for code, counts in summary.by_invariant.items()
    ]
    rows.append(("checks", " · ".join(checks) or "no violation"))
    rows.append(("errors", _counts(summary.by_error_class)))
    if summary.by_judge:
        judge_cost = (
            f" · ${summary.judge_cost_usd:.4f}" if summary.judge_cost_usd is not None else ""
        )
        rows.append(
            (
                "judge",
                " · ".join(
                    f"{_JUDGE_LABELS.get(verdict, verdict)} {n}"
                    for verdict, n in summary.by_judge.items()
                )
                + judge_cost,
            )
        )
    why = summary.not_measured
    if summary.similarity_mean is not None:
        rows.append(
            (
                "similarity",
                f"mean {summary.similarity_mean:.2f} · p10 {summary.similarity_p10:.2f} · "
                f"p50 {summary.similarity_p50:.2f} (new draft vs "
                f"{'control' if summary.attribution else 'original'})",
            )
        )
    else:
        rows.append(("similarity", _unmeasured(why, "similarity_mean")))
    if summary.sent_pairs:
        rows.append(
            (
                "sent reply",
                f"new {summary.sent_similarity_new_mean:.2f} vs "
                f"{'control' if summary.attribution else 'original'} "
                f"{summary.sent_similarity_original_mean:.2f} over {summary.sent_pairs} cases · "
                f"closer {summary.closer_to_sent} · further {summary.further_from_sent}",
            )
        )
    else:
        rows.append(("sent reply", _unmeasured(why, "sent_similarity_new_mean")))
    if summary.latency_ms_p50 is not None:
        hits = summary.cache_hits or 0
        rows.append(
            (
                "latency",
                f"p50 {summary.latency_ms_p50:,.0f} ms · p95 {summary.latency_ms_p95 or 0:,.0f} ms"
                f" · max {summary.latency_ms_max or 0:,.0f} ms"
                + (f" (model answers only; {hits} from the cache left out)" if hits else ""),
            )
        )
    else:
        rows.append(("latency", _unmeasured(why, "latency_ms_p50")))
    if summary.prompt_tokens is not None and summary.completion_tokens is not None:
        tokens = f"{summary.prompt_tokens:,} prompt + {summary.completion_tokens:,} completion"
    else:
        tokens = _unmeasured(why, "prompt_tokens")
    cost = (
        f"${summary.cost_usd:.4f}"
        if summary.cost_usd is not None
        else "cost " + _unmeasured(why, "cost_usd")
    )
    rows.append(("tokens", f"{tokens} · {cost} · retries {summary.retries}"))
    if summary.cache_hits is not None:
        rows.append(("cache", cache_text(summary)))
    if gate is not None:
        rows.append(("gate", gate_text(gate)))
    return rows


_DRIFT_REGRESSIONS = {
    "change": "by the change",
    "hidden_by_drift": "by the change, hidden by drift",
}


def attribution_lines(found: AttributionSummary) -> list[tuple[str, str]]:
    """What a control arm tells apart: drift, the change, and the regressions of each."""
    rows = [
        (
            "control",
            " · ".join(f"{kind} {n}" for kind, n in found.by_attribution.items())
            + " (verdicts are the new draft against the control's)"
            if found.by_attribution
            else "no case had both drafts",
        )
    ]
    regressions = [
        f"{_DRIFT_REGRESSIONS[kind]} {n}"
        for kind, n in found.regressions.items()
        if kind in _DRIFT_REGRESSIONS
    ]
    drift = found.regressions.get("drift", 0)
    if drift:
        regressions.append(
            f"drift alone explains {drift} against the original (the control regressed too; "
            "not gated)"
        )
    rows.append(("regressions", " · ".join(regressions) or "none"))
    missing = []
    if found.without_control:
        missing.append(
            f"{found.without_control} case(s) without a control draft (decided "
            "against the original)"
        )
    if found.control_errors:
        missing.append("control errors " + _counts(found.control_errors))
    if missing:
        rows.append(("control arm", " · ".join(missing)))
    if found.stats is not None:
        rows.append(("vs control", found.stats.conclusion))
    return rows


def cache_text(summary: Summary) -> str:
    """`18 hits, 2 misses, saved $0.0123`: what the response cache did, and what it saved."""
    hits, misses = summary.cache_hits or 0, summary.cache_misses or 0
    saved = (
        f"saved ${summary.cache_saved_usd:.4f}"
        if summary.cache_saved_usd is not None
        else "saved " + _unmeasured(summary.not_measured, "cache_saved_usd")
    )
    return (
        f"{hits} hit{'' if hits == 1 else 's'}, {misses} miss{'' if misses == 1 else 'es'}, {saved}"
    )


def _unmeasured(why: Mapping[str, str], key: str) -> str:
    """`not measured (reason)`: a figure left None is never shown as zero."""
    return f"not measured ({why.get(key, 'no data')})"


def gate_text(gate: Gate) -> str:
    """PASSED or FAILED, then each rule with its value and threshold."""
    verdict = "PASSED" if gate.passed else "FAILED"
    if not gate.enforced:
        verdict += " (--no-gate)"
    rules = " · ".join(
        f"{rule.rule} {rule.value:g} {_relation(rule)} {rule.threshold:g}" for rule in gate.rules
    )
    return f"{verdict}: {rules}"


def _relation(rule: GateRule) -> str:
    """How a rule's value stands to its threshold: a floor (`min_…`) or a ceiling."""
    if rule.rule.startswith("min_"):
        return "≥" if rule.passed else "<"
    return "≤" if rule.passed else ">"


def summary_text(summary: Summary, gate: Gate | None) -> str:
    """The summary as an aligned terminal table."""
    rows = summary_lines(summary, gate)
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label.ljust(width)}  {text}" for label, text in rows)


def summary_markdown(
    *, run_id: str, client_id: str, mode: str, summary: Summary, gate: Gate | None
) -> str:
    """The summary as Markdown, for a CI job summary or a pull-request comment."""
    status = "" if gate is None else (" ✅ gate passed" if gate.passed else " ❌ gate failed")
    lines = [
        f"### replay `{run_id}`{status}",
        "",
        f"client `{client_id}` · {mode} run · {summary.cases} cases",
        "",
        "| | |",
        "|---|---|",
    ]
    lines.extend(f"| {label} | {text} |" for label, text in summary_lines(summary, None))
    if gate is not None:
        lines += ["", "| rule | value | threshold | result | cases |", "|---|---|---|---|---|"]
        for rule in gate.rules:
            cases = ", ".join(f"`{case}`" for case in rule.cases[:10])
            if len(rule.cases) > 10:
                cases += f" and {len(rule.cases) - 10} more"
            result = "pass" if rule.passed else "**fail**"
            lines.append(
                f"| {rule.rule} | {rule.value:g} | {rule.threshold:g} | {result} | {cases} |"
            )
    return "\n".join(lines) + "\n"


def baseline_text(report: BaselineReport) -> str:
    """What changed against the baseline, in a few lines."""
    lines = [f"baseline  {report.baseline} ({report.paired} paired cases)"]
    if report.differences:
        lines.append("  not the same set-up: " + "; ".join(report.differences))
    if report.only_in_baseline or report.only_in_run:
        lines.append(
            f"  only in the baseline: {len(report.only_in_baseline)}; "
            f"only in this run: {len(report.only_in_run)}"
        )
    kinds: dict[str, list[str]] = {}
    for change in report.changes:
        kinds.setdefault(change.kind, []).append(f"{change.case_id} ({change.old} → {change.new})")
    labels = {
        "regression": "newly regressed",
        "infra": "passed before, error now",
        "recovered": "recovered",
        "moved": "other verdict changes",
        "same": "checks moved, verdict kept",
    }
    for kind, label in labels.items():
        if kind in kinds:
            shown = ", ".join(kinds[kind][:5]) + (" …" if len(kinds[kind]) > 5 else "")
            lines.append(f"  {label} ({len(kinds[kind])}): {shown}")
    similarity = report.aggregates.get("similarity_mean", {})
    if similarity.get("delta") is not None:
        lines.append(
            f"  mean similarity {similarity['baseline']:.2f} → {similarity['run']:.2f} "
            f"({similarity['delta']:+.2f})"
        )
    if report.stats is not None:
        lines.append(f"  statistics: {report.stats.conclusion}")
    return "\n".join(lines)


def baseline_markdown(report: BaselineReport, gate: Gate) -> str:
    """The comparison as Markdown."""
    status = "✅ gate passed" if gate.passed else "❌ gate failed"
    lines = [
        f"### replay compare {status}",
        "",
        f"`{report.baseline}` → `{report.run}` · {report.paired} paired cases",
        "",
    ]
    if report.differences:
        lines += ["**Not the same set-up:** " + "; ".join(report.differences), ""]
    lines += ["| case | baseline | run | kind |", "|---|---|---|---|"]
    lines += [f"| `{c.case_id}` | {c.old} | {c.new} | {c.kind} |" for c in report.changes[:50]]
    if report.stats is not None:
        lines += ["", f"**Statistics:** {report.stats.conclusion}"]
    lines += ["", "| measure | baseline | run | delta |", "|---|---|---|---|"]
    for name, row in report.aggregates.items():
        lines.append(f"| {name} | {row['baseline']} | {row['run']} | {row['delta']} |")
    return "\n".join(lines) + "\n"


def history_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """The trend of live runs as an aligned table, oldest first."""
    if not rows:
        return "no live runs in the history yet"
    header = (
        "time",
        "client",
        "pipeline",
        "model",
        "cases",
        "regressed",
        "errors",
        "sent sim",
        "$/case",
        "gate",
    )
    table = [header]
    for row in rows:
        gate = row.get("gate_passed")
        table.append(
            (
                str(row.get("time") or "")[:19].replace("T", " "),
                str(row.get("client_id") or ""),
                str(row.get("pipeline") or "—"),
                str(row.get("model") or "—"),  # a model the run's head does not name
                str(row.get("cases") or 0),
                _cell(row.get("regressed"), "d"),
                _cell(row.get("error_rate"), ".1%"),
                _cell(row.get("similarity_to_sent_mean"), ".2f"),
                _cell(row.get("cost_per_case"), ".4f"),
                "—" if gate is None else ("pass" if gate else "FAIL"),
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in table
    )


def _cell(value: Any, form: str) -> str:
    return "—" if not isinstance(value, int | float) else format(value, form)
