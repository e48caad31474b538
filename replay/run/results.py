"""What happened to one case, as its CaseResult: plan, compare, check, decide.

The per-case half of a run, kept apart from the run's own bookkeeping (`session.py`) so each
stays small. Every function is pure but for the stages it calls.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from replay.config.models import CacheMode, ChecksConfig, RequestConfig, RunConfig
from replay.models import (
    Case,
    CaseResult,
    Comparison,
    ControlArm,
    InputSummary,
    InvalidCase,
    InvariantChanges,
    Judgement,
    Outcome,
    RequestPlan,
)
from replay.run import pricing
from replay.run.pipelines import openai as openai_pipeline
from replay.run.runner import Execution
from replay.verdict import checks as draft_checks
from replay.verdict import policy, questions, textdiff


def planned(item: Case | InvalidCase, config: RunConfig) -> CaseResult:
    """A dry run's result: the request the openai pipeline would send, and its estimate."""
    if isinstance(item, InvalidCase):
        return invalid(item)
    plan = request_plan(item, config)
    if plan is None:
        return skipped(item, 0, "no_recorded_request")
    control = None
    if config.control is not None:  # a dry run estimates both arms: the live run pays both
        request = config.control.request
        arm = request_plan(item, config, request) if request.pipeline == "openai" else None
        control = ControlArm(plan=arm)
    return CaseResult(
        case_id=item.input.case_id,
        verdict="selected",
        input=input_summary(item),
        original=item.original,
        plan=plan,
        control=control,
    )


def request_plan(
    case: Case, config: RunConfig, request: RequestConfig | None = None
) -> RequestPlan | None:
    """The request the openai pipeline sends for `case`, whole, with its estimate.

    A dry run shows it; a live run keeps it beside the answer, inline, so the report shows what
    was sent (its hash is the outcome's `request_hash`). None when the case has no recorded
    request and `--request-source recorded` asks for one. `request` is the control arm's
    settings when planning its request, else the run's.
    """
    try:
        planned = openai_pipeline.plan_request(case.input, request or config.request)
    except openai_pipeline.NoRecording:
        return None
    batch = config.live.batch is not None and (request or config.request) is config.request
    estimate = pricing.estimate(planned.request, case.original.draft, config.prices, batch=batch)
    return RequestPlan(
        source=planned.source,
        request=planned.request,
        request_hash=openai_pipeline.request_hash(planned.request),
        estimated_input_tokens=estimate.input_tokens,
        estimated_output_tokens=estimate.output_tokens,
        estimated_cost_usd=estimate.cost_usd,
    )


def estimate(case: Case, config: RunConfig) -> float | None:
    """Estimated cost of a case's requests (the control's too), for --max-cost; None: unpriced."""
    plan = request_plan(case, config)
    cost = None if plan is None else plan.estimated_cost_usd
    if cost is not None and config.control is not None:
        request = config.control.request
        if request.pipeline != "openai":
            return None  # a team's pipeline has no price: no bound on what it spends
        control = request_plan(case, config, request)
        cost = None if control is None else _added(cost, control.estimated_cost_usd)
    return cost


def _added(a: float, b: float | None) -> float | None:
    return None if b is None else a + b


class Assessment(NamedTuple):
    """What comparing and checking a new draft against the original decided."""

    comparison: Comparison | None
    invariants: InvariantChanges
    decision: policy.Decision


def assess(
    case: Case,
    draft: str,
    checks: draft_checks.InvariantConfig,
    judgement: Judgement | None,
    *,
    finish_reason: str | None = None,
    context: draft_checks.Context | None = None,
) -> Assessment:
    """Compare `draft` with the original and the sent reply, check both drafts, decide.

    The one place a verdict is worked out from a draft: a live case and `replay rescore` call
    it alike, so a stored run decided again gets exactly the verdict a new run would.
    """
    original = case.original.draft
    comparison = None
    if original is not None:
        signature = case.input.client_settings.get("signature")
        comparison = textdiff.compare(
            original,
            draft,
            sent_reply=case.original.sent_reply,
            signature=signature if isinstance(signature, str) else None,
        )
    # Read once, used for both drafts; a caller deciding several pairings of one case passes
    # its own, so each draft is checked once (`Context.checked`).
    context = context if context is not None else draft_checks.context_of(case.input)
    found = policy.changes(
        draft_checks.check(original, case.input, checks, context=context)
        if original is not None
        else [],
        draft_checks.check(draft, case.input, checks, context=context, finish_reason=finish_reason),
    )
    found = questions.weigh(found, judgement)
    decision = policy.decide(comparison=comparison, invariants=found, judgement=judgement)
    return Assessment(comparison, found, decision)


