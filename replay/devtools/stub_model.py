"""A local model server speaking the OpenAI chat-completions wire format, with faults on demand.

Tests, the demo and the bench point the unmodified `openai` SDK at it. Drafts are deterministic
(`drafting.write_draft`), an API key is enforced so that 401 is testable, and each failure a real
endpoint shows (latency, 429 with Retry-After, 500, a hang, a malformed, truncated or mistyped
body) can be asked for by model name, by server option or by request header. The
`x-stub-injected` header names the mistake a `replay-variant` draft carries, so tests can check
that every injected mistake is caught. Plain h11 over an anyio listener, not a web framework:
a broken response has to be broken exactly as asked. Rate limits live in `stub_limits`, the
Files and Batches endpoints in `stub_batches`, the mistakes `replay-variant` makes in `mistakes`.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import logging
import math
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from http import HTTPStatus
from typing import Any, Literal, get_args

import anyio
import anyio.abc
import anyio.from_thread
import h11
import orjson

from replay.devtools import judging, mistakes
from replay.devtools.drafting import (
    content_text,
    write_draft,
)
from replay.devtools.stub_batches import Batches
from replay.devtools.stub_limits import RateLimits, request_cost

Fault = Literal["429", "500", "hang", "malformed", "truncated", "content-type"]
FAULTS: tuple[Fault, ...] = get_args(Fault)
"""Values of the `x-stub-fault` request header, in the order option rates are checked."""
FAULT_MODELS: Mapping[str, Fault] = {f"fail-{fault}": fault for fault in FAULTS}
Oddity = Literal["surrogate", "huge", "usage"]
ODDITIES: tuple[Oddity, ...] = get_args(Oddity)
"""Answers that arrive whole (200, valid JSON) but hold what a real model can send and a
harness must survive: a lone surrogate (an emoji cut by `max_tokens`), an enormous draft, a
usage with a negative token count."""
ODD_MODELS: Mapping[str, Oddity] = {f"fail-{oddity}": oddity for oddity in ODDITIES}
HUGE_CHARS = 1_000_000
"""The length of a `fail-huge` draft: ten times the default `--max-answer-chars`."""
MODELS: tuple[str, ...] = (
    "replay-original", "replay-variant", *judging.JUDGE_MODELS, *FAULT_MODELS, *ODD_MODELS
)  # fmt: skip
CREATED = 1_767_225_600
"""The fixed `created` time of every response and model (2026-01-01, UTC)."""
MAX_BODY_BYTES = 64 * 1024 * 1024
_log = logging.getLogger(__name__)
_RATES = ("rate_429", "rate_500", "rate_hang", "rate_malformed", "rate_truncated",
          "rate_content_type")  # fmt: skip


@dataclass(frozen=True)
class StubOptions:
    """Where the server listens and which faults it adds on its own.

    Each chat request draws once from an RNG seeded by `seed`, the request body and how many
    times that body was seen before, so a rerun gets the same faults whatever the arrival order,
    and a retry of a request draws anew. Rates are checked in field order.
    """

    host: str = "127.0.0.1"
    port: int = 0
    """0 picks any free port."""
    api_key: str | None = None
    """Bearer token every request must carry; None accepts any."""
    latency_ms: float = 0
    """Delay before each chat response."""
    jitter_ms: float = 0
    """Upper bound of a uniform random delay added to `latency_ms`."""
    rate_429: float = 0
    rate_500: float = 0
    rate_hang: float = 0
    rate_malformed: float = 0
    rate_truncated: float = 0
    rate_content_type: float = 0
    retry_after_s: float = 1
    """Value of the Retry-After header of a 429."""
    seed: int = 0
    rpm: float = 0
    """Chat requests a rolling minute accepts before answering 429; 0 is no limit."""
    tpm: float = 0
    """Tokens (prompt and `max_tokens`) a rolling minute accepts; 0 is no limit."""
    batch_delay_s: float = 0.2
    """How long a batch stays in_progress: the first read after it completes the batch."""
    batch_max_lines: int = 50_000
    """A batch with more lines fails, as OpenAI's limit makes it."""
    batch_expire_first: int = 0
    """The first N batches expire with half their lines answered."""
    batch_fail_first: int = 0
    """The first N batches fail without an answer."""

    def __post_init__(self) -> None:
        rates = [getattr(self, name) for name in _RATES]
        for name, rate in zip(_RATES, rates, strict=True):
            if not 0 <= rate <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {rate!r}")
        if sum(rates) > 1:
            raise ValueError(f"fault rates must add up to at most 1, got {sum(rates)!r}")
        for name in ("latency_ms", "jitter_ms", "retry_after_s", "rpm", "tpm", "batch_delay_s",
                     "batch_expire_first", "batch_fail_first"):  # fmt: skip
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)!r}")
        if self.rpm % 1 or self.tpm % 1 or self.batch_max_lines < 1:
            raise ValueError("rpm and tpm must be whole numbers, batch_max_lines at least 1")


