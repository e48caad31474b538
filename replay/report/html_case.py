"""The detail of one case in the run report, shown when its table row is opened.

Why the case got its verdict, the three texts marked against each other, its checks, thread,
request plan, judgement and attempts. The case arrives validated (`replay.artifacts.load`), so a
part it lacks is None or empty, never of the wrong shape; a part with nothing in it is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson

from replay.models import (
    Attempt,
    CaseResult,
    InvariantChanges,
    Judgement,
    Original,
    RequestPlan,
    Violation,
)
from replay.report.html_parts import dl, esc, money, num, table, when
from replay.report.wordmarks import highlighted, inline, side_by_side


def present(case: CaseResult) -> list[Violation]:
    """Return the violations in the new draft: new ones and those the original had too."""
    invariants = case.invariants
    return [] if invariants is None else [*invariants.new, *invariants.pre_existing]


def detail(case: CaseResult) -> str:
    """Render everything the artifact holds about `case`, its strangers' text escaped."""
    reasons = "".join(f"<li>{esc(reason)}</li>" for reason in case.reasons)
    why = [f"<ul>{reasons}</ul>" if reasons else ""]
    if case.regression_kind:
        why.append(f"<p>regression kind: {esc(case.regression_kind)}</p>")
    if error := case.error:
        text = f"{error.error_class}, status {error.status}: {error.message}"
        why.append(f'<p class="fail">error {esc(text)}</p>')
    if invalid := case.invalid:
        text = f"column {invalid.column}: {invalid.reason}"
        why.append(f'<p class="fail">invalid case, {esc(text)}</p>')
    if case.skipped_reason:
        why.append(f"<p>skipped: {esc(case.skipped_reason)}</p>")
    return (
        "".join(why)
        + _control(case)
        + _drafts(case)
        + _checks(case.invariants)
        + _thread(case)
        + _plan(case.plan, sent=bool(case.attempts))
        + _judge(case.judge)
        + _attempts(case.attempts)
    )


_ATTRIBUTION = {
    "none": "neither drift nor the change moved this draft",
    "drift": "drift alone: the new draft differs from the original only as the control does",
    "change": "the change: the new draft differs from the control's",
}


def _control(case: CaseResult) -> str:
    """The control arm's draft against the original: what drift alone did to this case."""
    arm = case.control
    if arm is None:
        return ""
    said = _ATTRIBUTION.get(case.attribution or "", "not attributed: the control gave no draft")
    head = (
        f'<p data-testid="attribution">attribution: {esc(said)} · against the original the new '
        f"draft is {esc(case.versus_original)}, the control {esc(arm.verdict)}</p>"
    )
    original = (case.original or Original()).draft
    if arm.outcome is None:
        error = arm.error
        text = f"{error.error_class}: {error.message}" if error else "no draft"
        return head + f'<p class="fail">control arm: {esc(text)}</p>'
    drift = arm.drift_invariants.new if arm.drift_invariants is not None else []
    evidence = [v.evidence for v in drift]
    if original is not None:
        left, right = side_by_side(original, arm.outcome.text, evidence)
    else:
        left, right = '<span class="muted">no original draft</span>', esc(arm.outcome.text)
    c = arm.drift
    captions = (
        "original draft",
        f"control draft (production's set-up today) · {esc(arm.outcome.model)} · similarity "
        f"{num(c.similarity if c else None)} · {esc(c.change_class if c else None)}",
    )
    columns = "".join(
        f'<div><h3>{caption}</h3><pre class="text" data-testid="{tid}">{body}</pre></div>'
        for caption, body, tid in zip(
            captions, (left, right), ("drift-original", "control"), strict=True
        )
    )
    return head + f'<div class="cols" data-testid="drift">{columns}</div>'


def _drafts(case: CaseResult) -> str:
    original = case.original or Original()  # every field of `Original` is optional
    first = f"original draft · {esc(original.model)} {esc(original.prompt_version)}"
    if case.control is not None and case.control.outcome is not None:
        # Decided against the control's draft: it stands where the original would.
        original = original.model_copy(update={"draft": case.control.outcome.text})
        first = "control draft: the new draft is compared, checked and judged against it"
    draft, sent = original.draft, original.sent_reply
    new = case.outcome.text if case.outcome is not None else None
    evidence = [v.evidence for v in present(case)]
    if new is not None and draft is not None:
        left, middle = side_by_side(draft, new, evidence)
    else:
        left = esc(draft) if draft is not None else '<span class="muted">no original draft</span>'
        middle = (
            highlighted(new, evidence)
            if new is not None
            else f'<span class="muted">no new draft ({esc(case.verdict)})</span>'
        )
    if sent is None:
        right = f'<span class="muted">nothing sent ({esc(original.disposition)})</span>'
    else:
        right = inline(new, sent) if new is not None else esc(sent)
    c = case.comparison
    captions = [
        first,
        f"new draft · similarity {num(c.similarity if c else None)} · "
        f"{esc(c.change_class if c else None)} · "
        f"{num(c.length_change if c else None, '+d')} chars",
        f"sent reply ({esc(original.disposition)}) marked against the new draft · "
        f"similarity new {num(c.sent_similarity_new if c else None)}, "
        f"original {num(c.sent_similarity_original if c else None)}",
    ]
    columns = "".join(
        f'<div><h3>{caption}</h3><pre class="text" data-testid="{tid}">{body}</pre></div>'
        for caption, body, tid in zip(
            captions, (left, middle, right), ("original", "new", "sent"), strict=True
        )
    )
    return f'<div class="cols" data-testid="diff">{columns}</div>'


