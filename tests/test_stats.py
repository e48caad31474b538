"""Paired statistics: exact McNemar, seeded bootstrap, pairing of two runs' cases."""

from __future__ import annotations

import math
import random

import pytest

from replay.models import CaseResult
from replay.verdict.stats import interval_indices, mcnemar_exact, paired, paired_bootstrap

MINUS = "\N{MINUS SIGN}"


@pytest.mark.parametrize(
    ("b", "c", "p"),
    [
        pytest.param(1, 6, 0.125, id="b1-c6: 2*(1+7)/128"),
        pytest.param(6, 1, 0.125, id="symmetric"),
        pytest.param(0, 5, 0.0625, id="b0-c5: 2/32"),
        pytest.param(0, 0, 1.0, id="no-discordant-pairs"),
        pytest.param(3, 3, 1.0, id="b3-c3: 84/64 capped at 1"),
        pytest.param(2, 8, 0.109375, id="b2-c8: 2*(1+10+45)/1024"),
    ],
)
def test_mcnemar_exact_hand_computed(b: int, c: int, p: float) -> None:
    """The two-sided exact p-value matches the binomial sum worked out by hand."""
    result = mcnemar_exact(b, c, both=4, neither=9)
    assert result.p_value == p
    assert (result.only_baseline, result.only_run, result.both, result.neither) == (b, c, 4, 9)


def test_mcnemar_tiny_p_is_not_rounded_to_zero() -> None:
    """0 against 60 discordant pairs gives 2/2^60, not 0.0."""
    assert mcnemar_exact(0, 60, both=0, neither=0).p_value == 2 / 2**60


@pytest.mark.parametrize(
    ("resamples", "confidence", "bounds"),
    [
        pytest.param(2000, 0.95, (50, 1949), id="2000-at-95"),
        pytest.param(10, 0.8, (1, 8), id="10-at-80"),
        pytest.param(1, 0.95, (0, 0), id="one-resample"),
        pytest.param(1000, 0.9, (50, 949), id="1000-at-90"),
    ],
)
def test_interval_indices(resamples: int, confidence: float, bounds: tuple[int, int]) -> None:
    """Bounds are floor(alpha/2*R) and ceil((1-alpha/2)*R)-1, free of float noise."""
    assert interval_indices(resamples, confidence) == bounds


def test_bootstrap_single_difference_is_exact() -> None:
    """With one pair every resample is that pair: mean, low and high are all it."""
    result = paired_bootstrap([1.0], measure="m", resamples=50, seed=3)
    assert (result.pairs, result.mean_difference, result.low, result.high) == (1, 1.0, 1.0, 1.0)
    assert (result.measure, result.resamples, result.seed, result.confidence) == ("m", 50, 3, 0.95)


def test_bootstrap_constant_differences_collapse() -> None:
    """A constant list gives low == high == mean, rounded to 6 decimals."""
    result = paired_bootstrap([-0.1] * 7, measure="m", seed=1)
    assert result.mean_difference == result.low == result.high == -0.1


def test_bootstrap_empty() -> None:
    """No pairs: no mean and no interval, but the settings are still recorded."""
    result = paired_bootstrap([], measure="m", resamples=10, seed=2)
    assert (result.pairs, result.mean_difference, result.low, result.high) == (0, None, None, None)
    assert (result.resamples, result.seed) == (10, 2)


def test_bootstrap_same_seed_same_interval() -> None:
    """The same data and seed give the same interval, whatever the order of calls."""
    data = [0.3, -0.2, 0.05, 0.0, -0.4, 0.1, 0.25]
    first = paired_bootstrap(data, measure="m", seed=7)
    paired_bootstrap(data, measure="m", seed=8)
    assert paired_bootstrap(data, measure="m", seed=7) == first
    assert first.low is not None and first.high is not None and first.low < first.high


def test_bootstrap_follows_documented_resampling() -> None:
    """Indices are floor(random()*n) from Random(seed); bounds are the documented order stats."""
    data = [0.0, 1.0, 0.5, 0.25]
    draw = random.Random(11).random
    means = sorted(sum(data[int(draw() * 4)] for _ in range(4)) / 4 for _ in range(10))
    result = paired_bootstrap(data, measure="m", resamples=10, seed=11, confidence=0.8)
    assert (result.low, result.high) == (means[1], means[8])
    assert result.mean_difference == 0.4375


