"""Live runs through `python:module:function` pipelines: the team's own code, in-process."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from replay.devtools.generator import FixtureSummary
from tests.helpers import only_artifact, run_cli

ARTIFACTS = Path(".artifacts/ai-replay")

PIPELINES = '''
import threading
import time

import anyio

from replay.devtools.drafting import write_draft
from replay.models import Outcome

state = {"in_flight": 0, "peak": 0, "seen": []}
lock = threading.Lock()


async def faithful(case):
    """Re-draft from the recorded request: what production wrote, if the drafter did not change."""
    state["seen"].append(sorted(case.model_dump()))
    state["in_flight"] += 1
    state["peak"] = max(state["peak"], state["in_flight"])
    await anyio.sleep(0.02)
    state["in_flight"] -= 1
    recorded = case.original_request
    messages = [m.model_dump() for m in recorded.messages] if recorded else []
    marker = {"recorded": bool(recorded)}
    return Outcome(text=write_draft(messages), model="in-house", metadata=marker)


def sync_dict(case):
    with lock:
        state["in_flight"] += 1
        state["peak"] = max(state["peak"], state["in_flight"])
    time.sleep(0.01)
    with lock:
        state["in_flight"] -= 1
    return {"text": "Thanks for reaching out!", "model": "in-house"}


def boom(case):
    raise RuntimeError("token=sk-live-123456 leaked in a message")


async def junk(case):
    return 42


def bad_dict(case):
    return {"txt": "typo"}
'''


@pytest.fixture
def pipelines(workdir: Path) -> Iterator[str]:
    """A module of pipelines in the working directory, as a team would have one."""
    (workdir / "teampipes.py").write_text(textwrap.dedent(PIPELINES))
    yield "teampipes"
    sys.modules.pop("teampipes", None)


def live(
    capsys: pytest.CaptureFixture[str], db: str, client: str, *args: str
) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    result = run_cli(capsys, "--client-id", client, "--database-url", db, "--quiet", *args)
    assert result.code != 70, result.err
    return result.code, only_artifact(ARTIFACTS), result.err


def test_a_faithful_pipeline_leaves_recorded_cases_unchanged(
    capsys: pytest.CaptureFixture[str], pipelines: str, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Re-drafting the recorded request reproduces the original: unchanged, one attempt each."""
    code, artifact, _ = live(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--pipeline",
        f"python:{pipelines}:faithful",
        "--request-source",
        "recorded",
        "--limit",
        "15",
    )
    assert code == 0
    assert (artifact["mode"], artifact["status"], artifact["exit_code"]) == ("live", "complete", 0)
    recorded = [c for c in artifact["cases"] if c["outcome"]["metadata"]["recorded"]]
    assert 0 < len(recorded) < 15  # the fixtures record most requests, not all
    for case in recorded:
        assert case["verdict"] == "unchanged"
        assert case["comparison"]["change_class"] == "identical"
    for case in artifact["cases"]:
        assert len(case["attempts"]) == 1 and case["attempts"][0]["error_class"] is None
        assert case["latency_ms"] > 0
    assert artifact["summary"]["latency_ms_p50"] > 0


