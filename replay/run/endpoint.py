"""Failures of an OpenAI-compatible endpoint, classified into the run's error classes.

Shared by the `openai` and `http` pipelines and the judge, so a 429 means the same everywhere.
Classes come from exception types and status codes, never from message text; messages are
ours, so nothing an endpoint echoes (a key in a 401 body) reaches an artifact.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from replay.errors import AttemptFailed
from replay.models import Attempt, Usage


def sdk_failure(exc: Exception, what: str = "the model endpoint") -> AttemptFailed:
    """Classify an exception of the `openai` SDK (a ValueError or TypeError is a broken body)."""
    import openai  # only a failed request needs the SDK's classes

    if isinstance(exc, openai.APIStatusError):
        return status_failure(exc.status_code, exc.response.headers.get("retry-after"), what)
    if isinstance(exc, openai.APITimeoutError) and not _dropped(exc):
        return AttemptFailed("model_timeout", f"{what} did not answer in time", retryable=True)
    if isinstance(exc, openai.APITimeoutError):
        return AttemptFailed("model_connection", f"{what} dropped the connection", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        return AttemptFailed("model_connection", f"could not connect to {what}", retryable=True)
    return AttemptFailed(
        "model_error",
        f"{what} sent a malformed response ({type(exc).__name__})",
        retryable=False,
    )


def _dropped(exc: BaseException) -> bool:
    """A "timeout" whose root is a closed connection, not a clock.

    The aiohttp transport reports every connection error, a server that hung up included, as a
    connect timeout; the exception it wraps tells the two apart.
    """
    import aiohttp  # only a failed request needs the transport's classes

    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        if isinstance(cause, aiohttp.ClientConnectionError) and not isinstance(
            cause, aiohttp.ServerTimeoutError | asyncio.TimeoutError
        ):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def status_failure(
    status: int, retry_after: str | None, what: str = "the model endpoint"
) -> AttemptFailed:
    """Classify an HTTP error status (429 and 5xx are retryable; other 4xx are not)."""
    if status == 429:
        return AttemptFailed(
            "model_rate_limit",
            f"{what} is rate limiting (429)",
            retryable=True,
            retry_after_s=parse_retry_after(retry_after),
            status=status,
        )
    if status >= 500:
        return AttemptFailed(
            "model_error", f"{what} failed ({status})", retryable=True, status=status
        )
    reasons = {
        401: "rejected the API key",
        403: "refused access",
        404: "does not know the model or path",
    }
    reason = reasons.get(status, "rejected the request")
    return AttemptFailed(
        "model_error", f"{what} {reason} ({status})", retryable=False, status=status
    )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds form); None when absent or a date."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(seconds, 0.0)


def backoff_s(
    number: int,
    retry_after_s: float | None,
    *,
    rng: random.Random,
    base_s: float,
    cap_s: float,
    retry_after_cap_s: float,
) -> float:
    """Seconds to wait after failed attempt `number`.

    The server's Retry-After wins, up to its cap; otherwise full jitter, uniform in
    [0, min(cap, base * 2^(n-1))].
    """
    if retry_after_s is not None:
        return min(retry_after_s, retry_after_cap_s)
    return rng.uniform(0, min(cap_s, base_s * 2 ** (number - 1)))


def failed_attempt(
    number: int, duration_ms: float, failure: AttemptFailed, backoff: float | None
) -> Attempt:
    """The record of an attempt that failed, and of the wait before the next (None: no next)."""
    return Attempt(
        number=number,
        duration_ms=round(duration_ms, 3),
        error_class=failure.error_class,
        status=failure.status,
        message=failure.message,
        retry_after_s=failure.retry_after_s,
        backoff_s=None if backoff is None else round(backoff, 3),
    )


def reported_usage(reported: Any, who: str) -> Usage:
    """The token counts an endpoint reported; a count below 0 or not a number is malformed.

    Args:
        reported: the response's `usage` object, as the SDK built it (unvalidated).
        who: `model` or `judge`, for the message.

    Raises:
        AttemptFailed: `model_error`, never retried: the same answer would come back.
    """
    prompt = getattr(reported, "prompt_tokens", None) or 0
    completion = getattr(reported, "completion_tokens", None) or 0
    counts = (prompt, completion)
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts):
        raise AttemptFailed(
            "model_error",
            f"the {who} endpoint sent a malformed usage ({prompt!r} prompt, "
            f"{completion!r} completion tokens)",
            retryable=False,
        )
    return Usage(prompt_tokens=prompt, completion_tokens=completion)
