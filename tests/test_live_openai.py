"""Live runs through the built-in openai pipeline against the local model server on loopback."""

from __future__ import annotations

import http.server
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import StubOptions, StubServer, running, spawn, terminate
from tests.helpers import Result, only_artifact, run_cli

ARTIFACTS = Path(".artifacts/ai-replay")
KEY = "sk-stub-Secret-0123456789"


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> Iterator[StubServer]:
    """A local model server that every run of the test talks to through OPENAI_BASE_URL."""
    with running(StubOptions(api_key=KEY, retry_after_s=0.05)) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        yield server


def live(
    capsys: pytest.CaptureFixture[str], db: str, client: str, *args: str
) -> tuple[Result, dict[str, Any]]:
    result = run_cli(capsys, "--client-id", client, "--database-url", db, "--quiet", *args)
    assert result.code != 70, result.err
    return result, only_artifact(ARTIFACTS)


def test_the_original_model_reproduces_recorded_drafts(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Re-sending recorded requests to a model that drafts as production did: all unchanged."""
    result, artifact = live(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--model",
        "replay-original",
        "--request-source",
        "recorded",
        "--limit",
        "10",
    )
    assert result.code == 0
    replayed = [c for c in artifact["cases"] if c["verdict"] != "skipped"]
    assert replayed and {c["verdict"] for c in replayed} == {"unchanged"}
    assert all(c["outcome"]["usage"]["prompt_tokens"] > 0 for c in replayed)
    assert all(c["outcome"]["metadata"]["request_source"] == "recorded" for c in replayed)
    assert [e["check"] for e in artifact["preflight"]][-1] == "model"
    assert artifact["summary"]["prompt_tokens"] > 0


def test_a_429_storm_finishes_with_retries_counted(
    capsys: pytest.CaptureFixture[str],
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Half the requests get 429 + Retry-After: every case still finishes, within its budget."""
    options = StubOptions(api_key=KEY, rate_429=0.5, retry_after_s=0.02, seed=3)
    with running(options) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        result, artifact = live(
            capsys,
            fixture_db,
            fixtures.clients[0].id,
            "--model",
            "replay-original",
            "--limit",
            "16",
            "--retries",
            "8",
            "--concurrency",
            "4",
        )
    assert result.code == 0
    cases = artifact["cases"]
    assert all(c["verdict"] in ("changed", "unchanged") for c in cases)
    retried = [c for c in cases if len(c["attempts"]) > 1]
    assert retried, "a 50% 429 rate must cause retries"
    for case in retried:
        assert all(a["error_class"] == "model_rate_limit" for a in case["attempts"][:-1])
        assert all(a["retry_after_s"] == pytest.approx(0.02) for a in case["attempts"][:-1])
        assert len(case["attempts"]) <= 9
    assert artifact["summary"]["retries"] == sum(len(c["attempts"]) - 1 for c in cases)
    assert server.requests == sum(len(c["attempts"]) for c in cases)


def test_500s_beyond_the_retry_budget_end_as_model_error(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A model that always fails: each case tries 1 + --retries times, then model_error."""
    result, artifact = live(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--model",
        "fail-500",
        "--limit",
        "3",
        "--retries",
        "2",
    )
    assert result.code == 1
    assert artifact["gate"]["failed"] == ["error_rate", "min_evidence"]
    for case in artifact["cases"]:
        assert case["error"] == {
            "error_class": "model_error",
            "message": "the model endpoint failed (500) after 3 attempts",
            "status": 500,
        }
        assert [a["status"] for a in case["attempts"]] == [500, 500, 500]
    assert stub.requests_by_model["fail-500"] == 9


def test_retries_zero_means_one_attempt(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """--retries 0: a retryable failure is final at once."""
    _, artifact = live(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--model",
        "fail-429",
        "--limit",
        "2",
        "--retries",
        "0",
    )
    assert {len(c["attempts"]) for c in artifact["cases"]} == {1}
    assert {c["error"]["error_class"] for c in artifact["cases"]} == {"model_rate_limit"}


def test_a_hanging_server_times_out_per_attempt(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Each attempt that passes --request-timeout is a model_timeout, and is retried."""
    _, artifact = live(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--model",
        "fail-hang",
        "--limit",
        "2",
        "--request-timeout",
        "0.2",
        "--retries",
        "1",
    )
    for case in artifact["cases"]:
        assert [a["error_class"] for a in case["attempts"]] == ["model_timeout", "model_timeout"]
        assert case["error"]["error_class"] == "model_timeout"


def test_the_case_deadline_ends_a_case_as_timeout(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """When --case-timeout passes across attempts the case is a final `timeout`."""
    _, artifact = live(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--model",
        "fail-hang",
        "--limit",
        "2",
        "--request-timeout",
        "0.3",
        "--case-timeout",
        "0.5",
        "--retries",
        "5",
    )
    for case in artifact["cases"]:
        assert case["error"]["error_class"] == "timeout"
        assert case["error"]["message"].startswith("the case passed --case-timeout 0.5 s")
    assert artifact["summary"]["by_error_class"] == {"timeout": 2}


@pytest.mark.parametrize(
    ("model", "message"),
    [
        pytest.param(
            "fail-malformed",
            "the model endpoint sent a malformed response (JSONDecodeError)",
            id="malformed",
        ),
        pytest.param(
            "fail-content-type",
            "the model endpoint sent a response without choices",
            id="content-type",
        ),
    ],
)
def test_malformed_bodies_are_model_errors_with_a_reason(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    model: str,
    message: str,
) -> None:
    """A body that is not a chat completion is a model_error, not retried, with a reason."""
    _, artifact = live(capsys, fixture_db, fixtures.clients[0].id, "--model", model, "--limit", "2")
    for case in artifact["cases"]:
        assert case["error"] == {"error_class": "model_error", "message": message, "status": None}
        assert len(case["attempts"]) == 1


def test_a_truncated_body_is_a_connection_error(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A response cut short reads as a broken connection: model_connection, retried."""
    _, artifact = live(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--model",
        "fail-truncated",
        "--limit",
        "1",
        "--retries",
        "1",
    )
    (case,) = artifact["cases"]
    assert [a["error_class"] for a in case["attempts"]] == ["model_connection"] * 2


@pytest.mark.parametrize(
    ("model", "key", "code", "message"),
    [
        pytest.param(
            "replay-original",
            "sk-wrong-Secret-999",
            "model_unauthorized",
            "rejected the API key (401)",
            id="bad-key",
        ),
        pytest.param(
            "gpt-9-imaginary",
            KEY,
            "model_unknown",
            "does not list model 'gpt-9-imaginary'",
            id="unknown-model",
        ),
    ],
)
def test_preflight_blocks_before_any_case_runs(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    monkeypatch: pytest.MonkeyPatch,
    model: str,
    key: str,
    code: str,
    message: str,
) -> None:
    """A wrong key or an unknown model exits 3 with no chat request sent and no key anywhere."""
    monkeypatch.setenv("OPENAI_API_KEY", key)
    result, artifact = live(capsys, fixture_db, fixtures.clients[0].id, "--model", model)
    assert result.code == 3
    assert (artifact["status"], artifact["cases"]) == ("blocked", [])
    entry = artifact["preflight"][-1]
    assert (entry["check"], entry["code"]) == ("model", code)
    assert message in entry["message"] and stub.base_url in entry["message"]
    assert stub.requests == 0
    everything = (
        result.out
        + result.err
        + ARTIFACTS.joinpath(next(ARTIFACTS.glob("run-*.json")).name).read_text()
    )
    assert "Secret" not in everything


def test_no_api_key_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The openai pipeline without OPENAI_API_KEY exits 2 and says which variable to set."""
    monkeypatch.delenv("OPENAI_API_KEY")
    result = run_cli(capsys, "--client-id", fixtures.clients[0].id, "--database-url", fixture_db)
    assert (result.code, result.err) == (
        2,
        "replay: the openai pipeline needs an API key: set OPENAI_API_KEY\n",
    )


def test_max_cost_stops_starting_cases(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
) -> None:
    """The budget runs out mid-run: the rest are skipped with reason budget, exit 1."""
    (workdir / "replay.toml").write_text(
        '[prices."replay-original"]\ninput = 2000.0\noutput = 2000.0\n'
    )
    result, artifact = live(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--model",
        "replay-original",
        "--limit",
        "12",
        "--concurrency",
        "1",
        "--max-cost",
        "5",
    )
    assert result.code == 1
    assert "--max-cost 5 reached" in result.err
    verdicts = [c["verdict"] for c in artifact["cases"]]
    ran = [v for v in verdicts if v != "skipped"]
    assert 0 < len(ran) < 12
    assert verdicts == ran + ["skipped"] * (12 - len(ran))  # once refused, never restarted
    assert {s["reason"] for s in artifact["selection"]["skipped"]} == {"budget"}
    assert artifact["gate"]["failed"] == ["budget", "min_evidence"]
    assert artifact["summary"]["cost_usd"] <= 5
    assert stub.requests == len(ran)


def test_max_cost_with_an_unpriced_model_exits_2(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A budget needs prices: an unpriced model is a usage error naming the model."""
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        "--model",
        "replay-variant",
        "--max-cost",
        "1",
    )
    assert result.code == 2
    assert result.err.startswith("replay: --max-cost needs a price for model 'replay-variant'; ")


def test_the_server_dying_mid_run_is_model_connection(
    capsys: pytest.CaptureFixture[str],
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Killing the server mid-run: the rest end as model_connection, the run still finishes."""
    process, base_url = spawn("--port", "0", "--api-key", KEY, "--latency-ms", "150")
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    killer = threading.Timer(0.8, lambda: os.kill(process.pid, signal.SIGKILL))
    killer.start()
    try:
        result, artifact = live(
            capsys,
            fixture_db,
            fixtures.clients[0].id,
            "--model",
            "replay-original",
            "--limit",
            "20",
            "--concurrency",
            "1",
            "--retries",
            "1",
        )
    finally:
        killer.cancel()
        terminate(process)
    errors = [c for c in artifact["cases"] if c["verdict"] == "error"]
    assert errors and len(errors) < 20
    assert {c["error"]["error_class"] for c in errors} == {"model_connection"}
    assert artifact["status"] == "complete"
    assert result.code == 1  # the run finished, and the error rate fails the gate
    assert artifact["gate"]["failed"] == ["error_rate", "min_evidence"]
    assert result.err.startswith("replay: gate failed: error_rate ")


class _JunkHandler(http.server.BaseHTTPRequestHandler):
    """A team endpoint: junk for one path, a good Outcome for the other."""

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        self.rfile.read(int(self.headers["content-length"]))
        body = b"<html>oops</html>" if self.path == "/junk" else b'{"text": "Hello from HTTP"}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        """Keep test output clean."""


@pytest.fixture
def team_endpoint() -> Iterator[str]:
    """A real HTTP server on loopback standing in for a team's drafting service."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _JunkHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("path", "verdict"),
    [pytest.param("/draft", "changed", id="good"), pytest.param("/junk", "error", id="junk")],
)
def test_http_pipeline(
    capsys: pytest.CaptureFixture[str],
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
    team_endpoint: str,
    path: str,
    verdict: str,
) -> None:
    """An http pipeline's Outcome is used; a body that is not JSON is a pipeline_error."""
    _, artifact = live(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--pipeline",
        team_endpoint + path,
        "--limit",
        "2",
    )
    assert {c["verdict"] for c in artifact["cases"]} == {verdict}
    if verdict == "error":
        assert {c["error"]["error_class"] for c in artifact["cases"]} == {"pipeline_error"}
        assert "with a body that is not JSON" in artifact["cases"][0]["error"]["message"]
    else:
        assert artifact["cases"][0]["outcome"]["text"] == "Hello from HTTP"
