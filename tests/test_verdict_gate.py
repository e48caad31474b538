"""The verdict policy table, the gate's rules and the text comparison."""

from __future__ import annotations

from typing import TypedDict

import pytest

from replay.models import (
    CaseResult,
    Comparison,
    InputSummary,
    InvariantChanges,
    Judgement,
    Violation,
)
from replay.verdict import gate, policy, textdiff


def _violation(code: str, key: str, severity: str = "critical") -> Violation:
    return Violation(code=code, severity=severity, evidence=key, key=key, detail="")


PRICE = _violation("unsupported_price", "9999")
LINK = _violation("unsupported_link", "promo.example.net/deal")
LONG = _violation("channel_length", "channel_length", "warning")


def _comparison(change: str) -> Comparison:
    return Comparison(change_class=change, similarity=0.5, measure="m", length_change=0)


class DecideArgs(TypedDict, total=False):
    """The keyword arguments of `policy.decide`, as a policy-table row gives them."""

    invalid: bool
    skipped: bool
    errored: bool
    comparison: Comparison
    invariants: InvariantChanges
    judgement: Judgement


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({"invalid": True}, "invalid_case", id="invalid"),
        pytest.param({"skipped": True}, "skipped", id="skipped"),
        pytest.param({"errored": True}, "error", id="error"),
        pytest.param(
            {"comparison": _comparison("minor"), "invariants": InvariantChanges(new=[PRICE])},
            "regressed",
            id="new-critical",
        ),
        pytest.param(
            {
                "comparison": _comparison("identical"),
                "invariants": InvariantChanges(new=[PRICE], fixed=[LINK]),
            },
            "regressed",
            id="new-and-fixed",
        ),
        pytest.param(
            {"comparison": _comparison("rewritten"), "invariants": InvariantChanges(fixed=[LINK])},
            "improved",
            id="fixed-critical",
        ),
        pytest.param(
            {
                "comparison": _comparison("rewritten"),
                "invariants": InvariantChanges(pre_existing=[PRICE]),
            },
            "changed",
            id="pre-existing",
        ),
        pytest.param(
            {"comparison": _comparison("identical"), "invariants": InvariantChanges(new=[LONG])},
            "unchanged",
            id="new-warning-only",
        ),
        pytest.param({"comparison": _comparison("identical")}, "unchanged", id="identical"),
        pytest.param({"comparison": _comparison("whitespace")}, "unchanged", id="whitespace"),
        pytest.param({"comparison": _comparison("minor")}, "changed", id="minor"),
        pytest.param({"comparison": _comparison("rewritten")}, "changed", id="rewritten"),
        pytest.param({}, "changed", id="no-original"),
    ],
)
def test_verdict_policy(kwargs: DecideArgs, expected: str) -> None:
    """Each row of the policy table gives its verdict, with reasons."""
    decision = policy.decide(**kwargs)
    assert decision.verdict == expected
    assert decision.reasons


def test_changes_pair_violations_by_code_and_key() -> None:
    """The same code and key in both drafts is pre-existing; a different key is new."""
    other_price = _violation("unsupported_price", "1234")
    result = policy.changes([PRICE, LINK], [PRICE, other_price])
    assert result.new == [other_price]
    assert result.fixed == [LINK]
    assert result.pre_existing == [PRICE]


def _result(case_id: str, verdict_: str, reason: str | None = None) -> CaseResult:
    return CaseResult(
        case_id=case_id, verdict=verdict_, input=InputSummary(), skipped_reason=reason
    )


@pytest.mark.parametrize(
    ("verdicts", "failed"),
    [
        pytest.param(["changed"] * 10, [], id="clean"),
        pytest.param(["changed"] * 9 + ["regressed"], ["regressions"], id="one-regression"),
        pytest.param(["changed"] * 9 + ["error"], [], id="error-at-limit"),
        pytest.param(["changed"] * 8 + ["error"] * 2, ["error_rate"], id="error-over-limit"),
        pytest.param(["changed"] * 8 + ["invalid_case"] * 2, [], id="invalid-at-limit"),
        pytest.param(
            ["changed"] * 7 + ["invalid_case"] * 3,
            ["invalid_rate", "min_evidence"],
            id="invalid-over",
        ),
        pytest.param(["changed"] * 9 + ["skipped:budget"], ["budget"], id="budget"),
        pytest.param(["changed"] * 9 + ["skipped:no_recorded_request"], [], id="other-skip"),
    ],
)
def test_gate_rules(verdicts: list[str], failed: list[str]) -> None:
    """Each rule fails exactly past its threshold and names the cases behind it."""
    data = gate.GateInput()
    for index, item in enumerate(verdicts):
        name, _, reason = item.partition(":")
        data.add(_result(f"c{index}", name, reason or None))
    result = gate.evaluate(data, max_error_rate=0.1, max_invalid_rate=0.2)
    assert result.failed == failed
    assert result.passed is (not failed)
    for rule in result.rules:
        if rule.rule in failed:
            assert rule.cases


def test_no_gate_reports_but_passes() -> None:
    """With the gate off, rules are still evaluated and recorded."""
    data = gate.GateInput()
    data.add(_result("a", "regressed"))
    result = gate.evaluate(data, max_error_rate=0.1, max_invalid_rate=0.2, enforced=False)
    assert result.passed and not result.enforced
    assert result.failed == ["regressions"]


@pytest.mark.parametrize(
    ("original", "new", "expected"),
    [
        pytest.param("Hi Ana, thanks!", "Hi Ana, thanks!", "identical", id="identical"),
        pytest.param("Hi Ana,\n\nthanks!", "Hi Ana, thanks!  ", "whitespace", id="whitespace"),
        pytest.param("Hi Ana, it’s $120.", "hi ana, it's $120.", "minor", id="case-and-quotes"),
        pytest.param(
            "Hi Ana, a cleaning is $120.\n\nBest,\nMaya",
            "Hi Ana, a cleaning is $120.\n\nThanks,\nMaya R.",
            "minor",
            id="signature-block",
        ),
        pytest.param(
            "Hi Ana, a cleaning is $120 and takes an hour.",
            "Hi Ana, a cleaning is $120 and it takes one hour.",
            "minor",
            id="small-edit",
        ),
        pytest.param(
            "Hi Ana, a cleaning is $120.",
            "We would love to show you our new whitening kits!",
            "rewritten",
            id="rewritten",
        ),
    ],
)
def test_change_classes(original: str, new: str, expected: str) -> None:
    """The change class follows the documented thresholds."""
    assert textdiff.compare(original, new).change_class == expected


def test_closer_to_what_the_human_sent() -> None:
    """A new draft equal to the sent reply is closer to it than an original that was edited."""
    result = textdiff.compare(
        "Hi Ana, book any time at our site.",
        "Hi Ana, a cleaning is $120.",
        sent_reply="Hi Ana, a cleaning is $120.",
    )
    assert result.sent_similarity_new == 1.0
    assert result.sent_similarity_original is not None and result.sent_similarity_original < 1
    assert result.closer_to_sent is not None and result.closer_to_sent > 0


def test_word_diff_names_inserted_and_deleted_spans() -> None:
    """The diff lists the words removed from the original and added by the new draft."""
    spans, left_out = textdiff.word_diff("a cleaning is $120 today", "a cleaning costs $120")
    assert [(s.op, s.text) for s in spans] == [
        ("delete", "is"),
        ("insert", "costs"),
        ("delete", "today"),
    ]
    assert left_out == 0
