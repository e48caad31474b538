"""The pacer: request starts spaced under stated limits, the whole run held on a 429."""

from __future__ import annotations

import pytest

from replay.run.pacing import CATCH_UP_S, MARGIN, MAX_HOLD_S, Pacer, duration_s, request_tokens


class Clock:
    """A clock that only moves when the pacer sleeps: every wait is measured, none is spent."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pacer(clock: Clock, **kwargs: object) -> Pacer:
    return Pacer(clock=clock, sleep=clock.sleep, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("1s", 1.0),
        ("250ms", 0.25),
        ("6m0s", 360.0),
        ("1h2m3.5s", 3723.5),
        ("1.5s", 1.5),
        ("17", 17.0),
        ("0s", 0.0),
        ("soon", None),
        ("1x", None),
        ("-2", None),
        ("", None),
        (None, None),
    ],
)
def test_reset_durations_read_as_providers_write_them(
    header: str | None, seconds: float | None
) -> None:
    assert duration_s(header) == seconds


def test_request_tokens_count_input_quarter_and_output_bound() -> None:
    body = {"messages": [{"role": "user", "content": "x" * 401}], "max_tokens": 100}
    assert request_tokens(body) == 101 + 100
    parts = {
        "messages": [{"content": [{"type": "text", "text": "abcd"}]}],
        "max_completion_tokens": 7,
    }
    assert request_tokens(parts) == 1 + 7
    assert request_tokens({"messages": "junk", "max_tokens": "9"}) == 0


async def test_starts_are_spaced_under_the_request_limit() -> None:
    clock = Clock()
    paced = pacer(clock, rpm=600)
    began = clock.now
    for _ in range(101):
        await paced.admit(0)
    interval = 60 / (600 * MARGIN)
    # A second's worth goes at once, then one start per interval: over any minute, fewer
    # than the limit.
    assert clock.now - began == pytest.approx(100 * interval - CATCH_UP_S)
    assert CATCH_UP_S / interval + 60 / interval < 600


async def test_starts_are_spaced_under_the_token_limit_by_each_request_size() -> None:
    clock = Clock()
    paced = pacer(clock, tpm=60_000)
    began = clock.now
    for tokens in (1000, 2000, 500):
        await paced.admit(tokens)
    per_token = 60 / (60_000 * MARGIN)
    # Each start books its own size: the third waits for the first two (less the second's
    # worth that may go at once).
    assert clock.now - began == pytest.approx((1000 + 2000) * per_token - CATCH_UP_S)


async def test_without_a_limit_nothing_waits_and_pacing_is_off() -> None:
    clock = Clock()
    paced = pacer(clock)
    assert not paced.pacing
    for _ in range(50):
        await paced.admit(10_000)
    assert clock.slept == []


async def test_limits_stated_by_the_endpoint_are_learned_and_the_lower_binds() -> None:
    clock = Clock()
    paced = pacer(clock, rpm=1200)
    paced.observe({"x-ratelimit-limit-requests": "600", "x-ratelimit-limit-tokens": "90000"})
    assert paced.limits == (600, 90000)
    paced.observe({"x-ratelimit-limit-requests": "5000"})
    assert paced.limits == (1200, None)  # the user's stated limit is lower than the server's


async def test_a_429_holds_every_start_until_the_servers_wait_is_over() -> None:
    clock = Clock()
    paced = pacer(clock)
    paced.throttled({"retry-after": "2", "retry-after-ms": "1500"})
    assert paced.pacing and paced.holds == 1
    await paced.admit(0)
    assert clock.slept == [pytest.approx(1.5)]  # the exact wait wins over the rounded one
    await paced.admit(0)
    assert len(clock.slept) == 1  # once the hold is over, starts go at once again


async def test_a_429_without_retry_after_waits_for_the_stated_reset() -> None:
    clock = Clock()
    paced = pacer(clock)
    paced.throttled({"x-ratelimit-reset-requests": "3s", "x-ratelimit-reset-tokens": "250ms"})
    await paced.admit(0)
    assert clock.slept == [pytest.approx(3.0)]


async def test_a_spent_window_holds_the_run_until_its_reset() -> None:
    clock = Clock()
    paced = pacer(clock)
    paced.observe({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "800ms"})
    await paced.admit(0)
    assert clock.slept == [pytest.approx(0.8)]
    paced.observe({"x-ratelimit-remaining-tokens": "12", "x-ratelimit-reset-tokens": "9s"})
    await paced.admit(0)
    assert len(clock.slept) == 1  # tokens left: no hold


async def test_an_unbelievable_wait_is_capped_at_a_minute() -> None:
    clock = Clock()
    paced = pacer(clock)
    paced.throttled({"retry-after": "86400"})
    await paced.admit(0)
    assert clock.slept == [pytest.approx(MAX_HOLD_S)]


async def test_after_an_idle_spell_only_a_second_of_requests_goes_at_once() -> None:
    clock = Clock()
    paced = pacer(clock, rpm=600)
    await paced.admit(0)
    clock.now += 30  # nothing to start for half a minute
    began = clock.now
    for _ in range(30):
        await paced.admit(0)
    interval = 60 / (600 * MARGIN)
    burst = int(CATCH_UP_S / interval) + 1
    assert clock.now - began == pytest.approx((30 - burst) * interval, abs=interval)


async def test_pacing_off_ignores_limits_and_429s() -> None:
    clock = Clock()
    paced = pacer(clock, rpm=60, enabled=False)
    paced.throttled({"retry-after": "5"})
    paced.observe({"x-ratelimit-limit-requests": "1"})
    for _ in range(10):
        await paced.admit(100)
    assert clock.slept == [] and not paced.pacing
