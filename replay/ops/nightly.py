"""`replay nightly`: every client listed in `[nightly]`, each against its own history.

"The last N jobs" changes every day, so a nightly run that selected afresh would compare
different cases each night. Each client instead replays a pinned manifest (frozen on the first
night, renewed with `--refresh-manifests`) and is compared with its own latest earlier complete
run. Clients run one after another; one client's failure (a dead database, a model that is down,
a bad setting) is reported and never stops the others. The exit code is 1 when any client's gate
failed, else 3 when any client was blocked, else 0.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

import anyio

from replay.artifacts import cache, history, store
from replay.artifacts.lock import RunLock
from replay.config import resolve
from replay.config.file import LoadedToml
from replay.config.keys import NightlyClient
from replay.config.resolve import run_config
from replay.config.runflags import RunFlags
from replay.errors import BlockedError, ExitCode, ReplayError
from replay.run import app
from replay.run.finished import Finished
from replay.verdict import pairing

PAIRED_ENOUGH = 0.8
"""Below this share of paired cases, a comparison with the baseline is aggregates only."""


@dataclass
class ClientNight:
    """What happened to one client tonight."""

    client_id: str
    status: str
    """`passed`, `failed` (its gate), or `blocked` (it could not run)."""
    exit_code: ExitCode
    message: str | None = None
    artifact: Path | None = None
    report: Path | None = None
    manifest: Path | None = None
    cases: int = 0
    regressed: int = 0
    errors: int = 0
    cost_usd: float | None = None
    baseline: str | None = None
    comparison: str | None = None
    """What the comparison with the baseline found, in a sentence."""


@dataclass
class Night:
    """Every client's night, and what the whole run decided."""

    started: datetime
    clients: list[ClientNight] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    cache_entries_deleted: int = 0
    """Entries of the judge's and the pipeline's caches not used for `--retention-days`."""
    interrupted: bool = False
    """Ctrl-C or SIGTERM stopped the night; the clients not reached did not run."""
    summary: Path | None = None
    """The Markdown summary; the HTML index and JSON lie beside it."""

    @property
    def exit_code(self) -> ExitCode:
        """Interrupted, else a failed gate, else blocked, else OK."""
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if any(client.status == "failed" for client in self.clients):
            return ExitCode.GATE_FAILED
        if any(client.status == "blocked" for client in self.clients):
            return ExitCode.BLOCKED
        return ExitCode.OK


async def run(
    toml: LoadedToml,
    *,
    refresh_manifests: bool = False,
    retention_days: int | None = None,
    artifacts_dir: Path | None = None,
) -> Night:
    """Run every `[nightly]` client, write the combined summary, apply retention."""
    spec = toml.config.nightly
    folder = resolve.artifacts_dir(toml, artifacts_dir)
    manifests = Path(spec.manifests_dir) if spec.manifests_dir else folder / "manifests"
    night = Night(started=datetime.now(UTC))
    for client in spec.clients:
        result = await _client(toml, client, folder, manifests, refresh=refresh_manifests)
        night.clients.append(result)
        if result.exit_code == ExitCode.INTERRUPTED:
            night.interrupted = True  # the run was stopped by a signal: so is the night
            break
    store.make_dirs(folder)
    quiet = not night.interrupted and not any(c.status == "blocked" for c in night.clients)
    if retention_days is not None and quiet:
        night.deleted = prune(folder, retention_days, now=night.started)
        night.cache_entries_deleted = prune_caches(folder, retention_days, now=night.started)
    night.summary = write_summary(night, folder)
    return night


async def _client(
    toml: LoadedToml,
    client: NightlyClient,
    folder: Path,
    manifests: Path,
    *,
    refresh: bool,
) -> ClientNight:
    """One client's night; every failure becomes a `blocked` entry with its one-line reason."""
    name = client.client_id
    manifest = manifests / f"{_file_safe(name)}.json"
    try:
        await anyio.to_thread.run_sync(store.make_dirs, manifests)
        # One night per client at a time: a second nightly skips this client, naming the first.
        with RunLock.acquire(manifest, what=f"client {name!r} (its nightly run)"):
            return await _client_locked(toml, client, folder, manifest, refresh=refresh)
    except ReplayError as exc:
        return ClientNight(name, "blocked", exc.exit_code, message=exc.message, manifest=manifest)
    except OSError as exc:
        message = f"client {name!r}: cannot write {exc.filename or 'a file'}: {exc.strerror}"
        return ClientNight(name, "blocked", ExitCode.BLOCKED, message=message, manifest=manifest)


