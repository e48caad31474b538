"""The built-in `openai` pipeline: which request it sends for a case."""

from __future__ import annotations

import hashlib
from typing import NamedTuple

import orjson

from replay.config import RequestConfig
from replay.models import CaseInput, ChatMessage, ChatRequest, RequestSource
from replay.pipelines import prompt


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
        request = prompt.render(
            case, model=config.model or config.default_model, temperature=config.temperature
        )
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
