"""The repository speaks only of itself: its code, tests and docs cite no document it lacks."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
OUTSIDE = ("DESIGN" + ".md", "STYLE" + ".md", "DESIGN" + " §", "../" + "shared")
"""Names of documents that live outside the repository (spelled in parts so this file passes)."""


def sources() -> list[Path]:
    """Every text file of the package, the tests, the scripts and the docs."""
    found = [*ROOT.glob("replay/**/*.py"), *ROOT.glob("replay/**/*.sql"), *ROOT.glob("tests/*.py")]
    found += [path for path in (ROOT / "scripts").iterdir() if path.is_file()]
    found += [*ROOT.glob("docs/**/*.md"), ROOT / "README.md", ROOT / "pyproject.toml"]
    return sorted(found)


@pytest.mark.parametrize("path", sources(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_reference_to_a_document_outside_the_repository(path: Path) -> None:
    """Code, tests, scripts and docs point only at files the repository holds."""
    text = path.read_text(encoding="utf-8")
    assert [name for name in OUTSIDE if name in text] == []


def test_the_package_has_at_most_a_dozen_top_level_entries() -> None:
    """`replay/` shows its architecture: a few domain packages, no pile of flat modules."""
    entries = [p.name for p in (ROOT / "replay").iterdir() if p.name != "__pycache__"]
    assert len(entries) <= 12, sorted(entries)


def test_no_module_outgrows_its_job() -> None:
    """No module outside `devtools/` is over 450 lines: past that, it owns more than one thing."""
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in ROOT.glob("replay/**/*.py")
        if "devtools" not in path.parts
    }
    assert {name: size for name, size in sizes.items() if size > 450} == {}


def _name(requirement: str) -> str:
    """A requirement's project name, normalized as pip compares them."""
    name = re.split(r"[\[<>=!~; ]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_dependency_is_pinned_by_the_lock() -> None:
    """constraints.txt pins every dependency pyproject names, base, local and dev alike."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    named = {_name(req) for req in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        named |= {_name(req) for req in extra}
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_name(name)] = version
    assert sorted(named - set(pins)) == []
    assert all(pins.values())  # each an exact version
    assert "draft-replay" not in pins  # the project itself is never pinned
