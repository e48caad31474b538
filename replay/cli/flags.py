"""Options that several commands share, so each flag reads and behaves the same everywhere.

Defaults are written into the help text from `constants`, never read from the environment
(that would print a DSN).
"""

from __future__ import annotations

from typing import Annotated

import typer

from replay.config import defaults as constants

# Options of the commands that read the database.
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="DATABASE_URL",
        show_envvar=True,
        show_default=False,
        metavar="URL",
        help="Postgres URL of the source database (opened read-only).",
    ),
]
SourceSql = Annotated[
    str | None,
    typer.Option("--source-sql", metavar="FILE", help="Case view: a SELECT for your schema."),
]
ThreadSql = Annotated[
    str | None,
    typer.Option("--thread-sql", metavar="FILE", help="Thread view: a SELECT for your schema."),
]
ConfigFile = Annotated[
    str | None,
    typer.Option(
        "--config",
        envvar="REPLAY_CONFIG",
        metavar="FILE",
        help="Config file. [default: ./replay.toml]",
    ),
]
ArtifactsDir = Annotated[
    str | None,
    typer.Option(
        "--artifacts-dir",
        envvar="REPLAY_ARTIFACTS_DIR",
        metavar="DIR",
        help=f"Where artifacts go. [default: {constants.ARTIFACTS_DIR}]",
    ),
]


# Gate options, the same on `run` and `compare`.
NoGate = Annotated[bool, typer.Option("--no-gate", help="Report the gate's rules without failing.")]
JudgeBaseUrl = Annotated[
    str | None,
    typer.Option(
        "--judge-base-url",
        envvar="REPLAY_JUDGE_BASE_URL",
        metavar="URL",
        help="The judge's endpoint; its key is REPLAY_JUDGE_API_KEY. [default: the pipeline's]",
    ),
]
JudgeConcurrency = Annotated[
    str | None,
    typer.Option("--judge-concurrency", metavar="N", help="Judge requests in flight. [default: 4]"),
]
JudgeRetries = Annotated[
    str | None,
    typer.Option(
        "--judge-retries", metavar="N", help="Retries of a failed judge request. [default: 3]"
    ),
]
NoJudgeCache = Annotated[
    bool, typer.Option("--no-judge-cache", help="Ask the judge even when the answer is cached.")
]
GateOnStats = Annotated[
    bool,
    typer.Option(
        "--gate-on-stats",
        help="Against a baseline: fail on quality only when the paired interval shows it worse.",
    ),
]
MaxErrorRate = Annotated[
    str | None,
    typer.Option(
        "--max-error-rate", metavar="R", help="Gate: errors / cases run, 0 to 1. [default: 0.1]"
    ),
]
MaxInvalidRate = Annotated[
    str | None,
    typer.Option(
        "--max-invalid-rate",
        metavar="R",
        help="Gate: invalid cases / cases selected, 0 to 1. [default: 0.2]",
    ),
]
SummaryMd = Annotated[
    str | None,
    typer.Option(
        "--summary-md", metavar="FILE", help="Also write the summary as Markdown (CI, PRs)."
    ),
]
