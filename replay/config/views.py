"""Where each view's SQL comes from: a flag's file, `replay.toml`, or the built-in reference view.

A view's rules (no `$n`, ORDER BY, LIMIT or `;`) are checked as it is read, so a bad view is a
usage error naming its file before anything connects.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from replay.config import sqlcheck
from replay.config.file import LoadedToml
from replay.config.models import SignalViews, SourceConfig, ViewSql
from replay.errors import UsageError

ViewName = Literal["cases", "thread", "clients", "jobs", "dispatch", "drafts"]


def views(toml: LoadedToml, cases_flag: Path | None, thread_flag: Path | None) -> SourceConfig:
    """Resolve each view: a flag's file, else `replay.toml`, else the reference schema's view."""
    source = toml.config.source

    def resolve(
        name: Literal["cases", "thread", "clients"], flag_name: str | None, flag: Path | None
    ) -> ViewSql:
        view = _view(toml, name, flag_name, flag)
        sqlcheck.check_view(view.sql, origin=view.origin)
        return view

    custom = (
        cases_flag is not None or source.cases_sql is not None or source.cases_sql_file is not None
    )
    cases = resolve("cases", "--source-sql", cases_flag)
    thread = resolve("thread", "--thread-sql", thread_flag)
    clients: ViewSql | None = None
    if source.clients_sql is not None or source.clients_sql_file is not None or not custom:
        clients = resolve("clients", None, None)
    return SourceConfig(cases=cases, thread=thread, clients=clients)


def signal_views(
    toml: LoadedToml,
    jobs_flag: Path | None,
    dispatch_flag: Path | None,
    drafts_flag: Path | None = None,
) -> SignalViews:
    """The jobs, dispatch and drafts views `replay signals` reads.

    The built-in dispatch and drafts views go only with the built-in jobs view: on a team's
    own schema they would not exist.
    """
    source = toml.config.source

    def resolve(
        name: Literal["jobs", "dispatch", "drafts"], flag_name: str | None, flag: Path | None
    ) -> ViewSql:
        view = _view(toml, name, flag_name, flag)
        sqlcheck.check_view(view.sql, origin=view.origin)
        return view

    custom = (
        jobs_flag is not None or source.jobs_sql is not None or source.jobs_sql_file is not None
    )
    jobs = resolve("jobs", "--jobs-sql", jobs_flag)
    given = {
        "dispatch": dispatch_flag is not None
        or source.dispatch_sql is not None
        or source.dispatch_sql_file is not None,
        "drafts": drafts_flag is not None
        or source.drafts_sql is not None
        or source.drafts_sql_file is not None,
    }
    dispatch = (
        resolve("dispatch", "--dispatch-sql", dispatch_flag)
        if given["dispatch"] or not custom
        else None
    )
    drafts = (
        resolve("drafts", "--drafts-sql", drafts_flag) if given["drafts"] or not custom else None
    )
    return SignalViews(jobs=jobs, dispatch=dispatch, drafts=drafts)


def _view(
    toml: LoadedToml,
    name: ViewName,
    flag_name: str | None,
    flag: Path | None,
) -> ViewSql:
    """One view's SQL from a flag's file, `replay.toml`, or the built-in reference view."""
    if flag is not None:
        label = f"{flag_name} {str(flag)!r}"
        return ViewSql(name=name, origin=str(flag), sql=_read_view(label, flag))
    source = toml.config.source
    inline = getattr(source, f"{name}_sql")
    file = getattr(source, f"{name}_sql_file")
    if inline is not None and file is not None:
        raise UsageError(
            f"{toml.path}: [source] sets both {name}_sql and {name}_sql_file; keep one"
        )
    if inline is not None:
        return ViewSql(name=name, origin=f"{toml.path} [source] {name}_sql", sql=inline)
    if file is not None:
        path = toml.folder / file
        label = f"{toml.path} [source] {name}_sql_file"
        return ViewSql(name=name, origin=str(path), sql=_read_view(label, path))
    builtin = (
        resources.files("replay.config.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")
    )
    return ViewSql(name=name, origin=f"built-in {name} view", sql=builtin)


def _read_view(label: str, path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(
            f"{label} cannot be read ({reason}); expected a file holding a SELECT"
        ) from None
