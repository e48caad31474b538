"""Usage errors: exit 2 and one line naming the flag or file, the value and the expected form."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli

URL = "postgresql://user:pw@127.0.0.1:1/db"
CLIENT = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--limit", "0"], "--limit must be a positive integer, got '0'", id="limit-0"),
        pytest.param(
            ["--limit", "abc"], "--limit must be a positive integer, got 'abc'", id="limit-abc"
        ),
        pytest.param(
            ["--concurrency", "-1"],
            "--concurrency must be a positive integer, got '-1'",
            id="concurrency",
        ),
        pytest.param(
            ["--thread-limit", "0"],
            "--thread-limit must be a positive integer, got '0'",
            id="thread-limit",
        ),
        pytest.param(
            ["--from", "2026-11-02", "--to", "2026-11-01"],
            "--from '2026-11-02T00:00:00+00:00' must be before --to '2026-11-01T00:00:00+00:00'",
            id="from-after-to",
        ),
        pytest.param(
            ["--from", "yesterday"],
            "--from must be an ISO 8601 time such as 2026-11-01 or 2026-11-01T08:00:00+01:00, "
            "got 'yesterday'",
            id="bad-timestamp",
        ),
        pytest.param(
            ["--channel", "fax"],
            "--channel must be one of email, sms, linkedin, any, got 'fax'",
            id="channel",
        ),
        pytest.param(
            ["--temperature", "3"],
            "--temperature must be a number from 0 to 2, got '3'",
            id="temperature",
        ),
        pytest.param(
            ["--request-source", "cached"],
            "--request-source must be one of auto, recorded, rendered, got 'cached'",
            id="request-source",
        ),
        pytest.param(
            ["--case-ids", "a,,b"],
            "--case-ids must be a comma-separated list of ids, got 'a,,b'",
            id="ids-empty",
        ),
        pytest.param(["--case-ids", "a,b,a"], "--case-ids lists id 'a' twice", id="ids-duplicate"),
        pytest.param(
            ["--case-ids", "a,b", "--channel", "sms"],
            "--case-ids selects exact cases; it cannot be combined with --channel",
            id="ids-with-channel",
        ),
        pytest.param(
            ["--case-ids", "a,b", "--from", "2026-01-01"],
            "--case-ids selects exact cases; it cannot be combined with --from",
            id="ids-with-from",
        ),
        pytest.param(
            ["--case-ids", "a,b,c", "--limit", "2"],
            "--limit 2 is less than the 3 ids of --case-ids",
            id="ids-over-limit",
        ),
    ],
)
def test_bad_run_flag_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], workdir: Path, args: list[str], message: str
) -> None:
    """Each bad flag value exits 2 with one line that names it."""
    result = run_cli(capsys, "--client-id", CLIENT, "--dry-run", "--database-url", URL, *args)
    assert result.code == 2
    assert result.err == f"replay: {message}\n" or result.err.startswith(f"replay: {message}")
    assert result.err.count("\n") == 1
    assert not (workdir / ".artifacts").exists()


def test_case_ids_without_client_id(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    """Ids need a client: every query is scoped by client."""
    result = run_cli(capsys, "--case-ids", "a,b", "--dry-run", "--database-url", URL)
    assert (result.code, result.err) == (
        2,
        "replay: --client-id is required; `replay clients` lists the client ids\n",
    )


def test_client_id_with_spaces(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    """A client id with spaces is malformed before any database is asked."""
    result = run_cli(capsys, "--client-id", "acme corp", "--dry-run", "--database-url", URL)
    assert result.code == 2
    assert result.err == "replay: --client-id must be a client id without spaces, got 'acme corp'\n"


def test_no_database_url(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    """Without --database-url or DATABASE_URL the run says how to give one."""
    result = run_cli(capsys, "--client-id", CLIENT, "--dry-run")
    assert (result.code, result.err) == (
        2,
        "replay: no database URL: pass --database-url or set DATABASE_URL\n",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("[1, 2", "is not valid JSON", id="not-json"),
        pytest.param(
            '["a", "b", "a"]', "lists id 'a' twice; expected each id once", id="duplicates"
        ),
        pytest.param('{"ids": ["a"]}', "has the wrong shape", id="shape"),
        pytest.param("[]", "lists no case", id="empty"),
        pytest.param('{"cases": [{"tags": []}]}', "has a case without an id", id="no-id"),
    ],
)
def test_bad_manifest(
    capsys: pytest.CaptureFixture[str], workdir: Path, content: str, message: str
) -> None:
    """A manifest that is not JSON, has duplicates or the wrong shape exits 2 naming the file."""
    (workdir / "m.json").write_text(content)
    result = run_cli(
        capsys, "--client-id", CLIENT, "--manifest", "m.json", "--dry-run", "--database-url", URL
    )
    assert result.code == 2
    assert result.err.startswith("replay: --manifest 'm.json' ")
    assert message in result.err


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        pytest.param("SELECT * FROM jobs WHERE client_id = $1", "uses parameter $1", id="param"),
        pytest.param("SELECT * FROM jobs ORDER BY created_at", "top-level ORDER BY", id="order-by"),
        pytest.param("SELECT * FROM jobs LIMIT 10", "top-level LIMIT", id="limit"),
        pytest.param("SELECT * FROM jobs;", "contains ';'", id="semicolon"),
    ],
)
def test_view_file_breaking_the_rules(
    capsys: pytest.CaptureFixture[str], workdir: Path, sql: str, message: str
) -> None:
    """A view file with $n, ORDER BY, LIMIT or ';' exits 2 naming the file, before connecting."""
    (workdir / "cases.sql").write_text(sql)
    result = run_cli(
        capsys,
        "--client-id",
        CLIENT,
        "--dry-run",
        "--database-url",
        URL,
        "--source-sql",
        "cases.sql",
    )
    assert result.code == 2
    assert result.err.startswith("replay: cases.sql: ")
    assert message in result.err


def test_missing_view_file(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    """A view file that does not exist is named with the reason."""
    result = run_cli(
        capsys,
        "--client-id",
        CLIENT,
        "--dry-run",
        "--database-url",
        URL,
        "--source-sql",
        "nope.sql",
    )
    assert result.code == 2
    assert result.err == (
        "replay: --source-sql 'nope.sql' cannot be read (No such file or directory); "
        "expected a file holding a SELECT\n"
    )


def test_existing_out(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    """An --out that exists is refused before anything runs."""
    (workdir / "taken.json").write_text("{}")
    result = run_cli(
        capsys, "--client-id", CLIENT, "--dry-run", "--database-url", URL, "--out", "taken.json"
    )
    assert result.code == 2
    assert result.err == "replay: --out 'taken.json' already exists; expected a new file path\n"
    assert (workdir / "taken.json").read_text() == "{}"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        pytest.param("[selection\nlimit = 3", "replay.toml is not valid TOML: ", id="syntax"),
        pytest.param(
            "[selection]\nlimitt = 3",
            "replay.toml [selection] limitt is not a known key",
            id="typo",
        ),
        pytest.param(
            "[selection]\nlimit = 0",
            "replay.toml [selection] limit must be a positive integer, got 0",
            id="value",
        ),
    ],
)
def test_invalid_replay_toml(
    capsys: pytest.CaptureFixture[str], workdir: Path, toml: str, message: str
) -> None:
    """An invalid replay.toml exits 2 naming the file and the key."""
    (workdir / "replay.toml").write_text(toml)
    result = run_cli(capsys, "--client-id", CLIENT, "--dry-run", "--database-url", URL)
    assert result.code == 2
    assert result.err.startswith(f"replay: {message}")
    assert result.err.count("\n") == 1


def test_bare_replay_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """`replay` alone shows the commands and exits 2."""
    result = run_cli(capsys)
    assert result.code == 2
    assert "Commands" in result.err and "run" in result.err and "clients" in result.err


def test_unknown_subcommand_is_not_a_run(capsys: pytest.CaptureFixture[str]) -> None:
    """A mistyped subcommand fails as such instead of starting a run."""
    result = run_cli(capsys, "clinets")
    assert result.code == 2
    assert "No such command 'clinets'" in result.err


def test_unknown_flag_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown flag exits 2 with one line."""
    result = run_cli(capsys, "--client-id", CLIENT, "--limt", "3")
    assert result.code == 2
    assert result.err.startswith("replay: No such option: --limt")
    assert result.err.count("\n") == 1


