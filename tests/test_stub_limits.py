"""The local model server's rate limits: the window by a test clock, the headers through the SDK."""

from __future__ import annotations

import math
import re
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI

from replay.devtools.drafting import production_request
from replay.devtools.stub_limits import WINDOW_S, RateLimits, go_duration, request_cost
from replay.devtools.stub_model import StubOptions, StubServer, main, parser, running

KEY = "sk-stub-test-0123456789"
PROMPT: list[Any] = [{"role": "user", "content": "How much is the premium yard plan?"}]  # 34 chars
COST = math.ceil(34 / 4)
DURATION = re.compile(r"\d+ms|\d+(\.\d{1,3})?s|\d+m\d+(\.\d{1,3})?s")
NAMES = ("requests", "tokens")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limits(rpm: float = 0, tpm: float = 0) -> tuple[RateLimits, Clock]:
    clock = Clock()
    return RateLimits(rpm, tpm, clock=clock), clock


def header(headers: list[tuple[str, str]], name: str) -> str:
    return dict(headers)[name]


def client_for(server: StubServer) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=server.base_url, api_key=KEY, max_retries=0, timeout=5)


def ratelimit_headers(headers: Any) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.startswith("x-ratelimit-")}


@pytest.mark.parametrize(
    ("seconds", "spelled"),
    [
        (0, "0s"),
        (0.25, "250ms"),
        (0.0004, "1ms"),
        (1, "1s"),
        (1.5, "1.5s"),
        (59.9984, "59.999s"),
        (60, "1m0s"),
        (90.25, "1m30.25s"),
        (360, "6m0s"),
    ],
)
def test_waits_are_spelled_as_openai_spells_them(seconds: float, spelled: str) -> None:
    """Under a second in ms, else seconds to 3 decimals, with minutes from 60 s."""
    assert go_duration(seconds) == spelled


def test_cost_is_the_prompt_and_the_most_it_may_answer() -> None:
    """ceil(characters / 4) of every message, plus max_completion_tokens, else max_tokens."""
    two = [{"role": "system", "content": "abcde"}, {"role": "user", "content": "fgh"}]
    assert request_cost({"messages": two}) == 2
    assert request_cost({"messages": two, "max_tokens": 10}) == 12
    assert request_cost({"messages": two, "max_completion_tokens": 5, "max_tokens": 10}) == 7
    parts = [{"role": "user", "content": [{"type": "text", "text": "abcd"}]}]
    assert request_cost({"messages": parts}) == 1


def test_requests_limit_refuses_the_one_past_it_until_the_oldest_leaves() -> None:
    """A minute accepts rpm requests; the next waits for the oldest to leave, and then fits."""
    window, clock = limits(rpm=3)
    remaining = []
    for _ in range(3):
        admitted = window.admit(1)
        assert admitted.refusal is None
        remaining.append(header(admitted.headers, "x-ratelimit-remaining-requests"))
        clock.now += 10
    assert remaining == ["2", "1", "0"]
    refused = window.admit(1)
    assert refused.refusal is not None and refused.refusal["error"]["type"] == "requests"
    assert header(refused.headers, "retry-after-ms") == "30000"  # the first left at +60 s
    assert header(refused.headers, "retry-after") == "30"
    assert header(refused.headers, "x-ratelimit-reset-requests") == "30s"
    clock.now = 1059.999
    assert window.admit(1).refusal is not None
    clock.now = 1060.0
    accepted = window.admit(1)
    assert accepted.refusal is None
    assert header(accepted.headers, "x-ratelimit-remaining-requests") == "0"
    assert header(accepted.headers, "x-ratelimit-reset-requests") == "10s"


def test_refused_requests_do_not_enter_the_window() -> None:
    """However many are refused, the window frees as the accepted ones leave."""
    window, clock = limits(rpm=1)
    assert window.admit(1).refusal is None
    for _ in range(5):
        clock.now += 11
        assert window.admit(1).refusal is not None
    clock.now += 5
    assert window.admit(1).refusal is None