@dataclass
class _Reply:
    """A response to send, and how to break it."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    injected: str = "none"
    hang: bool = False
    truncated: bool = False


class StubServer:
    """A listening stub server: where it is, and what it has served (read from any thread)."""

    def __init__(self, options: StubOptions, port: int) -> None:
        self.options = options
        self.port = port
        host = f"[{options.host}]" if ":" in options.host else options.host
        self.base_url = f"http://{host}:{port}/v1"
        self.requests = 0
        """Chat requests that passed authentication and parsing, faulty ones included."""
        self.requests_by_model: Counter[str] = Counter()
        self.connections = 0
        """TCP connections accepted: keep-alive shows as fewer connections than requests."""
        self.rate_limited = 0
        """Chat requests refused with 429 by the `rpm` or `tpm` limit."""
        self.limits = RateLimits(options.rpm, options.tpm)
        self.batches = Batches(self.answer_line, delay_s=options.batch_delay_s, epoch=CREATED,
                               max_lines=options.batch_max_lines,
                               expire_first=options.batch_expire_first,
                               fail_first=options.batch_fail_first)  # fmt: skip
        self._seen: Counter[bytes] = Counter()

    @property
    def files_uploaded(self) -> int:
        """Files uploaded through `POST /v1/files`."""
        return self.batches.files_uploaded

    @property
    def batches_created(self) -> int:
        """Batches created through `POST /v1/batches`."""
        return self.batches.batches_created

    @property
    def batch_lines_answered(self) -> int:
        """Batch lines answered 200: the paid work of batches (not counted in `requests`)."""
        return self.batches.batch_lines_answered

    async def handle(self, stream: anyio.abc.ByteStream) -> None:
        """Serve the requests of one connection until either side closes it."""
        self.connections += 1
        conn = h11.Connection(h11.SERVER)
        async with stream:
            try:
                while await self._cycle(conn, stream):
                    conn.start_next_cycle()
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
                pass  # the client went away
            except Exception:
                # One broken exchange must not take the whole server (and every test) down.
                _log.exception("stub model server failed on a connection")

    async def _cycle(self, conn: h11.Connection, stream: anyio.abc.ByteStream) -> bool:
        """Serve one request; True when the connection can carry another."""
        try:
            received = await _read_request(conn, stream)
        except h11.RemoteProtocolError:
            # Not echoing what h11 choked on: it may be a header line with a key in it.
            if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                await stream.send(_encode(conn, _error(400, "Malformed HTTP request.")))
            return False
        if received is None:
            return False
        reply = await self._route(*received)
        if reply.hang:
            await _wait_for_close(stream)
            return False
        await stream.send(_encode(conn, reply))
        return not reply.truncated and conn.our_state is h11.DONE and conn.their_state is h11.DONE

    async def _route(self, request: h11.Request, body: bytes) -> _Reply:
        method = request.method.decode()
        path = request.target.decode().partition("?")[0]
        headers = {name.decode(): value.decode("latin-1") for name, value in request.headers}
        if not self._authorized(headers.get("authorization", "")):
            return _error(401, "Incorrect API key provided.", code="invalid_api_key")
        if method == "GET" and path == "/v1/models":
            listing = [_model_object(name) for name in MODELS]
            return _json(200, {"object": "list", "data": listing})
        if method == "GET" and path.startswith("/v1/models/"):
            name = path.removeprefix("/v1/models/")
            return _json(200, _model_object(name)) if name in MODELS else _no_model(name)
        if path == "/v1/chat/completions":
            if method != "POST":
                return _error(405, f"{method} is not allowed here; send POST.")
            return await self._chat(headers, body)
        routed = self.batches.route(method, path, headers.get("content-type", ""), body)
        if routed is not None:
            return _Reply(routed.status, routed.body, routed.content_type)
        return _error(404, f"Unknown request URL: {method} {path}", code="unknown_url")

    def _authorized(self, header: str) -> bool:
        expected = self.options.api_key
        if expected is None:
            return True
        return hmac.compare_digest(header.encode(), f"Bearer {expected}".encode())

    async def _chat(self, headers: Mapping[str, str], body: bytes) -> _Reply:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _error(400, "The request body is not valid JSON.")
        if (problem := _chat_problem(payload)) is not None:
            return problem
        fault = headers.get("x-stub-fault")
        if fault is not None and fault not in FAULTS:
            return _error(400, f"x-stub-fault must be one of {', '.join(FAULTS)}, got {fault!r}")
        latency_header = headers.get("x-stub-latency-ms")
        header_latency = None if latency_header is None else _milliseconds(latency_header)
        if latency_header is not None and header_latency is None:
            return _error(400, f"x-stub-latency-ms must be milliseconds, got {latency_header!r}")

        model: str = payload["model"]
        self.requests += 1
        self.requests_by_model[model] += 1
        if model not in MODELS:
            reply = _no_model(model)
            reply.headers += self.limits.headers()
            return reply
        admitted = self.limits.admit(request_cost(payload))
        if admitted.refusal is not None:
            self.rate_limited += 1
            reply = _json(429, admitted.refusal)
        else:
            _, reply, rng = self._answer(payload, fault)
            delay = self.options.latency_ms + rng.uniform(0, self.options.jitter_ms)
            delay = delay if header_latency is None else header_latency
            if delay > 0:
                await anyio.sleep(delay / 1000)
        reply.headers += admitted.headers
        return reply

    def answer_line(self, payload: Any) -> tuple[int, bytes]:
        """A batch line's status and body: what a live request gets, so a batch replays a live run.

        Less the latency, the header faults and the rate limits. A fault drawn or asked for by
        model is a 429 or a 500: a batch line has no connection to hang or break.
        """
        reply = _chat_problem(payload)
        if reply is None and payload["model"] not in MODELS:
            reply = _no_model(payload["model"])
        if reply is None:
            chosen, reply, _ = self._answer(payload, None)
            reply = reply if chosen in (None, "429") else self._fault("500")
        return reply.status, reply.body

    def _answer(
        self, payload: Mapping[str, Any], fault: Fault | None
    ) -> tuple[Fault | None, _Reply, random.Random]:
        """The answer to a request for a known model, the fault it drew, and its RNG."""
        model = payload["model"]
        digest = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).digest()
        seen = self._seen[digest]
        self._seen[digest] += 1
        rng = random.Random(f"{self.options.seed}:{digest.hex()}:{seen}")
        chosen = fault or FAULT_MODELS.get(model) or self._draw_fault(rng.random())
        if chosen is None or chosen == "truncated":
            odd = ODD_MODELS.get(model)
            reply = _completion(payload, digest, truncated=chosen == "truncated", odd=odd)
        else:
            reply = self._fault(chosen)
        return chosen, reply, rng

    def _draw_fault(self, draw: float) -> Fault | None:
        for name, fault in zip(_RATES, FAULTS, strict=True):
            draw -= getattr(self.options, name)
            if draw < 0:
                return fault
        return None

    def _fault(self, fault: Fault) -> _Reply:
        if fault == "429":
            retry_after = f"{self.options.retry_after_s:g}"
            message = "Rate limit reached; retry later."
            reply = _error(429, message, type_="requests", code="rate_limit_exceeded")
            reply.headers.append(("retry-after", retry_after))
            return reply
        if fault == "500":
            message = "The server had an error processing your request."
            return _error(500, message, type_="server_error")
        if fault == "hang":
            return _Reply(0, b"", hang=True)
        if fault == "malformed":
            return _Reply(200, b'{"id": "chatcmpl-stub", "object": "chat.completion", "choi')
        html = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
        return _Reply(200, html, content_type="text/html; charset=utf-8")


async def serve(
    options: StubOptions,
    *,
    task_status: anyio.abc.TaskStatus[StubServer] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Listen on `options.host`/`options.port` and serve until cancelled.

    Reports the `StubServer` through `task_status` once it is listening, so that
    `await task_group.start(serve, options)` returns it.
    """
    listener = await anyio.create_tcp_listener(local_host=options.host, local_port=options.port)
    async with listener:
        server = StubServer(options, listener.extra(anyio.abc.SocketAttribute.local_port))
        task_status.started(server)
        await listener.serve(server.handle)


