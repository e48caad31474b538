"""Attributing a case's difference to the change or to drift, from its two verdicts."""

from __future__ import annotations

import pytest

from replay.models import Verdict
from replay.verdict.attribution import attribute


@pytest.mark.parametrize(
    ("versus_original", "versus_control", "expected"),
    [
        pytest.param("regressed", "regressed", ("change", "change"), id="the-change-regressed"),
        pytest.param("changed", "regressed", ("change", "hidden_by_drift"), id="drift-hid-it"),
        pytest.param("unchanged", "regressed", ("change", "hidden_by_drift"), id="hidden-fully"),
        pytest.param("regressed", "unchanged", ("drift", "drift"), id="drift-alone-regressed"),
        pytest.param("regressed", "changed", ("change", "drift"), id="drift-regressed-change-too"),
        pytest.param("changed", "unchanged", ("drift", None), id="drift-alone-reworded"),
        pytest.param("improved", "unchanged", ("drift", None), id="drift-alone-improved"),
        pytest.param("unchanged", "unchanged", ("none", None), id="nothing"),
        pytest.param("changed", "improved", ("change", None), id="the-change-improved"),
    ],
)
def test_each_pair_of_verdicts_has_one_attribution(
    versus_original: Verdict, versus_control: Verdict, expected: tuple[str, str | None]
) -> None:
    """The table of the module docstring, row by row."""
    found = attribute(versus_original=versus_original, versus_control=versus_control)
    assert (found.attribution, found.regression) == expected
