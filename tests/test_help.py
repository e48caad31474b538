"""Help that reads: one-line summaries that fit, options in panels, every option explained."""

from __future__ import annotations

import re

import pytest
import typer

from replay.cli.app import cli
from replay.cli.help import DEVELOPER_COMMANDS, PANELS, panel_of
from tests.helpers import run_cli


def _commands() -> dict[str, typer.core.TyperCommand]:
    group = typer.main.get_command(cli)
    assert isinstance(group, typer.core.TyperGroup)
    return dict(group.commands)  # type: ignore[arg-type]


def test_the_command_list_fits_80_columns_uncut_with_developer_tools_apart(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`replay --help`: every summary whole (no "…"), every line within 80 columns."""
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli(capsys, "--help")
    assert result.code == 0
    assert "…" not in result.out and "..." not in result.out.split("Commands:")[1]
    assert max(len(line) for line in result.out.splitlines()) <= 80
    user, developer = result.out.split("Commands:\n")[1].split("Developer tools:\n")
    listed = re.findall(r"^  ([a-z-]+)  ", user, re.MULTILINE)
    assert listed == [name for name in _commands() if name not in DEVELOPER_COMMANDS]
    assert re.findall(r"^  ([a-z-]+)  ", developer, re.MULTILINE) == list(DEVELOPER_COMMANDS)


def test_every_option_of_every_command_has_help() -> None:
    """No option is left for the user to guess."""
    missing = [
        f"{name} {param.opts[0]}"
        for name, command in _commands().items()
        for param in command.params
        if param.param_type_name == "option" and not (getattr(param, "help", None) or "").strip()
    ]
    assert missing == []


def test_the_local_model_server_explains_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    """`replay stub-model --help` (its own parser): each flag followed by what it does."""
    from dataclasses import fields

    from replay.devtools.stub_model import StubOptions

    result = run_cli(capsys, "stub-model", "--help")
    assert result.code == 0
    flat = " ".join(result.out.split())  # argparse wraps help at the terminal's width
    for option in fields(StubOptions):
        flag = "--" + option.name.replace("_", "-")
        entry = re.search(rf"{flag} [A-Z0-9_]+ (.*?)(?= --[a-z]|$)", flat)
        assert entry is not None, flag
        assert len(entry[1].split()) >= 3, (flag, entry[1])  # words, not just a metavar


def test_run_groups_its_options_into_panels_in_order(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Selection, pipeline, runner, judge, gate, source, output: no run option left over."""
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli(capsys, "run", "--help")
    assert result.code == 0
    titles = re.findall(r"^([A-Z][a-z ]+):$", result.out, re.MULTILINE)
    assert titles == [*PANELS, "Options"]
    options = result.out.split("\nOptions:\n")[1]
    assert re.findall(r"^  (-[-a-z]+)", options, re.MULTILINE) == ["-h"]
    run = _commands()["run"]
    assert {panel_of(p) for p in run.params if p.param_type_name == "option"} - {"Options"} == set(
        PANELS
    )


def test_arguments_come_first_in_a_commands_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`compare`'s two artifacts are listed, with their help, before its options."""
    result = run_cli(capsys, "compare", "--help")
    assert result.code == 0
    arguments = result.out.split("\nArguments:\n")[1].split("\n\n")[0]
    assert "OLD.json <path>  The baseline run artifact." in arguments
    assert "NEW.json <path>  The run to judge." in arguments
