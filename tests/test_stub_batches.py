"""The local model server's Files and Batches endpoints, through the real `openai` SDK."""

from __future__ import annotations

import json
from typing import Any, cast

import anyio
import openai
import pytest
from openai import AsyncOpenAI
from openai.types import Batch

from replay.devtools.drafting import production_request
from replay.devtools.stub_batches import EXPIRED
from replay.devtools.stub_model import StubOptions, StubServer, main, parser, running

KEY = "sk-stub-test-0123456789"
SETTINGS = {
    "service_description": "Weekly lawn care for homes across Austin.",
    "price_list": [{"item": "Premium yard plan", "price": "$2,400"}],
    "booking_link": "https://cal.example.com/greenleaf",
    "signature": "Ann, Greenleaf Lawns",
}
INBOUNDS = (
    "How much is the premium yard plan?",
    "Could we schedule a call on Tuesday?",
    "Can you tell me more about what's included?",
    "Please stop texting me.",
)
NAMES = ("Dan", "Maria", "Lee", "Priya", "Omar")
FINAL = ("completed", "failed", "expired", "cancelled")


def body(inbound: str, model: str = "replay-original", name: str = "Dan") -> dict[str, Any]:
    """A chat request as production recorded it."""
    return production_request(
        client_settings=SETTINGS,
        lead={"first_name": name, "last_name": "Reyes", "company": "Acme"},
        channel="sms",
        thread=[],
        inbound_subject=None,
        inbound_body=inbound,
        model=model,
        temperature=0.4,
        max_tokens=400,
    )


def line(custom_id: str, request: dict[str, Any]) -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": request,
    }


def jsonl(lines: list[Any]) -> bytes:
    return b"".join(
        (item if isinstance(item, bytes) else json.dumps(item).encode()) + b"\n" for item in lines
    )


def numbered(models: list[str]) -> list[dict[str, Any]]:
    """One line per model, each on its own prompt, with custom ids c0, c1 and so on."""
    return [
        line(f"c{n}", body(f"Question {n}: {INBOUNDS[0]}", model)) for n, model in enumerate(models)
    ]


def client_for(server: StubServer, key: str = KEY) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=server.base_url, api_key=key, max_retries=0, timeout=5)


async def submit(sdk: AsyncOpenAI, lines: list[Any], **extra: Any) -> Batch:
    uploaded = await sdk.files.create(file=("batch.jsonl", jsonl(lines)), purpose="batch")
    return await sdk.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        **extra,
    )


async def settle(sdk: AsyncOpenAI, batch_id: str) -> Batch:
    """Poll the batch until it ends, as a client does."""
    with anyio.fail_after(5):
        # The batch ends on a read: polling is the API, there is no event to wait on.
        while (batch := await sdk.batches.retrieve(batch_id)).status not in FINAL:  # noqa: ASYNC110
            await anyio.sleep(0.02)
    return batch


async def file_lines(sdk: AsyncOpenAI, file_id: str | None) -> list[dict[str, Any]]:
    assert file_id is not None
    content = (await sdk.files.content(file_id)).content
    return [json.loads(raw) for raw in content.splitlines()]


async def test_a_batch_answers_each_line_as_the_live_endpoint_does() -> None:
    """files.create, batches.create, poll, files.content: every body a live request's, in order."""
    requests = [
        body(inbound, model, name)
        for inbound in INBOUNDS
        for name in NAMES
        for model in ("replay-original", "replay-variant")
    ]
    requests += [body(INBOUNDS[0], "replay-judge"), body(INBOUNDS[1], "judge-prefers-a")]
    lines = [line(f"case-{n}", request) for n, request in enumerate(requests)]
    with running(StubOptions(api_key=KEY, batch_delay_s=0.5)) as stub:
        async with client_for(stub) as sdk:
            created = await submit(sdk, lines, metadata={"run": "nightly"})
            pending = await sdk.batches.retrieve(created.id)
            batch = await settle(sdk, created.id)
            answers = await file_lines(sdk, batch.output_file_id)
            raw = await sdk.batches.with_raw_response.retrieve(created.id)
            assert stub.requests == 0
            live = []
            for request in requests:
                response = await sdk.chat.completions.with_raw_response.create(**request)
                live.append(json.loads(response.text))
    assert (created.status, pending.status, batch.status) == (
        "validating",
        "in_progress",
        "completed",
    )
    assert created.endpoint == "/v1/chat/completions" and created.metadata == {"run": "nightly"}
    assert batch.request_counts is not None
    assert batch.request_counts.model_dump() == {
        "total": len(lines),
        "completed": len(lines),
        "failed": 0,
    }
    assert batch.error_file_id is None and batch.errors is None
    assert None not in (batch.in_progress_at, batch.finalizing_at, batch.completed_at)
    assert set(Batch.model_fields) <= set(json.loads(raw.text))
    assert [a["custom_id"] for a in answers] == [f"case-{n}" for n in range(len(lines))]
    assert [a["response"]["body"] for a in answers] == live
    assert {"length", "stop"} <= {a["choices"][0]["finish_reason"] for a in live}
    for answer in answers:
        assert answer["id"].startswith("batch_req_") and answer["error"] is None
        assert answer["response"]["status_code"] == 200
        assert answer["response"]["request_id"].startswith("req_")
    assert batch.usage is not None
    assert batch.usage.input_tokens == sum(a["usage"]["prompt_tokens"] for a in live)
    assert (stub.files_uploaded, stub.batches_created) == (1, 1)
    assert stub.batch_lines_answered == len(lines)
    assert stub.requests == len(lines)


