"""The `openai` pipeline's response cache: which answers are kept, and one read back.

`--cache read-write` answers a request seen before from `<artifacts dir>/response-cache`
without calling the model and keeps each new answer; `read` uses what is there and keeps
nothing; `off` (the default) does neither. The key is the endpoint and the exact body sent
(`artifacts.cache.request_key`), so any change to the request (model, messages, temperature,
a system prompt) is a miss. Only an answer the run keeps exactly as it came is stored: it
passed the pipeline's validation and the runner's admission (`answers.admitted`) with nothing
to repair, so a hit is never an error, and never repaired text passed off as what was sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio
from pydantic import ValidationError

from replay.artifacts import cache
from replay.artifacts.cache import Store, request_key
from replay.config.models import CacheMode, RunConfig
from replay.errors import AttemptFailed
from replay.models import Outcome, Strict, Usage
from replay.run.answers import admitted


class StoredAnswer(Strict):
    """What an entry of the response cache holds: all an `Outcome` needs of the answer."""

    text: str
    """The draft, as the model sent it."""
    model: str | None = None
    """The model the endpoint said answered."""
    finish_reason: str | None = None
    """Why the model stopped, as it said."""
    usage: Usage | None = None
    """The tokens the answer was paid for: what a hit saves, priced at today's prices."""


@dataclass(frozen=True)
class ResponseCache:
    """A store of answers, the endpoint they came from, and whether new ones are kept."""

    store: Store
    base_url: str
    """Part of the key: the same request to another endpoint is another answer."""
    writes: bool
    """`read-write`: keep each new answer; `read`: never write."""
    max_chars: int
    """`--max-answer-chars`: an answer the runner would refuse is not kept."""

    def key(self, body: dict[str, Any]) -> str:
        """The entry of the exact body sent (never a header, so never the API key)."""
        return request_key(self.base_url, body)

    async def recall(self, key: str) -> StoredAnswer | None:
        """The stored answer; None on a miss (absent, unreadable or of another shape)."""
        data = await anyio.to_thread.run_sync(self.store.get, key)
        if data is None:
            return None
        try:
            return StoredAnswer.model_validate(data)
        except ValidationError:
            return None

    async def keep(self, key: str, outcome: Outcome) -> None:
        """Store an answer the run keeps as it came; with `read`, or any other answer, nothing."""
        if not self.writes:
            return
        try:
            kept = admitted(outcome, max_chars=self.max_chars, error_class="model_error")
        except AttemptFailed:
            return  # the runner makes this an error: a cache holds answers only
        if kept is not outcome:
            return  # repaired text is not what the model sent
        entry = StoredAnswer(
            text=outcome.text,
            model=outcome.model,
            finish_reason=outcome.finish_reason,
            usage=outcome.usage,
        )
        await anyio.to_thread.run_sync(self.store.put, key, entry.model_dump(mode="json"))


def for_run(config: RunConfig, base_url: str, mode: CacheMode) -> ResponseCache | None:
    """A pipeline's response cache under the run's artifact directory; None when `off`.

    `mode` is the run's `--cache` for the candidate, and read-write for a control arm.
    """
    if mode == "off":
        return None
    return ResponseCache(
        store=Store(
            config.artifacts_dir / cache.RESPONSES, max_bytes=config.cache.max_mb * cache.MB
        ),
        base_url=base_url,
        writes=mode == "read-write",
        max_chars=config.live.max_answer_chars,
    )
