"""The HTML report: strangers' text stays text, the header counts, the detail limit, odd runs."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import orjson
import pytest

from replay.errors import UsageError
from replay.models import (
    Attempt,
    BaselineReport,
    Bootstrap,
    CaseChange,
    CaseError,
    CaseResult,
    ChatRequest,
    Comparison,
    Gate,
    GateRule,
    InputSummary,
    InvariantChanges,
    JudgeContext,
    Judgement,
    JudgeOrder,
    McNemar,
    Noise,
    Original,
    Outcome,
    PairedStats,
    PreflightEntry,
    RequestPlan,
    RunArtifact,
    Selection,
    Summary,
    ThreadMessage,
    Verdict,
    Violation,
)
from replay.report.html import REPORT_DETAIL_LIMIT, render_run, write_report
from replay.report.wordmarks import side_by_side
from replay.verdict import textdiff

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
PWNED = '<img src=x onerror="window.__pwned=1">'
PAYLOAD = f"{HOSTILE} {PWNED}"
T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
ORIGINAL_DRAFT = f"Hi Sam,\n\nThe starter plan is $99 a month. {PAYLOAD}\n\nBest,\nMia"
NEW_DRAFT = f"Hey Sam,\n\nThe starter plan is $9999 a month. {PAYLOAD}\n\nCheers,\nMia"
SENT_REPLY = f"Hi Sam,\n\nOur starter plan is $99 a month. {PAYLOAD}\n\nBest,\nMia"


def _judge() -> Judgement:
    return Judgement(
        model="judge-model",
        rubric_version="v1",
        rubric_hash="0" * 64,
        verdict="original",
        criteria={"accuracy": "original", "tone": "tie"},
        rationale=f"The original quotes the listed price. {PAYLOAD}",
        orders=[
            JudgeOrder(original_is="A", preferred="A", rationale=PAYLOAD),
            JudgeOrder(original_is="B", preferred="B", rationale=PAYLOAD),
        ],
        context=JudgeContext(
            channel="email",
            inbound_body=PAYLOAD,
            thread=[{"direction": "outbound", "body": f"Earlier note {PAYLOAD}"}],
        ),
    )


def make_case(index: int, verdict: Verdict, channel: str = "email") -> CaseResult:
    """A case of the given verdict whose every stranger-written field carries the payload."""
    replayed = verdict not in ("error", "selected")
    price = Violation(
        code="unsupported_price", severity="critical", evidence="$9999", key="9999", detail="x"
    )
    hostile = Violation(
        code="unresolved_placeholder",
        severity="critical",
        evidence=HOSTILE,
        key="{x}",
        detail=PAYLOAD,
    )
    invariants = {
        "regressed": InvariantChanges(new=[price, hostile]),
        "improved": InvariantChanges(fixed=[price]),
    }.get(verdict, InvariantChanges())
    change = "identical" if verdict == "unchanged" else "rewritten"
    return CaseResult(
        case_id=f"case-{index:04d}-{PAYLOAD}",
        verdict=verdict,
        input=InputSummary(
            channel=channel,
            inbound_id=f"in-{index}",
            inbound_subject=f"Pricing {PAYLOAD}",
            inbound_body=f"How much is it? {PAYLOAD}",
            inbound_sent_at=T0 + timedelta(minutes=index),
            job_created_at=T0 + timedelta(minutes=index, seconds=5),
            thread_messages=1,
            thread_last_at=T0 - timedelta(days=1),
            thread=[]
            if index % 2
            else [
                ThreadMessage(
                    message_id=f"m-{index}",
                    direction="outbound",
                    channel=channel,
                    body=f"Point-in-time message {PAYLOAD}",
                    sent_at=T0 - timedelta(days=1),
                )
            ],
        ),
        original=Original(
            draft=ORIGINAL_DRAFT, disposition="edited", sent_reply=SENT_REPLY, model="gpt-4o-mini"
        ),
        outcome=Outcome(text=ORIGINAL_DRAFT if change == "identical" else NEW_DRAFT)
        if replayed
        else None,
        comparison=Comparison(
            change_class=change,
            similarity=1.0 if change == "identical" else round(0.3 + (index % 7) / 10, 2),
            measure="m",
            length_change=0,
            sent_similarity_new=0.5,
            sent_similarity_original=0.9,
        )
        if replayed
        else None,
        invariants=invariants if replayed else None,
        reasons=[f"new unsupported_price: $9999 {PAYLOAD}"] if verdict == "regressed" else [],
        regression_kind="invariant" if verdict == "regressed" else None,
        error=CaseError(error_class="model_rate_limit", message=PAYLOAD, status=429)
        if verdict == "error"
        else None,
        attempts=[
            Attempt(number=1, duration_ms=12.5, error_class="model_rate_limit", status=429),
            Attempt(number=2, duration_ms=40.0, error_class=None)
            if replayed
            else Attempt(
                number=2, duration_ms=3.0, error_class="model_rate_limit", message=PAYLOAD
            ),
        ],
        latency_ms=40.0 + index if replayed else None,
        judge=_judge() if verdict == "regressed" else None,
    )


def make_artifact(cases: list[CaseResult], **extra: Any) -> RunArtifact:
    """A live run artifact around `cases`, as the report is rendered from."""
    counts = Counter(case.verdict for case in cases)
    regressed = [case.case_id for case in cases if case.verdict == "regressed"]
    artifact = RunArtifact(
        run_id=f"2026-11-20T09-30-00-000Z-{PAYLOAD}",
        created_at=T0,
        finished_at=T0 + timedelta(seconds=30),
        tool_version="0.1.0",
        git_sha="f" * 40,
        mode="live",
        status="complete",
        exit_code=1 if regressed else 0,
        config={"request": {"pipeline": "openai", "model": "gpt-4o-mini"}},
        preflight=[PreflightEntry(check="database", ok=True, message=f"connected {PAYLOAD}")],
        selection=Selection(client_id="client-1", requested=len(cases), found=len(cases)),
        cases=cases,
        summary=Summary(
            cases=len(cases),
            by_verdict=dict(counts),
            by_channel=dict(Counter(case.input.channel or "" for case in cases)),
            by_request_source={},
            estimated_input_tokens=0,
            estimated_output_tokens=0,
            estimated_cost_usd=None,
            cost_usd=0.0123,
            similarity_mean=0.6,
            latency_ms_p50=45.0,
            latency_ms_p95=60.0,
        ),
        gate=Gate(
            passed=not regressed,
            failed=["regressions"] if regressed else [],
            rules=[
                GateRule(
                    rule="regressions",
                    threshold=0,
                    value=len(regressed),
                    passed=not regressed,
                    cases=regressed,
                ),
                GateRule(rule="error_rate", threshold=0.1, value=0.0, passed=True),
            ],
        ),
        **extra,
    )
    return artifact


def mixed_cases() -> list[CaseResult]:
    """Regressed, unchanged, changed, improved and error cases across the three channels."""
    plan: list[tuple[Verdict, str]] = [
        ("regressed", "email"),
        ("changed", "sms"),
        ("unchanged", "linkedin"),
        ("regressed", "sms"),
        ("error", "email"),
        ("changed", "email"),
        ("improved", "linkedin"),
        ("unchanged", "email"),
        ("changed", "linkedin"),
    ]
    return [make_case(index, verdict, channel) for index, (verdict, channel) in enumerate(plan)]


def hostile_artifact() -> RunArtifact:
    """A live run with a baseline and a noise section, every stranger's field hostile."""
    baseline = BaselineReport(
        baseline="old.json",
        run="new.json",
        comparable=True,
        differences=[f"request.model: {PAYLOAD}"],
        paired=9,
        changes=[
            CaseChange(
                case_id=PAYLOAD,
                old="unchanged",
                new="regressed",
                kind="regression",
                new_checks=["unsupported_price"],
            ),
            CaseChange(case_id="case-0001", old="unchanged", new="changed", kind="moved"),
        ],
        aggregates={"similarity_mean": {"baseline": 0.9, "run": 0.6, "delta": -0.3}},
        stats=PairedStats(
            paired=9,
            minimum=20,
            enough=False,
            mcnemar=McNemar(only_baseline=0, only_run=2, both=0, neither=7, p_value=0.5),
            similarity_to_sent=Bootstrap(
                measure="similarity_to_sent",
                pairs=9,
                mean_difference=-0.2,
                low=-0.31,
                high=-0.12,
                resamples=2000,
                seed=7,
            ),
            conclusion=f"Too few pairs to conclude. {PAYLOAD}",
        ),
    )
    noise = Noise(
        repeats=3,
        cases=9,
        flaky=[PAYLOAD],
        flaky_rate=0.111,
        self_similarity_mean=0.82,
        change_class_agreement=0.9,
        invariant_agreement=1.0,
    )
    return make_artifact(mixed_cases(), baseline=baseline, noise=noise)


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser would parse the page."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _cases_of(page: str) -> list[str]:
    return page.split('<tbody class="case"')[1:]