@contextmanager
def running(options: StubOptions) -> Iterator[StubServer]:
    """Run a server on its own event loop in a worker thread while the block runs.

    Works from sync and async code alike: the caller's loop, if any, is never shared.
    """
    with anyio.from_thread.start_blocking_portal() as portal:
        future, server = portal.start_task(serve, options)
        try:
            yield server
        finally:
            future.cancel()


_HELP = {
    "host": "address to listen on (default: %(default)s)",
    "port": "port to listen on; 0 picks a free one (default: %(default)s)",
    "api_key": "bearer token every request must carry (default: any key)",
    "latency_ms": "delay before each chat answer, in ms (default: %(default)s)",
    "jitter_ms": "upper bound of a random delay added to the latency, in ms (default: %(default)s)",
    "rate_429": "share of chat requests answered 429 with Retry-After (default: %(default)s)",
    "rate_500": "share of chat requests answered 500 (default: %(default)s)",
    "rate_hang": "share of chat requests never answered (default: %(default)s)",
    "rate_malformed": "share answered with a body that is not JSON (default: %(default)s)",
    "rate_truncated": "share answered with a body cut short (default: %(default)s)",
    "rate_content_type": "share answered with a wrong content type (default: %(default)s)",
    "retry_after_s": "Retry-After of a 429, in seconds (default: %(default)s)",
    "seed": "seed of the fault draws: the same seed, the same faults (default: %(default)s)",
    "rpm": "chat requests a rolling minute takes, then 429; 0: no limit (default: %(default)s)",
    "tpm": "prompt + max_tokens tokens a rolling minute takes; 0: none (default: %(default)s)",
    "batch_delay_s": "seconds before a read of a batch completes it (default: %(default)s)",
    "batch_max_lines": "lines a batch may have; more fail it (default: %(default)s)",
    "batch_expire_first": "the first N batches expire half-answered (default: %(default)s)",
    "batch_fail_first": "the first N batches fail outright (default: %(default)s)",
}
"""Help of each flag, by `StubOptions` field: `replay stub-model --help` explains every one."""


