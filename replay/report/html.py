"""One self-contained HTML file per run, to read a run's cases without a tool.

Inbound messages are written by strangers, so every piece of artifact text goes through
`html.escape`, the page embeds no JSON (the table's script reads escaped `data-` attributes), and
a Content-Security-Policy runs only this module's own script and fetches nothing. The page is
drawn from a validated `RunArtifact` (`replay.artifacts.load`), so a part a run lacks is None or
empty, never of the wrong shape.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from replay.artifacts.load import load_run
from replay.artifacts.store import atomic
from replay.models import CaseResult, Gate, RunArtifact
from replay.report import charts, html_sections
from replay.report.html_case import detail, present
from replay.report.html_parts import dl, esc, ids, money, num, table, when

REPORT_DETAIL_LIMIT: Final = 500
"""Cases that get the expandable detail; the rest are table rows, so a large run stays light."""

VERDICTS: Final = (
    "regressed",
    "error",
    "invalid_case",
    "skipped",
    "improved",
    "changed",
    "unchanged",
    "selected",
)
_DETAIL_RANK: Final = {"regressed": 0, "error": 1}

_CSS: Final = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d8dee4;--soft:#f6f8fa;--red:#c62828;
--green:#2e7d32;--orange:#d9480f;--blue:#3b6fb6;--grey:#8c959f;--purple:#7b4fb0}
*{box-sizing:border-box}
body{margin:0;color:var(--fg);background:#fff;
font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1280px;margin:0 auto;padding:24px}
h1{font-size:20px;margin:0}h2{font-size:16px;margin:32px 0 8px}h3{font-size:13px;margin:14px 0 6px}
.muted,dt,th,figcaption{color:var(--muted)}
dl.meta{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:2px 16px}
dt{font-size:12px}dd{margin:0 0 4px;overflow-wrap:anywhere}
.strip{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}
.stat{border:1px solid var(--line);border-radius:6px;padding:4px 12px;background:var(--soft)}
.stat b{display:block;font-size:18px}.stat.regressed b{color:var(--red)}
.stat.improved b{color:var(--green)}.stat.error b{color:var(--orange)}
.stat span{font-size:12px;color:var(--muted)}
.gate{border-left:4px solid var(--grey);padding:4px 12px;margin:12px 0;background:var(--soft)}
.gate.passed{border-color:var(--green)}.gate.failed{border-color:var(--red)}
.charts{display:flex;flex-wrap:wrap;gap:24px}figure{margin:0}
svg text{font-size:11px;fill:var(--muted)}.axis{stroke:var(--line)}
svg rect{fill:var(--grey)}.f-regressed{fill:var(--red)}.f-improved{fill:var(--green)}
.f-error{fill:var(--orange)}.f-changed,.f-selected,.bin{fill:var(--blue)}.f-invalid_case{fill:var(--purple)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;font-weight:600}td.num,th.num{text-align:right}
.fail{color:var(--red);font-weight:600}.ok{color:var(--green)}
.v{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;background:var(--soft);
border:1px solid var(--line)}
.v.regressed{color:var(--red);border-color:var(--red)}.v.improved{color:var(--green);
border-color:var(--green)}.v.error{color:var(--orange);border-color:var(--orange)}
.filters{display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin:8px 0}
button{font:inherit;background:none;border:0;padding:0;color:var(--blue);cursor:pointer;
text-align:left;overflow-wrap:anywhere}
tr.detail>td{background:#fbfcfd;padding:8px 12px 16px}
.cols{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:12px}
.text{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--soft);margin:0;font:inherit;
border:1px solid var(--line);border-radius:6px;padding:8px;font-size:13px}
ins{background:#d7f5dd;text-decoration:none}del{background:#ffe3e0;color:#86181d}
mark{background:#ffe58f;outline:1px solid #d4a72c}
.note{background:#fff8e1;border:1px solid #f0d98c;border-radius:6px;padding:6px 12px}
"""