async def test_an_uploaded_file_comes_back_byte_for_byte() -> None:
    """The FileObject describes the upload, content returns its bytes, delete forgets it."""
    data = '{"custom_id": "é", "x": "😀"}\r\n{"y": 1}\n'.encode()
    with running(StubOptions(api_key=KEY)) as stub:
        async with client_for(stub) as sdk:
            uploaded = await sdk.files.create(file=("batch.jsonl", data), purpose="batch")
            retrieved = await sdk.files.retrieve(uploaded.id)
            content = await sdk.files.content(uploaded.id)
            deleted = await sdk.files.delete(uploaded.id)
            with pytest.raises(openai.NotFoundError):
                await sdk.files.retrieve(uploaded.id)
    assert uploaded.id.startswith("file-") and uploaded == retrieved
    shown = (uploaded.object, uploaded.bytes, uploaded.filename, uploaded.purpose, uploaded.status)
    assert shown == ("file", len(data), "batch.jsonl", "batch", "processed")
    assert content.content == data
    assert content.response.headers["content-type"] == "application/octet-stream"
    assert (deleted.id, deleted.deleted) == (uploaded.id, True)
    assert stub.files_uploaded == 1


async def test_a_batch_cancelled_before_it_runs_answers_nothing() -> None:
    """Cancelled before it runs: cancelling, then cancelled on the next read, with no output.

    A batch that has ended cannot be cancelled.
    """
    with running(StubOptions(api_key=KEY, batch_delay_s=60)) as stub:
        async with client_for(stub) as sdk:
            created = await submit(sdk, numbered(["replay-original"] * 3))
            cancelling = await sdk.batches.cancel(created.id)
            cancelled = await sdk.batches.retrieve(created.id)
            with pytest.raises(openai.ConflictError):
                await sdk.batches.cancel(created.id)
    assert (cancelling.status, cancelled.status) == ("cancelling", "cancelled")
    assert cancelling.cancelling_at is not None and cancelled.cancelled_at is not None
    assert cancelled.output_file_id is None and cancelled.error_file_id is None
    assert cancelled.request_counts is not None
    assert (cancelled.request_counts.completed, cancelled.request_counts.failed) == (0, 0)
    assert stub.batch_lines_answered == 0


async def test_batches_are_listed_newest_first_with_their_input_file() -> None:
    """A client that lost a batch id finds it by the input file it uploaded."""
    with running(StubOptions(api_key=KEY, batch_delay_s=60)) as stub:
        async with client_for(stub) as sdk:
            first = await submit(sdk, numbered(["replay-original"]))
            second = await submit(sdk, numbered(["replay-original"] * 2))
            listed = [batch async for batch in sdk.batches.list(limit=100)]
    assert [(b.id, b.input_file_id) for b in listed] == [
        (second.id, second.input_file_id),
        (first.id, first.input_file_id),
    ]


async def test_the_first_batches_expire_half_answered() -> None:
    """batch_expire_first: half the lines answered, the rest batch_expired; the next completes."""
    with running(StubOptions(api_key=KEY, batch_delay_s=0, batch_expire_first=1)) as stub:
        async with client_for(stub) as sdk:
            expired = await settle(sdk, (await submit(sdk, numbered(["replay-original"] * 5))).id)
            answered = await file_lines(sdk, expired.output_file_id)
            unanswered = await file_lines(sdk, expired.error_file_id)
            later = await settle(sdk, (await submit(sdk, numbered(["replay-original"] * 5))).id)
    assert expired.status == "expired" and expired.expired_at is not None
    assert expired.request_counts is not None
    assert expired.request_counts.model_dump() == {"total": 5, "completed": 2, "failed": 3}
    assert [a["custom_id"] for a in answered] == ["c0", "c1"]
    assert [a["custom_id"] for a in unanswered] == ["c2", "c3", "c4"]
    assert all(a["response"] is None and a["error"] == EXPIRED for a in unanswered)
    assert EXPIRED["code"] == "batch_expired"
    assert later.status == "completed" and later.error_file_id is None
    assert stub.batch_lines_answered == 2 + 5