def parser() -> argparse.ArgumentParser:
    """The server's flags, one per `StubOptions` field, each with its help."""
    flags = argparse.ArgumentParser(
        prog="replay stub-model",
        description="Local OpenAI-compatible model server, with faults on demand "
        "(model names select answers and faults: see docs/how-to/local-model-server.md).",
    )
    defaults = StubOptions()
    for option in fields(StubOptions):
        flag = "--" + option.name.replace("_", "-")
        kind = {"float": float, "int": int}.get(str(option.type), str)
        flags.add_argument(flag, dest=option.name, type=kind, help=_HELP[option.name],
                           default=getattr(defaults, option.name))  # fmt: skip
    return flags


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM, after printing `listening on BASE_URL` as the first line.

    Returns:
        0 after a signal, 2 for a bad flag, 3 when the address cannot be bound (as `replay`
        exits for what the machine refuses).
    """
    flags = parser()
    try:
        args = flags.parse_args(argv)
        try:
            options = StubOptions(**vars(args))
        except ValueError as exc:
            flags.error(str(exc))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    refused: list[OSError] = []
    try:
        anyio.run(_serve_until_signalled, options)
    except* OSError as group:  # raised inside the server's task group
        refused.extend(exc for exc in group.exceptions if isinstance(exc, OSError))
    if refused:
        reason = refused[0].strerror or type(refused[0]).__name__
        sys.stderr.write(f"replay: cannot listen on {options.host}:{options.port}: {reason}\n")
        return 3
    return 0


async def _serve_until_signalled(options: StubOptions) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with anyio.create_task_group() as group:
            server = await group.start(serve, options)
            sys.stdout.write(f"listening on {server.base_url}\n")
            sys.stdout.flush()
            async for _ in signals:
                group.cancel_scope.cancel()
                break


async def _wait_for_close(stream: anyio.abc.ByteStream) -> None:
    """Hold a connection, reading and dropping bytes, until the client closes it."""
    try:
        while True:
            await stream.receive()
    except (anyio.EndOfStream, anyio.BrokenResourceError):
        return


def _milliseconds(value: str) -> float | None:
    """A finite, non-negative number of milliseconds from a header; None when it is not one."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


async def _read_request(
    conn: h11.Connection, stream: anyio.abc.ByteStream
) -> tuple[h11.Request, bytes] | None:
    """Read one request and its body; None when the client closed an idle connection."""
    request: h11.Request | None = None
    chunks: list[bytes] = []
    size = 0
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            try:
                data = await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                data = b""
            conn.receive_data(data)
        elif isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            size += len(event.data)
            if size > MAX_BODY_BYTES:
                raise h11.RemoteProtocolError(f"body larger than {MAX_BODY_BYTES} bytes")
            chunks.append(event.data)
        elif isinstance(event, h11.EndOfMessage) and request is not None:
            return request, b"".join(chunks)
        else:
            return None


