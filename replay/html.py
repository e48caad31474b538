"""One self-contained HTML file per run, to read a run's cases without a tool.

Inbound messages are written by strangers, so every piece of artifact text goes through
`html.escape`, the page embeds no JSON (the table's script reads escaped `data-` attributes), and
a Content-Security-Policy runs only this module's own script and fetches nothing. Older
artifacts lack keys: every read is a `.get`.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import html
import itertools
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import orjson

from replay.artifacts import atomic
from replay.errors import UsageError

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
_WORD = re.compile(r"\S+")

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
svg text{font-size:11px;fill:var(--muted)}
svg rect{fill:var(--grey)}.f-regressed{fill:var(--red)}.f-improved{fill:var(--green)}
.f-error{fill:var(--orange)}.f-changed,.f-selected{fill:var(--blue)}.f-invalid_case{fill:var(--purple)}
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


def _e(value: object) -> str:
    """Escape anything for text or a quoted attribute; None is empty."""
    return "" if value is None else html.escape(str(value), quote=True)


def _num(value: object, spec: str = ".3f", unit: str = "") -> str:
    """Format a number, or escape whatever an older artifact put there."""
    if isinstance(value, bool) or value is None:
        return "—" if value is None else _e(value)
    if isinstance(value, int | float):
        return f"{value:{spec}}{unit}"
    return _e(value)


def _when(value: object) -> object:
    """A UTC ISO timestamp to the second, easier to read; anything else as it is."""
    if isinstance(value, str) and value[10:11] == "T" and value.endswith(("Z", "+00:00")):
        return f"{value[:10]} {value[11:19]} UTC"
    return value


def _dl(pairs: Iterable[tuple[str, object]]) -> str:
    items = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in pairs if v != "")
    return f'<dl class="meta">{items}</dl>'


def _table(head: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """A table of already-escaped cells."""
    header = "".join(f"<th>{cell}</th>" for cell in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _records(head: list[str], items: Iterable[dict[str, Any]], keys: list[str]) -> str:
    """A table with one escaped cell per key of each item."""
    return _table(head, [[_e(item.get(key)) for key in keys] for item in items])


def _verdict_class(verdict: object) -> str:
    return str(verdict) if verdict in VERDICTS else "other"


def _words(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in _WORD.finditer(text)]


def _opcodes(a: str, b: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[Any]]:
    """Word spans of both texts and difflib's opcodes over their words."""
    spans_a, spans_b = _words(a), _words(b)
    matcher = difflib.SequenceMatcher(
        None, [a[s:e] for s, e in spans_a], [b[s:e] for s, e in spans_b], autojunk=False
    )
    return spans_a, spans_b, matcher.get_opcodes()


def _marked(text: str, ranges: list[tuple[int, int, str]]) -> str:
    """Escape `text` with character ranges wrapped in their tags (`ins`, `del`, `mark`).

    Ranges may overlap; each piece between two range edges is wrapped whole, so tags always nest.
    """
    edges: dict[int, Counter[str]] = {0: Counter(), len(text): Counter()}
    for start, end, tag in ranges:
        edges.setdefault(start, Counter())[tag] += 1
        edges.setdefault(end, Counter())[tag] -= 1
    cuts = sorted(edges)
    depth: Counter[str] = Counter()
    out = []
    for start, end in itertools.pairwise(cuts):
        depth.update(edges[start])
        piece = _e(text[start:end])
        for tag in ("mark", "ins", "del"):
            if depth[tag] > 0:
                piece = f"<{tag}>{piece}</{tag}>"
        out.append(piece)
    return "".join(out)


def _evidence(text: str, evidence: Iterable[str]) -> list[tuple[int, int, str]]:
    ranges: list[tuple[int, int, str]] = []
    for needle in {item for item in evidence if item}:
        pattern = re.compile(re.escape(needle), re.IGNORECASE)
        ranges.extend((m.start(), m.end(), "mark") for m in pattern.finditer(text))
    return ranges