_JS: Final = """
(function () {
  var table = document.getElementById("cases");
  if (!table) { return; }
  var bodies = Array.prototype.slice.call(table.tBodies);
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var shown = document.getElementById("shown");
  function apply() {
    var count = 0;
    bodies.forEach(function (body) {
      var visible = selects.every(function (select) {
        var want = select.value;
        var have = body.getAttribute("data-" + select.getAttribute("data-filter")) || "";
        if (!want) { return true; }
        var multi = select.hasAttribute("data-multi");
        return multi ? have.split(" ").indexOf(want) >= 0 : have === want;
      });
      body.hidden = !visible;
      if (visible) { count += 1; }
    });
    shown.textContent = count + " of " + bodies.length + " cases shown";
  }
  selects.forEach(function (select) { select.addEventListener("change", apply); });
  var sorter = document.getElementById("sort-similarity");
  var direction = 0;
  sorter.addEventListener("click", function () {
    direction = direction === 1 ? -1 : 1;
    function key(body) { return parseFloat(body.getAttribute("data-similarity")); }
    var ordered = bodies.slice().sort(function (a, b) {
      var x = key(a), y = key(b);
      if (isNaN(x) || isNaN(y)) { return (isNaN(x) ? 1 : 0) - (isNaN(y) ? 1 : 0); }
      return (x - y) * direction;
    });
    ordered.forEach(function (body) { table.appendChild(body); });
    sorter.parentNode.setAttribute("aria-sort", direction === 1 ? "ascending" : "descending");
  });
  table.addEventListener("click", function (event) {
    var button = event.target.closest("button.toggle");
    if (!button) { return; }
    var row = button.closest("tbody").querySelector("tr.detail");
    row.hidden = !row.hidden;
    button.setAttribute("aria-expanded", String(!row.hidden));
  });
  apply();
})();
"""


def _hash(source: str) -> str:
    return base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()


# Only this module's script runs (an injected handler would not), and nothing is fetched.
_CSP: Final = (
    f"default-src 'none'; style-src 'sha256-{_hash(_CSS)}'; script-src 'sha256-{_hash(_JS)}'"
)


_FIGURES = {
    "similarity": "similarity_mean",
    "latency-p50": "latency_ms_p50",
    "latency-p95": "latency_ms_p95",
    "tokens": "prompt_tokens",
    "cost": "cost_usd",
}
"""A stat's test id → the summary figure whose reason it shows."""


def _unmeasured(why: dict[str, str], tid: str, dry: bool) -> str:
    """A figure left None: `not measured`, with the reason on hover; never a zero."""
    figure = "estimated_cost_usd" if dry and tid == "cost" else _FIGURES.get(tid, tid)
    reason = why.get(figure, "no data")
    return f'<abbr title="{esc(reason)}">not measured</abbr> <small>({esc(reason)})</small>'


def _verdict_class(verdict: object) -> str:
    return str(verdict) if verdict in VERDICTS else "other"


# --- the header -----------------------------------------------------------------------------------


def _verdict_counts(artifact: RunArtifact) -> list[tuple[str, int]]:
    """The summary's counts, or counted from the cases when there is no summary."""
    summary = artifact.summary
    counts = (summary.by_verdict if summary is not None else None) or Counter(
        case.verdict for case in artifact.cases
    )
    rank = {verdict: index for index, verdict in enumerate(VERDICTS)}
    return sorted(counts.items(), key=lambda item: rank.get(str(item[0]), len(rank)))


