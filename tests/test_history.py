"""The run index: entries from artifacts, appends, rebuilds, trends and the trend page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from replay.artifacts import history
from replay.artifacts.load import load_run
from replay.models import Gate, Mode, RunArtifact, Selection, Summary
from replay.report import trend
from tests.helpers import run_cli

START = datetime(2026, 11, 26, 19, 0, tzinfo=UTC)
CLIENT = "client-a"


def artifact(
    minute: int,
    *,
    client: str = CLIENT,
    mode: Mode = "live",
    regressed: int = 1,
    errors: int = 0,
    sent: float | None = 0.5,
    cost: float | None = 0.004,
    gate: bool | None = False,
    request: dict[str, Any] | None = None,
    sources: dict[str, int] | None = None,
) -> RunArtifact:
    """A run of 4 cases (1 invalid) started `minute` minutes after START."""
    created = START + timedelta(minutes=minute)
    if mode == "live":
        by_verdict = {"changed": 3 - regressed - errors, "regressed": regressed, "error": errors}
    else:
        by_verdict = {"selected": 3}
    by_verdict = {k: v for k, v in by_verdict.items() if v} | {"invalid_case": 1}
    return RunArtifact(
        run_id=f"run-{minute}",
        created_at=created,
        finished_at=created + timedelta(seconds=30),
        tool_version="0.1.0",
        mode=mode,
        status="complete",
        exit_code=0 if gate else 1,
        config={"request": request or {"pipeline": "openai", "model": "m-1"}},
        identity={"selection": {"client_id": client}},
        selection=Selection(client_id=client, requested=4, found=4),
        summary=Summary(
            cases=4,
            by_verdict=by_verdict,
            by_channel={},
            by_request_source=sources or {},
            estimated_input_tokens=0,
            estimated_output_tokens=0,
            estimated_cost_usd=None,
            cost_usd=cost,
            sent_similarity_new_mean=sent,
        ),
        gate=None if gate is None else Gate(passed=gate),
    )


def save(directory: Path, run: RunArtifact) -> Path:
    """Write `run` as its artifact file in `directory`, named by its start time."""
    stamp = run.created_at.strftime("%Y-%m-%dT%H-%M-%S-000Z")
    path = directory / f"run-{stamp}.json"
    path.write_text(run.model_dump_json())
    return path


def index_entry(directory: Path, run: RunArtifact) -> dict[str, Any]:
    """Save the artifact and return its index line."""
    path = save(directory, run)
    return history.entry_of(load_run(path), path)


def lines(directory: Path) -> list[bytes]:
    return (directory / history.INDEX).read_bytes().splitlines()


def test_entry_of_reads_every_field(tmp_path: Path) -> None:
    """One line carries who, what, how it went and where the artifact is."""
    entry = index_entry(tmp_path, artifact(5, regressed=1, errors=1))
    assert entry == {
        "time": "2026-11-26T19:05:00Z",
        "finished_at": "2026-11-26T19:05:30Z",
        "run_id": "run-5",
        "client_id": CLIENT,
        "pipeline": "openai",
        "model": "m-1",
        "mode": "live",
        "status": "complete",
        "exit_code": 1,
        "cases": 4,
        "by_verdict": {"changed": 1, "regressed": 1, "error": 1, "invalid_case": 1},
        "error_rate": 0.3333,  # 1 error of the 3 cases that ran
        "regressed": 1,
        "similarity_to_sent_mean": 0.5,
        "cost_usd": 0.004,
        "cost_per_case": 0.001333,
        "gate_passed": False,
        "path": "run-2026-11-26T19-05-00-000Z.json",
    }
    assert tuple(entry) == history.KEYS


def test_entry_of_dry_run_has_no_rates(tmp_path: Path) -> None:
    """Nothing ran in a dry run: regressed, error rate and cost per case are None."""
    entry = index_entry(tmp_path, artifact(1, mode="dry", gate=None, sent=None))
    assert (entry["mode"], entry["regressed"], entry["error_rate"]) == ("dry", None, None)
    assert (entry["cost_per_case"], entry["gate_passed"]) == (None, None)


def test_entry_of_old_artifact_without_identity_or_summary(tmp_path: Path) -> None:
    """An artifact from before `identity` (or a blocked one) still gives a line of Nones."""
    data = RunArtifact(
        run_id="x",
        created_at=START,
        tool_version="0.1.0",
        mode="live",
        status="blocked",
        exit_code=3,
        config={},
    )
    entry = history.entry_of(data, tmp_path / "run-x.json")
    assert (entry["client_id"], entry["pipeline"], entry["model"]) == (None, None, None)
    assert (entry["cases"], entry["by_verdict"], entry["regressed"]) == (0, {}, None)


OPENAI = {"pipeline": "openai", "request_source": "auto", "default_model": "gpt-4o-mini"}


@pytest.mark.parametrize(
    ("config", "model"),
    [
        pytest.param(OPENAI | {"model": "m-1"}, "m-1", id="openai-model"),
        pytest.param(OPENAI, None, id="openai-each-case-its-own"),
        pytest.param({"pipeline": "python:team.pipe:draft"}, None, id="python"),
        pytest.param(
            {"pipeline": "python:team.pipe:draft", "model": "gpt-5.1"}, "gpt-5.1", id="python-model"
        ),
        pytest.param(OPENAI | {"pipeline": "https://d.example/draft"}, None, id="http"),
    ],
)
def test_entry_model_is_the_model_the_run_recorded(
    tmp_path: Path, config: dict[str, Any], model: str | None
) -> None:
    """`--model` when the run had one, else None: the default or a request source never is."""
    entry = index_entry(tmp_path, artifact(1, request=config, sources={"rendered": 3}))
    assert (entry["pipeline"], entry["model"]) == (config["pipeline"], model)


def test_history_shows_the_pipeline_and_never_a_request_source_as_model(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    """The table has a pipeline column; a model the run does not name is a dash, an URL safe."""
    folder = workdir / "arts"
    folder.mkdir()
    secret = "https://bot:tok3n@drafts.example.com/v1/draft?key=SEKRET"
    for minute, request in enumerate(
        [
            OPENAI | {"model": "gpt-4o"},
            {"pipeline": "python:team.pipe:draft"},
            {"pipeline": secret, "model": "gpt-5.1"},
        ]
    ):
        save(folder, artifact(minute, request=request))
    result = run_cli(capsys, "history", "--artifacts-dir", "arts", "--out", "h.html")
    assert result.code == 0, result.err
    table = [line.split() for line in result.out.splitlines()[:4]]
    assert table[0] == [
        "time", "client", "pipeline", "model", "cases", "regressed", "errors", "sent", "sim",
        "$/case", "gate",
    ]  # fmt: skip
    assert [row[3:5] for row in table[1:]] == [
        ["openai", "gpt-4o"],
        ["python:team.pipe:draft", "\N{EM DASH}"],
        ["https://drafts.example.com/v1/draft", "gpt-5.1"],
    ]
    assert "recorded" not in result.out
    assert "tok3n" not in result.out and "SEKRET" not in result.out


def test_append_then_read(tmp_path: Path) -> None:
    """Appended entries come back in time order, one line each."""
    first = index_entry(tmp_path, artifact(1))
    (tmp_path / history.INDEX).write_bytes(b"")  # an existing, empty index
    later = index_entry(tmp_path, artifact(9))
    history.append(tmp_path, later)
    history.append(tmp_path, first)
    assert history.read(tmp_path) == [first, later]
    assert len(lines(tmp_path)) == 2


def test_append_refuses_an_entry_that_would_corrupt_the_index(tmp_path: Path) -> None:
    """An entry without every key is refused before anything is written."""
    with pytest.raises(ValueError, match="not a history entry"):
        history.append(tmp_path, {"time": "2026-11-26T19:00:00Z", "path": "run-x.json"})
    assert not (tmp_path / history.INDEX).exists()


def test_first_append_indexes_existing_artifacts(tmp_path: Path) -> None:
    """With no index yet, append rebuilds from the artifacts and does not add a duplicate."""
    older = index_entry(tmp_path, artifact(1))
    new = index_entry(tmp_path, artifact(2))
    history.append(tmp_path, new)
    assert history.read(tmp_path) == [older, new]
    assert len(lines(tmp_path)) == 2


def test_read_rebuilds_missing_index(tmp_path: Path) -> None:
    """No index: rebuilt from run artifacts; partials, compares, junk and timeless runs skipped."""
    a = index_entry(tmp_path, artifact(3))
    b = index_entry(tmp_path, artifact(1, mode="dry", gate=None))
    (tmp_path / "run-2026-11-26T19-07-00-000Z.partial.jsonl").write_text('{"header": {}}\n')
    (tmp_path / "run-2026-11-26T19-08-00-000Z.json").write_text('{"kind": "run", "created')
    (tmp_path / "compare-2026-11-26T19-09-00-000Z.json").write_text('{"kind": "run"}')
    (tmp_path / "run-2026-11-26T19-10-00-000Z.json").write_text('{"kind": "compare"}')
    (tmp_path / "run-2026-11-26T19-11-00-000Z.json").write_text('{"kind": "run", "mode": "dry"}')
    assert history.read(tmp_path) == [b, a]
    assert [orjson.loads(line) for line in lines(tmp_path)] == [b, a]


def test_read_of_missing_directory_writes_nothing(tmp_path: Path) -> None:
    """Reading a directory that does not exist returns nothing and creates nothing."""
    assert history.read(tmp_path / "absent") == []
    assert not (tmp_path / "absent").exists()


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(b"not json", id="not-json"),
        pytest.param(b'{"time": "2026-11-26T19:00:00Z"}', id="missing-keys"),
        pytest.param(b"", id="blank-line"),
        pytest.param(b"[1, 2]", id="not-an-object"),
        pytest.param(orjson.dumps(dict.fromkeys(history.KEYS, "x")), id="time-not-iso"),
        pytest.param(orjson.dumps(dict.fromkeys(history.KEYS)), id="time-null"),
    ],
)
def test_corrupt_middle_line_rebuilds(tmp_path: Path, bad: bytes) -> None:
    """A corrupt complete line means the index is rebuilt from the artifacts."""
    a = index_entry(tmp_path, artifact(1))
    b = index_entry(tmp_path, artifact(2))
    (tmp_path / history.INDEX).write_bytes(orjson.dumps(a) + b"\n" + bad + b"\n")
    assert history.read(tmp_path) == [a, b]
    assert [orjson.loads(line) for line in lines(tmp_path)] == [a, b]


def test_torn_last_line_is_ignored_not_rebuilt(tmp_path: Path) -> None:
    """A last line without its newline (maybe an append in flight) is skipped; file untouched."""
    a = index_entry(tmp_path, artifact(1))
    b = index_entry(tmp_path, artifact(2))
    content = orjson.dumps(a) + b"\n" + orjson.dumps(b)[:25]
    (tmp_path / history.INDEX).write_bytes(content)
    assert history.read(tmp_path) == [a]
    assert (tmp_path / history.INDEX).read_bytes() == content


def test_torn_line_heals_at_next_append(tmp_path: Path) -> None:
    """The next append joins the torn fragment into a corrupt line: the read rebuilds all."""
    a = index_entry(tmp_path, artifact(1))
    b = index_entry(tmp_path, artifact(2))
    (tmp_path / history.INDEX).write_bytes(orjson.dumps(a) + b"\n" + orjson.dumps(b)[:25])
    c = index_entry(tmp_path, artifact(3))
    history.append(tmp_path, c)
    assert history.read(tmp_path) == [a, b, c]
    assert len(lines(tmp_path)) == 3


def test_rebuild_explicitly(tmp_path: Path) -> None:
    """rebuild() rewrites a valid but stale index from the artifacts on disk."""
    a = index_entry(tmp_path, artifact(1))
    history.append(tmp_path, a)
    b = index_entry(tmp_path, artifact(2))  # written, never appended
    assert history.read(tmp_path) == [a]
    assert history.rebuild(tmp_path) == [a, b]
    assert history.read(tmp_path) == [a, b]


def test_same_artifact_twice_keeps_last_line(tmp_path: Path) -> None:
    """A run resumed into the same file has two lines; the later one counts."""
    first = index_entry(tmp_path, artifact(1))
    (tmp_path / history.INDEX).write_bytes(b"")
    history.append(tmp_path, first | {"status": "interrupted"})
    history.append(tmp_path, first)
    assert history.read(tmp_path) == [first]


def test_time_order_is_by_instant_not_text(tmp_path: Path) -> None:
    """A time without fractional seconds sorts by its instant, not as text."""
    whole = index_entry(tmp_path, artifact(1))
    later = whole | {"time": "2026-11-26T19:01:00.500Z", "path": "run-b.json"}
    assert whole["time"] == "2026-11-26T19:01:00Z" and later["time"] < whole["time"]
    index = orjson.dumps(later) + b"\n" + orjson.dumps(whole) + b"\n"
    (tmp_path / history.INDEX).write_bytes(index)
    assert [e["path"] for e in history.read(tmp_path)] == [whole["path"], "run-b.json"]


def test_trend_filters_live_client_and_last(tmp_path: Path) -> None:
    """Trend keeps live runs of the client, the last N, oldest first."""
    runs = [
        artifact(1),
        artifact(2, client="client-b"),
        artifact(3, mode="dry", gate=None),
        artifact(4),
        artifact(5),
    ]
    entries = [index_entry(tmp_path, run) for run in runs]
    picked = history.trend(reversed(entries), client_id=CLIENT, last=2)
    assert [e["run_id"] for e in picked] == ["run-4", "run-5"]
    everyone = history.trend(entries, client_id=None, last=10)
    assert [e["run_id"] for e in everyone] == ["run-1", "run-2", "run-4", "run-5"]
    assert history.trend(entries, client_id=CLIENT, last=0) == []


HOSTILE = "<script>alert(1)</script>"


def test_render_html_escapes_and_loads_nothing(tmp_path: Path) -> None:
    """A hostile client id is escaped; the page has no script and no external URL."""
    entries = [
        index_entry(tmp_path, artifact(1, client=HOSTILE)),
        index_entry(tmp_path, artifact(2, client=HOSTILE, regressed=0, gate=True)),
    ]
    page = trend.render_html(entries, title=f"history of {HOSTILE}")
    assert HOSTILE not in page and "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"(src|href)\s*=", page) and "http" not in page
    assert page.count("<svg") == 4 and page.count("<polyline") == 4
    assert "11-26 19:01" in page and "11-26 19:02" in page


def test_render_html_none_values_are_gaps(tmp_path: Path) -> None:
    """A run without similarity or cost breaks the line there instead of plotting zero."""
    entries = [
        index_entry(tmp_path, artifact(1)),
        index_entry(tmp_path, artifact(2, sent=None, cost=None)),
        index_entry(tmp_path, artifact(3)),
    ]
    page = trend.render_html(entries, title="t")
    charts = page.split("<figure>")[1:]
    similarity, cost = charts[2], charts[3]
    assert "<polyline" not in similarity and similarity.count("<circle") == 2
    assert "<polyline" not in cost and cost.count("<circle") == 2
    assert charts[0].count("<polyline") == 1 and charts[0].count("<circle") == 3
    assert "\N{EM DASH}" in page  # the table shows the missing values


def test_render_html_single_run_and_empty(tmp_path: Path) -> None:
    """One run is a centred point per chart; no run is a page that says so."""
    one = trend.render_html([index_entry(tmp_path, artifact(1))], title="t")
    assert one.count("<circle") == 4 and "<polyline" not in one
    assert 'cx="215.0"' in one  # the middle of the plot: 64 + (400 - 64 - 34) / 2
    empty = trend.render_html([], title="t")
    assert "No runs to show." in empty and empty.count("no values") == 4


def test_render_html_many_runs_get_four_time_labels(tmp_path: Path) -> None:
    """Ten runs: labels under the first, last and two evenly spread runs only."""
    entries = [index_entry(tmp_path, artifact(minute)) for minute in range(10)]
    page = trend.render_html(entries, title="t")
    regressed = page.split("<figure>")[1]
    assert re.findall(r">(11-26 \d\d:\d\d)</text>", regressed) == [
        "11-26 19:00",
        "11-26 19:03",
        "11-26 19:06",
        "11-26 19:09",
    ]


def test_render_html_shows_a_hand_edited_value_as_is(tmp_path: Path) -> None:
    """A number column holding text or a list is shown escaped, not a crash."""
    entry = index_entry(tmp_path, artifact(1)) | {"cost_usd": "<b>lots</b>", "error_rate": [1, 2]}
    page = trend.render_html([entry], title="t")
    assert '<td class="text">&lt;b&gt;lots&lt;/b&gt;</td>' in page
    assert "<td>[1, 2]</td>" in page
