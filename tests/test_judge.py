"""The LLM judge against the local model server: blinded, both orders, validated, cached."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import orjson
import pytest

from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import StubServer
from replay.models import JudgeContext
from replay.run import judge
from tests.helpers import injected, replay_to, run_cli


def _judged(artifact: dict[str, Any]) -> list[dict[str, Any]]:
    return [case for case in artifact["cases"] if case.get("judge")]


def test_the_honest_judge_turns_injected_mistakes_into_quality_preferences(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Both orders asked, the same label-blind answer: the original wins where the variant erred."""
    client = fixtures.clients[0].id
    args = ("--model", "replay-variant", "--judge-model", "replay-judge", "--limit", "40")
    result, artifact = replay_to(capsys, fixture_db, client, "run.json", "--no-gate", *args)
    assert result.code == 0, result.err
    judged = _judged(artifact)
    assert len(judged) >= 30
    verdicts = {case["judge"]["verdict"] for case in judged}
    assert "original" in verdicts
    assert verdicts <= {"original", "new", "tie"}
    for case in judged:
        record = case["judge"]
        assert record["model"] == "replay-judge"
        assert record["rubric_version"] == judge.RUBRIC_VERSION
        assert record["rubric_hash"] == judge.RUBRIC_HASH
        if record["rationale"] == "the drafts are the same":
            continue
        labels = [order["original_is"] for order in record["orders"]]
        assert sorted(labels) == ["A", "B"], "asked in both orders"
        assert labels[0] == judge.original_label(case["case_id"])
        assert record["context"]["inbound_body"] == case["input"]["inbound_body"]
        if record["verdict"] == "original":
            assert case["verdict"] == "regressed"
            assert record["rationale"].startswith("[original = ")
    summary = artifact["summary"]
    assert summary["by_judge"] == {
        verdict: sum(1 for case in judged if case["judge"]["verdict"] == verdict)
        for verdict in verdicts
    }
    asked = [case for case in judged if case["judge"]["orders"]]
    assert stub.requests_by_model["replay-judge"] == 2 * len(asked), "one request per order"