def test_strangers_text_is_escaped_everywhere() -> None:
    """Hostile text in every field renders as text: no tag, handler or script of its own."""
    page = render_run(hostile_artifact())
    tags = _Tags(page).tags
    assert "<script>alert" not in page
    assert "<img" not in page
    assert [tag for tag, _ in tags if tag == "script"] == ["script"]
    assert not [tag for tag, _ in tags if tag in ("img", "iframe", "object", "embed", "link")]
    assert not [name for _, attrs in tags for name in attrs if name.startswith("on")]
    assert ESCAPED in page
    assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in page


@pytest.mark.parametrize(
    "field",
    [
        pytest.param("How much is it? " + ESCAPED, id="inbound-body"),
        pytest.param("The original quotes the listed price. " + ESCAPED, id="judge-rationale"),
        pytest.param("case-0000-" + ESCAPED, id="case-id"),
        pytest.param("Earlier note " + ESCAPED, id="judge-thread"),
        pytest.param("Point-in-time message " + ESCAPED, id="thread"),
        pytest.param("Too few pairs to conclude. " + ESCAPED, id="baseline-conclusion"),
        pytest.param("<mark>" + ESCAPED + "</mark>", id="violation-evidence"),
    ],
)
def test_each_hostile_field_appears_escaped(field: str) -> None:
    """The inbound body, rationale, case id, thread, conclusion and evidence appear escaped."""
    assert field in render_run(hostile_artifact())


