"""JUnit XML from a run artifact: one test case per replayed case, so any CI shows the results.

`regressed` is a failure, `error` an error, `skipped` and `invalid_case` are skipped; every
other verdict passes. Text goes through ElementTree, so a stranger's message cannot break the
XML.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree

FAILED = {"regressed"}
ERRORED = {"error"}
SKIPPED = {"skipped", "invalid_case"}


def render(artifact: Mapping[str, Any]) -> str:
    """The artifact's cases as a JUnit XML document."""
    cases = artifact.get("cases", [])
    selection = artifact.get("selection") or {}
    summary = artifact.get("summary") or {}
    counts = {
        "tests": str(len(cases)),
        "failures": str(sum(case["verdict"] in FAILED for case in cases)),
        "errors": str(sum(case["verdict"] in ERRORED for case in cases)),
        "skipped": str(sum(case["verdict"] in SKIPPED for case in cases)),
        "time": f"{summary.get('duration_s') or 0:.3f}",
    }
    root = ElementTree.Element("testsuites", {"name": "replay", **counts})
    suite = ElementTree.SubElement(
        root,
        "testsuite",
        {
            "name": f"replay client {selection.get('client_id', '?')}",
            "timestamp": str(artifact.get("created_at", "")),
            **counts,
        },
    )
    for case in cases:
        suite.append(_testcase(case))
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, "unicode") + "\n"


def _testcase(case: Mapping[str, Any]) -> ElementTree.Element:
    channel = (case.get("input") or {}).get("channel") or "unknown"
    latency = case.get("latency_ms") or 0
    element = ElementTree.Element(
        "testcase",
        {
            "classname": f"replay.{channel}",
            "name": f"{case['case_id']}#{case.get('repeat', 0)}",
            "time": f"{latency / 1000:.3f}",
        },
    )
    verdict = case["verdict"]
    reasons = "; ".join(case.get("reasons") or [])
    if verdict in FAILED:
        failure = ElementTree.SubElement(
            element, "failure", {"type": verdict, "message": reasons or verdict}
        )
        failure.text = _detail(case)
    elif verdict in ERRORED:
        error = case.get("error") or {}
        ElementTree.SubElement(
            element,
            "error",
            {"type": error.get("error_class", "error"), "message": error.get("message", "")},
        )
    elif verdict in SKIPPED:
        invalid = case.get("invalid") or {}
        why = case.get("skipped_reason") or (
            f"invalid case: {invalid.get('column')} {invalid.get('reason')}" if invalid else verdict
        )
        ElementTree.SubElement(element, "skipped", {"message": why})
    return element


def _detail(case: Mapping[str, Any]) -> str:
    """The evidence of a regression and the new draft, for the CI's failure view."""
    new = ((case.get("invariants") or {}).get("new")) or []
    lines = [f"{v['code']} ({v['severity']}): {v['evidence']} — {v['detail']}" for v in new]
    outcome = case.get("outcome") or {}
    if outcome.get("text"):
        lines += ["", "new draft:", outcome["text"]]
    return "\n".join(lines)
