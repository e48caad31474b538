"""The command line's surface is a contract: options and the artifact schema change on purpose.

The golden files under `tests/golden/` are the surface as released. A change that adds, renames
or drops an option, or changes the artifact schema, updates them in the same commit, on purpose.
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
import typer

from replay.cli.app import cli
from replay.models import SCHEMA_VERSION, RunArtifact
from tests.helpers import run_cli

GOLDEN = Path(__file__).parent / "golden"
OPTION = re.compile(r"^\s{2}((?:-[a-zA-Z0-9], )?--[a-z0-9][a-z0-9-]*(?: / --[a-z0-9-]+)?)", re.M)


def options_of(help_text: str) -> list[str]:
    """The options a help page lists, each as it is spelled at the start of its entry."""
    found: set[str] = set()
    for entry in OPTION.findall(help_text):
        found.update(name.strip() for name in re.split(r",|/", entry))
    return sorted(found)


def commands() -> list[str]:
    """Every command of `replay`, in help order."""
    group = typer.main.get_command(cli)
    assert isinstance(group, typer.core.TyperGroup)
    return list(group.commands)


def test_the_commands_are_the_released_ones() -> None:
    """`replay --help` lists the same commands as the release it replaces."""
    golden = orjson.loads((GOLDEN / "cli_options.json").read_bytes())
    assert commands() == list(golden)


@pytest.mark.parametrize("command", commands())
def test_each_command_keeps_its_options(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`replay COMMAND --help` lists exactly the options it listed before."""
    golden = orjson.loads((GOLDEN / "cli_options.json").read_bytes())
    result = run_cli(capsys, command, "--help")
    assert result.code == 0, result.err
    assert options_of(result.out) == golden[command]


def test_the_artifact_schema_is_the_released_one(capsys: pytest.CaptureFixture[str]) -> None:
    """`replay schema` prints the schema of this schema version: a change needs a new version."""
    result = run_cli(capsys, "schema")
    assert result.code == 0
    golden = orjson.loads((GOLDEN / f"run_schema_v{SCHEMA_VERSION}.json").read_bytes())
    assert orjson.loads(result.out) == golden
    assert RunArtifact.model_json_schema() == golden
