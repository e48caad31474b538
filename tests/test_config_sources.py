"""One rule per setting, whatever its source: a flag, its variable or `replay.toml`.

Each bad value exits 2 before anything connects, with one line naming where the value came
from, the value and the expected form; the same value is refused from every source.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli

# No database is reached: every case here fails while the configuration is built.
DB = ["--database-url", "postgresql://nobody@127.0.0.1:9/none"]

SOURCES = [
    # (flag, its variable, its replay.toml table and key, a bad value, the expected form)
    pytest.param(
        "--limit", "REPLAY_LIMIT", ("selection", "limit"), "99999999999",
        "at most 2,147,483,647", id="limit-huge",
    ),
    pytest.param(
        "--limit", "REPLAY_LIMIT", ("selection", "limit"), "0", "a positive integer",
        id="limit-zero",
    ),
    pytest.param(
        "--concurrency", "REPLAY_CONCURRENCY", ("run", "concurrency"), "-3",
        "a positive integer", id="concurrency",
    ),
    pytest.param(
        "--request-timeout", "REPLAY_REQUEST_TIMEOUT", ("run", "request_timeout"), "inf",
        "a positive number of seconds", id="timeout-inf",
    ),
    pytest.param(
        "--case-timeout", "REPLAY_CASE_TIMEOUT", ("run", "case_timeout"), "1e9",
        "at most 86,400 seconds", id="timeout-absurd",
    ),
    pytest.param(
        "--temperature", "REPLAY_TEMPERATURE", ("run", "temperature"), "2.5",
        "a number from 0 to 2", id="temperature",
    ),
    pytest.param(
        "--max-error-rate", "REPLAY_MAX_ERROR_RATE", ("gate", "max_error_rate"), "1.5",
        "a number from 0 to 1", id="error-rate",
    ),
    pytest.param(
        "--max-cost", "REPLAY_MAX_COST", ("run", "max_cost"), "nan", "a positive number",
        id="max-cost-nan",
    ),
    pytest.param(
        "--retries", "REPLAY_RETRIES", ("run", "retries"), "-1", "a whole number (0 or more)",
        id="retries",
    ),
    pytest.param(
        "--request-source", "REPLAY_REQUEST_SOURCE", ("run", "request_source"), "cached",
        "one of auto, recorded, rendered", id="request-source",
    ),
    pytest.param(
        "--channel", "REPLAY_CHANNEL", ("selection", "channel"), "fax",
        "one of email, sms, linkedin, any", id="channel",
    ),
    pytest.param(
        "--cache", "REPLAY_CACHE", ("run", "cache"), "sometimes",
        "one of read-write, read, off", id="cache",
    ),
    pytest.param(
        "--cache-max-mb", "REPLAY_CACHE_MAX_MB", ("run", "cache_max_mb"), "0",
        "a positive integer", id="cache-max-mb",
    ),
]  # fmt: skip


def _toml_value(text: str) -> str:
    """The value as `replay.toml` would hold it: a number stays a number, text is quoted."""
    try:
        float(text)
    except ValueError:
        return f'"{text}"'
    return "inf" if text == "inf" else text


@pytest.mark.parametrize(("flag", "variable", "where", "bad", "expected"), SOURCES)
def test_a_bad_flag_is_named_as_the_flag(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    flag: str,
    variable: str,
    where: tuple[str, str],
    bad: str,
    expected: str,
) -> None:
    """`--limit 0`: exit 2, the flag named with the value as typed."""
    result = run_cli(capsys, "--client-id", "c1", *DB, "--dry-run", flag, bad)
    assert result.code == 2
    assert result.err == f"replay: {flag} must be {expected}, got {bad!r}\n"


@pytest.mark.parametrize(("flag", "variable", "where", "bad", "expected"), SOURCES)
def test_a_bad_variable_is_named_as_the_variable(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    flag: str,
    variable: str,
    where: tuple[str, str],
    bad: str,
    expected: str,
) -> None:
    """`REPLAY_LIMIT=0`: exit 2, the variable named, never the flag it stands for."""
    monkeypatch.setenv(variable, bad)
    result = run_cli(capsys, "--client-id", "c1", *DB, "--dry-run")
    assert result.code == 2
    assert result.err == f"replay: {variable} must be {expected}, got {bad!r}\n"


@pytest.mark.parametrize(("flag", "variable", "where", "bad", "expected"), SOURCES)
def test_a_bad_file_value_is_named_by_its_table_and_key(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    flag: str,
    variable: str,
    where: tuple[str, str],
    bad: str,
    expected: str,
) -> None:
    """`[selection] limit = 0`: exit 2, the file, table and key named."""
    table, key = where
    (workdir / "replay.toml").write_text(f"[{table}]\n{key} = {_toml_value(bad)}\n")
    result = run_cli(capsys, "--client-id", "c1", *DB, "--dry-run")
    assert result.code == 2
    assert result.err.startswith(f"replay: replay.toml [{table}] {key} must be {expected}, got ")
    assert result.err.count("\n") == 1


def test_the_flag_wins_over_a_bad_variable_only_when_given(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flag overrides its variable, so a bad variable behind a good flag is never read."""
    monkeypatch.setenv("REPLAY_LIMIT", "zero")
    result = run_cli(capsys, "--client-id", "c1", *DB, "--dry-run", "--limit", "0")
    assert result.err == "replay: --limit must be a positive integer, got '0'\n"


