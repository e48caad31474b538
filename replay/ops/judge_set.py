"""The labelled set of `replay judge-eval`: pairs of drafts whose better one someone decided.

A set is a JSON list of items (or ``{"name": ..., "items": [...]}``), each the judge's context,
an `original` and a `new` draft, and the `label` saying which is better. A team writes one from
its own cases; the built-in set (`devtools.judgeset`) is built in the same form and read by the
same model, so both are refused in the same words. The digest is taken over the validated
items, so reformatting a file keeps its digest and changing a label changes it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import Field, ValidationError, field_validator

from replay.errors import UsageError
from replay.models import JudgeContext, Strict
from replay.run.judge import CRITERIA

Label = Literal["original", "new", "tie"]
EXPECTED = "expected a JSON list of items, each with context, original, new and label"


class LabelledItem(Strict):
    """One pair of drafts of one case, and which is better."""

    id: str | None = None
    """Names the item in reports and seeds which label the original draft gets first;
    by default its position, `item-1` first."""
    context: JudgeContext
    """What the judge reads besides the drafts: channel, inbound, thread, facts."""
    original: str
    new: str
    label: Label
    """Which draft is better overall, or `tie` when neither is."""
    criteria: dict[str, Label] = Field(default_factory=dict)
    """Which is better on a criterion of the rubric, for the criteria someone labelled."""
    kind: str | None = None
    """What makes the drafts differ (a mistake's name, `rewording`): results are also given
    per kind."""

    @field_validator("criteria")
    @classmethod
    def _known(cls, value: dict[str, Label]) -> dict[str, Label]:
        unknown = sorted(set(value) - set(CRITERIA))
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a criterion (one of {', '.join(CRITERIA)})")
        return value


class _File(Strict):
    name: str | None = None
    items: list[LabelledItem] = Field(min_length=1)


@dataclass(frozen=True)
class LabelledSet:
    """A validated set: its items with their ids, and what it is called and digests to."""

    name: str
    source: Literal["file", "generated"]
    path: str | None
    sha256: str
    items: tuple[LabelledItem, ...]


def read(path: Path) -> LabelledSet:
    """A team's labelled set from `--set FILE`.

    Raises:
        UsageError: the file cannot be read, is not JSON, or its first problem, in one line.
    """
    flag = f"--set {str(path)!r}"
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"{flag} cannot be read ({exc.strerror}); {EXPECTED}") from None
    except orjson.JSONDecodeError:
        raise UsageError(f"{flag} is not JSON; {EXPECTED}") from None
    return parse(data, flag=flag, name=path.stem, source="file", path=str(path))


def parse(
    data: Any, *, flag: str, name: str, source: Literal["file", "generated"], path: str | None
) -> LabelledSet:
    """Validate a set's JSON; `flag` names it in the one-line error.

    Raises:
        UsageError: the first problem, naming the item and field.
    """
    if isinstance(data, list):
        data = {"items": data}
    if not isinstance(data, dict):
        raise UsageError(f"{flag} is a JSON {type(data).__name__}; {EXPECTED}")
    if data.get("items") == []:
        raise UsageError(f"{flag} lists no item; {EXPECTED}")
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        raise UsageError(f"{flag}: {_problem(exc.errors()[0])}; {EXPECTED}") from None
    items = tuple(
        item if item.id is not None else item.model_copy(update={"id": f"item-{number}"})
        for number, item in enumerate(parsed.items, start=1)
    )
    seen: set[str | None] = set()
    for number, item in enumerate(items, start=1):
        if item.id in seen:
            raise UsageError(f"{flag}: item {number} repeats id {item.id!r}; expected each id once")
        seen.add(item.id)
    canonical = orjson.dumps(
        [item.model_dump(mode="json") for item in items], option=orjson.OPT_SORT_KEYS
    )
    return LabelledSet(
        name=parsed.name or name,
        source=source,
        path=path,
        sha256=hashlib.sha256(canonical).hexdigest(),
        items=items,
    )


def _problem(error: Any) -> str:
    """`item 3 context.inbound_body: field required`: where, in the file's terms, and what."""
    loc = list(error["loc"])
    where = "the file"
    if loc[:1] == ["items"] and len(loc) > 1 and isinstance(loc[1], int):
        field = ".".join(str(part) for part in loc[2:])
        where = f"item {loc[1] + 1}" + (f" {field}" if field else "")
    elif loc:
        where = ".".join(str(part) for part in loc)
    message = str(error["msg"])
    message = message[:1].lower() + message[1:]
    if message.startswith("value error, "):
        message = message.removeprefix("value error, ")
    value = error.get("input")
    short = isinstance(value, str | int | float) and len(repr(value)) < 60
    shown = f", got {value!r}" if short else ""
    return f"{where}: {message}{shown}"
