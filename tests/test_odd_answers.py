"""A case's data is data: odd answers from a model or a pipeline become classified results.

Each odd answer is sent for real: by the local model server (models `fail-surrogate`,
`fail-huge`, `fail-usage`) through the unmodified SDK, or returned by a team's python pipeline.
The run finishes, its artifact and reports stay readable, and the odd case says what happened.
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import orjson
import pytest

from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import HUGE_CHARS, StubServer
from tests.helpers import only_artifact, run_cli

ARTIFACTS = Path(".artifacts/ai-replay")

ODD_PIPELINES = """
from replay.models import Outcome, Usage


def surrogate(case):
    return "Hi there \\ud800"


def huge(case):
    return "x" * 150_001


def negative(case):
    return {"text": "Thanks!", "usage": {"prompt_tokens": -3, "completion_tokens": 5}}


def absurd(case):
    return Outcome(text="Thanks!", usage=Usage(prompt_tokens=10**12, completion_tokens=5))


def controls(case):
    return "Hi {first_name},\\x07 beep\\x00 nul\\x1b esc\\x0c feed"


def metadata(case):
    return Outcome(text="Thanks!", metadata={"note": "cut \\udc80", "\\ud83d": 1})
"""


@pytest.fixture
def odd_pipelines(workdir: Path) -> Iterator[str]:
    """A module of pipelines that return odd answers, importable from the working directory."""
    (workdir / "oddpipes.py").write_text(textwrap.dedent(ODD_PIPELINES))
    yield "oddpipes"
    sys.modules.pop("oddpipes", None)


def _run(
    capsys: pytest.CaptureFixture[str], db: str, client: str, *args: str
) -> tuple[int, str, dict[str, Any]]:
    result = run_cli(
        capsys, "--client-id", client, "--database-url", db, "--limit", "3", "--no-gate", *args
    )
    assert result.code != 70, result.err
    return result.code, result.err, only_artifact(ARTIFACTS)


def test_a_lone_surrogate_from_the_model_is_repaired_and_recorded(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """An emoji cut in half by the model: U+FFFD in the draft, `metadata.sanitized` says so."""
    code, err, artifact = _run(
        capsys, fixture_db, fixtures.clients[0].id, "--model", "fail-surrogate"
    )
    assert code == 0, err
    outcomes = [case["outcome"] for case in artifact["cases"]]
    assert outcomes and all(o["text"].endswith(" \ufffd") for o in outcomes)
    assert all(o["metadata"]["sanitized"] == ["text"] for o in outcomes)
    report = next(ARTIFACTS.glob("run-*.html")).read_text(encoding="utf-8")
    assert "\ufffd" in report


def test_a_huge_answer_from_the_model_is_an_error_naming_its_size(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A runaway answer is a `model_error` with its size; the artifact never holds it."""
    code, err, artifact = _run(capsys, fixture_db, fixtures.clients[0].id, "--model", "fail-huge")
    assert code == 0, err
    errors = [case["error"] for case in artifact["cases"]]
    assert errors and all(e["error_class"] == "model_error" for e in errors)
    assert all("over --max-answer-chars 100,000" in e["message"] for e in errors)
    sizes = [re.search(r"the answer has ([\d,]+) characters", e["message"]) for e in errors]
    assert all(size and int(size[1].replace(",", "")) >= HUGE_CHARS for size in sizes)
    assert next(ARTIFACTS.glob("run-*.json")).stat().st_size < 200_000