def _side_by_side(original: str, new: str, evidence: Iterable[str]) -> tuple[str, str]:
    """The original with deleted words, and the new draft with inserted words and evidence."""
    spans_a, spans_b, opcodes = _opcodes(original, new)
    left: list[tuple[int, int, str]] = []
    right = _evidence(new, evidence)
    for tag, i1, i2, j1, j2 in opcodes:
        if tag in ("delete", "replace"):
            left.append((spans_a[i1][0], spans_a[i2 - 1][1], "del"))
        if tag in ("insert", "replace"):
            right.append((spans_b[j1][0], spans_b[j2 - 1][1], "ins"))
    return _marked(original, left), _marked(new, right)


def _inline(a: str, b: str) -> str:
    """`b` with the words only `a` has struck out in place and the words only `b` has marked."""
    spans_a, spans_b, opcodes = _opcodes(a, b)
    out, pos = [], 0
    for tag, i1, i2, j1, j2 in opcodes:
        if tag in ("delete", "replace"):
            gone = f"<del>{_e(a[spans_a[i1][0] : spans_a[i2 - 1][1]])}</del>"
            out.append(f"{gone} " if pos == 0 else f" {gone}")
        if j2 > j1:
            start, end = spans_b[j1][0], spans_b[j2 - 1][1]
            piece = _e(b[start:end])
            out.append(_e(b[pos:start]) + (piece if tag == "equal" else f"<ins>{piece}</ins>"))
            pos = end
    return "".join(out) + _e(b[pos:])


# --- charts ---------------------------------------------------------------------------------------


def _bars(counts: list[tuple[str, int]]) -> str:
    """Horizontal bars, one per verdict."""
    width, row = 320, 20
    top = max((n for _, n in counts), default=0) or 1
    height = row * len(counts) + 4
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img"'
        ' aria-label="cases by verdict">'
    ]
    for index, (verdict, count) in enumerate(counts):
        y = index * row + 2
        length = round((width - 140) * count / top, 1)
        parts.append(
            f'<text x="0" y="{y + 13}">{_e(verdict)}</text>'
            f'<rect class="f-{_e(_verdict_class(verdict))}" x="96" y="{y + 3}" '
            f'width="{length}" height="{row - 8}" rx="2"><title>{_e(verdict)}: {count}</title>'
            f'</rect><text x="{100 + length}" y="{y + 13}">{count}</text>'
        )
    return "".join(parts) + "</svg>"


def _histogram(values: list[float], low: float, high: float, label: str, unit: str) -> str:
    """Ten bins between `low` and `high`, with the edges and the tallest count labelled."""
    if not values:
        return '<p class="muted">no data</p>'
    bins, width, height, base = 10, 320, 120, 100
    counts = [0] * bins
    span = (high - low) or 1.0
    for value in values:
        counts[min(max(int((value - low) / span * bins), 0), bins - 1)] += 1
    top, step = max(counts), (width - 8) / bins
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img"'
        f' aria-label="{_e(label)}">',
        f'<text x="0" y="10">{top}</text>',
        f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="#d8dee4"/>',
    ]
    for index, count in enumerate(counts):
        bar = round((base - 16) * count / top, 1)
        edge = low + span * index / bins
        parts.append(
            f'<rect class="f-changed" x="{round(4 + index * step, 1)}" y="{base - bar}" '
            f'width="{round(step - 2, 1)}" height="{bar}"><title>{edge:.3g}–'
            f"{edge + span / bins:.3g}{unit}: {count}</title></rect>"
        )
    parts.append(f'<text x="0" y="{height - 4}">{low:.3g}{unit}</text>')
    parts.append(f'<text x="{width}" y="{height - 4}" text-anchor="end">{high:.3g}{unit}</text>')
    return "".join(parts) + "</svg>"


# --- the header -----------------------------------------------------------------------------------


def _verdict_counts(artifact: dict[str, Any]) -> list[tuple[str, int]]:
    """The summary's counts, or counted from the cases when there is no summary."""
    counts = (artifact.get("summary") or {}).get("by_verdict") or Counter(
        case.get("verdict") for case in artifact.get("cases") or []
    )
    rank = {verdict: index for index, verdict in enumerate(VERDICTS)}
    return sorted(counts.items(), key=lambda item: rank.get(str(item[0]), len(rank)))


