"""The built-in `openai` pipeline: which request it sends for a case, and sending it.

With a response cache (`--cache`), a request sent before is answered from it, marked
`cached`, without a model call; see `run/responses.py`.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson
from pydantic import ValidationError

from replay.config.models import RequestConfig
from replay.errors import AttemptFailed
from replay.models import CaseInput, ChatMessage, ChatRequest, ErrorClass, Outcome, RequestSource
from replay.run.endpoint import reported_usage, sdk_failure
from replay.run.pacing import Pacer, request_tokens
from replay.run.pipelines import prompt
from replay.run.responses import ResponseCache, StoredAnswer

if TYPE_CHECKING:
    from openai import AsyncOpenAI


class NoRecording(Exception):
    """`--request-source recorded` on a case whose request was not recorded."""


class PlannedRequest(NamedTuple):
    """A request and where it came from."""

    source: RequestSource
    request: ChatRequest


def plan_request(case: CaseInput, config: RequestConfig) -> PlannedRequest:
    """Choose and build the request for `case`, with the overrides applied.

    Raises:
        NoRecording: `recorded` was asked for and the case has no recorded request.
    """
    recorded = case.original_request
    if config.request_source == "recorded" and recorded is None:
        raise NoRecording(case.case_id)
    if recorded is not None and config.request_source != "rendered":
        source: RequestSource = "recorded"
        request = recorded
    else:
        source = "rendered"
        # The model production used, unless the change under test is the model.
        model = config.model or case.original_model or config.default_model
        request = prompt.render(case, model=model, temperature=config.temperature)
    updates: dict[str, object] = {}
    if config.model is not None:
        updates["model"] = config.model
    elif request.model is None:
        updates["model"] = config.default_model
    if config.temperature is not None:
        updates["temperature"] = config.temperature
    if config.system_prompt is not None:
        updates["messages"] = _replace_system(request.messages, config.system_prompt)
    if updates:
        request = request.model_copy(update=updates)
    return PlannedRequest(source, request)


def _replace_system(messages: list[ChatMessage], text: str) -> list[ChatMessage]:
    """Replace the first system message, or put one first when there is none."""
    replaced = ChatMessage(role="system", content=text)
    for index, message in enumerate(messages):
        if message.role == "system":
            return [*messages[:index], replaced, *messages[index + 1 :]]
    return [replaced, *messages]


def request_hash(request: ChatRequest) -> str:
    """SHA-256 of the request's canonical JSON: equal requests, equal hashes."""
    body = orjson.dumps(request.to_api(), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()


class Prepared(NamedTuple):
    """A request ready to go: what was planned, its wire body, and its response cache key."""

    planned: PlannedRequest
    body: dict[str, Any]
    key: str


class OpenAIPipeline:
    """The built-in pipeline: one chat-completions call per attempt, SDK retries off."""

    name = "openai"
    malformed: ErrorClass = "model_error"

    def __init__(
        self,
        client: AsyncOpenAI,
        config: RequestConfig,
        cache: ResponseCache | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self._client = client
        self._config = config
        self._cache = cache
        self._pacer = pacer

    async def admit(self, case: CaseInput) -> None:
        """Wait for the pacer's turn before an attempt's deadline starts to run.

        Costs nothing while the endpoint states no limit and no 429 holds the run; the request
        is planned here only when a token limit needs its size.
        """
        pacer = self._pacer
        if pacer is None or not pacer.pacing:
            return
        tokens = 0
        if pacer.limits[1] is not None:
            try:
                tokens = request_tokens(plan_request(case, self._config).request.to_api())
            except NoRecording:
                return  # the attempt fails at once, without a request
        await pacer.admit(tokens)

    async def prepare(self, case: CaseInput) -> Prepared | Outcome:
        """The request to send for `case`, or its answer when the response cache has it.

        Raises:
            AttemptFailed: `pipeline_error`, the case has no recording to re-send.
        """
        try:
            planned = plan_request(case, self._config)
        except NoRecording:
            raise AttemptFailed(
                "pipeline_error",
                "--request-source recorded, but this case has no recorded request",
                retryable=False,
            ) from None
        body = {**planned.request.to_api(), "stream": False}
        key = ""
        if self._cache is not None:
            key = self._cache.key(body)
            stored = await self._cache.recall(key)
            if stored is not None:
                return _recalled(stored, planned)
        return Prepared(planned, body, key)

    async def answered(self, prepared: Prepared, body: Any) -> Outcome:
        """The outcome of a chat completion answered elsewhere (a Batch API output line).

        Raises:
            AttemptFailed: `model_error`, the body is not a chat completion.
        """
        from openai.types.chat import ChatCompletion

        try:
            response = ChatCompletion.model_validate(body)
        except ValidationError as exc:
            raise AttemptFailed(
                "model_error",
                f"the model endpoint sent a malformed response ({_first_field(exc)})",
                retryable=False,
            ) from None
        outcome = _outcome(response, prepared.planned)
        outcome.metadata["via"] = "batch"
        if self._cache is not None:
            await self._cache.keep(prepared.key, outcome)
        return outcome

    async def draft(self, case: CaseInput) -> Outcome:
        """Send the planned request once and return the draft, or raise a classified failure."""
        prepared = await self.prepare(case)
        if isinstance(prepared, Outcome):
            return prepared
        planned, body, key = prepared
        cache = self._cache
        import openai  # on first use: commands that never call a model start faster
        from openai.types.chat import ChatCompletion

        try:
            # The body is already a validated chat request, so it goes out as is: the SDK's
            # documented `post` skips re-walking every message against its TypedDicts, which
            # costs more CPU per request than the rest of the harness together. The raw
            # response keeps the headers, where the endpoint states its rate limits.
            raw = await self._client.post(
                "/chat/completions", cast_to=openai.AsyncAPIResponse[ChatCompletion], body=body
            )
            if self._pacer is not None:
                self._pacer.observe(raw.headers)
            response = await raw.parse()
        except (openai.OpenAIError, ValueError, TypeError) as exc:
            # A body that is not JSON surfaces as a ValueError or TypeError from the SDK.
            if isinstance(exc, openai.RateLimitError) and self._pacer is not None:
                self._pacer.throttled(exc.response.headers)
            raise sdk_failure(exc) from None
        outcome = _outcome(response, planned)
        if cache is not None:
            await cache.keep(key, outcome)
        return outcome

    async def aclose(self) -> None:
        """Close the HTTP connections of the client."""
        await self._client.close()


def _outcome(response: Any, planned: PlannedRequest) -> Outcome:
    """The draft of a response; a body of the wrong shape is a `model_error`, never a crash.

    The SDK builds its response objects without validating them, so any field may hold
    anything the server sent: a negative token count, a number as text, no message at all.
    """
    choices = getattr(response, "choices", None)
    if not choices:
        raise AttemptFailed(
            "model_error", "the model endpoint sent a response without choices", retryable=False
        )
    try:
        choice = choices[0]
        usage = None
        if getattr(response, "usage", None) is not None:
            usage = reported_usage(response.usage, "model")
        return Outcome(
            text=choice.message.content or "",
            model=response.model,
            finish_reason=choice.finish_reason,
            usage=usage,
            request_hash=request_hash(planned.request),
            metadata={"request_source": planned.source, "request_model": planned.request.model},
        )
    except (ValidationError, AttributeError, TypeError, IndexError) as exc:
        where = _first_field(exc)
        raise AttemptFailed(
            "model_error",
            f"the model endpoint sent a malformed response ({where})",
            retryable=False,
        ) from None


def _recalled(stored: StoredAnswer, planned: PlannedRequest) -> Outcome:
    """The outcome of an answer read from the response cache, as `_outcome` made it then."""
    return Outcome(
        text=stored.text,
        model=stored.model,
        finish_reason=stored.finish_reason,
        usage=stored.usage,
        request_hash=request_hash(planned.request),
        metadata={"request_source": planned.source, "request_model": planned.request.model},
        cached=True,
    )


def _first_field(exc: Exception) -> str:
    """Which part of the response was malformed, in words we write."""
    if isinstance(exc, ValidationError):
        location = ".".join(str(part) for part in exc.errors()[0]["loc"])
        return f"{location}: {exc.errors()[0]['type']}"
    return "no message in its first choice"
