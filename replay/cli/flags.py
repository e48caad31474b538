"""Options that several commands share, and the command class that names a bad value's source.

Every option carries its real type. Its value, from the flag or from its `REPLAY_*` variable, is
checked by the rule of its setting (`config.rules`), the same rule `replay.toml` is checked by;
a rejected value is reported naming where it came from: ``REPLAY_LIMIT must be a positive
integer, got '0'`` when the variable set it, ``--limit …`` when the flag did.

Defaults are written into the help text from `config.defaults`, never read from the
environment (that would print a DSN).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from typer.core import TyperCommand

from replay.cli import help as help_text
from replay.config import defaults, rules
from replay.errors import UsageError


class Command(TyperCommand):
    """A command whose option values are checked by `config.rules`, errors naming the source."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's Context
        """Parse as typer does; a value a rule rejected becomes a usage error naming its source."""
        try:
            return super().parse_args(ctx, args)
        except rules.Rejected as exc:
            raise UsageError(exc.message(_failing_source(self, ctx))) from None

    def format_options(self, ctx: Any, formatter: Any) -> None:
        """Options grouped into panels (selection, pipeline, runner, judge, gate, …)."""
        help_text.format_options(self, ctx, formatter)


def _failing_source(command: TyperCommand, ctx: Any) -> str:
    """The flag or variable of the option being converted when a rule rejected its value.

    Options are converted in order, each recorded with where its value came from before the
    conversion and added to `ctx.params` after it: the one with a source and no value yet is
    the one that failed.
    """
    for param in command.params:
        source = ctx.get_parameter_source(param.name) if param.name else None
        if source is not None and param.name not in ctx.params:
            if source.name == "ENVIRONMENT" and isinstance(param.envvar, str):
                return param.envvar
            return str(param.opts[0])
    return "a flag"


def option(
    *names: str,
    help: str,  # noqa: A002 - typer's own name for it
    rule: Callable[[object], Any] | None = None,
    env: str | None = None,
    metavar: str | None = None,
) -> Any:
    """A typed option: `rule` converts and checks its text; `env` is its variable, if any."""
    return typer.Option(
        *names,
        parser=rule,
        envvar=env,
        metavar=metavar,
        help=help,
        show_default=False,
    )


# Options of the commands that read the database.
DatabaseUrl = Annotated[
    str | None,
    option(
        "--database-url",
        rule=rules.database_url,
        env="DATABASE_URL",
        metavar="URL",
        help="Postgres URL of the source database (opened read-only).",
    ),
]
SourceSql = Annotated[
    Path | None,
    option(
        "--source-sql",
        env="REPLAY_SOURCE_SQL",
        metavar="FILE",
        help="Case view: a SELECT for your schema.",
    ),
]
ThreadSql = Annotated[
    Path | None,
    option(
        "--thread-sql",
        env="REPLAY_THREAD_SQL",
        metavar="FILE",
        help="Thread view: a SELECT for your schema.",
    ),
]
ConfigFile = Annotated[
    Path | None,
    option(
        "--config",
        rule=rules.toml_file,
        env="REPLAY_CONFIG",
        metavar="FILE",
        help="Config file. [default: ./replay.toml]",
    ),
]
ArtifactsDir = Annotated[
    Path | None,
    option(
        "--artifacts-dir",
        env="REPLAY_ARTIFACTS_DIR",
        metavar="DIR",
        help=f"Where artifacts go. [default: {defaults.ARTIFACTS_DIR}]",
    ),
]
ClientFilter = Annotated[
    str | None,
    option(
        "--client-id",
        rule=rules.client_id,
        env="REPLAY_CLIENT_ID",
        metavar="ID",
        help="Also check this client exists.",
    ),
]


