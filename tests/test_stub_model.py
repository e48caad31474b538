"""The local model server, through the real `openai` SDK over loopback."""

from __future__ import annotations

import json
import math
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

import anyio
import openai
import pytest
from openai import AsyncOpenAI

from replay.devtools.drafting import production_request, write_draft
from replay.devtools.mistakes import MISTAKES
from replay.devtools.stub_model import (
    FAULTS,
    MODELS,
    StubOptions,
    StubServer,
    main,
    running,
)

KEY = "sk-stub-test-0123456789"
SETTINGS = {
    "service_description": "Weekly lawn care for homes across Austin.",
    "price_list": [
        {"item": "Basic mowing plan", "price": "$1,200"},
        {"item": "Premium yard plan", "price": "$2,400"},
    ],
    "booking_link": "https://cal.example.com/greenleaf",
    "signature": "Ann, Greenleaf Lawns",
    "persona": "Ann, a friendly advisor at Greenleaf Lawns",
}
AVAILABLE = SETTINGS | {"availability": ["Monday-Friday 09:00-17:00"]}
"""A client that states when it meets: a draft may propose no other time."""
INBOUNDS = (
    "How much is the premium yard plan?",
    "Could we schedule a call on Tuesday?",
    "Can you tell me more about what's included?",
    "We already work with another company.",
    "Please stop texting me.",
    "Thanks, got it.",
    "We are looking at your premium yard plan for the house and would like to know what is in it.",
)
PRICE = re.compile(r"\$\d[\d,]*(?:\.\d\d)?")
URL = re.compile(r"https?://[^\s\"'<>)\]]+")
FAULT_ERRORS: dict[str, type[Exception]] = {
    "429": openai.RateLimitError,
    "500": openai.InternalServerError,
    "hang": openai.APITimeoutError,
    "malformed": json.JSONDecodeError,  # the SDK parses JSON bodies without wrapping the error
    "truncated": openai.APIConnectionError,  # httpx2's RemoteProtocolError, wrapped
}


def messages(
    inbound: str,
    *,
    channel: str = "email",
    first_name: str = "Dan",
    settings: dict[str, Any] = SETTINGS,
) -> list[Any]:
    lead = {"first_name": first_name, "last_name": "Reyes", "company": "Acme"}
    request = production_request(
        client_settings=settings,
        lead=lead,
        channel=channel,
        thread=[],
        inbound_subject=None,
        inbound_body=inbound,
        model="gpt-4o-mini",
        temperature=0.4,
        max_tokens=400,
    )
    sent: list[Any] = request["messages"]
    return sent


def many_requests() -> list[list[Any]]:
    """Distinct prompts: every intent, both channels, several leads, availability stated or not."""
    names = ("Dan", "Maria", "Lee", "Priya", "Omar", "Yuki", "Sofia", "Kofi", "Ines", "Tariq",
             "Mei", "Jonas")  # fmt: skip
    return [
        messages(inbound, channel=channel, first_name=name, settings=settings)
        for inbound in INBOUNDS
        for channel in ("email", "sms")
        for name in names
        for settings in (SETTINGS, AVAILABLE)
    ]


def amount(price: str) -> str:
    return price.lstrip("$").replace(",", "")


def has_evidence(mistake: str, text: str, sent: list[Any]) -> bool:
    """Whether `text` really carries `mistake` against the prompt `sent`."""
    prompt = "\n".join(m["content"] for m in sent)
    if mistake == "unsupported_price":
        stated = {amount(p) for p in PRICE.findall(prompt)}
        return any(amount(p) not in stated for p in PRICE.findall(text))
    if mistake == "unresolved_placeholder":
        return "{first_name}" in text
    if mistake == "channel_length":
        return "Channel: sms" in prompt and len(text) > 320
    signature = str(SETTINGS["signature"])
    company = signature.partition(",")[2]
    if mistake == "truncated":
        return text[-1:].isalpha() and not text.endswith(company)
    if mistake == "repeated_text":
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 6]
        return len(set(sentences)) < len(sentences)
    if mistake == "wrong_signature":
        return text.endswith(company) and not text.endswith(signature)
    if mistake == "wrong_name":
        greeted = re.match(r"(?:Hi|Hello|Hey|Good to hear from you,) (\w+)[,!.]", text)
        return greeted is not None and greeted[1].casefold() not in prompt.casefold()
    if mistake == "language_mismatch":
        return text.startswith("Hola") and "gracias por tu mensaje" in text
    if mistake == "unoffered_time":
        offered = re.search(r"would (\w+day) at (\d+):00 suit you", text)
        return offered is not None and (
            offered[1] in ("Saturday", "Sunday") or int(offered[2]) not in range(9, 17)
        )
    if mistake == "unanswered_question":
        return "?" in sent[-1]["content"] and "I will get back to you shortly." in text
    return any(str(urlsplit(u).hostname) not in prompt for u in URL.findall(text))


