"""Not measured is not zero: a run's figures it could not measure are null, with the reason.

Each test is a live run whose data cannot give one figure (no token usage, no price, no original
draft, no sent reply, no draft at all); the JSON holds null and the reason, and the terminal,
Markdown and HTML say "not measured (reason)" where a zero would have been a lie.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import replay
from replay.devtools.generator import FixtureSummary
from tests.helpers import Result, only_artifact, run_cli

ARTIFACTS = Path(".artifacts/ai-replay")
SQL = Path(replay.__file__).parent / "config" / "sql"

PIPELINES = '''
def plain(case):
    """A team's drafter that reports neither token usage nor a priced model."""
    return {"text": "Thanks for reaching out! When suits you for a call?", "model": "in-house"}


def broken(case):
    raise RuntimeError("the drafting service is down")


def priced(case):
    """A priced model, but no usage: its cost cannot be told from its price alone."""
    return {"text": "Thanks for reaching out! When suits you for a call?", "model": "gpt-4o"}


calls = {"n": 0}


def some_usage(case):
    """Every other draft reports its tokens: a sum over half would pass for the whole."""
    calls["n"] += 1
    usage = {"prompt_tokens": 40, "completion_tokens": 12} if calls["n"] % 2 else None
    return {"text": "Thanks! When suits you?", "model": "gpt-4o", "usage": usage}


def unpriced(case):
    """Tokens reported, but a model nobody prices."""
    usage = {"prompt_tokens": 40, "completion_tokens": 12}
    return {"text": "Thanks! When suits you?", "model": "in-house", "usage": usage}
