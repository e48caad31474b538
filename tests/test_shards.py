"""`--shard i/n` and `replay merge`: a selection split over CI jobs, merged, gated once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import StubServer
from replay.run.shards import part_of
from tests.helpers import replay_to, run_cli

VARIANT = ("--no-gate", "--model", "replay-variant")
"""The mistake-making model with the gate off: a mix of verdicts, and exit 0."""


def _replay(
    capsys: pytest.CaptureFixture[str], db: str, fixtures: FixtureSummary, out: str, *args: str
) -> dict[str, Any]:
    result, artifact = replay_to(capsys, db, fixtures.clients[0].id, out, *args)
    assert result.code == 0, result.err
    return artifact


def _parts(
    capsys: pytest.CaptureFixture[str],
    db: str,
    fixtures: FixtureSummary,
    count: int,
    *args: str,
    prefix: str = "part",
) -> list[dict[str, Any]]:
    """Every shard of `count`, each into `{prefix}-{i}.json`."""
    return [
        _replay(capsys, db, fixtures, f"{prefix}-{i}.json", *args, "--shard", f"{i}/{count}")
        for i in range(1, count + 1)
    ]


def _rules(artifact: dict[str, Any]) -> dict[str, float]:
    return {rule["rule"]: rule["value"] for rule in artifact["gate"]["rules"]}


def test_shards_partition_the_selection_and_merge_into_the_unsharded_run(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Three shards hold every selected case once; merged, they are the unsharded run."""
    whole = _replay(capsys, fixture_db, fixtures, "whole.json", *VARIANT, "--limit", "30")
    parts = _parts(capsys, fixture_db, fixtures, 3, *VARIANT, "--limit", "30")
    selected = whole["selection"]["case_ids"]
    assert len(selected) == 30
    shard_ids = [part["selection"]["case_ids"] for part in parts]
    assert sorted(case_id for ids in shard_ids for case_id in ids) == sorted(selected)
    assert all(ids for ids in shard_ids)  # 30 ids over 3 parts: none is left empty
    for index, part in enumerate(parts, start=1):
        selection = part["selection"]
        assert selection["shard"] == {"index": index, "count": 3}
        assert selection["fingerprint"] == whole["selection"]["fingerprint"]
        assert selection["sharded_from"] == selected
        assert {case["case_id"] for case in part["cases"]} == set(selection["case_ids"])
        assert part["identity"]["shard"] == {"index": index, "count": 3}
    assert whole["selection"]["shard"] is None and "shard" not in whole["identity"]

    result = run_cli(
        capsys, "merge", "part-3.json", "part-1.json", "part-2.json", "--out", "merged.json",
        "--summary-md", "summary.md",
    )  # fmt: skip
    assert result.code == whole["exit_code"] == 0, result.err
    assert "artifact: merged.json" in result.out and Path("merged.html").is_file()
    assert "30 cases" in Path("summary.md").read_text()
    merged = orjson.loads(Path("merged.json").read_bytes())
    assert merged["status"] == "complete"
    assert [case["case_id"] for case in merged["cases"]] == selected
    before = {case["case_id"]: case for case in whole["cases"]}
    for case in merged["cases"]:
        old = before[case["case_id"]]
        assert case["verdict"] == old["verdict"], case["case_id"]
        assert case["outcome"]["text"] == old["outcome"]["text"], case["case_id"]
        assert case["comparison"] == old["comparison"], case["case_id"]
    assert len(whole["summary"]["by_verdict"]) > 1, "the variant model gave one verdict only"
    assert merged["summary"]["by_verdict"] == whole["summary"]["by_verdict"]
    assert merged["summary"]["cases"] == whole["summary"]["cases"]
    assert merged["gate"]["passed"] == whole["gate"]["passed"]
    assert _rules(merged) == _rules(whole)
    assert merged["identity"] == whole["identity"]
    assert merged["config_hash"] == whole["config_hash"]
    assert merged["selection"]["fingerprint"] == whole["selection"]["fingerprint"]
    assert merged["selection"]["shard"] is None and merged["selection"]["found"] == 30
    assert len(merged["parts"]) == 3


