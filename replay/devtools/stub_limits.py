"""Requests-per-minute and tokens-per-minute limits of the local model server, as OpenAI keeps them.

A client that paces itself by the `x-ratelimit-*` headers, or backs off on a 429 by its
`retry-after-ms`, needs a server that counts the way a real endpoint does: a rolling minute of
accepted requests, each costing its prompt and the completion it may ask for.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from replay.devtools.drafting import content_text

WINDOW_S = 60.0
"""How long an accepted request counts against the limits."""

Limited = Literal["requests", "tokens"]


def request_cost(payload: Mapping[str, Any]) -> int:
    """Tokens a chat request counts for, as OpenAI counts them before answering.

    Its prompt (characters / 4, rounded up) and the most it may answer (`max_completion_tokens`,
    else `max_tokens`, else nothing).
    """
    messages = payload.get("messages")
    chars = sum(
        len(content_text(m.get("content")))
        for m in (messages if isinstance(messages, list) else [])
        if isinstance(m, Mapping)
    )
    answer = payload.get("max_completion_tokens")
    if answer is None:
        answer = payload.get("max_tokens")
    if not isinstance(answer, int) or isinstance(answer, bool) or answer < 0:
        answer = 0
    return -(-chars // 4) + answer


def go_duration(seconds: float) -> str:
    """A wait as OpenAI spells it in `x-ratelimit-reset-*`: `250ms`, `1.5s`, `6m0s`."""
    millis = max(0, math.ceil(seconds * 1000 - 1e-6))
    if millis == 0:
        return "0s"
    if millis < 1000:
        return f"{millis}ms"
    minutes, rest = divmod(millis, 60_000)
    text = f"{rest / 1000:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{minutes}m{text}" if minutes else text


@dataclass(frozen=True)
class Admission:
    """The limits' say on one request: headers for its answer, and a 429 body if it is refused."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    refusal: dict[str, Any] | None = None


class RateLimits:
    """A rolling window of the accepted requests and their token costs.

    `rpm` or `tpm` of 0 leaves that limit off; with both off nothing is kept and no header is
    sent. The clock is injectable so that tests roll the window without waiting a minute.
    """

    def __init__(
        self, rpm: float, tpm: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rpm = int(rpm)
        self.tpm = int(tpm)
        self._clock = clock
        self._window: deque[tuple[float, int]] = deque()
        self._tokens = 0

    @property
    def active(self) -> bool:
        """Whether any limit is set."""
        return bool(self.rpm or self.tpm)

    def admit(self, cost: int) -> Admission:
        """Accept a request of `cost` tokens into the window, or refuse it with a 429 body."""
        if not self.active:
            return Admission()
        now = self._expire()
        limited: Limited | None = None
        if self.rpm and len(self._window) >= self.rpm:
            limited = "requests"
        elif self.tpm and self._tokens + cost > self.tpm:
            limited = "tokens"
        if limited is None:
            self._window.append((now, cost))
            self._tokens += cost
            return Admission(self._headers(now))
        wait = self._wait(now, cost)
        retry = [
            ("retry-after", str(max(1, math.ceil(wait - 1e-6)))),
            ("retry-after-ms", str(max(0, math.ceil(wait * 1000 - 1e-6)))),
        ]
        return Admission(self._headers(now) + retry, self._refusal(limited, cost, wait))

    def headers(self) -> list[tuple[str, str]]:
        """The `x-ratelimit-*` headers as they stand, for an answer that counts for nothing."""
        return self._headers(self._expire()) if self.active else []

    def _expire(self) -> float:
        now = self._clock()
        while self._window and self._window[0][0] + WINDOW_S <= now:
            self._tokens -= self._window.popleft()[1]
        return now

    def _wait(self, now: float, cost: int) -> float:
        """Seconds until a request of `cost` fits both limits.

        A request larger than `tpm` never fits: it waits until the window empties.
        """
        leaves: list[float] = []
        if self.rpm and len(self._window) >= self.rpm:
            leaves.append(self._window[len(self._window) - self.rpm][0])
        excess = self._tokens + cost - self.tpm
        if self.tpm and excess > 0 and self._window:
            freed = 0
            leaving = self._window[-1][0]
            for at, spent in self._window:
                freed += spent
                if freed >= excess:
                    leaving = at
                    break
            leaves.append(leaving)
        return max([0.0, *(at + WINDOW_S - now for at in leaves)])

    def _headers(self, now: float) -> list[tuple[str, str]]:
        reset = go_duration(self._window[0][0] + WINDOW_S - now if self._window else 0)
        headers: list[tuple[str, str]] = []
        if self.rpm:
            headers += [
                ("x-ratelimit-limit-requests", str(self.rpm)),
                ("x-ratelimit-remaining-requests", str(max(0, self.rpm - len(self._window)))),
                ("x-ratelimit-reset-requests", reset),
            ]
        if self.tpm:
            headers += [
                ("x-ratelimit-limit-tokens", str(self.tpm)),
                ("x-ratelimit-remaining-tokens", str(max(0, self.tpm - self._tokens))),
                ("x-ratelimit-reset-tokens", reset),
            ]
        return headers

    def _refusal(self, limited: Limited, cost: int, wait: float) -> dict[str, Any]:
        """OpenAI's 429 body, naming the limit, what is used and when to try again."""
        if limited == "requests":
            said = (
                f"requests per min (RPM): Limit {self.rpm}, Used {len(self._window)}, Requested 1"
            )
        else:
            said = f"tokens per min (TPM): Limit {self.tpm}, Used {self._tokens}, Requested {cost}"
        advice = (
            f"Please try again in {go_duration(wait)}."
            if cost <= self.tpm or limited == "requests"
            else "The request is larger than the limit: it never fits."
        )
        message = f"Rate limit reached for {said}. {advice}"
        error = {"message": message, "type": limited, "param": None, "code": "rate_limit_exceeded"}
        return {"error": error}
