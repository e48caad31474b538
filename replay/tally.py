"""Running totals of a run, kept case by case so a summary never needs every case in memory."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from replay.models import CaseResult, Summary


@dataclass
class Tally:
    """Counts and sums over the finished cases of a run."""

    cases: int = 0
    by_verdict: Counter[str] = field(default_factory=Counter)
    by_channel: Counter[str] = field(default_factory=Counter)
    by_request_source: Counter[str] = field(default_factory=Counter)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_models: set[str] = field(default_factory=set)

    def add(self, result: CaseResult) -> None:
        """Count one finished case."""
        self.cases += 1
        self.by_verdict[result.verdict] += 1
        if result.input.channel:
            self.by_channel[result.input.channel] += 1
        plan = result.plan
        if plan is None:
            return
        self.by_request_source[plan.source] += 1
        self.input_tokens += plan.estimated_input_tokens
        self.output_tokens += plan.estimated_output_tokens
        if plan.estimated_cost_usd is None:
            self.unpriced_models.add(plan.request.model or "<none>")
        else:
            self.cost_usd += plan.estimated_cost_usd

    def summary(self) -> Summary:
        """The totals as the artifact's summary."""
        return Summary(
            cases=self.cases,
            by_verdict=dict(sorted(self.by_verdict.items())),
            by_channel=dict(sorted(self.by_channel.items())),
            by_request_source=dict(sorted(self.by_request_source.items())),
            estimated_input_tokens=self.input_tokens,
            estimated_output_tokens=self.output_tokens,
            estimated_cost_usd=None if self.unpriced_models else round(self.cost_usd, 6),
            unpriced_models=sorted(self.unpriced_models),
        )