# Gate and judge options, the same on `run`, `compare` and `rejudge`.
NoGate = Annotated[
    bool,
    typer.Option(
        "--no-gate", envvar="REPLAY_NO_GATE", help="Report the gate's rules without failing."
    ),
]
JudgeBaseUrl = Annotated[
    str | None,
    option(
        "--judge-base-url",
        rule=rules.http_url,
        env="REPLAY_JUDGE_BASE_URL",
        metavar="URL",
        help="The judge's endpoint; its key is REPLAY_JUDGE_API_KEY. [default: the pipeline's]",
    ),
]
JudgeConcurrency = Annotated[
    int | None,
    option(
        "--judge-concurrency",
        rule=rules.count,
        env="REPLAY_JUDGE_CONCURRENCY",
        metavar="N",
        help="Judge requests in flight. [default: 4]",
    ),
]
JudgeRetries = Annotated[
    int | None,
    option(
        "--judge-retries",
        rule=rules.whole,
        env="REPLAY_JUDGE_RETRIES",
        metavar="N",
        help="Retries of a failed judge request. [default: 3]",
    ),
]
NoJudgeCache = Annotated[
    bool, typer.Option("--no-judge-cache", help="Ask the judge even when the answer is cached.")
]
GateOnStats = Annotated[
    bool,
    typer.Option(
        "--gate-on-stats",
        envvar="REPLAY_GATE_ON_STATS",
        help="Against a baseline: fail on quality only when the paired interval shows it worse.",
    ),
]
MaxErrorRate = Annotated[
    float | None,
    option(
        "--max-error-rate",
        rule=rules.rate,
        env="REPLAY_MAX_ERROR_RATE",
        metavar="R",
        help="Gate: errors / cases run, 0 to 1. [default: 0.1]",
    ),
]
MaxInvalidRate = Annotated[
    float | None,
    option(
        "--max-invalid-rate",
        rule=rules.rate,
        env="REPLAY_MAX_INVALID_RATE",
        metavar="R",
        help="Gate: invalid cases / cases selected, 0 to 1. [default: 0.2]",
    ),
]
MinEvidence = Annotated[
    float | None,
    option(
        "--min-evidence",
        rule=rules.rate,
        env="REPLAY_MIN_EVIDENCE",
        metavar="R",
        help="Gate: cases with a comparable verdict / cases selected, 0 to 1. [default: 0.8]",
    ),
]
SummaryMd = Annotated[
    Path | None,
    option(
        "--summary-md",
        env="REPLAY_SUMMARY_MD",
        metavar="FILE",
        help="Also write the summary as Markdown (CI, PRs).",
    ),
]


# The control arm of `replay run`: production's set-up replayed beside the candidate.
Control = Annotated[
    bool,
    typer.Option(
        "--control",
        envvar="REPLAY_CONTROL",
        help="Replay production's set-up beside the candidate, to tell drift from the change.",
    ),
]
ControlModel = Annotated[
    str | None,
    option(
        "--control-model",
        rule=rules.text,
        env="REPLAY_CONTROL_MODEL",
        metavar="NAME",
        help="The control's model. [default: the recorded model]",
    ),
]
ControlPipeline = Annotated[
    str | None,
    option(
        "--control-pipeline",
        rule=rules.pipeline,
        env="REPLAY_CONTROL_PIPELINE",
        metavar="SPEC",
        help="The control's pipeline. [default: openai]",
    ),
]
ControlRequestSource = Annotated[
    str | None,
    option(
        "--control-request-source",
        rule=rules.choice("auto", "recorded", "rendered"),
        env="REPLAY_CONTROL_REQUEST_SOURCE",
        metavar="SOURCE",
        help="auto, recorded or rendered. [default: auto: the recording, if any]",
    ),
]
ControlSystemPromptFile = Annotated[
    Path | None,
    option(
        "--control-system-prompt-file",
        env="REPLAY_CONTROL_SYSTEM_PROMPT_FILE",
        metavar="FILE",
        help="Replaces the control's first system message.",
    ),
]

# The pacing and Batch API flags of `replay run`.
Pacing = Annotated[
    Literal["on", "off"] | None,
    option(
        "--pacing",
        rule=rules.pacing_mode,
        env="REPLAY_PACING",
        metavar="on|off",
        help="Space request starts under the rate limits the endpoint states (x-ratelimit-*) "
        "and --rpm/--tpm, holding the whole run on a 429. [default: on]",
    ),
]
Rpm = Annotated[
    int | None,
    option(
        "--rpm",
        rule=rules.count,
        env="REPLAY_RPM",
        metavar="N",
        help="Requests per minute to stay under, where the endpoint does not say.",
    ),
]
Tpm = Annotated[
    int | None,
    option(
        "--tpm",
        rule=rules.count,
        env="REPLAY_TPM",
        metavar="N",
        help="Tokens per minute to stay under (input / 4 plus max_tokens per request).",
    ),
]
Via = Annotated[
    Literal["live", "batch"] | None,
    option(
        "--via",
        rule=rules.via,
        env="REPLAY_VIA",
        metavar="live|batch",
        help="batch submits the openai pipeline's requests through the provider's Batch API: "
        "half price, answered within --batch-window. [default: live]",
    ),
]
BatchWindow = Annotated[
    str | None,
    option(
        "--batch-window",
        rule=rules.completion_window,
        env="REPLAY_BATCH_WINDOW",
        metavar="HOURS",
        help=f"Completion window of --via batch. [default: {defaults.BATCH_WINDOW}]",
    ),
]
JudgeVia = Annotated[
    Literal["live", "batch"] | None,
    option(
        "--judge-via",
        rule=rules.via,
        env="REPLAY_JUDGE_VIA",
        metavar="live|batch",
        help="batch sends the judge's requests through the Batch API too (with --via batch). "
        "[default: live]",
    ),
]
