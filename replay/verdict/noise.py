"""The noise floor: how much a case's repeats (`--repeats K`) disagree with each other.

Identical reruns of a model do not give identical drafts, and a gate that fails on that noise is
a gate people learn to ignore. Each case is replayed K times; a case counts as regressed only
when most of its repeats regressed, and a case whose repeats disagree on the verdict is `flaky`:
listed, never failing the gate by itself. Repeats of a case are started one after another, so
only the cases in flight are buffered here, never the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations

from replay.models import CaseResult, Noise, RepeatAgreement
from replay.verdict import textdiff


@dataclass
class _Buffer:
    verdicts: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    change_classes: list[str | None] = field(default_factory=list)
    invariants: list[frozenset[str]] = field(default_factory=list)
    judges: list[str] = field(default_factory=list)
    results: list[CaseResult] = field(default_factory=list)


def majority(verdicts: list[str]) -> str:
    """`regressed` when more than half regressed; else the commonest other verdict (first wins)."""
    counts = Counter(verdicts)
    if counts["regressed"] * 2 > len(verdicts):
        return "regressed"
    others = [verdict for verdict in verdicts if verdict != "regressed"]
    if not others:
        return "regressed"
    best = max(Counter(others).values())
    return next(verdict for verdict in others if Counter(others)[verdict] == best)


@dataclass
class Repeats:
    """Gathers each case's repeats and says how they agreed once all are in."""

    repeats: int
    _open: dict[str, _Buffer] = field(default_factory=dict)
    _done: list[RepeatAgreement] = field(default_factory=list)

    def add(self, result: CaseResult) -> tuple[CaseResult, RepeatAgreement] | None:
        """Take one repeat; when it completes its case, return the case as the gate should see it.

        The returned result is the first repeat that has the majority verdict, for the gate.
        """
        buffer = self._open.setdefault(result.case_id, _Buffer())
        buffer.results.append(result)
        buffer.verdicts.append(result.verdict)
        if result.outcome is not None:
            buffer.texts.append(result.outcome.text)
        buffer.change_classes.append(
            None if result.comparison is None else result.comparison.change_class
        )
        new = result.invariants.new if result.invariants is not None else []
        buffer.invariants.append(frozenset(v.code for v in new if v.severity == "critical"))
        if result.judge is not None:
            buffer.judges.append(result.judge.verdict)
        if len(buffer.verdicts) < self.repeats:
            return None
        return self._close(result.case_id)

    def rest(self) -> list[tuple[CaseResult, RepeatAgreement]]:
        """Close the cases still open (an interrupted run): judged on the repeats they have."""
        return [self._close(case_id) for case_id in list(self._open)]

    def _close(self, case_id: str) -> tuple[CaseResult, RepeatAgreement]:
        buffer = self._open.pop(case_id)
        pairs = list(combinations(buffer.texts, 2))
        agreement = RepeatAgreement(
            case_id=case_id,
            repeats=len(buffer.verdicts),
            verdicts=buffer.verdicts,
            verdict=majority(buffer.verdicts),
            flaky=len(set(buffer.verdicts)) > 1,
            self_similarity=round(sum(textdiff.similarity(a, b) for a, b in pairs) / len(pairs), 4)
            if pairs
            else None,
            same_change_class=len(set(buffer.change_classes)) <= 1,
            same_invariants=len(set(buffer.invariants)) <= 1,
            same_judge=len(set(buffer.judges)) <= 1 if buffer.judges else None,
        )
        self._done.append(agreement)
        # A repeat that has the majority verdict, so its reason (budget, kind) goes with it.
        decided = next(r for r in buffer.results if r.verdict == agreement.verdict)
        return decided, agreement

    def report(self) -> Noise:
        """The run's noise, from every closed case."""
        done = sorted(self._done, key=lambda item: item.case_id)
        cases = len(done)
        similar = [item.self_similarity for item in done if item.self_similarity is not None]
        judged = [item.same_judge for item in done if item.same_judge is not None]
        flaky = [item.case_id for item in done if item.flaky]
        return Noise(
            repeats=self.repeats,
            cases=cases,
            flaky=flaky,
            flaky_rate=round(len(flaky) / cases, 4) if cases else 0.0,
            self_similarity_mean=round(sum(similar) / len(similar), 4) if similar else None,
            change_class_agreement=_share(item.same_change_class for item in done),
            invariant_agreement=_share(item.same_invariants for item in done),
            judge_agreement=_share(judged) if judged else None,
            per_case=done,
        )


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return round(sum(1 for value in values if value) / len(values), 4) if values else 1.0