def test_drafts_show_a_word_diff_and_marked_evidence() -> None:
    """Deleted words are <del>, inserted ones <ins>, and evidence is <mark>ed in the new draft."""
    page = render_run(make_artifact([make_case(0, "regressed")]))
    assert "<del>$99</del>" in page
    assert "<ins><mark>$9999</mark></ins>" in page
    assert "<ins>Hey</ins>" in page


def test_marked_words_are_the_artifacts_diff_spans() -> None:
    """The words the page strikes and adds are those of the artifact's `diff`: one engine."""
    original = "Hi Sam, thanks for asking about the starter plan. It is $99 a month. Best, Mia"
    new = "Hey Sam! The starter plan costs $99 per month, setup included. Cheers, Mia"
    spans, left_out = textdiff.word_diff(original, new)
    marks = side_by_side(original, new, [])
    struck = " ".join(re.findall(r"<del>(.*?)</del>", marks.original)).split()
    added = " ".join(re.findall(r"<ins>(.*?)</ins>", marks.new)).split()
    assert left_out == 0
    assert struck == [word for span in spans if span.op == "delete" for word in span.text.split()]
    assert added == [word for span in spans if span.op == "insert" for word in span.text.split()]


def test_header_counts_equal_the_artifacts() -> None:
    """Each verdict count shown in the header is the artifact's summary count."""
    artifact = hostile_artifact()
    page = render_run(artifact)
    shown = dict(re.findall(r'data-testid="count-(\w+)">(\d+)<', page))
    assert artifact.summary is not None
    assert {k: int(v) for k, v in shown.items()} == artifact.summary.by_verdict
    assert 'data-testid="cases">9<' in page


def test_gate_shows_the_deciding_rule() -> None:
    """A failed gate names the failing rule with its threshold, value and result."""
    page = render_run(hostile_artifact())
    assert "Gate failed on regressions" in page
    assert re.search(r"regressions</span></td><td>0</td><td>2</td><td><span class=\"fail\">", page)


def test_detail_is_limited_regressed_and_errors_first() -> None:
    """Of 600 cases 500 get detail, regressed and errors among them, and a note names the 100."""
    verdicts: list[Verdict] = ["changed"] * 600
    for index in range(550, 560):
        verdicts[index] = "regressed"
    for index in range(580, 585):
        verdicts[index] = "error"
    cases = [make_case(index, verdict) for index, verdict in enumerate(verdicts)]
    page = render_run(make_artifact(cases))
    rows = _cases_of(page)
    detailed = ['class="toggle"' in row for row in rows]
    assert len(rows) == 600
    assert sum(detailed) == REPORT_DETAIL_LIMIT == 500
    assert all(detailed[550:560]) and all(detailed[580:585])
    assert detailed[484] and not detailed[485]
    assert "100 of 600 cases are table rows only, without detail" in page