def test_the_pipeline_never_sees_the_answers(
    capsys: pytest.CaptureFixture[str], pipelines: str, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """The CaseInput handed to a pipeline has no original draft, disposition or sent reply."""
    code, _, _ = live(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--pipeline",
        f"python:{pipelines}:faithful",
        "--limit",
        "3",
    )
    assert code == 0
    seen = sys.modules[pipelines].state["seen"]
    assert len(seen) == 3
    for fields in seen:
        assert not {"original_draft", "disposition", "sent_reply", "original"} & set(fields)
        assert {"inbound", "thread", "lead", "client_settings", "original_request"} <= set(fields)


def test_concurrency_is_bounded(
    capsys: pytest.CaptureFixture[str], pipelines: str, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """At most --concurrency cases are in flight, and that many are reached."""
    code, _, _ = live(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--pipeline",
        f"python:{pipelines}:faithful",
        "--limit",
        "20",
        "--concurrency",
        "4",
    )
    assert code == 0
    assert sys.modules[pipelines].state["peak"] == 4


def test_a_sync_pipeline_runs_in_worker_threads(
    capsys: pytest.CaptureFixture[str], pipelines: str, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A sync function returning a dict works, concurrently, off the event loop."""
    code, artifact, _ = live(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--pipeline",
        f"python:{pipelines}:sync_dict",
        "--limit",
        "12",
        "--concurrency",
        "3",
    )
    assert code == 0
    assert {c["verdict"] for c in artifact["cases"]} == {"changed"}
    assert {c["outcome"]["text"] for c in artifact["cases"]} == {"Thanks for reaching out!"}
    assert sys.modules[pipelines].state["peak"] == 3


@pytest.mark.parametrize(
    ("function", "message"),
    [
        pytest.param(
            "boom", "python:teampipes:boom raised RuntimeError at teampipes.py:", id="raises"
        ),
        pytest.param(
            "junk",
            "python:teampipes:junk returned int; expected an Outcome, a str or a dict",
            id="junk",
        ),
        pytest.param(
            "bad_dict",
            "python:teampipes:bad_dict returned a dict that is not an Outcome: "
            "text: Field required",
            id="bad-dict",
        ),
    ],
)
def test_a_broken_pipeline_is_a_pipeline_error_per_case(
    capsys: pytest.CaptureFixture[str],
    pipelines: str,
    fixture_db: str,
    fixtures: FixtureSummary,
    function: str,
    message: str,
) -> None:
    """Raising or returning junk makes each case a pipeline_error; the run finishes; no retry."""
    code, artifact, _ = live(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--pipeline",
        f"python:{pipelines}:{function}",
        "--limit",
        "4",
    )
    assert code == 1  # finished; every case errored, so the error-rate rule fails the gate
    assert artifact["status"] == "complete" and artifact["gate"]["failed"] == [
        "error_rate",
        "min_evidence",
    ]
    for case in artifact["cases"]:
        assert case["verdict"] == "error"
        assert case["error"]["error_class"] == "pipeline_error"
        assert case["error"]["message"].startswith(message)
        assert len(case["attempts"]) == 1
    assert artifact["summary"]["by_error_class"] == {"pipeline_error": 4}
    assert "sk-live" not in str(artifact)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param(
            "python:nosuchmodule:f",
            "cannot import module 'nosuchmodule' (ModuleNotFoundError)",
            id="module",
        ),
        pytest.param(
            "python:teampipes:nosuch", "module 'teampipes' has no function 'nosuch'", id="function"
        ),
        pytest.param(
            "python:teampipes",
            "--pipeline must be openai, python:module:function or an http(s):// URL",
            id="form",
        ),
    ],
)
def test_a_pipeline_that_cannot_be_imported_exits_2(
    capsys: pytest.CaptureFixture[str],
    pipelines: str,
    fixture_db: str,
    fixtures: FixtureSummary,
    spec: str,
    message: str,
) -> None:
    """An import failure exits 2 with one line, before touching the database; no artifact."""
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        "--pipeline",
        spec,
    )
    assert result.code == 2
    assert message in result.err and result.err.count("\n") == 1
    assert not ARTIFACTS.exists()


def test_max_cost_never_runs_a_case_it_cannot_price(
    capsys: pytest.CaptureFixture[str], pipelines: str, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Under --max-cost a case whose model has no price is skipped (unpriced_model), not run."""
    code, artifact, _ = live(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--pipeline",
        f"python:{pipelines}:faithful",
        "--model",
        "model-without-a-price",
        "--max-cost",
        "1",
        "--limit",
        "3",
        "--no-gate",
    )
    assert code == 0
    assert [c["verdict"] for c in artifact["cases"]] == ["skipped"] * 3
    assert {s["reason"] for s in artifact["selection"]["skipped"]} == {"unpriced_model"}
    assert sys.modules[pipelines].state["seen"] == []


def test_an_answer_cut_by_its_token_limit_is_truncated_even_when_it_reads_whole(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """`finish_reason: length` reaches the checks: a cut answer regresses, its reason named."""
    (workdir / "cutpipes.py").write_text(
        textwrap.dedent(
            """
            def cut(case):
                return {"text": "Thanks for your message.", "finish_reason": "length"}
            """
        )
    )
    try:
        code, artifact, _ = live(
            capsys, fixture_db, fixtures.clients[0].id, "--pipeline", "python:cutpipes:cut",
            "--limit", "5",
        )  # fmt: skip
    finally:
        sys.modules.pop("cutpipes", None)
    assert code == 1
    drafted = [c for c in artifact["cases"] if c["outcome"]]
    assert drafted and all(c["verdict"] == "regressed" for c in drafted)
    for case in drafted:
        assert "truncated" in {v["code"] for v in case["invariants"]["new"]}, case["reasons"]
