"""`replay nightly`: replay every configured client against its own latest earlier run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import anyio
import typer

from replay.cli.flags import ArtifactsDir, ConfigFile
from replay.config import settings
from replay.errors import UsageError
from replay.ops import nightly


def nightly_command(
    config: ConfigFile = None,
    refresh_manifests: Annotated[
        bool,
        typer.Option("--refresh-manifests", help="Select each client's last N jobs afresh."),
    ] = False,
    retention_days: Annotated[
        str | None,
        typer.Option(
            "--retention-days",
            metavar="N",
            help="Afterwards delete artifacts older than N days (never a client's latest run).",
        ),
    ] = None,
    artifacts_dir: ArtifactsDir = None,
) -> int:
    """Replay every client of [nightly] in replay.toml against its own latest earlier run."""
    toml = settings.load_toml(config)
    if not toml.config.nightly.clients:
        where = str(toml.path) if toml.path else "replay.toml"
        raise UsageError(f"{where} lists no [[nightly.clients]]; add one per client to replay")
    days = settings.positive_int("--retention-days", retention_days) if retention_days else None
    night = anyio.run(
        lambda: nightly.run(
            toml,
            refresh_manifests=refresh_manifests,
            retention_days=days,
            artifacts_dir=Path(artifacts_dir) if artifacts_dir else None,
        )
    )
    print(nightly.text(night))
    print(f"summary: {night.summary}")
    return night.exit_code
