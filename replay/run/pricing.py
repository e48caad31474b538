"""Token and cost estimates: characters / 4, no tokenizer download; prices from `genai-prices`.

A model's price is its `[prices."MODEL"]` entry when replay.toml has one, else the one the
`genai-prices` package ships. Only the data bundled in the installed package is read, never its
auto-update, so pricing works offline and a run's costs change only when the package does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from replay.config.defaults import CHARS_PER_TOKEN, DEFAULT_OUTPUT_TOKENS
from replay.config.models import Price, RunConfig
from replay.errors import UsageError
from replay.models import ChatRequest

if TYPE_CHECKING:
    from genai_prices.data_snapshot import DataSnapshot
    from genai_prices.types import TieredPrices


class Estimate(NamedTuple):
    """Estimated size and cost of one request."""

    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    """None when the model has no price."""


BATCH_DISCOUNT = 0.5
"""Share of the list price a Batch API request costs where `[prices]` gives no batch price:
OpenAI's documented discount."""


def estimate(
    request: ChatRequest,
    original_draft: str | None,
    prices: Mapping[str, Price],
    *,
    batch: bool = False,
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
        input_tokens,
        output_tokens,
        cost(request.model, input_tokens, output_tokens, prices, batch=batch),
    )


def tokens(chars: int) -> int:
    """Characters / 4, rounded up: a cheap, tokenizer-free estimate."""
    return -(-chars // CHARS_PER_TOKEN)


def cost(
    model: str | None,
    input_tokens: int,
    output_tokens: int,
    prices: Mapping[str, Price],
    *,
    batch: bool = False,
) -> float | None:
    """USD for the given tokens, or None when the model has no price.

    With `batch`, at the model's batch prices: its `batch_input`/`batch_output`, else half the
    list price.
    """
    price = price_of(model, prices)
    if price is None:
        return None
    rates = (price.input, price.output)
    if batch:
        rates = (
            price.batch_input if price.batch_input is not None else price.input * BATCH_DISCOUNT,
            price.batch_output if price.batch_output is not None else price.output * BATCH_DISCOUNT,
        )
    return (input_tokens * rates[0] + output_tokens * rates[1]) / 1_000_000


def _content_chars(content: str | list[dict[str, object]]) -> int:
    if isinstance(content, str):
        return len(content)
    return sum(len(str(part.get("text", ""))) for part in content)


def price_of(model: str | None, prices: Mapping[str, Price]) -> Price | None:
    """The price of `model`: its `prices` entry, else the bundled `genai-prices` one, else None.

    `model` is the name as sent or answered: a dated snapshot (`gpt-4o-2024-08-06`) or a
    provider prefix (`openai/gpt-4o`) is resolved to its model by `genai-prices`, and an entry
    of `prices` for that model, or else for its family (`gpt-4o` for `gpt-4o-2024-05-13`,
    `replay-original` for `replay-original-2`), wins over the package. Else the package's
    price, else none: an unknown price is None, never zero.
    """
    if not model:
        return None
    provider, _, bare = model.rpartition("/")
    names = (model, bare) if provider else (model,)
    for name in names:
        if name in prices:
            return prices[name]
    known = _bundled(model)
    if known is not None and known[0] in prices:
        return prices[known[0]]
    # A team's price for a family (`gpt-4o`) covers its snapshots (`gpt-4o-2024-05-13`) before
    # the package's: the override says what this team pays.
    for name in names:
        family = max((key for key in prices if _snapshot_of(name, key)), key=len, default=None)
        if family is not None:
            return prices[family]
    return known[1] if known is not None else None


def _snapshot_of(name: str, family: str) -> bool:
    """`name` is `family` plus a version (`-2024-05-13`, `-2`), not another model (`-mini`)."""
    return name.startswith(family + "-") and name[len(family) + 1 :].replace("-", "").isdigit()


@cache
def _bundled(model: str) -> tuple[str, Price | None] | None:
    """The model id `genai-prices` knows `model` as, and its price per 1M tokens now.

    None when the package knows no such model; a price of None when it knows the model but not
    both of its token prices (an audio model). A price that rises past a number of input tokens
    is taken at its base rate: the tiers start far above a reply's prompt.
    """
    snapshot = _snapshot()
    provider, _, bare = model.rpartition("/")
    # As written, then with a `provider/` prefix taken as the provider (`openai/gpt-4o`).
    attempts = [(model, None)] + ([(bare, provider)] if provider and bare else [])
    for name, provider_id in attempts:
        try:
            _, info = snapshot.find_provider_model(name, None, provider_id, None)
        except LookupError:
            continue
        found = info.get_prices(datetime.now(tz=UTC))
        rates = (found.input_mtok, found.output_mtok)
        if rates[0] is None or rates[1] is None:
            return info.id, None
        return info.id, Price(input=_per_mtok(rates[0]), output=_per_mtok(rates[1]))
    return None


def _per_mtok(rate: Decimal | TieredPrices) -> float:
    return float(rate if isinstance(rate, Decimal) else rate.base)


@cache
def _snapshot() -> DataSnapshot:
    """The price data bundled in the package, read once: never the package's auto-update."""
    from genai_prices.data import providers  # on first use: a large table, only runs need it
    from genai_prices.data_snapshot import DataSnapshot

    return DataSnapshot(providers=providers, from_auto_update=False)


def require_for_budget(config: RunConfig) -> None:
    """`--max-cost` can bind only when every model it pays for has a price.

    Raises:
        UsageError: the model or the judge model has no price (exit 2, before anything runs).
    """
    if config.live.max_cost_usd is None or config.dry_run:
        return
    request, prices = config.request, config.prices
    model = request.model or request.default_model
    if request.pipeline == "openai" and price_of(model, prices) is None:
        raise UsageError(
            f"--max-cost needs a price for model {model!r}; add "
            f'[prices."{model}"] input = …, output = … (USD per 1M tokens) to replay.toml'
        )
    if config.judge is not None and price_of(config.judge.model, prices) is None:
        name = config.judge.model
        raise UsageError(
            f"--max-cost needs a price for the judge model {name!r}; add "
            f'[prices."{name}"] input = …, output = … (USD per 1M tokens) to replay.toml'
        )
