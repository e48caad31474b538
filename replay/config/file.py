"""`replay.toml`: its shape, and loading it with every value checked by the rule of its setting.

A value here obeys the same rule as the flag and the variable that set the same thing
(`config.rules`), and a bad one is named by where it sits: ``replay.toml [selection] limit must
be a positive integer, got 0``. Unknown keys are an error, so a typo never goes unnoticed.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from replay.config import defaults, rules
from replay.config.models import CANARY_RULES, Price
from replay.errors import UsageError


def _checked(rule: Callable[[object], Any]) -> BeforeValidator:
    """Run `rule` on a TOML value; a rejection keeps its wording for the message."""

    def check(value: object) -> Any:
        try:
            return rule(value)
        except rules.Rejected as exc:
            raise PydanticCustomError(
                "rejected", "{expected}", {"expected": exc.expected, "shown": exc.shown}
            ) from None

    return BeforeValidator(check)


Count = Annotated[int, _checked(rules.count)]
Whole = Annotated[int, _checked(rules.whole)]
Rate = Annotated[float, _checked(rules.rate)]
Seconds = Annotated[float, _checked(rules.seconds)]
Ratio = Annotated[float, _checked(rules.ratio)]
Usd = Annotated[float, _checked(rules.usd)]
Temperature = Annotated[float, _checked(rules.temperature)]
Text = Annotated[str, _checked(rules.text)]
EnvName = Annotated[str, _checked(rules.env_name)]
PipelineSpec = Annotated[str, _checked(rules.pipeline)]
HttpUrl = Annotated[str, _checked(rules.http_url)]
ClientId = Annotated[str, _checked(rules.client_id)]
ChannelChoice = Annotated[
    Literal["email", "sms", "linkedin", "any"],
    _checked(rules.choice(*defaults.CHANNELS, "any")),
]
RequestSourceChoice = Annotated[
    Literal["auto", "recorded", "rendered"], _checked(rules.choice("auto", "recorded", "rendered"))
]
CHECK_CODES: Final = (
    "empty_draft", "unresolved_placeholder", "channel_length", "unsupported_price",
    "unsupported_link", "unsupported_email", "unsupported_phone", "ignored_opt_out",
)  # fmt: skip
"""The codes `[invariants] disabled` may name (the deterministic checks of `verdict.checks`)."""
CheckCode = Annotated[str, _checked(rules.choice(*CHECK_CODES))]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSection(_Section):
    """`[database]`: where the source database's URL is found; never the URL itself."""

    url_env: EnvName | None = None
    """Name of the environment variable holding the URL."""
    connect_timeout: Seconds | None = None
    """Seconds to wait for the connection."""


class SourceSection(_Section):
    """`[source]`: each view as inline SQL (`cases_sql`) or a file (`cases_sql_file`)."""

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


class SelectionSection(_Section):
    """`[selection]`: which cases a run replays."""

    limit: Count | None = None
    thread_limit: Count | None = None
    status: Text | None = None
    channel: ChannelChoice | None = None
    max_body_chars: Count | None = None


class RunSection(_Section):
    """`[run]`: how a live run calls the pipeline."""

    concurrency: Count | None = None
    pipeline: PipelineSpec | None = None
    retries: Whole | None = None
    request_timeout: Seconds | None = None
    case_timeout: Seconds | None = None
    max_cost: Usd | None = None
    max_answer_chars: Count | None = None
    model: Text | None = None
    request_source: RequestSourceChoice | None = None
    temperature: Temperature | None = None
    repeats: Count | None = None


class GateSection(_Section):
    """`[gate]`: the CI gate's thresholds."""

    max_error_rate: Rate | None = None
    max_invalid_rate: Rate | None = None
    on_stats: bool | None = None
    min_paired: Count | None = None
    min_evidence: Rate | None = None


class JudgeSection(_Section):
    """`[judge]`: the LLM judge, off unless a model is named."""

    model: Text | None = None
    base_url: HttpUrl | None = None
    concurrency: Count | None = None
    retries: Whole | None = None
    request_timeout: Seconds | None = None
    cache: bool | None = None


class InvariantValues(_Section):
    """The check settings one client may override."""

    sms_max_chars: Count | None = None
    linkedin_max_chars: Count | None = None
    email_max_chars: Count | None = None
    allowed_domains: list[str] | None = None
    opt_out_phrases: list[str] | None = None
    disabled: list[CheckCode] | None = None


class InvariantsSection(InvariantValues):
    """`[invariants]`, with `[invariants.clients."ID"]` overrides."""

    clients: dict[str, InvariantValues] = Field(default_factory=dict)


def _canary_rules(value: object) -> tuple[str, ...]:
    """`[canary] required`: a non-empty list of known rule names, each kept once."""
    expected = f"a non-empty list of rule names ({', '.join(CANARY_RULES)})"
    if not isinstance(value, list | tuple) or not value:
        raise rules.Rejected(expected, value)
    for name in value:
        if name not in CANARY_RULES:
            raise rules.Rejected(expected, name)
    return tuple(dict.fromkeys(value))