def test_tokens_limit_refuses_what_does_not_fit_and_waits_for_enough_to_leave() -> None:
    """A request fits when the window's tokens and its own stay within tpm."""
    window, clock = limits(tpm=100)
    for cost in (40, 30, 20):
        assert window.admit(cost).refusal is None
        clock.now += 1
    assert header(window.headers(), "x-ratelimit-remaining-tokens") == "10"
    assert window.admit(10).refusal is None  # exactly at the limit
    refused = window.admit(50)  # needs the 40 and the 30 gone: the second leaves at +61 s
    assert refused.refusal is not None
    error = refused.refusal["error"]
    assert (error["type"], error["code"], error["param"]) == ("tokens", "rate_limit_exceeded", None)
    assert error["message"].startswith("Rate limit reached for tokens per min (TPM): Limit 100")
    assert header(refused.headers, "retry-after-ms") == "58000"
    assert header(refused.headers, "x-ratelimit-remaining-tokens") == "0"
    clock.now += 58
    assert window.admit(50).refusal is None


def test_a_request_larger_than_the_tokens_limit_never_fits() -> None:
    """It is refused even on an empty window, and says so."""
    window, _ = limits(tpm=10)
    refused = window.admit(11)
    assert refused.refusal is not None
    assert "never fits" in refused.refusal["error"]["message"]
    assert header(refused.headers, "retry-after") == "1"


def test_the_window_rolls_after_a_minute() -> None:
    """Everything accepted a full minute ago has left: the limits are whole again."""
    window, clock = limits(rpm=2, tpm=50)
    window.admit(20)
    window.admit(20)
    clock.now += WINDOW_S
    headers = dict(window.headers())
    assert headers["x-ratelimit-remaining-requests"] == "2"
    assert headers["x-ratelimit-remaining-tokens"] == "50"
    assert headers["x-ratelimit-reset-requests"] == headers["x-ratelimit-reset-tokens"] == "0s"


def test_no_limit_keeps_nothing_and_sends_no_header() -> None:
    """Limits of 0 admit everything without a header."""
    window, _ = limits()
    assert all(window.admit(10**9).refusal is None for _ in range(100))
    assert window.headers() == [] and window.admit(1).headers == []


def test_only_the_limit_set_has_headers() -> None:
    """A requests limit alone sends the requests headers and no tokens ones."""
    window, _ = limits(rpm=5)
    assert {name.rsplit("-", 1)[1] for name, _ in window.admit(1).headers} == {"requests"}


async def test_every_answer_carries_the_rate_limit_headers() -> None:
    """200s count down the remaining requests and tokens, with OpenAI's header spellings."""
    with running(StubOptions(api_key=KEY, rpm=5, tpm=1000)) as stub:
        async with client_for(stub) as sdk:
            seen = []
            for _ in range(3):
                raw = await sdk.chat.completions.with_raw_response.create(
                    model="replay-original", messages=PROMPT, max_tokens=100
                )
                seen.append(ratelimit_headers(raw.headers))
    assert [h["x-ratelimit-remaining-requests"] for h in seen] == ["4", "3", "2"]
    spent = [str(1000 - n * (COST + 100)) for n in (1, 2, 3)]
    assert [h["x-ratelimit-remaining-tokens"] for h in seen] == spent
    for headers in seen:
        assert headers["x-ratelimit-limit-requests"] == "5"
        assert headers["x-ratelimit-limit-tokens"] == "1000"
        for name in NAMES:
            assert DURATION.fullmatch(headers[f"x-ratelimit-reset-{name}"])
    assert seen[0]["x-ratelimit-reset-requests"] == "1m0s"
    assert stub.rate_limited == 0