def _checks(invariants: InvariantChanges | None) -> str:
    if invariants is None:
        return ""
    kinds = (
        ("new", invariants.new),
        ("fixed", invariants.fixed),
        ("pre_existing", invariants.pre_existing),
    )
    rows = [
        [
            esc(kind.replace("_", "-")),
            esc(v.code),
            esc(v.severity),
            f"<mark>{esc(v.evidence)}</mark>",
            esc(v.detail),
        ]
        for kind, violations in kinds
        for v in violations
    ]
    if not rows:
        return ""
    return "<h3>Checks</h3>" + table(["", "code", "severity", "evidence", "detail"], rows)


def _thread(case: CaseResult) -> str:
    summary = case.input
    meta = dl(
        [
            ("inbound sent", when(summary.inbound_sent_at)),
            ("job created", when(summary.job_created_at)),
            ("thread messages", summary.thread_messages),
            ("thread last at", when(summary.thread_last_at or "—")),
            ("tags", ", ".join(summary.tags)),
        ]
    )
    subject = summary.inbound_subject
    inbound = (f"<p>subject: {esc(subject)}</p>" if subject else "") + (
        f'<pre class="text" data-testid="inbound">{esc(summary.inbound_body)}</pre>'
    )
    # The point-in-time thread; a run from before it was kept has the judge's copy, if judged.
    context: Sequence[tuple[str | None, datetime | str | None, str | None]] = [
        (m.direction, m.sent_at, m.body) for m in summary.thread
    ]
    if not context and case.judge is not None and case.judge.context is not None:
        context = [
            (m.get("direction"), m.get("sent_at"), m.get("body")) for m in case.judge.context.thread
        ]
    messages = "".join(
        f"<h3>{esc(direction)}"
        + (f" · {esc(when(sent_at))}" if sent_at else "")
        + f'</h3><pre class="text">{esc(body)}</pre>'
        for direction, sent_at, body in context
    )
    earlier = f"<details><summary>thread ({len(context)})</summary>{messages}</details>"
    return f"<h3>Inbound and thread, as they were then</h3>{meta}{inbound}" + (
        earlier if messages else ""
    )


def _plan(plan: RequestPlan | None, *, sent: bool) -> str:
    """The request: planned in a dry run, as sent in a live one."""
    if plan is None:
        return ""
    request = plan.request
    meta = dl(
        [
            ("request source", plan.source),
            ("model", request.model),
            ("estimated input tokens", plan.estimated_input_tokens),
            ("estimated output tokens", plan.estimated_output_tokens),
            ("estimated cost", money(plan.estimated_cost_usd)),
            ("request hash", plan.request_hash),
        ]
    )
    messages = "".join(
        f'<h3>{esc(m.role)}</h3><pre class="text">'
        f"{esc(c if isinstance(c := m.content, str) else orjson.dumps(c).decode())}</pre>"
        for m in request.messages
    )
    title = "Request sent" if sent else "Request plan"
    return f"<h3>{title}</h3>{meta}<details><summary>messages</summary>{messages}</details>"


def _judge(judge: Judgement | None) -> str:
    if judge is None:
        return ""
    meta = dl(
        [
            ("judge verdict", judge.verdict),
            ("model", judge.model),
            ("rubric", judge.rubric_version),
        ]
    )
    rationale = (
        f'<pre class="text" data-testid="rationale">{esc(judge.rationale)}</pre>'
        if judge.rationale
        else ""
    )
    criteria = table(
        ["criterion", "preferred"], [[esc(k), esc(v)] for k, v in judge.criteria.items()]
    )
    orders = table(
        ["original is", "preferred", "rationale", "problem"],
        [
            [esc(o.original_is), esc(o.preferred), esc(o.rationale), esc(o.problem)]
            for o in judge.orders
        ],
    )
    error = judge.error
    failed = (
        f'<p class="fail">{esc(f"judge error {error.error_class}: {error.message}")}</p>'
        if error is not None
        else ""
    )
    return (
        f"<h3>Judge</h3>{meta}"
        + failed
        + rationale
        + f"{criteria if judge.criteria else ''}{orders if judge.orders else ''}"
    )


def _attempts(attempts: Sequence[Attempt]) -> str:
    if not attempts:
        return ""
    rows = [
        [
            esc(a.number),
            esc(a.error_class or "ok"),
            esc(a.status),
            esc(a.message),
            num(a.duration_ms, ",.0f", " ms"),
            num(a.retry_after_s, "g", " s"),
            num(a.backoff_s, ".2f", " s"),
        ]
        for a in attempts
    ]
    head = ["#", "error class", "status", "message", "duration", "retry after", "backoff"]
    return "<h3>Attempts</h3>" + table(head, rows)
