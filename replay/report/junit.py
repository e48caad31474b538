"""JUnit XML from a run artifact: one test case per replayed case, so any CI shows the results.

`regressed` is a failure, `error` an error, `skipped` and `invalid_case` are skipped; every
other verdict passes. Text goes through ElementTree, so a stranger's message cannot break the
XML, and characters XML 1.0 forbids (a bell, a NUL, an escape from a model's draft), which
ElementTree writes as they are, are written as visible escapes (a bell as backslash-x07): CI
parsers reject the whole file otherwise.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

from replay.models import CaseResult, RunArtifact

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Every character XML 1.0 does not allow in a document."""

FAILED = {"regressed"}
ERRORED = {"error"}
SKIPPED = {"skipped", "invalid_case"}


def render(artifact: RunArtifact) -> str:
    """The artifact's cases as a JUnit XML document."""
    cases = artifact.cases
    duration = artifact.summary.duration_s if artifact.summary is not None else None
    counts = {
        "tests": str(len(cases)),
        "failures": str(sum(case.verdict in FAILED for case in cases)),
        "errors": str(sum(case.verdict in ERRORED for case in cases)),
        "skipped": str(sum(case.verdict in SKIPPED for case in cases)),
    }
    if duration is not None:  # not measured is left out, never written as 0
        counts["time"] = f"{duration:.3f}"
    client = artifact.selection.client_id if artifact.selection is not None else "?"
    # The time as the artifact writes it (ISO 8601, UTC as Z).
    created = artifact.model_dump(mode="json", include={"created_at"})["created_at"]
    root = ElementTree.Element("testsuites", {"name": "replay", **counts})
    suite = ElementTree.SubElement(
        root,
        "testsuite",
        {"name": f"replay client {client}", "timestamp": str(created), **counts},
    )
    for case in cases:
        suite.append(_testcase(case))
    ElementTree.indent(root)
    document = ElementTree.tostring(root, "unicode")
    # The markup itself holds none of these: only text from cases can, so replacing them in the
    # whole document touches nothing else.
    document = _NOT_XML.sub(lambda found: f"\\x{ord(found[0]):02x}", document)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + document + "\n"


def _testcase(case: CaseResult) -> ElementTree.Element:
    channel = case.input.channel or "unknown"
    attributes = {"classname": f"replay.{channel}", "name": f"{case.case_id}#{case.repeat}"}
    if case.latency_ms is not None:  # an errored, skipped or invalid case took no measured time
        attributes["time"] = f"{case.latency_ms / 1000:.3f}"
    element = ElementTree.Element("testcase", attributes)
    verdict = case.verdict
    reasons = "; ".join(case.reasons)
    if verdict in FAILED:
        failure = ElementTree.SubElement(
            element, "failure", {"type": verdict, "message": reasons or verdict}
        )
        failure.text = _detail(case)
    elif verdict in ERRORED:
        error = case.error
        ElementTree.SubElement(
            element,
            "error",
            {
                "type": error.error_class if error is not None else "error",
                "message": error.message if error is not None else "",
            },
        )
    elif verdict in SKIPPED:
        invalid = case.invalid
        why = case.skipped_reason or (
            f"invalid case: {invalid.column} {invalid.reason}" if invalid is not None else verdict
        )
        ElementTree.SubElement(element, "skipped", {"message": why})
    return element


def _detail(case: CaseResult) -> str:
    """The evidence of a regression and the new draft, for the CI's failure view."""
    new = case.invariants.new if case.invariants is not None else []
    lines = [f"{v.code} ({v.severity}): {v.evidence} — {v.detail}" for v in new]
    control = case.control
    if control is not None:
        lines.insert(
            0, f"against the control's draft ({_ATTRIBUTED.get(case.drift_regression, '')})"
        )
        if control.outcome is not None and control.outcome.text:
            lines += ["", "control draft:", control.outcome.text]
    if case.outcome is not None and case.outcome.text:
        lines += ["", "new draft:", case.outcome.text]
    return "\n".join(lines)


_ATTRIBUTED = {
    "change": "caused by the change: the control did not regress",
    "hidden_by_drift": "caused by the change; against the original, drift hid it",
    None: "not regressed against the original",
}
