"""What a pipeline returns, made safe before the run keeps it.

A case's data is data: nothing a model or a team's pipeline answers may crash the run or
corrupt an output format. At this one boundary, between the pipeline and everything after it:

- text that JSON, HTML and XML cannot hold (a lone surrogate, from an emoji cut in half by
  `max_tokens`) is replaced with U+FFFD and the repair is recorded in `metadata.sanitized`;
- an answer longer than `--max-answer-chars` is a classified error naming its size, never a
  gigabyte kept in memory, on disk and in the report;
- a usage with a negative or impossible token count is a malformed answer, not a cost.
"""

from __future__ import annotations

import re
from typing import Any, Final

from replay.errors import AttemptFailed
from replay.models import ErrorClass, Outcome

MAX_TOKENS: Final = 10_000_000
"""More tokens than any model's context: a usage above it was not measured, it is corrupt."""

_SURROGATE = re.compile("[\ud800-\udfff]")
"""A code point in the surrogate range is always alone in a Python str: pairs are decoded."""


def admitted(outcome: Outcome, *, max_chars: int, error_class: ErrorClass) -> Outcome:
    """Return `outcome` fit to keep, or raise the classified failure it is.

    Args:
        outcome: what the pipeline returned.
        max_chars: the longest draft kept (`--max-answer-chars`).
        error_class: how a malformed answer is classified: `model_error` for the model
            endpoint, `pipeline_error` for a team's code.

    Raises:
        AttemptFailed: the answer is too long or reports an impossible usage (never retried:
            the same request would get the same answer).
    """
    if len(outcome.text) > max_chars:
        raise AttemptFailed(
            error_class,
            f"the answer has {len(outcome.text):,} characters, over --max-answer-chars "
            f"{max_chars:,}",
            retryable=False,
        )
    usage = outcome.usage
    if usage is not None and not (
        usage.prompt_tokens <= MAX_TOKENS and usage.completion_tokens <= MAX_TOKENS
    ):
        raise AttemptFailed(
            error_class,
            f"the answer reports an impossible usage ({usage.prompt_tokens:,} prompt, "
            f"{usage.completion_tokens:,} completion tokens)",
            retryable=False,
        )
    repaired: list[str] = []
    fields: dict[str, Any] = {}
    for name in ("text", "model", "finish_reason", "request_hash"):
        value = getattr(outcome, name)
        if isinstance(value, str) and _SURROGATE.search(value):
            fields[name] = clean(value)
            repaired.append(name)
    metadata = outcome.metadata
    if _has_surrogate(metadata):
        metadata = _clean_json(metadata)
        repaired.append("metadata")
    if not repaired:
        return outcome
    fields["metadata"] = {**metadata, "sanitized": repaired}
    return outcome.model_copy(update=fields)


def clean(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def _has_surrogate(value: Any) -> bool:
    """Whether any string of a JSON-like value (keys included) holds a lone surrogate."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_surrogate(key) or _has_surrogate(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_has_surrogate(item) for item in value)
    return False


def _clean_json(value: Any) -> Any:
    """A JSON-like value with every string (keys included) cleaned."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {_clean_json(key): _clean_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_json(item) for item in value]
    return value