def test_run_flags_are_not_accepted_by_other_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """`clients` does not silently accept run flags."""
    result = run_cli(capsys, "clients", "--limit", "3")
    assert result.code == 2
    assert "No such option: --limit" in result.err


def test_help_never_shows_the_database_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--help lists every flag with its default but never prints DATABASE_URL's value."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://admin:topsecret@prod/db")
    result = run_cli(capsys, "run", "--help")
    assert result.code == 0
    assert "topsecret" not in result.out and "prod/db" not in result.out
    for flag in (
        "--client-id",
        "--limit",
        "--dry-run",
        "--concurrency",
        "--channel",
        "--from",
        "--to",
        "--status",
        "--case-ids",
        "--manifest",
        "--allow-empty",
        "--show-sql",
        "--thread-limit",
        "--request-source",
        "--model",
        "--temperature",
        "--system-prompt-file",
        "--out",
        "--artifacts-dir",
        "--database-url",
        "--source-sql",
        "--thread-sql",
        "--config",
    ):
        assert flag in result.out
    assert "[default: 20" in result.out and "[default: 3]" in result.out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the version and exits 0."""
    result = run_cli(capsys, "--version")
    assert result.code == 0
    assert result.out.startswith("replay ")


def test_fixtures_never_uses_database_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`replay fixtures` writes, so it refuses to take its URL from DATABASE_URL."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://admin:pw@prod/db")
    result = run_cli(capsys, "fixtures")
    assert (result.code, result.err) == (
        2,
        "replay: fixtures needs --database-url (it writes, so it never uses DATABASE_URL)\n",
    )
