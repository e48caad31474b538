"""`replay nightly`: pinned manifests, each client against its own history, failures isolated."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import StubServer
from replay.ops import nightly
from tests.helpers import run_cli

ARTIFACTS = Path(".artifacts/ai-replay")
DEAD = "postgresql://nightly:secret-pw@127.0.0.1:1/nowhere?connect_timeout=2"


def _config(workdir: Path, fixtures: FixtureSummary, *, dead: bool = True) -> Path:
    a, b, c = (client.id for client in fixtures.clients)
    toml = workdir / "replay.toml"
    toml.write_text(
        f"""
[gate]
on_stats = true
min_paired = 3

[[nightly.clients]]
client_id = "{a}"
database_url_env = "NIGHTLY_DB_A"
limit = 6
model = "replay-original"

[[nightly.clients]]
client_id = "{b}"
database_url_env = "{"NIGHTLY_DB_DEAD" if dead else "NIGHTLY_DB_A"}"
limit = 4
model = "replay-original"

[[nightly.clients]]
client_id = "{c}"
database_url_env = "NIGHTLY_DB_A"
limit = 5
model = "replay-original"
concurrency = 2
max_error_rate = 0.5
"""
    )
    return toml


def test_nightly_runs_every_client_and_isolates_a_dead_database(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stub: StubServer,
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
) -> None:
    """Two clients complete; the one on a dead database is named, and the exit code is 3."""
    monkeypatch.setenv("NIGHTLY_DB_A", fixture_db)
    monkeypatch.setenv("NIGHTLY_DB_DEAD", DEAD)
    toml = _config(workdir, fixtures)
    a, b, c = (client.id for client in fixtures.clients)
    result = run_cli(capsys, "nightly", "--config", str(toml))
    assert result.code == 3, result.err
    lines = result.out.splitlines()
    assert f"{a}  passed: 6 cases · 0 regressed · 0 errors" in result.out
    assert f"{c}  passed: 5 cases · 0 regressed · 0 errors" in result.out
    blocked = next(line for line in lines if line.startswith(f"{b}  blocked: "))
    assert "127.0.0.1:1/nowhere" in blocked and "secret-pw" not in result.out + result.err
    assert "nightly: a client was blocked (exit 3)" in lines
    runs = sorted(ARTIFACTS.glob("run-*.json"))
    assert len(runs) == 2
    assert len(sorted(ARTIFACTS.glob("run-*.html"))) == 2
    manifest = orjson.loads((ARTIFACTS / "manifests" / f"{a}.json").read_bytes())
    assert manifest["client_id"] == a and len(manifest["cases"]) == 6
    summary = Path(lines[-1].removeprefix("summary: "))
    assert summary.suffix == ".md" and f"| `{b}` | blocked |" in summary.read_text()
    index = summary.with_suffix(".html").read_text()
    for run in runs:
        assert f'href="{run.with_suffix(".html").name}"' in index
    record = orjson.loads(summary.with_suffix(".json").read_bytes())
    assert [c["status"] for c in record["clients"]] == ["passed", "blocked", "passed"]

    # The next night replays the same pinned cases and compares each with its own last run.
    again = run_cli(capsys, "nightly", "--config", str(toml))
    assert again.code == 3
    assert "vs baseline: 6 paired, 0 newly regressed" in again.out
    assert "vs baseline: 5 paired, 0 newly regressed" in again.out
    latest = max(ARTIFACTS.glob("run-*.json"), key=lambda p: p.stat().st_mtime)
    data = orjson.loads(latest.read_bytes())
    assert data["selection"]["case_ids"] == [
        case["id"]
        for case in orjson.loads((ARTIFACTS / "manifests" / f"{c}.json").read_bytes())["cases"]
    ]


def test_a_failed_gate_wins_over_a_blocked_client_and_retention_keeps_the_latest(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stub: StubServer,
    workdir: Path,
    fixture_db: str,
    fixtures: FixtureSummary,
) -> None:
    """A variant model regresses: exit 1. Old artifacts go, each client's latest run stays."""
    monkeypatch.setenv("NIGHTLY_DB_A", fixture_db)
    toml = _config(workdir, fixtures, dead=False)
    first = run_cli(capsys, "nightly", "--config", str(toml))
    assert first.code == 0, first.out + first.err
    assert "nightly: every client passed (exit 0)" in first.out
    old = sorted(ARTIFACTS.glob("run-*"))
    assert old
    long_ago = time.time() - 40 * 86400
    for path in old:
        os.utime(path, (long_ago, long_ago))
    deleted = nightly.prune(ARTIFACTS, 30, now=datetime.now(UTC))
    assert not [name for name in deleted if name.startswith("run-")], "each is a client's latest"
    assert sorted(ARTIFACTS.glob("run-*")) == old
    text = toml.read_text().replace(
        'model = "replay-original"\nconcurrency', 'model = "replay-variant"\nconcurrency'
    )
    toml.write_text(text)
    second = run_cli(capsys, "nightly", "--config", str(toml), "--retention-days", "30")
    assert second.code == 1, second.out + second.err
    assert "nightly: a gate failed (exit 1)" in second.out
    left = {path.name for path in ARTIFACTS.glob("run-*.json")}
    assert len(left) == 3, "tonight's three runs; last month's are gone"
    assert "retention: deleted" in second.out
    entries = [
        orjson.loads(line) for line in (ARTIFACTS / "history.jsonl").read_bytes().splitlines()
    ]
    assert {entry["path"] for entry in entries} == left


def test_nightly_without_clients_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    (workdir / "replay.toml").write_text("[judge]\nmodel = 'x'\n")
    result = run_cli(capsys, "nightly", "--config", "replay.toml")
    assert result.code == 2
    assert result.err.strip() == (
        "replay: replay.toml lists no [[nightly.clients]]; add one per client to replay"
    )


def test_write_manifest_freezes_a_selection_that_manifest_replays(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """`--write-manifest` pins today's last N; `--manifest` replays exactly those, in order."""
    base = ("--client-id", fixtures.clients[0].id, "--database-url", fixture_db, "--dry-run")
    made = run_cli(capsys, *base, "--limit", "7", "--write-manifest", "pinned.json", "--quiet")
    assert made.code == 0, made.err
    pinned = orjson.loads(Path("pinned.json").read_bytes())
    ids = [case["id"] for case in pinned["cases"]]
    assert len(ids) == 7 and pinned["client_id"] == fixtures.clients[0].id
    replayed = run_cli(capsys, *base, "--manifest", "pinned.json", "--out", "again.json", "--quiet")
    assert replayed.code == 0, replayed.err
    assert orjson.loads(Path("again.json").read_bytes())["selection"]["case_ids"] == ids
    nowhere = run_cli(capsys, *base, "--write-manifest", "no/dir.json")
    assert nowhere.code == 2
    assert (
        nowhere.err.strip() == "replay: --write-manifest 'no/dir.json': folder 'no' does not exist"
    )
