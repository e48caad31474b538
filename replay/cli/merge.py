"""`replay merge`: one run artifact, and one gate, from the parts of a `--shard i/n` run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from replay.artifacts import store
from replay.cli.flags import SummaryMd, option
from replay.config import inputs
from replay.ops import merge
from replay.report import text


def merge_command(
    parts: Annotated[
        list[Path],
        typer.Argument(metavar="PART.json", help="Every part's run artifact, in any order."),
    ],
    out: Annotated[
        Path | None,
        option("--out", metavar="FILE", help="Merged artifact path. [default: beside the parts]"),
    ] = None,
    summary_md: SummaryMd = None,
) -> int:
    """Merge the artifacts of every `--shard i/n` part of one run, and gate on the whole."""
    markdown_path = inputs.writable_file("--summary-md", summary_md) if summary_md else None
    merged = merge.merge(parts, out)
    artifact = merged.artifact
    if artifact.summary is not None:
        print(text.summary_text(artifact.summary, artifact.gate))
        if markdown_path is not None:
            markdown = text.summary_markdown(
                run_id=artifact.run_id,
                client_id=artifact.selection.client_id if artifact.selection else "",
                mode=artifact.mode,
                summary=artifact.summary,
                gate=artifact.gate,
            )
            store.write_text(markdown_path, markdown)
    print(f"artifact: {merged.path}")
    for warning in merged.warnings:
        print(f"replay: warning: {warning}", file=sys.stderr)
    if merged.exit_code and merged.message:
        print(f"replay: {merged.message}", file=sys.stderr)
    return merged.exit_code
