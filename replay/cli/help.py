"""Help that reads: options grouped into panels, commands into user and developer ones.

The panels are kept here, by flag, rather than on each option: one place shows how `run`'s
options are organised, and a test holds every option of every command to a panel and a help
text. Plain text (no rich markup), so `--help` reads the same in a terminal, a CI log or a pipe.
"""

from __future__ import annotations

from typing import Any

PANELS: dict[str, tuple[str, ...]] = {
    "Selection": (
        "--client-id", "--limit", "--channel", "--from", "--to", "--status", "--case-ids",
        "--manifest", "--thread-limit", "--allow-empty", "--since", "--until", "--window",
        "--canary", "--stage", "--shard",
    ),
    "Pipeline": (
        "--pipeline", "--request-source", "--model", "--temperature", "--system-prompt-file",
        "--control", "--control-model", "--control-pipeline", "--control-request-source",
        "--control-system-prompt-file",
    ),
    "Runner": (
        "--dry-run", "--concurrency", "--retries", "--request-timeout", "--case-timeout",
        "--max-cost", "--max-answer-chars", "--cache", "--cache-max-mb", "--repeats", "--resume",
        "--retry-errors", "--pacing", "--rpm", "--tpm", "--via", "--batch-window",
    ),
    "Judge": (
        "--judge-model", "--judge-base-url", "--judge-concurrency", "--judge-retries",
        "--no-judge-cache", "--rejudge", "--judge-via", "--set", "--generated",
    ),
    "Gate": (
        "--no-gate", "--max-error-rate", "--max-invalid-rate", "--min-evidence", "--baseline",
        "--gate-on-stats", "--p95-limit", "--min-jobs",
    ),
    "Source": (
        "--database-url", "--source-sql", "--thread-sql", "--jobs-sql", "--dispatch-sql",
        "--drafts-sql", "--config",
    ),
    "Output": (
        "--out", "--format", "--quiet", "--summary-md", "--junit", "--no-report",
        "--write-manifest", "--show-sql", "--artifacts-dir", "--last", "--refresh-manifests",
        "--retention-days",
    ),
}  # fmt: skip
"""Each panel's flags, panels in the order `--help` shows them; the rest go under Options."""

_PANEL_OF = {flag: panel for panel, flags in PANELS.items() for flag in flags}

DEVELOPER_COMMANDS = ("fixtures", "stub-model")
"""Commands for the demo, tests and bench: listed apart from the ones a team runs."""


def panel_of(param: Any) -> str:
    """The panel an option belongs to, by its first flag; `Options` when none names it."""
    opts = getattr(param, "opts", None) or [""]
    return _PANEL_OF.get(str(opts[0]), "Options")


def format_options(command: Any, ctx: Any, formatter: Any) -> None:
    """Write a command's arguments, then its options panel by panel in `PANELS` order."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        panel = "Arguments" if param.param_type_name == "argument" else panel_of(param)
        grouped.setdefault(panel, []).append(record)
    for panel in ["Arguments", *PANELS, "Options"]:
        if panel in grouped:
            with formatter.section(panel):
                formatter.write_dl(grouped[panel])


def format_commands(group: Any, ctx: Any, formatter: Any) -> None:
    """Write the commands a team runs, then the developer ones, each with its one-line help."""
    listed = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is not None and not command.hidden:
            listed.append((name, command.get_short_help_str(limit=80)))
    for title, names in (
        ("Commands", [item for item in listed if item[0] not in DEVELOPER_COMMANDS]),
        ("Developer tools", [item for item in listed if item[0] in DEVELOPER_COMMANDS]),
    ):
        if names:
            with formatter.section(title):
                formatter.write_dl(names)