async def _client_locked(
    toml: LoadedToml, client: NightlyClient, folder: Path, manifest: Path, *, refresh: bool
) -> ClientNight:
    """One client's night while this process alone holds it."""
    name = client.client_id
    try:
        url = _database_url(client)
        if refresh or not await anyio.Path(manifest).is_file():
            fresh = run_config(_flags(toml, client, url, folder, limit=client.limit), toml)
            if not await app.freeze(fresh.model_copy(update={"dry_run": True}), manifest):
                message = f"client {name!r}: nothing to pin (no job matches); no manifest written"
                return ClientNight(name, "blocked", ExitCode.EMPTY, message=message)
        flags = _flags(toml, client, url, folder, manifest=manifest)
        config = run_config(flags, toml)
        earlier = pairing.latest(folder, config.selection.client_id, config.request.pipeline, None)
        if earlier is not None:
            config = run_config(_flags(toml, client, url, folder, manifest, earlier), toml)
        outcome = await app.run(config)
    except ReplayError as exc:
        return ClientNight(name, "blocked", exc.exit_code, message=exc.message, manifest=manifest)
    except OSError as exc:
        message = f"client {name!r}: cannot write {exc.filename or 'a file'}: {exc.strerror}"
        return ClientNight(name, "blocked", ExitCode.BLOCKED, message=message, manifest=manifest)
    return _night_of(name, outcome, manifest, earlier)


def _night_of(name: str, outcome: Finished, manifest: Path, earlier: Path | None) -> ClientNight:
    summary = outcome.summary
    status = {0: "passed", 1: "failed"}.get(outcome.exit_code, "blocked")
    night = ClientNight(
        name,
        status,
        outcome.exit_code,
        message=outcome.message,
        artifact=outcome.artifact,
        report=outcome.report,
        manifest=manifest,
        baseline=str(earlier) if earlier else None,
    )
    if summary is not None:
        counts = history.case_counts(summary) or summary.by_verdict
        night.cases = sum(counts.values())
        night.regressed = counts.get("regressed", 0)
        night.errors = counts.get("error", 0)
        night.cost_usd = summary.cost_usd
    report = outcome.baseline
    # Cases, not results: with repeats a case has several results and pairs once.
    found = outcome.selection.found if outcome.selection is not None else night.cases
    if report is None:
        night.comparison = "no earlier complete run to compare with" if earlier is None else None
    elif report.paired < PAIRED_ENOUGH * max(found, 1):
        rows = report.aggregates
        deltas = ", ".join(
            f"{key} {row['delta']:+g}"
            for key, row in rows.items()
            if key in ("similarity_mean", "sent_similarity_new_mean", "verdict.regressed")
            and isinstance(row.get("delta"), int | float)
        )
        night.comparison = (
            f"aggregates only: {report.paired} of {found} cases pair with the baseline"
            + (f" ({deltas})" if deltas else "")
        )
    else:
        newly = sum(1 for change in report.changes if change.kind == "regression")
        stats = f"; {report.stats.conclusion}" if report.stats is not None else ""
        night.comparison = f"{report.paired} paired, {newly} newly regressed{stats}"
    return night


def _database_url(client: NightlyClient) -> str:
    name = client.database_url_env or "DATABASE_URL"
    url = os.environ.get(name)
    if not url:
        raise BlockedError(
            f"client {client.client_id!r}: environment variable {name} is not set",
            check="database",
            code="db_url_unset",
        )
    return url


def _flags(
    toml: LoadedToml,
    client: NightlyClient,
    url: str,
    folder: Path,
    manifest: Path | None = None,
    earlier: Path | None = None,
    *,
    limit: int | None = None,
) -> RunFlags:
    """The flags of one client's run, typed as the CLI types them: the same checks as `run`."""
    return RunFlags(
        client_id=client.client_id,
        database_url=url,
        config=toml.path,
        artifacts_dir=folder,
        manifest=manifest,
        limit=limit,
        baseline=str(earlier) if earlier else None,
        pipeline=client.pipeline,
        model=client.model,
        request_source=client.request_source,
        concurrency=client.concurrency,
        max_error_rate=client.max_error_rate,
        max_invalid_rate=client.max_invalid_rate,
        judge_model=client.judge_model,
        repeats=client.repeats,
    )


def _file_safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


# --- retention ------------------------------------------------------------------------------

_PRUNED = ("run-*.json", "run-*.html", "compare-*.json", "signals-*.json", "nightly-*")


def prune(folder: Path, days: int, *, now: datetime) -> list[str]:
    """Delete artifacts older than `days`, never the latest run of a client; return their names.

    Age is the file's modification time; the history index is rebuilt from what is left.
    """
    cutoff = (now - timedelta(days=days)).timestamp()
    latest: dict[str, str] = {}
    for entry in history.read(folder):
        if entry.get("mode") == "live" and entry.get("client_id"):
            latest[str(entry["client_id"])] = str(entry["path"])
    keep = set(latest.values()) | {Path(name).with_suffix(".html").name for name in latest.values()}
    deleted = []
    for pattern in _PRUNED:
        for path in sorted(folder.glob(pattern)):
            if path.name in keep or path.stat().st_mtime >= cutoff:
                continue
            path.unlink(missing_ok=True)
            deleted.append(path.name)
    if deleted:
        history.rebuild(folder)
    return deleted


