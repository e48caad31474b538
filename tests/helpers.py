"""Helpers for tests that run the real `replay` entry point in-process."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import orjson
import pytest

from replay.cli import main


class Result(NamedTuple):
    """What a command printed and how it exited."""

    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """Run `replay ARGS` through its entry point and capture exit code, stdout and stderr."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    code = exited.value.code
    return Result(code if isinstance(code, int) else 1, captured.out, captured.err)


def only_artifact(directory: Path) -> dict[str, Any]:
    """Load the single artifact in `directory`."""
    files = sorted(directory.glob("run-*.json"))
    assert len(files) == 1, files
    data: dict[str, Any] = orjson.loads(files[0].read_bytes())
    return data