def _encode(conn: h11.Connection, reply: _Reply) -> bytes:
    """The bytes of a response; a truncated one declares its full length and sends half."""
    headers = [
        ("content-type", reply.content_type),
        ("content-length", str(len(reply.body))),
        ("x-stub-injected", reply.injected),
        *reply.headers,
    ]
    reason = HTTPStatus(reply.status).phrase.encode()
    data = conn.send(h11.Response(status_code=reply.status, headers=headers, reason=reason)) or b""
    if reply.truncated:
        return data + (conn.send(h11.Data(data=reply.body[: len(reply.body) // 2])) or b"")
    body = conn.send(h11.Data(data=reply.body)) or b""
    return data + body + (conn.send(h11.EndOfMessage()) or b"")


def _json(status: int, body: Any) -> _Reply:
    return _Reply(status, orjson.dumps(body))


def _chat_problem(payload: Any) -> _Reply | None:
    """A 400 for a body that is no chat request this server answers; None for one it does."""
    if not (
        isinstance(payload, dict)
        and isinstance(payload.get("model"), str)
        and isinstance(payload.get("messages"), list)
        and all(isinstance(message, dict) for message in payload["messages"])
    ):
        return _error(400, "A chat request needs `model` (a string) and `messages` (objects).")
    if payload.get("stream"):
        return _error(400, "This server does not stream; send stream=false.", param="stream")
    return None


def _error(
    status: int,
    message: str,
    *,
    type_: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
) -> _Reply:
    """An error in OpenAI's shape, which the SDK turns into its exception for `status`."""
    error = {"message": message, "type": type_, "param": param, "code": code}
    return _json(status, {"error": error})


def _no_model(name: str) -> _Reply:
    message = f"The model {name!r} does not exist or you do not have access to it."
    return _error(404, message, code="model_not_found", param="model")


def _model_object(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": CREATED, "owned_by": "replay-stub"}


def _completion(
    payload: Mapping[str, Any], digest: bytes, *, truncated: bool, odd: Oddity | None = None
) -> _Reply:
    """The chat completion for a request; `replay-variant` carries a mistake 1 time in 4."""
    messages: Sequence[Mapping[str, Any]] = payload["messages"]
    model = payload["model"]
    injected = "none"
    finish_reason = "stop"
    if model in judging.JUDGE_MODELS or judging.is_judge_request(payload):
        text = judging.answer(model, messages)
    else:
        text = write_draft(messages, style="variant" if model == "replay-variant" else "original")
    if model == "replay-variant" and not judging.is_judge_request(payload):
        text, mistake = mistakes.choose(messages, text, digest)
        injected = mistake or "none"
        if mistake == "truncated":
            finish_reason = "length"  # what a real endpoint says of a draft cut by max_tokens
    if odd == "huge":
        text = (text + " ") * (HUGE_CHARS // (len(text) + 1) + 1)
    prompt_tokens = -(-sum(len(content_text(m.get("content"))) for m in messages) // 4)
    completion_tokens = -(-len(text) // 4)
    if odd == "usage":
        prompt_tokens = -prompt_tokens
    body = {
        "id": f"chatcmpl-{digest.hex()[:24]}",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
    reply = _json(200, body)
    if odd == "surrogate":
        # JSON may escape a lone surrogate, and real servers send one when a token limit cuts
        # an emoji in half; orjson refuses to write it, so it goes in as escaped text.
        quoted = orjson.dumps(text)
        reply.body = reply.body.replace(quoted, quoted[:-1] + b' \\ud83d"', 1)
    reply.injected, reply.truncated = injected, truncated
    return reply


if __name__ == "__main__":
    raise SystemExit(main())


def spawn(*args: str) -> tuple[subprocess.Popen[str], str]:
    """Run the server in its own process with `args` (main's flags); return it and its base URL.

    The bench and the demo use this: a server sharing the measured process would skew it.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "replay.devtools.stub_model", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.kill()
        process.wait()
        process.stdout.close()
        raise RuntimeError(f"the model server did not start: {line!r}")
    return process, line.split()[-1]


def terminate(process: subprocess.Popen[str]) -> None:
    """Stop a server started by `spawn` and release its pipe."""
    process.terminate()
    process.wait()
    if process.stdout is not None:
        process.stdout.close()