def test_no_external_resource() -> None:
    """Nothing in the page points outside it: no URL, import or remote source."""
    page = render_run(hostile_artifact())
    for needle in ('src="http', 'href="http', "@import", "url(", "http://", "https://"):
        assert needle not in page
    assert not [a for _, attrs in _Tags(page).tags for a in attrs if a in ("src", "href")]


def test_policy_allows_only_the_pages_own_script() -> None:
    """The Content-Security-Policy fetches nothing and names the hash of the one inline script."""
    page = render_run(hostile_artifact())
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    script = re.search(r"<script>(.*?)</script>", page, re.S)
    assert policy and script
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    assert "default-src 'none'" in html.unescape(policy.group(1))
    assert f"script-src 'sha256-{digest}'" in html.unescape(policy.group(1))


def test_baseline_and_noise_sections() -> None:
    """Paired count, changes by kind, aggregates, McNemar, the interval and noise are shown."""
    page = render_run(hostile_artifact())
    assert 'data-testid="baseline"' in page and 'data-testid="noise"' in page
    for text in (
        "regression 1, moved 1",
        "McNemar p-value",
        "0.5",
        "[-0.3100, -0.1200]",
        "11.1%",
        "similarity_mean",
    ):
        assert text in page


def test_dry_run_renders_its_plan() -> None:
    """A dry run's selected cases render with their request plan and no new draft."""
    request = ChatRequest.model_validate(
        {"messages": [{"role": "user", "content": PAYLOAD}], "model": "gpt-4o-mini"}
    )
    plan = RequestPlan(
        source="recorded",
        request=request,
        request_hash="a" * 64,
        estimated_input_tokens=10,
        estimated_output_tokens=20,
        estimated_cost_usd=0.0001,
    )
    case = make_case(0, "selected").model_copy(update={"plan": plan, "attempts": []})
    artifact = make_artifact([case]).model_copy(update={"mode": "dry", "gate": None})
    page = render_run(artifact)
    assert 'data-testid="count-selected">1<' in page
    assert "Request plan" in page and "no new draft (selected)" in page
    assert "<script>alert" not in page


def test_blocked_run_shows_its_preflight() -> None:
    """A blocked run with no cases shows the failed preflight entry before anything else."""
    artifact = RunArtifact(
        run_id="blocked-run",
        created_at=T0,
        tool_version="0.1.0",
        mode="live",
        status="blocked",
        exit_code=3,
        config={},
        preflight=[
            PreflightEntry(check="database", ok=False, code="db_unreachable", message=PAYLOAD)
        ],
    )
    page = render_run(artifact)
    assert "db_unreachable" in page and ESCAPED in page
    assert page.index('data-testid="preflight"') < page.index('data-testid="no-cases"')
    assert "No gate" in page


def test_artifact_without_optional_parts() -> None:
    """An artifact with only its required fields, in its cases too, still renders."""
    artifact = RunArtifact(
        run_id="old",
        created_at=T0,
        tool_version="0.1.0",
        mode="live",
        status="complete",
        exit_code=0,
        config={},
        cases=[
            CaseResult(case_id="a", verdict="changed", input=InputSummary()),
            CaseResult(
                case_id="b", verdict="regressed", input=InputSummary(), outcome=Outcome(text="x")
            ),
        ],
    )
    page = render_run(artifact)
    assert 'data-testid="count-changed">1<' in page and "no original draft" in page


def test_write_report_beside_the_artifact(tmp_path: Path) -> None:
    """The report is written next to the artifact with the same stem, or to --out."""
    source = tmp_path / "run-2026-11-20T09-30-00-000Z.json"
    source.write_text(hostile_artifact().model_dump_json())
    assert write_report(source) == tmp_path / "run-2026-11-20T09-30-00-000Z.html"
    assert ESCAPED in source.with_suffix(".html").read_text()
    out = tmp_path / "elsewhere" / "report.html"
    assert write_report(source, out) == out and out.read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "cannot read artifact", id="missing"),
        pytest.param(b"{not json", "is not JSON", id="not-json"),
        pytest.param(orjson.dumps({"kind": "compare"}), "kind 'compare'", id="compare"),
        pytest.param(b"[1, 2]", "kind 'list'", id="not-an-object"),
    ],
)
def test_write_report_refuses_what_is_not_a_run(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    """A missing file, broken JSON or another kind of artifact is a usage error naming it."""
    source = tmp_path / "run.json"
    if content is not None:
        source.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        write_report(source)
    assert not source.with_suffix(".html").exists()
