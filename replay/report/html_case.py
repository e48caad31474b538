"""The detail of one case in the run report, shown when its table row is opened.

Why the case got its verdict, the three texts marked against each other, its checks, thread,
request plan, judgement and attempts. Older artifacts lack keys, so every read is a `.get` and
a part with nothing in it is left out.
"""

from __future__ import annotations

from typing import Any

import orjson

from replay.report.html_parts import dl, esc, money, num, records, table, when
from replay.report.wordmarks import highlighted, inline, side_by_side


def present(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the violations in the new draft: new ones and those the original had too."""
    invariants = case.get("invariants") or {}
    return [*(invariants.get("new") or []), *(invariants.get("pre_existing") or [])]


def detail(case: dict[str, Any]) -> str:
    """Render everything the artifact holds about `case`, its strangers' text escaped."""
    original = case.get("original") or {}
    comparison = case.get("comparison") or {}
    reasons = "".join(f"<li>{esc(reason)}</li>" for reason in case.get("reasons") or [])
    why = [f"<ul>{reasons}</ul>" if reasons else ""]
    if case.get("regression_kind"):
        why.append(f"<p>regression kind: {esc(case['regression_kind'])}</p>")
    if error := case.get("error"):
        text = f"{error.get('error_class')}, status {error.get('status')}: {error.get('message')}"
        why.append(f'<p class="fail">error {esc(text)}</p>')
    if invalid := case.get("invalid"):
        text = f"column {invalid.get('column')}: {invalid.get('reason')}"
        why.append(f'<p class="fail">invalid case, {esc(text)}</p>')
    if case.get("skipped_reason"):
        why.append(f"<p>skipped: {esc(case['skipped_reason'])}</p>")
    return (
        "".join(why)
        + _drafts(case, original, comparison)
        + _checks(case.get("invariants") or {})
        + _thread(case)
        + _plan(case.get("plan"))
        + _judge(case.get("judge"))
        + _attempts(case.get("attempts") or [])
    )


def _drafts(case: dict[str, Any], original: dict[str, Any], comparison: dict[str, Any]) -> str:
    draft, sent = original.get("draft"), original.get("sent_reply")
    new = (case.get("outcome") or {}).get("text")
    evidence = [str(v.get("evidence") or "") for v in present(case)]
    if isinstance(new, str) and isinstance(draft, str):
        left, middle = side_by_side(draft, new, evidence)
    else:
        left = esc(draft) if draft is not None else '<span class="muted">no original draft</span>'
        middle = (
            highlighted(new, evidence)
            if isinstance(new, str)
            else f'<span class="muted">no new draft ({esc(case.get("verdict"))})</span>'
        )
    if not isinstance(sent, str):
        right = f'<span class="muted">nothing sent ({esc(original.get("disposition"))})</span>'
    else:
        right = inline(new, sent) if isinstance(new, str) else esc(sent)
    captions = [
        f"original draft · {esc(original.get('model'))} {esc(original.get('prompt_version'))}",
        f"new draft · similarity {num(comparison.get('similarity'))} · "
        f"{esc(comparison.get('change_class'))} · "
        f"{num(comparison.get('length_change'), '+d')} chars",
        f"sent reply ({esc(original.get('disposition'))}) marked against the new draft · "
        f"similarity new {num(comparison.get('sent_similarity_new'))}, "
        f"original {num(comparison.get('sent_similarity_original'))}",
    ]
    columns = "".join(
        f'<div><h3>{caption}</h3><pre class="text" data-testid="{tid}">{body}</pre></div>'
        for caption, body, tid in zip(
            captions, (left, middle, right), ("original", "new", "sent"), strict=True
        )
    )
    return f'<div class="cols" data-testid="diff">{columns}</div>'


def _checks(invariants: dict[str, Any]) -> str:
    rows = [
        [
            esc(kind.replace("_", "-")),
            esc(v.get("code")),
            esc(v.get("severity")),
            f"<mark>{esc(v.get('evidence'))}</mark>",
            esc(v.get("detail")),
        ]
        for kind in ("new", "fixed", "pre_existing")
        for v in invariants.get(kind) or []
    ]
    if not rows:
        return ""
    return "<h3>Checks</h3>" + table(["", "code", "severity", "evidence", "detail"], rows)


def _thread(case: dict[str, Any]) -> str:
    summary = case.get("input") or {}
    meta = dl(
        [
            ("inbound sent", when(summary.get("inbound_sent_at"))),
            ("job created", when(summary.get("job_created_at"))),
            ("thread messages", summary.get("thread_messages", 0)),
            ("thread last at", when(summary.get("thread_last_at") or "—")),
            ("tags", ", ".join(str(tag) for tag in summary.get("tags") or [])),
        ]
    )
    subject = summary.get("inbound_subject")
    inbound = (f"<p>subject: {esc(subject)}</p>" if subject else "") + (
        f'<pre class="text" data-testid="inbound">{esc(summary.get("inbound_body"))}</pre>'
    )
    context = summary.get("thread") or (
        ((case.get("judge") or {}).get("context") or {}).get("thread") or []
    )
    messages = "".join(
        f"<h3>{esc(m.get('direction'))}"
        + (f" · {esc(when(m.get('sent_at')))}" if m.get("sent_at") else "")
        + f'</h3><pre class="text">{esc(m.get("body"))}</pre>'
        for m in context
        if isinstance(m, dict)
    )
    earlier = f"<details><summary>thread ({len(context)})</summary>{messages}</details>"
    return f"<h3>Inbound and thread, as they were then</h3>{meta}{inbound}" + (
        earlier if messages else ""
    )


def _plan(plan: dict[str, Any] | None) -> str:
    if not plan:
        return ""
    request = plan.get("request") or {}
    meta = dl(
        [
            ("request source", plan.get("source")),
            ("model", request.get("model")),
            ("estimated input tokens", plan.get("estimated_input_tokens")),
            ("estimated output tokens", plan.get("estimated_output_tokens")),
            ("estimated cost", money(plan.get("estimated_cost_usd"))),
            ("request hash", plan.get("request_hash")),
        ]
    )
    messages = "".join(
        f'<h3>{esc(m.get("role"))}</h3><pre class="text">'
        f"{esc(c if isinstance(c := m.get('content'), str) else orjson.dumps(c).decode())}</pre>"
        for m in request.get("messages") or []
    )
    return f"<h3>Request plan</h3>{meta}<details><summary>messages</summary>{messages}</details>"


def _judge(judge: dict[str, Any] | None) -> str:
    if not judge:
        return ""
    meta = dl(
        [
            ("judge verdict", judge.get("verdict")),
            ("model", judge.get("model")),
            ("rubric", judge.get("rubric_version")),
        ]
    )
    rationale = (
        f'<pre class="text" data-testid="rationale">{esc(judge["rationale"])}</pre>'
        if judge.get("rationale")
        else ""
    )
    criteria = table(
        ["criterion", "preferred"],
        [[esc(k), esc(v)] for k, v in (judge.get("criteria") or {}).items()],
    )
    orders = records(
        ["original is", "preferred", "rationale", "problem"],
        judge.get("orders") or [],
        ["original_is", "preferred", "rationale", "problem"],
    )
    error = judge.get("error") or {}
    failed = esc(f"judge error {error.get('error_class')}: {error.get('message')}")
    return (
        f"<h3>Judge</h3>{meta}"
        + (f'<p class="fail">{failed}</p>' if error else "")
        + rationale
        + f"{criteria if judge.get('criteria') else ''}{orders if judge.get('orders') else ''}"
    )


def _attempts(attempts: list[dict[str, Any]]) -> str:
    if not attempts:
        return ""
    rows = [
        [
            esc(a.get("number")),
            esc(a.get("error_class") or "ok"),
            esc(a.get("status")),
            esc(a.get("message")),
            num(a.get("duration_ms"), ",.0f", " ms"),
            num(a.get("retry_after_s"), "g", " s"),
            num(a.get("backoff_s"), ".2f", " s"),
        ]
        for a in attempts
    ]
    head = ["#", "error class", "status", "message", "duration", "retry after", "backoff"]
    return "<h3>Attempts</h3>" + table(head, rows)
