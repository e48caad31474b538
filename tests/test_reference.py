"""The generated reference pages are the code's: a flag added without `scripts/docs` fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay.cli import reference

DOCS = Path(__file__).parents[1] / "docs" / "reference"


@pytest.mark.parametrize("page", reference.PAGES)
def test_each_generated_page_is_current(monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    """The page on disk is what the code renders now; else run scripts/docs and commit."""
    monkeypatch.setenv("COLUMNS", "80")  # as scripts/docs renders them
    stale = (DOCS / page).read_text(encoding="utf-8") != reference.render(page)
    assert not stale, f"docs/reference/{page} is stale: run scripts/docs and commit the result"


def test_the_cli_page_lists_every_command_and_option() -> None:
    """Each command has its section, and each of its options a row, panels as in --help."""
    import typer

    from replay.cli.app import cli

    text = reference.cli_reference()
    group = typer.main.get_command(cli)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert f"\n## replay {name}\n" in text
        if name == "stub-model":
            continue
        section = text.split(f"\n## replay {name}\n")[1].split("\n## replay ")[0]
        rows = [line for line in section.splitlines() if line.startswith("| `")]
        for param in command.params:
            if param.param_type_name == "option" and param.opts[0] != "--help":
                flag = param.opts[0]
                assert any(f"`{flag}" in row or f", {flag}" in row for row in rows), (name, flag)
    assert "\n### Selection\n" in text and "\n### Gate\n" in text


def test_the_artifact_page_documents_every_field_of_the_schema() -> None:
    """Every model of `replay schema` has a section and each field a row with its type."""
    from replay.models import RunArtifact

    text = reference.artifact_reference()
    schema = RunArtifact.model_json_schema()
    for name, model in {"RunArtifact": schema, **schema["$defs"]}.items():
        assert f"\n## {name}\n" in text
        for field in model.get("properties", {}):
            assert f"| `{field}` |" in text, (name, field)
    assert "| `not_measured` | map to string | no | Why each figure above" in text


def test_writing_the_pages_makes_them_current(tmp_path: Path) -> None:
    """`python -m replay.cli.reference DIR` writes exactly what the staleness test expects."""
    assert reference.main([str(tmp_path)]) == 0
    for page in reference.PAGES:
        assert (tmp_path / page).read_text(encoding="utf-8") == reference.render(page)


def test_the_config_page_documents_every_key_of_replay_toml() -> None:
    """Each table of `replay.toml` has a section and each key a row with its form."""
    from pydantic import BaseModel

    from replay.config.keys import InvariantValues, NightlyClient, TomlConfig

    text = reference.config_reference()
    for name, field in TomlConfig.model_fields.items():
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            assert f"\n## `[{name}]`\n" in text
            for key in set(section.model_fields) - {"clients"}:  # nested: a section of its own
                assert f"| `{key}`" in text, (name, key)
    for model in (InvariantValues, NightlyClient):
        for key in model.model_fields:
            assert f"| `{key}`" in text, key
    assert "| `limit` | a positive integer | `20` | `--limit` / `REPLAY_LIMIT` |" in text
    assert '\n## `[prices."MODEL"]`\n' in text and "\n## `[[nightly.clients]]`\n" in text


def test_every_flag_a_key_names_is_a_real_option() -> None:
    """A key's `Setting.flag` is an option of some command: a renamed flag fails here."""
    import typer
    from pydantic import BaseModel

    from replay.cli.app import cli
    from replay.config.keys import InvariantValues, NightlyClient, Setting, TomlConfig

    group = typer.main.get_command(cli)
    flags = {
        param.opts[0]
        for command in group.commands.values()  # type: ignore[attr-defined]
        for param in command.params
    }
    models: list[type[BaseModel]] = [InvariantValues, NightlyClient]
    models += [
        field.annotation
        for field in TomlConfig.model_fields.values()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
    ]
    named = {
        setting.flag
        for model in models
        for field in model.model_fields.values()
        for setting in field.metadata
        if isinstance(setting, Setting) and setting.flag
    }
    assert named and named <= flags, sorted(named - flags)
