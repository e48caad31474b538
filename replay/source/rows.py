"""One row of the case view, checked against the case contract before it becomes a case.

A row that breaks the contract (a NULL inbound body, an original request that is not a chat
request, a body too long for any prompt) becomes an `invalid_case` naming the column and the
reason; it never aborts the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson

from replay.config.models import SelectionConfig
from replay.models import Case, ChatRequest, InvalidCase, ThreadMessage
from replay.source.views import OUT_OF_RANGE

CONTRACT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # view: (required columns, optional columns)
    "cases": (
        (
            "case_id", "client_id", "lead_id", "channel", "job_created_at",
            "inbound_id", "inbound_subject", "inbound_body", "inbound_sent_at",
        ),
        (
            "job_status", "original_draft", "original_model", "original_prompt_version",
            "original_request", "disposition", "sent_reply", "lead", "client_settings", "tags",
        ),
    ),
    "thread": (
        (
            "client_id", "lead_id", "message_id", "direction",
            "channel", "subject", "body", "sent_at",
        ),
        ("known_at",),
    ),
    "clients": (("client_id", "name"), ()),
}  # fmt: skip
"""Each view's required and optional columns: the case contract."""


@dataclass(frozen=True)
class Row:
    """A case row that passed validation, waiting for its thread."""

    case_id: str
    lead_id: str
    cutoff: datetime
    """The inbound's time: the thread holds messages sent before it."""
    created: datetime
    """The job's creation: the thread holds messages the system knew of by then."""
    fields: dict[str, Any]
    original: dict[str, Any]

    def case(self, thread: list[ThreadMessage]) -> Case:
        """The case, once its point-in-time thread is loaded."""
        return Case.model_validate(
            {"input": {**self.fields, "thread": thread}, "original": self.original}
        )


def parse(row: asyncpg.Record, selection: SelectionConfig) -> Row | InvalidCase:
    """Validate one case-view row; a bad row becomes an InvalidCase naming column and reason."""
    case_id = str(row["case_id"])

    def invalid(column: str, reason: str) -> InvalidCase:
        return InvalidCase(case_id=case_id, column=column, reason=reason)

    for column in ("job_created_at", "inbound_sent_at"):
        if row.get(column + OUT_OF_RANGE):
            return invalid(column, "is outside the years 1 to 9999 (or infinite)")
    for column in CONTRACT["cases"][0]:
        if column != "inbound_subject" and row[column] is None:
            return invalid(column, "is NULL")
    body = str(row["inbound_body"])
    if not body.strip():
        return invalid("inbound_body", "is empty")
    if len(body) > selection.max_body_chars:
        return invalid(
            "inbound_body",
            f"is {len(body):,} characters; the limit is {selection.max_body_chars:,} "
            "([selection] max_body_chars)",
        )
    channel = str(row["channel"]).lower()
    if channel not in ("email", "sms", "linkedin"):
        return invalid("channel", f"is {row['channel']!r}; expected email, sms or linkedin")
    if "original_draft" in row and row["original_draft"] is None:
        return invalid("original_draft", "is NULL: the job has no stored draft to compare with")
    times: dict[str, datetime] = {}
    for column in ("inbound_sent_at", "job_created_at"):
        value = row[column]
        if not isinstance(value, datetime):
            return invalid(column, f"is a {type(value).__name__}; expected a timestamp")
        # A timestamp without time zone is read as UTC, the session's time zone.
        times[column] = value if value.tzinfo else value.replace(tzinfo=UTC)
    objects: dict[str, Any] = {}
    for column in ("lead", "client_settings", "original_request"):
        value = row.get(column)
        try:
            objects[column] = _json_object(value)
        except ValueError as exc:
            return invalid(column, str(exc))
    request = None
    if objects["original_request"] is not None:
        try:
            request = ChatRequest.from_recorded(objects["original_request"])
        except ValueError as exc:
            return invalid("original_request", f"is not a chat request: {exc}")
    tags = [str(tag) for tag in (row.get("tags") or [])]
    tags += [tag for tag in selection.case_tags.get(case_id, ()) if tag not in tags]
    fields = {
        "case_id": case_id,
        "client_id": str(row["client_id"]),
        "lead_id": str(row["lead_id"]),
        "channel": channel,
        "job_created_at": times["job_created_at"],
        "inbound": {
            "id": str(row["inbound_id"]),
            "subject": row["inbound_subject"],
            "body": body,
            "sent_at": times["inbound_sent_at"],
        },
        "lead": objects["lead"] or {},
        "client_settings": objects["client_settings"] or {},
        "original_request": request,
        "original_model": None if row.get("original_model") is None else str(row["original_model"]),
        "tags": tags,
    }
    original = {
        "draft": row.get("original_draft"),
        "model": row.get("original_model"),
        "prompt_version": row.get("original_prompt_version"),
        "disposition": row.get("disposition"),
        "sent_reply": row.get("sent_reply"),
        "job_status": row.get("job_status"),
    }
    if original["disposition"] not in (None, "sent_as_is", "edited", "rejected"):
        return invalid(
            "disposition",
            f"is {original['disposition']!r}; expected sent_as_is, edited or rejected",
        )
    return Row(
        case_id,
        str(row["lead_id"]),
        times["inbound_sent_at"],
        times["job_created_at"],
        fields,
        original,
    )


def _json_object(value: Any) -> dict[str, Any] | None:
    """Accept a JSON object as a dict or as JSON text (views over text columns)."""
    if value is None:
        return None
    if isinstance(value, str | bytes):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise ValueError("is not valid JSON") from None
    if not isinstance(value, dict):
        raise ValueError(f"is a JSON {type(value).__name__}; expected an object")
    return value
