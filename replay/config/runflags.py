"""The typed values of a command's flags (or their `REPLAY_*` variables): None means not given.

The CLI builds them; `config.resolve` merges them with `replay.toml` and the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from replay.config.models import CacheMode, RequestSourceChoice
from replay.models import Shard

ChannelChoice = Literal["email", "sms", "linkedin", "any"]


@dataclass(frozen=True)
class JudgeFlags:
    """The judge's flags, shared by `replay run` and `replay rejudge`."""

    judge_model: str | None = None
    judge_base_url: str | None = None
    judge_concurrency: int | None = None
    judge_retries: int | None = None
    no_judge_cache: bool = False


@dataclass(frozen=True)
class RunFlags(JudgeFlags):
    """The values of `replay run`'s flags (or their variables), typed; None means not given.

    `replay nightly` builds one per client from `[[nightly.clients]]` with the same types, so
    a client's run is validated exactly like a typed command.
    """

    client_id: str | None = None
    limit: int | None = None
    dry_run: bool = False
    concurrency: int | None = None
    channel: ChannelChoice | None = None
    from_: datetime | None = None
    to: datetime | None = None
    status: str | None = None
    case_ids: tuple[str, ...] | None = None
    manifest: Path | None = None
    thread_limit: int | None = None
    allow_empty: bool = False
    show_sql: bool = False
    request_source: RequestSourceChoice | None = None
    model: str | None = None
    temperature: float | None = None
    system_prompt_file: Path | None = None
    out: Path | None = None
    quiet: bool = False
    pipeline: str | None = None
    retries: int | None = None
    request_timeout: float | None = None
    case_timeout: float | None = None
    max_cost: float | None = None
    max_answer_chars: int | None = None
    resume: Path | None = None
    retry_errors: bool = False
    no_gate: bool = False
    max_error_rate: float | None = None
    max_invalid_rate: float | None = None
    min_evidence: float | None = None
    summary_md: Path | None = None
    baseline: str | None = None
    database_url: str | None = None
    source_sql: Path | None = None
    thread_sql: Path | None = None
    config: Path | None = None
    artifacts_dir: Path | None = None
    repeats: int | None = None
    gate_on_stats: bool = False
    no_report: bool = False
    write_manifest: Path | None = None
    control: bool = False
    control_model: str | None = None
    control_pipeline: str | None = None
    control_request_source: RequestSourceChoice | None = None
    control_system_prompt_file: Path | None = None
    cache: CacheMode | None = None
    cache_max_mb: int | None = None
    shard: Shard | None = None
    pacing: Literal["on", "off"] | None = None
    rpm: int | None = None
    tpm: int | None = None
    via: Literal["live", "batch"] | None = None
    batch_window: str | None = None
    judge_via: Literal["live", "batch"] | None = None
