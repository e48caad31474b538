"""The `openai` pipeline's response cache, through the real CLI against the local model server."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import StubOptions, StubServer, running
from replay.ops import nightly
from tests.helpers import replay_to, run_cli

ARTIFACTS = Path(".artifacts/ai-replay")
STORE = ARTIFACTS / "response-cache"
KEY = "sk-cache-Secret-9876543210"
MODEL = ("--model", "replay-original", "--limit", "8", "--no-gate")
PRICES = '[prices."replay-original"]\ninput = 1.0\noutput = 2.0\n'
"""The stub's model is in no price data: a price of its own makes savings measurable."""


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> Iterator[StubServer]:
    """The local model server, with a key distinctive enough to search the store for."""
    (workdir / "replay.toml").write_text(PRICES)
    with running(StubOptions(api_key=KEY)) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        yield server


def _sent(stub: StubServer) -> int:
    return stub.requests_by_model["replay-original"]


def _ran(artifact: dict[str, Any]) -> list[dict[str, Any]]:
    return [case for case in artifact["cases"] if case["outcome"] is not None]


def _entries() -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in STORE.rglob("*") if path.is_file()}


def test_a_second_identical_run_is_answered_from_the_cache_and_says_so(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """No model request the second time; same drafts and verdicts; nothing paid, the saving told."""
    client = fixtures.clients[0].id
    args = (*MODEL, "--cache", "read-write")
    _, first = replay_to(capsys, fixture_db, client, "first.json", *args)
    sent = _sent(stub)
    ran = _ran(first)
    assert ran and sent == len(ran)
    assert first["summary"]["cache_hits"] == 0 and first["summary"]["cache_misses"] == len(ran)
    assert {case["cache"] for case in ran} == {"miss"}
    assert len(_entries()) == len(ran)

    result = run_cli(
        capsys, "--client-id", client, "--database-url", fixture_db, "--out", "second.json",
        "--summary-md", "summary.md", *args,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert _sent(stub) == sent, "no request reached the model"
    second = orjson.loads(Path("second.json").read_bytes())
    before = {case["case_id"]: case for case in ran}
    again = _ran(second)
    assert {case["case_id"] for case in again} == set(before)
    for case in again:
        old = before[case["case_id"]]
        assert case["outcome"]["text"] == old["outcome"]["text"]
        assert case["verdict"] == old["verdict"]
        assert case["outcome"]["usage"] == old["outcome"]["usage"], "kept for comparisons"
        assert case["outcome"]["cached"] is True and case["cache"] == "hit"
        assert case["cost_usd"] == 0
        assert case["saved_usd"] == pytest.approx(old["cost_usd"])
    summary = second["summary"]
    assert (summary["cache_hits"], summary["cache_misses"]) == (len(ran), 0)
    assert summary["cache_saved_usd"] == pytest.approx(first["summary"]["cost_usd"], abs=1e-6)
    assert summary["cache_saved_usd"] > 0
    assert (summary["cost_usd"], summary["prompt_tokens"], summary["completion_tokens"]) == (
        0,
        0,
        0,
    )
    assert summary["latency_ms_p50"] is None, "a disk read is not a model's latency"
    assert summary["not_measured"]["latency_ms_p50"] == "every draft came from the response cache"
    assert second["config"]["cache"] == {"mode": "read-write", "max_mb": 512}
    line = f"cache       {len(ran)} hits, 0 misses, saved ${summary['cache_saved_usd']:.4f}"
    assert line in result.out
    assert f"| cache | {len(ran)} hits, 0 misses, saved $" in Path("summary.md").read_text()


def test_a_changed_request_misses(
    capsys: pytest.CaptureFixture[str],
    stub: StubServer,
    fixture_db: str,
    fixtures: FixtureSummary,
    workdir: Path,
) -> None:
    """Another temperature or system prompt is another request: it is sent again."""
    client = fixtures.clients[0].id
    args = (*MODEL, "--cache", "read-write", "--request-source", "rendered")
    _, first = replay_to(capsys, fixture_db, client, "a.json", *args, "--temperature", "0.2")
    ran = len(_ran(first))
    assert _sent(stub) == ran
    _, hotter = replay_to(capsys, fixture_db, client, "b.json", *args, "--temperature", "0.7")
    assert _sent(stub) == 2 * ran
    assert (hotter["summary"]["cache_hits"], hotter["summary"]["cache_misses"]) == (0, ran)
    (workdir / "system.txt").write_text("You write short, kind replies.")
    prompt = ("--temperature", "0.2", "--system-prompt-file", "system.txt")
    replay_to(capsys, fixture_db, client, "c.json", *args, *prompt)
    assert _sent(stub) == 3 * ran
    _, same = replay_to(capsys, fixture_db, client, "d.json", *args, "--temperature", "0.7")
    assert _sent(stub) == 3 * ran, "the second request was kept too"
    assert same["summary"]["cache_hits"] == ran


def test_read_never_writes_and_off_neither_reads_nor_writes(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """`read` misses on an empty store and keeps nothing; `off` (the default) ignores the store."""
    client = fixtures.clients[0].id
    _, read = replay_to(capsys, fixture_db, client, "read.json", *MODEL, "--cache", "read")
    ran = len(_ran(read))
    assert _sent(stub) == ran and _entries() == {}
    assert (read["summary"]["cache_hits"], read["summary"]["cache_misses"]) == (0, ran)

    replay_to(capsys, fixture_db, client, "fill.json", *MODEL, "--cache", "read-write")
    filled = _entries()
    assert len(filled) == ran and _sent(stub) == 2 * ran

    _, off = replay_to(capsys, fixture_db, client, "off.json", *MODEL)
    assert _sent(stub) == 3 * ran, "off reads nothing"
    assert _entries() == filled, "and writes nothing"
    summary = off["summary"]
    for figure in ("cache_hits", "cache_misses", "cache_saved_usd"):
        assert summary[figure] is None, "not measured is not zero"
        assert "--cache off" in summary["not_measured"][figure]
    assert all(case["cache"] is None and not case["outcome"]["cached"] for case in _ran(off))
    assert off["config"]["cache"]["mode"] == "off"

    _, reread = replay_to(capsys, fixture_db, client, "reread.json", *MODEL, "--cache", "read")
    assert _sent(stub) == 3 * ran and reread["summary"]["cache_hits"] == ran
    assert _entries() == filled


def test_the_api_key_never_reaches_either_cache(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """Every file of the response cache and the judge cache is searched for the key."""
    client = fixtures.clients[0].id
    judged = ("--model", "replay-variant", "--judge-model", "replay-judge", "--limit", "8")
    replay_to(capsys, fixture_db, client, "run.json", *judged, "--cache", "read-write")
    files = [path for path in ARTIFACTS.rglob("*") if path.is_file()]
    cached = [path for path in files if path.parts[2] in ("response-cache", "judge-cache")]
    assert {path.parts[2] for path in cached} == {"response-cache", "judge-cache"}
    for path in files:
        data = path.read_bytes()
        assert KEY.encode() not in data and b"Secret-98765" not in data, path


def test_entries_are_private_and_a_corrupt_one_is_a_miss(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """0600 entries in 0700 folders; a torn or foreign entry is asked again and rewritten."""
    client = fixtures.clients[0].id
    args = (*MODEL, "--cache", "read-write")
    _, first = replay_to(capsys, fixture_db, client, "first.json", *args)
    ran = len(_ran(first))
    entries = sorted(_entries())
    assert {oct(stat.S_IMODE(path.stat().st_mode)) for path in entries} == {"0o600"}
    folders = {STORE, *(path.parent for path in entries)}
    assert {oct(stat.S_IMODE(path.stat().st_mode)) for path in folders} == {"0o700"}
    entries[0].write_bytes(b'{"text": "torn')
    entries[1].write_bytes(b'{"answer": "of another shape"}')

    result = run_cli(
        capsys, "--client-id", client, "--database-url", fixture_db, "--out", "second.json", *args
    )
    assert result.code == 0, result.err
    second = orjson.loads(Path("second.json").read_bytes())
    assert _sent(stub) == ran + 2
    assert (second["summary"]["cache_hits"], second["summary"]["cache_misses"]) == (ran - 2, 2)
    assert second["summary"]["latency_ms_p50"] is not None, "of the two answers the model sent"
    assert f"(model answers only; {ran - 2} from the cache left out)" in result.out
    for path in entries[:2]:
        assert orjson.loads(path.read_bytes())["text"], "rewritten with the new answer"


def test_a_store_over_its_bound_is_pruned_oldest_first(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """`--cache-max-mb 1` over 1.2 MB of old entries: the oldest go until the store fits."""
    old = []
    for index in range(12):
        key = f"{index:02x}" + "0" * 62
        path = STORE / key[:2] / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps({"text": "x" * 100_000}))
        moment = time.time() - (20 - index) * 3600  # the first is the oldest
        os.utime(path, (moment, moment))
        old.append(path)
    client = fixtures.clients[0].id
    args = (*MODEL, "--cache", "read-write", "--cache-max-mb", "1")
    _, artifact = replay_to(capsys, fixture_db, client, "run.json", *args)
    ran = len(_ran(artifact))
    size = sum(path.stat().st_size for path in STORE.rglob("*.json"))
    assert size <= 1_000_000
    gone = [path for path in old if not path.exists()]
    assert gone and gone == old[: len(gone)], "the least recently used went first"
    assert len(_entries()) == ran + len(old) - len(gone), "every new answer was kept"
    assert artifact["config"]["cache"]["max_mb"] == 1


def test_nightly_retention_prunes_both_caches(workdir: Path) -> None:
    """Entries neither written nor hit for N days go, from the judge's cache and the pipeline's."""
    folder = workdir / "arts"
    kept: list[Path] = []
    pruned: list[Path] = []
    for name in ("judge-cache", "response-cache"):
        for age_days, into in ((40, pruned), (5, kept)):
            path = folder / name / "ab" / f"ab{age_days:062d}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b'{"text": "x"}')
            moment = time.time() - age_days * 86400
            os.utime(path, (moment, moment))
            into.append(path)
    assert nightly.prune_caches(folder, 30, now=datetime.now(UTC)) == 2
    assert all(path.exists() for path in kept) and not any(path.exists() for path in pruned)


@pytest.mark.parametrize(
    ("args", "toml", "message"),
    [
        (
            ("--cache", "sometimes"),
            "",
            "replay: --cache must be one of read-write, read, off, got 'sometimes'\n",
        ),
        (
            ("--cache-max-mb", "0"),
            "",
            "replay: --cache-max-mb must be a positive integer, got '0'\n",
        ),
        (
            (),
            '[run]\ncache = "always"\n',
            "replay: replay.toml [run] cache must be one of read-write, read, off, got 'always'\n",
        ),
        (
            ("--repeats", "3"),
            '[run]\ncache = "read-write"\n',
            "replay: --repeats 3 measures the model's own noise, but with --cache read-write "
            "every repeat would be the one stored answer: use --cache off\n",
        ),
    ],
)
def test_a_bad_cache_setting_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
    workdir: Path,
    args: tuple[str, ...],
    toml: str,
    message: str,
) -> None:
    """A bad value, from a flag or from replay.toml, and a cache that would hide the noise."""
    (workdir / "replay.toml").write_text(toml)
    db = ("--database-url", "postgresql://nobody@127.0.0.1:9/none")
    result = run_cli(capsys, "--client-id", "c1", *db, *args)
    assert result.code == 2
    assert result.err == message