async def test_the_request_past_the_limit_is_refused_with_when_to_retry() -> None:
    """429 rate_limit_exceeded of type requests, with retry-after and retry-after-ms."""
    with running(StubOptions(api_key=KEY, rpm=2)) as stub:
        async with client_for(stub) as sdk:
            for _ in range(2):
                await sdk.chat.completions.create(model="replay-original", messages=PROMPT)
            with pytest.raises(openai.RateLimitError) as caught:
                await sdk.chat.completions.create(model="replay-original", messages=PROMPT)
    error, headers = caught.value, caught.value.response.headers
    assert (error.type, error.code, error.param) == ("requests", "rate_limit_exceeded", None)
    assert error.response.json()["error"]["message"].startswith("Rate limit reached for requests")
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert "x-ratelimit-limit-tokens" not in headers
    wait_ms = int(headers["retry-after-ms"])
    assert 55_000 < wait_ms <= 60_000
    assert headers["retry-after"] == str(math.ceil(wait_ms / 1000))
    assert (stub.requests, stub.rate_limited) == (3, 1)


async def test_the_tokens_limit_refuses_a_request_that_does_not_fit() -> None:
    """A request whose tokens would pass tpm is refused with type tokens; a small one fits."""
    with running(StubOptions(api_key=KEY, tpm=3 * COST + 100)) as stub:
        async with client_for(stub) as sdk:
            await sdk.chat.completions.create(
                model="replay-original", messages=PROMPT, max_completion_tokens=100
            )
            with pytest.raises(openai.RateLimitError) as caught:
                await sdk.chat.completions.create(
                    model="replay-original", messages=PROMPT, max_tokens=COST + 1
                )
            raw = await sdk.chat.completions.with_raw_response.create(
                model="replay-original", messages=PROMPT, max_tokens=COST
            )
    assert caught.value.type == "tokens"
    assert caught.value.response.headers["x-ratelimit-remaining-tokens"] == str(2 * COST)
    assert int(caught.value.response.headers["retry-after-ms"]) > 55_000
    assert raw.headers["x-ratelimit-remaining-tokens"] == "0"
    assert stub.rate_limited == 1


async def test_faults_and_unknown_models_carry_the_headers_too() -> None:
    """A 500 counts against the limit and says so; a 404 counts for nothing and says so."""
    with running(StubOptions(api_key=KEY, rpm=10)) as stub:
        async with client_for(stub) as sdk:
            with pytest.raises(openai.InternalServerError) as failed:
                await sdk.chat.completions.create(model="fail-500", messages=PROMPT)
            with pytest.raises(openai.NotFoundError) as unknown:
                await sdk.chat.completions.create(model="gpt-nonexistent", messages=PROMPT)
    assert failed.value.response.headers["x-ratelimit-remaining-requests"] == "9"
    assert unknown.value.response.headers["x-ratelimit-remaining-requests"] == "9"


async def test_no_limit_means_no_headers() -> None:
    """Limits of 0 (the default) send no x-ratelimit header and refuse nothing."""
    with running(StubOptions(api_key=KEY)) as stub:
        async with client_for(stub) as sdk:
            for _ in range(5):
                raw = await sdk.chat.completions.with_raw_response.create(
                    model="replay-original", messages=PROMPT
                )
                assert ratelimit_headers(raw.headers) == {}
    assert stub.rate_limited == 0


def test_flags_set_the_limits() -> None:
    """--rpm and --tpm reach StubOptions; a negative or fractional limit exits 2."""
    args = parser().parse_args(["--rpm", "500", "--tpm", "200000"])
    assert (StubOptions(**vars(args)).rpm, StubOptions(**vars(args)).tpm) == (500, 200_000)
    assert main(["--rpm", "-1"]) == 2
    assert main(["--tpm", "1.5"]) == 2


def test_production_requests_cost_their_prompt_and_max_tokens() -> None:
    """The prompt a replay sends costs its characters / 4 and its max_tokens."""
    request = production_request(
        client_settings={"service_description": "Lawn care.", "signature": "Ann"},
        lead={"first_name": "Dan"},
        channel="email",
        thread=[],
        inbound_subject=None,
        inbound_body="Hi",
        model="replay-original",
        temperature=0.4,
        max_tokens=400,
    )
    chars = sum(len(m["content"]) for m in request["messages"])
    assert request_cost(request) == math.ceil(chars / 4) + 400
