"""The Files and Batches endpoints of the local model server: OpenAI's Batch API, kept in memory.

A run sent as a batch has to survive what a real batch does to it (a wait, a batch that fails,
expires half-done or is cancelled, error lines among the answers), and its answers must be the
live endpoint's, so that a batch replay and a live one can be compared. A batch is processed
lazily and deterministically: in full, by the first read at or after its delay, each line
answered by the function that answers a live chat request.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

ENDPOINT = "/v1/chat/completions"
"""The one endpoint a batch may call."""
PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data")
"""Purposes an uploaded file may have."""
EXPIRED = {
    "code": "batch_expired",
    "message": "This request could not be executed before the completion window expired.",
}
_WINDOW = re.compile(r"\d+h")
_FILE = re.compile(r"/v1/files/([^/]+)(/content)?")
_BATCH = re.compile(r"/v1/batches/([^/]+)(/cancel)?")
_FINAL = ("completed", "failed", "expired", "cancelled")

Answer = Callable[[Any], tuple[int, bytes]]
"""Answers one chat request body: its status and its JSON body, as a live request gets them."""


@dataclass(frozen=True)
class Response:
    """What the server sends back for a Files or Batches request."""

    status: int
    body: bytes
    content_type: str = "application/json"


@dataclass
class _File:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }


@dataclass
class _Batch:
    id: str
    number: int
    """1 for the first batch the server created: `expire_first` and `fail_first` count these."""
    input_file_id: str
    content: bytes
    completion_window: str
    metadata: dict[str, str] | None
    created: float
    """The clock's reading at creation; the `*_at` fields are timestamps."""
    created_at: int
    status: str = "validating"
    stamps: dict[str, int] = field(default_factory=dict)
    """The `*_at` fields set so far, by name."""
    errors: list[dict[str, Any]] | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    counts: tuple[int, int, int] = (0, 0, 0)
    """Lines in all, answered 200, and not."""
    model: str | None = None
    usage: dict[str, Any] | None = None

    def view(self) -> dict[str, Any]:
        hours = int(self.completion_window.removesuffix("h"))
        stamp_names = ("in_progress_at", "finalizing_at", "completed_at", "failed_at",
                       "expired_at", "cancelling_at", "cancelled_at")  # fmt: skip
        errors = None if self.errors is None else {"object": "list", "data": self.errors}
        total, completed, failed = self.counts
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": ENDPOINT,
            "model": self.model,
            "errors": errors,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "expires_at": self.created_at + hours * 3600,
            **{name: self.stamps.get(name) for name in stamp_names},
            "request_counts": {"total": total, "completed": completed, "failed": failed},
            "usage": self.usage,
            "metadata": self.metadata,
        }


