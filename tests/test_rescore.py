"""`replay rescore`: a finished run decided again with today's checks and gate, never replayed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import StubServer
from tests.helpers import replay_to, run_cli


def _variant_run(
    capsys: pytest.CaptureFixture[str], db: str, fixtures: FixtureSummary, *args: str
) -> dict[str, Any]:
    """A live run of the mistake-making model, gate off: some cases regress on a check."""
    client = fixtures.clients[0].id
    _, artifact = replay_to(
        capsys, db, client, "run.json", "--no-gate", "--model", "replay-variant",
        "--limit", "40", *args,
    )  # fmt: skip
    return artifact


def _by_id(artifact: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {case["case_id"]: case for case in artifact["cases"]}


def test_rescore_with_the_same_checks_gives_the_same_verdicts_without_a_request(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Decided again from what the run kept, every case comes out exactly as the run decided it."""
    first = _variant_run(capsys, fixture_db, fixtures)
    sent = stub.requests
    result = run_cli(capsys, "rescore", "run.json", "--out", "again.json")
    assert result.code == 1, result.err  # the run's regressions fail today's (enforced) gate
    again = orjson.loads(Path("again.json").read_bytes())
    assert stub.requests == sent, "rescore made a model request"
    assert again["parent_run_id"] == first["run_id"] and again["run_id"] != first["run_id"]
    before = _by_id(first)
    assert [case["case_id"] for case in again["cases"]] == list(before)
    for case in again["cases"]:
        old = before[case["case_id"]]
        for key in ("verdict", "reasons", "comparison", "invariants", "outcome", "regression_kind"):
            assert case[key] == old[key], (case["case_id"], key)
    assert again["summary"]["by_verdict"] == first["summary"]["by_verdict"]
    assert again["config"]["rescored"]["from"] == "run.json"
    assert again["config"]["rescored"]["checks_kept"] == 0
    regressions = next(rule for rule in again["gate"]["rules"] if rule["rule"] == "regressions")
    assert regressions["value"] > 0 and not again["gate"]["passed"]
    assert "artifact: again.json" in result.out and Path("again.html").is_file()


def test_rescore_applies_a_check_switched_off_since_the_run(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
) -> None:
    """`[invariants] disabled` changed after the run: the cases it failed are decided again."""
    first = _variant_run(capsys, fixture_db, fixtures)
    failing = {
        case["case_id"]
        for case in first["cases"]
        if case["verdict"] == "regressed"
        and {v["code"] for v in case["invariants"]["new"]} == {"unsupported_price"}
    }
    assert failing, "the variant model invents a price in some drafts"
    (workdir / "replay.toml").write_text('[invariants]\ndisabled = ["unsupported_price"]\n')
    sent = stub.requests
    result = run_cli(capsys, "rescore", "run.json", "--out", "again.json", "--no-gate")
    assert result.code == 0, result.err
    assert stub.requests == sent
    again = _by_id(orjson.loads(Path("again.json").read_bytes()))
    for case_id in failing:
        case = again[case_id]
        assert case["verdict"] != "regressed", case["reasons"]
        assert not [v for v in case["invariants"]["new"] if v["code"] == "unsupported_price"]
    untouched = [
        case for case in first["cases"]
        if case["verdict"] == "regressed" and case["case_id"] not in failing
        and "unsupported_price" not in {v["code"] for v in case["invariants"]["new"]}
    ]  # fmt: skip
    for case in untouched:
        assert again[case["case_id"]]["verdict"] == "regressed"


def test_rescore_applies_today_s_gate_thresholds(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Gate flags of the rescore decide, not the run's: a stricter evidence floor fails it."""
    _variant_run(capsys, fixture_db, fixtures)
    result = run_cli(capsys, "rescore", "run.json", "--out", "a.json", "--max-error-rate", "0.3")
    artifact = orjson.loads(Path("a.json").read_bytes())
    rule = next(rule for rule in artifact["gate"]["rules"] if rule["rule"] == "error_rate")
    assert rule["threshold"] == 0.3
    assert result.code == (0 if artifact["gate"]["passed"] else 1)


def test_a_run_without_kept_context_keeps_its_checks_and_says_so(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A version-3 run has no lead or settings per case: its checks stand, counted, with a note."""
    first = _variant_run(capsys, fixture_db, fixtures)
    old = orjson.loads(Path("run.json").read_bytes())
    old["schema_version"] = 3
    for case in old["cases"]:
        del case["input"]["lead"], case["input"]["client_settings"]
    Path("v3.json").write_bytes(orjson.dumps(old))
    result = run_cli(capsys, "rescore", "v3.json", "--out", "again.json", "--no-gate")
    assert result.code == 0, result.err
    again = orjson.loads(Path("again.json").read_bytes())
    decided = [c for c in first["cases"] if c["verdict"] in ("unchanged", "changed", "regressed")]
    assert again["config"]["rescored"]["checks_kept"] == len(decided) > 0
    assert f"replay: note: {len(decided)} case(s) kept their stored checks" in result.err
    before = _by_id(first)
    for case in again["cases"]:
        assert case["verdict"] == before[case["case_id"]]["verdict"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("--judge-model", "replay-judge"),
            "replay: the judge's flags go with --rejudge (rescore never asks a judge without)",
            id="judge-flag-without-rejudge",
        ),
        pytest.param(
            ("--rejudge",),
            "replay: 'run.json' stores no judge context (its run had no judge); "
            "replay it with --judge-model instead",
            id="rejudge-of-an-unjudged-run",
        ),
    ],
)
def test_judge_flags_need_rejudge_and_a_judged_run(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    args: tuple[str, ...],
    message: str,
) -> None:
    """Exit 2 with one line, and no artifact, when the judge cannot be asked again."""
    _variant_run(capsys, fixture_db, fixtures)
    if args == ("--rejudge",):
        args = (*args, "--judge-model", "replay-judge")
    result = run_cli(capsys, "rescore", "run.json", "--out", "x.json", *args)
    assert result.code == 2
    assert result.err.strip() == message
    assert not Path("x.json").exists()


def test_a_dry_run_cannot_be_rescored(
    capsys: pytest.CaptureFixture[str], fixture_db: str, fixtures: FixtureSummary, workdir: Path
) -> None:
    """A dry run has no drafts to decide: exit 2, naming the file."""
    replay_to(capsys, fixture_db, fixtures.clients[0].id, "dry.json", "--dry-run", "--limit", "3")
    result = run_cli(capsys, "rescore", "dry.json")
    assert result.code == 2
    assert (
        result.err.strip() == "replay: 'dry.json' is a dry run; rescoring needs a live run's drafts"
    )


def test_rescore_rejudge_asks_the_judge_and_never_the_pipeline(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """`--rejudge` is `replay rejudge` with today's gate: new judgements, no pipeline request."""
    _variant_run(capsys, fixture_db, fixtures, "--judge-model", "judge-prefers-a")
    drafted = stub.requests_by_model["replay-variant"]
    judged = stub.requests_by_model.get("replay-judge", 0)
    result = run_cli(
        capsys, "rescore", "run.json", "--rejudge", "--judge-model", "replay-judge",
        "--out", "re.json", "--no-gate",
    )  # fmt: skip
    assert result.code == 0, result.err
    again = orjson.loads(Path("re.json").read_bytes())
    assert stub.requests_by_model["replay-variant"] == drafted
    assert stub.requests_by_model["replay-judge"] > judged
    assert again["config"]["judge"]["model"] == "replay-judge"
    assert any(c["judge"] and c["judge"]["model"] == "replay-judge" for c in again["cases"])
