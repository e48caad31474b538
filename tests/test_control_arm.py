"""`--control`: production's set-up replayed beside the candidate tells drift from the change.

The local model server is deterministic: the same request gets the same draft, and
`replay-variant` rewords every draft and puts a mistake into about one in four, chosen by a
digest of the exact request. So a control and a candidate that send the same request drift
together, and a candidate whose request differs only in temperature rewords the same way but
makes its own mistakes: each case's expected attribution follows from what the server injected.
A question left unanswered is a warning: it regresses nothing, so it counts as no mistake.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from replay.config.file import load_toml
from replay.config.resolve import run_config
from replay.config.runflags import RunFlags
from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import StubServer
from replay.models import Summary
from replay.report import text
from tests.helpers import injected, replay_to, run_cli, warning_kinds

LIMIT = ("--limit", "40")


def _injected(stub: StubServer, plan: dict[str, Any]) -> str:
    """The mistake the server injects into this request that gates (`none` for a warning)."""
    mistake = injected(stub.base_url, plan)
    return "none" if mistake in warning_kinds() else mistake


def _both(artifact: dict[str, Any]) -> list[dict[str, Any]]:
    """The cases that have a candidate and a control draft."""
    return [
        case
        for case in artifact["cases"]
        if case["outcome"] is not None and case["control"]["outcome"] is not None
    ]


def test_drift_alone_is_not_blamed_on_the_change(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Control and candidate reword alike: regressions against the original are drift, exit 0."""
    result, artifact = replay_to(
        capsys, fixture_db, fixtures.clients[0].id, "run.json",
        "--model", "replay-variant", "--control", "--control-model", "replay-variant", *LIMIT,
    )  # fmt: skip
    assert result.code == 0, result.err
    cases = _both(artifact)
    assert len(cases) == len(artifact["cases"]) > 0
    drifted = [case for case in cases if case["versus_original"] == "regressed"]
    assert drifted, "the variant model regresses some drafts against the original"
    for case in cases:
        assert case["verdict"] == "unchanged", case["reasons"]
        assert case["outcome"]["text"] == case["control"]["outcome"]["text"]
        assert case["attribution"] in ("drift", "none")
        expected = "drift" if case["versus_original"] == "regressed" else None
        assert case["drift_regression"] == expected
        assert case["control"]["verdict"] == case["versus_original"]
    for case in drifted:
        assert case["reasons"][-1].startswith("regressed against the original only")
    summary = artifact["summary"]["attribution"]
    assert summary["regressions"] == {"drift": len(drifted)}
    assert summary["without_control"] == 0
    assert artifact["gate"]["passed"]
    said = text.summary_text(Summary.model_validate(artifact["summary"]), None)
    assert f"drift alone explains {len(drifted)} against the original" in said
    assert "(verdicts are the new draft against the control's)" in said


