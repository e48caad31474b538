"""The base of every boundary model and the vocabularies artifacts share."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 5
"""Bumped on any change that an older reader of artifacts would misread."""

Channel = Literal["email", "sms", "linkedin"]
RequestSource = Literal["recorded", "rendered"]
Verdict = Literal[
    "selected", "unchanged", "changed", "improved", "regressed", "error", "invalid_case", "skipped"
]
RunStatus = Literal["complete", "interrupted", "blocked", "empty"]
ErrorClass = Literal[
    "db",
    "model_rate_limit",
    "model_timeout",
    "model_connection",
    "model_error",
    "pipeline_error",
    "timeout",
    "judge_error",
]
ChangeClass = Literal["identical", "whitespace", "minor", "rewritten"]
Attribution = Literal["none", "drift", "change"]
"""Where a case's difference comes from when a control arm ran: nothing, drift alone (the
candidate differs from the original only as the control does), or the change."""
DriftRegression = Literal["change", "hidden_by_drift", "drift"]
"""A regression's kind beside a control arm: caused by the change, caused by the change but
hidden from the original by drift, or drift alone (not the change's: it does not gate)."""
Mode = Literal["dry", "live"]


class Strict(BaseModel):
    """Base of every boundary model: unknown fields are an error, values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
