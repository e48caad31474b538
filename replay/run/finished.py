"""How a command ended, for the CLI to say: its exit code, artifact, summary and warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from replay.errors import ExitCode
from replay.models import BaselineReport, Gate, PreflightEntry, RunStatus, Selection, Summary


@dataclass
class Finished:
    """What a command did, for the CLI to report. Filled once, when the command ends."""

    exit_code: ExitCode
    artifact: Path | None = None
    status: RunStatus | None = None
    summary: Summary | None = None
    selection: Selection | None = None
    preflight: list[PreflightEntry] = field(default_factory=list)
    message: str | None = None
    """One line explaining a non-zero exit."""
    sql: list[str] = field(default_factory=list)
    """Statements for `--show-sql`."""
    gate: Gate | None = None
    run_id: str | None = None
    mode: str | None = None
    baseline: BaselineReport | None = None
    record: dict[str, Any] | None = None
    """The artifact without its cases, as JSON data: what the history index reads."""
    report: Path | None = None
    """The HTML report written next to the artifact."""
    warnings: list[str] = field(default_factory=list)
    """Things that went wrong after the run without changing how it ended."""


async def git_sha() -> str | None:
    """The commit of the working directory, when it is a git checkout."""
    try:
        result = await anyio.run_process(["git", "rev-parse", "HEAD"], check=False)
    except OSError:
        return None
    sha = result.stdout.decode().strip()
    return sha if result.returncode == 0 and sha else None
