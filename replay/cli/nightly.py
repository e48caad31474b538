"""`replay nightly`: replay every configured client against its own latest earlier run."""

from __future__ import annotations

from typing import Annotated

import anyio
import typer

from replay.cli.flags import ArtifactsDir, ConfigFile, option
from replay.config import rules
from replay.config.file import load_toml
from replay.errors import UsageError
from replay.ops import nightly


def nightly_command(
    config: ConfigFile = None,
    refresh_manifests: Annotated[
        bool,
        typer.Option("--refresh-manifests", help="Select each client's last N jobs afresh."),
    ] = False,
    retention_days: Annotated[
        int | None,
        option(
            "--retention-days",
            rule=rules.count,
            env="REPLAY_RETENTION_DAYS",
            metavar="N",
            help="Afterwards delete artifacts older than N days (never a client's latest run).",
        ),
    ] = None,
    artifacts_dir: ArtifactsDir = None,
) -> int:
    """Replay every client of [nightly] in replay.toml against its own latest earlier run."""
    toml = load_toml(config)
    if not toml.config.nightly.clients:
        where = str(toml.path) if toml.path else "replay.toml"
        raise UsageError(f"{where} lists no [[nightly.clients]]; add one per client to replay")
    night = anyio.run(
        lambda: nightly.run(
            toml,
            refresh_manifests=refresh_manifests,
            retention_days=retention_days,
            artifacts_dir=artifacts_dir,
        )
    )
    print(nightly.text(night))
    print(f"summary: {night.summary}")
    return night.exit_code
