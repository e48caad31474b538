"""Reading artifacts back: one loader per kind, one-line refusals, schema versions, migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from replay.artifacts import load
from replay.artifacts.load import (
    UnknownSchemaVersion,
    load_compare,
    load_run,
    load_signals,
)
from replay.errors import UsageError
from replay.models import (
    SCHEMA_VERSION,
    BaselineReport,
    CaseResult,
    CompareArtifact,
    Gate,
    InputSummary,
    RunArtifact,
    Selection,
    SignalsArtifact,
    SignalsReport,
)
from replay.verdict import pairing
from tests.helpers import run_cli

T0 = datetime(2026, 11, 26, 19, 0, tzinfo=UTC)
FUTURE = (
    f"has schema version 99; this replay reads schema version {SCHEMA_VERSION} — "
    "upgrade replay to read it"
)


def run_artifact(run_id: str = "run-1") -> RunArtifact:
    """A complete live run of client `c` with no cases."""
    return RunArtifact(
        run_id=run_id,
        created_at=T0,
        tool_version="0.1.0",
        mode="live",
        status="complete",
        exit_code=0,
        config={"selection": {"client_id": "c"}, "request": {"pipeline": "openai"}},
        selection=Selection(client_id="c", requested=0, found=0),
    )


def write(path: Path, data: Any) -> Path:
    """Write `data` as JSON (a model as its JSON form) and return the path."""
    if isinstance(data, RunArtifact | CompareArtifact | SignalsArtifact):
        data = data.model_dump(mode="json")
    path.write_bytes(orjson.dumps(data))
    return path


def future(artifact: RunArtifact) -> dict[str, Any]:
    """The artifact as a later replay with schema version 99 would have written it."""
    return artifact.model_dump(mode="json") | {"schema_version": 99}


# --- the loaders ---------------------------------------------------------------------------------


def test_each_kind_loads_into_its_model(tmp_path: Path) -> None:
    """A run, a compare and a signals artifact each come back equal to what was written."""
    run = run_artifact()
    compare = CompareArtifact(
        run_id="cmp",
        created_at=T0,
        tool_version="0.1.0",
        exit_code=0,
        report=BaselineReport(baseline="a.json", run="b.json", comparable=True, paired=0),
        gate=Gate(passed=True),
    )
    signals = SignalsArtifact(
        run_id="sig",
        created_at=T0,
        tool_version="0.1.0",
        exit_code=0,
        config={},
        current=SignalsReport(start=T0, end=T0, window_s=60, cohort_source="none"),
    )
    assert load_run(write(tmp_path / "run.json", run)) == run
    assert load_compare(write(tmp_path / "compare.json", compare)) == compare
    assert load_signals(write(tmp_path / "signals.json", signals)) == signals


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            None,
            "OLD 'x.json' cannot be read (No such file or directory); expected a run artifact",
            id="unreadable",
        ),
        pytest.param(b"{nope", "OLD 'x.json' is not JSON; expected a run artifact", id="not-json"),
        pytest.param(
            b"[1, 2]",
            "OLD 'x.json' is not a run artifact: kind 'list', expected an object",
            id="not-an-object",
        ),
        pytest.param(
            b'{"kind": "compare", "schema_version": 1}',
            "OLD 'x.json' is not a run artifact: kind 'compare', expected 'run'",
            id="wrong-kind",
        ),
        pytest.param(
            b'{"kind": "run", "schema_version": 1, "run_id": "r", "cases": "x"}',
            "OLD 'x.json' has a malformed field; expected a run artifact written by replay",
            id="malformed",
        ),
        pytest.param(
            b'{"kind": "run", "run_id": "r"}',
            "OLD 'x.json' has a malformed field; expected a run artifact written by replay",
            id="no-schema-version",
        ),
        pytest.param(
            b'{"kind": "run", "schema_version": 99}', f"OLD 'x.json' {FUTURE}", id="newer-version"
        ),
        pytest.param(
            b'{"kind": "run", "schema_version": 0}',
            f"OLD 'x.json' has schema version 0; this replay reads schema version {SCHEMA_VERSION}"
            " — it is older "
            "than any version this replay can upgrade",
            id="older-version",
        ),
    ],
)
def test_each_refusal_is_one_line_naming_the_file_and_the_form(
    workdir: Path, content: bytes | None, message: str
) -> None:
    """Unreadable, not JSON, not an object, wrong kind, malformed, unknown version: one line."""
    if content is not None:
        (workdir / "x.json").write_bytes(content)
    with pytest.raises(UsageError) as refused:
        load_run(Path("x.json"), role="OLD")
    assert str(refused.value) == message
    assert refused.value.exit_code == 2


def test_an_unknown_version_is_its_own_class(tmp_path: Path) -> None:
    """Readers that pass over broken files can still tell a newer artifact from a broken one."""
    path = write(tmp_path / "x.json", future(run_artifact()))
    with pytest.raises(UnknownSchemaVersion):
        load_run(path)
    with pytest.raises(UnknownSchemaVersion):
        load_compare(write(tmp_path / "c.json", {"kind": "compare", "schema_version": 99}))


def test_without_a_role_the_file_alone_is_named(workdir: Path) -> None:
    """A file the tool found itself is named by its path only."""
    with pytest.raises(UsageError, match=r"^cannot read artifact 'gone\.json': No such file"):
        load_run(Path("gone.json"), role="")
    Path("x.json").write_bytes(b'{"kind": "signals", "schema_version": 1}')
    with pytest.raises(UsageError, match=r"^'x\.json' has a malformed field; expected a signals"):
        load_signals(Path("x.json"), role="")


def test_a_migration_upgrades_the_raw_dict_before_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older version with a migration is upgraded step by step, then validated."""
    seen: list[int] = []

    def rename(data: dict[str, Any]) -> dict[str, Any]:
        seen.append(data["schema_version"])
        data["run_id"] = data.pop("id")  # what a field rename between versions would look like
        return data

    old = run_artifact().model_dump(mode="json") | {"schema_version": SCHEMA_VERSION - 1}
    old["id"] = old.pop("run_id")
    monkeypatch.setitem(load.MIGRATIONS, SCHEMA_VERSION - 1, rename)
    loaded = load_run(write(tmp_path / "old.json", old))
    assert seen == [SCHEMA_VERSION - 1]
    assert loaded.run_id == "run-1" and loaded.schema_version == SCHEMA_VERSION