def client_for(server: StubServer, **options: Any) -> AsyncOpenAI:
    settings: dict[str, Any] = {"api_key": KEY, "max_retries": 0, "timeout": 5, **options}
    return AsyncOpenAI(base_url=server.base_url, **settings)


@pytest.fixture(scope="module")
def server() -> Iterator[StubServer]:
    with running(StubOptions(api_key=KEY)) as stub:
        yield stub


@pytest.fixture
async def client(server: StubServer) -> AsyncIterator[AsyncOpenAI]:
    async with client_for(server) as sdk:
        yield sdk


async def test_lists_every_model(client: AsyncOpenAI) -> None:
    """GET /v1/models lists every model the server answers for."""
    listed = [model.id async for model in client.models.list()]
    assert listed == list(MODELS)


async def test_retrieves_one_model(client: AsyncOpenAI) -> None:
    """GET /v1/models/NAME answers for a known model and 404s an unknown one."""
    assert (await client.models.retrieve("replay-variant")).id == "replay-variant"
    with pytest.raises(openai.NotFoundError):
        await client.models.retrieve("gpt-nonexistent")


@pytest.mark.parametrize("inbound", INBOUNDS)
async def test_original_reproduces_the_recorded_draft(client: AsyncOpenAI, inbound: str) -> None:
    """replay-original answers exactly what write_draft(style="original") wrote."""
    sent = messages(inbound, channel="sms")
    response = await client.chat.completions.create(model="replay-original", messages=sent)
    assert response.choices[0].message.content == write_draft(sent, style="original")
    assert response.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("name", ["Łukasz", "李", "José", "Émile", "Zoë-Anne"])
@pytest.mark.parametrize(
    "lead",
    [
        pytest.param("Lead: {name} Reyes (Acme)", id="production"),
        pytest.param("Lead: company: Acme, first name: {name}, last name: Reyes", id="rendered"),
    ],
)
async def test_a_lead_is_greeted_by_a_name_in_any_script(
    client: AsyncOpenAI, name: str, lead: str
) -> None:
    """A first name outside ASCII is the lead's name, not a word of the line it stands on."""
    system = "\n".join(
        ["You write reply drafts.", lead.format(name=name), "Channel: email", "Signature: Ann"]
    )
    sent: list[Any] = [
        {"role": "system", "content": system},
        {"role": "user", "content": INBOUNDS[0]},
    ]
    response = await client.chat.completions.create(model="replay-original", messages=sent)
    greeting = (response.choices[0].message.content or "").splitlines()[0]
    assert name in greeting, greeting
    assert not {"company", "first", "Acme", "there"} & set(re.findall(r"\w+", greeting))


async def test_usage_counts_characters_over_four(client: AsyncOpenAI) -> None:
    """Usage is characters / 4, rounded up, of the prompt and of the reply."""
    sent = messages(INBOUNDS[0])
    response = await client.chat.completions.create(model="replay-original", messages=sent)
    reply = response.choices[0].message.content or ""
    prompt_chars = sum(len(m["content"]) for m in sent)
    assert response.usage is not None
    assert response.usage.prompt_tokens == math.ceil(prompt_chars / 4)
    assert response.usage.completion_tokens == math.ceil(len(reply) / 4)
    assert response.usage.total_tokens == response.usage.prompt_tokens + math.ceil(len(reply) / 4)


async def test_id_is_deterministic(client: AsyncOpenAI) -> None:
    """The same request gets the same completion id; another request gets another."""
    first, again, other = [
        await client.chat.completions.create(model="replay-original", messages=messages(text))
        for text in (INBOUNDS[0], INBOUNDS[0], INBOUNDS[1])
    ]
    assert first.id == again.id != other.id