async def test_the_first_batches_fail() -> None:
    """batch_fail_first: failed with a server error and no output; the next completes."""
    with running(StubOptions(api_key=KEY, batch_delay_s=0, batch_fail_first=1)) as stub:
        async with client_for(stub) as sdk:
            failed = await settle(sdk, (await submit(sdk, numbered(["replay-original"] * 2))).id)
            later = await settle(sdk, (await submit(sdk, numbered(["replay-original"] * 2))).id)
    assert failed.status == "failed" and failed.failed_at is not None
    assert failed.errors is not None and failed.errors.data is not None
    assert [e.code for e in failed.errors.data] == ["server_error"]
    assert failed.output_file_id is None and failed.error_file_id is None
    assert later.status == "completed"
    assert stub.batch_lines_answered == 2


async def test_failing_lines_go_to_the_error_file() -> None:
    """fail-* models and an unknown model: error lines with their status and error body."""
    models = ["fail-500", "fail-429", "replay-original", "fail-hang", "gpt-nonexistent",
              "fail-malformed"]  # fmt: skip
    with running(StubOptions(api_key=KEY, batch_delay_s=0)) as stub:
        async with client_for(stub) as sdk:
            batch = await settle(sdk, (await submit(sdk, numbered(models))).id)
            answered = await file_lines(sdk, batch.output_file_id)
            failed = await file_lines(sdk, batch.error_file_id)
    assert batch.status == "completed" and batch.request_counts is not None
    assert batch.request_counts.model_dump() == {"total": 6, "completed": 1, "failed": 5}
    assert [a["custom_id"] for a in answered] == ["c2"]
    statuses = [(f["custom_id"], f["response"]["status_code"]) for f in failed]
    assert statuses == [("c0", 500), ("c1", 429), ("c3", 500), ("c4", 404), ("c5", 500)]
    assert failed[3]["response"]["body"]["error"]["code"] == "model_not_found"
    assert all(f["error"] is None and "error" in f["response"]["body"] for f in failed)
    assert stub.batch_lines_answered == 1


async def test_fault_rates_draw_per_line_with_the_seed() -> None:
    """A drawn 429 is a 429 line, any other drawn fault a 500 line; the same seed, the same."""
    lines = [line(f"c{n}", body(inbound, name=name)) for n, (inbound, name) in
             enumerate((i, n) for i in INBOUNDS for n in NAMES)]  # fmt: skip
    runs: list[list[int]] = []
    for options in (
        StubOptions(api_key=KEY, batch_delay_s=0, rate_429=0.3, rate_hang=0.3, seed=5),
        StubOptions(api_key=KEY, batch_delay_s=0, rate_429=0.3, rate_hang=0.3, seed=5),
        StubOptions(api_key=KEY, batch_delay_s=0, rate_truncated=1),
    ):
        with running(options) as stub:
            async with client_for(stub) as sdk:
                batch = await settle(sdk, (await submit(sdk, lines)).id)
                answers = (
                    await file_lines(sdk, batch.output_file_id) if batch.output_file_id else []
                )
                errors = await file_lines(sdk, batch.error_file_id) if batch.error_file_id else []
        status = {a["custom_id"]: a["response"]["status_code"] for a in answers + errors}
        runs.append([status[f"c{n}"] for n in range(len(lines))])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 429, 500}
    assert set(runs[2]) == {500}


async def test_a_batch_with_invalid_lines_fails_naming_each() -> None:
    """Lines that are not requests fail the batch, each named by code and 1-based line number."""
    good = line("a", body(INBOUNDS[0]))
    lines: list[Any] = [
        good,
        b"{not json",
        {**good, "custom_id": "a"},
        {**good, "custom_id": "b", "url": "/v1/embeddings"},
        {**good, "custom_id": "c", "method": "GET"},
        {**good, "custom_id": "d", "body": "text"},
        {**good, "custom_id": 7},
        ["a", "list"],
    ]
    with running(StubOptions(api_key=KEY, batch_delay_s=0)) as stub:
        async with client_for(stub) as sdk:
            batch = await settle(sdk, (await submit(sdk, lines)).id)
    assert batch.status == "failed" and batch.output_file_id is None
    assert batch.errors is not None and batch.errors.data is not None
    named = [(e.code, e.line, e.param) for e in batch.errors.data]
    assert named == [
        ("invalid_json", 2, None),
        ("duplicate_custom_id", 3, "custom_id"),
        ("invalid_request", 4, "url"),
        ("invalid_request", 5, "method"),
        ("invalid_request", 6, "body"),
        ("invalid_request", 7, "custom_id"),
        ("invalid_request", 8, None),
    ]
    assert all(e.message for e in batch.errors.data)
    assert stub.batch_lines_answered == 0