def _header(artifact: dict[str, Any]) -> str:
    config = artifact.get("config") or {}
    request = config.get("request") or {}
    selection = artifact.get("selection") or config.get("selection") or {}
    summary = artifact.get("summary") or {}
    meta = _dl(
        [
            ("run id", artifact.get("run_id")),
            ("parent run", artifact.get("parent_run_id") or ""),
            ("created", _when(artifact.get("created_at"))),
            ("finished", _when(artifact.get("finished_at"))),
            ("mode", artifact.get("mode")),
            ("status", artifact.get("status")),
            ("exit code", artifact.get("exit_code")),
            ("client", selection.get("client_id")),
            ("pipeline", request.get("pipeline")),
            ("model", request.get("model") or request.get("default_model")),
            ("tool version", artifact.get("tool_version")),
            ("git sha", artifact.get("git_sha")),
        ]
    )
    counts = _verdict_counts(artifact)
    dry = artifact.get("mode") == "dry"
    keys = ("estimated_input_tokens", "estimated_output_tokens")
    tokens = [summary.get(key) for key in (keys if dry else ("prompt_tokens", "completion_tokens"))]
    cost = summary.get("estimated_cost_usd" if dry else "cost_usd")
    stats = [
        ("cases", _num(summary.get("cases", len(artifact.get("cases") or [])), "d"), "cases"),
        *((_e(v), _num(n, "d"), f"count-{_e(v)}") for v, n in counts),
        ("similarity mean", _num(summary.get("similarity_mean")), "similarity"),
        ("latency p50", _num(summary.get("latency_ms_p50"), ",.0f", " ms"), "latency-p50"),
        ("latency p95", _num(summary.get("latency_ms_p95"), ",.0f", " ms"), "latency-p95"),
        (
            "estimated tokens" if dry else "tokens",
            _num(sum(t or 0 for t in tokens), ",d"),
            "tokens",
        ),
        ("estimated cost" if dry else "cost", _money(cost), "cost"),
    ]
    strip = "".join(
        f'<div class="stat {_verdict_class(label)}"><b data-testid="{tid}">{value}</b>'
        f"<span>{label}</span></div>"
        for label, value, tid in stats
    )
    cases = artifact.get("cases") or []
    similarity = [
        float(s)
        for case in cases
        if isinstance(s := (case.get("comparison") or {}).get("similarity"), int | float)
    ]
    latency = [float(v) for case in cases if isinstance(v := case.get("latency_ms"), int | float)]
    charts = (
        f"<figure><figcaption>cases by verdict</figcaption>{_bars(counts)}</figure>"
        "<figure><figcaption>similarity to the original draft</figcaption>"
        f"{_histogram(similarity, 0.0, 1.0, 'similarity histogram', '')}</figure>"
        "<figure><figcaption>latency</figcaption>"
        f"{_histogram(latency, min(latency, default=0), max(latency, default=0), 'latency', ' ms')}"
        "</figure>"
    )
    return (
        f"<header><h1>Replay run {_e(artifact.get('run_id'))}</h1>{meta}"
        f'<div class="strip">{strip}</div>{_gate(artifact.get("gate"))}'
        f'<div class="charts">{charts}</div></header>'
    )


def _money(usd: object) -> str:
    if not isinstance(usd, int | float) or isinstance(usd, bool):
        return _num(usd)
    return f"${usd:,.2f}" if usd >= 1 else f"${usd:.4g}"


def _gate(gate: dict[str, Any] | None) -> str:
    if not gate:
        return '<div class="gate" data-testid="gate">No gate: nothing was judged.</div>'
    passed = bool(gate.get("passed"))
    failed = ", ".join(str(name) for name in gate.get("failed") or [])
    words = "passed" if passed else f"failed on {failed}" if failed else "failed"
    if not gate.get("enforced", True):
        words += " (not enforced: --no-gate)"
    rows = [
        [
            f'<span class="{"ok" if rule.get("passed") else "fail"}">{_e(rule.get("rule"))}</span>',
            _num(rule.get("threshold"), "g"),
            _num(rule.get("value"), "g"),
            "pass" if rule.get("passed") else '<span class="fail">fail</span>',
            _e(_ids(rule.get("cases") or [])),
        ]
        for rule in gate.get("rules") or []
    ]
    table = _table(["rule", "threshold", "value", "result", "cases"], rows) if rows else ""
    return (
        f'<div class="gate {"passed" if passed else "failed"}" data-testid="gate">'
        f"<b>Gate {_e(words)}</b>{table}</div>"
    )