def test_max_answer_chars_lets_a_long_answer_through(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """`--max-answer-chars` raises the cap: the same long answer is then a draft."""
    code, err, artifact = _run(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--model",
        "fail-huge",
        "--max-answer-chars",
        str(2 * HUGE_CHARS),
        "--limit",
        "1",
    )
    assert code == 0, err
    assert len(artifact["cases"][0]["outcome"]["text"]) >= HUGE_CHARS


def test_a_negative_usage_from_the_model_is_a_malformed_answer(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A negative token count is not a cost: the case is a `model_error`, the run goes on."""
    code, err, artifact = _run(capsys, fixture_db, fixtures.clients[0].id, "--model", "fail-usage")
    assert code == 0, err
    errors = [case["error"] for case in artifact["cases"]]
    assert errors and all(e["error_class"] == "model_error" for e in errors)
    assert all("malformed usage (-" in e["message"] for e in errors)
    assert artifact["summary"]["cost_usd"] in (0, None)


@pytest.mark.parametrize(
    ("function", "error_class", "message"),
    [
        pytest.param("huge", "pipeline_error", "150,001 characters", id="huge"),
        pytest.param("negative", "pipeline_error", "usage.prompt_tokens", id="negative-usage"),
        pytest.param("absurd", "pipeline_error", "impossible usage", id="absurd-usage"),
    ],
)
def test_an_odd_python_answer_is_a_pipeline_error(
    capsys: pytest.CaptureFixture[str],
    odd_pipelines: str,
    fixture_db: str,
    fixtures: FixtureSummary,
    function: str,
    error_class: str,
    message: str,
) -> None:
    """A team's pipeline returning junk of a valid type: classified, the run finishes."""
    pipeline = f"python:{odd_pipelines}:{function}"
    code, err, artifact = _run(capsys, fixture_db, fixtures.clients[0].id, "--pipeline", pipeline)
    assert code == 0, err
    errors = [case["error"] for case in artifact["cases"]]
    assert errors and all(e["error_class"] == error_class for e in errors)
    assert all(message in e["message"] for e in errors)


@pytest.mark.parametrize(
    ("function", "repaired"),
    [
        pytest.param("surrogate", ["text"], id="text"),
        pytest.param("metadata", ["metadata"], id="metadata"),
    ],
)
def test_a_lone_surrogate_from_a_python_pipeline_is_repaired(
    capsys: pytest.CaptureFixture[str],
    odd_pipelines: str,
    fixture_db: str,
    fixtures: FixtureSummary,
    function: str,
    repaired: list[str],
) -> None:
    """A lone surrogate from the team's code: repaired, recorded, every output still valid."""
    pipeline = f"python:{odd_pipelines}:{function}"
    code, err, artifact = _run(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--pipeline",
        pipeline,
        "--junit",
        "cases.xml",
        "--summary-md",
        "summary.md",
    )
    assert code == 0, err
    outcomes = [case["outcome"] for case in artifact["cases"]]
    assert outcomes and all(o["metadata"]["sanitized"] == repaired for o in outcomes)
    assert "\ufffd" in orjson.dumps(outcomes).decode()
    assert Path("cases.xml").read_text(encoding="utf-8").count("<testcase") == 3


@pytest.mark.parametrize(
    ("judge_model", "verdict"),
    [
        pytest.param("fail-surrogate", "unscored", id="surrogate"),
        pytest.param("fail-usage", "error", id="negative-usage"),
    ],
)
def test_an_odd_judge_answer_never_crashes_the_run(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    judge_model: str,
    verdict: str,
) -> None:
    """A judge that answers junk: the case is unscored or a judge error, the replay stands."""
    code, err, artifact = _run(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--model",
        "replay-variant",
        "--judge-model",
        judge_model,
        "--no-judge-cache",
    )
    assert code == 0, err
    judged = [case["judge"] for case in artifact["cases"] if case.get("judge")]
    assert judged and {j["verdict"] for j in judged} == {verdict}
    assert all(case["outcome"] is not None for case in artifact["cases"])


def test_progress_counts_invalid_cases_and_ends_at_the_selection(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """The last progress line says done/selected with invalid cases counted, not short of it."""
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        "--model",
        "replay-original",
        "--limit",
        "120",
        "--no-gate",
        "--status",
        "any",
    )
    assert result.code == 0, result.err
    artifact = only_artifact(ARTIFACTS)
    invalid = artifact["summary"]["by_verdict"].get("invalid_case", 0)
    assert invalid > 0  # the fixtures hold corrupt rows: the line must count them too
    found = artifact["selection"]["found"]
    last = [line for line in result.err.splitlines() if line.startswith("progress: ")][-1]
    assert last.startswith(f"progress: {found}/{found} done, ")


def test_junit_stays_valid_xml_whatever_a_draft_holds(
    capsys: pytest.CaptureFixture[str],
    odd_pipelines: str,
    fixture_db: str,
    fixtures: FixtureSummary,
) -> None:
    """Control characters XML 1.0 forbids: written as visible escapes; a strict parser reads it."""
    code, err, _ = _run(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "--pipeline",
        f"python:{odd_pipelines}:controls",
        "--junit",
        "cases.xml",
    )
    assert code == 0, err
    tree = ElementTree.parse("cases.xml")  # expat: refuses any character XML 1.0 forbids
    failures = [node.text or "" for node in tree.iter("failure")]
    assert failures and all("\\x07 beep\\x00 nul\\x1b esc\\x0c feed" in text for text in failures)


def test_clean_metadata_is_left_as_it_was() -> None:
    """Metadata without a lone surrogate is not marked repaired, tuples and all."""
    from replay.models import Outcome
    from replay.run.answers import admitted

    outcome = Outcome(text="Thanks!", metadata={"steps": ("plan", "draft"), "n": 2})
    kept = admitted(outcome, max_chars=100, error_class="pipeline_error")
    assert kept is outcome and "sanitized" not in kept.metadata