async def test_wrong_key_is_401_without_echo(server: StubServer) -> None:
    """A wrong key gets 401 invalid_api_key, and the key sent is never echoed."""
    wrong = "sk-wrong-secret-9876543210"
    async with client_for(server, api_key=wrong) as sdk:
        with pytest.raises(openai.AuthenticationError) as caught:
            await sdk.chat.completions.create(model="replay-original", messages=messages("Hi"))
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    assert wrong not in caught.value.response.text and KEY not in caught.value.response.text
    assert wrong not in str(caught.value)


async def raw_exchange(server: StubServer, request: bytes) -> bytes:
    """Send raw bytes on a fresh connection; read until the server closes it."""
    received = b""
    async with await anyio.connect_tcp("127.0.0.1", server.port) as stream:
        await stream.send(request)
        with anyio.fail_after(5):
            try:
                while True:
                    received += await stream.receive()
            except anyio.EndOfStream:
                pass
    return received


async def test_missing_key_is_401(server: StubServer) -> None:
    """A request without an Authorization header gets 401."""
    response = await raw_exchange(
        server, b"GET /v1/models HTTP/1.1\r\nHost: stub\r\nConnection: close\r\n\r\n"
    )
    assert response.startswith(b"HTTP/1.1 401 ")
    assert b'"code":"invalid_api_key"' in response


async def test_malformed_http_is_400(server: StubServer) -> None:
    """Bytes that are not HTTP get 400 and a closed connection, without being echoed."""
    response = await raw_exchange(server, b"NOT HTTP AT ALL secret-token\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 400 ")
    assert b"secret-token" not in response


async def test_unknown_model_is_404(client: AsyncOpenAI) -> None:
    """An unknown model gets 404 model_not_found."""
    with pytest.raises(openai.NotFoundError) as caught:
        await client.chat.completions.create(model="gpt-nonexistent", messages=messages("Hi"))
    assert caught.value.code == "model_not_found"


async def test_streaming_is_refused(client: AsyncOpenAI) -> None:
    """A request with stream=true gets 400."""
    with pytest.raises(openai.BadRequestError):
        await client.chat.completions.create(
            model="replay-original", messages=messages("Hi"), stream=True
        )


@pytest.mark.parametrize("fault", [pytest.param(f, id=f) for f in FAULT_ERRORS])
async def test_fault_model_raises(client: AsyncOpenAI, fault: str) -> None:
    """Each fail-* model makes the SDK raise its matching exception."""
    with pytest.raises(FAULT_ERRORS[fault]) as caught:
        await client.with_options(timeout=0.3).chat.completions.create(
            model=f"fail-{fault}", messages=messages("Hi")
        )
    assert type(caught.value) is FAULT_ERRORS[fault]


async def test_wrong_content_type_comes_back_as_text(client: AsyncOpenAI) -> None:
    """fail-content-type answers HTML, which the SDK returns as a str instead of raising."""
    response: Any = await client.chat.completions.create(
        model="fail-content-type", messages=messages("Hi")
    )
    assert isinstance(response, str) and response.startswith("<!DOCTYPE html>")


async def test_rate_limit_says_when_to_retry(client: AsyncOpenAI) -> None:
    """fail-429 sends Retry-After in seconds."""
    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(model="fail-429", messages=messages("Hi"))
    assert caught.value.response.headers["retry-after"] == "1"


@pytest.mark.parametrize("fault", [pytest.param(f, id=f) for f in FAULT_ERRORS])
async def test_fault_header_wins(client: AsyncOpenAI, fault: str) -> None:
    """The x-stub-fault header breaks a request to a healthy model."""
    with pytest.raises(FAULT_ERRORS[fault]) as caught:
        await client.with_options(timeout=0.3).chat.completions.create(
            model="replay-original", messages=messages("Hi"), extra_headers={"x-stub-fault": fault}
        )
    assert type(caught.value) is FAULT_ERRORS[fault]


async def test_unknown_fault_header_is_400(client: AsyncOpenAI) -> None:
    """An x-stub-fault value the server does not know gets 400."""
    with pytest.raises(openai.BadRequestError):
        await client.chat.completions.create(
            model="replay-original", messages=messages("Hi"), extra_headers={"x-stub-fault": "x"}
        )