def test_merge_with_a_shard_missing_exits_2(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A gap would gate green on cases nobody replayed: the missing index is named."""
    _parts(capsys, fixture_db, fixtures, 3, "--dry-run", "--limit", "30")
    result = run_cli(capsys, "merge", "part-1.json", "part-3.json", "--out", "merged.json")
    assert result.code == 2
    assert result.err == ("replay: shard 2/3 is missing; pass every part of the --shard i/3 run\n")
    assert not Path("merged.json").exists()


def test_merge_with_a_shard_given_twice_exits_2(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """The same index twice is an overlap, even when the files differ."""
    _parts(capsys, fixture_db, fixtures, 2, "--dry-run", "--limit", "30")
    _replay(
        capsys, fixture_db, fixtures, "again.json", "--dry-run", "--limit", "30", "--shard", "1/2"
    )
    result = run_cli(capsys, "merge", "part-1.json", "part-2.json", "again.json")
    assert result.code == 2
    assert result.err == (
        "replay: shard 1/2 is given twice ('part-1.json', 'again.json'); pass each part once\n"
    )


def test_merge_of_parts_of_different_selections_exits_2(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Parts of another `--limit` are parts of another selection: their fingerprints differ."""
    one = _replay(
        capsys, fixture_db, fixtures, "a.json", "--dry-run", "--limit", "30", "--shard", "1/2"
    )
    two = _replay(
        capsys, fixture_db, fixtures, "b.json", "--dry-run", "--limit", "20", "--shard", "2/2"
    )
    ours, theirs = one["selection"]["fingerprint"], two["selection"]["fingerprint"]
    assert ours != theirs
    result = run_cli(capsys, "merge", "a.json", "b.json")
    assert result.code == 2
    assert result.err == (
        f"replay: 'b.json' is a part of another selection than 'a.json' (fingerprint "
        f"{theirs[:12]}, not {ours[:12]}); merge the parts of one selection\n"
    )


def test_merge_of_parts_of_different_set_ups_exits_2(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """The same selection drafted by another model is another run: the differing field is named."""
    _replay(capsys, fixture_db, fixtures, "a.json", "--dry-run", "--limit", "30", "--shard", "1/2")
    _replay(
        capsys, fixture_db, fixtures, "b.json", "--dry-run", "--limit", "30", "--shard", "2/2",
        "--model", "replay-variant",
    )  # fmt: skip
    result = run_cli(capsys, "merge", "b.json", "a.json")
    assert result.code == 2
    assert result.err == (
        "replay: 'b.json' was run with another set-up than 'a.json' (request.model differ); "
        "merge the parts of one run\n"
    )


def test_merge_of_an_unsharded_run_exits_2(
    capsys: pytest.CaptureFixture[str], workdir: Path, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """A run made without `--shard` is no part."""
    _replay(capsys, fixture_db, fixtures, "whole.json", "--dry-run", "--limit", "5")
    result = run_cli(capsys, "merge", "whole.json")
    assert result.code == 2
    assert result.err == (
        "replay: 'whole.json' records no shard (run without --shard, or stopped before "
        "selecting); merge takes the parts of one --shard i/n run\n"
    )


@pytest.mark.parametrize(
    ("source", "value"),
    [("--shard", "3/2"), ("--shard", "0/2"), ("--shard", "2"), ("--shard", "a/b"),
     ("REPLAY_SHARD", "1/0")],
)  # fmt: skip
def test_a_bad_shard_exits_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    workdir: Path,
    source: str,
    value: str,
) -> None:
    """`i/n` with 1 <= i <= n, or a one-line error naming the flag or its variable."""
    args = ["run", "--client-id", "c", "--dry-run"]
    if source.startswith("--"):
        args += [source, value]
    else:
        monkeypatch.setenv(source, value)
    result = run_cli(capsys, *args)
    assert result.code == 2
    assert result.err == f"replay: {source} must be i/n with 1 <= i <= n, got {value!r}\n"


def test_resume_with_another_shard_exits_2(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """The shard is part of the run's identity: shard 1's run cannot be finished as shard 2."""
    part = _replay(
        capsys, fixture_db, fixtures, "part-1.json", *VARIANT, "--limit", "6", "--shard", "1/2"
    )
    stopped = Path("artifacts") / "run-stopped.json"
    stopped.parent.mkdir(exist_ok=True)
    stopped.write_bytes(orjson.dumps({**part, "status": "interrupted", "exit_code": 130}))
    sent = stub.requests
    result = run_cli(
        capsys, "--client-id", fixtures.clients[0].id, "--database-url", fixture_db, *VARIANT,
        "--limit", "6", "--shard", "2/2", "--resume", str(stopped),
    )  # fmt: skip
    assert result.code == 2
    assert result.err == (
        f"replay: --resume '{stopped}' was started with other selection or pipeline flags "
        "(shard.index differ); rerun the original command with --resume\n"
    )
    assert stub.requests == sent


def test_a_shard_the_hash_leaves_empty_exits_0_and_merges(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """One case over two shards: the other shard is empty, not an empty selection (exit 0)."""
    whole = _replay(capsys, fixture_db, fixtures, "whole.json", *VARIANT, "--limit", "1")
    (case_id,) = whole["selection"]["case_ids"]
    mine = part_of(case_id, 2)
    parts = _parts(capsys, fixture_db, fixtures, 2, *VARIANT, "--limit", "1")
    empty = parts[2 - mine]
    assert empty["status"] == "empty" and empty["exit_code"] == 0
    assert empty["selection"]["case_ids"] == [] and empty["cases"] == []
    assert empty["selection"]["fingerprint"] == whole["selection"]["fingerprint"]
    assert parts[mine - 1]["selection"]["case_ids"] == [case_id]
    result = run_cli(capsys, "merge", "part-1.json", "part-2.json", "--out", "merged.json")
    assert result.code == 0, result.err
    merged = orjson.loads(Path("merged.json").read_bytes())
    assert merged["status"] == "complete"
    assert [case["case_id"] for case in merged["cases"]] == [case_id]
    assert merged["summary"]["by_verdict"] == whole["summary"]["by_verdict"]
