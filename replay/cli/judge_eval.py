"""`replay judge-eval`: calibrate a judge on a labelled set before trusting it to gate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import anyio
import orjson

from replay.cli.flags import (
    ArtifactsDir,
    ConfigFile,
    JudgeBaseUrl,
    JudgeConcurrency,
    JudgeRetries,
    option,
)
from replay.config import resolve, rules
from replay.config.file import load_toml
from replay.config.runflags import JudgeFlags
from replay.errors import LOCAL_EXTRA, ExitCode, UsageError, missing_extra
from replay.ops import judge_set
from replay.ops.judge_eval import Calibration, evaluate
from replay.ops.judge_metrics import Metrics, Proportion

GENERATED = 60
"""Items of the built-in set when neither --set nor --generated is given."""

JudgeModel = Annotated[
    str | None,
    option(
        "--judge-model",
        rule=rules.text,
        env="REPLAY_JUDGE_MODEL",
        metavar="NAME",
        help="The judge to calibrate. [default: [judge] model]",
    ),
]
LabelledSetFile = Annotated[
    Path | None,
    option(
        "--set",
        metavar="FILE",
        help="Your labelled set (JSON; see docs/how-to/judge.md). [default: the built-in set]",
    ),
]
Generated = Annotated[
    int | None,
    option(
        "--generated",
        rule=rules.count,
        metavar="N",
        help=f"Items of the built-in set: injected mistakes and faithful rewordings. "
        f"[default: {GENERATED}]",
    ),
]
Format = Annotated[
    Literal["text", "json"],
    option(
        "--format",
        rule=rules.choice("text", "json"),
        metavar="text|json",
        help="Output: a table, or the calibration record. [default: text]",
    ),
]


def judge_eval_command(
    judge_model: JudgeModel = None,
    judge_base_url: JudgeBaseUrl = None,
    judge_concurrency: JudgeConcurrency = None,
    judge_retries: JudgeRetries = None,
    labelled_set: LabelledSetFile = None,
    generated: Generated = None,
    output: Format = "text",
    artifacts_dir: ArtifactsDir = None,
    config: ConfigFile = None,
) -> int:
    """Measure a judge on labelled pairs: agreement, precision, recall, position bias.

    The calibration is kept under the artifact directory; a later run with the same judge
    model and rubric records it. Exit 0 when measured, 2 on a bad flag or set, 3 when the
    judge cannot be reached.
    """
    toml = load_toml(config)
    if labelled_set is not None and generated is not None:
        raise UsageError("--set and --generated N are alternatives; pass one of them")
    flags = JudgeFlags(judge_model, judge_base_url, judge_concurrency, judge_retries, True)
    judge = resolve.judge(toml, flags)
    if judge is None:
        raise UsageError("judge-eval needs a judge: pass --judge-model NAME or set [judge] model")
    labelled = judge_set.read(labelled_set) if labelled_set else _built_in(generated or GENERATED)
    folder = resolve.artifacts_dir(toml, artifacts_dir)
    prices = resolve.prices(toml)
    record, path = anyio.run(lambda: evaluate(labelled, judge, folder, prices))
    if output == "json":
        print(orjson.dumps(record.model_dump(mode="json"), option=orjson.OPT_INDENT_2).decode())
    else:
        print(calibration_text(record))
        print(f"calibration: {path}")
    return ExitCode.OK


def _built_in(count: int) -> judge_set.LabelledSet:
    """The built-in set of `count` items, read as a team's set is."""
    try:
        from replay.devtools import judgeset  # the fixture generator and the model server's drafts
    except ModuleNotFoundError as exc:
        if exc.name not in LOCAL_EXTRA:
            raise
        raise missing_extra("replay judge-eval without --set", exc) from None
    data = judgeset.generated(count)
    return judge_set.parse(
        data, flag="--generated", name=data["name"], source="generated", path=None
    )


def calibration_text(record: Calibration) -> str:
    """The calibration as a terminal table: figures with intervals, then where it went wrong."""
    used = record.labelled_set
    lines = [
        f"judge {record.model} at {record.endpoint}, rubric {record.rubric_version} "
        f"({record.rubric_hash[:12]})",
        f"set {used.name}: {used.items} items, sha256 {used.sha256[:12]}",
        "",
        f"{'':<30}{'value':>7}  {'95% interval':<17}{'count':>9}",
    ]
    lines += _rows(record.metrics)
    lines += ["", "labels (rows) by verdicts (columns)"]
    verdicts = next(iter(record.confusion.values())).keys()
    lines.append(f"{'':<10}" + "".join(f"{verdict:>10}" for verdict in verdicts))
    for label, row in record.confusion.items():
        lines.append(f"{label:<10}" + "".join(f"{row[verdict]:>10}" for verdict in verdicts))
    if record.criteria:
        lines += ["", "per criterion, over the items labelled on it"]
        heads = ("agreement", "precision", "recall", "flips")
        lines.append((f"{'':<12}{'items':>6}  " + "".join(f"{h:<19}" for h in heads)).rstrip())
        for name, metrics in record.criteria.items():
            shares = (metrics.agreement, metrics.precision, metrics.recall, metrics.position_bias)
            cells = "".join(f"{_cell(share):<19}" for share in shares)
            lines.append(f"{name:<12}{metrics.items:>6}  {cells}".rstrip())
    if record.kinds:
        lines += ["", "agreement per kind"]
        lines += [_row(f"  {kind}", share) for kind, share in record.kinds.items()]
    return "\n".join(lines)


def _rows(metrics: Metrics) -> list[str]:
    rows = [
        ("agreement", metrics.agreement),
        ("prefers original: precision", metrics.precision),
        ("prefers original: recall", metrics.recall),
        ("position bias (flips)", metrics.position_bias),
        ("unscored", metrics.unscored),
        ("judge errors", metrics.errors),
    ]
    if metrics.corrected is not None:
        rows.append(("answers needing correction", metrics.corrected))
    return [_row(name, share) for name, share in rows]


def _row(name: str, share: Proportion) -> str:
    if share.value is None or share.low is None or share.high is None:
        return f"{name:<30}{'-':>7}  {'':<17}{share.count:>4}/{share.of}"
    interval = f"[{share.low:.3f}, {share.high:.3f}]"
    return f"{name:<30}{share.value:>7.3f}  {interval:<17}{share.count:>4}/{share.of}"


def _cell(share: Proportion) -> str:
    if share.value is None or share.low is None or share.high is None:
        return "-"
    return f"{share.value:.2f} [{share.low:.2f}-{share.high:.2f}]"
