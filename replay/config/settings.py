"""Resolve configuration: flag > environment > `replay.toml` > defaults, one value at a time.

Every parser raises `UsageError` with one line that names the flag or file, shows the bad value
and says what is expected, e.g. ``--limit must be a positive integer, got '0'``.
"""

from __future__ import annotations

import os
import tomllib
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from replay.config import defaults as constants
from replay.config import sqlcheck
from replay.config.models import (
    CanaryThresholds,
    ChecksConfig,
    InvariantSettings,
    Price,
    SignalViews,
    SourceConfig,
    ViewSql,
    describe_url,
)
from replay.errors import UsageError

T = TypeVar("T")


# --- replay.toml ---------------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Database(_Section):
    url_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """Name of the environment variable holding the URL; never the URL itself."""
    connect_timeout: float | None = Field(default=None, gt=0)


class _Source(_Section):
    cases_sql: str | None = None
    thread_sql: str | None = None
    clients_sql: str | None = None
    jobs_sql: str | None = None
    dispatch_sql: str | None = None
    drafts_sql: str | None = None
    cases_sql_file: str | None = None
    thread_sql_file: str | None = None
    clients_sql_file: str | None = None
    jobs_sql_file: str | None = None
    dispatch_sql_file: str | None = None
    drafts_sql_file: str | None = None


class _Selection(_Section):
    limit: int | None = Field(default=None, gt=0)
    thread_limit: int | None = Field(default=None, gt=0)
    status: str | None = None
    channel: Literal["email", "sms", "linkedin", "any"] | None = None
    max_body_chars: int | None = Field(default=None, gt=0)


class _Run(_Section):
    concurrency: int | None = Field(default=None, gt=0)
    pipeline: str | None = None
    retries: int | None = Field(default=None, ge=0)
    request_timeout: float | None = Field(default=None, gt=0)
    case_timeout: float | None = Field(default=None, gt=0)
    max_cost: float | None = Field(default=None, gt=0)
    model: str | None = None
    request_source: Literal["auto", "recorded", "rendered"] | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    repeats: int | None = Field(default=None, gt=0)


class _Gate(_Section):
    max_error_rate: float | None = Field(default=None, ge=0, le=1)
    max_invalid_rate: float | None = Field(default=None, ge=0, le=1)
    on_stats: bool | None = None
    min_paired: int | None = Field(default=None, gt=0)


class _Judge(_Section):
    model: str | None = None
    base_url: str | None = None
    concurrency: int | None = Field(default=None, gt=0)
    retries: int | None = Field(default=None, ge=0)
    request_timeout: float | None = Field(default=None, gt=0)
    cache: bool | None = None


class _InvariantValues(_Section):
    sms_max_chars: int | None = Field(default=None, gt=0)
    linkedin_max_chars: int | None = Field(default=None, gt=0)
    email_max_chars: int | None = Field(default=None, gt=0)
    allowed_domains: list[str] | None = None
    opt_out_phrases: list[str] | None = None
    disabled: list[Literal[
        "empty_draft", "unresolved_placeholder", "channel_length", "unsupported_price",
        "unsupported_link", "unsupported_email", "unsupported_phone", "ignored_opt_out",
    ]] | None = None  # fmt: skip


class _Invariants(_InvariantValues):
    clients: dict[str, _InvariantValues] = Field(default_factory=dict)


class _Canary(_Section):
    max_duplicates: int | None = Field(default=None, ge=0)
    max_enqueue_failure_rate: float | None = Field(default=None, ge=0, le=1)
    backlog_windows: int | None = Field(default=None, gt=0)
    p95_limit_s: float | None = Field(default=None, gt=0)
    p95_over_control: float | None = Field(default=None, ge=0)
    p95_min_delta_s: float | None = Field(default=None, ge=0)
    max_error_rate_over_control: float | None = Field(default=None, ge=0, le=1)
    max_timeout_rate_over_control: float | None = Field(default=None, ge=0, le=1)
    min_jobs: int | None = Field(default=None, gt=0)
    stages: list[int] | None = None
    rollback: str | None = None


class _Artifacts(_Section):
    dir: str | None = None


