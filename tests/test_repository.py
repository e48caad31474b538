"""The repository speaks only of itself: its code, tests and docs cite no document it lacks."""

from __future__ import annotations

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
