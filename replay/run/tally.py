"""Running totals of a run, kept case by case so a summary never needs every case in memory.

An answer from the response cache (`CaseResult.cache == "hit"`) was paid for when it was stored:
here it adds no tokens and no cost (only what it saved, in `cache_saved_usd`), and no latency,
since its latency is a disk read: the percentiles are of answers a model sent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from replay.models import AttributionSummary, CaseResult, RequestPlan, Summary
from replay.verdict import stats


@dataclass
class Tally:
    """Counts and sums over the finished cases of a run."""

    cases: int = 0
    by_verdict: Counter[str] = field(default_factory=Counter)
    by_channel: Counter[str] = field(default_factory=Counter)
    by_request_source: Counter[str] = field(default_factory=Counter)
    by_error_class: Counter[str] = field(default_factory=Counter)
    by_change_class: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    estimated_cost_usd: float = 0.0
    unpriced_models: set[str] = field(default_factory=set)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    outcomes: int = 0
    reported_usage: int = 0
    cost_usd: float = 0.0
    unpriced_outcomes: int = 0
    """Drafts whose tokens are known but whose model has no price."""
    unpriced_answers: set[str] = field(default_factory=set)
    latencies_ms: list[float] = field(default_factory=list)
    similarities: list[float] = field(default_factory=list)
    sent_new: list[float] = field(default_factory=list)
    sent_original: list[float] = field(default_factory=list)
    closer: int = 0
    further: int = 0
    invariants: dict[str, Counter[str]] = field(default_factory=dict)
    by_judge: Counter[str] = field(default_factory=Counter)
    by_regression_kind: Counter[str] = field(default_factory=Counter)
    judge_prompt_tokens: int = 0
    judge_completion_tokens: int = 0
    judge_cost_usd: float = 0.0
    judge_unpriced: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    saved_usd: float = 0.0
    saved_unknown: set[str] = field(default_factory=set)
    """Why some hit's saving is unknown: its model has no price, or it reported no usage."""
    controlled: bool = False
    """Some case ran beside a control arm (`--control`)."""
    by_attribution: Counter[str] = field(default_factory=Counter)
    drift_regressions: Counter[str] = field(default_factory=Counter)
    without_control: int = 0
    control_errors: Counter[str] = field(default_factory=Counter)
    arm_pairs: list[stats.ArmPair] = field(default_factory=list)
    """Cases both arms drafted, for the paired statistics of candidate against control."""
    min_paired: int = 10
    """Fewer pairs than this and the statistics say the sample is too small (`[gate]`)."""

    def add(self, result: CaseResult) -> None:
        """Count one finished case."""
        self.cases += 1
        self.by_verdict[result.verdict] += 1
        if result.input.channel:
            self.by_channel[result.input.channel] += 1
        if result.error is not None:
            self.by_error_class[result.error.error_class] += 1
        comparison = result.comparison
        if comparison is not None:
            self.by_change_class[comparison.change_class] += 1
            self.similarities.append(comparison.similarity)
            delta = comparison.closer_to_sent
            if delta is not None:
                self.sent_new.append(comparison.sent_similarity_new or 0.0)
                self.sent_original.append(comparison.sent_similarity_original or 0.0)
                self.closer += delta > 0
                self.further += delta < 0
        if result.invariants is not None:
            for kind in ("new", "fixed", "pre_existing"):
                for violation in getattr(result.invariants, kind):
                    self.invariants.setdefault(violation.code, Counter())[kind] += 1
        if result.regression_kind is not None:
            self.by_regression_kind[result.regression_kind] += 1
        if result.judge is not None:
            self._judged(result)
        self.retries += max(len(result.attempts) - 1, 0)
        if result.control is not None:
            self._controlled(result)
        hit = result.cache == "hit"
        if result.cache is not None:
            self._cached(result)
        if result.latency_ms is not None and not hit:
            self.latencies_ms.append(result.latency_ms)
        outcome = result.outcome
        plan = result.plan
        if outcome is not None:
            source = outcome.metadata.get("request_source")
            if plan is None and isinstance(source, str):
                self.by_request_source[source] += 1  # a live case with a plan counts below
            self.outcomes += 1
            if hit:
                self.reported_usage += 1  # the tokens paid for it in this run are known: none
            elif outcome.usage is not None:
                self.reported_usage += 1
                self.prompt_tokens += outcome.usage.prompt_tokens
                self.completion_tokens += outcome.usage.completion_tokens
                if result.cost_usd is None:  # tokens known, price not
                    self.unpriced_outcomes += 1
                    self.unpriced_answers.add(outcome.model or "<none>")
            if result.cost_usd is not None:
                self.cost_usd += result.cost_usd
        if plan is None:
            return
        self.by_request_source[plan.source] += 1
        self._estimated(plan)

    def _estimated(self, plan: RequestPlan) -> None:
        """Count a planned request's estimated tokens and cost (the control's too)."""
        self.input_tokens += plan.estimated_input_tokens
        self.output_tokens += plan.estimated_output_tokens
        if plan.estimated_cost_usd is None:
            self.unpriced_models.add(plan.request.model or "<none>")
        else:
            self.estimated_cost_usd += plan.estimated_cost_usd

    def _controlled(self, result: CaseResult) -> None:
        """Count a case's control arm: attribution, its errors, retries and paid tokens.

        Its cost is already in the case's `cost_usd`; its tokens count as the candidate's do
        (none for a cache hit), so token totals are what the run paid for, both arms.
        """
        control = result.control
        assert control is not None
        self.controlled = True
        self.retries += max(len(control.attempts) - 1, 0)
        if control.plan is not None:
            self._estimated(control.plan)
        if control.error is not None:
            self.control_errors[control.error.error_class] += 1
        if result.attribution is not None:
            self.by_attribution[result.attribution] += 1
        if result.drift_regression is not None:
            self.drift_regressions[result.drift_regression] += 1
        outcome = control.outcome
        if outcome is None:
            self.without_control += result.outcome is not None
            return
        comparison = result.comparison  # the candidate's against the control's draft
        if result.outcome is not None and comparison is not None:
            self.arm_pairs.append(
                stats.ArmPair(
                    case_id=result.case_id,
                    control_regressed=control.verdict == "regressed",
                    candidate_regressed=result.versus_original == "regressed",
                    control_similarity=comparison.sent_similarity_original,
                    candidate_similarity=comparison.sent_similarity_new,
                )
            )
        self.outcomes += 1
        if control.cache == "hit":
            self.reported_usage += 1
        elif outcome.usage is not None:
            self.reported_usage += 1
            self.prompt_tokens += outcome.usage.prompt_tokens
            self.completion_tokens += outcome.usage.completion_tokens

    def _cached(self, result: CaseResult) -> None:
        if result.cache == "miss":
            self.cache_misses += 1
            return
        self.cache_hits += 1
        if result.saved_usd is not None:
            self.saved_usd += result.saved_usd
            return
        outcome = result.outcome
        usage = outcome.usage if outcome is not None else None
        model = (outcome.model if outcome is not None else None) or "<none>"
        self.saved_unknown.add(f"no price for {model}" if usage else "a hit reported no usage")

    def _judged(self, result: CaseResult) -> None:
        judgement = result.judge
        assert judgement is not None
        self.by_judge[judgement.verdict] += 1
        if judgement.usage is not None:
            self.judge_prompt_tokens += judgement.usage.prompt_tokens
            self.judge_completion_tokens += judgement.usage.completion_tokens
            if judgement.cost_usd is None:
                self.judge_unpriced += 1
            else:
                self.judge_cost_usd += judgement.cost_usd

    def summary(self, duration_s: float | None = None, *, live: bool = True) -> Summary:
        """The totals as the artifact's summary; what could not be measured is None, with why."""
        latencies = sorted(self.latencies_ms)
        planned = sum(self.by_request_source.values()) > 0 and self.input_tokens > 0
        return Summary(
            not_measured=self._not_measured(live=live, planned=planned),
            cases=self.cases,
            by_verdict=dict(sorted(self.by_verdict.items())),
            by_channel=dict(sorted(self.by_channel.items())),
            by_request_source=dict(sorted(self.by_request_source.items())),
            by_error_class=dict(sorted(self.by_error_class.items())),
            by_change_class=dict(sorted(self.by_change_class.items())),
            retries=self.retries,
            estimated_input_tokens=self.input_tokens,
            estimated_output_tokens=self.output_tokens,
            estimated_cost_usd=(
                round(self.estimated_cost_usd, 6) if planned and not self.unpriced_models else None
            ),
            prompt_tokens=self.prompt_tokens if self._usage_whole else None,
            completion_tokens=self.completion_tokens if self._usage_whole else None,
            cost_usd=round(self.cost_usd, 6) if self._cost_whole else None,
            latency_ms_p50=percentile(latencies, 0.50),
            latency_ms_p95=percentile(latencies, 0.95),
            latency_ms_max=latencies[-1] if latencies else None,
            attribution=AttributionSummary(
                by_attribution=dict(sorted(self.by_attribution.items())),
                regressions=dict(sorted(self.drift_regressions.items())),
                without_control=self.without_control,
                control_errors=dict(sorted(self.control_errors.items())),
                stats=stats.arms(self.arm_pairs, minimum=self.min_paired) if live else None,
            )
            if self.controlled
            else None,
            cache_hits=self.cache_hits if self._cache_used else None,
            cache_misses=self.cache_misses if self._cache_used else None,
            cache_saved_usd=(
                round(self.saved_usd, 6) if self._cache_used and not self.saved_unknown else None
            ),
            duration_s=None if duration_s is None else round(duration_s, 3),
            by_invariant={
                code: {kind: counts[kind] for kind in ("new", "fixed", "pre_existing")}
                for code, counts in sorted(self.invariants.items())
            },
            similarity_mean=_mean(self.similarities),
            similarity_p10=percentile(sorted(self.similarities), 0.10),
            similarity_p50=percentile(sorted(self.similarities), 0.50),
            sent_pairs=len(self.sent_new),
            sent_similarity_new_mean=_mean(self.sent_new),
            sent_similarity_original_mean=_mean(self.sent_original),
            closer_to_sent=self.closer,
            further_from_sent=self.further,
            unpriced_models=sorted(self.unpriced_models),
            by_judge=dict(sorted(self.by_judge.items())),
            by_regression_kind=dict(sorted(self.by_regression_kind.items())),
            judge_prompt_tokens=self.judge_prompt_tokens,
            judge_completion_tokens=self.judge_completion_tokens,
            judge_cost_usd=(
                None if self.judge_unpriced or not self.by_judge else round(self.judge_cost_usd, 6)
            ),
        )

    @property
    def _usage_whole(self) -> bool:
        """Every draft reported its tokens: a sum over some would pass for the whole."""
        return self.outcomes > 0 and self.reported_usage == self.outcomes

    @property
    def _cache_used(self) -> bool:
        return self.cache_hits + self.cache_misses > 0

    @property
    def _cost_whole(self) -> bool:
        return self._usage_whole and not self.unpriced_outcomes

    def _not_measured(self, *, live: bool, planned: bool) -> dict[str, str]:
        """Why each figure the summary leaves None is None, in words a report can show."""
        why: dict[str, str] = {}
        if planned and self.unpriced_models:
            why["estimated_cost_usd"] = f"no price for {', '.join(sorted(self.unpriced_models))}"
        elif not planned:
            why["estimated_cost_usd"] = "no request was planned"
        if not live:
            return why
        usage = "the pipeline reported no token usage"
        if 0 < self.reported_usage < self.outcomes:
            missing = self.outcomes - self.reported_usage
            usage = f"{missing} of {self.outcomes} drafts reported no token usage"
        if not self.outcomes:
            for key in ("prompt_tokens", "completion_tokens", "cost_usd"):
                why[key] = "no draft came back"
        else:
            if not self._usage_whole:
                for key in ("prompt_tokens", "completion_tokens", "cost_usd"):
                    why[key] = usage
            if self.unpriced_outcomes:
                why["cost_usd"] = f"no price for {', '.join(sorted(self.unpriced_answers))}"
        if not self.latencies_ms:
            cached = self.cache_hits and self.outcomes
            unsent = "every draft came from the response cache" if cached else "no draft came back"
            for key in ("latency_ms_p50", "latency_ms_p95", "latency_ms_max"):
                why[key] = unsent
        if not self._cache_used:
            off = "the response cache was not used (--cache off, or not the openai pipeline)"
            for key in ("cache_hits", "cache_misses", "cache_saved_usd"):
                why[key] = off
        elif self.saved_unknown:
            why["cache_saved_usd"] = "; ".join(sorted(self.saved_unknown))
        if not self.similarities:
            for key in ("similarity_mean", "similarity_p10", "similarity_p50"):
                why[key] = "no case had both an original and a new draft"
        if not self.sent_new:
            for key in ("sent_similarity_new_mean", "sent_similarity_original_mean"):
                why[key] = "no case had both drafts and a reply a human sent"
        if self.by_judge and self.judge_unpriced:
            why["judge_cost_usd"] = "no price for the judge model"
        return why


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def percentile(ordered: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an ascending list; None when it is empty."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]
