"""The case contract: what a case holds, what a pipeline sees of it, and what it returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, ValidationError

from replay.models.base import (
    Channel,
    Strict,
)

# --- the case contract -------------------------------------------------------------------------


class ChatMessage(Strict):
    """One message of a chat-completions request."""

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[dict[str, Any]]
    """Text, or a list of content parts as the chat-completions API accepts them."""
    name: str | None = None


class ChatRequest(Strict):
    """A chat-completions request, recorded by production or rendered by the tool."""

    messages: list[ChatMessage] = Field(min_length=1)
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
    """Every other request key, passed through to the API unchanged (`extra_body`)."""

    @classmethod
    def from_recorded(cls, data: Any) -> ChatRequest:
        """Build a request from a recorded chat-completions body.

        Known keys become fields; `stream` is dropped (replays never stream); every other key is
        kept in `extra`.

        Raises:
            ValueError: `data` is not a chat request (not an object, or no list of messages).
        """
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        if not isinstance(data.get("messages"), list) or not data["messages"]:
            raise ValueError("expected an object with a non-empty 'messages' list")
        known = {"messages", "model", "temperature", "max_tokens", "stream"}
        extra = {key: value for key, value in data.items() if key not in known}
        try:
            return cls(
                messages=data["messages"],
                model=data.get("model"),
                temperature=data.get("temperature"),
                max_tokens=data.get("max_tokens"),
                extra=extra,
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ValueError(f"{where}: {first['msg']}") from None

    def to_api(self) -> dict[str, Any]:
        """Return the request body as the chat-completions API takes it."""
        body: dict[str, Any] = {
            "messages": [message.model_dump(exclude_none=True) for message in self.messages],
        }
        for key in ("model", "temperature", "max_tokens"):
            value = getattr(self, key)
            if value is not None:
                body[key] = value
        return {**self.extra, **body}


class InboundMessage(Strict):
    """The message that triggered the draft job."""

    id: str
    subject: str | None = None
    body: str
    sent_at: datetime


class ThreadMessage(Strict):
    """A message of the conversation strictly before the inbound message."""

    message_id: str
    direction: Literal["inbound", "outbound"]
    channel: str
    subject: str | None = None
    body: str | None = None
    sent_at: datetime


class CaseInput(Strict):
    """What production had when it drafted: all a pipeline may see (never the answers)."""

    case_id: str
    client_id: str
    lead_id: str
    channel: Channel
    job_created_at: datetime
    inbound: InboundMessage
    thread: list[ThreadMessage] = Field(default_factory=list)
    """Newest messages before the inbound's own time, oldest first (point-in-time)."""
    lead: dict[str, Any] = Field(default_factory=dict)
    """The lead as it is today (`context_as_of: current`)."""
    client_settings: dict[str, Any] = Field(default_factory=dict)
    """The client's settings as they are today (`context_as_of: current`)."""
    original_request: ChatRequest | None = None
    """The exact request production sent, when it was recorded."""
    original_model: str | None = None
    """The model production drafted with: a rendered request keeps it unless `--model` is given."""
    tags: list[str] = Field(default_factory=list)


class Original(Strict):
    """What happened in production: used for comparing, never shown to a pipeline."""

    draft: str | None = None
    model: str | None = None
    prompt_version: str | None = None
    disposition: Literal["sent_as_is", "edited", "rejected"] | None = None
    sent_reply: str | None = None
    """The reply a human actually sent, when there was one."""
    job_status: str | None = None


class Case(Strict):
    """One historical draft job: its input and what production did with it."""

    input: CaseInput
    original: Original


class InvalidCase(Strict):
    """A row that failed validation; it becomes an `invalid_case` result."""

    case_id: str
    column: str
    """The case-view column that was wrong."""
    reason: str


# --- what pipelines return -----------------------------------------------------------------------


class Usage(Strict):
    """Token counts reported by the model."""

    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)


class Outcome(Strict):
    """A pipeline's answer for one case."""

    text: str
    model: str | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    request_hash: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    cached: bool = False
    """Read from the response cache (`--cache`): no request reached the model, and `usage` is
    what the stored answer reported when it was paid for."""