def test_bootstrap_two_values_bounds_are_possible_means() -> None:
    """With data [0, 1] every resample mean is 0, 0.5 or 1, so the bounds are too."""
    result = paired_bootstrap([0.0, 1.0], measure="m", resamples=200, seed=0)
    assert result.low in {0.0, 0.5, 1.0} and result.high in {0.0, 0.5, 1.0}
    assert result.mean_difference == 0.5


def test_bootstrap_rejects_bad_settings() -> None:
    """Zero resamples or a confidence outside (0, 1) is a programming error."""
    with pytest.raises(ValueError, match="resamples must be a positive integer, got 0"):
        paired_bootstrap([1.0], measure="m", resamples=0)
    with pytest.raises(ValueError, match="confidence must be between 0 and 1, got 1.0"):
        paired_bootstrap([1.0], measure="m", confidence=1.0)


# --- pairing two runs --------------------------------------------------------------------------


def case(case_id: str, verdict: str, sent: float | None = None, repeat: int = 0) -> CaseResult:
    """A case result reduced to what pairs."""
    comparison = (
        None
        if verdict in {"error", "skipped", "invalid_case", "selected"}
        else {
            "change_class": "rewritten",
            "similarity": 0.5,
            "measure": "ratio",
            "length_change": 0,
            "sent_similarity_new": sent,
        }
    )
    return CaseResult.model_validate(
        {
            "case_id": case_id,
            "repeat": repeat,
            "verdict": verdict,
            "input": {},
            "comparison": comparison,
        }
    )


def test_paired_too_small_sample() -> None:
    """Six paired cases against a minimum of ten: no conclusion, no worse/better."""
    base = [case(f"c{i}", "changed", 0.9) for i in range(6)]
    run = [case(f"c{i}", "regressed", 0.1) for i in range(6)]
    stats = paired(base, run)
    assert (stats.paired, stats.minimum, stats.enough, stats.worse) == (6, 10, False, None)
    assert stats.conclusion == "sample too small to conclude: 6 paired cases, at least 10 needed"
    assert stats.mcnemar is not None and stats.mcnemar.only_run == 6
    assert stats.mcnemar.p_value == 0.03125


def test_paired_clearly_worse() -> None:
    """Every case moved 0.25 away from the sent reply: worse, said with the interval."""
    base = [case(f"c{i:02}", "changed", 0.75) for i in range(12)]
    run = [case(f"c{i:02}", "changed", 0.5) for i in range(12)]
    stats = paired(base, run)
    assert (stats.paired, stats.enough, stats.worse) == (12, True, True)
    boot = stats.similarity_to_sent
    assert boot is not None
    assert (boot.pairs, boot.mean_difference, boot.low, boot.high) == (12, -0.25, -0.25, -0.25)
    assert stats.conclusion == (
        f"similarity to the sent reply fell by 0.250 (95% CI {MINUS}0.250 to {MINUS}0.250): "
        "worse; McNemar p = 1"
    )


def test_paired_no_significant_change() -> None:
    """Differences straddling zero and one discordant pair: no significant change."""
    base = [case(f"c{i:02}", "changed", 0.5) for i in range(10)]
    run = [case(f"c{i:02}", "changed", 0.5 + (0.1 if i % 2 else -0.1)) for i in range(10)]
    run[0] = case("c00", "regressed", 0.4)
    stats = paired(base, run)
    boot = stats.similarity_to_sent
    assert boot is not None and boot.low is not None and boot.high is not None
    assert boot.low < 0 < boot.high and boot.mean_difference == 0.0
    assert stats.worse is False
    assert stats.mcnemar is not None and stats.mcnemar.p_value == 1.0
    low = f"{boot.low:.3f}".replace("-", MINUS)
    assert stats.conclusion == (
        f"no significant change: mean difference +0.000 (95% CI {low} to {boot.high:.3f}); "
        "McNemar p = 1"
    )


def test_paired_majority_of_repeats() -> None:
    """Regressed needs more than half the repeats; similarity is the repeats' mean."""
    base = [case("a", "changed", 0.5), case("b", "changed", 0.5)]
    run = [
        # a: 2 of 3 repeats regressed -> regressed
        case("a", "regressed", 0.2, repeat=0),
        case("a", "regressed", 0.4, repeat=1),
        case("a", "changed", 0.6, repeat=2),
        # b: 1 of 2 regressed -> not regressed (a tie is not a majority)
        case("b", "regressed", 0.5, repeat=0),
        case("b", "changed", None, repeat=1),
    ]
    stats = paired(base, run, minimum=2)
    assert stats.mcnemar is not None
    assert (stats.mcnemar.only_run, stats.mcnemar.neither) == (1, 1)
    boot = stats.similarity_to_sent
    assert boot is not None
    # a: mean(0.2, 0.4, 0.6) - 0.5 = -0.1; b: 0.5 - 0.5 = 0 (the null repeat is left out)
    assert boot.pairs == 2 and boot.mean_difference == -0.05