async def test_variant_injects_every_kind_of_mistake(client: AsyncOpenAI) -> None:
    """replay-variant injects about 1 request in 4, each kind somewhere, named by the header."""
    seen: list[str] = []
    for sent in many_requests():
        raw = await client.chat.completions.with_raw_response.create(
            model="replay-variant", messages=sent
        )
        seen.append(raw.headers["x-stub-injected"])
    injected = [code for code in seen if code != "none"]
    assert set(injected) == set(MISTAKES)
    assert len(seen) / 8 <= len(injected) <= len(seen) / 2


async def test_injected_mistake_is_in_the_reply(client: AsyncOpenAI) -> None:
    """The mistake the header names is really in the reply, and it is the only change."""
    for sent in many_requests():
        raw = await client.chat.completions.with_raw_response.create(
            model="replay-variant", messages=sent
        )
        mistake, text = raw.headers["x-stub-injected"], raw.parse().choices[0].message.content
        assert text is not None
        if mistake == "none":
            assert text == write_draft(sent, style="variant")
            continue
        assert has_evidence(mistake, text, sent), (mistake, text)
        others = [m for m in MISTAKES if m != mistake and has_evidence(m, text, sent)]
        assert others == [], (mistake, text)


async def test_every_response_names_its_injection(client: AsyncOpenAI) -> None:
    """Responses of every model, errors included, carry x-stub-injected."""
    raw = await client.chat.completions.with_raw_response.create(
        model="replay-original", messages=messages("Hi")
    )
    assert raw.headers["x-stub-injected"] == "none"
    with pytest.raises(openai.InternalServerError) as caught:
        await client.chat.completions.create(model="fail-500", messages=messages("Hi"))
    assert caught.value.response.headers["x-stub-injected"] == "none"


async def test_counts_requests_by_model() -> None:
    """The server counts the chat requests it served, in total and by model."""
    with running(StubOptions()) as stub:
        async with client_for(stub) as sdk:
            for model in ("replay-original", "replay-original", "fail-500"):
                try:
                    await sdk.chat.completions.create(model=model, messages=messages("Hi"))
                except openai.InternalServerError:
                    pass
            await sdk.models.list()
    assert stub.requests == 3
    assert stub.requests_by_model == {"replay-original": 2, "fail-500": 1}


async def test_connections_are_kept_alive() -> None:
    """Sequential requests from one client reuse one connection."""
    with running(StubOptions()) as stub:
        async with client_for(stub) as sdk:
            for inbound in INBOUNDS:
                await sdk.chat.completions.create(
                    model="replay-original", messages=messages(inbound)
                )
    assert stub.connections == 1
    assert stub.requests == len(INBOUNDS)


async def test_rate_option_injects_faults() -> None:
    """A fault rate of 1 breaks every request."""
    with running(StubOptions(rate_500=1)) as stub:
        async with client_for(stub) as sdk:
            with pytest.raises(openai.InternalServerError):
                await sdk.chat.completions.create(model="replay-original", messages=messages("Hi"))


async def test_seeded_rates_are_reproducible() -> None:
    """The same seed gives the same faults to the same requests, and a resend draws anew."""
    sent = [messages(inbound, first_name=name) for inbound in INBOUNDS for name in ("Dan", "Lee")]
    sent += [messages("Hi")] * 8
    outcomes: list[list[bool]] = []
    for _ in range(2):
        with running(StubOptions(rate_429=0.5, seed=11)) as stub:
            async with client_for(stub) as sdk:
                run: list[bool] = []
                for request in sent:
                    try:
                        await sdk.chat.completions.create(model="replay-original", messages=request)
                        run.append(True)
                    except openai.RateLimitError:
                        run.append(False)
                outcomes.append(run)
    assert outcomes[0] == outcomes[1]
    assert True in outcomes[0][-8:] and False in outcomes[0][-8:]


async def test_latency_option_delays() -> None:
    """latency_ms delays every chat response."""
    with running(StubOptions(latency_ms=200)) as stub:
        async with client_for(stub) as sdk:
            started = time.perf_counter()
            await sdk.chat.completions.create(model="replay-original", messages=messages("Hi"))
    assert time.perf_counter() - started >= 0.2