class CanarySection(_Section):
    """`[canary]`: the stop rules of a staged rollout."""

    max_duplicates: Whole | None = None
    max_enqueue_failure_rate: Rate | None = None
    backlog_windows: Count | None = None
    p95_limit_s: Seconds | None = None
    p95_over_control: Ratio | None = None
    p95_min_delta_s: Ratio | None = None
    max_error_rate_over_control: Rate | None = None
    max_timeout_rate_over_control: Rate | None = None
    min_jobs: Count | None = None
    stages: list[Count] | None = None
    rollback: Text | None = None
    required: Annotated[tuple[str, ...], _checked(_canary_rules)] | None = None


class ArtifactsSection(_Section):
    """`[artifacts]`: where artifacts go."""

    dir: Text | None = None


class NightlyClient(_Section):
    """One client of `replay nightly`: its own database, pipeline and thresholds."""

    client_id: ClientId
    database_url_env: EnvName | None = None
    """Name of the environment variable holding this client's database URL (else DATABASE_URL)."""
    limit: Count | None = None
    pipeline: PipelineSpec | None = None
    model: Text | None = None
    request_source: RequestSourceChoice | None = None
    concurrency: Count | None = None
    max_error_rate: Rate | None = None
    max_invalid_rate: Rate | None = None
    judge_model: Text | None = None
    repeats: Count | None = None


class NightlySection(_Section):
    """`[nightly]`: the clients a nightly run replays."""

    manifests_dir: Text | None = None
    clients: list[NightlyClient] = Field(default_factory=list)


class TomlConfig(_Section):
    """The shape of `replay.toml`."""

    database: DatabaseSection = DatabaseSection()
    source: SourceSection = SourceSection()
    selection: SelectionSection = SelectionSection()
    run: RunSection = RunSection()
    artifacts: ArtifactsSection = ArtifactsSection()
    gate: GateSection = GateSection()
    invariants: InvariantsSection = InvariantsSection()
    canary: CanarySection = CanarySection()
    judge: JudgeSection = JudgeSection()
    nightly: NightlySection = NightlySection()
    prices: dict[str, Price] = Field(default_factory=dict)


class LoadedToml:
    """A parsed `replay.toml` and the folder its relative paths start from."""

    def __init__(self, config: TomlConfig, path: Path | None) -> None:
        self.config = config
        self.path = path
        self.folder = path.parent if path else Path.cwd()

    def source(self, section: str, key: str) -> str:
        """How a message names a value of this file: ``replay.toml [selection] limit``."""
        return f"{self.path or defaults.CONFIG_FILE} [{section}] {key}"


def load_toml(path: Path | None, *, source: str = "--config") -> LoadedToml:
    """Load `path` (from `--config` or `REPLAY_CONFIG`), else `./replay.toml` if any, else nothing.

    Raises:
        UsageError: the file is missing, unreadable, not TOML, or has a bad value.
    """
    if path is not None:
        if path.is_dir():
            raise UsageError(f"{source} {str(path)!r} is a directory; expected a TOML file")
        if not path.is_file():
            raise UsageError(f"{source} {str(path)!r} does not exist; expected a TOML file")
    elif defaults.CONFIG_FILE.is_file():
        path = defaults.CONFIG_FILE
    else:
        return LoadedToml(TomlConfig(), None)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(f"{path} cannot be read ({reason}); expected a TOML file") from None
    try:
        return LoadedToml(TomlConfig.model_validate(data), path)
    except ValidationError as exc:
        raise UsageError(_message(path, exc.errors()[0])) from None


def _message(path: Path, error: Any) -> str:
    """One line naming the key as it sits in the file, the value and the expected form."""
    section, key = _where(error["loc"])
    place = f"{path} [{section}] {key}" if key else f"{path} [{section}]"
    # [database] values may be a URL pasted where a variable name belongs: never echo them.
    secret = error["loc"][:1] == ("database",)
    if error["type"] == "rejected":
        shown = "" if secret else f", got {error['ctx']['shown']!r}"
        return f"{place} must be {error['ctx']['expected']}{shown}"
    if error["type"] == "extra_forbidden":
        known = "key" if key else "table"
        return f"{place} is not a known {known}; check its spelling against the reference"
    value = error.get("input")
    shown = "" if isinstance(value, dict) or secret else f", got {value!r}"
    return f"{place}: {error['msg'][:1].lower()}{error['msg'][1:]}{shown}"


def _where(loc: tuple[Any, ...]) -> tuple[str, str]:
    """Split a location into its TOML table and key: `invariants.clients.acme`, `sms_max_chars`."""
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int) and parts:
            parts[-1] += f"[{part}]"
        else:
            parts.append(str(part))
    if len(parts) == 1:
        return parts[0], ""
    return ".".join(parts[:-1]), parts[-1]
