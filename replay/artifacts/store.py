"""Run artifacts on disk: named by UTC time, streamed case by case, finished atomically.

While a run goes, `run-<ts>.partial.jsonl` holds a header line and one line per finished case,
each written the moment it is known. At the end the final JSON is assembled from that file
(cases are never all held in memory), written to a temporary file in the same folder, fsynced
and renamed over the target, and the partial file removed. A reader sees either no artifact or a
whole one. Reading artifacts back is `replay.artifacts.load`.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import anyio
import orjson
from pydantic import BaseModel

from replay.errors import ArtifactDirUnwritable, ArtifactWriteFailed, UsageError
from replay.models import CaseResult

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def stamp(moment: datetime) -> str:
    """Format a UTC time for a file name: ``2026-11-26T19-52-26-180Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H-%M-%S-") + f"{utc.microsecond // 1000:03d}Z"


def target_path(directory: Path, moment: datetime, out: Path | None) -> Path:
    """Return where the artifact of a run started at `moment` goes.

    Raises:
        UsageError: `out` already exists (an artifact is never overwritten).
    """
    if out is not None:
        if out.exists():
            raise UsageError(f"--out {str(out)!r} already exists; expected a new file path")
        return out
    return directory / f"run-{stamp(moment)}.json"


def make_dirs(directory: Path) -> None:
    """Create `directory` and its missing parents, each readable by this user only (0700).

    Runs hold inbound messages and lead data; a directory the tool creates is private. One that
    exists already keeps the mode its owner gave it.
    """
    missing = [path for path in (directory, *directory.parents) if not path.exists()]
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            pass  # another process made it meanwhile


def ensure_writable(directory: Path) -> None:
    """Create `directory` if needed and prove a file can be written there.

    Raises:
        ArtifactDirUnwritable: it cannot be created or written.
    """
    try:
        make_dirs(directory)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".probe-"):
            pass
    except OSError as exc:
        raise ArtifactDirUnwritable.of(directory, exc) from None


def dumps(value: Any) -> bytes:
    """Serialize like every artifact line: orjson, UTC times with a Z."""
    return orjson.dumps(value, option=_OPTIONS)


BATCH_LINE = b'{"batch":'
"""How a line of the partial log that records a Batch API submission starts (`note_batch`)."""


