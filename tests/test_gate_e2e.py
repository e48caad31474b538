"""The gate end to end: injected mistakes regress, rewordings do not; baselines and compare."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from replay.devtools.generator import FixtureSummary
from replay.devtools.mistakes import MISTAKES, NAME_MISTAKES, SHAPE_MISTAKES
from replay.devtools.stub_model import StubServer
from tests.helpers import assert_caught, replay_to, replay_variant, run_cli

ARTIFACTS = Path(".artifacts/ai-replay")


def test_every_injected_mistake_is_a_regression_and_rewordings_are_not(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Per case, against x-stub-injected: each mistake regresses with its check; the rest do not."""
    clients = [client.id for client in fixtures.clients[:2]]
    injected, cases = replay_variant(capsys, stub.base_url, fixture_db, clients, limit=60)
    made = [code for code in injected.values() if code != "none"]
    assert len(made) >= 10, "the variant model injects a mistake about 1 in 4 times"
    assert set(SHAPE_MISTAKES) <= set(made), "cut-off, looped and re-signed drafts"
    assert set(NAME_MISTAKES) <= set(made), "a stranger greeted"
    assert len(injected) - len(made) >= 30
    assert_caught(injected, cases)


def test_a_regression_fails_the_gate_with_its_rule_and_cases(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
) -> None:
    """Exit 1, the gate names the rule, its threshold, value and cases; Markdown is written."""
    result, artifact = replay_to(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "run.json",
        "--model",
        "replay-variant",
        "--limit",
        "60",
        "--summary-md",
        "summary.md",
    )
    assert result.code == 1
    rule = next(r for r in artifact["gate"]["rules"] if r["rule"] == "regressions")
    regressed = [c["case_id"] for c in artifact["cases"] if c["verdict"] == "regressed"]
    assert rule == {
        "rule": "regressions",
        "threshold": 0,
        "value": len(regressed),
        "passed": False,
        "cases": regressed,
        "causes": None,
    }
    assert result.err.startswith(f"replay: gate failed: {len(regressed)} regressed (")
    markdown = (workdir / "summary.md").read_text()
    assert "❌ gate failed" in markdown and "| regressions |" in markdown


