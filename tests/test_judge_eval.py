"""`replay judge-eval`: a judge measured on labelled pairs before it may gate a run."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import orjson
import pytest

from replay.devtools import judgeset
from replay.devtools.generator import FixtureSummary
from replay.devtools.stub_model import StubServer
from replay.ops.judge_eval import calibration_path
from replay.ops.judge_metrics import wilson
from replay.run.judge import RUBRIC_HASH
from tests.helpers import STUB_KEY, replay_to, run_cli

ITEMS = 40
EXPECTED = "expected a JSON list of items, each with context, original, new and label"


def _measured(capsys: pytest.CaptureFixture[str], model: str, *args: str) -> dict[str, Any]:
    result = run_cli(capsys, "judge-eval", "--judge-model", model, "--format", "json", *args)
    assert result.code == 0, result.err
    record: dict[str, Any] = orjson.loads(result.out)
    return record


def _value(record: dict[str, Any], metric: str) -> float:
    value = record["metrics"][metric]["value"]
    assert isinstance(value, float), (metric, value)
    return value


def test_the_numbers_tell_the_honest_the_biased_the_sloppy_and_the_broken_judge_apart(
    capsys: pytest.CaptureFixture[str], stub: StubServer
) -> None:
    """The built-in set: each misbehaviour of the local judges shows in its own numbers."""
    generated = ("--generated", str(ITEMS))
    honest = _measured(capsys, "replay-judge", *generated)
    biased = _measured(capsys, "judge-prefers-a", *generated)
    sloppy = _measured(capsys, "judge-sloppy", *generated)
    broken = _measured(capsys, "judge-garbage", *generated)
    assert honest["labelled_set"]["items"] == ITEMS
    assert honest["labelled_set"]["sha256"] == biased["labelled_set"]["sha256"], "deterministic"

    # The honest judge: never fooled by position, never unscored, right whenever it prefers.
    assert _value(honest, "agreement") >= 0.6
    assert _value(honest, "precision") == 1.0
    assert 0.4 <= _value(honest, "recall") < 1.0, "it misses the shape mistakes its rubric omits"
    assert honest["metrics"]["position_bias"]["count"] == 0
    assert honest["metrics"]["position_bias"]["of"] > ITEMS * 0.9
    assert _value(honest, "unscored") == 0.0 and _value(honest, "errors") == 0.0
    assert _value(honest, "corrected") == 0.0
    assert honest["criteria"]["supported"]["agreement"]["value"] == 1.0
    assert honest["kinds"]["unsupported_price"]["value"] == 1.0
    assert honest["kinds"]["rewording"]["value"] == 1.0

    # The position-biased judge: every verdict flips with the order, so every pair is a tie.
    assert _value(biased, "position_bias") == 1.0
    assert _value(biased, "recall") == 0.0
    assert biased["metrics"]["precision"]["of"] == 0
    ties = sum(honest["confusion"]["tie"].values()) / ITEMS
    assert _value(biased, "agreement") == pytest.approx(ties, abs=1e-4)
    assert honest["metrics"]["agreement"]["low"] > biased["metrics"]["agreement"]["high"]

    # The sloppy judge answers prose first and, corrected, prefers the longer draft: it needs
    # correcting every time, and a made-up price or a padded SMS reads as "more thorough".
    assert _value(sloppy, "corrected") == 1.0
    assert honest["metrics"]["corrected"]["high"] < sloppy["metrics"]["corrected"]["low"]
    assert honest["metrics"]["agreement"]["low"] > sloppy["metrics"]["agreement"]["high"]
    assert honest["metrics"]["precision"]["low"] > sloppy["metrics"]["precision"]["high"]
    assert sloppy["metrics"]["position_bias"]["count"] == 0, "sloppy, not position-biased"

    # A judge that never answers in the schema is unscored throughout, and agrees with nothing.
    assert _value(broken, "unscored") == 1.0
    assert _value(broken, "agreement") == 0.0
    assert broken["metrics"]["position_bias"]["of"] == 0


def test_the_text_table_and_the_calibration_file(
    capsys: pytest.CaptureFixture[str], stub: StubServer, workdir: Path
) -> None:
    """The table shows each figure with its interval; the record lands in the artifact folder."""
    result = run_cli(capsys, "judge-eval", "--judge-model", "judge-prefers-a", "--generated", "8")
    assert result.code == 0, result.err
    path = (
        Path(".artifacts/ai-replay/judge-calibration") / f"judge-prefers-a-{RUBRIC_HASH[:12]}.json"
    )
    assert calibration_path(Path(".artifacts/ai-replay"), "judge-prefers-a") == path
    assert result.out.splitlines()[-1] == f"calibration: {path}"
    assert "position bias (flips)           1.000  [0.676, 1.000]      8/8" in result.out
    record = orjson.loads(path.read_bytes())
    assert record["kind"] == "judge-calibration"
    assert record["model"] == "judge-prefers-a" and record["rubric_hash"] == RUBRIC_HASH
    assert record["endpoint"] == stub.base_url
    assert record["labelled_set"]["name"] == "generated-8"
    assert STUB_KEY not in path.read_text()
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")], "written atomically"


def _team_set() -> list[dict[str, Any]]:
    """Three pairs a person labelled: a made-up price, a leftover placeholder, a rewording."""
    context = {
        "channel": "email",
        "inbound_subject": "Window cleaning",
        "inbound_body": "How much is a window cleaning for a two-storey house?",
        "thread": [],
        "facts": {
            "client": {
                "price_list": [{"item": "Window cleaning, two storeys", "price": "$180"}],
                "booking_link": "https://book.example.com/shine",
                "signature": "Sam Ortiz, Shine Co",
            },
            "lead": {"first_name": "Dana", "last_name": "Kim", "company": "Kim Dental"},
        },
    }
    good = (
        "Hi Dana,\n\nA window cleaning for a two-storey house is $180. You can book a time here: "
        "https://book.example.com/shine\n\nBest,\nSam Ortiz, Shine Co"
    )
    reworded = (
        "Hello Dana,\n\nFor a two-storey house, window cleaning is $180. Pick a time that suits "
        "you: https://book.example.com/shine\n\nThanks,\nSam Ortiz, Shine Co"
    )
    return [
        {
            "id": "made-up-price",
            "context": context,
            "original": good,
            "new": good.replace("$180", "$149"),
            "label": "original",
            "criteria": {"supported": "original"},
            "kind": "unsupported_price",
        },
        {
            "context": context,
            "original": good.replace("Hi Dana,", "Hi {first_name},"),
            "new": good,
            "label": "new",
            "criteria": {"policy": "new"},
        },
        {"context": context, "original": good, "new": reworded, "label": "tie"},
    ]


def test_a_teams_own_set_round_trips(
    capsys: pytest.CaptureFixture[str], stub: StubServer, workdir: Path
) -> None:
    """A set written by hand is judged item by item; its digest ignores the file's layout."""
    Path("ours.json").write_bytes(orjson.dumps(_team_set()))
    Path("ours-named.json").write_bytes(
        orjson.dumps({"name": "acme", "items": _team_set()}, option=orjson.OPT_INDENT_2)
    )
    first = _measured(capsys, "replay-judge", "--set", "ours.json")
    again = _measured(capsys, "replay-judge", "--set", "ours-named.json")
    assert first["labelled_set"] | {"name": "ours", "path": "ours.json"} == first["labelled_set"]
    assert first["labelled_set"]["source"] == "file" and first["labelled_set"]["items"] == 3
    assert again["labelled_set"]["name"] == "acme"
    assert again["labelled_set"]["sha256"] == first["labelled_set"]["sha256"]
    assert first["metrics"]["agreement"]["count"] == 3, first["misses"]
    assert first["criteria"]["supported"]["recall"]["value"] == 1.0
    assert first["criteria"]["policy"]["agreement"]["value"] == 1.0
    assert first["kinds"] == {"unsupported_price": wilson(1, 1).model_dump()}
    relabelled = _team_set()
    relabelled[2]["label"] = "new"
    Path("relabelled.json").write_bytes(orjson.dumps(relabelled))
    changed = _measured(capsys, "replay-judge", "--set", "relabelled.json")
    assert changed["labelled_set"]["sha256"] != first["labelled_set"]["sha256"]
    assert changed["misses"] == [{"id": "item-3", "kind": None, "label": "new", "verdict": "tie"}]