def test_a_position_biased_judge_yields_ties_not_preferences(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A judge that always answers "A" prefers each draft once: a tie, never a regression."""
    client = fixtures.clients[0].id
    args = ("--model", "replay-variant", "--judge-model", "judge-prefers-a", "--limit", "12")
    result, artifact = replay_to(capsys, fixture_db, client, "run.json", "--no-gate", *args)
    assert result.code == 0, result.err
    judged = _judged(artifact)
    assert judged
    for case in judged:
        assert case["judge"]["verdict"] == "tie"
        assert case["regression_kind"] != "quality"
        if case["judge"]["orders"]:
            assert {order["preferred"] for order in case["judge"]["orders"]} == {"A"}
            assert set(case["judge"]["criteria"].values()) == {"tie"}


@pytest.mark.parametrize(
    ("model", "problem"),
    [("judge-garbage", "it is not JSON"), ("judge-schema", "schema error")],
)
def test_an_unusable_answer_is_unscored_after_one_retry_never_a_failure(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    model: str,
    problem: str,
) -> None:
    """Prose or schema-breaking JSON: asked once more with a correction, then `unscored`."""
    client = fixtures.clients[0].id
    args = ("--model", "replay-variant", "--judge-model", model, "--limit", "6")
    result, artifact = replay_to(capsys, fixture_db, client, "run.json", *args)
    judged = [c for c in _judged(artifact) if c["judge"]["orders"]]
    assert judged
    for case in judged:
        record = case["judge"]
        assert record["verdict"] == "unscored"
        assert record["error"] is None
        assert case["verdict"] != "error"
        assert case["regression_kind"] != "quality"
        for order in record["orders"]:
            assert order["preferred"] is None
            assert order["problem"].startswith("unusable after one retry: ")
            assert problem in order["problem"]
        assert len(record["attempts"]) == 4, "two orders, each asked twice"
    assert stub.requests_by_model[model] == 4 * len(judged)
    assert artifact["summary"]["by_judge"]["unscored"] == len(judged)


def test_a_corrected_answer_counts(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A judge that answers prose first and JSON when corrected is scored from the retry."""
    client = fixtures.clients[0].id
    args = ("--model", "replay-variant", "--judge-model", "judge-sloppy", "--limit", "6")
    result, artifact = replay_to(capsys, fixture_db, client, "run.json", "--no-gate", *args)
    assert result.code == 0, result.err
    judged = [c for c in _judged(artifact) if c["judge"]["orders"]]
    assert judged
    for case in judged:
        assert case["judge"]["verdict"] in ("original", "new", "tie")
        assert all(order["problem"] is None for order in case["judge"]["orders"])


def test_judge_rate_limits_and_hangs_end_as_judge_error_and_the_replay_stands(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """429s are retried (Retry-After honoured), then `judge_error`; the draft's verdict is kept."""
    client = fixtures.clients[0].id
    base = ("--model", "replay-variant", "--limit", "4")
    _, plain = replay_to(capsys, fixture_db, client, "plain.json", "--no-gate", *base)
    judged_args = ("--judge-model", "fail-429", "--judge-retries", "1")
    result, artifact = replay_to(
        capsys, fixture_db, client, "run.json", "--no-gate", *base, *judged_args
    )
    assert result.code == 0, result.err
    expected = {case["case_id"]: case["verdict"] for case in plain["cases"]}
    judged = [c for c in _judged(artifact) if c["judge"]["orders"]]
    assert judged
    for case in judged:
        record = case["judge"]
        assert record["verdict"] == "error"
        assert record["error"]["error_class"] == "judge_error"
        assert record["error"]["message"] == "the judge endpoint is rate limiting (429)"
        assert [a["error_class"] for a in record["attempts"]] == ["model_rate_limit"] * 4
        assert case["verdict"] == expected[case["case_id"]]
    summary = artifact["summary"]
    assert summary["by_judge"]["error"] == len(judged)
    assert "judge_error" not in summary["by_error_class"], "not a replay error"
    assert artifact["gate"]["rules"][1]["value"] == 0, "judge errors are not in the error rate"


def test_a_hanging_judge_times_out_per_attempt(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
) -> None:
    """Each judge attempt has its own deadline; a hang ends as `judge_error`, not a stuck run."""
    (workdir / "replay.toml").write_text("[judge]\nrequest_timeout = 0.3\nretries = 0\n")
    client = fixtures.clients[0].id
    args = ("--model", "replay-variant", "--limit", "2", "--judge-model", "fail-hang")
    result, artifact = replay_to(capsys, fixture_db, client, "run.json", "--no-gate", *args)
    assert result.code == 0, result.err
    for case in [c for c in _judged(artifact) if c["judge"]["orders"]]:
        assert case["judge"]["error"]["error_class"] == "judge_error"
        assert [a["error_class"] for a in case["judge"]["attempts"]] == ["model_timeout"] * 2


def test_a_second_identical_run_is_served_from_the_cache(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Same cases, same requests: no judge request reaches the server the second time."""
    client = fixtures.clients[1].id
    base = ("--model", "replay-original", "--judge-model", "replay-judge", "--limit", "8")
    args = (*base, "--request-source", "rendered", "--temperature", "0.5")
    _, first = replay_to(capsys, fixture_db, client, "first.json", "--no-gate", *args)
    asked = stub.requests_by_model["replay-judge"]
    assert asked > 0
    _, second = replay_to(capsys, fixture_db, client, "second.json", "--no-gate", *args)
    assert stub.requests_by_model["replay-judge"] == asked
    again = {c["case_id"]: c["judge"] for c in _judged(second)}
    for case in _judged(first):
        record = again[case["case_id"]]
        assert record["verdict"] == case["judge"]["verdict"]
        assert all(order["cached"] for order in record["orders"])
        assert record["cost_usd"] is None and record["usage"] is None
    _, third = replay_to(
        capsys, fixture_db, client, "third.json", "--no-gate", *args, "--no-judge-cache"
    )
    assert stub.requests_by_model["replay-judge"] == 2 * asked


async def test_drafts_that_differ_only_in_whitespace_are_a_tie_without_a_request() -> None:
    """Nothing to judge: no request is sent (the endpoint here does not even exist)."""
    client = openai.AsyncOpenAI(api_key="k", base_url="http://127.0.0.1:9/v1", max_retries=0)
    context = JudgeContext(channel="sms", inbound_body="How much?")
    try:
        found = await judge.Judge(client, "m", "http://127.0.0.1:9/v1", retries=0).judge(
            "case-1", context, "It is $100.\n\nBest", "It is  $100.\nBest"
        )
    finally:
        await client.close()
    assert found.verdict == "tie"
    assert found.orders == [] and found.attempts == [] and found.usage is None


def test_the_judge_request_is_blinded_and_seeded() -> None:
    """The request names neither draft's origin and pins temperature, seed and schema."""
    context = JudgeContext(
        channel="email",
        inbound_body="What does it cost?",
        thread=[{"direction": "outbound", "body": "Hello"}],
        facts={"client": {"prices": "$100"}},
    )
    body = judge.request(context, "first draft", "second draft", model="m")
    text = body["messages"][1]["content"]
    assert "## Draft A\nfirst draft" in text and "## Draft B\nsecond draft" in text
    assert "original" not in text.lower()
    assert body["temperature"] == 0 and body["seed"] == judge.SEED
    assert body["response_format"]["json_schema"]["schema"] == judge.SCHEMA
    assert body["messages"][0]["content"] == judge.RUBRIC
    labels = {judge.original_label(f"case-{n}") for n in range(20)}
    assert labels == {"A", "B"}, "the assignment varies by case"
    assert judge.original_label("case-1") == judge.original_label("case-1")


def test_rejudge_scores_an_artifact_again_without_replaying(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A new judge over the stored drafts: a linked run, no pipeline request, verdicts redone."""
    client = fixtures.clients[0].id
    base = ("--model", "replay-variant", "--judge-model", "judge-prefers-a", "--limit", "20")
    args = (*base, "--max-error-rate", "0.5")
    _, first = replay_to(capsys, fixture_db, client, "first.json", "--no-gate", *args)
    drafted = stub.requests_by_model["replay-variant"]
    assert not any(c["regression_kind"] == "quality" for c in first["cases"])
    result = run_cli(
        capsys, "rejudge", "first.json", "--judge-model", "replay-judge", "--out", "re.json"
    )
    assert result.code in (0, 1), result.err
    again = orjson.loads(Path("re.json").read_bytes())
    assert stub.requests_by_model["replay-variant"] == drafted, "the pipeline was not replayed"
    assert again["parent_run_id"] == first["run_id"] and again["run_id"] != first["run_id"]
    error_rule = next(rule for rule in again["gate"]["rules"] if rule["rule"] == "error_rate")
    assert error_rule["threshold"] == 0.5, "the run's own thresholds"
    assert again["config"]["judge"]["model"] == "replay-judge"
    before = {c["case_id"]: c for c in first["cases"]}
    for case in again["cases"]:
        old = before[case["case_id"]]
        assert case["outcome"] == old["outcome"]
        if old.get("judge") and old["judge"]["orders"]:
            assert case["judge"]["model"] == "replay-judge"
        if case["judge"] and case["judge"]["verdict"] == "original":
            critical = [v for v in case["invariants"]["new"] if v["severity"] == "critical"]
            assert case["verdict"] == "regressed"
            assert case["regression_kind"] == ("invariant" if critical else "quality")
    assert again["summary"]["by_judge"].get("original", 0) > 0
    assert again["summary"]["by_judge"] != first["summary"]["by_judge"]
    assert (result.code == 1) is (not again["gate"]["passed"])
    assert "artifact: re.json" in result.out
    assert "report: re.html" in result.out and Path("re.html").is_file()


def test_rejudge_refuses_an_artifact_without_judge_context(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A run made without a judge has nothing for one to read: exit 2, one line."""
    client = fixtures.clients[0].id
    replay_to(
        capsys,
        fixture_db,
        client,
        "plain.json",
        "--no-gate",
        "--model",
        "replay-variant",
        "--limit",
        "3",
    )
    result = run_cli(capsys, "rejudge", "plain.json", "--judge-model", "replay-judge")
    assert result.code == 2
    assert result.err.strip() == (
        "replay: 'plain.json' stores no judge context (its run had no judge); "
        "replay it with --judge-model instead"
    )
    missing = run_cli(capsys, "rejudge", "nope.json", "--judge-model", "replay-judge")
    assert missing.code == 2 and "ARTIFACT 'nope.json' cannot be read" in missing.err


def test_gate_on_stats_decides_quality_by_the_paired_interval(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Drafts drift from what humans sent: `quality_stats` fails; `regressions` keeps checks."""
    client = fixtures.clients[0].id
    base = ("--limit", "30", "--judge-model", "replay-judge")
    _, old = replay_to(capsys, fixture_db, client, "old.json", "--model", "replay-original", *base)
    result, new = replay_to(
        capsys,
        fixture_db,
        client,
        "new.json",
        "--model",
        "replay-variant",
        *base,
        "--baseline",
        "old.json",
        "--gate-on-stats",
    )
    stats = new["baseline"]["stats"]
    assert stats["paired"] == 30 and stats["enough"] is True
    assert stats["similarity_to_sent"]["resamples"] == 2000
    assert stats["similarity_to_sent"]["high"] < 0 and stats["worse"] is True
    rules = {rule["rule"]: rule for rule in new["gate"]["rules"]}
    assert rules["quality_stats"]["passed"] is False
    invariant = sorted(c["case_id"] for c in new["cases"] if c["regression_kind"] == "invariant")
    assert sorted(rules["regressions"]["cases"]) == invariant
    assert result.code == 1
    assert (
        "statistics: similarity to the sent reply fell by"
        in run_cli(capsys, "compare", "old.json", "new.json", "--gate-on-stats").out
    )
    refused = run_cli(
        capsys, "--client-id", client, "--database-url", fixture_db, "--gate-on-stats"
    )
    assert refused.code == 2
    assert refused.err.strip() == (
        "replay: --gate-on-stats compares with a baseline: add --baseline PATH|latest"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [("ftp://judge.example.com", "ftp://judge.example.com"), ("http://user:pw@", "http:")],
)
def test_a_judge_url_without_http_and_a_host_is_refused_without_its_password(
    capsys: pytest.CaptureFixture[str], workdir: Path, url: str, shown: str
) -> None:
    """Exit 2 before anything runs; the message never repeats a password."""
    result = run_cli(
        capsys, "--client-id", "c", "--database-url", "postgresql:///x", "--judge-model", "m",
        "--judge-base-url", url,
    )  # fmt: skip
    assert result.code == 2
    assert result.err.strip() == (
        f"replay: --judge-base-url must be an http(s):// URL with a host, got {shown!r}"
    )
    assert "pw" not in result.err


def test_the_judge_decides_whether_a_dropped_question_went_unanswered(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A question the variant left unanswered, as the judge's `answers` criterion decides it.

    Confirmed and critical where the judge agrees in both orders that the original answers
    better; not reported where it finds the drafts answer alike.
    """
    seen = {"confirmed": 0, "overruled": 0}
    for index, client in enumerate(fixtures.clients):
        args = ("--model", "replay-variant", "--judge-model", "replay-judge", "--limit", "120")
        _, artifact = replay_to(
            capsys, fixture_db, client.id, f"run{index}.json", "--no-gate", *args
        )
        for case in artifact["cases"]:
            if case["outcome"] is None:
                continue
            mistake = injected(stub.base_url, case["plan"])
            if mistake != "unanswered_question" or not case["judge"]["orders"]:
                continue
            answers = case["judge"]["criteria"].get("answers")
            new = [v for v in case["invariants"]["new"] if v["code"] == "unanswered_question"]
            if answers == "original":
                seen["confirmed"] += 1
                assert new and {v["severity"] for v in new} == {"critical"}
                assert case["verdict"] == "regressed" and case["regression_kind"] == "invariant"
            elif answers in ("tie", "new") and case["judge"]["verdict"] != "unscored":
                seen["overruled"] += 1
                assert new == [], "the judge found the drafts answer alike"
    assert seen["confirmed"] > 0 and seen["overruled"] > 0, seen
