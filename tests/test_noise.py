"""The noise floor: `--repeats K`, majority verdicts, flaky cases, the run's own noise figures."""

from __future__ import annotations

import hashlib
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import StubServer
from replay.verdict.noise import majority
from tests.helpers import only_artifact, run_cli

ARTIFACTS = Path(".artifacts/ai-replay")

NOISY = '''
import hashlib
from collections import Counter

from replay.devtools.drafting import write_draft

calls = Counter()


def kind(case_id):
    return int(hashlib.sha256(case_id.encode()).hexdigest(), 16) % 3


async def noisy(case):
    """Kind 0 never errs; kind 1 errs on its second call only; kind 2 on its first two."""
    n = calls[case.case_id]
    calls[case.case_id] += 1
    recorded = case.original_request
    messages = [m.model_dump() for m in recorded.messages] if recorded else []
    text = write_draft(messages) if messages else "Thanks for reaching out!"
    k = kind(case.case_id)
    if (k == 1 and n == 1) or (k == 2 and n in (0, 1)):
        text += " Our premium bundle is $98,765."
    return text
'''


def _kind(case_id: str) -> int:
    return int(hashlib.sha256(case_id.encode()).hexdigest(), 16) % 3


@pytest.fixture
def noisy(workdir: Path) -> Iterator[str]:
    """A pipeline whose drafts vary between repeats of the same case, by a known pattern."""
    (workdir / "noisypipe.py").write_text(textwrap.dedent(NOISY))
    yield "python:noisypipe:noisy"
    sys.modules.pop("noisypipe", None)


def test_repeats_decide_by_majority_and_list_flaky_cases(
    capsys: pytest.CaptureFixture[str], noisy: str, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A case regresses only when most repeats regress; disagreeing repeats are flaky."""
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        "--quiet",
        "--pipeline",
        noisy,
        "--limit",
        "12",
        "--repeats",
        "3",
    )
    artifact = only_artifact(ARTIFACTS)
    ran = {c["case_id"] for c in artifact["cases"] if c["verdict"] not in ("invalid_case",)}
    assert len(ran) == 12
    by_case: dict[str, list[str]] = {}
    for case in artifact["cases"]:
        by_case.setdefault(case["case_id"], []).append(case["verdict"])
    assert all(len(verdicts) == 3 for verdicts in by_case.values())
    assert sorted(c["repeat"] for c in artifact["cases"]) == sorted([0, 1, 2] * 12)
    kinds = {case_id: _kind(case_id) for case_id in ran}
    assert set(kinds.values()) == {0, 1, 2}, "the fixture ids cover every kind"
    majority_regressed = sorted(c for c, k in kinds.items() if k == 2)
    regressions = artifact["gate"]["rules"][0]
    assert regressions["rule"] == "regressions"
    assert sorted(regressions["cases"]) == majority_regressed
    assert regressions["value"] == len(majority_regressed)
    assert result.code == 1
    noise = artifact["noise"]
    assert noise["repeats"] == 3 and noise["cases"] == 12
    assert noise["flaky"] == sorted(c for c, k in kinds.items() if k in (1, 2))
    assert noise["flaky_rate"] == round(len(noise["flaky"]) / 12, 4)
    assert 0 < noise["self_similarity_mean"] < 1
    assert noise["invariant_agreement"] == round(sum(1 for k in kinds.values() if k == 0) / 12, 4)
    per_case = {item["case_id"]: item for item in noise["per_case"]}
    for case_id, k in kinds.items():
        item = per_case[case_id]
        assert item["flaky"] is (k != 0)
        assert (item["verdict"] == "regressed") is (k == 2)
        assert item["verdicts"].count("regressed") == {0: 0, 1: 1, 2: 2}[k]
    assert artifact["summary"]["by_verdict"]["regressed"] == sum(
        {0: 0, 1: 1, 2: 2}[k] for k in kinds.values()
    )
    (entry,) = [
        orjson.loads(line) for line in (ARTIFACTS / "history.jsonl").read_bytes().splitlines()
    ]
    by_case_verdict = artifact["summary"]["by_case_verdict"]
    assert by_case_verdict == dict(
        sorted(Counter(item["verdict"] for item in noise["per_case"]).items())
    )
    assert by_case_verdict.get("regressed") == len(majority_regressed)
    assert sum(by_case_verdict.values()) == 12
    assert entry["cases"] == 12, "the history counts cases, not their 36 results"
    assert entry["regressed"] == len(majority_regressed)


def test_one_regressed_repeat_in_three_does_not_fail_the_gate(
    capsys: pytest.CaptureFixture[str], noisy: str, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Only flaky minority regressions: the gate passes and says nothing regressed."""
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        "--quiet",
        "--pipeline",
        noisy,
        "--case-ids",
        ",".join(_ids_of_kind(capsys, fixture_db, fixtures.clients[0].id, 1)),
        "--repeats",
        "3",
    )
    artifact = only_artifact(ARTIFACTS)
    assert result.code == 0, result.err
    assert artifact["gate"]["passed"] is True
    assert artifact["noise"]["flaky_rate"] == 1.0
    assert artifact["summary"]["by_verdict"]["regressed"] == len(artifact["noise"]["flaky"])


def _ids_of_kind(capsys: pytest.CaptureFixture[str], db: str, client: str, kind: int) -> list[str]:
    result = run_cli(capsys, "--client-id", client, "--database-url", db, "--dry-run", "--quiet")
    assert result.code == 0, result.err
    artifact = only_artifact(ARTIFACTS)
    for path in ARTIFACTS.glob("run-*.json"):
        path.unlink()
    ids = [c["case_id"] for c in artifact["cases"] if c["verdict"] == "selected"]
    chosen = [case_id for case_id in ids if _kind(case_id) == kind][:4]
    assert chosen
    return chosen


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        (["regressed", "regressed", "changed"], "regressed"),
        (["regressed", "changed", "changed"], "changed"),
        (["regressed", "changed"], "changed"),
        (["regressed", "regressed"], "regressed"),
        (["unchanged", "changed", "regressed"], "unchanged"),
        (["error", "error", "changed"], "error"),
    ],
)
def test_majority(verdicts: list[str], expected: str) -> None:
    """More than half for `regressed`; otherwise the commonest other verdict, first on a tie."""
    assert majority(verdicts) == expected


def test_a_budget_cut_under_repeats_still_fails_the_gate(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
) -> None:
    """Most repeats skipped for the budget: the case's majority carries the reason to the gate."""
    (workdir / "replay.toml").write_text(
        '[prices."replay-original"]\ninput = 1000\noutput = 1000\n'
    )
    base = ("--client-id", fixtures.clients[0].id, "--database-url", fixture_db, "--quiet")
    model = ("--model", "replay-original")
    planned = run_cli(capsys, *base, *model, "--limit", "1", "--dry-run", "--out", "plan.json")
    estimate = orjson.loads(Path("plan.json").read_bytes())["summary"]["estimated_cost_usd"]
    args = ("--limit", "1", "--repeats", "3", "--model", "replay-original", "--concurrency", "1")
    result = run_cli(capsys, *base, *args, "--max-cost", str(estimate * 1.5), "--out", "run.json")
    assert planned.code == 0 and result.code == 1, result.err
    artifact = orjson.loads(Path("run.json").read_bytes())
    assert [c["skipped_reason"] for c in artifact["cases"]].count("budget") == 2
    budget = next(rule for rule in artifact["gate"]["rules"] if rule["rule"] == "budget")
    assert budget["passed"] is False and len(budget["cases"]) == 1
