"""Inline-SVG charts for the pages that load nothing: the run report and the trend page.

A chart is markup, not a script, so a page can be opened from disk or mailed. Every text in it
goes through `html.escape`: names and labels come from artifacts, and so from strangers. Charts
choose no colours: their parts carry classes for the page's CSS to style (`axis`, `line`,
`point`, `bin`, and each bar's own class).
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Final, NamedTuple

_LABELS: Final = 4
"""At most this many labels under a line chart, so they never overlap."""

# A line chart's size and the margins around its plot (room for value and time labels), in px.
_WIDTH, _HEIGHT = 400, 170
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 34, 14, 40


class Bar(NamedTuple):
    """One bar of a bar chart."""

    name: str
    """What is counted, written left of the bar."""
    value: int
    """The count, written after the bar; it sets the bar's length, relative to the longest."""
    css_class: str
    """The class that colours the bar."""


def figure(caption: str, chart: str) -> str:
    """Return `chart` in a figure under its caption."""
    return f"<figure><figcaption>{_e(caption)}</figcaption>{chart}</figure>"


def bars(rows: Sequence[Bar], *, alt: str) -> str:
    """Draw one horizontal bar a row, each with its name and count, scaled to the longest."""
    width, row = 320, 20
    top = max((bar.value for bar in rows), default=0) or 1
    parts = []
    for index, bar in enumerate(rows):
        y = index * row + 2
        length = round((width - 140) * bar.value / top, 1)
        parts.append(
            _text(0, y + 13, bar.name)
            + f'<rect class="{_e(bar.css_class)}" x="96" y="{y + 3}" width="{length}" '
            f'height="{row - 8}" rx="2"><title>{_e(f"{bar.name}: {bar.value}")}</title></rect>'
            + _text(100 + length, y + 13, str(bar.value))
        )
    return _svg(width, row * len(rows) + 4, alt, parts)


def histogram(values: Sequence[float], low: float, high: float, *, alt: str, unit: str = "") -> str:
    """Draw ten bins between `low` and `high`, with the edges and the tallest count labelled.

    Without values it is a "no data" paragraph: an empty histogram would look like zeros.
    """
    if not values:
        return '<p class="muted">no data</p>'
    bins, width, height, base = 10, 320, 120, 100
    counts = [0] * bins
    span = (high - low) or 1.0
    for value in values:
        counts[min(max(int((value - low) / span * bins), 0), bins - 1)] += 1
    top, step = max(counts), (width - 8) / bins
    parts = [_text(0, 10, str(top)), _axis(0, base, width, base)]
    for index, count in enumerate(counts):
        bar = round((base - 16) * count / top, 1)
        edge = low + span * index / bins
        tip = f"{edge:.3g}–{edge + span / bins:.3g}{unit}: {count}"
        parts.append(
            f'<rect class="bin" x="{round(4 + index * step, 1)}" y="{base - bar}" '
            f'width="{round(step - 2, 1)}" height="{bar}"><title>{_e(tip)}</title></rect>'
        )
    parts.append(_text(0, height - 4, f"{low:.3g}{unit}"))
    parts.append(_text(width, height - 4, f"{high:.3g}{unit}", "end"))
    return _svg(width, height, alt, parts)


def line(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    alt: str,
    form: Callable[[float], str],
) -> str:
    """Draw `values` in order as points joined by a line, the y axis from 0 (or below) up.

    A None value is a gap in the line, not a zero. Each point's tooltip is its label and value;
    at most four labels, first and last among them, stand under the axis. `form` writes a value;
    `alt` names the chart for screen readers.
    """
    plot_w = _WIDTH - _LEFT - _RIGHT
    plot_h = _HEIGHT - _TOP - _BOTTOM
    known = [v for v in values if v is not None]
    low = min([0.0, *known])
    high = max([0.0, *known])
    if high == low:
        high = low + 1.0

    def x(i: int) -> float:
        return _LEFT + (plot_w / 2 if len(values) == 1 else plot_w * i / (len(values) - 1))

    def y(v: float) -> float:
        return _TOP + plot_h * (high - v) / (high - low)

    bottom = _TOP + plot_h
    parts = [
        _axis(_LEFT, bottom, _LEFT + plot_w, bottom),
        _axis(_LEFT, _TOP, _LEFT, bottom),
        _text(_LEFT - 4, _TOP + 4, form(high), "end"),
        _text(_LEFT - 4, bottom, form(low), "end"),
    ]
    if not known:
        parts.append(_text(_LEFT + plot_w / 2, _TOP + plot_h / 2, "no values", "middle"))
    for present, group in itertools.groupby(enumerate(values), key=lambda p: p[1] is not None):
        segment = [(i, v) for i, v in group if v is not None]
        if present and len(segment) > 1:
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in segment)
            parts.append(f'<polyline class="line" points="{points}"/>')
    parts.extend(
        f'<circle class="point" cx="{x(i):.1f}" cy="{y(v):.1f}" r="3">'
        f"<title>{_e(f'{labels[i]}: {form(v)}')}</title></circle>"
        for i, v in enumerate(values)
        if v is not None
    )
    parts.extend(_text(x(i), bottom + 16, labels[i], "middle") for i in _spread(len(values)))
    return _svg(_WIDTH, _HEIGHT, alt, parts)


def _spread(count: int) -> list[int]:
    """Evenly spread indices of the points that get a label, first and last included."""
    if count <= _LABELS:
        return list(range(count))
    return sorted({round(k * (count - 1) / (_LABELS - 1)) for k in range(_LABELS)})


def _svg(width: int, height: int, alt: str, parts: Iterable[str]) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img"'
        f' aria-label="{_e(alt)}">{"".join(parts)}</svg>'
    )


def _axis(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line class="axis" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"/>'


def _text(x: float, y: float, content: str, anchor: str = "start") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{_e(content)}</text>'


def _e(text: str) -> str:
    return html.escape(text, quote=True)