def test_the_original_model_passes_the_gate(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Replaying recorded requests through a faithful model: no regression, exit 0."""
    result, artifact = replay_to(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "run.json",
        "--model",
        "replay-original",
        "--request-source",
        "recorded",
        "--limit",
        "30",
    )
    assert result.code == 0, result.err
    assert artifact["gate"]["passed"] and artifact["gate"]["failed"] == []
    assert "regressed" not in artifact["summary"]["by_verdict"]


def test_compare_pairs_cases_and_gates(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
) -> None:
    """`replay compare` reports newly regressed cases and exits 1; reversed, it passes."""
    client = fixtures.clients[0].id
    replay_to(capsys, fixture_db, client, "old.json", "--model", "replay-original", "--limit", "40")
    replay_to(
        capsys,
        fixture_db,
        client,
        "new.json",
        "--model",
        "replay-variant",
        "--limit",
        "40",
        "--no-gate",
    )
    result = run_cli(capsys, "compare", "old.json", "new.json", "--out", "cmp.json")
    assert result.code == 1
    report = orjson.loads((workdir / "cmp.json").read_bytes())
    assert report["kind"] == "compare" and report["report"]["paired"] == 40
    regressions = [c for c in report["report"]["changes"] if c["kind"] == "regression"]
    assert regressions and report["gate"]["failed"] == ["regressions"]
    assert "differences" in report["report"] and any(
        "request.model" in d for d in report["report"]["differences"]
    )
    assert "newly regressed" in result.out
    back = run_cli(capsys, "compare", "new.json", "old.json", "--out", "back.json")
    assert back.code == 0
    assert "recovered" in back.out


def test_compare_flags_pass_to_error_as_infra(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
) -> None:
    """A case that passed and now errors is an infra regression, never unchanged."""
    client = fixtures.clients[0].id
    replay_to(capsys, fixture_db, client, "old.json", "--model", "replay-original", "--limit", "5")
    replay_to(
        capsys,
        fixture_db,
        client,
        "new.json",
        "--model",
        "fail-500",
        "--limit",
        "5",
        "--retries",
        "0",
        "--no-gate",
    )
    result = run_cli(capsys, "compare", "old.json", "new.json", "--out", "cmp.json")
    assert result.code == 1
    report = orjson.loads((workdir / "cmp.json").read_bytes())
    assert {c["kind"] for c in report["report"]["changes"]} == {"infra"}
    # Every paired case errored: no evidence either, so both rules fail.
    assert report["gate"]["failed"] == ["error_rate", "min_evidence"]


def test_baseline_only_cases_are_listed(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
) -> None:
    """Cases only in one run are listed, and the differing selection is said plainly."""
    client = fixtures.clients[0].id
    replay_to(capsys, fixture_db, client, "old.json", "--model", "replay-original", "--limit", "8")
    replay_to(capsys, fixture_db, client, "new.json", "--model", "replay-original", "--limit", "5")
    result = run_cli(capsys, "compare", "old.json", "new.json", "--out", "cmp.json")
    report = orjson.loads((workdir / "cmp.json").read_bytes())["report"]
    assert report["paired"] == 5 and len(report["only_in_baseline"]) == 3
    assert any(d.startswith("selection.limit: 8 → 5") for d in report["differences"])
    assert result.code == 0


def test_baseline_latest_picks_the_newest_complete_live_run(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """--baseline latest finds the previous run of the client and embeds the comparison."""
    client = fixtures.clients[0].id
    first = run_cli(
        capsys,
        "--client-id",
        client,
        "--database-url",
        fixture_db,
        "--quiet",
        "--model",
        "replay-original",
        "--limit",
        "6",
    )
    assert first.code == 0
    second = run_cli(
        capsys,
        "--client-id",
        client,
        "--database-url",
        fixture_db,
        "--model",
        "replay-original",
        "--limit",
        "6",
        "--baseline",
        "latest",
    )
    assert second.code == 0, second.err
    newest = sorted(ARTIFACTS.glob("run-*.json"))[-1]
    artifact = orjson.loads(newest.read_bytes())
    assert artifact["baseline"]["baseline"] == first.out.strip()
    assert artifact["baseline"]["paired"] == 6 and artifact["baseline"]["comparable"]
    assert "baseline  " in second.out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"nope", "is not JSON", id="not-json"),
        pytest.param(
            b'{"kind": "run", "schema_version": 99}', "has schema version 99", id="version"
        ),
    ],
)
def test_compare_rejects_bad_artifacts(
    capsys: pytest.CaptureFixture[str], workdir: Path, content: bytes, message: str
) -> None:
    """An artifact that is not JSON or of another schema version exits 2."""
    (workdir / "a.json").write_bytes(content)
    (workdir / "b.json").write_bytes(content)
    result = run_cli(capsys, "compare", "a.json", "b.json")
    assert result.code == 2
    assert message in result.err


def test_baseline_latest_without_an_earlier_run_exits_2(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """No earlier complete run to compare with is a usage error naming the client."""
    result = run_cli(
        capsys,
        "--client-id",
        fixtures.clients[0].id,
        "--database-url",
        fixture_db,
        "--model",
        "replay-original",
        "--baseline",
        "latest",
    )
    assert result.code == 2
    assert "--baseline latest: no complete live run of client" in result.err


@pytest.mark.parametrize("scope", ["all-clients", "one-client"])
def test_checks_are_configurable_per_client(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
    scope: str,
) -> None:
    """Switching the injected checks off in replay.toml (for all or one client) clears the gate."""
    client = fixtures.clients[0].id
    # Every kind the variant model injects, the unanswered question (a warning) among them.
    codes = orjson.dumps(MISTAKES).decode()
    section = "[invariants]" if scope == "all-clients" else f'[invariants.clients."{client}"]'
    (workdir / "replay.toml").write_text(f"{section}\ndisabled = {codes}\n")
    result, artifact = replay_to(
        capsys, fixture_db, client, "run.json", "--model", "replay-variant", "--limit", "60"
    )
    assert result.code == 0, result.err
    assert "regressed" not in artifact["summary"]["by_verdict"]
    assert artifact["summary"]["by_invariant"] == {}


def test_an_unknown_check_in_replay_toml_exits_2(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    """A typo in a disabled check code is named."""
    (workdir / "replay.toml").write_text('[invariants]\ndisabled = ["unsuported_price"]\n')
    result = run_cli(capsys, "--client-id", "c", "--database-url", "postgresql:///x")
    assert result.code == 2
    assert result.err.startswith(
        "replay: replay.toml [invariants] disabled[0] must be one of empty_draft, "
    )
    assert result.err.endswith(", got 'unsuported_price'\n")


def test_junit_xml_has_one_test_case_per_case(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
) -> None:
    """--junit: regressed cases are failures with their evidence, errors are errors."""
    from xml.etree import ElementTree

    result, artifact = replay_to(
        capsys,
        fixture_db,
        fixtures.clients[0].id,
        "run.json",
        "--model",
        "replay-variant",
        "--limit",
        "40",
        "--junit",
        "junit.xml",
    )
    assert result.code == 1
    root = ElementTree.parse(workdir / "junit.xml").getroot()
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 40 == int(root.get("tests", "0"))
    regressed = [c for c in artifact["cases"] if c["verdict"] == "regressed"]
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == len(regressed) == int(root.get("failures", "0")) > 0
    first = failures[0].find("failure")
    assert first is not None and first.get("type") == "regressed"
    assert first.get("message", "").startswith("new ")
    assert "new draft:" in (first.text or "")


def test_junit_escapes_what_strangers_wrote(tmp_path: Path) -> None:
    """Message text with markup and control characters still yields well-formed XML."""
    from xml.etree import ElementTree

    from replay.models import RunArtifact
    from replay.report import junit

    artifact = RunArtifact.model_validate({
        "run_id": "r", "created_at": "2026-11-26T19:00:00Z", "tool_version": "0", "mode": "live",
        "status": "complete", "exit_code": 1, "config": {},
        "cases": [{
            "case_id": 'x"><script>alert(1)</script>', "verdict": "regressed",
            "reasons": ['new unsupported_link: "><img src=x onerror=alert(1)>'],
            "input": {"channel": "sms"},
            "invariants": {"new": [{"code": "unsupported_link", "severity": "critical",
                                    "evidence": "<b>&amp;</b>", "key": "<b>&amp;</b>",
                                    "detail": "not in the context"}]},
            "outcome": {"text": "Hi <script>alert('x')</script> & bye"},
        }],
    })  # fmt: skip
    xml = junit.render(artifact)
    root = ElementTree.fromstring(xml.split("\n", 1)[1])
    failure = root.find("./testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message") == 'new unsupported_link: "><img src=x onerror=alert(1)>'
    assert "<script>alert('x')</script> & bye" in (failure.text or "")
    assert "<script>" not in xml


def test_junit_leaves_out_a_time_it_did_not_measure() -> None:
    """An errored case and a run without a duration have no `time`, never `time="0.000"`."""
    from xml.etree import ElementTree

    from replay.models import RunArtifact
    from replay.report import junit

    artifact = RunArtifact.model_validate({
        "run_id": "r", "created_at": "2026-11-26T19:00:00Z", "tool_version": "0", "mode": "live",
        "status": "complete", "exit_code": 1, "config": {},
        "cases": [
            {"case_id": "ok", "verdict": "changed", "input": {"channel": "sms"},
             "latency_ms": 812.9},
            {"case_id": "down", "verdict": "error", "input": {"channel": "sms"},
             "error": {"error_class": "model_connection", "message": "no answer"}},
        ],
    })  # fmt: skip
    root = ElementTree.fromstring(junit.render(artifact).split("\n", 1)[1])
    assert root.get("time") is None
    times = {case.get("name"): case.get("time") for case in root.iter("testcase")}
    assert times == {"ok#0": "0.813", "down#0": None}
