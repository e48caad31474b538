"""`replay batch-status RUN`: where a `--via batch` run's submissions stand at the provider."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import anyio
import typer

from replay.config import resolve


def batch_status_command(
    run: Annotated[
        Path,
        typer.Argument(
            metavar="RUN",
            help="The run's artifact or its .partial.jsonl (a run still going, or killed).",
        ),
    ],
) -> int:
    """Show each Batch API submission of a --via batch run, as the provider reports it now."""
    from replay.ops import batches  # only this command asks the provider about batches

    refs = anyio.run(batches.batch_status, run, resolve.model_endpoint())
    total = answered = 0
    for ref in refs:
        lines = len(ref.custom_ids)
        total += lines
        answered += ref.completed or 0
        counts = (
            f"{ref.completed}/{lines} answered, {ref.failed or 0} failed"
            if ref.completed is not None
            else f"{lines} requests"
        )
        print(f"{ref.id or '(not created)'}  {ref.status or 'uploaded'}  {counts}")
    waiting = [ref for ref in refs if ref.status not in ("completed", "expired", "failed",
                                                          "cancelled")]  # fmt: skip
    state = f"{len(waiting)} still running" if waiting else "every batch has ended"
    print(f"{answered} of {total} requests answered; {state}")
    return 0