'''


@pytest.fixture
def pipelines(workdir: Path) -> Iterator[str]:
    """The team's module of pipelines in the working directory."""
    (workdir / "plainpipes.py").write_text(textwrap.dedent(PIPELINES))
    yield "plainpipes"
    sys.modules.pop("plainpipes", None)


def _live(
    capsys: pytest.CaptureFixture[str], db: str, client: str, pipeline: str, *args: str
) -> tuple[Result, dict[str, Any]]:
    result = run_cli(
        capsys,
        "--client-id",
        client,
        "--database-url",
        db,
        "--pipeline",
        f"python:{pipeline}",
        "--limit",
        "5",
        "--no-gate",
        "--summary-md",
        "summary.md",
        *args,
    )
    assert result.code == 0, result.err
    return result, only_artifact(ARTIFACTS)


def test_no_usage_and_no_price_are_not_measured_never_zero(
    capsys: pytest.CaptureFixture[str], pipelines: str, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """No usage: tokens and cost are null with the reason in the JSON and in every rendering."""
    result, artifact = _live(capsys, fixture_db, fixtures.clients[0].id, f"{pipelines}:plain")
    summary = artifact["summary"]
    assert (summary["prompt_tokens"], summary["completion_tokens"], summary["cost_usd"]) == (
        None,
        None,
        None,
    )
    assert summary["not_measured"]["prompt_tokens"] == "the pipeline reported no token usage"
    assert summary["not_measured"]["cost_usd"] == "the pipeline reported no token usage"
    line = (
        "not measured (the pipeline reported no token usage) · cost not measured "
        "(the pipeline reported no token usage) · retries 0"
    )
    assert f"tokens      {line}" in result.out
    assert f"| tokens | {line} |" in Path("summary.md").read_text()
    report = next(ARTIFACTS.glob("run-*.html")).read_text()
    assert (
        '<b data-testid="tokens"><abbr title="the pipeline reported no token usage">not measured'
        in report
    )
    assert '<b data-testid="cost"><abbr title="the pipeline reported no token usage">' in report


@pytest.mark.parametrize(
    ("pipeline", "tokens", "cost"),
    [
        pytest.param(
            "priced",
            "the pipeline reported no token usage",
            "the pipeline reported no token usage",
            id="priced-model-without-usage",
        ),
        pytest.param(
            "some_usage",
            "2 of 5 drafts reported no token usage",
            "2 of 5 drafts reported no token usage",
            id="partial-usage",
        ),
        pytest.param("unpriced", None, "no price for in-house", id="usage-without-price"),
    ],
)
def test_cost_names_what_it_lacked_usage_or_price(
    capsys: pytest.CaptureFixture[str],
    pipelines: str,
    fixture_db: str,
    fixtures: FixtureSummary,
    pipeline: str,
    tokens: str | None,
    cost: str,
) -> None:
    """A priced model without usage is not 'no price'; a partial token sum is not the whole."""
    _, artifact = _live(
        capsys, fixture_db, fixtures.clients[0].id, f"{pipelines}:{pipeline}", "--concurrency", "1"
    )
    summary = artifact["summary"]
    assert summary["cost_usd"] is None
    assert summary["not_measured"]["cost_usd"] == cost
    assert summary["not_measured"].get("prompt_tokens") == tokens
    if tokens is None:
        assert (summary["prompt_tokens"], summary["completion_tokens"]) == (200, 60)
    else:
        assert summary["prompt_tokens"] is None


def test_a_view_without_original_drafts_or_sent_replies_measures_no_similarity(
    capsys: pytest.CaptureFixture[str], pipelines: str, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Without `original_draft` and `sent_reply` columns nothing is compared: null, not 0."""
    cases = "\n".join(
        line
        for line in (SQL / "cases.sql").read_text().splitlines()
        if "AS original_draft" not in line and "AS sent_reply" not in line
    )
    Path("no-drafts.sql").write_text(cases)
    result, artifact = _live(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        f"{pipelines}:plain",
        "--source-sql",
        "no-drafts.sql",
    )
    summary = artifact["summary"]
    assert summary["similarity_mean"] is None and summary["sent_similarity_new_mean"] is None
    assert summary["not_measured"]["similarity_mean"] == (
        "no case had both an original and a new draft"
    )
    assert "similarity  not measured (no case had both an original and a new draft)" in result.out
    assert (
        "sent reply  not measured (no case had both drafts and a reply a human sent)" in result.out
    )
    report = next(ARTIFACTS.glob("run-*.html")).read_text()
    assert '<b data-testid="similarity"><abbr title="no case had both an original' in report


def test_a_run_whose_every_case_failed_measured_no_latency_or_cost(
    capsys: pytest.CaptureFixture[str], pipelines: str, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """No draft came back: latency, tokens and cost are not measured; errors are counted."""
    result, artifact = _live(capsys, fixture_db, fixtures.clients[0].id, f"{pipelines}:broken")
    summary = artifact["summary"]
    assert summary["by_error_class"] == {"pipeline_error": 5}
    for key in ("latency_ms_p50", "latency_ms_p95", "latency_ms_max", "cost_usd", "prompt_tokens"):
        assert summary[key] is None
        assert summary["not_measured"][key] == "no draft came back"
    assert "latency     not measured (no draft came back)" in result.out
    assert "cost not measured (no draft came back)" in result.out


def test_what_was_measured_has_no_reason(
    capsys: pytest.CaptureFixture[str], pipelines: str, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A reason is given only for a figure left null: measured figures are not excused."""
    _, artifact = _live(capsys, fixture_db, fixtures.clients[0].id, f"{pipelines}:plain")
    summary = artifact["summary"]
    assert summary["latency_ms_p50"] is not None and summary["similarity_mean"] is not None
    unused = "the response cache was not used (--cache off, or not the openai pipeline)"
    assert summary["not_measured"] == {
        "prompt_tokens": "the pipeline reported no token usage",
        "completion_tokens": "the pipeline reported no token usage",
        "cost_usd": "the pipeline reported no token usage",
        "estimated_cost_usd": "no request was planned",  # a python pipeline plans no request
        **dict.fromkeys(("cache_hits", "cache_misses", "cache_saved_usd"), unused),
    }


@pytest.mark.parametrize(
    ("costs", "shown"),
    [
        pytest.param([0.002, 0.001], "$0.0030", id="all-priced"),
        pytest.param([0.002, None], "$0.0020 + 1 unpriced", id="some-unpriced"),
        pytest.param([None, None], "spend not measured (unpriced)", id="none-priced"),
    ],
)
def test_the_progress_line_never_shows_an_unpriced_spend_as_zero(
    costs: list[float | None], shown: str
) -> None:
    """A draft without a known cost is named in the live spend, never added as $0."""
    from replay.cli.progress import _Counts
    from replay.models import CaseResult, InputSummary, Outcome

    counts = _Counts()
    for index, cost in enumerate(costs):
        counts.count(
            CaseResult(
                case_id=str(index),
                verdict="changed",
                input=InputSummary(),
                outcome=Outcome(text="hi"),
                cost_usd=cost,
            )
        )
    assert counts.line().endswith(f"0 tokens, {shown}")
