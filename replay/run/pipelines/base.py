"""The seam between the runner and the pipelines."""

from __future__ import annotations

from typing import Any, Protocol

from replay.errors import AttemptFailed
from replay.models import CaseInput, ErrorClass, Outcome


class Pipeline(Protocol):
    """Turns a case into a new draft, one attempt per call.

    A failed attempt raises `AttemptFailed` with its error class; retries, timeouts and
    concurrency belong to the runner. A pipeline may also have `async def admit(case)`, which
    the runner awaits before each attempt's deadline starts: the `openai` pipeline waits there
    for its turn under the endpoint's rate limits.
    """

    name: str
    malformed: ErrorClass
    """How an unusable answer (too long, an impossible usage) is classified: `model_error`
    when a model endpoint sent it, `pipeline_error` when a team's code returned it."""

    async def draft(self, case: CaseInput) -> Outcome:
        """Make one attempt at a new draft for `case`."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


def to_outcome(value: Any, where: str) -> Outcome:
    """Accept what a team's pipeline returns: an Outcome, a str, or a dict shaped like one.

    Raises:
        AttemptFailed: `pipeline_error` naming the type or the first invalid field.
    """
    if isinstance(value, Outcome):
        return value
    if isinstance(value, str):
        return Outcome(text=value)
    if isinstance(value, dict):
        try:
            return Outcome.model_validate(value)
        except ValueError as exc:
            errors = getattr(exc, "errors", lambda: [{"loc": (), "msg": "invalid"}])()
            first = errors[0]
            field = ".".join(str(part) for part in first["loc"]) or "value"
            raise AttemptFailed(
                "pipeline_error",
                f"{where} returned a dict that is not an Outcome: {field}: {first['msg']}",
                retryable=False,
            ) from None
    raise AttemptFailed(
        "pipeline_error",
        f"{where} returned {type(value).__name__}; expected an Outcome, a str or a dict",
        retryable=False,
    )