async def test_latency_header_delays(client: AsyncOpenAI) -> None:
    """The x-stub-latency-ms header delays one response."""
    started = time.perf_counter()
    await client.chat.completions.create(
        model="replay-original", messages=messages("Hi"), extra_headers={"x-stub-latency-ms": "150"}
    )
    assert time.perf_counter() - started >= 0.15


async def test_jitter_stays_within_bounds() -> None:
    """jitter_ms adds a random delay between 0 and jitter_ms."""
    with running(StubOptions(jitter_ms=60)) as stub:
        async with client_for(stub) as sdk:
            started = time.perf_counter()
            for inbound in INBOUNDS:
                await sdk.chat.completions.create(
                    model="replay-original", messages=messages(inbound)
                )
    elapsed = time.perf_counter() - started
    assert 0.03 < elapsed < 0.06 * len(INBOUNDS) + 0.5


async def test_serves_many_concurrent_requests() -> None:
    """Fifty concurrent requests all succeed, in about one latency."""
    results: list[str] = []
    with running(StubOptions(latency_ms=200)) as stub:
        async with client_for(stub) as sdk:

            async def ask(n: int) -> None:
                sent = messages(f"How much is the premium yard plan? (ref {n})")
                response = await sdk.chat.completions.create(model="replay-original", messages=sent)
                results.append(response.choices[0].message.content or "")

            started = time.perf_counter()
            async with anyio.create_task_group() as group:
                for n in range(50):
                    group.start_soon(ask, n)
            elapsed = time.perf_counter() - started
    assert len(results) == 50 and all(results)
    assert elapsed < 2


async def test_stopping_releases_a_hanging_request() -> None:
    """Stopping the server ends a request that hangs, with a connection error."""
    with ExitStack() as stack:
        stub = stack.enter_context(running(StubOptions()))
        async with client_for(stub, timeout=10) as sdk:

            async def hang() -> None:
                with pytest.raises(openai.APIConnectionError):
                    await sdk.chat.completions.create(model="fail-hang", messages=messages("Hi"))

            with anyio.fail_after(5):
                async with anyio.create_task_group() as group:
                    group.start_soon(hang)
                    # The counter lives on the server's thread: there is no event to wait on.
                    while stub.requests == 0:  # noqa: ASYNC110
                        await anyio.sleep(0.01)
                    stack.close()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        pytest.param({"rate_500": 0.6, "rate_429": 0.6}, "add up to at most 1", id="sum-above-1"),
        pytest.param({"rate_hang": 1.5}, "rate_hang must be between 0 and 1", id="rate-above-1"),
        pytest.param({"latency_ms": -1}, "latency_ms must not be negative", id="negative-latency"),
    ],
)
def test_options_reject_bad_values(option: dict[str, Any], message: str) -> None:
    """Rates outside 0-1, rates adding up past 1 and negative delays are refused."""
    with pytest.raises(ValueError, match=message):
        StubOptions(**option)


def test_main_rejects_bad_flag() -> None:
    """main() exits 2 on a rate outside 0-1."""
    assert main(["--rate-429", "2"]) == 2


def test_main_serves_until_sigterm() -> None:
    """`python -m replay.devtools.stub_model` prints where it listens and stops on SIGTERM."""
    command = [sys.executable, "-m", "replay.devtools.stub_model", "--api-key", KEY]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            match = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+/v1)\n", line)
            assert match, line
            with openai.OpenAI(base_url=match[1], api_key=KEY, max_retries=0) as sdk:
                assert [m.id for m in sdk.models.list()] == list(MODELS)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            process.kill()


def test_fault_names_are_the_header_values() -> None:
    """Every fault has a fail-* model of the same name."""
    assert {f"fail-{fault}" for fault in FAULTS} <= set(MODELS)


def test_replay_stub_model_on_a_taken_port_exits_3_in_one_line() -> None:
    """Another process on the port: `replay stub-model` says so in one line, no traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "replay.cli", "stub-model", "--port", str(port)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert (done.returncode, done.stdout) == (3, "")
    assert done.stderr == f"replay: cannot listen on 127.0.0.1:{port}: Address already in use\n"