def test_a_change_s_regression_is_blamed_on_the_change(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A faithful control and a candidate that slips: each slip regresses, caused by the change."""
    result, artifact = replay_to(
        capsys, fixture_db, fixtures.clients[0].id, "run.json",
        "--model", "replay-variant", "--control", "--control-model", "replay-original", *LIMIT,
    )  # fmt: skip
    assert result.code == 1, result.err
    cases = _both(artifact)
    assert cases
    regressed = [case for case in cases if case["verdict"] == "regressed"]
    assert regressed
    for case in cases:
        mistake = _injected(stub, case["plan"])
        assert (case["verdict"] == "regressed") is (mistake != "none"), (mistake, case["reasons"])
        if mistake != "none":
            assert mistake in {v["code"] for v in case["invariants"]["new"]}
            assert case["drift_regression"] == "change"
            assert case["attribution"] == "change"
    counts = artifact["summary"]["attribution"]["regressions"]
    assert counts.get("change") == len(regressed) and "drift" not in counts
    paired = artifact["summary"]["attribution"]["stats"]
    assert paired["paired"] == len(cases) and paired["enough"]
    controls = sum(case["control"]["verdict"] == "regressed" for case in cases)
    assert paired["mcnemar"]["only_run"] + paired["mcnemar"]["both"] == len(regressed)
    assert paired["mcnemar"]["only_baseline"] + paired["mcnemar"]["both"] == controls
    regressions = next(rule for rule in artifact["gate"]["rules"] if rule["rule"] == "regressions")
    assert sorted(regressions["cases"]) == sorted(case["case_id"] for case in regressed)


def test_drift_and_change_in_one_run_are_each_attributed(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Both arms reword alike but slip on their own requests: each case as its slips say."""
    _, artifact = replay_to(
        capsys, fixture_db, fixtures.clients[0].id, "run.json", "--no-gate",
        "--model", "replay-variant", "--temperature", "0.3",
        "--control", "--control-model", "replay-variant", "--limit", "60",
    )  # fmt: skip
    seen: dict[str, int] = {}
    for case in _both(artifact):
        candidate = injected(stub.base_url, case["plan"])
        control = injected(stub.base_url, case["control"]["plan"])
        if {candidate, control} & warning_kinds():
            continue  # a warning attributes nothing: the arms' drafts differ, neither regresses
        same = case["outcome"]["text"] == case["control"]["outcome"]["text"]
        if candidate == "none" and control == "none":
            kind = "drift-only"
            assert same and case["verdict"] == "unchanged"
            assert case["attribution"] in ("drift", "none") and case["drift_regression"] is None
        elif control == "none":
            kind = "change-only"
            assert case["verdict"] == "regressed" and case["drift_regression"] == "change"
        elif candidate == "none":
            kind = "control-only"
            assert case["verdict"] == "improved" and case["drift_regression"] is None
            assert case["control"]["verdict"] == "regressed"
        else:
            kind = "both"
            expected = "drift" if same else "change"
            assert case["drift_regression"] == expected
        seen[kind] = seen.get(kind, 0) + 1
    assert seen.get("drift-only", 0) > 0 and seen.get("change-only", 0) > 0, seen
    assert seen.get("control-only", 0) > 0, seen


def test_repeats_replay_both_arms(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """With --repeats every repeat asks both arms (the control's cache is off then)."""
    replay_to(
        capsys, fixture_db, fixtures.clients[0].id, "run.json", "--no-gate", "--cache", "off",
        "--model", "replay-variant", "--control", "--control-model", "replay-original",
        "--repeats", "2", "--limit", "5",
    )  # fmt: skip
    artifact = orjson.loads(Path("run.json").read_bytes())
    assert stub.requests_by_model["replay-original"] == stub.requests_by_model["replay-variant"]
    assert stub.requests_by_model["replay-variant"] == 2 * len(
        {case["case_id"] for case in artifact["cases"] if case["outcome"]}
    )
    assert all(case["control"]["cache"] is None for case in artifact["cases"] if case["outcome"])
    assert artifact["config"]["control"]["cache"] == "off"


def test_a_second_run_pays_for_the_control_only_once(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """The control's cache is on by default: the same cases again ask only the candidate."""
    args = ("--model", "replay-variant", "--control", "--control-model", "replay-original")
    client = fixtures.clients[0].id
    replay_to(capsys, fixture_db, client, "one.json", "--no-gate", *args, "--limit", "8")
    asked = stub.requests_by_model["replay-original"]
    _, again = replay_to(capsys, fixture_db, client, "two.json", "--no-gate", *args, "--limit", "8")
    assert stub.requests_by_model["replay-original"] == asked
    assert all(case["control"]["cache"] == "hit" for case in again["cases"] if case["outcome"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("--control-model", "replay-original"),
            "replay: --control-model goes with --control",
            id="control-flag-without-control",
        ),
        pytest.param(
            ("--control", "--control-request-source", "sometimes"),
            "replay: --control-request-source must be one of auto, recorded, rendered, "
            "got 'sometimes'",
            id="bad-request-source",
        ),
    ],
)
def test_control_flags_are_checked(
    capsys: pytest.CaptureFixture[str],
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
    args: tuple[str, ...],
    message: str,
) -> None:
    """A control flag alone, or a bad value, exits 2 with one line and writes nothing."""
    result = run_cli(
        capsys, "--client-id", fixtures.clients[0].id, "--database-url", fixture_db, *args
    )
    assert result.code == 2
    assert result.err.strip() == message


def test_the_control_s_set_up_is_part_of_the_run_s_identity(workdir: Path) -> None:
    """Another control model is another run: `--resume` compares identities and refuses it."""
    toml = load_toml(None)
    url = "postgresql://db.internal/sales"
    one = run_config(
        RunFlags(client_id="c", database_url=url, control=True, control_model="replay-original"),
        toml,
    )
    other = run_config(
        RunFlags(client_id="c", database_url=url, control=True, control_model="x"), toml
    )
    plain = run_config(RunFlags(client_id="c", database_url=url), toml)
    assert one.control is not None and one.control.request.model == "replay-original"
    assert one.control.request.request_source == "auto" and one.control.cache == "read-write"
    assert len({one.identity_hash(), other.identity_hash(), plain.identity_hash()}) == 3


def test_rescore_decides_a_control_run_again_against_its_control(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Rescoring keeps the control pairing: same verdicts, attribution and drift, no request."""
    _, first = replay_to(
        capsys, fixture_db, fixtures.clients[0].id, "run.json", "--no-gate",
        "--model", "replay-variant", "--temperature", "0.3",
        "--control", "--control-model", "replay-variant", *LIMIT,
    )  # fmt: skip
    sent = stub.requests
    result = run_cli(capsys, "rescore", "run.json", "--out", "again.json", "--no-gate")
    assert result.code == 0, result.err
    assert stub.requests == sent
    again = {c["case_id"]: c for c in orjson.loads(Path("again.json").read_bytes())["cases"]}
    keys = ("verdict", "versus_original", "attribution", "drift_regression", "comparison")
    for case in first["cases"]:
        for key in keys:
            assert again[case["case_id"]][key] == case[key], (case["case_id"], key)
        assert again[case["case_id"]]["control"] == case["control"]


def test_the_report_and_junit_show_the_three_drafts_and_the_attribution(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """HTML: original against control (drift), control against new; JUnit names the cause."""
    _, artifact = replay_to(
        capsys, fixture_db, fixtures.clients[0].id, "run.json", "--junit", "junit.xml",
        "--model", "replay-variant", "--control", "--control-model", "replay-original", *LIMIT,
    )  # fmt: skip
    page = Path("run.html").read_text(encoding="utf-8")
    regressed = next(case for case in artifact["cases"] if case["verdict"] == "regressed")
    assert 'data-testid="drift"' in page and 'data-testid="control"' in page
    assert "attribution: the change: the new draft differs from the control" in page
    assert "control draft: the new draft is compared, checked and judged against it" in page
    junit = Path("junit.xml").read_text(encoding="utf-8")
    assert f'name="{regressed["case_id"]}#0"' in junit
    assert "against the control's draft (caused by the change: the control did not regress)" in (
        junit
    )


def test_a_control_model_the_endpoint_lacks_blocks_the_run(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Exit 3 before any case, naming the model, rather than an error on every case."""
    result = run_cli(
        capsys, "--client-id", fixtures.clients[0].id, "--database-url", fixture_db, "--quiet",
        "--model", "replay-variant", "--control", "--control-model", "no-such-model",
    )  # fmt: skip
    assert result.code == 3
    assert "does not list model 'no-such-model' (--control-model)" in result.err
    assert stub.requests == 0


def test_a_control_run_against_a_baseline_pairs_its_verdicts_against_the_control(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Two control runs of the same change pair case by case, with their statistics."""
    args = ("--no-gate", "--model", "replay-variant", "--cache", "off", "--limit", "12")
    control = ("--control", "--control-model", "replay-original")
    client = fixtures.clients[0].id
    _, old = replay_to(capsys, fixture_db, client, "old.json", *args, *control)
    _, new = replay_to(
        capsys, fixture_db, client, "new.json", *args, *control, "--baseline", "old.json"
    )
    report = new["baseline"]
    assert report["comparable"] and report["paired"] == 12
    assert report["changes"] == []  # the same requests: the same verdicts against the control
    assert report["stats"]["paired"] == 12
    verdicts = {c["case_id"]: c["verdict"] for c in old["cases"]}
    assert {c["case_id"]: c["verdict"] for c in new["cases"]} == verdicts


def test_a_dry_run_estimates_both_arms(
    capsys: pytest.CaptureFixture[str], fixture_db: str, fixtures: FixtureSummary, workdir: Path
) -> None:
    """The live run pays both arms, so its dry run plans and prices both requests per case."""
    client = fixtures.clients[0].id
    args = ("--dry-run", "--model", "gpt-4o-mini", "--limit", "10")
    _, alone = replay_to(capsys, fixture_db, client, "alone.json", *args)
    result, both = replay_to(
        capsys, fixture_db, client, "both.json", *args, "--control", "--control-model", "gpt-4o"
    )
    assert result.code == 0, result.err
    said = run_cli(
        capsys, "--client-id", client, "--database-url", fixture_db, *args, "--control",
        "--control-model", "gpt-4o", "--out", "said.json",
    )  # fmt: skip
    assert "estimated cost $" in said.out and said.out.count("(both arms)") == 1
    planned = [case for case in both["cases"] if case["plan"]]
    assert planned and all(case["control"]["plan"] for case in planned)
    assert {c["control"]["plan"]["request"]["model"] for c in planned} == {"gpt-4o"}
    control_cost = sum(c["control"]["plan"]["estimated_cost_usd"] for c in planned)
    expected = alone["summary"]["estimated_cost_usd"] + control_cost
    assert both["summary"]["estimated_cost_usd"] == pytest.approx(expected)
    assert both["summary"]["estimated_input_tokens"] > alone["summary"]["estimated_input_tokens"]
    assert both["summary"]["attribution"]["stats"] is None  # a dry run pairs no drafts