class NightlyClient(_Section):
    """One client of `replay nightly`: its own database, pipeline and thresholds."""

    client_id: str
    database_url_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """Name of the environment variable holding this client's database URL (else DATABASE_URL)."""
    limit: int | None = Field(default=None, gt=0)
    pipeline: str | None = None
    model: str | None = None
    request_source: Literal["auto", "recorded", "rendered"] | None = None
    concurrency: int | None = Field(default=None, gt=0)
    max_error_rate: float | None = Field(default=None, ge=0, le=1)
    max_invalid_rate: float | None = Field(default=None, ge=0, le=1)
    judge_model: str | None = None
    repeats: int | None = Field(default=None, gt=0)


class _Nightly(_Section):
    manifests_dir: str | None = None
    clients: list[NightlyClient] = Field(default_factory=list)


class TomlConfig(_Section):
    """The shape of `replay.toml`; unknown keys are an error, so a typo never goes unnoticed."""

    database: _Database = _Database()
    source: _Source = _Source()
    selection: _Selection = _Selection()
    run: _Run = _Run()
    artifacts: _Artifacts = _Artifacts()
    gate: _Gate = _Gate()
    invariants: _Invariants = _Invariants()
    canary: _Canary = _Canary()
    judge: _Judge = _Judge()
    nightly: _Nightly = _Nightly()
    prices: dict[str, Price] = Field(default_factory=dict)


class LoadedToml:
    """A parsed `replay.toml` and the folder its relative paths start from."""

    def __init__(self, config: TomlConfig, path: Path | None) -> None:
        self.config = config
        self.path = path
        self.folder = path.parent if path else Path.cwd()


def load_toml(flag_value: str | None) -> LoadedToml:
    """Load `--config` (or `REPLAY_CONFIG`), else `./replay.toml` when it exists, else nothing."""
    if flag_value is not None:
        path = Path(flag_value)
        if not path.is_file():
            raise UsageError(f"--config {flag_value!r} does not exist; expected a TOML file")
    elif constants.CONFIG_FILE.is_file():
        path = constants.CONFIG_FILE
    else:
        return LoadedToml(TomlConfig(), None)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} cannot be read: {exc}") from None
    try:
        return LoadedToml(TomlConfig.model_validate(data), path)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        value = error.get("input")
        # [database] values may be a URL pasted where a variable name belongs: never echo them.
        secret = error["loc"][:1] == ("database",)
        shown = "" if isinstance(value, dict) or secret else f", got {value!r}"
        raise UsageError(f"{path}: [{where}] {error['msg'].lower()}{shown}") from None


# --- single values -------------------------------------------------------------------------------


def first(*values: T | None) -> T | None:
    """The first value that is not None: flag, then environment, then file."""
    for value in values:
        if value is not None:
            return value
    return None


MAX_INT = 2**31 - 1
"""Counts are bound to Postgres's integer: a larger one could only overflow a query."""


def positive_int(flag: str, text: str | int) -> int:
    """Parse a positive integer."""
    try:
        value = int(str(text).strip())
    except ValueError:
        value = 0
    if value <= 0 or str(text).strip().startswith("+"):
        raise UsageError(f"{flag} must be a positive integer, got {str(text)!r}")
    if value > MAX_INT:
        raise UsageError(f"{flag} must be at most {MAX_INT:,}, got {str(text)!r}")
    return value


def non_negative_int(flag: str, text: str) -> int:
    """Parse a whole number, zero allowed."""
    value = text.strip()
    if not value.isdigit():
        raise UsageError(f"{flag} must be a whole number (0 or more), got {text!r}")
    return int(value)


def pipeline_spec(text: str) -> str:
    """Accept `openai`, `python:module:function` or an http(s) URL."""
    value = text.strip()
    if value == "openai" or value.startswith(("http://", "https://")):
        return value
    parts = value.split(":")
    if len(parts) == 3 and parts[0] == "python" and all(parts[1:]):
        return value
    raise UsageError(
        f"--pipeline must be openai, python:module:function or an http(s):// URL, got {text!r}"
    )


def http_url(flag: str, text: str) -> str:
    """Accept an http(s) URL with a host; a wrong one is echoed without its user info."""
    value = text.strip()
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host:
        shown = describe_url(value) if "@" in value else value  # never a user or password
        raise UsageError(f"{flag} must be an http(s):// URL with a host, got {shown!r}")
    return value


