"""Helpers for tests that run the real `replay` entry point in-process."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import httpx2
import orjson
import pytest

from replay.cli.app import main

STUB_KEY = "sk-test-local"
"""The API key the `stub` fixture's local model server enforces."""


class Result(NamedTuple):
    """What a command printed and how it exited."""

    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """Run `replay ARGS` through its entry point and capture exit code, stdout and stderr.

    From an async test the command runs in a worker thread, as it starts its own event loop.
    """
    capsys.readouterr()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        code = _exit_code(args)
    else:
        with ThreadPoolExecutor(max_workers=1) as pool:
            code = pool.submit(_exit_code, args).result()
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def _exit_code(args: tuple[str, ...]) -> int:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    code = exited.value.code
    return code if isinstance(code, int) else 1


def only_artifact(directory: Path) -> dict[str, Any]:
    """Load the single artifact in `directory`."""
    files = sorted(directory.glob("run-*.json"))
    assert len(files) == 1, files
    data: dict[str, Any] = orjson.loads(files[0].read_bytes())
    return data


def replay_to(
    capsys: pytest.CaptureFixture[str], db: str, client: str, out: str, *args: str
) -> tuple[Result, dict[str, Any]]:
    """Run `replay` for a client into the artifact `out`; return the result and the artifact."""
    result = run_cli(
        capsys, "--client-id", client, "--database-url", db, "--quiet", "--out", out, *args
    )
    assert result.code != 70, result.err
    data: dict[str, Any] = orjson.loads(Path(out).read_bytes())
    return result, data


STARTED: list[subprocess.Popen[bytes]] = []
"""Processes a test started; `conftest` reaps them after each test, even one that failed early."""


def reap() -> None:
    """Kill what is still running of `STARTED` and release every pipe."""
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def injected(base_url: str, plan: dict[str, Any]) -> str:
    """Which mistake the local model server puts into this exact planned request (`none`)."""
    from replay.models import ChatRequest

    body = {**ChatRequest.model_validate(plan["request"]).to_api(), "stream": False}
    with httpx2.Client(base_url=base_url, headers={"authorization": f"Bearer {STUB_KEY}"}) as http:
        return http.post("/chat/completions", content=orjson.dumps(body)).headers["x-stub-injected"]


def replay_variant(
    capsys: pytest.CaptureFixture[str], base_url: str, db: str, clients: list[str], limit: int
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Replay each client's last `limit` cases through `replay-variant`, ungated.

    Returns the mistake the local model server injected into each case (`none` for a faithful
    rewording), from a dry run's planned requests, and each case of the live runs.
    """
    mistakes: dict[str, str] = {}
    cases: dict[str, dict[str, Any]] = {}
    for index, client in enumerate(clients):
        args = ("--model", "replay-variant", "--limit", str(limit))
        _, dry = replay_to(capsys, db, client, f"dry{index}.json", "--dry-run", *args)
        planned = [case for case in dry["cases"] if case["plan"]]
        mistakes |= {case["case_id"]: injected(base_url, case["plan"]) for case in planned}
        result, live = replay_to(capsys, db, client, f"live{index}.json", "--no-gate", *args)
        assert result.code == 0, result.err
        cases |= {case["case_id"]: case for case in live["cases"]}
    return mistakes, cases


def assert_caught(mistakes: dict[str, str], cases: dict[str, dict[str, Any]]) -> None:
    """Each injected mistake is reported under its own code; a faithful rewording never regresses.

    A critical one regresses the case as new; a warning is found, new where the original
    answered and pre-existing where it did not, and never regresses on its own.
    """
    for case_id, code in mistakes.items():
        case = cases[case_id]
        said = (case["outcome"]["text"], case["reasons"])
        if code == "none":
            assert case["verdict"] != "regressed", said
        elif code in warning_kinds():
            found = case["invariants"]["new"] + case["invariants"]["pre_existing"]
            assert code in {v["code"] for v in found}, (code, *said)
        else:
            assert case["verdict"] == "regressed", (code, *said)
            assert code in {v["code"] for v in case["invariants"]["new"]}, (code, *said)


def warning_kinds() -> frozenset[str]:
    """The injected mistakes whose check is a warning: they never regress a case on their own."""
    from replay.verdict.checks import SEVERITY

    return frozenset(code for code, severity in SEVERITY.items() if severity == "warning")


def check_except_questions(draft: str, case: Any, *args: Any, **kwargs: Any) -> list[Any]:
    """`checks.check` without `unanswered_question`, for tables that pin the other checks.

    Their short drafts answer no question of their inbound: the question check has its own
    table (tests/test_questions.py).
    """
    from replay.verdict.checks import check

    return [v for v in check(draft, case, *args, **kwargs) if v.code != "unanswered_question"]


def serving(monkeypatch: pytest.MonkeyPatch, **options: Any) -> Iterator[Any]:
    """The local model server with `options` (and the tests' key), reached through the env."""
    from replay.devtools.stub_model import StubOptions, running

    with running(StubOptions(api_key=STUB_KEY, **options)) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", STUB_KEY)
        yield server


def killed_partial(path: Path, run: dict[str, Any], batches: list[dict[str, Any]]) -> None:
    """A partial log as a kill leaves it: the header of `run`, these batch records, no result."""
    keys = ("created_at", "identity", "config_hash", "config")
    header = {key: run[key] for key in keys} | {
        "run_id": "killed", "mode": "live", "selection": {}, "parts": [],
        "case_ids": run["selection"]["case_ids"],
    }  # fmt: skip
    lines = [orjson.dumps({"header": header})]
    lines += [b'{"batch":' + orjson.dumps(record) + b"}" for record in batches]
    path.write_bytes(b"\n".join(lines) + b"\n")
