"""The command line: the typer app and one module per command group; the only code that prints.

`main` is the entry point. Until a run watches its own signals (and again once it is over), a
Ctrl-C ends the process at once with one line and exit 130: while Python loads the tool, parses
flags or connects there is nothing to save, and an exception raised there can land anywhere,
even in a callback that Python only reports and ignores.
"""

from __future__ import annotations

import os
import signal
import types

from replay.errors import ExitCode


def _interrupted(signum: int, frame: types.FrameType | None) -> None:
    os.write(2, b"replay: interrupted\n")
    os._exit(ExitCode.INTERRUPTED)


def main() -> None:
    """Run `replay`; Ctrl-C at any moment, start-up included, exits 130 with one line."""
    signal.signal(signal.SIGINT, _interrupted)
    from replay.cli.app import main as run

    run()
