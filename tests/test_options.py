"""Resolving `replay run`'s flags: precedence and the values that are easy to get wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from replay.config.file import load_toml
from replay.config.models import RunConfig
from replay.config.resolve import run_config as resolve_run_config
from replay.config.runflags import RunFlags


def _flags(**given: Any) -> RunFlags:
    return RunFlags(**({"client_id": "c1", "database_url": "postgresql://u:p@h/db"} | given))


def run_config(flags: RunFlags) -> RunConfig:
    """Resolve `flags` with the working directory's replay.toml, as the CLI does."""
    return resolve_run_config(flags, load_toml(None))


def test_zero_rates_in_replay_toml_are_kept(workdir: Path) -> None:
    """A threshold of 0 in replay.toml means zero tolerance, not 'use the default'."""
    (workdir / "replay.toml").write_text("[gate]\nmax_error_rate = 0.0\nmax_invalid_rate = 0\n")
    config = run_config(_flags())
    assert (config.gate.max_error_rate, config.gate.max_invalid_rate) == (0.0, 0.0)


def test_flag_beats_file_beats_default(workdir: Path) -> None:
    """A flag wins over replay.toml, which wins over the built-in default."""
    (workdir / "replay.toml").write_text("[selection]\nlimit = 7\n[run]\nconcurrency = 5\n")
    config = run_config(_flags(concurrency=2))
    assert (config.selection.limit, config.concurrency) == (7, 2)
    assert config.live.retries == 3


def test_environment_feeds_the_model_endpoint(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OPENAI_API_KEY and OPENAI_BASE_URL come from the environment only; never printed."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-123")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://user:pw@127.0.0.1:9/v1?x=1")
    config = run_config(_flags())
    assert config.live.endpoint.api_key is not None
    assert config.live.endpoint.target == "http://127.0.0.1:9/v1"
    redacted = str(config.redacted())
    assert "sk-secret" not in redacted and "pw" not in redacted and "u:p" not in redacted