def rate(flag: str, text: str) -> float:
    """Parse a rate from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise UsageError(f"{flag} must be a number from 0 to 1, got {text!r}")
    return value


def temperature(flag: str, text: str | float) -> float:
    """Parse a sampling temperature in [0, 2]."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 2.0:
        raise UsageError(f"{flag} must be a number from 0 to 2, got {str(text)!r}")
    return value


def positive_float(flag: str, text: str | float) -> float:
    """Parse a positive number of seconds or dollars."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise UsageError(f"{flag} must be a positive number, got {str(text)!r}")
    return value


def timestamp(flag: str, text: str) -> datetime:
    """Parse ISO 8601; a time without an offset is UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{flag} must be an ISO 8601 time such as 2026-11-01 or 2026-11-01T08:00:00+01:00, "
            f"got {text!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def choice(flag: str, text: str, allowed: tuple[str, ...]) -> str:
    """Accept one of `allowed` (case-insensitive)."""
    value = text.strip().lower()
    if value not in allowed:
        raise UsageError(f"{flag} must be one of {', '.join(allowed)}, got {text!r}")
    return value


def client_id(text: str) -> str:
    """A non-empty id without spaces or control characters; its type is checked by the view."""
    value = text.strip()
    if not value or any(char.isspace() or not char.isprintable() for char in value):
        raise UsageError(f"--client-id must be a client id without spaces, got {text!r}")
    return value


def case_ids(text: str) -> tuple[str, ...]:
    """Parse `--case-ids a,b,c`: non-empty, each id once."""
    ids = tuple(part.strip() for part in text.split(","))
    if not ids or any(not part for part in ids):
        raise UsageError(f"--case-ids must be a comma-separated list of ids, got {text!r}")
    _no_duplicates("--case-ids", ids)
    return ids


def manifest(path_text: str) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """Read a manifest: a JSON list of ids, or ``{"cases": [{"id": ..., "tags": [...]}]}``.

    Returns:
        The ids in file order and the tags given per id.
    """
    flag = f"--manifest {path_text!r}"
    expected = 'expected a JSON list of ids or {"cases": [{"id": ..., "tags": [...]}]}'
    try:
        data = orjson.loads(Path(path_text).read_bytes())
    except OSError as exc:
        raise UsageError(f"{flag} cannot be read ({exc.strerror}); {expected}") from None
    except orjson.JSONDecodeError:
        raise UsageError(f"{flag} is not valid JSON; {expected}") from None
    tags: dict[str, tuple[str, ...]] = {}
    if isinstance(data, dict) and isinstance(data.get("cases"), list):
        ids = []
        for entry in data["cases"]:
            if not isinstance(entry, dict) or not _is_id(entry.get("id")):
                raise UsageError(f"{flag} has a case without an id; {expected}")
            case_id = str(entry["id"])
            ids.append(case_id)
            entry_tags = entry.get("tags", [])
            if not isinstance(entry_tags, list) or not all(isinstance(t, str) for t in entry_tags):
                raise UsageError(f"{flag}: the tags of case {case_id!r} must be a list of strings")
            tags[case_id] = tuple(entry_tags)
    elif isinstance(data, list) and all(_is_id(item) for item in data):
        ids = [str(item) for item in data]
    else:
        raise UsageError(f"{flag} has the wrong shape; {expected}")
    if not ids:
        raise UsageError(f"{flag} lists no case; {expected}")
    _no_duplicates(f"--manifest {path_text!r}", ids)
    return tuple(ids), tags


def _is_id(value: Any) -> bool:
    return (isinstance(value, str) and bool(value.strip())) or (
        isinstance(value, int) and not isinstance(value, bool)
    )


def _no_duplicates(flag: str, ids: tuple[str, ...] | list[str]) -> None:
    seen: set[str] = set()
    for case_id in ids:
        if case_id in seen:
            raise UsageError(f"{flag} lists id {case_id!r} twice; expected each id once")
        seen.add(case_id)


# --- views ---------------------------------------------------------------------------------------


