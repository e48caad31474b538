"""`replay preflight` and the database URL: what a wrong URL, a TLS mismatch, a client say."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from replay.config import rules
from replay.devtools import pg
from replay.devtools.generator import FixtureSummary
from tests.helpers import run_cli

SECRET = "hunter2-Very-Secret"


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes one way until `source` ends, then end that direction of `sink`."""
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def tcp_port_of(socket_path: str) -> Iterator[int]:
    """A loopback TCP port forwarding every connection to the Unix socket at `socket_path`."""

    class Forward(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            with socket.socket(socket.AF_UNIX) as upstream:
                upstream.connect(socket_path)
                back = threading.Thread(target=_pump, args=(upstream, self.request))
                back.start()
                _pump(self.request, upstream)
                back.join(timeout=30)

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Forward) as server:
        serving = threading.Thread(target=server.serve_forever)
        serving.start()
        try:
            yield server.server_address[1]
        finally:
            server.shutdown()
            serving.join()


@pytest.fixture
def tcp_server(pg_server: pg.EmbeddedPostgres | str, workdir: Path) -> Iterator[int]:
    """The embedded test server (no TLS) on a TCP port: TLS is only ever asked for over TCP."""
    if isinstance(pg_server, str):
        pytest.skip("REPLAY_TEST_DATABASE_URL may point at a server with TLS")
    parts = urlsplit(pg_server.uri)
    directory = parse_qs(parts.query)["host"][0]
    with tcp_port_of(f"{directory}/.s.PGSQL.{parts.port or 5432}") as port:
        yield port


def test_sslmode_require_against_a_server_without_tls_says_so(
    capsys: pytest.CaptureFixture[str], tcp_server: int
) -> None:
    """The server answers "no TLS": the message says so and names the sslmode, not a refusal."""
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:{tcp_server}/postgres"
    result = run_cli(capsys, "preflight", "--database-url", f"{url}?sslmode=require")
    assert result.code == 3
    failed = [line for line in result.out.splitlines() if line.startswith("FAIL")]
    assert failed == [
        f"FAIL  database     database postgresql://127.0.0.1:{tcp_server}/postgres does not "
        "accept TLS connections (sslmode=require); use sslmode=disable, or sslmode=prefer to "
        "use TLS only where a server offers it"
    ]
    assert "refused" not in result.out and SECRET not in result.out + result.err
    prefer = run_cli(capsys, "preflight", "--database-url", f"{url}?sslmode=prefer")
    assert f"ok    database     connected to postgresql://127.0.0.1:{tcp_server}/postgres" in (
        prefer.out
    )


def test_pgsslmode_require_is_named_as_the_variable(
    capsys: pytest.CaptureFixture[str], tcp_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TLS asked for by PGSSLMODE: the message names the variable the user set."""
    monkeypatch.setenv("PGSSLMODE", "require")
    url = f"postgresql://postgres@127.0.0.1:{tcp_server}/postgres"
    result = run_cli(capsys, "preflight", "--database-url", url)
    assert result.code == 3
    assert "does not accept TLS connections (PGSSLMODE=require); use sslmode=disable" in result.out


@pytest.mark.parametrize(
    ("url", "port"),
    [
        pytest.param(f"postgresql://u:{SECRET}@localhost:99999/db", "99999", id="host"),
        pytest.param(f"postgresql://u:{SECRET}@localhost:0/db", "0", id="zero"),
        pytest.param(f"postgresql://u:{SECRET}@[::1]:70000/db", "70000", id="ipv6"),
        pytest.param(f"postgresql://u:{SECRET}@h1:5432,h2:99999/db", "99999", id="second-host"),
        pytest.param(f"postgresql://u:{SECRET}@localhost/db?port=65536", "65536", id="parameter"),
    ],
)
def test_a_port_out_of_range_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], workdir: Path, url: str, port: str
) -> None:
    """The driver would wrap 99999 to 34463: exit 2 naming the port, never the password."""
    for command in (("preflight",), ("--client-id", "c", "--dry-run"), ("fixtures",)):
        result = run_cli(capsys, *command, "--database-url", url)
        assert (result.code, result.out) == (2, "")
        assert result.err == f"replay: --database-url port must be 1–65535, got {port}\n"
    assert list(workdir.rglob("run-*.json")) == []  # a usage error: no run, no artifact


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@localhost:65535/db",
        "postgresql://u:p@localhost/db",
        "postgresql://u:p@[::1]/db",
        "postgresql:///db?host=/run/pg&port=5433",
        "postgresql://u:p/99999@localhost:5432/db",  # an unencoded '/': the port may be password
    ],
)
def test_a_url_with_no_port_out_of_range_passes_as_it_is(url: str) -> None:
    """Ports in range, no port, or no port that can be told from the password: no rejection."""
    assert rules.database_url(url) == url


def test_a_port_rule_names_whichever_source_set_it() -> None:
    """The rule says the source its caller names, and the port alone."""
    with pytest.raises(rules.Rejected) as rejected:
        rules.database_url(f"postgresql://u:{SECRET}@db:99999/x")
    assert rejected.value.message("DATABASE_URL") == "DATABASE_URL port must be 1–65535, got 99999"


def test_preflight_of_an_unknown_client_exits_4(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """An unknown client is not a blocked run: every check passes but `client`, exit 4."""
    result = run_cli(capsys, "preflight", "--database-url", fixture_db, "--client-id", "nobody")
    assert (result.code, result.err) == (4, "")
    assert [line.split()[:2] for line in result.out.splitlines()] == [
        ["ok", "artifact_dir"],
        ["ok", "database"],
        ["ok", "views"],
        ["FAIL", "client"],
    ]
    assert result.out.splitlines()[-1] == (
        "FAIL  client       client 'nobody' is not in the clients view"
    )
    known = run_cli(
        capsys, "preflight", "--database-url", fixture_db, "--client-id", fixtures.clients[0].id
    )
    assert known.code == 0
    assert known.out.splitlines()[-1] == (
        f"ok    client       client {fixtures.clients[0].id!r} is in the clients view"
    )


def test_a_port_out_of_range_from_database_url_names_the_variable(
    capsys: pytest.CaptureFixture[str], workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Set by `DATABASE_URL`, the error names the variable, as for every other option."""
    monkeypatch.setenv("DATABASE_URL", f"postgresql://u:{SECRET}@localhost:99999/db")
    result = run_cli(capsys, "--client-id", "c", "--dry-run")
    assert (result.code, result.err) == (
        2,
        "replay: DATABASE_URL port must be 1–65535, got 99999\n",
    )


def test_a_port_out_of_range_from_url_env_names_that_variable(
    capsys: pytest.CaptureFixture[str], workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`[database] url_env` names the variable: its port error names it, never `--database-url`."""
    (workdir / "replay.toml").write_text('[database]\nurl_env = "SALES_DB"\n')
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SALES_DB", f"postgresql://u:{SECRET}@localhost:99999/db")
    result = run_cli(capsys, "--client-id", "c", "--dry-run")
    assert (result.code, result.err) == (
        2,
        "replay: $SALES_DB ([database] url_env) port must be 1–65535, got 99999\n",
    )
