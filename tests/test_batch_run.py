"""`--via batch`: a run through the Batch API of the local model server, end to end.

Through the unmodified SDK: Files and Batches endpoints, polling, results streamed into the
partial log, resume by batch id (never a second submission of what was paid for), expired and
partly failed batches finished on `--resume`, and a large run split into several batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import StubServer
from replay.models import BatchRef
from replay.run.resume import load
from tests.helpers import killed_partial, replay_to, run_cli, serving


def _stub(monkeypatch: pytest.MonkeyPatch, **options: Any) -> Iterator[StubServer]:
    yield from serving(monkeypatch, batch_delay_s=0.05, **options)


@pytest.fixture
def batch_stub(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> Iterator[StubServer]:
    yield from _stub(monkeypatch)


def _verdicts(artifact: dict[str, Any]) -> dict[tuple[str, int], tuple[str, str | None]]:
    return {
        (case["case_id"], case["repeat"]): (case["verdict"], (case["outcome"] or {}).get("text"))
        for case in artifact["cases"]
    }


def test_a_batch_run_equals_the_live_run_at_half_the_price(
    capsys: pytest.CaptureFixture[str],
    batch_stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
) -> None:
    client = fixtures.clients[0].id
    prices = '[prices."replay-variant"]\ninput = 2.0\noutput = 8.0\n'
    Path("replay.toml").write_text(prices)
    args = ("--model", "replay-variant", "--no-gate", "--limit", "12")
    live, live_run = replay_to(capsys, fixture_db, client, "live.json", *args)
    assert live.code == 0, live.err
    requests = batch_stub.requests
    batch, batch_run = replay_to(capsys, fixture_db, client, "batch.json", *args, "--via", "batch")
    assert batch.code == 0, batch.err
    assert batch_stub.requests == requests  # not one live request: all went by batch
    assert batch_stub.batches_created == 1 and batch_stub.files_uploaded == 1
    assert batch_stub.batch_lines_answered == sum(
        1 for case in batch_run["cases"] if case["outcome"] is not None
    )
    assert _verdicts(batch_run) == _verdicts(live_run)
    [part] = batch_run["parts"]
    [ref] = part["batches"]
    assert ref["status"] == "completed" and ref["id"].startswith("batch_")
    assert sorted(ref["custom_ids"]) == sorted(
        f"{case['case_id']}#0" for case in batch_run["cases"] if case["outcome"] is not None
    )
    assert batch_run["identity"]["via"] == "batch" and "via" not in live_run["identity"]
    paid_live = live_run["summary"]["cost_usd"]
    paid_batch = batch_run["summary"]["cost_usd"]
    assert paid_live > 0 and paid_batch == pytest.approx(paid_live / 2)
    for case in batch_run["cases"]:
        if case["outcome"] is not None:
            assert case["outcome"]["metadata"]["via"] == "batch"
    assert (
        not list(Path(".artifacts").glob("**/*.partial.jsonl"))
        if Path(".artifacts").exists()
        else True
    )


def test_batch_prices_from_replay_toml_and_the_dry_run_estimate(
    capsys: pytest.CaptureFixture[str],
    batch_stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
) -> None:
    client = fixtures.clients[0].id
    Path("replay.toml").write_text(
        '[prices."replay-original"]\ninput = 2.0\noutput = 8.0\n'
        "batch_input = 0.2\nbatch_output = 0.8\n"
    )
    args = ("--model", "replay-original", "--limit", "6")
    _, dry_live = replay_to(capsys, fixture_db, client, "dry-live.json", *args, "--dry-run")
    _, dry_batch = replay_to(
        capsys, fixture_db, client, "dry-batch.json", *args, "--dry-run", "--via", "batch"
    )
    live_estimate = dry_live["summary"]["estimated_cost_usd"]
    assert dry_batch["summary"]["estimated_cost_usd"] == pytest.approx(live_estimate / 10, rel=1e-3)
    result, run = replay_to(capsys, fixture_db, client, "batch.json", *args, "--via", "batch")
    assert result.code == 0, result.err
    for case in run["cases"]:
        usage = case["outcome"]["usage"]
        expected = (usage["prompt_tokens"] * 0.2 + usage["completion_tokens"] * 0.8) / 1e6
        assert case["cost_usd"] == pytest.approx(expected)


def test_a_large_run_is_split_into_batches_within_the_line_limit(
    capsys: pytest.CaptureFixture[str],
    batch_stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
) -> None:
    Path("replay.toml").write_text("[run]\nbatch_max_lines = 5\n")
    client = fixtures.clients[0].id
    result, run = replay_to(
        capsys, fixture_db, client, "run.json", "--via", "batch", "--limit", "12", "--no-gate",
        "--model", "replay-original",
    )  # fmt: skip
    assert result.code == 0, result.err
    refs = run["parts"][0]["batches"]
    answered = [case for case in run["cases"] if case["outcome"] is not None]
    assert batch_stub.batches_created == len(refs) == -(-len(answered) // 5) >= 2
    assert all(len(ref["custom_ids"]) <= 5 for ref in refs)
    ids = [key for ref in refs for key in ref["custom_ids"]]
    assert len(ids) == len(set(ids)) == len(answered)


def test_flags_that_a_batch_cannot_carry_are_refused(
    capsys: pytest.CaptureFixture[str], batch_stub: StubServer, fixture_db: str,
    fixtures: FixtureSummary,
) -> None:  # fmt: skip
    client = fixtures.clients[0].id
    base = ("--client-id", client, "--database-url", fixture_db, "--via", "batch")
    result = run_cli(capsys, *base, "--pipeline", "python:tests.pipelines:echo")
    assert result.code == 2
    assert result.err.strip() == (
        "replay: --via batch sends the openai pipeline's requests; --pipeline is "
        "'python:tests.pipelines:echo': use --via live"
    )
    result = run_cli(capsys, *base, "--control", "--control-pipeline", "http://127.0.0.1:9/x")
    assert result.code == 2
    assert result.err.strip() == (
        "replay: --via batch sends the openai pipeline's requests; --control-pipeline is "
        "'http://127.0.0.1:9/x': use --via live"
    )
    result = run_cli(capsys, *base[:4], "--via", "post")
    assert result.code == 2 and "--via" in result.err and "live, batch" in result.err
    result = run_cli(capsys, *base, "--batch-window", "1d")
    assert result.code == 2 and "a whole number of hours such as 24h" in result.err


def test_an_expired_batch_blocks_and_resume_submits_only_what_it_never_answered(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
) -> None:
    for server in _stub(monkeypatch, batch_expire_first=1):
        client = fixtures.clients[0].id
        args = ("--via", "batch", "--limit", "10", "--no-gate", "--model", "replay-original")
        result, first = replay_to(capsys, fixture_db, client, "run.json", *args)
        assert result.code == 3, result.err
        assert first["status"] == "blocked"
        assert "not answered: their batch expired; --resume submits exactly those again" in (
            result.err
        )
        answered = [case for case in first["cases"] if case["outcome"] is not None]
        [ref] = first["parts"][0]["batches"]
        assert ref["status"] == "expired" and len(answered) == len(ref["custom_ids"]) // 2
        paid = server.batch_lines_answered
        assert paid == len(answered)
        status = run_cli(capsys, "batch-status", "run.json")
        assert status.code == 0, status.err
        lines = len(ref["custom_ids"])
        assert status.out.splitlines() == [
            f"{ref['id']}  expired  {len(answered)}/{lines} answered, "
            f"{lines - len(answered)} failed",
            f"{len(answered)} of {lines} requests answered; every batch has ended",
        ]

        again = run_cli(capsys, "--client-id", client, "--database-url", fixture_db, "--quiet",
                        "--resume", "run.json", *args)  # fmt: skip
        assert again.code == 0, again.err
        done = orjson.loads(Path("run.json").read_bytes())
        assert done["status"] == "complete"
        assert server.batches_created == 2
        # The resumed part re-attached to the expired batch and submitted only what it missed.
        expired, second = done["parts"][-1]["batches"]
        assert expired["id"] == ref["id"] and expired["status"] == "expired"
        kept = {f"{case['case_id']}#0" for case in answered}
        assert set(second["custom_ids"]) == set(ref["custom_ids"]) - kept
        # Each request was paid once: the first batch's answers were kept, not asked again.
        assert server.batch_lines_answered == len(ref["custom_ids"])
        assert len({(c["case_id"], c["repeat"]) for c in done["cases"]}) == len(done["cases"])


def test_failed_lines_are_retried_in_a_new_batch(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
) -> None:
    for server in _stub(monkeypatch, rate_500=0.3, seed=4):
        client = fixtures.clients[0].id
        result, run = replay_to(
            capsys, fixture_db, client, "run.json", "--via", "batch", "--limit", "12",
            "--no-gate", "--retries", "5", "--model", "replay-original",
        )  # fmt: skip
        assert result.code == 0, result.err
        assert server.batches_created >= 2
        retried = [case for case in run["cases"] if len(case["attempts"]) > 1]
        assert retried, "a 30% failure rate left every line answered first time"
        for case in retried:
            assert case["attempts"][0]["error_class"] == "model_error"
            assert case["attempts"][0]["status"] == 500
        assert all(
            case["outcome"] is not None
            for case in run["cases"]
            if case["verdict"] != "invalid_case"
        )


def test_a_run_killed_after_submitting_reattaches_and_pays_nothing_twice(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
) -> None:
    """The partial log of a run killed while its batch ran: resume waits for that batch."""
    for server in _stub(monkeypatch):
        client = fixtures.clients[0].id
        args = ("--via", "batch", "--limit", "8", "--no-gate", "--model", "replay-original")
        result, whole = replay_to(capsys, fixture_db, client, "whole.json", *args)
        assert result.code == 0
        [ref] = whole["parts"][0]["batches"]
        partial = Path("killed.partial.jsonl")
        submitted = BatchRef.model_validate({**ref, "status": "in_progress", "finished_at": None})
        killed_partial(partial, whole, [submitted.model_dump(mode="json")])
        loaded = load(partial, identity=whole["identity"], retry_errors=False)
        assert [b.id for b in loaded.batches] == [ref["id"]]
        answered = server.batch_lines_answered
        again = run_cli(capsys, "--client-id", client, "--database-url", fixture_db, "--quiet",
                        "--resume", str(partial), *args)  # fmt: skip
        assert again.code == 0, again.err
        assert server.batches_created == 1 and server.files_uploaded == 1  # re-attached
        assert server.batch_lines_answered == answered  # the batch was answered once
        resumed = orjson.loads(Path("killed.json").read_bytes())
        assert _verdicts(resumed) == _verdicts(whole)


def test_batch_status_names_what_it_cannot_show(
    capsys: pytest.CaptureFixture[str], batch_stub: StubServer, fixture_db: str,
    fixtures: FixtureSummary,
) -> None:  # fmt: skip
    result = run_cli(capsys, "batch-status", "nowhere.json")
    assert result.code == 2
    assert "replay batch-status 'nowhere.json' does not exist" in result.err
    client = fixtures.clients[0].id
    replay_to(capsys, fixture_db, client, "live.json", "--limit", "2", "--no-gate")
    result = run_cli(capsys, "batch-status", "live.json")
    assert result.code == 2
    assert result.err.strip() == (
        "replay: 'live.json' has no Batch API submission; expected a run made with --via batch"
    )


def _judgements(artifact: dict[str, Any]) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        case["case_id"]: (case["judge"]["verdict"], case["judge"]["criteria"])
        for case in artifact["cases"]
        if case.get("judge") is not None
    }


def test_the_judge_goes_by_batch_too_and_judges_as_it_does_live(
    capsys: pytest.CaptureFixture[str],
    batch_stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
) -> None:
    client = fixtures.clients[0].id
    Path("replay.toml").write_text('[prices."replay-judge"]\ninput = 1.0\noutput = 4.0\n')
    args = ("--model", "replay-variant", "--judge-model", "replay-judge", "--no-gate",
            "--limit", "10", "--via", "batch", "--no-judge-cache")  # fmt: skip
    live_judge, by_live = replay_to(capsys, fixture_db, client, "live-judge.json", *args)
    assert live_judge.code == 0, live_judge.err
    asked_live = batch_stub.requests_by_model["replay-judge"]
    assert asked_live > 0 and batch_stub.batches_created == 1
    result, by_batch = replay_to(
        capsys, fixture_db, client, "batch-judge.json", *args, "--judge-via", "batch"
    )
    assert result.code == 0, result.err
    assert batch_stub.requests_by_model["replay-judge"] == asked_live  # not one live judge call
    # One more batch of drafts and one of judge requests, each answered once.
    assert batch_stub.batches_created == 3
    judged = _judgements(by_batch)
    assert judged and judged == _judgements(by_live)
    refs = by_batch["parts"][0]["batches"]
    assert [all(i.startswith("judge-") for i in ref["custom_ids"]) for ref in refs] == [
        False,
        True,
    ]
    # Judge requests answered through the batch are priced at the batch price.
    paid = {case["case_id"]: case["judge"]["cost_usd"] for case in by_batch["cases"]
            if case.get("judge")}  # fmt: skip
    live = {case["case_id"]: case["judge"]["cost_usd"] for case in by_live["cases"]
            if case.get("judge")}  # fmt: skip
    assert all(cost is not None for cost in live.values()) and any(live.values())
    assert paid == {case_id: pytest.approx(cost / 2) for case_id, cost in live.items()}


def test_judge_via_batch_needs_the_drafts_by_batch_and_a_judge(
    capsys: pytest.CaptureFixture[str], batch_stub: StubServer, fixture_db: str,
    fixtures: FixtureSummary,
) -> None:  # fmt: skip
    base = ("--client-id", fixtures.clients[0].id, "--database-url", fixture_db)
    result = run_cli(capsys, *base, "--judge-model", "replay-judge", "--judge-via", "batch")
    assert result.code == 2
    assert result.err.strip() == (
        "replay: --judge-via batch goes with --via batch: the drafts come first"
    )
    result = run_cli(capsys, *base, "--via", "batch", "--judge-via", "batch")
    assert result.code == 2
    assert result.err.strip() == (
        "replay: --judge-via batch goes with --judge-model NAME (or [judge] model)"
    )


def test_a_run_killed_while_its_judge_batch_ran_reattaches_to_both(
    capsys: pytest.CaptureFixture[str],
    batch_stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
) -> None:
    client = fixtures.clients[0].id
    args = ("--model", "replay-variant", "--judge-model", "replay-judge", "--no-gate",
            "--limit", "8", "--via", "batch", "--judge-via", "batch",
            "--no-judge-cache")  # fmt: skip
    result, whole = replay_to(capsys, fixture_db, client, "whole.json", *args)
    assert result.code == 0, result.err
    drafts, judging = whole["parts"][0]["batches"]
    created, answered = batch_stub.batches_created, batch_stub.batch_lines_answered
    records = [{**drafts, "status": "in_progress"}, {**judging, "status": "in_progress"}]
    killed_partial(Path("killed.partial.jsonl"), whole, records)
    again = run_cli(capsys, "--client-id", client, "--database-url", fixture_db, "--quiet",
                    "--resume", "killed.partial.jsonl", *args)  # fmt: skip
    assert again.code == 0, again.err
    assert batch_stub.batches_created == created  # both batches found again, none submitted
    assert batch_stub.batch_lines_answered == answered
    resumed = orjson.loads(Path("killed.json").read_bytes())
    assert _judgements(resumed) == _judgements(whole) != {}


def test_a_control_arm_by_batch_attributes_as_it_does_live(
    capsys: pytest.CaptureFixture[str],
    batch_stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
) -> None:
    """Both arms' requests go into one batch; attribution is the live run's."""
    client = fixtures.clients[0].id
    args = ("--model", "replay-variant", "--control", "--control-model", "replay-original",
            "--no-gate", "--limit", "10", "--cache", "off")  # fmt: skip
    # The batch run first: the control's answers are not in the response cache yet.
    result, by_batch = replay_to(capsys, fixture_db, client, "batch.json", *args, "--via", "batch")
    assert result.code == 0, result.err
    live, by_live = replay_to(capsys, fixture_db, client, "live.json", *args)
    assert live.code == 0, live.err
    [ref] = by_batch["parts"][0]["batches"]
    drafted = [case for case in by_batch["cases"] if case["outcome"] is not None]
    assert len(ref["custom_ids"]) == 2 * len(drafted)
    assert sum(i.startswith("control:") for i in ref["custom_ids"]) == len(drafted)

    def attributed(artifact: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
        return {
            case["case_id"]: (case["verdict"], case["attribution"], case["drift_regression"],
                              case["control"]["outcome"]["text"])
            for case in artifact["cases"] if case["control"] is not None
        }  # fmt: skip

    assert attributed(by_batch) == attributed(by_live) != {}


def test_a_run_killed_between_upload_and_batch_finds_its_batch_by_listing(
    capsys: pytest.CaptureFixture[str],
    batch_stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
) -> None:
    """Only the upload was recorded: the provider's list of batches names the one made from it."""
    client = fixtures.clients[0].id
    args = ("--via", "batch", "--limit", "6", "--no-gate", "--model", "replay-original")
    result, whole = replay_to(capsys, fixture_db, client, "whole.json", *args)
    assert result.code == 0, result.err
    [ref] = whole["parts"][0]["batches"]
    uploaded = {"input_file_id": ref["input_file_id"], "custom_ids": ref["custom_ids"],
                "submitted_at": ref["submitted_at"]}  # fmt: skip
    killed_partial(Path("killed.partial.jsonl"), whole, [uploaded])
    created, answered = batch_stub.batches_created, batch_stub.batch_lines_answered
    again = run_cli(capsys, "--client-id", client, "--database-url", fixture_db, "--quiet",
                    "--resume", "killed.partial.jsonl", *args)  # fmt: skip
    assert again.code == 0, again.err
    assert batch_stub.batches_created == created and batch_stub.batch_lines_answered == answered
    resumed = orjson.loads(Path("killed.json").read_bytes())
    assert resumed["parts"][-1]["batches"][0]["id"] == ref["id"]
    assert _verdicts(resumed) == _verdicts(whole)