def test_a_bad_set_file_is_one_line_naming_the_file_and_the_first_problem(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    """Exit 2 before any judge is asked, naming the item and field as the file has them."""
    items = _team_set()
    items[1]["label"] = "better"
    del items[2]["new"]
    Path("bad.json").write_bytes(orjson.dumps(items))
    result = run_cli(capsys, "judge-eval", "--judge-model", "replay-judge", "--set", "bad.json")
    assert result.code == 2
    assert result.err == (
        "replay: --set 'bad.json': item 2 label: input should be 'original', 'new' or 'tie', "
        f"got 'better'; {EXPECTED}\n"
    )
    Path("empty.json").write_bytes(b"[]")
    empty = run_cli(capsys, "judge-eval", "--judge-model", "replay-judge", "--set", "empty.json")
    assert (empty.code, empty.err) == (2, f"replay: --set 'empty.json' lists no item; {EXPECTED}\n")
    both = run_cli(
        capsys, "judge-eval", "--judge-model", "x", "--set", "bad.json", "--generated", "5"
    )
    assert (both.code, both.err) == (
        2,
        "replay: --set and --generated N are alternatives; pass one of them\n",
    )
    nobody = run_cli(capsys, "judge-eval")
    assert nobody.code == 2
    assert nobody.err == (
        "replay: judge-eval needs a judge: pass --judge-model NAME or set [judge] model\n"
    )


def test_an_unreachable_judge_exits_3_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    """Nothing listens at the judge's URL: the preflight's one line, no calibration file."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    monkeypatch.setenv("OPENAI_API_KEY", STUB_KEY)
    args = ("judge-eval", "--judge-model", "replay-judge", "--judge-base-url", url)
    result = run_cli(capsys, *args, "--generated", "4")
    assert result.code == 3
    assert result.err == f"replay: judge endpoint {url} is unreachable\n"
    assert not calibration_path(Path(".artifacts/ai-replay"), "replay-judge").exists()


def test_a_run_with_the_judge_records_its_last_calibration(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """The same model and rubric: the run's config carries the calibration's summary."""
    measured = _measured(capsys, "replay-judge", "--generated", "12")
    client = fixtures.clients[0].id
    args = ("--no-gate", "--model", "replay-variant", "--limit", "3")
    result, artifact = replay_to(
        capsys, fixture_db, client, "run.json", *args, "--judge-model", "replay-judge"
    )
    assert result.code == 0, result.err
    path = calibration_path(Path(".artifacts/ai-replay"), "replay-judge")
    assert artifact["config"]["judge"]["calibration"] == {
        "path": str(path),
        "created_at": measured["created_at"],
        "set": "generated-12",
        "items": 12,
        "agreement": measured["metrics"]["agreement"]["value"],
        "recall": measured["metrics"]["recall"]["value"],
        "position_bias": 0.0,
        "unscored": 0.0,
    }
    assert artifact["config"]["judge"]["model"] == "replay-judge"
    _, uncalibrated = replay_to(
        capsys, fixture_db, client, "other.json", *args, "--judge-model", "judge-prefers-a"
    )
    assert "calibration" not in uncalibrated["config"]["judge"]


def test_a_set_harvested_from_a_judged_run_as_the_how_to_shows(
    capsys: pytest.CaptureFixture[str], stub: StubServer, fixture_db: str, fixtures: FixtureSummary
) -> None:
    """The how-to's jq recipe: unlabelled items are refused; labelled, they are judged."""
    client = fixtures.clients[0].id
    args = ("--no-gate", "--model", "replay-variant", "--limit", "8")
    _, artifact = replay_to(
        capsys, fixture_db, client, "run.json", *args, "--judge-model", "replay-judge"
    )
    items = [
        {
            "id": case["case_id"],
            "context": case["judge"]["context"],
            "original": case["original"]["draft"],
            "new": case["outcome"]["text"],
            "label": "?",
        }
        for case in artifact["cases"]
        if case.get("judge") and case["judge"].get("context")
    ]
    assert len(items) >= 5
    Path("labelled.json").write_bytes(orjson.dumps(items))
    refused = run_cli(
        capsys, "judge-eval", "--judge-model", "replay-judge", "--set", "labelled.json"
    )
    assert refused.code == 2
    assert refused.err.startswith("replay: --set 'labelled.json': item 1 label: input should be ")
    verdicts = {case["case_id"]: case["judge"]["verdict"] for case in artifact["cases"]}
    for item in items:
        item["label"] = verdicts[item["id"]]
    Path("labelled.json").write_bytes(orjson.dumps(items))
    record = _measured(capsys, "replay-judge", "--set", "labelled.json")
    assert record["metrics"]["agreement"]["count"] == len(items), record["misses"]


def test_the_built_in_set_is_deterministic_and_labelled_by_making() -> None:
    """Same N, same items; every mistake pair differs, labels take their seats in turn."""
    first, again = judgeset.generated(16), judgeset.generated(16)
    assert first == again
    items = first["items"]
    assert [item["label"] for item in items[:4]] == ["original", "original", "new", "tie"]
    for item in items:
        if item["label"] != "tie":
            assert item["original"] != item["new"], item["kind"]
            assert item["kind"] != "rewording"
        else:
            assert item["kind"] == "rewording"
    kinds = {item["kind"] for item in items if item["label"] != "tie"}
    assert len(kinds) >= 6, "the mistakes take turns"


def test_wilson_intervals_match_the_textbook() -> None:
    """5 of 10 is [0.2366, 0.7634]; 0 of 10 reaches 0.2775; nothing of nothing has no value."""
    half = wilson(5, 10)
    assert (half.value, half.low, half.high) == (0.5, 0.2366, 0.7634)
    none = wilson(0, 10)
    assert (none.low, none.high) == (0.0, 0.2775)
    empty = wilson(0, 0)
    assert (empty.value, empty.low, empty.high) == (None, None, None)