def test_paired_ignores_unpaired_and_not_run_cases() -> None:
    """Cases in one run only, and skipped/invalid/selected ones, do not pair."""
    base = [
        case("both", "regressed", 0.5),
        case("only-baseline", "regressed", 0.5),
        case("skipped-in-run", "changed", 0.5),
        case("invalid-in-baseline", "invalid_case"),
        case("dry", "selected"),
    ]
    run = [
        case("both", "changed", 0.7),
        case("only-run", "regressed", 0.1),
        case("skipped-in-run", "skipped"),
        case("invalid-in-baseline", "regressed", 0.1),
        case("dry", "selected"),
    ]
    stats = paired(base, run, minimum=1)
    assert stats.paired == 1
    assert stats.mcnemar is not None
    assert (stats.mcnemar.only_baseline, stats.mcnemar.only_run) == (1, 0)
    assert stats.similarity_to_sent is not None
    assert stats.similarity_to_sent.mean_difference == 0.2


def test_paired_error_has_no_draft_to_pair() -> None:
    """An error is left out: counting it as "not regressed" would flatter a failing run."""
    stats = paired(
        [case("a", "regressed", 0.5), case("b", "changed", 0.5)],
        [case("a", "error"), case("b", "changed", 0.7)],
        minimum=1,
    )
    assert stats.paired == 1
    assert stats.mcnemar is not None
    assert (stats.mcnemar.only_baseline, stats.mcnemar.neither) == (0, 1)
    assert stats.similarity_to_sent is not None and stats.similarity_to_sent.pairs == 1


def test_paired_significant_regressions_are_named() -> None:
    """With McNemar under 0.05 the conclusion says how many regressed on each side."""
    base = [case(f"c{i:02}", "changed", 0.5) for i in range(10)]
    run = [case(f"c{i:02}", "regressed" if i < 6 else "changed", 0.5) for i in range(10)]
    stats = paired(base, run)
    assert stats.worse is False
    assert stats.conclusion == (
        "no significant change in similarity to the sent reply: mean difference +0.000 "
        "(95% CI 0.000 to 0.000); 6 cases regressed only in the run and 0 only in the baseline "
        "(McNemar p = 0.0312)"
    )


def test_paired_better() -> None:
    """A clearly positive shift is reported as better, and not worse."""
    base = [case(f"c{i:02}", "changed", 0.5) for i in range(10)]
    run = [case(f"c{i:02}", "changed", 0.75) for i in range(10)]
    stats = paired(base, run)
    assert stats.worse is False
    assert stats.conclusion.startswith(
        "similarity to the sent reply rose by 0.250 (95% CI 0.250 to 0.250): better"
    )


def test_paired_nothing_in_common() -> None:
    """No shared case: zero paired, no tests run."""
    stats = paired([case("a", "changed", 0.5)], [case("b", "changed", 0.5)])
    assert (stats.paired, stats.enough, stats.mcnemar, stats.similarity_to_sent) == (
        0,
        False,
        None,
        None,
    )
    assert stats.conclusion == "sample too small to conclude: 0 paired cases, at least 10 needed"


def test_paired_bootstrap_ignores_input_order() -> None:
    """Pairs are taken in case-id order, so shuffled artifacts give the same interval."""
    base = [case(f"c{i:02}", "changed", 0.5) for i in range(12)]
    run = [case(f"c{i:02}", "changed", 0.5 + math.sin(i) / 10) for i in range(12)]
    forward = paired(base, run)
    backward = paired(list(reversed(base)), list(reversed(run)))
    assert forward == backward


def test_paired_few_sent_replies_cannot_make_the_interval_decide() -> None:
    """Twenty pairs but one sent reply: the interval of one pair says nothing, so not `worse`."""
    base = [case(f"c{i:02}", "changed", 0.5 if i == 0 else None) for i in range(20)]
    run = [case(f"c{i:02}", "changed", 0.49 if i == 0 else None) for i in range(20)]
    stats = paired(base, run, minimum=10)
    assert stats.enough is True and stats.worse is None
    assert stats.conclusion == (
        "too few cases with a sent reply in both runs to conclude on similarity: 1, "
        "at least 10 needed; McNemar p = 1"
    )
