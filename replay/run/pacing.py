"""Pacing: start requests no faster than the endpoint's stated rate limits allow.

A provider states its per-minute limits in `x-ratelimit-limit-requests` and
`x-ratelimit-limit-tokens`, what is left in `x-ratelimit-remaining-*`, and when it refills in
`x-ratelimit-reset-*`; a 429 says how long to wait in `Retry-After`. Fixed concurrency either
wastes that rate or runs into a storm of 429s, each task backing off on its own. The pacer
spaces request starts evenly under both limits (a little below them, so clock skew and
network jitter never tip a rolling window over), with `--concurrency` as the ceiling rather
than the target, and on a 429 or an exhausted window holds every start of the run until the
server's wait is over. `--rpm` and `--tpm` state limits a server does not send; where both
speak, the lower limit binds.

Limits are per minute, as OpenAI-compatible servers state them. Token cost of a request is
estimated as the server counts it: input characters / 4 plus the request's output bound.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import anyio

MARGIN = 0.97
"""Share of a stated limit the pacer uses: a rolling window never sees the edge."""
CATCH_UP_S = 1.0
"""How far behind its schedule the pacer may fall and then start at once: after an idle spell,
at most this many seconds' worth of requests go out together."""
MAX_HOLD_S = 60.0
"""The longest a stated reset or Retry-After holds the run: a minute refills any per-minute
window, and a server asking for longer is not believed."""
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Stated:
    """What one response said about the limits; None where it said nothing."""

    limit_requests: float | None = None
    limit_tokens: float | None = None
    remaining_requests: float | None = None
    remaining_tokens: float | None = None
    reset_requests_s: float | None = None
    reset_tokens_s: float | None = None


def stated(headers: Mapping[str, str]) -> Stated:
    """The rate-limit headers of a response; an unreadable value counts as not sent."""
    return Stated(
        limit_requests=_number(headers.get("x-ratelimit-limit-requests")),
        limit_tokens=_number(headers.get("x-ratelimit-limit-tokens")),
        remaining_requests=_number(headers.get("x-ratelimit-remaining-requests")),
        remaining_tokens=_number(headers.get("x-ratelimit-remaining-tokens")),
        reset_requests_s=duration_s(headers.get("x-ratelimit-reset-requests")),
        reset_tokens_s=duration_s(headers.get("x-ratelimit-reset-tokens")),
    )


def duration_s(value: str | None) -> float | None:
    """Seconds of a reset header: `1s`, `250ms`, `6m0s`, `1h2m3.5s`, or a bare number of seconds."""
    if value is None:
        return None
    text = value.strip()
    bare = _number(text)
    if bare is not None:
        return bare
    parts = _DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    return sum(float(number) * _UNIT_S[unit] for number, unit in parts)


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """The wait a 429 asks for: `retry-after-ms` when sent (exact), else `retry-after` seconds."""
    exact = _number(headers.get("retry-after-ms"))
    if exact is not None:
        return exact / 1000
    return _number(headers.get("retry-after"))


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


class Pacer:
    """Spaces the run's request starts under the stated limits; one per endpoint and run.

    `admit` is awaited before each request is sent, `observe` is told each answer's headers,
    `throttled` each 429. Admissions are served in arrival order, one at a time, so a burst of
    tasks waiting on a hold leaves it spaced, not all at once.
    """

    def __init__(
        self,
        *,
        rpm: float | None = None,
        tpm: float | None = None,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.enabled = enabled
        self._given = (rpm, tpm)
        self._rpm = rpm
        self._tpm = tpm
        self._clock = clock
        self._sleep = sleep
        self._lock = anyio.Lock()
        self._next_request = -math.inf
        self._next_token = -math.inf
        self._hold_until = -math.inf
        self.waited_s = 0.0
        """Time admissions spent waiting, summed over requests."""
        self.holds = 0
        """Times the whole run was held (a 429 or an exhausted window)."""

    @property
    def pacing(self) -> bool:
        """Whether a start may have to wait: a limit is known or a hold is pending."""
        return self.enabled and (
            self._rpm is not None or self._tpm is not None or self._hold_until > self._clock()
        )

    @property
    def limits(self) -> tuple[float | None, float | None]:
        """The requests and tokens per minute that bind now (None: none known)."""
        return self._rpm, self._tpm

    async def admit(self, tokens: int) -> None:
        """Wait until a request of about `tokens` tokens may start, and book it."""
        if not self.enabled:
            return
        async with self._lock:
            began = self._clock()
            while True:
                now = self._clock()
                start = max(self._hold_until, self._next_request, self._next_token)
                if start <= now:
                    break
                await self._sleep(start - now)
            floor = now - CATCH_UP_S
            if self._rpm:
                interval = 60.0 / (self._rpm * MARGIN)
                self._next_request = max(self._next_request, floor) + interval
            if self._tpm:
                interval = 60.0 * tokens / (self._tpm * MARGIN)
                self._next_token = max(self._next_token, floor) + interval
            self.waited_s += now - began

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn the limits an answer states; hold the run when a window is spent."""
        if not self.enabled:
            return
        said = stated(headers)
        given_rpm, given_tpm = self._given
        self._rpm = _lower(given_rpm, said.limit_requests)
        self._tpm = _lower(given_tpm, said.limit_tokens)
        for remaining, reset in (
            (said.remaining_requests, said.reset_requests_s),
            (said.remaining_tokens, said.reset_tokens_s),
        ):
            if remaining is not None and remaining < 1 and reset is not None:
                self._hold(reset)

    def throttled(self, headers: Mapping[str, str]) -> None:
        """A 429: hold every start until the server's wait is over, then go on spaced."""
        if not self.enabled:
            return
        self.observe(headers)
        said = stated(headers)
        wait = retry_after_s(headers)
        if wait is None:
            resets = [s for s in (said.reset_requests_s, said.reset_tokens_s) if s is not None]
            wait = max(resets, default=1.0)
        self._hold(wait)

    def _hold(self, seconds: float) -> None:
        until = self._clock() + min(seconds, MAX_HOLD_S)
        if until > self._hold_until:
            self._hold_until = until
            self.holds += 1


def _lower(given: float | None, said: float | None) -> float | None:
    known = [limit for limit in (given, said) if limit]
    return min(known) if known else None


def request_tokens(body: Mapping[str, object]) -> int:
    """A chat request's token cost as a rate limiter counts it: input / 4 plus the output bound."""
    characters = 0
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in messages:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str):
                characters += len(content)
            elif isinstance(content, list):
                characters += sum(
                    len(part.get("text") or "") for part in content if isinstance(part, dict)
                )
    bound = body.get("max_completion_tokens") or body.get("max_tokens") or 0
    return -(-characters // 4) + (bound if isinstance(bound, int) else 0)
