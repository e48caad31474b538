"""The run-level sections of the report below its cases: baseline, noise, selection, preflight.

A section the artifact has nothing for (a run without a baseline or repeats) is left out, not
empty.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from replay.models import BaselineReport, Noise, PairedStats, PreflightEntry, Selection
from replay.report.html_parts import dl, esc, ids, num, table


def preflight(entries: Sequence[PreflightEntry]) -> str:
    """Render the preflight checks, each ok or FAIL."""
    rows = [
        [esc("ok" if e.ok else "FAIL"), esc(e.check), esc(e.code), esc(e.message)] for e in entries
    ]
    checks = table(["", "check", "code", "message"], rows)
    return f'<h2>Preflight</h2><div data-testid="preflight">{checks}</div>'


def selection(selection: Selection | None) -> str:
    """Render what was asked for and what was found, skipped or invalid."""
    if selection is None:
        return ""
    skipped = [f"{s.case_id}: {s.reason}" for s in selection.skipped]
    return "<h2>Selection</h2>" + dl(
        [
            ("client", selection.client_id),
            ("requested", selection.requested),
            ("found", selection.found),
            ("more available", "yes" if selection.more_available else "no"),
            ("not found", ids(selection.not_found)),
            ("invalid", ids(selection.invalid)),
            ("skipped", ids(skipped)),
        ]
    )


def baseline(report: BaselineReport | None) -> str:
    """Render the comparison with the baseline run: changed cases, aggregates, statistics."""
    if report is None:
        return ""
    changes = report.changes
    kinds = Counter(change.kind for change in changes)
    meta = dl(
        [
            ("baseline", report.baseline_run_id or report.baseline),
            ("comparable", "yes" if report.comparable else "no"),
            ("differences", "; ".join(report.differences) or "none"),
            ("paired", report.paired),
            ("only in baseline", len(report.only_in_baseline)),
            ("only in run", len(report.only_in_run)),
            ("changes", ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()) or "none"),
        ]
    )
    shown = [c for c in changes if c.kind in ("regression", "infra", "recovered")][:50]
    moved = table(
        ["case", "kind", "baseline", "run", "new checks", "gone checks"],
        [
            [
                esc(c.case_id),
                esc(c.kind),
                esc(c.old),
                esc(c.new),
                esc(", ".join(c.new_checks)),
                esc(", ".join(c.gone_checks)),
            ]
            for c in shown
        ],
    )
    # Each aggregate is a free-form {"baseline", "run", "delta"} row in the schema.
    aggregates = table(
        ["measure", "baseline", "run", "delta"],
        [
            [
                esc(name),
                num(v.get("baseline"), "g"),
                num(v.get("run"), "g"),
                num(v.get("delta"), "+g"),
            ]
            for name, v in report.aggregates.items()
        ],
    )
    return (
        f'<section data-testid="baseline"><h2>Against the baseline</h2>{meta}'
        f"{moved if shown else ''}<h3>Aggregates</h3>{aggregates}"
        f"{_stats(report.stats)}</section>"
    )


def _stats(stats: PairedStats | None) -> str:
    if stats is None:
        return ""
    mcnemar, boot = stats.mcnemar, stats.similarity_to_sent
    pairs: list[tuple[str, object]] = [("paired", stats.paired), ("enough", stats.enough)]
    if mcnemar is not None:
        pairs.append(("McNemar p-value", num(mcnemar.p_value, ".4g")))
        pairs.append(
            (
                "regressed only in baseline / only in run",
                f"{mcnemar.only_baseline} / {mcnemar.only_run}",
            )
        )
    if boot is not None:
        pairs.append(
            (
                f"{boot.measure}: mean difference (run − baseline)",
                f"{num(boot.mean_difference, '+.4f')} "
                f"[{num(boot.low, '+.4f')}, {num(boot.high, '+.4f')}] "
                f"at {num(boot.confidence, '.0%')}, {boot.resamples} resamples",
            )
        )
    return f"<h3>Paired statistics</h3>{dl(pairs)}<p>{esc(stats.conclusion)}</p>"


def noise(noise: Noise | None) -> str:
    """Render the run's own noise figures from its repeats."""
    if noise is None:
        return ""
    meta = dl(
        [
            ("repeats", noise.repeats),
            ("cases", noise.cases),
            ("flaky rate", num(noise.flaky_rate, ".1%")),
            ("self-similarity mean", num(noise.self_similarity_mean)),
            ("change class agreement", num(noise.change_class_agreement, ".1%")),
            ("invariant agreement", num(noise.invariant_agreement, ".1%")),
            ("judge agreement", num(noise.judge_agreement, ".1%")),
            ("flaky cases", ids(noise.flaky, 50) or "none"),
        ]
    )
    return f'<section data-testid="noise"><h2>Noise</h2>{meta}</section>'