def test_a_nightly_client_value_obeys_the_same_rule(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`[[nightly.clients]] concurrency = 0` is refused like `--concurrency 0`, naming the key."""
    (workdir / "replay.toml").write_text('[[nightly.clients]]\nclient_id = "c1"\nconcurrency = 0\n')
    result = run_cli(capsys, "nightly")
    assert result.code == 2
    assert result.err == (
        "replay: replay.toml [nightly.clients[0]] concurrency must be a positive integer, got 0\n"
    )


def test_an_unknown_key_is_named_where_it_sits(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelt key is an error naming its table, never silently ignored."""
    (workdir / "replay.toml").write_text("[selection]\nlimitt = 3\n")
    result = run_cli(capsys, "--client-id", "c1", *DB, "--dry-run")
    assert result.code == 2
    assert result.err == (
        "replay: replay.toml [selection] limitt is not a known key; "
        "check its spelling against the reference\n"
    )


def test_a_secret_in_the_database_table_is_never_echoed(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A URL pasted where `[database] url_env` wants a variable name is refused unseen."""
    (workdir / "replay.toml").write_text('[database]\nurl_env = "postgresql://u:hunter2@h/db"\n')
    result = run_cli(capsys, "--client-id", "c1", *DB, "--dry-run")
    assert result.code == 2
    assert "hunter2" not in result.err
    assert result.err.startswith(
        "replay: replay.toml [database] url_env must be the name of an environment variable"
    )


def test_help_never_shows_a_value_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--help` names each variable but never prints its value (a DSN holds a password)."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:hunter2@h/db")
    monkeypatch.setenv("REPLAY_LIMIT", "77")
    result = run_cli(capsys, "run", "--help")
    assert result.code == 0
    assert "DATABASE_URL" in result.out and "REPLAY_LIMIT" in result.out
    assert "hunter2" not in result.out and "77" not in result.out


def test_the_file_knows_every_check_code() -> None:
    """`[invariants] disabled` accepts exactly the codes the checks have: the two never drift."""
    from replay.config.keys import CHECK_CODES
    from replay.verdict.checks import CODES

    assert CHECK_CODES == CODES


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(".", "a TOML file, not a directory", id="directory"),
        pytest.param("missing.toml", "a TOML file that exists", id="missing"),
    ],
)
def test_a_bad_config_path_is_named_by_its_source(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    value: str,
    expected: str,
) -> None:
    """`--config .` and `REPLAY_CONFIG=.` each name themselves and say what a config file is."""
    flagged = run_cli(capsys, "--client-id", "c1", *DB, "--dry-run", "--config", value)
    assert flagged.err == f"replay: --config must be {expected}, got {value!r}\n"
    monkeypatch.setenv("REPLAY_CONFIG", value)
    from_env = run_cli(capsys, "--client-id", "c1", *DB, "--dry-run")
    assert from_env.code == 2
    assert from_env.err == f"replay: REPLAY_CONFIG must be {expected}, got {value!r}\n"
