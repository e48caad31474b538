"""The report and history commands, and what every run leaves beside its artifact."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import StubServer
from tests.helpers import run_cli

ARTIFACTS = Path(".artifacts/ai-replay")


def test_every_run_writes_its_report_and_a_history_line(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A live run leaves run-<ts>.html beside run-<ts>.json and one line in history.jsonl."""
    client = fixtures.clients[0].id
    base = ("--client-id", client, "--database-url", fixture_db, "--limit", "5")
    result = run_cli(capsys, *base, "--model", "replay-variant", "--no-gate")
    assert result.code == 0, result.err
    (artifact,) = ARTIFACTS.glob("run-*.json")
    page = artifact.with_suffix(".html")
    assert f"report: {page}" in result.out
    assert page.read_text().startswith("<!DOCTYPE html>")
    lines = (ARTIFACTS / "history.jsonl").read_bytes().splitlines()
    assert len(lines) == 1
    entry = orjson.loads(lines[0])
    data = orjson.loads(artifact.read_bytes())
    assert (entry["run_id"], entry["client_id"], entry["path"]) == (
        data["run_id"],
        client,
        artifact.name,
    )
    assert entry["cases"] == 5 and entry["mode"] == "live"
    quiet = run_cli(capsys, *base, "--dry-run", "--no-report", "--quiet")
    assert quiet.code == 0
    assert len((ARTIFACTS / "history.jsonl").read_bytes().splitlines()) == 1
    assert len(list(ARTIFACTS.glob("run-*.html"))) == 1

    history = run_cli(capsys, "history", "--client-id", client)
    assert history.code == 0, history.err
    table = history.out.splitlines()
    assert table[0].split() == [
        "time", "client", "pipeline", "model", "cases", "regressed", "errors", "sent", "sim",
        "$/case", "gate",
    ]  # fmt: skip
    assert table[1].split()[2:5] == [client, "openai", "replay-variant"]
    assert table[-1] == f"page: {ARTIFACTS / 'history.html'}"
    assert "<svg" in (ARTIFACTS / "history.html").read_text()
    typo = run_cli(capsys, "history", "--artifacts-dir", "artefacts")
    assert typo.code == 2
    assert (
        typo.err.strip()
        == "replay: --artifacts-dir 'artefacts' is not a directory of run artifacts"
    )
    other = run_cli(capsys, "history", "--client-id", "nobody", "--out", "h.html")
    assert other.out.splitlines()[0] == "no live runs in the history yet"


def test_report_renders_any_run_artifact_on_demand(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """`replay report` writes the page beside the artifact or at --out; bad input exits 2."""
    client = fixtures.clients[0].id
    run = run_cli(
        capsys, "--client-id", client, "--database-url", fixture_db, "--dry-run", "--quiet"
    )
    assert run.code == 0
    (artifact,) = ARTIFACTS.glob("run-*.json")
    artifact.with_suffix(".html").unlink()
    made = run_cli(capsys, "report", str(artifact))
    assert made.code == 0 and made.out.strip() == str(artifact.with_suffix(".html"))
    elsewhere = run_cli(capsys, "report", str(artifact), "--out", "page.html")
    assert elsewhere.code == 0 and Path("page.html").read_text().startswith("<!DOCTYPE html>")
    over = run_cli(capsys, "report", str(artifact), "--out", str(artifact))
    assert over.code == 2
    assert over.err.strip() == (
        f"replay: --out {str(artifact)!r} exists and is not an HTML file; name a new .html file"
    )
    assert orjson.loads(artifact.read_bytes())["kind"] == "run"
    folder = run_cli(capsys, "report", str(artifact), "--out", ".")
    assert (
        folder.code == 2
        and folder.err.strip() == "replay: --out '.' is a directory; expected a file path"
    )
    Path("odd.json").write_bytes(b'{"kind": "run", "run_id": "x", "summary": "x", "cases": "x"}')
    odd = run_cli(capsys, "report", "odd.json")
    assert odd.code == 2
    assert odd.err.strip() == (
        "replay: 'odd.json' has a malformed field; expected a run artifact written by replay"
    )
    nowhere = run_cli(capsys, "report", str(artifact), "--out", "no/page.html")
    assert nowhere.code == 2
    assert nowhere.err.strip() == "replay: --out 'no/page.html': folder 'no' does not exist"
    missing = run_cli(capsys, "report", "missing.json")
    assert missing.code == 2
    assert missing.err.startswith("replay: cannot read artifact 'missing.json'")