def test_baseline_latest_refuses_a_newer_artifact(tmp_path: Path) -> None:
    """`--baseline latest` passes over broken files but not over a run it cannot read."""
    write(tmp_path / "run-2026-11-26T19-00-00-000Z.json", run_artifact())
    (tmp_path / "run-2026-11-26T19-01-00-000Z.json").write_bytes(b"{broken")
    found = pairing.latest(tmp_path, "c", "openai", None)
    assert found == tmp_path / "run-2026-11-26T19-00-00-000Z.json"
    write(tmp_path / "run-2026-11-26T19-02-00-000Z.json", future(run_artifact()))
    with pytest.raises(UnknownSchemaVersion, match="run-2026-11-26T19-02-00-000Z.json"):
        pairing.latest(tmp_path, "c", "openai", None)


# --- the commands --------------------------------------------------------------------------------


def test_report_refuses_an_unknown_schema_version(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    """`replay report` exits 2 naming the file and writes no page."""
    write(workdir / "future.json", future(run_artifact()))
    result = run_cli(capsys, "report", "future.json")
    assert result.code == 2
    assert result.err.strip() == f"replay: 'future.json' {FUTURE}"
    assert not (workdir / "future.html").exists()


def test_compare_refuses_an_unknown_schema_version(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    """`replay compare` exits 2 naming the side that cannot be read, and writes nothing."""
    write(workdir / "old.json", run_artifact())
    write(workdir / "new.json", future(run_artifact("run-2")))
    result = run_cli(capsys, "compare", "old.json", "new.json", "--artifacts-dir", "out")
    assert result.code == 2
    assert result.err.strip() == f"replay: NEW 'new.json' {FUTURE}"
    assert not (workdir / "out").exists()


def test_rejudge_refuses_an_unknown_schema_version(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    """`replay rejudge` exits 2 before it asks a judge anything."""
    write(workdir / "future.json", future(run_artifact()))
    result = run_cli(capsys, "rejudge", "future.json", "--judge-model", "replay-judge")
    assert result.code == 2
    assert result.err.strip() == f"replay: ARTIFACT 'future.json' {FUTURE}"


def test_history_rebuild_refuses_an_unknown_schema_version(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    """Rebuilding its index, `replay history` exits 2 naming a newer artifact; broken ones pass."""
    folder = workdir / "arts"
    folder.mkdir()
    write(folder / "run-2026-11-26T19-00-00-000Z.json", run_artifact())
    (folder / "run-2026-11-26T19-01-00-000Z.json").write_bytes(b"{broken")
    fine = run_cli(capsys, "history", "--artifacts-dir", "arts")
    assert fine.code == 0, fine.err
    (folder / "history.jsonl").unlink()
    newer = folder / "run-2026-11-26T19-02-00-000Z.json"
    write(newer, future(run_artifact("run-3")))
    result = run_cli(capsys, "history", "--artifacts-dir", "arts")
    assert result.code == 2
    assert result.err.strip() == f"replay: {str(newer.relative_to(workdir))!r} {FUTURE}"


def test_a_version_1_run_reads_as_the_current_version(tmp_path: Path) -> None:
    """A run written before parts counted dropped lines loads, each count zero."""
    current = run_artifact().model_dump(mode="json")
    old = current | {"schema_version": 1}
    old["parts"] = [
        {"started_at": "2026-11-26T19:00:00Z", "finished_at": None, "cases": 2},
    ]
    loaded = load_run(write(tmp_path / "v1.json", old))
    assert loaded.schema_version == SCHEMA_VERSION == 5
    assert [(p.duplicates_dropped, p.foreign_dropped) for p in loaded.parts] == [(0, 0)]


def test_a_version_3_run_reads_with_its_case_context_not_recorded(tmp_path: Path) -> None:
    """A run written before cases kept their lead and settings loads with both None."""
    case = CaseResult(case_id="a", verdict="changed", input=InputSummary(channel="email"))
    current = run_artifact().model_copy(update={"cases": [case]}).model_dump(mode="json")
    old = current | {"schema_version": 3}
    del old["cases"][0]["input"]["lead"], old["cases"][0]["input"]["client_settings"]
    loaded = load_run(write(tmp_path / "v3.json", old))
    assert loaded.schema_version == SCHEMA_VERSION == 5
    assert loaded.cases and all(case.input.lead is None for case in loaded.cases)
    assert all(case.input.client_settings is None for case in loaded.cases)


def test_a_version_4_run_reads_with_no_batch_submissions(tmp_path: Path) -> None:
    """A run written before `--via batch` loads with every part's batches empty."""
    current = run_artifact().model_dump(mode="json")
    current["parts"] = [{"started_at": "2026-11-26T19:00:00Z", "finished_at": None, "cases": 0}]
    old = current | {"schema_version": 4}
    loaded = load_run(write(tmp_path / "v4.json", old))
    assert loaded.schema_version == SCHEMA_VERSION == 5
    assert [part.batches for part in loaded.parts] == [[]]