def _ids(ids: list[Any], limit: int = 10) -> str:
    text = ", ".join(str(item) for item in ids[:limit])
    return text + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


# --- cases ----------------------------------------------------------------------------------------


def _present(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The violations found in the new draft: new ones and those the original had too."""
    invariants = case.get("invariants") or {}
    return [*(invariants.get("new") or []), *(invariants.get("pre_existing") or [])]


def _detail_indices(cases: list[dict[str, Any]]) -> set[int]:
    """Regressed cases first, then errors, then the rest in artifact order, up to the limit."""
    order = sorted(
        range(len(cases)), key=lambda i: (_DETAIL_RANK.get(str(cases[i].get("verdict")), 2), i)
    )
    return set(order[:REPORT_DETAIL_LIMIT])


def _cases(cases: list[dict[str, Any]]) -> str:
    if not cases:
        return '<h2>Cases</h2><p class="muted" data-testid="no-cases">No cases in this run.</p>'
    detailed = _detail_indices(cases)
    options = {
        "verdict": {str(c.get("verdict")) for c in cases},
        "codes": {str(v.get("code")) for c in cases for v in _present(c) if v.get("code")},
        "channel": {str((c.get("input") or {}).get("channel") or "") for c in cases} - {""},
        "change": {str((c.get("comparison") or {}).get("change_class")) for c in cases} - {"None"},
    }
    labels = {"verdict": "verdict", "codes": "check", "channel": "channel", "change": "change"}
    filters = "".join(
        f'<label>{labels[name]} <select data-filter="{name}" data-testid="filter-{name}"'
        f'{" data-multi" if name == "codes" else ""}><option value="">all</option>'
        + "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in sorted(values))
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


def _row(case: dict[str, Any], detail: bool) -> str:
    comparison = case.get("comparison") or {}
    channel = (case.get("input") or {}).get("channel") or ""
    verdict = case.get("verdict")
    change = comparison.get("change_class")
    similarity = comparison.get("similarity")
    codes = sorted({str(v.get("code")) for v in _present(case) if v.get("code")})
    new = (case.get("invariants") or {}).get("new") or []
    critical = ", ".join(str(v.get("code")) for v in new if v.get("severity") == "critical")
    label = _e(case.get("case_id")) + (
        f" · repeat {_e(case['repeat'])}" if case.get("repeat") else ""
    )
    first = (
        f'<button class="toggle" type="button" aria-expanded="false">{label}</button>'
        if detail
        else label
    )
    cells = [
        first,
        _e(channel),
        f'<span class="v {_e(_verdict_class(verdict))}">{_e(verdict)}</span>',
        _e(change),
        _num(similarity),
        f'<span class="fail">{_e(critical)}</span>' if critical else "",
        _num(case.get("latency_ms"), ",.0f", " ms"),
        _e((case.get("judge") or {}).get("verdict")),
    ]
    attrs = (
        f'data-verdict="{_e(verdict)}" data-channel="{_e(channel)}" data-change="{_e(change)}" '
        f'data-codes="{_e(" ".join(codes))}" data-similarity="'
        f'{similarity if isinstance(similarity, int | float) else ""}"'
    )
    tds = "".join(
        f'<td class="num">{cell}</td>' if index in (4, 6) else f"<td>{cell}</td>"
        for index, cell in enumerate(cells)
    )
    extra = f'<tr class="detail" hidden><td colspan="8">{_detail(case)}</td></tr>' if detail else ""
    return f'<tbody class="case" data-testid="case" {attrs}><tr>{tds}</tr>{extra}</tbody>'


def _detail(case: dict[str, Any]) -> str:
    original = case.get("original") or {}
    comparison = case.get("comparison") or {}
    reasons = "".join(f"<li>{_e(reason)}</li>" for reason in case.get("reasons") or [])
    why = [f"<ul>{reasons}</ul>" if reasons else ""]
    if case.get("regression_kind"):
        why.append(f"<p>regression kind: {_e(case['regression_kind'])}</p>")
    if error := case.get("error"):
        text = f"{error.get('error_class')}, status {error.get('status')}: {error.get('message')}"
        why.append(f'<p class="fail">error {_e(text)}</p>')
    if invalid := case.get("invalid"):
        text = f"column {invalid.get('column')}: {invalid.get('reason')}"
        why.append(f'<p class="fail">invalid case, {_e(text)}</p>')
    if case.get("skipped_reason"):
        why.append(f"<p>skipped: {_e(case['skipped_reason'])}</p>")
    return (
        "".join(why)
        + _drafts(case, original, comparison)
        + _checks(case.get("invariants") or {})
        + _thread(case)
        + _plan(case.get("plan"))
        + _judge(case.get("judge"))
        + _attempts(case.get("attempts") or [])
    )


def _drafts(case: dict[str, Any], original: dict[str, Any], comparison: dict[str, Any]) -> str:
    draft, sent = original.get("draft"), original.get("sent_reply")
    new = (case.get("outcome") or {}).get("text")
    evidence = [str(v.get("evidence") or "") for v in _present(case)]
    if isinstance(new, str) and isinstance(draft, str):
        left, middle = _side_by_side(draft, new, evidence)
    else:
        left = _e(draft) if draft is not None else '<span class="muted">no original draft</span>'
        middle = (
            _marked(new, _evidence(new, evidence))
            if isinstance(new, str)
            else f'<span class="muted">no new draft ({_e(case.get("verdict"))})</span>'
        )
    if not isinstance(sent, str):
        right = f'<span class="muted">nothing sent ({_e(original.get("disposition"))})</span>'
    else:
        right = _inline(new, sent) if isinstance(new, str) else _e(sent)
    captions = [
        f"original draft · {_e(original.get('model'))} {_e(original.get('prompt_version'))}",
        f"new draft · similarity {_num(comparison.get('similarity'))} · "
        f"{_e(comparison.get('change_class'))} · "
        f"{_num(comparison.get('length_change'), '+d')} chars",
        f"sent reply ({_e(original.get('disposition'))}) marked against the new draft · "
        f"similarity new {_num(comparison.get('sent_similarity_new'))}, "
        f"original {_num(comparison.get('sent_similarity_original'))}",
    ]
    columns = "".join(
        f'<div><h3>{caption}</h3><pre class="text" data-testid="{tid}">{body}</pre></div>'
        for caption, body, tid in zip(
            captions, (left, middle, right), ("original", "new", "sent"), strict=True
        )
    )
    return f'<div class="cols" data-testid="diff">{columns}</div>'


def _checks(invariants: dict[str, Any]) -> str:
    rows = [
        [
            _e(kind.replace("_", "-")),
            _e(v.get("code")),
            _e(v.get("severity")),
            f"<mark>{_e(v.get('evidence'))}</mark>",
            _e(v.get("detail")),
        ]
        for kind in ("new", "fixed", "pre_existing")
        for v in invariants.get(kind) or []
    ]
    if not rows:
        return ""
    return "<h3>Checks</h3>" + _table(["", "code", "severity", "evidence", "detail"], rows)


def _thread(case: dict[str, Any]) -> str:
    summary = case.get("input") or {}
    meta = _dl(
        [
            ("inbound sent", _when(summary.get("inbound_sent_at"))),
            ("job created", _when(summary.get("job_created_at"))),
            ("thread messages", summary.get("thread_messages", 0)),
            ("thread last at", _when(summary.get("thread_last_at") or "—")),
            ("tags", ", ".join(str(tag) for tag in summary.get("tags") or [])),
        ]
    )
    subject = summary.get("inbound_subject")
    inbound = (f"<p>subject: {_e(subject)}</p>" if subject else "") + (
        f'<pre class="text" data-testid="inbound">{_e(summary.get("inbound_body"))}</pre>'
    )
    context = ((case.get("judge") or {}).get("context") or {}).get("thread") or []
    messages = "".join(
        f'<h3>{_e(m.get("direction"))}</h3><pre class="text">{_e(m.get("body"))}</pre>'
        for m in context
        if isinstance(m, dict)
    )
    earlier = f"<details><summary>thread ({len(context)})</summary>{messages}</details>"
    return f"<h3>Inbound and thread, as they were then</h3>{meta}{inbound}" + (
        earlier if messages else ""
    )


def _plan(plan: dict[str, Any] | None) -> str:
    if not plan:
        return ""
    request = plan.get("request") or {}
    meta = _dl(
        [
            ("request source", plan.get("source")),
            ("model", request.get("model")),
            ("estimated input tokens", plan.get("estimated_input_tokens")),
            ("estimated output tokens", plan.get("estimated_output_tokens")),
            ("estimated cost", _money(plan.get("estimated_cost_usd"))),
            ("request hash", plan.get("request_hash")),
        ]
    )
    messages = "".join(
        f'<h3>{_e(m.get("role"))}</h3><pre class="text">'
        f"{_e(c if isinstance(c := m.get('content'), str) else orjson.dumps(c).decode())}</pre>"
        for m in request.get("messages") or []
    )
    return f"<h3>Request plan</h3>{meta}<details><summary>messages</summary>{messages}</details>"


def _judge(judge: dict[str, Any] | None) -> str:
    if not judge:
        return ""
    meta = _dl(
        [
            ("judge verdict", judge.get("verdict")),
            ("model", judge.get("model")),
            ("rubric", judge.get("rubric_version")),
        ]
    )
    rationale = (
        f'<pre class="text" data-testid="rationale">{_e(judge["rationale"])}</pre>'
        if judge.get("rationale")
        else ""
    )
    criteria = _table(
        ["criterion", "preferred"],
        [[_e(k), _e(v)] for k, v in (judge.get("criteria") or {}).items()],
    )
    orders = _records(
        ["original is", "preferred", "rationale", "problem"],
        judge.get("orders") or [],
        ["original_is", "preferred", "rationale", "problem"],
    )
    error = judge.get("error") or {}
    failed = _e(f"judge error {error.get('error_class')}: {error.get('message')}")
    return (
        f"<h3>Judge</h3>{meta}"
        + (f'<p class="fail">{failed}</p>' if error else "")
        + rationale
        + f"{criteria if judge.get('criteria') else ''}{orders if judge.get('orders') else ''}"
    )


def _attempts(attempts: list[dict[str, Any]]) -> str:
    if not attempts:
        return ""
    rows = [
        [
            _e(a.get("number")),
            _e(a.get("error_class") or "ok"),
            _e(a.get("status")),
            _e(a.get("message")),
            _num(a.get("duration_ms"), ",.0f", " ms"),
            _num(a.get("retry_after_s"), "g", " s"),
            _num(a.get("backoff_s"), ".2f", " s"),
        ]
        for a in attempts
    ]
    head = ["#", "error class", "status", "message", "duration", "retry after", "backoff"]
    return "<h3>Attempts</h3>" + _table(head, rows)


# --- run-level sections ---------------------------------------------------------------------------


def _preflight(entries: list[dict[str, Any]]) -> str:
    rows = [{**e, "ok": "ok" if e.get("ok") else "FAIL"} for e in entries]
    table = _records(["", "check", "code", "message"], rows, ["ok", "check", "code", "message"])
    return f'<h2>Preflight</h2><div data-testid="preflight">{table}</div>'


def _selection(selection: dict[str, Any] | None) -> str:
    if not selection:
        return ""
    skipped = [f"{s.get('case_id')}: {s.get('reason')}" for s in selection.get("skipped") or []]
    return "<h2>Selection</h2>" + _dl(
        [
            ("client", selection.get("client_id")),
            ("requested", selection.get("requested")),
            ("found", selection.get("found")),
            ("more available", "yes" if selection.get("more_available") else "no"),
            ("not found", _ids(selection.get("not_found") or [])),
            ("invalid", _ids(selection.get("invalid") or [])),
            ("skipped", _ids(skipped)),
        ]
    )


def _baseline(report: dict[str, Any] | None) -> str:
    if not report:
        return ""
    changes = report.get("changes") or []
    kinds = Counter(str(change.get("kind")) for change in changes)
    meta = _dl(
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
    moved = _table(
        ["case", "kind", "baseline", "run", "new checks", "gone checks"],
        [
            [
                _e(c.get("case_id")),
                _e(c.get("kind")),
                _e(c.get("old")),
                _e(c.get("new")),
                _e(", ".join(map(str, c.get("new_checks") or []))),
                _e(", ".join(map(str, c.get("gone_checks") or []))),
            ]
            for c in shown
        ],
    )
    aggregates = _table(
        ["measure", "baseline", "run", "delta"],
        [
            [
                _e(name),
                _num(v.get("baseline"), "g"),
                _num(v.get("run"), "g"),
                _num(v.get("delta"), "+g"),
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
        pairs.append(("McNemar p-value", _num(mcnemar.get("p_value"), ".4g")))
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
                f"{_num(boot.get('mean_difference'), '+.4f')} "
                f"[{_num(boot.get('low'), '+.4f')}, {_num(boot.get('high'), '+.4f')}] "
                f"at {_num(boot.get('confidence'), '.0%')}, {boot.get('resamples')} resamples",
            )
        )
    return f"<h3>Paired statistics</h3>{_dl(pairs)}<p>{_e(stats.get('conclusion'))}</p>"


def _noise(noise: dict[str, Any] | None) -> str:
    if not noise:
        return ""
    meta = _dl(
        [
            ("repeats", noise.get("repeats")),
            ("cases", noise.get("cases")),
            ("flaky rate", _num(noise.get("flaky_rate"), ".1%")),
            ("self-similarity mean", _num(noise.get("self_similarity_mean"))),
            ("change class agreement", _num(noise.get("change_class_agreement"), ".1%")),
            ("invariant agreement", _num(noise.get("invariant_agreement"), ".1%")),
            ("judge agreement", _num(noise.get("judge_agreement"), ".1%")),
            ("flaky cases", _ids(noise.get("flaky") or [], 50) or "none"),
        ]
    )
    return f'<section data-testid="noise"><h2>Noise</h2>{meta}</section>'


def render_run(artifact: dict[str, Any]) -> str:
    """The run as one HTML page that opens from disk and fetches nothing."""
    preflight = artifact.get("preflight") or []
    failed = any(not entry.get("ok") for entry in preflight)
    body = (
        _header(artifact)
        + (_preflight(preflight) if failed else "")
        + _cases(artifact.get("cases") or [])
        + _baseline(artifact.get("baseline"))
        + _noise(artifact.get("noise"))
        + _selection(artifact.get("selection"))
        + (_preflight(preflight) if preflight and not failed else "")
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(_CSP)}">'
        f"<title>replay {_e(artifact.get('run_id'))}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main><script>{_JS}</script></body></html>\n"
    )


def write_report(artifact_path: Path, out: Path | None = None) -> Path:
    """Render a run artifact into HTML beside it (same stem) or at `out`; return the path.

    Raises:
        UsageError: the artifact cannot be read, is not JSON, or is not a run artifact.
    """
    name = str(artifact_path)
    try:
        data = orjson.loads(artifact_path.read_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read artifact {name!r}: {exc.strerror}") from None
    except orjson.JSONDecodeError:
        raise UsageError(f"{name!r} is not JSON; expected a run artifact") from None
    kind = data.get("kind", "run") if isinstance(data, dict) else type(data).__name__
    if kind != "run":
        raise UsageError(f"{name!r} is not a run artifact: kind {kind!r}, expected 'run'")
    target = out if out is not None else artifact_path.with_suffix(".html")
    with atomic(target) as handle:
        handle.write(render_run(data).encode())
    return target