class CaseLog:
    """The partial file of a run: a header line, then one JSON line per finished case.

    A `--via batch` run also writes a line per Batch API submission (`note_batch`), so what it
    paid for can be found again; `cases()` skips those lines.
    """

    def __init__(
        self,
        path: Path,
        header: Mapping[str, Any],
        kept: Iterable[bytes] = (),
        *,
        replace: bool = False,
    ) -> None:
        """Start the file with `header` and the `kept` lines of an earlier part.

        With `replace`, an existing file at `path` (the partial being resumed) is rewritten
        atomically instead of refused.
        """
        self.path = path
        self._lock = threading.Lock()
        """Case lines and batch lines come from different worker threads: one at a time."""
        if replace:
            with atomic(path) as handle:
                handle.write(dumps({"header": header}) + b"\n")
                for line in kept:
                    handle.write(line + b"\n")
            self._file: IO[bytes] = path.open("ab")
        else:
            # Private (0600) from its first byte: it holds inbound messages and lead data.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            self._file = os.fdopen(fd, "wb")
            self._write(dumps({"header": header}))
            for line in kept:
                self._file.write(line + b"\n")
            self._file.flush()

    def append(self, results: Iterable[CaseResult]) -> None:
        """Append finished cases and push them to the disk.

        Raises:
            ArtifactWriteFailed: the disk is full or the file cannot be written (exit 3); a
                line cut short by it is ignored by `--resume`, like one cut by a kill.
        """
        # pydantic's own serializer: several times faster than dump-then-orjson per case.
        self._durable([result.model_dump_json().encode() for result in results])

    def note_batch(self, record: BaseModel) -> None:
        """Record a Batch API submission (a `BatchRef`) and push it to the disk at once.

        Raises:
            ArtifactWriteFailed: as `append`.
        """
        self._durable([BATCH_LINE + record.model_dump_json().encode() + b"}"])

    def _durable(self, lines: list[bytes]) -> None:
        try:
            with self._lock:
                for line in lines:
                    self._file.write(line + b"\n")
                self._file.flush()
                os.fsync(self._file.fileno())
        except OSError as exc:
            raise ArtifactWriteFailed(str(self.path), exc, partial=str(self.path)) from None

    def _write(self, line: bytes) -> None:
        self._file.write(line + b"\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file (it stays on disk until `finish` removes it); closing twice is fine.

        After a failed write (a full disk) the buffer may still hold part of a line; it is
        dropped, as `--resume` drops a line a kill cut short.
        """
        with contextlib.suppress(OSError):
            self._file.close()

    def cases(self) -> Iterable[bytes]:
        """Yield each complete case line as written; a torn last line is ignored."""
        with self.path.open("rb") as handle:
            handle.readline()  # the header
            for line in handle:
                if line.endswith(b"\n") and not line.startswith(BATCH_LINE):
                    yield line.rstrip(b"\n")


def finish(
    target: Path,
    head: Mapping[str, Any],
    log: CaseLog | None,
    tail: Mapping[str, Any],
    *,
    keep_partial: bool = False,
) -> None:
    """Write the final artifact atomically: `head` fields, the cases of `log`, `tail` fields.

    The partial file is removed once the artifact is in place, unless `keep_partial` (a run
    that stopped blocked after paying for drafts keeps it, for `--resume`).

    Raises:
        ArtifactWriteFailed: the artifact cannot be written (exit 3); the partial log stays.
    """
    try:
        with atomic(target) as handle:
            handle.write(b"{")
            for key, value in head.items():
                handle.write(dumps(key) + b":" + dumps(value) + b",")
            handle.write(b'"cases":[')
            if log is not None:
                for index, line in enumerate(log.cases()):
                    handle.write((b"," if index else b"") + line)
            handle.write(b"]")
            for key, value in tail.items():
                handle.write(b"," + dumps(key) + b":" + dumps(value))
            handle.write(b"}\n")
    except OSError as exc:
        partial = str(log.path) if log is not None else None
        raise ArtifactWriteFailed(str(target), exc, partial=partial) from None
    if log is not None:
        log.close()
        if not keep_partial:
            log.path.unlink(missing_ok=True)


def write_text(target: Path, text: str) -> None:
    """Write a UTF-8 text file (a report, a summary) atomically, readable by this user only."""
    with atomic(target) as handle:
        handle.write(text.encode("utf-8"))


def write(target: Path, data: Any) -> None:
    """Write one JSON document atomically."""
    with atomic(target) as handle:
        handle.write(orjson.dumps(data, option=_OPTIONS | orjson.OPT_INDENT_2) + b"\n")


def write_model(target: Path, model: BaseModel) -> None:
    """Write a model as one JSON document atomically, serialized in one pass by pydantic.

    The same document `write(target, model.model_dump(mode="json"))` writes, several times
    faster for a large artifact: no intermediate tree of Python objects.
    """
    with atomic(target) as handle:
        handle.write(model.model_dump_json(indent=2).encode() + b"\n")


@contextlib.contextmanager
def atomic(target: Path) -> Iterator[IO[bytes]]:
    """A file that appears at `target` whole or not at all.

    Written to a temporary file in the same folder, fsynced, renamed over `target`, and the
    rename fsynced; on any error the temporary file is removed and `target` is untouched. The
    one implementation of this dance: every file the tool rewrites (artifacts, reports, the
    history index, the judge cache, the nightly summary) goes through it, so none can tear.
    """
    make_dirs(target.parent)
    try:
        fd, temp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as exc:
        exc.filename = str(target)  # the file the user asked for, not our temporary name
        raise
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        if isinstance(exc, OSError) and exc.filename == temp_name:
            exc.filename = str(target)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Writer:
    """A task that appends finished cases to the partial log, batching whatever is queued.

    The task writes in a worker thread (never blocking the event loop) and fsyncs once per batch,
    so a burst of 64 finished cases costs one fsync. `put` returns only once its case is on disk:
    a runner slot stays taken until then, so a kill can cost at most one paid draft per slot.
    """

    def __init__(self, log: CaseLog, count: Callable[[CaseResult], None]) -> None:
        self._log = log
        self._count = count
        self._send, self._receive = anyio.create_memory_object_stream[CaseResult](math.inf)
        self._queued = 0
        self._written = 0
        self._wrote = anyio.Event()

    async def put(self, result: CaseResult) -> None:
        """Queue one finished case and wait until it is on disk (the runner's sink)."""
        ticket = self.put_nowait(result)
        while self._written < ticket:
            await self._wrote.wait()

    def put_nowait(self, result: CaseResult) -> int:
        """Queue one finished case without waiting; returns its place in the log."""
        self._count(result)
        self._send.send_nowait(result)
        self._queued += 1
        return self._queued

    async def run(self) -> None:
        """Write until `close()`; then drain what is left."""
        async with self._receive:
            async for first in self._receive:
                batch = [first]
                while True:
                    try:
                        batch.append(self._receive.receive_nowait())
                    except (anyio.WouldBlock, anyio.EndOfStream):
                        break
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self._log.append, batch)
                self._written += len(batch)
                wrote, self._wrote = self._wrote, anyio.Event()
                wrote.set()

    def close(self) -> None:
        """No more cases: `run` returns once the queue is written."""
        self._send.close()
