"""The run-level sections of the report below its cases: baseline, noise, selection, preflight.

A section the artifact has nothing for (older artifacts lack the keys) is left out, not empty.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from replay.report.html_parts import dl, esc, ids, num, records, table


def preflight(entries: list[dict[str, Any]]) -> str:
    """Render the preflight checks, each ok or FAIL."""
    rows = [{**e, "ok": "ok" if e.get("ok") else "FAIL"} for e in entries]
    checks = records(["", "check", "code", "message"], rows, ["ok", "check", "code", "message"])
    return f'<h2>Preflight</h2><div data-testid="preflight">{checks}</div>'


def selection(selection: dict[str, Any] | None) -> str:
    """Render what was asked for and what was found, skipped or invalid."""
    if not selection:
        return ""
    skipped = [f"{s.get('case_id')}: {s.get('reason')}" for s in selection.get("skipped") or []]
    return "<h2>Selection</h2>" + dl(
        [
            ("client", selection.get("client_id")),
            ("requested", selection.get("requested")),
            ("found", selection.get("found")),
            ("more available", "yes" if selection.get("more_available") else "no"),
            ("not found", ids(selection.get("not_found") or [])),
            ("invalid", ids(selection.get("invalid") or [])),
            ("skipped", ids(skipped)),
        ]
    )


def baseline(report: dict[str, Any] | None) -> str:
    """Render the comparison with the baseline run: changed cases, aggregates, statistics."""
    if not report:
        return ""
    changes = report.get("changes") or []
    kinds = Counter(str(change.get("kind")) for change in changes)
    meta = dl(
        [
            ("baseline", report.get("baseline_run_id") or report.get("baseline")),
            ("comparable", "yes" if report.get("comparable") else "no"),
            ("differences", "; ".join(str(d) for d in report.get("differences") or []) or "none"),
            ("paired", report.get("paired")),
            ("only in baseline", len(report.get("only_in_baseline") or [])),
            ("only in run", len(report.get("only_in_run") or [])),
            ("changes", ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()) or "none"),
        ]
    )
    shown = [c for c in changes if c.get("kind") in ("regression", "infra", "recovered")][:50]
    moved = table(
        ["case", "kind", "baseline", "run", "new checks", "gone checks"],
        [
            [
                esc(c.get("case_id")),
                esc(c.get("kind")),
                esc(c.get("old")),
                esc(c.get("new")),
                esc(", ".join(map(str, c.get("new_checks") or []))),
                esc(", ".join(map(str, c.get("gone_checks") or []))),
            ]
            for c in shown
        ],
    )
    aggregates = table(
        ["measure", "baseline", "run", "delta"],
        [
            [
                esc(name),
                num(v.get("baseline"), "g"),
                num(v.get("run"), "g"),
                num(v.get("delta"), "+g"),
            ]
            for name, v in (report.get("aggregates") or {}).items()
            if isinstance(v, dict)
        ],
    )
    return (
        f'<section data-testid="baseline"><h2>Against the baseline</h2>{meta}'
        f"{moved if shown else ''}<h3>Aggregates</h3>{aggregates}"
        f"{_stats(report.get('stats'))}</section>"
    )


def _stats(stats: dict[str, Any] | None) -> str:
    if not stats:
        return ""
    mcnemar = stats.get("mcnemar") or {}
    boot = stats.get("similarity_to_sent") or {}
    pairs: list[tuple[str, object]] = [
        ("paired", stats.get("paired")),
        ("enough", stats.get("enough")),
    ]
    if mcnemar:
        pairs.append(("McNemar p-value", num(mcnemar.get("p_value"), ".4g")))
        pairs.append(
            (
                "regressed only in baseline / only in run",
                f"{mcnemar.get('only_baseline')} / {mcnemar.get('only_run')}",
            )
        )
    if boot:
        pairs.append(
            (
                f"{boot.get('measure')}: mean difference (run − baseline)",
                f"{num(boot.get('mean_difference'), '+.4f')} "
                f"[{num(boot.get('low'), '+.4f')}, {num(boot.get('high'), '+.4f')}] "
                f"at {num(boot.get('confidence'), '.0%')}, {boot.get('resamples')} resamples",
            )
        )
    return f"<h3>Paired statistics</h3>{dl(pairs)}<p>{esc(stats.get('conclusion'))}</p>"


def noise(noise: dict[str, Any] | None) -> str:
    """Render the run's own noise figures from its repeats."""
    if not noise:
        return ""
    meta = dl(
        [
            ("repeats", noise.get("repeats")),
            ("cases", noise.get("cases")),
            ("flaky rate", num(noise.get("flaky_rate"), ".1%")),
            ("self-similarity mean", num(noise.get("self_similarity_mean"))),
            ("change class agreement", num(noise.get("change_class_agreement"), ".1%")),
            ("invariant agreement", num(noise.get("invariant_agreement"), ".1%")),
            ("judge agreement", num(noise.get("judge_agreement"), ".1%")),
            ("flaky cases", ids(noise.get("flaky") or [], 50) or "none"),
        ]
    )
    return f'<section data-testid="noise"><h2>Noise</h2>{meta}</section>'