async def test_a_batch_past_the_line_limit_fails() -> None:
    """More lines than batch_max_lines: failed, the limit in the message."""
    with running(StubOptions(api_key=KEY, batch_delay_s=0, batch_max_lines=2)) as stub:
        async with client_for(stub) as sdk:
            batch = await settle(sdk, (await submit(sdk, numbered(["replay-original"] * 3))).id)
            within = await settle(sdk, (await submit(sdk, numbered(["replay-original"] * 2))).id)
    assert batch.status == "failed" and batch.errors is not None and batch.errors.data
    assert batch.errors.data[0].code == "too_many_lines"
    assert "at most 2" in (batch.errors.data[0].message or "")
    assert within.status == "completed"
    assert stub.batch_lines_answered == 2


async def test_unknown_files_and_batches_are_404() -> None:
    """Every read, delete or use of an id the server never gave is openai.NotFoundError."""
    with running(StubOptions(api_key=KEY)) as stub:
        async with client_for(stub) as sdk:
            calls = [
                sdk.files.retrieve("file-nope"),
                sdk.files.content("file-nope"),
                sdk.files.delete("file-nope"),
                sdk.batches.retrieve("batch_nope"),
                sdk.batches.cancel("batch_nope"),
                sdk.batches.create(
                    input_file_id="file-nope",
                    endpoint="/v1/chat/completions",
                    completion_window="24h",
                ),
            ]
            for call in calls:
                with pytest.raises(openai.NotFoundError):
                    await call


@pytest.mark.parametrize(
    ("change", "param"),
    [
        pytest.param({"endpoint": "/v1/embeddings"}, "endpoint", id="endpoint"),
        pytest.param({"completion_window": "1d"}, "completion_window", id="window"),
        pytest.param({"purpose": "assistants"}, "input_file_id", id="purpose"),
    ],
)
async def test_a_batch_the_api_would_refuse_is_400(change: dict[str, str], param: str) -> None:
    """Another endpoint, a window not in hours or a file not for batches: BadRequestError."""
    settings = {"endpoint": "/v1/chat/completions", "completion_window": "24h", **change}
    with running(StubOptions(api_key=KEY)) as stub:
        async with client_for(stub) as sdk:
            purpose = cast(Any, change.get("purpose", "batch"))
            uploaded = await sdk.files.create(
                file=("b.jsonl", jsonl(numbered(["m"]))), purpose=purpose
            )
            with pytest.raises(openai.BadRequestError) as caught:
                await sdk.batches.create(
                    input_file_id=uploaded.id,
                    endpoint=cast(Any, settings["endpoint"]),
                    completion_window=cast(Any, settings["completion_window"]),
                )
    assert caught.value.param == param
    assert stub.batches_created == 0


async def test_files_and_batches_need_the_key() -> None:
    """A wrong key is 401 on these endpoints as on chat."""
    with running(StubOptions(api_key=KEY)) as stub:
        async with client_for(stub, key="sk-wrong") as sdk:
            with pytest.raises(openai.AuthenticationError):
                await sdk.files.create(file=("b.jsonl", b"{}\n"), purpose="batch")
            with pytest.raises(openai.AuthenticationError):
                await sdk.batches.retrieve("batch_x")
    assert stub.files_uploaded == 0


def test_flags_set_the_batch_options() -> None:
    """The batch flags reach StubOptions as numbers; a limit under 1 exits 2."""
    argv = ["--batch-delay-s", "1.5", "--batch-max-lines", "10", "--batch-expire-first", "2",
            "--batch-fail-first", "1"]  # fmt: skip
    options = StubOptions(**vars(parser().parse_args(argv)))
    assert (options.batch_delay_s, options.batch_max_lines) == (1.5, 10)
    assert (options.batch_expire_first, options.batch_fail_first) == (2, 1)
    assert main(["--batch-max-lines", "0"]) == 2
    assert main(["--batch-fail-first", "-1"]) == 2