def finished(
    execution: Execution,
    config: RunConfig,
    judgement: Judgement | None = None,
    *,
    versus: Case | None = None,
    context: draft_checks.Context | None = None,
) -> CaseResult:
    """A live case's result: comparison, checks on both drafts, the judge, cost, verdict.

    `versus` is the case with the draft the new one is decided against in the original's
    place (a control arm's); by default the original itself.
    """
    case, outcome = execution.case, execution.outcome
    comparison = None
    found = None
    cache = cache_state(config.cache.mode, config.request.pipeline, outcome)
    cost, saved = paid(outcome, cache, config)
    if outcome is not None:
        comparison, found, decision = assess(
            versus or case,
            outcome.text,
            checks_for(config, case.input.client_id),
            judgement,
            finish_reason=outcome.finish_reason,
            context=context,
        )
    else:
        decision = policy.decide(errored=True, judgement=judgement)
    if cost is not None and judgement is not None and judgement.cost_usd is not None:
        # Only onto a known cost: the judge's alone would pass an unpriced model off as priced.
        cost += judgement.cost_usd
    return CaseResult(
        case_id=case.input.case_id,
        repeat=execution.repeat,
        verdict=decision.verdict,
        input=input_summary(case),
        original=case.original,
        plan=request_plan(case, config) if config.request.pipeline == "openai" else None,
        outcome=outcome,
        comparison=comparison,
        invariants=found,
        reasons=decision.reasons,
        error=execution.error,
        attempts=list(execution.attempts),
        started_at=execution.started_at,
        finished_at=execution.finished_at,
        latency_ms=execution.latency_ms,
        cost_usd=cost,
        cache=cache,
        saved_usd=saved,
        judge=judgement,
        regression_kind=decision.kind,
    )


def cache_state(
    mode: CacheMode, pipeline: str, outcome: Outcome | None
) -> Literal["hit", "miss"] | None:
    """What the response cache did for a case run live: only the `openai` pipeline has one."""
    if mode == "off" or pipeline != "openai":
        return None
    return "hit" if outcome is not None and outcome.cached else "miss"


def paid(
    outcome: Outcome | None, cache: Literal["hit", "miss"] | None, config: RunConfig
) -> tuple[float | None, float | None]:
    """What a draft cost, and what a cache hit saved: None where the model has no price."""
    if outcome is None:
        return None, None
    cost = None
    if outcome.usage is not None:
        # The answer's model may be a dated snapshot; the requested one is priced then.
        requested = outcome.metadata.get("request_model")
        model = outcome.model
        if pricing.price_of(model, config.prices) is None and isinstance(requested, str):
            model = requested
        usage = outcome.usage
        batch = outcome.metadata.get("via") == "batch"
        cost = pricing.cost(
            model, usage.prompt_tokens, usage.completion_tokens, config.prices, batch=batch
        )
    if cache == "hit":  # paid for when it was stored: today it only saves
        return 0.0, cost
    return cost, None


def checks_for(config: RunConfig, client_id: str) -> draft_checks.InvariantConfig:
    """The check settings that apply to a client."""
    return checks_of(config.checks, client_id)


def checks_of(checks: ChecksConfig, client_id: str) -> draft_checks.InvariantConfig:
    """The check settings of `checks` that apply to a client."""
    settings = checks.for_client(client_id)
    return draft_checks.InvariantConfig(
        sms_max_chars=settings.sms_max_chars,
        linkedin_max_chars=settings.linkedin_max_chars,
        email_max_chars=settings.email_max_chars,
        allowed_domains=tuple(settings.allowed_domains),
        opt_out_phrases=tuple(settings.opt_out_phrases),
        disabled=frozenset(settings.disabled),
    )


def invalid(item: InvalidCase) -> CaseResult:
    """The result of a row that failed validation."""
    decision = policy.decide(invalid=True)
    return CaseResult(
        case_id=item.case_id,
        verdict=decision.verdict,
        input=InputSummary(),
        invalid=item,
        reasons=[f"{item.column} {item.reason}"],
    )


def skipped(case: Case, repeat: int, reason: str) -> CaseResult:
    """The result of a case that was not run."""
    return CaseResult(
        case_id=case.input.case_id,
        repeat=repeat,
        verdict=policy.decide(skipped=True).verdict,
        input=input_summary(case),
        original=case.original,
        skipped_reason=reason,
        reasons=[f"skipped: {reason}"],
    )


def input_summary(case: Case) -> InputSummary:
    """The shape of a case's input, enough to see its point-in-time context."""
    data = case.input
    return InputSummary(
        channel=data.channel,
        lead_id=data.lead_id,
        inbound_id=data.inbound.id,
        inbound_subject=data.inbound.subject,
        inbound_body=data.inbound.body,
        inbound_sent_at=data.inbound.sent_at,
        job_created_at=data.job_created_at,
        thread_messages=len(data.thread),
        thread_message_ids=[message.message_id for message in data.thread],
        thread_last_at=data.thread[-1].sent_at if data.thread else None,
        thread=data.thread,
        tags=data.tags,
        lead=data.lead,
        client_settings=data.client_settings,
    )
