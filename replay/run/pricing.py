"""Token and cost estimates for a dry run: characters / 4, no tokenizer download."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from replay.config.defaults import CHARS_PER_TOKEN, DEFAULT_OUTPUT_TOKENS
from replay.config.models import Price
from replay.models import ChatRequest


class Estimate(NamedTuple):
    """Estimated size and cost of one request."""

    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    """None when the model has no price."""


def estimate(
    request: ChatRequest, original_draft: str | None, prices: Mapping[str, Price]
) -> Estimate:
    """Estimate a request's tokens and cost.

    The output is estimated from the original draft (what this prompt produced last time),
    capped by max_tokens; without a draft, max_tokens or a default.
    """
    chars = sum(_content_chars(message.content) for message in request.messages)
    input_tokens = tokens(chars)
    if original_draft:
        output_tokens = tokens(len(original_draft))
        if request.max_tokens is not None:
            output_tokens = min(output_tokens, request.max_tokens)
    else:
        output_tokens = request.max_tokens or DEFAULT_OUTPUT_TOKENS
    return Estimate(
        input_tokens, output_tokens, cost(request.model, input_tokens, output_tokens, prices)
    )


def tokens(chars: int) -> int:
    """Characters / 4, rounded up: a cheap, tokenizer-free estimate."""
    return -(-chars // CHARS_PER_TOKEN)


def cost(
    model: str | None, input_tokens: int, output_tokens: int, prices: Mapping[str, Price]
) -> float | None:
    """USD for the given tokens, or None when the model has no price."""
    price = price_of(model, prices)
    if price is None:
        return None
    return (input_tokens * price.input + output_tokens * price.output) / 1_000_000


def _content_chars(content: str | list[dict[str, object]]) -> int:
    if isinstance(content, str):
        return len(content)
    return sum(len(str(part.get("text", ""))) for part in content)


def price_of(model: str | None, prices: Mapping[str, Price]) -> Price | None:
    """The price of `model`; a dated snapshot (`gpt-4o-mini-2024-07-18`) takes its family's."""
    if not model:
        return None
    if model in prices:
        return prices[model]
    family = max((name for name in prices if model.startswith(name + "-")), key=len, default=None)
    return prices[family] if family is not None else None