def views(toml: LoadedToml, cases_flag: str | None, thread_flag: str | None) -> SourceConfig:
    """Resolve each view: a flag's file, else `replay.toml`, else the reference schema's view."""
    source = toml.config.source

    def resolve(
        name: Literal["cases", "thread", "clients"], flag_name: str | None, flag: str | None
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


def signal_views(toml: LoadedToml, jobs_flag: str | None, dispatch_flag: str | None) -> SignalViews:
    """The jobs, dispatch and drafts views `replay signals` reads.

    The built-in dispatch and drafts views go only with the built-in jobs view: on a team's
    own schema they would not exist.
    """
    source = toml.config.source

    def resolve(
        name: Literal["jobs", "dispatch", "drafts"], flag_name: str | None, flag: str | None
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
        "drafts": source.drafts_sql is not None or source.drafts_sql_file is not None,
    }
    dispatch = (
        resolve("dispatch", "--dispatch-sql", dispatch_flag)
        if given["dispatch"] or not custom
        else None
    )
    drafts = resolve("drafts", None, None) if given["drafts"] or not custom else None
    return SignalViews(jobs=jobs, dispatch=dispatch, drafts=drafts)


def canary_thresholds(toml: LoadedToml, **flags: Any) -> CanaryThresholds:
    """`[canary]` over the defaults, and flags over both."""
    values = toml.config.canary.model_dump(exclude_none=True)
    values |= {key: value for key, value in flags.items() if value is not None}
    return CanaryThresholds.model_validate(values)


def duration(flag: str, text: str) -> float:
    """Parse `90s`, `15m`, `24h` or `7d` into seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value = text.strip().lower()
    try:
        amount = float(value[:-1])
    except ValueError:
        amount = 0.0
    if not value or value[-1] not in units or not 0 < amount < float("inf"):
        raise UsageError(f"{flag} must be a duration such as 90s, 15m, 24h or 7d, got {text!r}")
    seconds = amount * units[value[-1]]
    if seconds > 3650 * 86400:
        raise UsageError(f"{flag} must be at most ten years, got {text!r}")
    return seconds


def _view(
    toml: LoadedToml,
    name: Literal["cases", "thread", "clients", "jobs", "dispatch", "drafts"],
    flag_name: str | None,
    flag: str | None,
) -> ViewSql:
    """One view's SQL from a flag's file, `replay.toml`, or the built-in reference view."""
    if flag is not None:
        return ViewSql(name=name, origin=flag, sql=_read_view(f"{flag_name} {flag!r}", Path(flag)))
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
        resources.files("replay.source.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")
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


def writable_file(flag: str, text: str) -> Path:
    """A file the run will write at its end: its folder must exist now, not after an hour."""
    path = Path(text)
    if not path.parent.is_dir():
        raise UsageError(f"{flag} {text!r}: folder {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise UsageError(f"{flag} {text!r} is a directory; expected a file path")
    return path


def read_text_file(flag: str, text: str) -> str:
    """Read a UTF-8 text file given on the command line."""
    try:
        return Path(text).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(
            f"{flag} {text!r} cannot be read ({reason}); expected a text file"
        ) from None


def env(name: str) -> str | None:
    """An environment variable, with empty meaning unset."""
    value = os.environ.get(name)
    return value if value else None


def checks(toml: LoadedToml) -> ChecksConfig:
    """`[invariants]` for every client, merged with `[invariants.clients."ID"]` overrides."""
    section = toml.config.invariants

    def merged(base: dict[str, Any], values: _InvariantValues) -> dict[str, Any]:
        return {**base, **values.model_dump(exclude_none=True)}

    default = merged({}, section)
    default.pop("clients", None)
    return ChecksConfig(
        default=InvariantSettings.model_validate(default),
        clients={
            client: InvariantSettings.model_validate(merged(default, values))
            for client, values in section.clients.items()
        },
    )


def prices(toml: LoadedToml) -> dict[str, Price]:
    """Built-in prices, overridden and extended by `[prices."MODEL"]`."""
    table = {
        model: Price(input=i, output=o) for model, (i, o) in constants.PRICES_USD_PER_MTOK.items()
    }
    table.update(toml.config.prices)
    return table