def prune_caches(folder: Path, days: int, *, now: datetime) -> int:
    """Delete the cache entries (judge and pipeline) not used for `days`; return how many.

    A hit touches its entry, so an entry a nightly run still reads is never old.
    """
    return sum(
        cache.prune_unused(folder / name, days, now=now) for name in (cache.JUDGE, cache.RESPONSES)
    )


# --- the combined summary -------------------------------------------------------------------------


def text(night: Night) -> str:
    """The terminal summary: one line per client, then the verdict of the night."""
    lines = []
    for client in night.clients:
        head = f"{client.client_id}  {client.status}"
        if client.status == "blocked":
            lines.append(f"{head}: {client.message}")
            continue
        cost = f" · ${client.cost_usd:.4f}" if client.cost_usd is not None else ""
        lines.append(
            f"{head}: {client.cases} cases · {client.regressed} regressed · "
            f"{client.errors} errors{cost}"
        )
        if client.comparison:
            lines.append(f"  vs baseline: {client.comparison}")
        if client.report:
            lines.append(f"  report: {client.report}")
    if night.deleted or night.cache_entries_deleted:
        entries = night.cache_entries_deleted
        lines.append(
            f"retention: deleted {len(night.deleted)} old files"
            + (
                f" and {entries} unused cache entr{'y' if entries == 1 else 'ies'}"
                if entries
                else ""
            )
        )
    verdict = {
        0: "every client passed",
        1: "a gate failed",
        3: "a client was blocked",
        130: "interrupted",
    }
    lines.append(f"nightly: {verdict[night.exit_code]} (exit {night.exit_code})")
    return "\n".join(lines)


def markdown(night: Night) -> str:
    """The summary as Markdown, for a CI job summary."""
    lines = [
        f"### replay nightly {night.started:%Y-%m-%d %H:%M} UTC (exit {night.exit_code})",
        "",
        "| client | status | cases | regressed | errors | cost | vs baseline |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in night.clients:
        cost = f"${c.cost_usd:.4f}" if c.cost_usd is not None else ""
        note = c.message if c.status == "blocked" else (c.comparison or "")
        lines.append(
            f"| `{c.client_id}` | {c.status} | {c.cases} | {c.regressed} | {c.errors} | "
            f"{cost} | {note} |"
        )
    return "\n".join(lines) + "\n"


def html_index(night: Night) -> str:
    """A page linking each client's report; every text escaped."""
    rows = []
    for c in night.clients:
        link = f'<a href="{escape(c.report.name)}">report</a>' if c.report is not None else "—"
        note = c.message if c.status == "blocked" else (c.comparison or "")
        rows.append(
            f"<tr class='{escape(c.status)}'><td>{escape(c.client_id)}</td>"
            f"<td>{escape(c.status)}</td><td>{c.cases}</td><td>{c.regressed}</td>"
            f"<td>{c.errors}</td><td>{escape(note or '')}</td><td>{link}</td></tr>"
        )
    style = (
        "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
        "table{border-collapse:collapse}td,th{padding:.3rem .7rem;border-bottom:1px solid #ddd;"
        "text-align:left}.failed td{color:#b00020}.blocked td{color:#b35c00}"
    )
    title = f"replay nightly {night.started:%Y-%m-%d %H:%M} UTC"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>{escape(title)}</title><style>{style}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>exit {night.exit_code}</p><table><thead><tr><th>client</th>"
        "<th>status</th><th>cases</th><th>regressed</th><th>errors</th><th>vs baseline</th>"
        f"<th></th></tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>\n"
    )


def write_summary(night: Night, folder: Path) -> Path:
    """Write `nightly-<ts>.md`, `.html` and `.json` atomically; return the Markdown's path."""
    stem = folder / f"nightly-{store.stamp(night.started)}"
    with store.atomic(stem.with_suffix(".md")) as handle:
        handle.write(markdown(night).encode())
    with store.atomic(stem.with_suffix(".html")) as handle:
        handle.write(html_index(night).encode())
    store.write(
        stem.with_suffix(".json"),
        {
            "kind": "nightly",
            "created_at": night.started,
            "exit_code": night.exit_code,
            "clients": [
                {
                    **{k: v for k, v in vars(c).items() if not isinstance(v, Path)},
                    **{k: str(v) for k, v in vars(c).items() if isinstance(v, Path)},
                }
                for c in night.clients
            ],
            "deleted": night.deleted,
            "cache_entries_deleted": night.cache_entries_deleted,
            "duration_s": round(time.time() - night.started.timestamp(), 3),
        },
    )
    return stem.with_suffix(".md")
