"""Artifact files: names, atomic writes, partial logs."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import anyio
import orjson
import pytest

from replay.artifacts import store
from replay.artifacts.load import load_run
from replay.errors import ArtifactDirUnwritable, ArtifactWriteFailed, UsageError
from replay.models import CaseResult, InputSummary


def _result(case_id: str) -> CaseResult:
    return CaseResult(case_id=case_id, verdict="selected", input=InputSummary(channel="sms"))


def test_stamp_is_utc_with_milliseconds_and_no_colons() -> None:
    """File names carry the UTC time with ':' and '.' written as '-'."""
    moment = datetime(2026, 11, 26, 19, 52, 26, 180_500, tzinfo=UTC)
    assert store.stamp(moment) == "2026-11-26T19-52-26-180Z"


def test_target_path_defaults_to_the_artifact_dir(tmp_path: Path) -> None:
    """Without --out the artifact is run-<stamp>.json in the artifact directory."""
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    path = store.target_path(tmp_path, moment, None)
    assert path == tmp_path / "run-2026-01-02T03-04-05-000Z.json"


def test_existing_out_is_a_usage_error(tmp_path: Path) -> None:
    """An --out that exists is never overwritten."""
    existing = tmp_path / "a.json"
    existing.write_text("{}")
    with pytest.raises(UsageError, match=r"^--out '.*a\.json' already exists; expected a new"):
        store.target_path(tmp_path, datetime.now(UTC), existing)


def test_unwritable_directory_is_blocked(tmp_path: Path) -> None:
    """A directory that cannot be created is reported as blocked, naming it."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ArtifactDirUnwritable, match="artifact directory '.*file/sub' is not"):
        store.ensure_writable(blocker / "sub")


def test_finish_streams_cases_and_removes_the_partial(tmp_path: Path) -> None:
    """The final JSON holds head, every logged case in order, tail; the partial file is gone."""
    log = store.CaseLog(tmp_path / "run.partial.jsonl", {"run_id": "r1"})
    log.append([_result("a"), _result("b")])
    log.append([_result("c")])
    target = tmp_path / "run.json"
    store.finish(target, {"run_id": "r1"}, log, {"summary": {"cases": 3}})
    data = orjson.loads(target.read_bytes())
    assert list(data) == ["run_id", "cases", "summary"]
    assert [case["case_id"] for case in data["cases"]] == ["a", "b", "c"]
    assert not (tmp_path / "run.partial.jsonl").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_finish_without_cases_writes_an_empty_list(tmp_path: Path) -> None:
    """A blocked run has no partial log and still gets a valid artifact."""
    target = tmp_path / "run.json"
    store.finish(target, {"status": "blocked"}, None, {"summary": None})
    assert orjson.loads(target.read_bytes()) == {"status": "blocked", "cases": [], "summary": None}


def test_torn_last_line_is_ignored(tmp_path: Path) -> None:
    """A line cut by a crash mid-write is dropped; complete lines are kept."""
    log = store.CaseLog(tmp_path / "p.jsonl", {"run_id": "r"})
    log.append([_result("a")])
    log.close()
    with (tmp_path / "p.jsonl").open("ab") as handle:
        handle.write(b'{"case_id": "b", "verd')
    assert [orjson.loads(line)["case_id"] for line in log.cases()] == ["a"]


def test_failed_write_leaves_no_temp_file_and_no_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the rename fails, neither a half artifact nor a temp file is left behind."""

    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(ArtifactWriteFailed, match=r"No space left on device \(ENOSPC\)$"):
        store.finish(tmp_path / "run.json", {"a": 1}, None, {})
    assert list(tmp_path.iterdir()) == []


def test_read_rejects_non_json(tmp_path: Path) -> None:
    """Reading a file that is not JSON names it and the expected form."""
    path = tmp_path / "x.json"
    path.write_text("not json")
    with pytest.raises(UsageError, match="is not JSON; expected a run artifact"):
        load_run(path)


async def test_writer_put_returns_once_the_case_is_on_disk(tmp_path: Path) -> None:
    """A runner slot is freed only when its case is durable: a kill then costs no paid draft."""
    log = store.CaseLog(tmp_path / "run.partial.jsonl", {"run_id": "r"})
    counted: list[str] = []
    writer = store.Writer(log, lambda result: counted.append(result.case_id))
    durable: dict[str, bool] = {}

    async def put(case_id: str) -> None:
        await writer.put(_result(case_id))
        durable[case_id] = case_id in [orjson.loads(line)["case_id"] for line in log.cases()]

    async with anyio.create_task_group() as group:
        group.start_soon(writer.run)
        async with anyio.create_task_group() as puts:
            for case_id in "abc":
                puts.start_soon(put, case_id)
        writer.close()
    log.close()
    assert sorted(counted) == ["a", "b", "c"]
    assert durable == {"a": True, "b": True, "c": True}


def test_write_model_writes_the_document_write_does(tmp_path: Path) -> None:
    """One pass through pydantic gives byte for byte what the dict path gives, odd text included."""
    from datetime import UTC, datetime

    from replay.models import CaseResult, InputSummary, RunArtifact, Selection

    case = CaseResult(
        case_id="ü-1", verdict="changed", input=InputSummary(inbound_body="naïve 李 \u2028 \x07")
    )
    artifact = RunArtifact(
        run_id="r", created_at=datetime(2026, 12, 3, 12, 0, 0, 123456, tzinfo=UTC),
        tool_version="0", mode="live", status="complete", exit_code=0, config={"a": 1.5},
        selection=Selection(client_id="c", requested=1, found=1), cases=[case],
    )  # fmt: skip
    store.write(tmp_path / "a.json", artifact.model_dump(mode="json"))
    store.write_model(tmp_path / "b.json", artifact)
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
