"""An append-only index of the runs in an artifact directory, and the trend pages drawn from it.

`history.jsonl` holds one JSON line per finished run, so listing runs or drawing a trend never
opens every artifact. The artifacts stay the source of truth: the index is a cache that is
rebuilt from the ``run-*.json`` files whenever it is missing or a line of it cannot be trusted.

Every run artifact is indexed, dry runs and blocked runs too, each with its `mode` and `status`:
the index answers "what ran here", and a trend filters to live runs because only they measure
drafts. Nothing here prints; the rows are plain dicts for the CLI to show.
"""

from __future__ import annotations

import contextlib
import html
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from replay import charts
from replay.artifacts import atomic, dumps

INDEX = "history.jsonl"
KEYS = tuple(
    "time finished_at run_id client_id pipeline model mode status exit_code cases by_verdict"
    " error_rate regressed similarity_to_sent_mean cost_usd cost_per_case gate_passed path".split()
)
"""Every index line has these keys (values may be null); a line without one is corrupt."""
NOT_RUN = ("selected", "skipped", "invalid_case")
"""Verdicts of cases that never reached the pipeline: rates are over the others."""


def entry_of(artifact: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """Build the index line of a run artifact (parsed JSON) stored at `path`.

    Older artifacts lack `identity`, so each field is looked up where it lives now and where it
    lived before, and is None when absent. `model` is the run's `--model` override: None means
    each case used its recorded model or the configured default. `regressed`, `error_rate` and
    `cost_per_case` are over the cases that ran, and None when none did (a dry or blocked run).
    """
    config = _section(artifact, "config")
    identity = _section(artifact, "identity")
    request = _section(config, "request") or _section(identity, "request")
    summary = _section(artifact, "summary")
    by_verdict = case_counts(artifact)
    cases = summary.get("cases")
    if by_verdict != _section(summary, "by_verdict"):
        cases = sum(_count(n) for n in by_verdict.values())  # repeats: cases, not results
    if not isinstance(cases, int):
        cases = len(artifact.get("cases") or [])
    ran = cases - sum(_count(by_verdict.get(v)) for v in NOT_RUN)
    cost = summary.get("cost_usd")
    gate = artifact.get("gate")
    entry = {
        "time": artifact.get("created_at"),
        "finished_at": artifact.get("finished_at"),
        "run_id": artifact.get("run_id"),
        "client_id": _section(artifact, "selection").get("client_id")
        or _section(identity, "selection").get("client_id")
        or _section(config, "selection").get("client_id"),
        "pipeline": request.get("pipeline"),
        "model": request.get("model"),
        "mode": artifact.get("mode"),
        "status": artifact.get("status"),
        "exit_code": artifact.get("exit_code"),
        "cases": cases,
        "by_verdict": by_verdict,
        "error_rate": round(_count(by_verdict.get("error")) / ran, 4) if ran > 0 else None,
        "regressed": _count(by_verdict.get("regressed")) if ran > 0 else None,
        "similarity_to_sent_mean": summary.get("sent_similarity_new_mean"),
        "cost_usd": cost,
        "cost_per_case": round(cost / ran, 6)
        if ran > 0 and isinstance(cost, int | float)
        else None,
        "gate_passed": gate.get("passed") if isinstance(gate, Mapping) else None,
        "path": path.name,
    }
    # Through JSON and back: whatever the artifact held, the entry is what a reader will see.
    result: dict[str, Any] = orjson.loads(dumps(entry))
    return result


def case_counts(artifact: Mapping[str, Any]) -> dict[str, int]:
    """Verdicts counted by case: with `--repeats`, each case once, by its majority verdict.

    A trend that counted results would jump by a factor of K whenever K changed.
    """
    summary = _section(artifact, "summary")
    counts = _section(summary, "by_case_verdict") or _section(summary, "by_verdict")
    return {str(k): _count(v) for k, v in counts.items()}


def append(directory: Path, entry: Mapping[str, Any]) -> None:
    """Add one run to the index, durably, without ever interleaving with another writer.

    The whole line goes out in one `os.write` on a file opened with O_APPEND, so concurrent runs
    each land a whole line. When there is no index yet it is first rebuilt from the artifacts
    already in `directory` (a directory from before the index existed keeps its history), and
    the entry is appended only if that rebuild did not already find its artifact.

    Raises:
        ValueError: `entry` lacks a key of `KEYS` or a parseable time (it would corrupt the index).
        OSError: the index cannot be written.
    """
    if not _valid(dict(entry)):
        raise ValueError(f"not a history entry: {entry!r}")
    index = directory / INDEX
    if not index.exists() and any(e["path"] == entry.get("path") for e in rebuild(directory)):
        return
    line = dumps(dict(entry)) + b"\n"
    fd = os.open(index, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        written = os.write(fd, line)
        if written != len(line):
            # What did land is a torn line: the next read ignores it or rebuilds from artifacts.
            raise OSError(f"wrote {written} of {len(line)} bytes to {str(index)!r}")
        os.fsync(fd)
    finally:
        os.close(fd)


def read(directory: Path) -> list[dict[str, Any]]:
    """Return the indexed runs in time order, rebuilding the index when it cannot be trusted.

    A missing index, or any complete line that is not a JSON object with every key of `KEYS`,
    means a rebuild from the artifacts. A last line without its newline is ignored, not rebuilt:
    it is most likely another run's append in flight, and replacing the file under that writer
    would lose its line. A line torn for good (a crash mid-write) is joined by the next append
    into a corrupt line, which triggers the rebuild then. When one artifact has several lines
    (a run resumed into the same file) the last one counts. If the rebuilt index cannot be
    written the entries are still returned: the index is only a cache.
    """
    index = directory / INDEX  # never removed, only replaced whole: exists() then read is safe
    entries = _parse(index.read_bytes()) if index.exists() else None
    if entries is None:
        entries = _scan(directory)
        with contextlib.suppress(OSError):
            _store(directory, entries)
    latest = {entry["path"]: entry for entry in entries}
    return _ordered(latest.values())


def rebuild(directory: Path) -> list[dict[str, Any]]:
    """Rewrite the index from the run artifacts in `directory` and return its entries.

    Raises:
        OSError: the index cannot be written.
    """
    entries = _scan(directory)
    _store(directory, entries)
    return entries


def trend(
    entries: Iterable[Mapping[str, Any]], *, client_id: str | None, last: int
) -> list[dict[str, Any]]:
    """Return the last `last` live runs, of `client_id` when given, oldest first."""
    if last <= 0:
        return []
    live = [
        dict(e)
        for e in entries
        if e.get("mode") == "live" and (client_id is None or e.get("client_id") == client_id)
    ]
    return _ordered(live)[-last:]


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _moment(entry: Mapping[str, Any]) -> datetime | None:
    """The entry's start time; None when it is not an ISO 8601 time."""
    value = entry.get("time")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ordered(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sort by time, then path; parsed, as a time without microseconds sorts wrong as text."""
    floor = datetime.min.replace(tzinfo=UTC)
    return sorted(entries, key=lambda e: (_moment(e) or floor, str(e.get("path"))))


def _valid(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and all(key in entry for key in KEYS)
        and isinstance(entry["path"], str)
        and _moment(entry) is not None
    )


def _parse(data: bytes) -> list[dict[str, Any]] | None:
    """The entries of an index file, or None when a complete line is corrupt."""
    lines = data.split(b"\n")[:-1]  # what follows the last newline is empty or torn
    entries = []
    for line in lines:
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None
        if not _valid(entry):
            return None
        entries.append(entry)
    return entries


def _scan(directory: Path) -> list[dict[str, Any]]:
    """Index every readable run artifact in `directory`; skip unreadable files.

    The pattern already leaves out partial logs (``run-*.partial.jsonl``), compare artifacts and
    the temporary files of atomic writes (they start with a dot).
    """
    entries = []
    for path in sorted(directory.glob("run-*.json")):
        try:
            artifact = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        if not isinstance(artifact, dict) or artifact.get("kind") != "run":
            continue
        entry = entry_of(artifact, path)
        if _valid(entry):
            entries.append(entry)
    return _ordered(entries)


def _store(directory: Path, entries: Sequence[Mapping[str, Any]]) -> None:
    if not directory.is_dir():
        return  # nothing to index, and reading must not create the directory
    with atomic(directory / INDEX) as handle:
        for entry in entries:
            handle.write(dumps(dict(entry)) + b"\n")


# --- the trend page ----------------------------------------------------------------------------

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
    ordered = _ordered(dict(r) for r in rows)
    labels = [_time_label(r) for r in ordered]
    figures = "".join(
        charts.figure(
            caption,
            charts.line(labels, [_number(r.get(key)) for r in ordered], alt=caption, form=form),
        )
        + "\n"
        for caption, key, form in _CHARTS
    )
    name = html.escape(title)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{name}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<h1>{name}</h1>\n<div class="charts">\n{figures}</div>\n'
        f"{_table(ordered)}\n</body>\n</html>\n"
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _time_label(entry: Mapping[str, Any]) -> str:
    moment = _moment(entry)
    if moment is None:
        return str(entry.get("time") or "?")[:16]
    return moment.astimezone(UTC).strftime("%m-%d %H:%M")


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
