"""The `replay` command: parse, build a frozen config, call the app, print, exit.

The only module that exits; it and the command modules it registers are the only ones that
print. `replay --client-id X …` means `replay run --client-id X …`.
"""

from __future__ import annotations

import signal
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Annotated, Any, Protocol, runtime_checkable

import typer
from typer.core import TyperGroup

from replay import __version__
from replay.cli import batch, compare, data, judge_eval, merge, nightly, rescore, run, signals
from replay.cli import help as help_text
from replay.cli.flags import Command
from replay.errors import ExitCode, ReplayError, os_reason


class _RunByDefault(TyperGroup):
    """Insert `run` when the first argument is an option, so `replay --client-id X` runs.

    A mistyped subcommand still fails (it does not start with `-`), and the run flags stay on
    `run` instead of becoming group options that every subcommand would silently accept.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's Context
        if args and args[0].startswith("-") and args[0] not in ("--help", "-h", "--version"):
            args = ["run", *args]
        return super().parse_args(ctx, args)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The commands a team runs, then the developer ones."""
        help_text.format_commands(self, ctx, formatter)


@runtime_checkable
class _CommandLineError(Protocol):
    """What typer's own usage errors carry (an unknown option, a missing argument)."""

    exit_code: int

    def format_message(self) -> str:
        """The error in one line."""
        ...


cli = typer.Typer(
    cls=_RunByDefault,
    name="replay",
    help="Replay historical AI draft jobs through a changed drafting system; gate on regressions.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        print(f"replay {__version__}")
        raise typer.Exit(0)


@cli.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Replay historical AI draft jobs; see `replay run --help`."""


_COMMANDS: tuple[tuple[str, Callable[..., int], str], ...] = (
    ("run", run.run_command, "Replay a client's last N draft jobs, or dry-run them."),
    ("clients", data.clients_command, "List clients with their job counts."),
    ("preflight", data.preflight_command, "Check the database, views, client, artifact folder."),
    ("fixtures", data.fixtures_command, "Fill an empty database with demo fixtures."),
    ("stub-model", data.stub_model_command, "Run the local OpenAI-compatible model server."),
    ("compare", compare.compare_command, "Compare two runs case by case, and gate."),
    ("merge", merge.merge_command, "Merge the artifacts of a --shard run's parts; gate."),
    ("batch-status", batch.batch_status_command, "Where a --via batch run's batches stand."),
    ("signals", signals.signals_command, "Job health per cohort: latency, failures, backlog."),
    ("canary-check", signals.canary_check_command, "Continue or stop a staged rollout."),
    ("report", compare.report_command, "Write the HTML report of a run."),
    ("rescore", rescore.rescore_command, "Decide a run again with today's checks and gate."),
    ("rejudge", rescore.rejudge_command, "Score a run's drafts again with a judge."),
    ("judge-eval", judge_eval.judge_eval_command, "Calibrate a judge on labelled pairs of drafts."),
    ("nightly", nightly.nightly_command, "Replay every [nightly] client; compare."),
    ("history", compare.history_command, "The trend of a client's runs, and its page."),
    ("schema", data.schema_command, "Print the JSON Schema of run artifacts."),
)
"""Every command, its function and its one-line summary, in `replay --help` order."""

for _name, _function, _summary in _COMMANDS:
    if _name == "stub-model":
        # It hands every argument, --help included, to the server's own parser.
        cli.command(
            _name,
            short_help=_summary,
            context_settings={
                "allow_extra_args": True,
                "ignore_unknown_options": True,
                "help_option_names": [],
            },
            add_help_option=False,
        )(_function)
    else:
        cli.command(_name, cls=Command, short_help=_summary)(_function)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the command, turn errors into one line and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        group = typer.main.get_command(cli)
        print(group.get_help(typer.Context(group, info_name="replay")), file=sys.stderr)
        sys.exit(ExitCode.USAGE)
    try:
        try:
            code: Any = cli(args=args, prog_name="replay", standalone_mode=False)
        except BaseExceptionGroup as group:
            raise _alone(group) from None  # a task group's one failure is that failure
    except (typer.Abort, KeyboardInterrupt):
        print("replay: interrupted", file=sys.stderr)
        code = ExitCode.INTERRUPTED
    except ReplayError as exc:
        print(f"replay: {exc.message}", file=sys.stderr)
        code = exc.exit_code
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise  # stdout closed by a reader that has seen enough; nothing to say to it
        # A file the machine would not let us write (or read): the environment, not a bug.
        print(f"replay: {_os_error(exc)}", file=sys.stderr)
        code = ExitCode.BLOCKED
    except Exception as exc:
        if not isinstance(exc, _CommandLineError):
            traceback.print_exc()
            print(
                "replay: internal error (a bug in replay; the traceback above helps fix it)",
                file=sys.stderr,
            )
            code = ExitCode.BUG
        else:
            print(f"replay: {exc.format_message()}", file=sys.stderr)
            code = exc.exit_code
    if argv is None and threading.current_thread() is threading.main_thread():
        # The command is over and has said how it ended: a Ctrl-C now changes nothing.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(int(code) if isinstance(code, int) else ExitCode.OK)


def _os_error(exc: OSError) -> str:
    """One line naming the file and the system's reason, e.g. `… Permission denied (EACCES)`."""
    reason = os_reason(exc)
    path = exc.filename
    return f"{path}: {reason}" if path else reason


def _alone(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one exception a group holds, however nested; the group itself when it holds more."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    return leaves[0] if len(leaves) == 1 else group
