"""`replay batch-status`: a `--via batch` run's submissions as the provider sees them now."""

from __future__ import annotations

from pathlib import Path

import anyio

from replay.config import defaults
from replay.config.models import ModelEndpoint
from replay.errors import UsageError
from replay.models import BatchRef
from replay.run import app, batch, resume


async def batch_status(path: Path, endpoint: ModelEndpoint) -> list[BatchRef]:
    """`replay batch-status RUN`: the run's Batch API submissions as the provider sees them now.

    Raises:
        UsageError: not a run, a run without submissions, or no API key.
        BlockedError: the provider does not answer about a batch.
    """
    refs = resume.batches_of(path, f"replay batch-status {str(path)!r}")
    if not refs:
        raise UsageError(
            f"{str(path)!r} has no Batch API submission; expected a run made with --via batch"
        )
    if endpoint.api_key is None:
        raise UsageError("batch-status asks the provider: set OPENAI_API_KEY")
    client = app.model_client(endpoint, defaults.REQUEST_TIMEOUT_S)
    try:
        return await batch.look(client, refs)
    finally:
        with anyio.CancelScope(shield=True):
            await client.close()