def _section(config: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A section of the run's free-form `config` (a dict in the schema), or empty."""
    value = config.get(key)
    return value if isinstance(value, Mapping) else {}


def _header(artifact: RunArtifact) -> str:
    request = _section(artifact.config, "request")
    client = (
        artifact.selection.client_id
        if artifact.selection is not None
        else _section(artifact.config, "selection").get("client_id")
    )
    summary = artifact.summary
    meta = dl(
        [
            ("run id", artifact.run_id),
            ("parent run", artifact.parent_run_id or ""),
            ("created", when(artifact.created_at)),
            ("finished", when(artifact.finished_at)),
            ("mode", artifact.mode),
            ("status", artifact.status),
            ("exit code", artifact.exit_code),
            ("client", client),
            ("pipeline", request.get("pipeline")),
            ("model", request.get("model") or request.get("default_model")),
            ("tool version", artifact.tool_version),
            ("git sha", artifact.git_sha),
        ]
    )
    counts = _verdict_counts(artifact)
    dry = artifact.mode == "dry"
    tokens: int | None
    if summary is None:
        tokens, cost = None, None
    elif dry:
        tokens = summary.estimated_input_tokens + summary.estimated_output_tokens
        cost = summary.estimated_cost_usd
    elif summary.prompt_tokens is None or summary.completion_tokens is None:
        tokens, cost = None, summary.cost_usd
    else:
        tokens, cost = summary.prompt_tokens + summary.completion_tokens, summary.cost_usd
    why = summary.not_measured if summary is not None else {}
    live_only = [
        ("similarity mean", num(summary.similarity_mean if summary else None), "similarity"),
        (
            "latency p50",
            num(summary.latency_ms_p50 if summary else None, ",.0f", " ms"),
            "latency-p50",
        ),
        (
            "latency p95",
            num(summary.latency_ms_p95 if summary else None, ",.0f", " ms"),
            "latency-p95",
        ),
    ]
    stats = [
        ("cases", num(summary.cases if summary else len(artifact.cases), "d"), "cases"),
        *((esc(v), num(n, "d"), f"count-{esc(v)}") for v, n in counts),
        *([] if dry else live_only),
        ("estimated tokens" if dry else "tokens", num(tokens, ",d"), "tokens"),
        ("estimated cost" if dry else "cost", money(cost), "cost"),
    ]
    strip = "".join(
        f'<div class="stat {_verdict_class(label)}"><b data-testid="{tid}">'
        f"{_unmeasured(why, tid, dry) if value == '—' else value}</b>"
        f"<span>{label}</span></div>"
        for label, value, tid in stats
    )
    cases = artifact.cases
    similarity = [case.comparison.similarity for case in cases if case.comparison is not None]
    # A cache hit's latency is a disk read: the chart, like the summary, shows model answers.
    latency = [c.latency_ms for c in cases if c.latency_ms is not None and c.cache != "hit"]
    bars = [charts.Bar("" if v is None else str(v), n, f"f-{_verdict_class(v)}") for v, n in counts]
    low, high = min(latency, default=0), max(latency, default=0)
    figures = (
        charts.figure("cases by verdict", charts.bars(bars, alt="cases by verdict"))
        + charts.figure(
            "similarity to the original draft",
            charts.histogram(similarity, 0.0, 1.0, alt="similarity histogram"),
        )
        + charts.figure("latency", charts.histogram(latency, low, high, alt="latency", unit=" ms"))
    )
    return (
        f"<header><h1>Replay run {esc(artifact.run_id)}</h1>{meta}"
        f'<div class="strip">{strip}</div>{_gate(artifact.gate)}'
        f'<div class="charts">{figures}</div></header>'
    )


def _gate(gate: Gate | None) -> str:
    if gate is None:
        return '<div class="gate" data-testid="gate">No gate: nothing was judged.</div>'
    failed = ", ".join(gate.failed)
    words = "passed" if gate.passed else f"failed on {failed}" if failed else "failed"
    if not gate.enforced:
        words += " (not enforced: --no-gate)"
    rows = [
        [
            f'<span class="{"ok" if rule.passed else "fail"}">{esc(rule.rule)}</span>',
            num(rule.threshold, "g"),
            num(rule.value, "g"),
            "pass" if rule.passed else '<span class="fail">fail</span>',
            esc(ids(rule.cases)),
        ]
        for rule in gate.rules
    ]
    rules = table(["rule", "threshold", "value", "result", "cases"], rows) if rows else ""
    return (
        f'<div class="gate {"passed" if gate.passed else "failed"}" data-testid="gate">'
        f"<b>Gate {esc(words)}</b>{rules}</div>"
    )


# --- cases ----------------------------------------------------------------------------------------


def _detail_indices(cases: Sequence[CaseResult]) -> set[int]:
    """Regressed cases first, then errors, then the rest in artifact order, up to the limit."""
    order = sorted(range(len(cases)), key=lambda i: (_DETAIL_RANK.get(cases[i].verdict, 2), i))
    return set(order[:REPORT_DETAIL_LIMIT])


def _cases(cases: Sequence[CaseResult]) -> str:
    if not cases:
        return '<h2>Cases</h2><p class="muted" data-testid="no-cases">No cases in this run.</p>'
    detailed = _detail_indices(cases)
    options: dict[str, set[str]] = {
        "verdict": {c.verdict for c in cases},
        "codes": {v.code for c in cases for v in present(c) if v.code},
        "channel": {c.input.channel for c in cases if c.input.channel},
        "change": {c.comparison.change_class for c in cases if c.comparison is not None},
    }
    labels = {"verdict": "verdict", "codes": "check", "channel": "channel", "change": "change"}
    filters = "".join(
        f'<label>{labels[name]} <select data-filter="{name}" data-testid="filter-{name}"'
        f'{" data-multi" if name == "codes" else ""}><option value="">all</option>'
        + "".join(f'<option value="{esc(v)}">{esc(v)}</option>' for v in sorted(values))
        + "</select></label>"
        for name, values in options.items()
    )
    left = len(cases) - len(detailed)
    note = (
        f'<p class="note" data-testid="detail-note">{left} of {len(cases)} cases are table rows '
        f"only, without detail: the report details at most {REPORT_DETAIL_LIMIT} cases, regressed "
        "first, then errors, then the rest in artifact order.</p>"
        if left
        else ""
    )
    head = (
        "<thead><tr><th>case</th><th>channel</th><th>verdict</th><th>change</th>"
        '<th class="num" aria-sort="none"><button id="sort-similarity" type="button">'
        'similarity ↕</button></th><th>new critical</th><th class="num">latency</th>'
        "<th>judge</th></tr></thead>"
    )
    rows = "".join(_row(case, i in detailed) for i, case in enumerate(cases))
    return (
        f'<h2 id="cases-title">Cases</h2>{note}<div class="filters">{filters}'
        f'<span class="muted" id="shown" data-testid="shown"></span></div>'
        f'<table id="cases">{head}{rows}</table>'
    )


def _row(case: CaseResult, detailed: bool) -> str:
    comparison = case.comparison
    channel = case.input.channel or ""
    verdict = case.verdict
    change = comparison.change_class if comparison is not None else None
    similarity = comparison.similarity if comparison is not None else None
    codes = sorted({v.code for v in present(case) if v.code})
    new = case.invariants.new if case.invariants is not None else []
    critical = ", ".join(v.code for v in new if v.severity == "critical")
    label = esc(case.case_id) + (f" · repeat {esc(case.repeat)}" if case.repeat else "")
    first = (
        f'<button class="toggle" type="button" aria-expanded="false">{label}</button>'
        if detailed
        else label
    )
    cells = [
        first,
        esc(channel),
        f'<span class="v {esc(_verdict_class(verdict))}">{esc(verdict)}</span>',
        esc(change),
        num(similarity),
        f'<span class="fail">{esc(critical)}</span>' if critical else "",
        num(case.latency_ms, ",.0f", " ms"),
        esc(case.judge.verdict if case.judge is not None else None),
    ]
    attrs = (
        f'data-verdict="{esc(verdict)}" data-channel="{esc(channel)}" data-change="{esc(change)}" '
        f'data-codes="{esc(" ".join(codes))}" data-similarity="'
        f'{"" if similarity is None else similarity}"'
    )
    tds = "".join(
        f'<td class="num">{cell}</td>' if index in (4, 6) else f"<td>{cell}</td>"
        for index, cell in enumerate(cells)
    )
    extra = (
        f'<tr class="detail" hidden><td colspan="8">{detail(case)}</td></tr>' if detailed else ""
    )
    return f'<tbody class="case" data-testid="case" {attrs}><tr>{tds}</tr>{extra}</tbody>'


def render_run(artifact: RunArtifact) -> str:
    """The run as one HTML page that opens from disk and fetches nothing."""
    preflight = artifact.preflight
    failed = any(not entry.ok for entry in preflight)
    body = (
        _header(artifact)
        + (html_sections.preflight(preflight) if failed else "")
        + _cases(artifact.cases)
        + html_sections.baseline(artifact.baseline)
        + html_sections.noise(artifact.noise)
        + html_sections.selection(artifact.selection)
        + (html_sections.preflight(preflight) if preflight and not failed else "")
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(_CSP)}">'
        f"<title>replay {esc(artifact.run_id)}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main><script>{_JS}</script></body></html>\n"
    )


def write_report(artifact_path: Path, out: Path | None = None) -> Path:
    """Render a run artifact into HTML beside it (same stem) or at `out`; return the path.

    Raises:
        UsageError: the artifact cannot be read, is not a run artifact, has a malformed field or
            an unknown schema version (`replay.artifacts.load`).
    """
    page = render_run(load_run(artifact_path, role=""))
    target = out if out is not None else artifact_path.with_suffix(".html")
    with atomic(target) as handle:
        handle.write(page.encode())
    return target
