"""The trend page of an artifact directory: charts and a table drawn from the history index."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from replay.artifacts.history import KEYS, moment, ordered
from replay.report import charts

_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1f2328; }
h1 { font-size: 20px; margin: 0 0 16px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; margin-bottom: 24px; }
figure { margin: 0; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px; }
figcaption { font-weight: 600; margin-bottom: 4px; } svg text { font-size: 10px; fill: #57606a; }
.line { fill: none; stroke: #0969da; stroke-width: 2; } .point { fill: #0969da; }
.axis { stroke: #d0d7de; } .empty { color: #57606a; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: right; white-space: nowrap; }
th { background: #f6f8fa; text-align: left; } td.text { text-align: left; }
"""


_CHARTS = (
    ("Regressed cases", "regressed", "{:g}".format),
    ("Error rate", "error_rate", "{:.1%}".format),
    ("Similarity to the sent reply", "similarity_to_sent_mean", "{:.3f}".format),
    ("Cost per case (USD)", "cost_per_case", "${:.6f}".format),
)
"""Each chart: caption, entry key, and the format of its values."""


def render_html(rows: Sequence[Mapping[str, Any]], *, title: str) -> str:
    """Render runs as one self-contained HTML page: four trend charts and a table.

    The page loads nothing (inline CSS and hand-written SVG, no script, no URL), so it can be
    attached to a CI job or mailed. Every text from an artifact is escaped. A missing value is a
    gap in its chart's line, not a zero.
    """
    rows_in_order = ordered(dict(r) for r in rows)
    labels = [_time_label(r) for r in rows_in_order]
    figures = "".join(
        charts.figure(
            caption,
            charts.line(
                labels, [_number(r.get(key)) for r in rows_in_order], alt=caption, form=form
            ),
        )
        + "\n"
        for caption, key, form in _CHARTS
    )
    name = html.escape(title)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{name}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<h1>{name}</h1>\n<div class="charts">\n{figures}</div>\n'
        f"{_table(rows_in_order)}\n</body>\n</html>\n"
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _time_label(entry: Mapping[str, Any]) -> str:
    when = moment(entry)
    if when is None:
        return str(entry.get("time") or "?")[:16]
    return when.astimezone(UTC).strftime("%m-%d %H:%M")


_COLUMNS = [key for key in KEYS if key not in ("finished_at", "by_verdict")]


_FORMATS = {
    "error_rate": "{:.1%}",
    "similarity_to_sent_mean": "{:.3f}",
    "cost_usd": "{:.6f}",
    "cost_per_case": "{:.6f}",
}
"""How the table shows a number; other values are shown as they are."""


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return '<p class="empty">No runs to show.</p>'
    head = "".join(f"<th>{html.escape(key.replace('_', ' '))}</th>" for key in _COLUMNS)
    body = [
        "<tr>"
        + "".join(
            f'<td class="text">{html.escape(value)}</td>'
            if isinstance(value := row.get(key), str)
            else f"<td>{_cell(value, _FORMATS.get(key, '{}'))}</td>"
            for key in _COLUMNS
        )
        + "</tr>"
        for row in rows
    ]
    return f"<table>\n<tr>{head}</tr>\n" + "\n".join(body) + "\n</table>"


def _cell(value: Any, form: str) -> str:
    """A number cell's escaped text; a value of another type (a hand-edited index) as it is."""
    if value is None:
        return "\N{EM DASH}"
    if isinstance(value, bool):
        return "passed" if value else "failed"
    try:
        return html.escape(form.format(value))
    except (TypeError, ValueError):
        return html.escape(str(value))