class Batches:
    """Uploaded files and batches, with the counters tests read.

    `expire_first` and `fail_first` make the first batches created expire half-answered or
    fail outright, as real batches sometimes do; `delay_s` is how long a batch stays
    `in_progress`; `epoch` is the timestamp of the server's start.
    """

    def __init__(
        self,
        answer: Answer,
        *,
        delay_s: float = 0.2,
        max_lines: int = 50_000,
        expire_first: int = 0,
        fail_first: int = 0,
        epoch: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._answer = answer
        self.delay_s = delay_s
        self.max_lines = max_lines
        self.expire_first = expire_first
        self.fail_first = fail_first
        self._epoch = epoch
        self._clock = clock
        self._started = clock()
        self.files: dict[str, _File] = {}
        self.batches: dict[str, _Batch] = {}
        self.files_uploaded = 0
        self.batches_created = 0
        self.batch_lines_answered = 0
        """Batch lines answered 200: the paid work of batches."""
        self._ids = 0

    def route(self, method: str, path: str, content_type: str, body: bytes) -> Response | None:
        """Answer a Files or Batches request; None when the path is neither."""
        if path == "/v1/files":
            return self._upload(content_type, body) if method == "POST" else _not_allowed(method)
        if path == "/v1/batches":
            if method == "GET":  # newest first, as OpenAI lists them; one page
                views = [batch.view() for batch in reversed(self.batches.values())]
                ids = [view["id"] for view in views]
                first, last = (ids[0], ids[-1]) if ids else (None, None)
                page = {"object": "list", "data": views, "first_id": first, "last_id": last}
                return _json(200, {**page, "has_more": False})
            return self._create(body) if method == "POST" else _not_allowed(method)
        if found := _FILE.fullmatch(path):
            return self._file(method, found[1], content=bool(found[2]))
        if found := _BATCH.fullmatch(path):
            return self._batch(method, found[1], cancel=bool(found[2]))
        return None

    def _upload(self, content_type: str, body: bytes) -> Response:
        form = _form(content_type, body)
        if form is None or "file" not in form or "purpose" not in form:
            return _error(400, "Send multipart/form-data with `purpose` and `file`.")
        purpose, (filename, content) = form["purpose"][1].decode(errors="replace"), form["file"]
        if purpose not in PURPOSES:
            return _error(400, f"purpose must be one of {', '.join(PURPOSES)}.", param="purpose")
        stored = self._store(filename or "upload", purpose, content)
        self.files_uploaded += 1
        return _json(200, stored.view())

    def _file(self, method: str, file_id: str, *, content: bool) -> Response:
        stored = self.files.get(file_id)
        if method not in (("GET",) if content else ("GET", "DELETE")):
            return _not_allowed(method)
        if stored is None:
            return _error(404, f"No such File object: {file_id}", param="id")
        if content:
            return Response(200, stored.content, "application/octet-stream")
        if method == "DELETE":
            del self.files[file_id]
            return _json(200, {"id": file_id, "object": "file", "deleted": True})
        return _json(200, stored.view())

    def _create(self, body: bytes) -> Response:
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _error(400, "The request body is not valid JSON.")
        if not isinstance(request, dict) or not isinstance(request.get("input_file_id"), str):
            return _error(400, "A batch needs `input_file_id` (a string).", param="input_file_id")
        if request.get("endpoint") != ENDPOINT:
            return _error(400, f"endpoint must be {ENDPOINT}.", param="endpoint")
        window = request.get("completion_window")
        if not isinstance(window, str) or not _WINDOW.fullmatch(window):
            return _error(
                400, "completion_window must be hours, like 24h.", param="completion_window"
            )
        metadata = request.get("metadata")
        if metadata is not None and not (
            isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
        ):
            return _error(400, "metadata must map strings to strings.", param="metadata")
        source = self.files.get(request["input_file_id"])
        if source is None:
            message = f"No such File object: {request['input_file_id']}"
            return _error(404, message, param="input_file_id")
        if source.purpose != "batch":
            message = f"The input file's purpose is {source.purpose!r}; a batch needs 'batch'."
            return _error(400, message, param="input_file_id")
        self.batches_created += 1
        now = self._clock()
        batch = _Batch(
            id=f"batch_{self._next_hex()}",
            number=self.batches_created,
            input_file_id=source.id,
            content=source.content,
            completion_window=window,
            metadata=metadata,
            created=now,
            created_at=self._stamp(now),
        )
        self.batches[batch.id] = batch
        shown = _json(200, batch.view())
        batch.status = "in_progress"
        batch.stamps["in_progress_at"] = batch.created_at
        batch.counts = (len(_lines(batch.content)), 0, 0)
        return shown

    def _batch(self, method: str, batch_id: str, *, cancel: bool) -> Response:
        if method != ("POST" if cancel else "GET"):
            return _not_allowed(method)
        batch = self.batches.get(batch_id)
        if batch is None:
            return _error(404, f"No batch found with id {batch_id!r}.", param="batch_id")
        now = self._clock()
        if cancel:
            if batch.status in _FINAL:
                message = f"Cannot cancel a batch with status {batch.status!r}."
                return _error(409, message)
            if batch.status != "cancelling":
                batch.status = "cancelling"
                batch.stamps["cancelling_at"] = self._stamp(now)
        elif batch.status == "cancelling":
            batch.status = "cancelled"
            batch.stamps["cancelled_at"] = self._stamp(now)
        elif batch.status == "in_progress" and now >= batch.created + self.delay_s:
            self._process(batch, self._stamp(now))
        return _json(200, batch.view())

    def _process(self, batch: _Batch, stamp: int) -> None:
        """Answer every line and write the output and error files, or fail the batch."""
        lines = _lines(batch.content)
        if batch.number <= self.fail_first:
            message = "The batch failed because of a server error; create it again."
            return _fail(batch, stamp, [_problem("server_error", message)])
        if len(lines) > self.max_lines:
            message = (
                f"The input file has {len(lines)} lines; a batch takes at most {self.max_lines}."
            )
            return _fail(batch, stamp, [_problem("too_many_lines", message)])
        if not lines:
            return _fail(batch, stamp, [_problem("empty_file", "The input file has no lines.")])
        requests, problems = _read(lines)
        if problems:
            return _fail(batch, stamp, problems)
        expires = batch.number <= self.expire_first
        answered = len(requests) // 2 if expires else len(requests)
        outputs: list[bytes] = []
        errors: list[bytes] = []
        usage = {"input_tokens": 0, "output_tokens": 0}
        for index, request in enumerate(requests):
            line = {"id": f"batch_req_{self._next_hex()}", "custom_id": request["custom_id"]}
            if index >= answered:
                errors.append(orjson.dumps({**line, "response": None, "error": EXPIRED}))
                continue
            status, body = self._answer(request["body"])
            response = {"status_code": status, "request_id": f"req_{self._next_hex()}"}
            response["body"] = orjson.Fragment(body)
            (outputs if status == 200 else errors).append(
                orjson.dumps({**line, "response": response, "error": None})
            )
            if status == 200:
                self.batch_lines_answered += 1
                _add_usage(usage, body)
        tokens = usage["input_tokens"] + usage["output_tokens"]
        batch.usage = {
            **usage,
            "total_tokens": tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        }
        model = requests[0]["body"].get("model")
        batch.model = model if isinstance(model, str) else None
        batch.output_file_id = self._output(batch, "output", outputs)
        batch.error_file_id = self._output(batch, "error", errors)
        batch.counts = (len(requests), len(outputs), len(errors))
        batch.status = "expired" if expires else "completed"
        batch.stamps["finalizing_at"] = stamp
        batch.stamps["expired_at" if expires else "completed_at"] = stamp

    def _output(self, batch: _Batch, kind: str, lines: list[bytes]) -> str | None:
        if not lines:
            return None
        content = b"".join(line + b"\n" for line in lines)
        return self._store(f"{batch.id}_{kind}.jsonl", "batch_output", content).id

    def _store(self, filename: str, purpose: str, content: bytes) -> _File:
        stored = _File(f"file-{self._next_hex()}", filename, purpose, content, self._stamp())
        self.files[stored.id] = stored
        return stored

    def _stamp(self, now: float | None = None) -> int:
        """A timestamp: the epoch plus the whole seconds since the server started."""
        now = self._clock() if now is None else now
        return self._epoch + int(now - self._started)

    def _next_hex(self) -> str:
        """A fresh id suffix, the same for the same sequence of calls."""
        self._ids += 1
        return hashlib.sha256(f"stub-batches:{self._ids}".encode()).hexdigest()[:24]


def _lines(content: bytes) -> list[bytes]:
    """The lines of a JSONL file; a final newline ends the last line, it starts no other."""
    lines = content.split(b"\n")
    return lines[:-1] if lines[-1].strip() == b"" else lines


def _read(lines: list[bytes]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The requests of a batch's lines, and a problem for each line that is not one."""
    requests: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError:
            problems.append(_problem("invalid_json", "The line is not valid JSON.", line=number))
            continue
        if not isinstance(line, dict):
            problems.append(_problem("invalid_request", "The line is not an object.", line=number))
            continue
        custom_id = line.get("custom_id")
        wrong = [
            (param, message)
            for param, ok, message in (
                ("custom_id", isinstance(custom_id, str), "custom_id must be a string."),
                ("method", line.get("method") == "POST", "method must be POST."),
                ("url", line.get("url") == ENDPOINT, f"url must be {ENDPOINT}."),
                ("body", isinstance(line.get("body"), dict), "body must be an object."),
            )
            if not ok
        ]
        if wrong:
            param, message = wrong[0]
            problems.append(_problem("invalid_request", message, line=number, param=param))
        elif custom_id in seen:
            message = f"custom_id {custom_id!r} is on an earlier line; each must be unique."
            problems.append(
                _problem("duplicate_custom_id", message, line=number, param="custom_id")
            )
        else:
            seen.add(line["custom_id"])
            requests.append(line)
    return requests, problems


def _fail(batch: _Batch, stamp: int, problems: list[dict[str, Any]]) -> None:
    batch.status = "failed"
    batch.errors = problems
    batch.stamps["failed_at"] = stamp


def _problem(
    code: str, message: str, *, line: int | None = None, param: str | None = None
) -> dict[str, Any]:
    return {"code": code, "message": message, "param": param, "line": line}


def _add_usage(usage: dict[str, int], body: bytes) -> None:
    """Add a completion's token counts (the stdlib parser takes a lone surrogate orjson refuses)."""
    counted = json.loads(body).get("usage") or {}
    usage["input_tokens"] += int(counted.get("prompt_tokens", 0))
    usage["output_tokens"] += int(counted.get("completion_tokens", 0))


def _form(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]] | None:
    """The fields of a multipart/form-data body by name: each one's filename and bytes."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return None
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = (part.get_filename(), payload)
    return fields


def _json(status: int, body: Mapping[str, Any]) -> Response:
    return Response(status, orjson.dumps(body))


def _error(status: int, message: str, *, param: str | None = None) -> Response:
    """An error in OpenAI's shape, which the SDK turns into its exception for `status`."""
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": None}
    return _json(status, {"error": error})


def _not_allowed(method: str) -> Response:
    return _error(405, f"{method} is not allowed here.")
